#!/usr/bin/env bash
# scripts/real-hadoop.sh without network or Docker: --help says what it
# does, and bad usage exits 2 with a message before anything is built (the
# script checks Docker only after its arguments, so a PATH without docker
# proves nothing ran). The real run needs apache.org: docs/ci.md.
set -uo pipefail

src=${HDC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
script=$src/scripts/real-hadoop.sh
pass=0
fail=0

check() { # WHAT CONDITION...
    local what=$1
    shift
    if "$@"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $what"
    fi
}

# A docker that never answers comes first on the PATH (and DOCKER_HOST
# leads nowhere), so no engine is ever reached; the build directory is a
# fresh one, so anything built shows.
empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT
mkdir "$empty/bin"
printf '#!/bin/sh\necho "docker: not reachable in this test" >&2\nexit 1\n' >"$empty/bin/docker"
chmod +x "$empty/bin/docker"
run() { # ARGS...: the script's exit status, its output in $out
    out=$(PATH="$empty/bin:$PATH" DOCKER_HOST=unix:///nonexistent HDC_DIST_CACHE= \
        bash "$script" --build-dir "$empty/build" "$@" 2>&1)
}

run --help
check "--help exits 0" [ $? = 0 ]
check "--help shows the usage" grep -q '^usage: scripts/real-hadoop.sh' <<<"$out"
check "--help names the five distributions" grep -q 'apache_2.6.0 apache_2.7.7 apache_2.10.2 apache_3.3.6 apache_3.4.1' <<<"$out"
check "--help names the round trip" grep -q 'HDFS round trip' <<<"$out"

bad() { # WHAT EXPECTED-MESSAGE ARGS...
    local what=$1 msg=$2
    shift 2
    run "$@"
    local rc=$?
    check "$what: exit 2 (got $rc)" [ "$rc" = 2 ]
    check "$what: says '$msg' (said: $out)" grep -qF -- "$msg" <<<"$out"
    check "$what: points to --help" grep -qF -- "see --help" <<<"$out"
    check "$what: builds nothing" [ ! -e "$empty/build" ]
}
bad "unknown distribution" "unknown distribution apache_9.9.9" apache_9.9.9
bad "unknown option" "unknown option --frobnicate" --frobnicate
bad "option without value" "--junit needs a value" --junit
bad "--parallel not a number" "--parallel takes a whole number, not 'two'" --parallel two
bad "--datanodes zero" "--datanodes must be at least 1" --datanodes 0
bad "empty base image" "--base-image needs an image" --base-image ''

# Good arguments get as far as Docker, which does not answer: exit 1,
# saying so, with nothing built.
run apache_3.3.6 --parallel 1
rc=$?
check "no docker: exit 1 (got $rc)" [ "$rc" = 1 ]
check "no docker: says Docker does not answer (said: $out)" grep -q 'Docker does not answer' <<<"$out"
check "no docker: builds nothing" [ ! -e "$empty/build" ]

check "shellcheck -S error" shellcheck -S error "$script"

printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" = 0 ]
