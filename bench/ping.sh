#!/usr/bin/env bash
# Docker /_ping round trips per second: hdc's HTTP client (bench_ping, one
# keep-alive connection, sequential) next to curl --unix-socket doing the same
# (one curl process, URL globbing, so it too reuses one connection).
# Prints figures only; it never fails on a time.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${HDC_BUILD_DIR:-$root/build}
count=${1:-5000}
sock=/var/run/docker.sock
case "${DOCKER_HOST:-}" in unix://*) sock=${DOCKER_HOST#unix://} ;; esac

"$build/bench_ping" -n "$count"

start=$(date +%s.%N)
curl -fsS --unix-socket "$sock" "http://docker/_ping?[1-$count]" -o /dev/null
end=$(date +%s.%N)
awk -v n="$count" -v s="$start" -v e="$end" \
    'BEGIN { printf "curl: %d pings in %.3f s: %.0f/s\n", n, e - s, n / (e - s) }'
