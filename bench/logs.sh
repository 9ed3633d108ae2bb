#!/usr/bin/env bash
# Log throughput: a container (debian:bookworm, no TTY, so Docker multiplexes
# stdout/stderr in 8-byte framed chunks) writes SIZE MiB (default 256) of
# 64-byte lines as fast as it can and exits; then the same bytes, from the
# daemon's json-file log, are read by
#   hdc logs NAME -f > /dev/null             (demultiplex, split lines, prefix)
#   hdc logs NAME -f --write-to DIR          (demultiplex, write DIR/gen.log:
#                                             what the detached writer does)
#   docker logs -f CONTAINER > /dev/null     (the Docker CLI)
# each under /usr/bin/time: payload bytes/s (SIZE over the wall time) and CPU
# seconds (user+sys) per GiB of payload. The container carries the labels
# hdc.cluster=NAME, hdc.service=gen, hdc.dist=bench and hostname gen, which
# is what `hdc logs NAME` looks for. Removed at the end.
#   bench/logs.sh [SIZE_MIB=256]
# Environment: HDC_BUILD_DIR, BENCH_NAME (default b950), IMAGE
# (debian:bookworm), REPEAT (1: each reader runs that many times; the best).
# Prints figures only; it never fails on a time.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${HDC_BUILD_DIR:-}
if [ -z "$build" ]; then
    build=$root/build-bench
    [ -x "$build/hdc" ] || build=$root/build
fi
size=${1:-256}
name=${BENCH_NAME:-b950}
image=${IMAGE:-debian:bookworm}
repeat=${REPEAT:-1}
hdc=$build/hdc
ctr=${name}_gen_1
work=$(mktemp -d /tmp/hdc-bench-logs.XXXXXX)
trap 'rm -rf "$work"' EXIT

[ -x /usr/bin/time ] || { echo "logs: needs /usr/bin/time (Debian package time)" >&2; exit 2; }
if docker inspect "$ctr" >/dev/null 2>&1; then
    echo "logs: container $ctr exists; choose another BENCH_NAME" >&2
    exit 2
fi
trap 'docker rm -f "$ctr" >/dev/null 2>&1; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

bytes=$((size * 1048576))
echo "logs: $size MiB of 64-byte lines from one container ($image, json-file log driver); $(nproc) cores, $(uname -r), Docker $(docker version --format '{{.Server.Version}}' 2>/dev/null), $(date -u +%FT%TZ)"
echo "logs: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

t0=$(date +%s%N)
docker run -d --name "$ctr" --hostname gen \
    --label hdc.cluster="$name" --label hdc.service=gen --label hdc.dist=bench \
    "$image" sh -c "yes 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde | head -c $bytes" >/dev/null ||
    { echo "logs: docker run failed"; exit 0; }
docker wait "$ctr" >/dev/null
t1=$(date +%s%N)
awk -v b="$bytes" -v ns="$((t1 - t0))" 'BEGIN { printf "  writer (container -> dockerd json log): %.1f s, %.1f MB/s\n", ns / 1e9, b / 1e6 / (ns / 1e9) }'

# run LABEL CMD...: under /usr/bin/time, best wall of REPEAT runs
run() {
    local label=$1; shift
    local best="" i
    for ((i = 1; i <= repeat; i++)); do
        rm -rf "$work/out"; mkdir -p "$work/out"
        /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$@" 2>"$work/err"
        local rc=$?
        [ $rc -eq 0 ] || { echo "  $label: exit $rc: $(tail -2 "$work/err")"; continue; }
        local line; line=$(cat "$work/t")
        if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then best=$line; fi
        [ -f "$work/out/gen.log" ] && out=$(stat -c %s "$work/out/gen.log")
    done
    [ -n "$best" ] || return
    set -- $best
    awk -v l="$label" -v b="$bytes" -v w="$1" -v u="$2" -v s="$3" -v m="$4" 'BEGIN {
        if (w <= 0) w = 0.01
        printf "  %-40s %6.2f s  %7.1f MB/s  CPU %6.2f s (user %.2f + sys %.2f) = %5.2f CPU-s/GiB  peak RSS %.1f MB\n",
            l, w, b / 1e6 / w, u + s, u, s, (u + s) / (b / 1073741824), m / 1024 }'
}

echo "  reader                                     wall      payload      CPU"
run "hdc logs $name -f > /dev/null" sh -c "\"$hdc\" logs \"$name\" -f > /dev/null"
out=0
run "hdc logs $name -f --write-to DIR" "$hdc" logs "$name" -f --write-to "$work/out"
[ "$out" = "$bytes" ] || echo "  note: --write-to wrote $out bytes, the container $bytes"
run "docker logs -f $ctr > /dev/null" sh -c "docker logs -f \"$ctr\" > /dev/null 2>&1"
echo "  (CPU is the reader's own process only: dockerd's work reading its json log is not counted for either)"
echo "logs: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit 0
