#!/usr/bin/env bash
# How hdc answers bad and odd invocations, row by row from cli_table.tsv:
# the exit status and the exact first line written to stderr, and that
# nothing was created (no container, network or volume labelled with this
# run's cluster-name prefix; the working directory, HOME, TMPDIR and @TMP@
# still empty). The table records today's behaviour, good or poor, so that
# a refactor can show that behaviour stays: a change of behaviour edits its
# row in the same commit (a failing row prints today's answer as a row,
# to paste once it is checked to be what is wanted).
#
# Row format (tab-separated, one invocation per line; '#' lines and blank
# lines are ignored):
#   EXIT<TAB>FIRST-STDERR-LINE<TAB>ENV<TAB>ARGS
#   EXIT               the exit status hdc must return
#   FIRST-STDERR-LINE  the exact first line of its stderr, or '-' when it
#                      must write nothing at all to stderr
#   ENV                '-', or space-separated KEY=VALUE (values without
#                      spaces) set for that invocation only
#   ARGS               the arguments after `hdc`, split into words by xargs:
#                      '...' and "..." quote (so '' is an empty argument) and
#                      backslash escapes; nothing else is interpreted (no $,
#                      no globs, no command substitution: no part of a row
#                      is ever run by a shell, eval is not used)
# Placeholders, replaced in every field: @BUILD@ (HDC_BUILD_DIR), @SRC@
# (HDC_SOURCE_DIR), @TMP@ (an empty directory of this run: rows may name it
# or paths under it, never leave anything in it), @P@ (this run's prefix:
# clt and the runner's pid in 7 digits, 10 characters, so that a row can
# build a name of an exact length; every cluster name a row mentions starts
# with it).
#
# Each row runs under `timeout`, in a fresh empty working directory, with
# HOME and TMPDIR fresh empty directories, stdin from /dev/null, LC_ALL=C,
# and the caller's HDC_* variables unset (DOCKER_HOST is kept unless the row
# sets it). No row may create a cluster, build an image or start a
# container: rows whose refusal comes from a check made before Docker is
# asked (`up`, `build`, `matrix` of a real distribution) set
# DOCKER_HOST=unix:///nonexistent.sock, so that were the check to move after
# the Docker calls, the row would fail with exit 1 instead of making
# something. The engine is searched for objects of this run's prefix before
# and after the table, and after every row that does not set DOCKER_HOST (a
# row that sets it must point it at no engine).
set -u
build=${HDC_BUILD_DIR:?}
src=${HDC_SOURCE_DIR:?}
hdc=$build/hdc
table=$src/tests/integration/cli_table.tsv
row_timeout=20
run=$(mktemp -d /tmp/hdc-cli-table-XXXXXX) || exit 1
tmp=$run/tmp
prefix=clt$(printf '%07d' $$)
pass=0 fail=0 rows=0
shopt -s nullglob dotglob

labelled() { # hdc.cluster labels of containers, networks, volumes made by this run
    { docker ps -a --filter label=hdc.cluster --format '{{.Label "hdc.cluster"}}' &
      docker network ls --filter label=hdc.cluster --format '{{.Label "hdc.cluster"}}' &
      docker volume ls --filter label=hdc.cluster --format '{{.Label "hdc.cluster"}}' &
      wait
    } | grep "^$prefix" | sort -u | tr '\n' ' '
}

remove_labelled() { # what a row made anyway
    local name
    for name in $(labelled 2>/dev/null); do
        "$hdc" down "$name" >/dev/null 2>&1
    done
}

cleanup() {
    remove_labelled
    rm -rf "$run"
}
trap cleanup EXIT

subst() { # VAR FIELD: VAR = FIELD with the placeholders replaced
    local s=$2
    s=${s//@BUILD@/"$build"}
    s=${s//@SRC@/"$src"}
    s=${s//@TMP@/"$tmp"}
    s=${s//@P@/"$prefix"}
    printf -v "$1" '%s' "$s"
}

unsubst() { # TEXT: this run's paths and prefix as placeholders again
    local s=$1
    s=${s//"$tmp"/@TMP@}
    s=${s//"$build"/@BUILD@}
    s=${s//"$src"/@SRC@}
    s=${s//"$prefix"/@P@}
    printf '%s' "$s"
}

if ! docker version >/dev/null 2>&1; then
    echo "FAIL: no Docker engine answers \`docker version\`: the table needs one"
    echo "0 passed, 1 failed"
    exit 1
fi
before=$(labelled)
if [ -n "$before" ]; then
    echo "FAIL: objects labelled with this run's prefix before the table: $before"
    echo "0 passed, 1 failed"
    exit 1
fi
mkdir -p "$run/cwd" "$run/home" "$run/tmpdir" "$tmp"

start=$(date +%s.%N)
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    case $line in '' | '#'*) continue ;; esac
    rows=$((rows + 1))
    if [[ $line != *$'\t'*$'\t'*$'\t'* ]]; then
        fail=$((fail + 1))
        printf 'FAIL line %d: not EXIT<TAB>FIRST-STDERR-LINE<TAB>ENV<TAB>ARGS: %s\n' "$lineno" "$line"
        continue
    fi
    IFS=$'\t' read -r want_status want_err env_field args_field <<<"$line"
    subst want_err "$want_err"
    subst env_field "$env_field"
    subst args_field "$args_field"

    malformed=
    [[ $want_status =~ ^[0-9]+$ ]] || malformed="EXIT '$want_status'"
    envs=()
    [ "$env_field" = - ] || read -ra envs <<<"$env_field"
    for kv in "${envs[@]}"; do
        [[ $kv =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || malformed="ENV '$kv'"
    done
    argv=()
    if [[ $args_field =~ [^[:space:]] ]]; then
        xargs printf '%s\0' <<<"$args_field" >"$run/argv" 2>"$run/argv.err" ||
            malformed="ARGS: $(head -n1 "$run/argv.err")"
        mapfile -d '' argv <"$run/argv"
    fi
    if [ -n "$malformed" ]; then
        fail=$((fail + 1))
        printf 'FAIL line %d: malformed row (%s): %s\n' "$lineno" "$malformed" "$line"
        continue
    fi

    (cd "$run/cwd" && exec env -u HDC_LOGS_DIR -u HDC_STATE_DIR -u HDC_PLUGIN_PATH \
        -u HDC_SUBNET_POOL -u HDC_DIST_CACHE -u HDC_CLUSTERS_DIR -u HDC_TEST_USER \
        -u HDC_DOCKER_TIMEOUT -u HDC_LOGS_KEEP -u HDC_BOOT_TIMEOUT -u NO_COLOR LC_ALL=C \
        HOME="$run/home" TMPDIR="$run/tmpdir" \
        "${envs[@]}" timeout -k 5 "$row_timeout" "$hdc" "${argv[@]}") \
        </dev/null >"$run/stdout" 2>"$run/stderr"
    status=$?
    got_err=-
    [ -s "$run/stderr" ] && IFS= read -r got_err <"$run/stderr"

    why=()
    [ "$status" = "$want_status" ] || why+=("exit: want $want_status, got $status")
    [ "$status" = 124 ] && why+=("timed out after $row_timeout s")
    [ "$got_err" = "$want_err" ] || why+=("stderr: want: $want_err" "          got: $got_err")
    left=("$run"/cwd/* "$run"/home/* "$run"/tmpdir/* "$tmp"/*)
    if [ ${#left[@]} -gt 0 ]; then
        why+=("left behind: $(unsubst "$(printf '%s ' "${left[@]#"$run"/}")")")
        rm -rf "${run:?}/cwd" "${run:?}/home" "${run:?}/tmpdir" "$tmp"
        mkdir -p "$run/cwd" "$run/home" "$run/tmpdir" "$tmp"
    fi
    if [[ " ${envs[*]}" != *" DOCKER_HOST="* ]]; then
        made=$(labelled)
        if [ -n "$made" ]; then
            why+=("Docker objects labelled: $(unsubst "$made")")
            remove_labelled
        fi
    fi
    if [ ${#why[@]} = 0 ]; then
        pass=$((pass + 1))
        continue
    fi
    fail=$((fail + 1))
    printf 'FAIL line %d: hdc%s\n' "$lineno" "$([ ${#argv[@]} = 0 ] || printf ' %q' "${argv[@]}")"
    printf '    %s\n' "${why[@]}"
    printf '    today'\''s answer as a row: %s\t%s\t%s\n' "$status" "$(unsubst "$got_err")" \
        "$(cut -f3- <<<"$line")"
done <"$table"

after=$(labelled)
if [ -n "$after" ]; then
    fail=$((fail + 1))
    echo "FAIL: objects labelled with this run's prefix after the table: $(unsubst "$after")"
fi
if [ "$rows" -lt 90 ]; then
    fail=$((fail + 1))
    echo "FAIL: the table has $rows rows; it keeps at least 90"
fi
awk -v r="$rows" -v s="$start" -v e="$(date +%s.%N)" \
    'BEGIN { printf "%d rows in %.1f s\n", r, e - s }'
printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" = 0 ]
