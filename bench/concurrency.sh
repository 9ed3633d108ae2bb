#!/usr/bin/env bash
# Concurrency: N clusters (N in NS, default "1 2 4 8 16") of one distribution
# from one `hdc up DIST --name b1 DIST --name b2 ...`. For each N:
#  1. `hdc up` under /usr/bin/time -v: wall time, peak RSS of the hdc process
#     and its CPU seconds (user+sys), and how many clusters came up;
#  2. IDLE seconds (default 30) with the clusters idle: the detached log
#     writers `hdc up` leaves (one `hdc logs NAME -f --write-to DIR` per
#     cluster) and one `hdc logs b1 -f > /dev/null` following every node of
#     b1: RSS (VmRSS, VmHWM from /proc/PID/status) and CPU over the window
#     (utime+stime from /proc/PID/stat), and PSS (/proc/PID/smaps_rollup:
#     the shared libraries' pages divided among the processes sharing them);
#  3. `hdc down` of them all; then the same N again with `hdc up --follow`
#     (one hdc process that keeps following every log of every cluster; it
#     never returns, so the window starts SETTLE s after every node reported
#     up), its RSS and CPU over IDLE seconds, then SIGINT and `hdc down`.
#   bench/concurrency.sh [DIST=apache_2.6.0]
# Environment: NS, IDLE (30), SETTLE (10), FOLLOW (1: do step 3),
# HDC_BUILD_DIR, HDC_PLUGIN_PATH. Cluster names b1..bN.
# Prints figures only; it never fails on a time. A size that does not fit
# is reported with hdc's error, and what did come up is measured.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${HDC_BUILD_DIR:-}
if [ -z "$build" ]; then
    build=$root/build-bench
    [ -x "$build/hdc" ] || build=$root/build
fi
dist=${1:-apache_2.6.0}
ns=${NS:-1 2 4 8 16}
idle=${IDLE:-30}
settle=${SETTLE:-10}
follow=${FOLLOW:-1}
export HDC_PLUGIN_PATH=${HDC_PLUGIN_PATH:-$build/plugins}
hdc=$(readlink -f "$build/hdc")
tck=$(getconf CLK_TCK)
work=$(mktemp -d /tmp/hdc-bench-conc.XXXXXX)
export HDC_LOGS_DIR=$work/logs
names=()
follower=""
single=""

[ -x /usr/bin/time ] || { echo "concurrency: needs /usr/bin/time (Debian package time)" >&2; exit 2; }

teardown() {
    [ -n "$single" ] && kill -INT "$single" 2>/dev/null && wait "$single" 2>/dev/null
    [ -n "$follower" ] && kill -INT "$follower" 2>/dev/null && wait "$follower" 2>/dev/null
    single="" follower=""
    [ ${#names[@]} -gt 0 ] && "$hdc" down "${names[@]}" >/dev/null 2>&1
    names=()
}
trap 'teardown; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# CPU ticks (utime+stime) and VmRSS/VmHWM (kB) of PID; empty when gone.
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null; }
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
# PSS (kB): RSS with shared pages (the libraries) divided among the sharers.
pss() { awk '$1 == "Pss:" { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null; }

# PIDs of the detached writers of the clusters in names[].
writers() {
    local p c
    for p in /proc/[0-9]*; do
        c=$( (tr '\0' ' ' <"$p/cmdline") 2>/dev/null) || continue
        for n in "${names[@]}"; do
            case "$c" in "$hdc logs $n -f --write-to "*) echo "${p#/proc/}" ;; esac
        done
    done
}

# Samples PIDs over IDLE seconds; prints "label: n procs, RSS sum/max, HWM
# max, CPU s over the window, % of a core".
sample() {
    local label=$1; shift
    local pids=("$@") t0=() t1=() i
    [ ${#pids[@]} -gt 0 ] || { echo "  $label: no process"; return; }
    for i in "${!pids[@]}"; do t0[i]=$(ticks "${pids[i]}"); done
    local s0; s0=$(date +%s%N)
    sleep "$idle"
    local s1; s1=$(date +%s%N)
    local rss_sum=0 rss_max=0 hwm_max=0 pss_sum=0 cpu=0 alive=0 r h q
    for i in "${!pids[@]}"; do
        t1[i]=$(ticks "${pids[i]}")
        [ -n "${t1[i]}" ] && [ -n "${t0[i]}" ] || continue
        alive=$((alive + 1))
        cpu=$((cpu + t1[i] - t0[i]))
        r=$(kb "${pids[i]}" VmRSS); h=$(kb "${pids[i]}" VmHWM); q=$(pss "${pids[i]}")
        pss_sum=$((pss_sum + ${q:-0}))
        rss_sum=$((rss_sum + r)); [ "$r" -gt $rss_max ] && rss_max=$r
        [ "$h" -gt $hwm_max ] && hwm_max=$h
    done
    awk -v l="$label" -v n="$alive" -v rs="$rss_sum" -v rm="$rss_max" -v hm="$hwm_max" -v ps="$pss_sum" \
        -v c="$cpu" -v t="$tck" -v w="$(((s1 - s0) / 1000000))" 'BEGIN {
        printf "  %s: %d process(es), RSS %.1f MB total, %.1f MB max (peak %.1f MB), PSS %.1f MB total; CPU %.2f s in %.1f s idle = %.2f%% of a core\n",
            l, n, rs / 1024, rm / 1024, hm / 1024, ps / 1024, c / t, w / 1000, 100 * (c / t) / (w / 1000) }'
}

echo "concurrency: $dist, N in {$ns}, idle window $idle s; $(nproc) cores, $(uname -r), Docker $(docker version --format '{{.Server.Version}}' 2>/dev/null), $(date -u +%FT%TZ)"
echo "concurrency: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $ns; do
    want=()
    for ((i = 1; i <= n; i++)); do want+=("b$i"); done
    if "$hdc" ls 2>/dev/null | awk 'NR > 1 { print $1 }' | grep -qxE "b([1-9]|1[0-9]|2[0-9]|3[0-2])"; then
        echo "concurrency: clusters named b1..b32 exist already; not touching them" >&2
        exit 2
    fi
    args=()
    for c in "${want[@]}"; do args+=("$dist" --name "$c"); done

    echo
    echo "== N=$n: hdc up ${args[*]:0:3}... ($((n)) clusters)"
    names=("${want[@]}")
    /usr/bin/time -v -o "$work/time$n" "$hdc" --json up "${args[@]}" >"$work/up$n.json" 2>"$work/up$n.err"
    rc=$?
    upn=$(jq '[.[] | select(.state == "up")] | length' "$work/up$n.json" 2>/dev/null || echo 0)
    awk -v n="$n" -v up="$upn" -v rc="$rc" '
        /Elapsed \(wall clock\)/ { m = split($NF, a, ":"); w = 0; for (i = 1; i <= m; i++) w = w * 60 + a[i] }
        /User time/ { u = $NF } /System time/ { s = $NF }
        /Maximum resident set size/ { r = $NF }
        END { printf "  hdc up: exit %d, %d/%d clusters up, wall %.1f s, peak RSS %.1f MB, CPU %.2f s (user %.2f + sys %.2f)\n",
              rc, up, n, w, r / 1024, u + s, u, s }' "$work/time$n"
    jq -r '[.[] | select(.state == "up") | .phases.total_ms] | sort |
        if length > 0 then "  per-cluster total_ms: min \(.[0]), median \(.[length / 2 | floor]), max \(.[-1])" else empty end' \
        "$work/up$n.json" 2>/dev/null
    if [ "$rc" -ne 0 ]; then
        echo "  hdc up failed; its last lines:"
        grep -v -E " (created|waiting|booting|up) [0-9.]+s$" "$work/up$n.err" | tail -8 | sed 's/^/    /'
    fi
    if [ "$upn" -gt 0 ]; then
        first=$(jq -r '[.[] | select(.state == "up")][0].cluster' "$work/up$n.json")
        sleep 2
        mapfile -t wp < <(writers)
        "$hdc" logs "$first" -f >/dev/null 2>"$work/single$n.err" &
        single=$!
        sleep 3
        sample "detached log writers (hdc logs NAME -f --write-to DIR), one per cluster" "${wp[@]}" &
        sp=$!
        sample "one \`hdc logs $first -f > /dev/null\` (every node of $first)" "$single"
        wait $sp
    fi
    teardown
    left=$(writers | wc -l)
    [ "$left" -gt 0 ] && echo "  note: $left log writer(s) still running after hdc down"

    [ "$follow" = 1 ] || continue
    echo "-- N=$n: hdc up --follow (one process following every log of every cluster)"
    names=("${want[@]}")
    # every non-ZooKeeper node of every cluster reported up, or hdc gave up
    nodes=$(jq 'map(select(.state == "up")) as $u | if ($u | length) == 0 then 0 else
        ($u | map(.nodes[] | select(.service != "zookeeper")) | length) / ($u | length) | floor end' \
        "$work/up$n.json" 2>/dev/null || echo 0)
    need=$((${nodes:-0} * n))
    if [ "$need" -eq 0 ]; then echo "  skipped: no cluster came up in the plain run"; names=(); continue; fi
    "$hdc" up "${args[@]}" --follow >"$work/fup$n.out" 2>"$work/fup$n.err" &
    follower=$!
    t0=$(date +%s)
    while kill -0 "$follower" 2>/dev/null; do
        got=$(grep -cE "^b[0-9]+ [a-z0-9]+ up [0-9.]+s$" "$work/fup$n.err")
        [ "$need" -gt 0 ] && [ "$got" -ge "$need" ] && break
        [ $(($(date +%s) - t0)) -gt 600 ] && break
        sleep 1
    done
    if ! kill -0 "$follower" 2>/dev/null; then
        wait "$follower"; echo "  hdc up --follow exited ($?) before the window:"
        grep -v -E " (created|waiting|booting|up) [0-9.]+s$" "$work/fup$n.err" | tail -8 | sed 's/^/    /'
        follower=""
    else
        echo "  all $got nodes up after $(($(date +%s) - t0)) s; window starts $settle s later"
        sleep "$settle"
        sample "hdc up --follow, $n cluster(s)" "$follower"
        echo "  threads: $(kb "$follower" Threads)"
    fi
    teardown
done
echo
echo "concurrency: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit 0
