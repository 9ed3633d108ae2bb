#!/usr/bin/env bash
# Cold start: `hdc up DIST` from nothing (no cluster of that name; images
# already built) until every probe is green, RUNS times, with `hdc down`
# between runs. Prints the median of the total and of each phase, each step's
# median duration, and the critical-path floor measured in the same runs:
# each service's own time from `boot` to `up` (the agent's "= boot: starting"
# and "ready: wrote /X = up" lines, timed by the Docker daemon's log
# timestamps) summed along the longest chain of the plugin's step DAG, so the
# engine's own overhead shows as total/floor.
#   bench/cold_up.sh [RUNS=5] [DIST=apache_2.6.0]
# Environment: HDC_BUILD_DIR (default build-bench, else build),
# HDC_PLUGIN_PATH (default $HDC_BUILD_DIR/plugins), BENCH_NAME (default b901).
# Prints figures only; it never fails on a time.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${HDC_BUILD_DIR:-}
if [ -z "$build" ]; then
    build=$root/build-bench
    [ -x "$build/hdc" ] || build=$root/build
fi
runs=${1:-5}
dist=${2:-apache_2.6.0}
name=${BENCH_NAME:-b901}
export HDC_PLUGIN_PATH=${HDC_PLUGIN_PATH:-$build/plugins}
hdc=$build/hdc
work=$(mktemp -d /tmp/hdc-bench-cold.XXXXXX)
trap 'rm -rf "$work"' EXIT

for tool in jq awk cc docker; do
    command -v "$tool" >/dev/null || { echo "cold_up: needs $tool" >&2; exit 2; }
done

# The plugin's step DAG: "name kind service after,after" per step, read from
# the .so itself through include/hdc/plugin.h by bench/plugin_dump.c (so the
# chain is the real one).
so=""
IFS=: read -ra dirs <<<"$HDC_PLUGIN_PATH"
for d in "${dirs[@]}"; do [ -f "$d/$dist.so" ] && { so=$d/$dist.so; break; }; done
[ -n "$so" ] || { echo "cold_up: no $dist.so in $HDC_PLUGIN_PATH" >&2; exit 2; }
cc -I"$root/include" -o "$work/steps" "$root/bench/plugin_dump.c" -ldl &&
    "$work/steps" "$so" steps >"$work/dag.txt" || { echo "cold_up: cannot read the step DAG" >&2; exit 2; }

if "$hdc" ls 2>/dev/null | awk -v n="$name" '$1 == n { f = 1 } END { exit !f }'; then
    echo "cold_up: cluster $name exists; choose another BENCH_NAME" >&2
    exit 2
fi
trap '"$hdc" down "$name" >/dev/null 2>&1; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

echo "cold_up: $runs x \`hdc up $dist --name $name\` ($so), $(nproc) cores, $(uname -r), Docker $(docker version --format '{{.Server.Version}}' 2>/dev/null), $(date -u +%FT%TZ)"
echo "cold_up: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# Epoch milliseconds of the daemon's timestamp on the first log line of
# CONTAINER matching PATTERN.
line_ms() {
    docker logs -t "$1" </dev/null 2>&1 | grep -m1 -F -- "$2" | awk '{
        ts = $1; split(ts, a, /[-T:.Z]/)
        frac = substr(a[7] "000", 1, 3)
        cmd = "date -u -d \"" a[1] "-" a[2] "-" a[3] " " a[4] ":" a[5] ":" a[6] "\" +%s"
        cmd | getline s; close(cmd)
        printf "%.0f\n", s * 1000 + frac }'
}

ok=0
for ((r = 1; r <= runs; r++)); do
    export HDC_LOGS_DIR=$work/logs$r
    t0=$(date +%s%N)
    "$hdc" --json up "$dist" --name "$name" >"$work/run$r.json" 2>"$work/run$r.err"
    rc=$?
    t1=$(date +%s%N)
    if [ $rc -ne 0 ]; then
        echo "run $r: hdc up failed (exit $rc):"
        tail -5 "$work/run$r.err" | sed 's/^/  /'
        "$hdc" down "$name" >/dev/null 2>&1
        continue
    fi
    ok=$((ok + 1))
    echo "wall $(((t1 - t0) / 1000000))" >"$work/run$r.wall"
    # Each service's boot->up (the slowest instance), from the agent's lines.
    : >"$work/svc$r.txt"
    jq -r '.[0].nodes[] | select(.service != "zookeeper") | "\(.service) \(.container) \(.hostname)"' \
        "$work/run$r.json" | while read -r svc ctr host; do
        b=$(line_ms "$ctr" "/$host = boot: starting")
        u=$(line_ms "$ctr" "ready: wrote /$host = up")
        if [ -n "$b" ] && [ -n "$u" ]; then echo "$svc $((u - b))"; fi
    done >>"$work/svc$r.txt"
    jq -r '.[0] | "total \(.phases.total_ms)", "network \(.phases.network_ms)",
        "zookeeper \(.phases.zookeeper_ms - .phases.network_ms)",
        "containers \(.phases.containers_ms - .phases.zookeeper_ms)",
        "steps \(.phases.steps_ms - .phases.containers_ms)",
        (.steps[] | "step:\(.name) \(.end_ms - .start_ms)"),
        (.steps[] | "at:\(.name) \(.start_ms) \(.end_ms)")' "$work/run$r.json" >"$work/phases$r.txt"
    # Floor: the longest chain of the DAG where a WAIT step of service S weighs
    # S's own boot->up and every other step weighs nothing; and the same
    # chain weighed with the engine's view (WAIT step start of its BOOT step
    # to WAIT step end) for comparison.
    awk -v svcf="$work/svc$r.txt" -v phf="$work/phases$r.txt" '
        BEGIN {
            while ((getline l < svcf) > 0) { split(l, a, " "); if (a[2] > own[a[1]]) own[a[1]] = a[2] }
            while ((getline l < phf) > 0) { split(l, a, " "); if (a[1] ~ /^at:/) { s = substr(a[1], 4); st[s] = a[2]; en[s] = a[3] } }
        }
        { step[NR] = $1; kind[$1] = $2; svc[$1] = $3; after[$1] = $4; n = NR }
        END {
            # boot step of each service, for the engine-side weight
            for (i = 1; i <= n; i++) if (kind[step[i]] == 1) bootof[svc[step[i]]] = step[i]
            for (i = 1; i <= n; i++) {
                s = step[i]; w1[s] = 0; w2[s] = 0
                if (kind[s] == 2) {
                    w1[s] = own[svc[s]] + 0
                    b = bootof[svc[s]]
                    if (b != "" && (s in en) && (b in st)) w2[s] = en[s] - st[b]
                }
            }
            # longest path by relaxation (the DAG has n steps)
            for (it = 0; it <= n; it++)
                for (i = 1; i <= n; i++) {
                    s = step[i]; best1 = 0; best2 = 0; from = ""
                    if (after[s] != "-") {
                        k = split(after[s], p, ",")
                        for (j = 1; j <= k; j++) {
                            if (d1[p[j]] > best1 || from == "") { best1 = d1[p[j]]; from = p[j] }
                        }
                    }
                    d1[s] = best1 + w1[s]; prev[s] = from
                }
            top = ""; for (i = 1; i <= n; i++) if (top == "" || d1[step[i]] > d1[top]) top = step[i]
            chain = ""; e = 0
            for (s = top; s != ""; s = prev[s]) if (kind[s] == 2) { chain = svc[s] (chain == "" ? "" : " > ") chain; e += w2[s] }
            printf "floor %d\nfloor_engine %d\nchain %s\n", d1[top], e, chain
        }' "$work/dag.txt" >>"$work/phases$r.txt"
    cat "$work/run$r.wall" >>"$work/phases$r.txt"
    awk -v r="$r" '$1 == "total" { t = $2 } $1 == "floor" { f = $2 } $1 == "wall" { w = $2 }
        END { printf "run %d: total %d ms, floor %d ms, total/floor %.2f, process wall %d ms\n", r, t, f, f ? t / f : 0, w }' \
        "$work/phases$r.txt"
    "$hdc" down "$name" >/dev/null 2>&1 || echo "run $r: hdc down $name failed"
done

if [ $ok -eq 0 ]; then
    echo "cold_up: no run came up; no figures"
    exit 0
fi

echo
echo "cold_up: medians over $ok runs of $dist (ms)"
cat "$work"/phases*.txt | awk '
    $1 == "chain" { $1 = ""; chain = $0; next }
    $1 ~ /^at:/ { next }
    { v[$1] = v[$1] " " $2; if (!($1 in seen)) { seen[$1] = ++k; order[k] = $1 } }
    function median(s,   a, n, i, j, t) {
        n = split(s, a, " ")
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function range(s,   a, n, i, lo, hi) {
        n = split(s, a, " "); lo = hi = a[1]
        for (i = 2; i <= n; i++) { if (a[i] + 0 < lo + 0) lo = a[i]; if (a[i] + 0 > hi + 0) hi = a[i] }
        return lo "-" hi
    }
    END {
        printf "  %-34s %8s  %s\n", "", "median", "min-max"
        for (i = 1; i <= k; i++) {
            key = order[i]; label = key
            if (key == "total") label = "total (hdc up --json total_ms)"
            else if (key == "network") label = "phase network"
            else if (key == "zookeeper") label = "phase zookeeper ready"
            else if (key == "containers") label = "phase containers started"
            else if (key == "steps") label = "phase steps (incl. probes)"
            else if (key ~ /^step:/) label = "  step " substr(key, 6)
            else if (key == "floor") label = "critical-path floor (agent logs)"
            else if (key == "floor_engine") label = "same chain, WAIT steps (engine)"
            else if (key == "wall") label = "hdc process wall time"
            printf "  %-34s %8.0f  %s\n", label, median(v[key]), range(v[key])
        }
        printf "  critical chain:%s\n", chain
        printf "  total/floor (medians): %.2f\n", median(v["total"]) / median(v["floor"])
    }'
echo "cold_up: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit 0
