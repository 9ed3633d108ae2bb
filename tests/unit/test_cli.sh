#!/usr/bin/env bash
# The command line's contract (docs/cli.md) that needs no Docker: exit codes,
# one clear line for bad usage, and `hdc plugins`.
set -u
hdc=${HDC_BUILD_DIR:?}/hdc
plugins=$HDC_BUILD_DIR/test-plugins
pass=0 fail=0

check() { # NAME WANT-STATUS WANT-PATTERN(stdout+stderr) CMD...
    local name=$1 want=$2 pattern=$3 out status
    shift 3
    out=$("$@" 2>&1)
    status=$?
    if [ "$status" = "$want" ] && grep -qE -- "$pattern" <<<"$out"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        printf 'FAIL %s: status %s (want %s), output:\n%s\n' "$name" "$status" "$want" "$out"
    fi
}

check "no command is bad usage" 2 '^usage: hdc' "$hdc"
check "unknown command is refused" 2 "unknown command 'frobnicate'" "$hdc" frobnicate
check "--plugin-path without a value is refused" 2 'needs a value' "$hdc" plugins --plugin-path
check "--version" 0 '^hdc [0-9]+\.[0-9]+\.[0-9]+ \(plugin ABI [0-9]+\)' "$hdc" --version
check "--help lists the commands" 0 'hdc plugins' "$hdc" --help
check "help of an unknown command is bad usage" 2 "unknown command 'nope'" "$hdc" help nope
check "a command's -h" 0 '^usage: hdc plugins' "$hdc" plugins -h
check "plugins takes no argument" 2 "unexpected argument 'x'" "$hdc" plugins x
check "plugins lists the good plugin" 0 '^good +1 ' "$hdc" plugins --plugin-path "$plugins"
check "plugins shows a refused file and why" 0 'cycle.so \(refused: .*steps form a cycle' \
    "$hdc" plugins --plugin-path "$plugins"
check "global flags go before the command too" 0 '"name": "good"' \
    "$hdc" --json --plugin-path "$plugins" plugins


printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" = 0 ]
