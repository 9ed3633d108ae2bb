#!/usr/bin/env bash
# hdc against a Docker engine that accepts connections and never answers
# (tests/integration/silent_engine.c, on a unix socket in a temporary
# directory): with HDC_DOCKER_TIMEOUT=2, ls, status, logs, exec, down, gc
# and up each exit 1 within seconds with a message naming the engine's
# address and HDC_DOCKER_TIMEOUT; a bad HDC_DOCKER_TIMEOUT is refused with
# exit 2 before anything is asked of Docker. Every hdc runs under
# `timeout 60`, so a hang fails the test instead of hanging CI. Needs no
# real Docker engine.
set -u
build=${HDC_BUILD_DIR:?}
hdc=$build/hdc
engine=$build/silent_engine
export HDC_PLUGIN_PATH=$build/e2e-plugins
work=$(mktemp -d /tmp/hdc-silent-XXXXXX)
export HDC_LOGS_DIR=$work/logs HDC_STATE_DIR=$work/state
sock=$work/docker.sock
name=silent$$
pid=

cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib.sh"
give_up() { bad "$@"; echo "$pass passed, $fail failed"; exit 1; }

[ -x "$engine" ] || give_up "no $engine: build the silent_engine target"
"$engine" "$sock" >"$work/ready" 2>&1 &
pid=$!
for _ in $(seq 100); do
    [ -s "$work/ready" ] && break
    sleep 0.1
done
grep -qx listening "$work/ready" || give_up "silent_engine did not start" "$(cat "$work/ready")"

export DOCKER_HOST=unix://$sock HDC_DOCKER_TIMEOUT=2

# fails_in_time WHAT MAX_SECONDS ARGS...: hdc ARGS exits 1 within
# MAX_SECONDS, saying that the engine at DOCKER_HOST did not answer.
fails_in_time() {
    local what=$1 max=$2 start=$SECONDS out st took
    shift 2
    out=$(timeout 60 "$hdc" "$@" 2>&1 </dev/null); st=$?
    took=$((SECONDS - start))
    if [ $st = 1 ] && [ $took -le "$max" ] \
        && grep -qF "the Docker engine at unix://$sock did not answer" <<<"$out" \
        && grep -qF "HDC_DOCKER_TIMEOUT=SECONDS (now 2)" <<<"$out"; then
        ok "$what: exit 1 after ${took} s, naming the engine's address"
    else
        bad "$what: want exit 1 within $max s naming unix://$sock" "status $st after $took s" "$out"
    fi
}

fails_in_time "ls" 10 ls
fails_in_time "ls --json" 10 --json ls
fails_in_time "status" 10 status "$name"
fails_in_time "logs" 10 logs "$name"
fails_in_time "exec" 10 exec "$name" master -- true
fails_in_time "down" 10 down "$name"
fails_in_time "gc" 10 gc
fails_in_time "up of the test distribution" 30 up testdist --name "$name"

# A bad HDC_DOCKER_TIMEOUT: exit 2 at once, with what to give.
for v in 0 3601 abc +5 " 5" 1.5 -1; do
    out=$(HDC_DOCKER_TIMEOUT=$v timeout 60 "$hdc" ls 2>&1 </dev/null); st=$?
    if [ $st = 2 ] && grep -qxF "hdc: HDC_DOCKER_TIMEOUT '$v': give a whole number of seconds from 1 to 3600" <<<"$out"; then
        ok "HDC_DOCKER_TIMEOUT='$v' refused with 2"
    else
        bad "HDC_DOCKER_TIMEOUT='$v': want exit 2 and the range" "status $st" "$out"
    fi
done

kill -0 "$pid" 2>/dev/null && ok "the silent engine is still there (every failure was hdc's deadline)" \
    || bad "the silent engine died" "$(cat "$work/ready")"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
