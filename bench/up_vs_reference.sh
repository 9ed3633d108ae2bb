#!/usr/bin/env bash
# hdc's bring-up against what Docker alone costs, in one run.
#
#   bench/up_vs_reference.sh [--pairs N] [--clusters N] [--big-pairs N]
#                            [--compose-runs N] [--no-big] [--no-compose]
#                            [--dist DIST] [--keep]
#
# a) N interleaved pairs (default 5), hdc first: the cold `hdc up DIST
#    --name bqs` (images built; `hdc down` between runs, not timed), then
#    the Docker+ZooKeeper reference: the same containers, copied from what
#    that hdc run created (`docker inspect`: images, hostnames, static
#    addresses, /etc/hosts entries, published ports, volumes, a network of
#    its own on the same subnet), created and started in parallel with the
#    docker CLI, timed until every `docker run -d` returned and ZooKeeper
#    answered `srvr` on its published port. Only ZooKeeper runs its real
#    command: the service containers' entrypoint is `sleep infinity`, since
#    what the reference stands for is Docker's cost of starting them.
# b) In each hdc run, the services' own chain (bench/chain.awk): each
#    service's time from its boot to the moment its readiness first held,
#    from the daemons' own log lines (worker registration included, from
#    the masters' logs), summed along the longest chain of the plugin's
#    step DAG (read from the .so by bench/plugin_dump.c); an EXEC step
#    weighs its command's own run time, measured by running it again in its
#    container after the up (the apache plugin's hdfs-dirs is idempotent).
#    Prints the median of hdc / (reference + chain): 1.00 would be an engine
#    that costs nothing beyond Docker and the services themselves.
# c) The same for --clusters N clusters (default 16) from one `hdc up`
#    (bq1..bqN) against the reference of all their containers at once,
#    --big-pairs times (default 3); peak RSS and CPU of that `hdc up`.
# d) --compose-runs pairs (default 5): `hdc up` then a docker-compose
#    bring-up of the same images with healthchecks every second
#    (bench/compose/docker-compose.yml: the daemons started directly, the
#    plugin's step order as depends_on, hdc's readiness conditions as
#    healthchecks), timed from `docker-compose up -d` until every container
#    is healthy (compose 1.29 has no --wait).
# The load average (/proc/loadavg) is printed at the start of each part and
# at the end.
#
# Options: --no-big, --no-compose skip parts c and d (a quick run:
# `--pairs 2 --no-big --no-compose`). --dist (default apache_2.6.0; part d
# needs an apache_* distribution). --keep keeps the work directory (hdc's
# --json reports, the nodes' logs, each chain's weights, the docker
# arguments of the reference) and prints where it is.
# Environment: HDC_BUILD_DIR (default build-bench, else build; the hdc to
# measure), HDC_PLUGIN_PATH (default $HDC_BUILD_DIR/plugins).
# Names: clusters bqs and bq1..bqN, reference containers and networks
# bqref*, the compose project bqc; the script refuses to start if any
# exists, and removes what it made when it ends or is interrupted.
# Needs docker, jq, awk, cc (for plugin_dump), /usr/bin/time (Debian
# package time), bash 5; part d docker-compose (Debian: apt-get install -y
# docker-compose). Prints figures only; it never fails on a time.
set -u -o pipefail
export LC_ALL=C # EPOCHREALTIME's decimal point, sort's order

prog=up_vs_reference
root=$(cd "$(dirname "$0")/.." && pwd)
bench=$root/bench

die() {
    echo "$prog: $*" >&2
    exit 2
}
usage() { sed -n '2,/^set -u/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

pairs=5 nbig=16 big_pairs=3 compose_runs=5 do_big=1 do_compose=1 dist=apache_2.6.0 keep=0
while [ $# -gt 0 ]; do
    case $1 in
    --pairs | --clusters | --big-pairs | --compose-runs | --dist)
        [ $# -ge 2 ] || die "$1 needs a value"
        case $1 in
        --pairs) pairs=$2 ;;
        --clusters) nbig=$2 ;;
        --big-pairs) big_pairs=$2 ;;
        --compose-runs) compose_runs=$2 ;;
        --dist) dist=$2 ;;
        esac
        shift 2
        ;;
    --no-big) do_big=0 && shift ;;
    --keep) keep=1 && shift ;;
    --no-compose) do_compose=0 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown argument '$1' (--help)" ;;
    esac
done
for v in "$pairs" "$nbig" "$big_pairs" "$compose_runs"; do
    case $v in '' | *[!0-9]*) die "'$v' is not a count" ;; esac
done
[ "$nbig" -ge 1 ] && [ "$nbig" -le 64 ] || die "--clusters: 1..64"
[ "$big_pairs" -gt 0 ] || do_big=0
[ "$compose_runs" -gt 0 ] || do_compose=0

[ "${BASH_VERSINFO[0]}" -ge 5 ] || die "needs bash 5 (EPOCHREALTIME)"
for tool in docker jq awk cc sort; do
    command -v "$tool" >/dev/null || die "needs $tool"
done
[ -x /usr/bin/time ] || die "needs /usr/bin/time (Debian: apt-get install -y time)"
docker info >/dev/null 2>&1 || die "Docker does not answer: bash scripts/setup.sh"

build=${HDC_BUILD_DIR:-}
if [ -z "$build" ]; then
    build=$root/build-bench
    [ -x "$build/hdc" ] || build=$root/build
fi
hdc=$build/hdc
[ -x "$hdc" ] || die "no hdc in $build: cmake -S . -B $build -DCMAKE_BUILD_TYPE=Release && cmake --build $build -j2 (or set HDC_BUILD_DIR)"
export HDC_PLUGIN_PATH=${HDC_PLUGIN_PATH:-$build/plugins}
so=""
IFS=: read -ra dirs <<<"$HDC_PLUGIN_PATH"
for d in "${dirs[@]}"; do [ -f "$d/$dist.so" ] && so=$d/$dist.so && break; done
[ -n "$so" ] || die "no $dist.so in $HDC_PLUGIN_PATH"

work=$(mktemp -d /tmp/hdc-bench-uvr.XXXXXX)
export HDC_LOGS_DIR=$work/logs

# ---- bookkeeping: what this run made, removed whatever happens --------------

live_hdc=()   # clusters hdc brought up and not yet taken down
live_ref=()   # prepared reference directories whose objects may exist
compose_live=0
compose_file=$bench/compose/docker-compose.yml

ref_teardown() {
    local d names=() nets=() vols=()
    for d in "$@"; do
        mapfile -t -O "${#names[@]}" names <"$d/names"
        nets+=("$(cat "$d/network")")
        [ -s "$d/volumes" ] && mapfile -t -O "${#vols[@]}" vols <"$d/volumes"
    done
    [ ${#names[@]} -gt 0 ] && printf '%s\n' "${names[@]}" | xargs -r -P 8 -n 12 docker rm -f >/dev/null 2>&1
    [ ${#nets[@]} -gt 0 ] && docker network rm "${nets[@]}" >/dev/null 2>&1
    [ ${#vols[@]} -gt 0 ] && docker volume rm "${vols[@]}" >/dev/null 2>&1
    return 0
}
compose() { docker-compose -p bqc -f "$compose_file" "$@"; }
cleanup() {
    [ ${#live_hdc[@]} -gt 0 ] && "$hdc" down "${live_hdc[@]}" >/dev/null 2>&1
    [ ${#live_ref[@]} -gt 0 ] && ref_teardown "${live_ref[@]}"
    [ "$compose_live" = 1 ] && compose down -v >/dev/null 2>&1
    if [ "$keep" = 1 ]; then echo "$prog: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# What the plugin declares, from the .so itself.
cc -I"$root/include" -o "$work/plugin_dump" "$bench/plugin_dump.c" -ldl ||
    die "cannot build bench/plugin_dump.c"
for m in steps services probes execs; do
    "$work/plugin_dump" "$so" "$m" >"$work/$m.txt" || die "cannot read $so"
done

# The images must be there: building them is not what is measured.
images=(hdc/zookeeper:latest)
while IFS=$'\t' read -r _ _ _ _ _ img; do
    case $img in */* | *:*) images+=("$img") ;; *) images+=("hdc/$dist-$img:latest") ;; esac
done <"$work/services.txt"
for img in "${images[@]}"; do
    docker image inspect "$img" >/dev/null 2>&1 && continue
    version=${dist#*_}
    die "image $img is missing; build the images with the test stand-in (not Apache Hadoop):
    tests/fixtures/fakehadoop/build.sh $version /tmp/fakehadoop
    $hdc build-base --stand-in
    $hdc build $dist --hadoop-tarball /tmp/fakehadoop/hadoop-$version.tar.gz"
done
hadoop_image=${images[1]}

if [ "$do_compose" = 1 ] && ! command -v docker-compose >/dev/null; then
    echo "$prog: part d skipped: docker-compose is not installed (Debian: apt-get install -y docker-compose)"
    do_compose=0
fi
if [ "$do_compose" = 1 ] && [ "${dist%%_*}" != apache ]; then
    echo "$prog: part d skipped: bench/compose/docker-compose.yml is an apache_* cluster, not $dist"
    do_compose=0
fi

# Our names must be free: never touch what another run or person made.
mine=(bqs)
for ((i = 1; i <= nbig; i++)); do mine+=("bq$i"); done
taken=$("$hdc" ls --json 2>/dev/null | jq -r '.[].name' 2>/dev/null)
for n in "${mine[@]}"; do
    grep -qx -- "$n" <<<"$taken" && die "a cluster $n exists: hdc down $n, or wait for the run that made it"
done
left=$( (docker ps -a --format '{{.Names}}'; docker network ls --format '{{.Name}}'; docker volume ls -q) |
    grep -E '^(bqref|bqc_)' | tr '\n' ' ')
[ -z "$left" ] || die "leftovers of an earlier run: $left(docker rm -f / network rm / volume rm them)"


# ---- helpers -----------------------------------------------------------------

# now VAR: microseconds since the epoch into VAR, without a fork.
now() { printf -v "$1" '%s' "${EPOCHREALTIME/./}"; }

# stats FMT VALUE...: "median min max" (FMT: printf format of one number).
stats() {
    [ $# -gt 1 ] || { echo "- - -"; return; }
    local fmt=$1
    shift
    printf '%s\n' "$@" | sort -g | awk -v f="$fmt" '{ a[NR] = $1 }
        END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
              printf f " " f " " f "\n", m, a[1], a[NR] }'
}
# row LABEL FMT VALUE...: one line of a summary, median then min-max.
row() {
    local label=$1 fmt=$2 s
    shift 2
    read -r -a s <<<"$(stats "$fmt" "$@")"
    printf '  %-44s %9s  %s-%s\n' "$label" "${s[0]}" "${s[1]}" "${s[2]}"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# hdc_up OUT NAME...: one `hdc --json up` of the clusters NAME... under
# /usr/bin/time. Sets HDC_MS (wall), HDC_RC, HDC_RSS_KB, HDC_CPU_S, HDC_UP
# (the names that came up). The clusters are in live_hdc until hdc_down.
hdc_up() {
    local out=$1 t0 t1 args=() n
    shift
    for n in "$@"; do args+=("$dist" --name "$n"); done
    live_hdc=("$@")
    now t0
    /usr/bin/time -f '%M %U %S' -o "$out.time" "$hdc" --json up "${args[@]}" >"$out.json" 2>"$out.err"
    HDC_RC=$?
    now t1
    HDC_MS=$(((t1 - t0) / 1000))
    read -r HDC_RSS_KB HDC_CPU_S < <(awk 'END { print $1, $2 + $3 }' "$out.time")
    mapfile -t HDC_UP < <(jq -r '.[] | select(.state == "up") | .cluster' "$out.json" 2>/dev/null)
    if [ "$HDC_RC" -ne 0 ]; then
        echo "  hdc up exited $HDC_RC; its last lines:"
        grep -v -E " (created|waiting|booting|up) [0-9.]+s$" "$out.err" | tail -6 | sed 's/^/    /'
    fi
}
hdc_down() {
    "$hdc" down "${live_hdc[@]}" >/dev/null 2>&1 || echo "  note: hdc down ${live_hdc[*]} failed"
    live_hdc=()
}

# capture CLUSTER UPJSON DIR: what hdc made for CLUSTER (its containers and
# network, for the reference) and the services' chain (DIR/chain.txt), read
# while the cluster is still up.
capture() {
    local c=$1 json=$2 dir=$3 svc host ctr step user cmd ms best rc ctrs=()
    mkdir -p "$dir"
    mapfile -t ctrs < <(jq -r --arg c "$c" '.[] | select(.cluster == $c) | .nodes[].container' "$json")
    docker inspect "${ctrs[@]}" >"$dir/containers.json" 2>/dev/null || return 1
    docker network inspect "$(jq -r '.[0].NetworkSettings.Networks | keys[0]' "$dir/containers.json")" \
        >"$dir/network.json" 2>/dev/null || return 1
    # every service node's log, with the Docker daemon's timestamps
    jq -r --arg c "$c" '.[] | select(.cluster == $c) | .nodes[] | select(.service != "zookeeper") |
        "\(.service)\t\(.hostname)\t\(.container)"' "$json" >"$dir/nodes.in"
    : >"$dir/nodes.txt"
    while IFS=$'\t' read -r svc host ctr; do
        docker logs -t "$ctr" >"$dir/log.$host" 2>&1 </dev/null
        printf '%s\t%s\t%s\n' "$svc" "$host" "$dir/log.$host" >>"$dir/nodes.txt"
    done <"$dir/nodes.in"
    # EXEC steps: the command's own time, run again in each of its
    # containers (as hdc runs it: sh -c, as its user), timed inside
    : >"$dir/execs.txt"
    while IFS=$'\t' read -r step svc user cmd; do
        best=0
        [ "$user" = - ] && user=root
        while IFS=$'\t' read -r _ _ ctr; do
            read -r ms rc < <(docker exec -u "$user" "$ctr" sh -c \
                's=$(date +%s%N); (eval "$1") >/dev/null 2>&1; rc=$?; e=$(date +%s%N); echo $(((e - s) / 1000000)) $rc' \
                sh "$cmd" </dev/null 2>/dev/null)
            [ "${rc:-1}" = 0 ] || echo "  note: $c: rerunning $step in $ctr failed; its time still counts"
            [ "${ms:-0}" -gt "$best" ] && best=$ms
        done < <(awk -F'\t' -v s="$svc" '$1 == s' "$dir/nodes.in")
        echo "$step $best" >>"$dir/execs.txt"
    done <"$work/execs.txt"
    awk -f "$bench/chain.awk" -v dag="$work/steps.txt" -v services="$work/services.txt" \
        -v probes="$work/probes.txt" -v execs="$dir/execs.txt" "$dir/nodes.txt" >"$dir/chain.txt"
}
chain_ms() { awk '$1 == "chain" { print $2 }' "$1/chain.txt" 2>/dev/null; }

# Subnets in use on this engine, one a line.
used_subnets() {
    docker network ls -q | xargs -r docker network inspect \
        --format '{{range .IPAM.Config}}{{.Subnet}}{{"\n"}}{{end}}' 2>/dev/null | grep -v '^$'
}
# overlaps CIDR < list: 0 if CIDR overlaps one of the list's IPv4 subnets.
overlaps() {
    awk -v c="$1" 'function ip(s, a) { split(s, a, "."); return ((a[1] * 256 + a[2]) * 256 + a[3]) * 256 + a[4] }
        function lo(s, p) { split(s, p, "/"); return ip(p[1]) - ip(p[1]) % 2 ^ (32 - p[2]) }
        function hi(s, p) { split(s, p, "/"); return lo(s) + 2 ^ (32 - p[2]) - 1 }
        $1 ~ /^[0-9.]+\/[0-9]+$/ { if (lo($1) <= hi(c) && lo(c) <= hi($1)) f = 1 }
        END { exit !f }'
}
# free24 USED-FILE: the first three octets of a /24 in 172.30.0.0/16 that
# overlaps nothing in USED-FILE nor anything handed out already (appended).
free24() {
    local x
    for ((x = 250; x >= 1; x--)); do
        overlaps "172.30.$x.0/24" <"$1" && continue
        echo "172.30.$x.0/24" >>"$1"
        echo "172.30.$x"
        return 0
    done
    return 1
}
# A host port nothing listens on, below Docker's ephemeral range, for the
# reference's ZooKeeper: known before the timed part, so no `docker port`
# call is timed (hdc learns its ports from the create it does anyway).
declare -A given_ports=()
free_port() {
    local p h
    declare -A used=()
    for h in $(awk 'FNR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
        used[$((16#$h))]=1
    done
    while :; do
        p=$((20000 + RANDOM % 10000))
        [ -z "${used[$p]:-}" ] && [ -z "${given_ports[$p]:-}" ] && break
    done
    given_ports[$p]=1
    echo "$p"
}

# ref_prepare CAPTURED-DIR CLUSTER REFNAME USED-SUBNETS-FILE: the docker CLI
# argument lists (one argument a line) of the reference of CLUSTER, in
# CAPTURED-DIR/ref: net.args, c<i>.args, and names, network, volumes,
# zkport. Same subnet as hdc's when it is free again (hdc down just freed
# it), else a free /24 with the same host numbers.
ref_prepare() {
    local dir=$1 c=$2 ref=$3 used=$4 r=$1/ref subnet gw from="" to="" i n
    rm -rf "$r"
    mkdir -p "$r"
    subnet=$(jq -r '.[0].IPAM.Config[0].Subnet' "$dir/network.json")
    gw=$(jq -r '.[0].IPAM.Config[0].Gateway // empty' "$dir/network.json")
    if overlaps "$subnet" <"$used"; then
        case $subnet in *.0/24) ;; *) echo "  note: subnet $subnet of $c is taken; no reference" && return 1 ;; esac
        from=${subnet%.0/24}
        to=$(free24 "$used") || return 1
        subnet=$to.0/24
        gw=${gw:+$to.${gw##*.}}
    else
        echo "$subnet" >>"$used"
    fi
    printf '%s\n' network create --label bqref=1 --subnet "$subnet" ${gw:+--gateway "$gw"} "$ref" >"$r/net.args"
    echo "$ref" >"$r/network"
    free_port >"$r/zkport"
    n=$(jq length "$dir/containers.json")
    for ((i = 0; i < n; i++)); do
        jq -r --argjson i "$i" --arg cl "$c" --arg ref "$ref" --arg zkport "$(cat "$r/zkport")" '
            .[$i] as $c
            | ($c.Config.Labels["hdc.service"] == "zookeeper") as $zk
            | ($c.NetworkSettings.Networks | to_entries[0].value) as $net
            | "run", "-d", "--label", "bqref=1",
              "--name", ($c.Name | ltrimstr("/") | sub("^" + $cl; $ref)),
              "--hostname", $c.Config.Hostname,
              "--network", $ref, "--ip", ($net.IPAMConfig.IPv4Address // $net.IPAddress),
              ($c.HostConfig.ExtraHosts // [] | .[] | ("--add-host", .)),
              ($c.HostConfig.PortBindings // {} | to_entries[] | .key as $k | .value[] |
                  ("-p", "\(.HostIp):\(if $zk then $zkport else .HostPort end):\($k)")),
              ($c.Mounts // [] | .[] |
                  if .Type == "volume" then
                      ("-v", "\(.Name | sub("^hdc_" + $cl; $ref)):\(.Destination)\(if .Mode != "" then ":" + .Mode else "" end)")
                  else ("-v", "\(.Source):\(.Destination)") end),
              (if $zk then
                  (if ($c.Config.Entrypoint // []) | length > 0 then
                      ("--entrypoint", $c.Config.Entrypoint[0], $c.Config.Image, $c.Config.Entrypoint[1:][])
                  else $c.Config.Image end),
                  ($c.Config.Cmd // [] | .[])
              else ("--entrypoint", "sleep", $c.Config.Image, "infinity") end)' \
            "$dir/containers.json" >"$r/c$i.args" || return 1
        [ -n "$from" ] && sed -i -e "s/^$from\\./$to./" -e "s/:$from\\./:$to./" "$r/c$i.args"
        sed -n '/^--name$/{n;p}' "$r/c$i.args" >>"$r/names"
    done
    # named volumes (no "/" before the ":"), which `docker run -v` creates
    cat "$r"/c*.args | awk '/^-v$/ { getline v; split(v, a, ":"); if (a[1] !~ /\//) print a[1] }' | sort -u >"$r/volumes"
}

# zk_poll PORT DEADLINE-US STOPFILE: prints the time (us) ZooKeeper first
# answered srvr on 127.0.0.1:PORT; nothing if DEADLINE passed or STOPFILE
# appeared (a docker run failed). In the shell itself (/dev/tcp), no fork
# per attempt: Docker's proxy accepts and closes while ZooKeeper is not
# there yet, so the answer is what tells.
zk_poll() {
    local port=$1 deadline=$2 stop=$3 fd line t
    while :; do
        if { exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
            line=""
            { printf srvr 1>&"$fd" && read -r -t 2 -u "$fd" line; } 2>/dev/null
            exec {fd}>&-
            if [[ $line == "Zookeeper version"* ]]; then
                now t
                echo "$t"
                return 0
            fi
        fi
        now t
        [ "$t" -gt "$deadline" ] || [ -e "$stop" ] && return 1
        sleep 0.02
    done
}

# ref_run DIR...: the timed reference of the clusters prepared in DIR/ref:
# per cluster, its network, then all its `docker run -d` at once; all the
# clusters at once; ZooKeeper polled meanwhile. Sets REF_MS (start to the
# last of: every run returned, every ZooKeeper answered) and REF_OK (the
# clusters whose runs all succeeded and whose ZooKeeper answered).
ref_run() {
    local d r t0 t end f ok ports=() pids=() i=0
    for d in "$@"; do
        ports+=("$(cat "$d/ref/zkport")")
        live_ref+=("$d/ref")
    done
    now t0
    for d in "$@"; do
        r=$d/ref
        (
            mapfile -t a <"$r/net.args"
            docker "${a[@]}" >/dev/null 2>>"$r/err" || { : >"$r/failed"; exit 1; }
            for f in "$r"/c*.args; do
                (
                    mapfile -t a <"$f"
                    if docker "${a[@]}" >/dev/null 2>>"$r/err"; then
                        echo "${EPOCHREALTIME/./}" >"$f.done"
                    else
                        : >"$r/failed"
                    fi
                ) &
            done
            wait
        ) &
        pids+=($!)
        zk_poll "${ports[i]}" $((t0 + 180000000)) "$r/failed" >"$r/zk.done" &
        pids+=($!)
        i=$((i + 1))
    done
    wait "${pids[@]}"
    end=0 REF_OK=0
    for d in "$@"; do
        r=$d/ref ok=1
        for f in "$r"/c*.args; do
            if [ -s "$f.done" ]; then
                t=$(cat "$f.done") && [ "$t" -gt "$end" ] && end=$t
            else ok=0; fi
        done
        if [ -s "$r/zk.done" ]; then
            t=$(cat "$r/zk.done") && [ "$t" -gt "$end" ] && end=$t
        else ok=0; fi
        [ "$ok" = 1 ] && REF_OK=$((REF_OK + 1))
        [ -s "$r/err" ] && sed 's/^/    reference: /' "$r/err" | head -3
    done
    REF_MS=$(((end - t0) / 1000))
}
ref_done() {
    local d refs=()
    for d in "$@"; do refs+=("$d/ref"); done
    ref_teardown "${refs[@]}"
    live_ref=()
}

echo "$prog: $dist; $pairs pairs; $( [ "$do_big" = 1 ] && echo "$nbig clusters x $big_pairs" || echo "no multi-cluster part"); $( [ "$do_compose" = 1 ] && echo "compose x $compose_runs" || echo "no compose part")"
echo "$prog: hdc $hdc (built $(date -u -r "$hdc" +%FT%TZ)), source $(git -C "$root" describe --always --dirty 2>/dev/null || echo ?)"
echo "$prog: $(nproc) cores, $(uname -r), Docker $(docker version --format '{{.Server.Version}}' 2>/dev/null), $(date -u +%FT%TZ)"
echo "$prog: load average at start: $(loadavg)"

# ---- a, b: one cluster -------------------------------------------------------

echo
echo "== one cluster: hdc up $dist vs the Docker+ZooKeeper reference, interleaved (ms)"
A_hdc=() A_total=() A_ref=() A_chain=() A_r1=() A_r2=() A_paths=()
for ((p = 1; p <= pairs; p++)); do
    d=$work/a$p
    mkdir -p "$d"
    hdc_up "$d/up" bqs
    if [ "$HDC_RC" -ne 0 ] || [ ${#HDC_UP[@]} -ne 1 ]; then
        hdc_down
        echo "pair $p: hdc up failed; no pair"
        continue
    fi
    total=$(jq '.[0].phases.total_ms' "$d/up.json")
    capture bqs "$d/up.json" "$d/bqs" || echo "  note: could not read cluster bqs"
    hdc_down
    chain=$(chain_ms "$d/bqs")
    used_subnets >"$d/used"
    if ! ref_prepare "$d/bqs" bqs bqrefs "$d/used"; then
        echo "pair $p: hdc $HDC_MS (report $total), no reference"
        continue
    fi
    ref_run "$d/bqs"
    ref_done "$d/bqs"
    if [ "$REF_OK" -ne 1 ]; then
        echo "pair $p: hdc $HDC_MS (report $total), reference failed"
        continue
    fi
    r1=$(ratio "$HDC_MS" "$REF_MS")
    r2=$(ratio "$HDC_MS" $((REF_MS + ${chain:-0})))
    A_hdc+=("$HDC_MS") A_total+=("$total") A_ref+=("$REF_MS") A_chain+=("${chain:-0}") A_r1+=("$r1") A_r2+=("$r2")
    A_paths+=("$(awk '$1 == "path" { $1 = ""; gsub(/=[0-9]+/, ""); print substr($0, 2) }' "$d/bqs/chain.txt")")
    echo "pair $p: hdc $HDC_MS (report $total), reference $REF_MS, chain ${chain:-?}; hdc/reference $r1, hdc/(reference+chain) $r2"
done

if [ ${#A_hdc[@]} -gt 0 ]; then
    echo
    echo "one cluster, over ${#A_hdc[@]} pairs:                     median  min-max"
    row "hdc up, wall (ms)" %.0f "${A_hdc[@]}"
    row "  its report's total_ms" %.0f "${A_total[@]}"
    # hdc's own phases, whatever its report names (the engine may reorder them)
    for k in $(jq -r '.[0].phases | keys_unsorted[] | select(. != "total_ms")' "$work"/a*/up.json 2>/dev/null | awk '!s[$0]++'); do
        mapfile -t v < <(jq -r --arg k "$k" '.[0] | select(.state == "up") | .phases[$k] // empty' "$work"/a*/up.json)
        row "    ${k%_ms} reached at (ms)" %.0f "${v[@]}"
    done
    row "reference, 6 containers + srvr (ms)" %.0f "${A_ref[@]}"
    row "services' chain (ms)" %.0f "${A_chain[@]}"
    row "hdc / reference" %.2f "${A_r1[@]}"
    row "hdc / (reference + chain)" %.2f "${A_r2[@]}"
    # the chain's make-up: its usual path, each step's median weight
    path=$(printf '%s\n' "${A_paths[@]}" | sort | uniq -c | sort -rn | head -1 | sed 's/^ *[0-9]* //')
    echo "  chain (most frequent path; median ms a step, over all pairs):"
    for s in ${path//>/ }; do
        mapfile -t v < <(cat "$work"/a*/bqs/chain.txt 2>/dev/null | awk -v s="$s" '$1 == "w" && $2 == s { print $3 }')
        row "    $s" %.0f "${v[@]}"
    done
    echo "  each service's own boot->ready (median ms, slowest instance):"
    while IFS=$'\t' read -r s _; do
        mapfile -t v < <(cat "$work"/a*/bqs/chain.txt 2>/dev/null | awk -v s="$s" '$1 == "own" && $2 == s { print $3 }')
        row "    $s" %.0f "${v[@]}"
    done <"$work/services.txt"
    fb=$(cat "$work"/a*/bqs/chain.txt 2>/dev/null | awk '$1 == "fallback" { f += $2 } $1 == "missing" { m += $2 } END { print f + 0, m + 0 }')
    echo "  readiness taken from the agent's line for want of a daemon line: ${fb% *}; registrations not found: ${fb#* }"
fi
echo "$prog: load average after part a/b: $(loadavg)"

# ---- c: many clusters from one hdc up ----------------------------------------

if [ "$do_big" = 1 ]; then
    echo
    echo "== $nbig clusters from one hdc up vs the reference of their $((nbig * 6)) containers, interleaved"
    B_hdc=() B_ref=() B_rss=() B_cpu=() B_cmed=() B_cmax=() B_r1=() B_r2=()
    names=()
    for ((i = 1; i <= nbig; i++)); do names+=("bq$i"); done
    for ((q = 1; q <= big_pairs; q++)); do
        d=$work/b$q
        mkdir -p "$d"
        hdc_up "$d/up" "${names[@]}"
        up=${#HDC_UP[@]}
        # read every cluster that came up, four at a time (not timed)
        caps=()
        for c in "${HDC_UP[@]}"; do
            capture "$c" "$d/up.json" "$d/$c" &
            caps+=("$d/$c")
            [ $((${#caps[@]} % 4)) = 0 ] && wait
        done
        wait
        hdc_down
        chains=()
        for c in "${caps[@]}"; do
            x=$(chain_ms "$c")
            [ -n "$x" ] && chains+=("$x")
        done
        used_subnets >"$d/used"
        prepared=()
        for c in "${caps[@]}"; do
            n=${c##*/}
            ref_prepare "$c" "$n" "bqref${n#bq}" "$d/used" && prepared+=("$c")
        done
        if [ ${#prepared[@]} -eq 0 ]; then
            echo "pair $q: hdc $HDC_MS ms, $up/$nbig up; no reference"
            continue
        fi
        ref_run "${prepared[@]}"
        ref_done "${prepared[@]}"
        read -r cmed _ cmax < <(stats %.0f "${chains[@]}")
        r1=$(ratio "$HDC_MS" "$REF_MS")
        r2=$(ratio "$HDC_MS" $((REF_MS + ${cmax:-0})))
        echo "pair $q: hdc $HDC_MS ms ($up/$nbig up, peak RSS $(awk -v k="$HDC_RSS_KB" 'BEGIN { printf "%.1f", k / 1024 }') MB, CPU ${HDC_CPU_S} s), reference $REF_MS ms (${#prepared[@]} clusters, $REF_OK ok), chain median ${cmed} max ${cmax} ms; hdc/reference $r1, hdc/(reference+max chain) $r2"
        if [ "$up" -eq "$nbig" ] && [ "$REF_OK" -eq "$nbig" ]; then
            B_hdc+=("$HDC_MS") B_ref+=("$REF_MS") B_rss+=("$HDC_RSS_KB") B_cpu+=("$HDC_CPU_S")
            B_cmed+=("$cmed") B_cmax+=("$cmax") B_r1+=("$r1") B_r2+=("$r2")
        else
            echo "  (not counted in the medians: not every cluster came up on both sides)"
        fi
    done
    if [ ${#B_hdc[@]} -gt 0 ]; then
        echo
        echo "$nbig clusters, over ${#B_hdc[@]} pairs:                    median  min-max"
        row "hdc up, wall (ms)" %.0f "${B_hdc[@]}"
        mapfile -t mb < <(printf '%s\n' "${B_rss[@]}" | awk '{ print $1 / 1024 }')
        row "  its peak RSS (MB)" %.1f "${mb[@]}"
        row "  its CPU, user+sys (s)" %.2f "${B_cpu[@]}"
        row "reference, $((nbig * 6)) containers + srvr (ms)" %.0f "${B_ref[@]}"
        row "services' chain, median cluster (ms)" %.0f "${B_cmed[@]}"
        row "services' chain, slowest cluster (ms)" %.0f "${B_cmax[@]}"
        row "hdc / reference" %.2f "${B_r1[@]}"
        row "hdc / (reference + slowest chain)" %.2f "${B_r2[@]}"
    fi
    echo "$prog: load average after part c: $(loadavg)"
fi

# ---- d: docker-compose with healthchecks --------------------------------------

# compose_up: sets C_MS (start of `docker-compose up -d` until every
# container is healthy and hdfs-dirs exited 0), C_UPD_MS (when `up -d`
# returned), C_OK.
compose_up() {
    local t0 t1 t st ctrs=() s
    for s in zookeeper namenode datanode1 hdfs-dirs resourcemanager nodemanager1 historyserver; do
        ctrs+=("bqc_${s}_1")
    done
    C_OK=0 C_MS=0 C_UPD_MS=0
    compose_live=1
    now t0
    if ! compose up -d >"$1.log" 2>&1; then
        now t1
        C_UPD_MS=$(((t1 - t0) / 1000))
        echo "  docker-compose up -d failed; its last lines:"
        tail -4 "$1.log" | sed 's/^/    /'
        return
    fi
    now t1
    C_UPD_MS=$(((t1 - t0) / 1000))
    while :; do
        st=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}/{{.State.ExitCode}}{{end}}' \
            "${ctrs[@]}" 2>&1 | sort | uniq -c | tr -s ' \n' '  ')
        now t
        case $st in
        *unhealthy* | *exited/[1-9]* | *rror*) echo "  compose: $st" && return ;;
        *starting* | *running/* | *created/*) ;;
        *)
            C_OK=1 C_MS=$(((t - t0) / 1000))
            return
            ;;
        esac
        [ $(((t - t0) / 1000000)) -gt 300 ] && echo "  compose: not healthy after 300 s: $st" && return
        sleep 0.1
    done
}

if [ "$do_compose" = 1 ]; then
    echo
    echo "== hdc up vs docker-compose up with healthchecks (bench/compose), interleaved"
    version=${dist#*_}
    export BQ_IMAGE=$hadoop_image BQ_ZK_IMAGE=hdc/zookeeper:latest BQ_VERSION=$version
    case $version in
    2.*) export BQ_NN_HTTP=50070 BQ_DN_HTTP=50075 BQ_DN_DATA=50010 BQ_DN_IPC=50020 ;;
    *) export BQ_NN_HTTP=9870 BQ_DN_HTTP=9864 BQ_DN_DATA=9866 BQ_DN_IPC=9867 ;;
    esac
    D_hdc=() D_c=() D_upd=() D_r=()
    for ((r = 1; r <= compose_runs; r++)); do
        d=$work/d$r
        mkdir -p "$d"
        hdc_up "$d/up" bqs
        hdc_down
        [ "$HDC_RC" -eq 0 ] || { echo "run $r: hdc up failed; no pair"; continue; }
        used_subnets >"$d/used"
        BQ_NET=$(free24 "$d/used") || { echo "run $r: no free /24 for compose"; continue; }
        export BQ_NET
        compose_up "$d/compose"
        compose down -v >/dev/null 2>&1
        compose_live=0
        if [ "$C_OK" != 1 ]; then
            echo "run $r: hdc $HDC_MS ms, compose failed"
            continue
        fi
        x=$(ratio "$C_MS" "$HDC_MS")
        D_hdc+=("$HDC_MS") D_c+=("$C_MS") D_upd+=("$C_UPD_MS") D_r+=("$x")
        echo "run $r: hdc $HDC_MS ms, compose $C_MS ms (up -d returned at $C_UPD_MS); compose/hdc $x"
    done
    if [ ${#D_hdc[@]} -gt 0 ]; then
        echo
        echo "compose, over ${#D_hdc[@]} pairs:                          median  min-max"
        row "hdc up, wall (ms)" %.0f "${D_hdc[@]}"
        row "docker-compose, all healthy (ms)" %.0f "${D_c[@]}"
        row "  docker-compose up -d returned (ms)" %.0f "${D_upd[@]}"
        row "compose / hdc" %.2f "${D_r[@]}"
    fi
fi

echo
echo "$prog: load average at end: $(loadavg)"
exit 0
