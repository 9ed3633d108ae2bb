#!/usr/bin/env bash
# Faults, as CI brings them, against the real engine with the test
# distribution (tests/e2e/testdist, not Hadoop):
#   - `hdc up` killed (SIGKILL, and SIGTERM) at each phase it reports, and
#     at a few seeded random offsets; then `hdc gc` leaves nothing of those
#     clusters, while it spares a healthy cluster, a stopped one and an up
#     of another name still at work; `hdc up NAME -y` replaces an orphan;
#   - the agents of a cluster whose up was killed give up on `boot` after
#     their (short) deadline;
#   - `hdc matrix` killed while its command runs: gc leaves nothing;
#   - SIGTERM to `hdc up --rm-on-failure`: nothing left, no gc;
#   - `hdc down` during `hdc up` of the same name, 30 times: nothing leaks;
#   - a cluster whose --ttl has passed is expired, and gc removes it;
#   - `hdc status` of a cluster with a dead node exits 1 naming it;
#   - `hdc build` stops on SIGTERM.
# ctest label "faults": run once per CI run (the plain pass), not under
# ASan too. Every object it makes is named with its prefix.
set -u
build=${HDC_BUILD_DIR:?}
hdc=$build/hdc
export HDC_PLUGIN_PATH=$build/e2e-plugins
work=$(mktemp -d /tmp/hdc-faults-XXXXXX)
export HDC_LOGS_DIR=$work/logs HDC_STATE_DIR=$work/state
prefix=flt$$
seed=${HDC_FAULTS_SEED:-$$}
RANDOM=$seed
bg=() # background pids to stop on exit

names() { # every cluster of this run
    docker ps -a --format '{{.Label "hdc.cluster"}}' --filter "label=hdc.cluster"
    docker network ls --format '{{.Label "hdc.cluster"}}' --filter "label=hdc.cluster"
    docker volume ls --format '{{.Label "hdc.cluster"}}' --filter "label=hdc.cluster"
}

cleanup() {
    for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null; done
    for n in $(names | grep "^$prefix" | sort -u); do "$hdc" down "$n" >/dev/null 2>&1; done
    rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib.sh"

labelled() { # objects labelled hdc.cluster=NAME
    { docker ps -aq --filter "label=hdc.cluster=$1"
      docker network ls -q --filter "label=hdc.cluster=$1"
      docker volume ls -q --filter "label=hdc.cluster=$1"; } | wc -l
}

state_of() { # NAME -> its state in `hdc ls --json`, or "none"
    "$hdc" --json ls | jq -r --arg n "$1" '[.[] | select(.name == $n) | .state][0] // "none"'
}

echo "seed $seed (HDC_FAULTS_SEED=$seed repeats this run)"

if ! out=$("$hdc" build-base --stand-in 2>&1) || ! out=$("$hdc" build testdist 2>&1); then
    bad "images" "$out"; echo "$pass passed, $fail failed"; exit 1
fi

# up_until SIG WHEN NAME [ARGS...]: runs `hdc up testdist --name NAME ARGS`,
# reading its progress (one line per node state, on stderr) as it comes,
# and sends SIG once a line matches the regex WHEN (or, for WHEN "+MS",
# MS milliseconds after the start). Sets $up_status and $up_err (its file).
up_until() {
    local sig=$1 when=$2 name=$3 fifo=$work/fifo.$3 sent=0 line
    shift 3
    up_err=$work/$name.err
    mkfifo "$fifo"
    "$hdc" up testdist --name "$name" "$@" >/dev/null 2>"$fifo" &
    local pid=$!
    if [[ $when == +* ]]; then
        (sleep "$(printf '0.%03d' "${when#+}")"; kill -"$sig" "$pid" 2>/dev/null) &
        sent=1
    fi
    while IFS= read -r line; do
        printf '%s\n' "$line" >>"$up_err"
        if [ $sent = 0 ] && [[ $line =~ $when ]]; then
            kill -"$sig" "$pid"
            sent=1
        fi
    done <"$fifo"
    wait "$pid"
    up_status=$?
    [ $sent = 1 ] || echo "    (no line matched '$when': the signal was not sent)"
    rm -f "$fifo"
}

# ---- the clusters gc must spare -----------------------------------------------------
"$hdc" up testdist --name "$prefix"-healthy >/dev/null 2>"$work/healthy.err" \
    || bad "a healthy cluster comes up" "$(cat "$work/healthy.err")"
"$hdc" up testdist --name "$prefix"-stopped >/dev/null 2>"$work/stopped.err" \
    || bad "a cluster to stop comes up" "$(cat "$work/stopped.err")"
docker stop -t 1 $(docker ps -q --filter "label=hdc.cluster=$prefix-stopped") >/dev/null
[ "$(state_of "$prefix"-stopped)" = stopped ] && ok "a cluster whose containers all stopped is stopped" \
    || bad "stopped state" "$("$hdc" ls)"

# ---- ups killed at each phase ---------------------------------------------------------
# Their agents give up on `boot` after 5 s (HDC_BOOT_TIMEOUT).
export HDC_BOOT_TIMEOUT=5s
phases=(" zookeeper created " " zookeeper waiting " " zookeeper up " " master created "
    " worker1 waiting " " master booting ")
killed=()
i=0
for sig in KILL TERM; do
    for when in "${phases[@]}"; do
        i=$((i + 1))
        up_until "$sig" "$when" "$prefix-k$i"
        if [ $up_status = 0 ]; then # it came up before the signal landed
            "$hdc" down "$prefix-k$i" >/dev/null 2>&1
            continue
        fi
        killed+=("$prefix-k$i")
        if [ $sig = TERM ]; then
            [ $up_status = 1 ] && grep -q "terminated: stopping the ups under way" "$up_err" \
                && grep -q "left as it failed, for inspection: \`hdc down $prefix-k$i\`" "$up_err" \
                && ok "SIGTERM at '$when': stops, says what it left and what removes it" \
                || bad "SIGTERM at '$when'" "status $up_status" "$(cat "$up_err")"
        fi
    done
done
for r in 1 2 3; do
    i=$((i + 1))
    up_until KILL "+$((RANDOM % 2500))" "$prefix-k$i"
    if [ $up_status = 0 ]; then
        "$hdc" down "$prefix-k$i" >/dev/null 2>&1
        continue
    fi
    killed+=("$prefix-k$i")
done

# One was killed while its worker waited for `boot`: the agent gives up.
worker=$(docker ps -aq --filter "label=hdc.cluster=$prefix-k5" --filter "label=hdc.service=worker")
code=$(timeout 120 docker wait "$worker" 2>&1)
[ "$code" = 75 ] && docker logs "$worker" 2>&1 | grep -q "did not read 'boot' within 5 s" \
    && ok "the agents of a cluster never booted exit 75 after their deadline" \
    || bad "abandoned agent" "exit $code" "$(docker logs "$worker" 2>&1 | tail -5)"

# Orphaned (or failed with their up gone) in hdc ls; `up -y` replaces one.
states=$("$hdc" --json ls)
n_left=0
for n in "${killed[@]}"; do
    s=$(jq -r --arg n "$n" '[.[] | select(.name == $n) | .state][0] // "none"' <<<"$states")
    case $s in orphaned | failed | none) ;; *) bad "$n after its up was killed is $s" "$states" ;; esac
    [ "$s" != none ] && n_left=$((n_left + 1))
done
ok "every killed up's cluster is orphaned, failed or absent in hdc ls ($n_left of ${#killed[@]} left something)"
out=$("$hdc" up testdist --name "$prefix"-k3 2>&1 </dev/null); st=$?
[ $st = 1 ] && grep -Eq "an? (orphaned|failed) cluster '$prefix-k3' is there: replace it with -y" <<<"$out" \
    && ok "up of an orphan's name is refused without -y" || bad "up over an orphan" "status $st" "$out"
out=$("$hdc" up testdist --name "$prefix"-k3 -y 2>&1 </dev/null); st=$?
[ $st = 0 ] && grep -q "replacing the" <<<"$out" && [ "$(state_of "$prefix"-k3)" = up ] \
    && ok "up -y replaces it and comes up" || bad "up -y over an orphan" "status $st" "$out"
"$hdc" down "$prefix"-k3 >/dev/null 2>&1

# ---- gc, with an up of another name at work (held still by SIGSTOP) -------------------
unset HDC_BOOT_TIMEOUT
fifo=$work/fifo.inflight
mkfifo "$fifo"
"$hdc" up testdist --name "$prefix"-inflight >"$work/inflight.out" 2>"$fifo" &
inflight=$!
bg+=("$inflight")
exec {in}<"$fifo"
while IFS= read -r -t 120 line <&$in; do
    [[ $line =~ " master created " ]] && break
done
kill -STOP "$inflight"
out=$("$hdc" gc 2>&1); st=$?
kill -CONT "$inflight"
cat <&$in >/dev/null &
wait "$inflight"; inflight_status=$?
exec {in}<&-
left=0
for n in "${killed[@]}"; do left=$((left + $(labelled "$n"))); done
[ $st = 0 ] && [ $left = 0 ] && ok "gc removes every killed up's cluster: 0 containers, networks, volumes left" \
    || bad "gc after kills" "status $st, $left objects left" "$out"
[ "$(state_of "$prefix"-healthy)" = up ] && ok "gc spares a healthy cluster" || bad "gc took the healthy cluster" "$out"
[ "$(state_of "$prefix"-stopped)" = stopped ] && ok "gc spares a stopped cluster" \
    || bad "gc took the stopped cluster" "$out"
[ $inflight_status = 0 ] && [ "$(state_of "$prefix"-inflight)" = up ] \
    && ok "gc spares an up at work, which then comes up" \
    || bad "gc and the up at work" "up's status $inflight_status" "$out" "$(cat "$work/inflight.out")"
out=$("$hdc" gc --stopped 2>&1)
[ "$(labelled "$prefix"-stopped)" = 0 ] && [ "$(state_of "$prefix"-healthy)" = up ] \
    && ok "gc --stopped removes the stopped one, and only it" || bad "gc --stopped" "$out"

# ---- a time-to-live that passes ------------------------------------------------------------
# The time-to-live is long enough for an up on a loaded machine; the test then waits for the
# moment the network's hdc.expires label names, not for a guess.
"$hdc" up testdist --name "$prefix"-ttl --ttl 20s >/dev/null 2>"$work/ttl.err" \
    || bad "up --ttl" "$(cat "$work/ttl.err")"
[ "$(state_of "$prefix"-ttl)" = up ] && ok "a cluster with a time-to-live is up until it passes" \
    || bad "up --ttl state" "$("$hdc" ls)"
expires=$(docker network inspect -f '{{index .Labels "hdc.expires"}}' \
    $(docker network ls -q --filter "label=hdc.cluster=$prefix-ttl") 2>/dev/null)
case $expires in
'' | *[!0-9]*) bad "the hdc.expires label" "'$expires'" ;;
*) left=$((expires + 1 - $(date +%s))); [ $left -gt 0 ] && sleep $left ;;
esac
[ "$(state_of "$prefix"-ttl)" = expired ] && ok "then it is expired" || bad "expired" "$("$hdc" ls)"
out=$("$hdc" gc 2>&1)
[ "$(labelled "$prefix"-ttl)" = 0 ] && grep -q "$prefix-ttl is expired: removing it" <<<"$out" \
    && ok "gc removes it" || bad "gc of an expired cluster" "$out"

# ---- status of a cluster with a dead node -------------------------------------------------
docker kill $(docker ps -q --filter "label=hdc.cluster=$prefix-healthy" --filter "label=hdc.service=worker") >/dev/null
out=$("$hdc" status "$prefix"-healthy 2>&1); st=$?
[ $st = 1 ] && grep -q "is not whole: not running: worker1" <<<"$out" \
    && ok "status exits 1 naming the node that is down" || bad "status with a dead node" "status $st" "$out"
[ "$(state_of "$prefix"-healthy)" = degraded ] && ok "ls shows it degraded" || bad "degraded" "$("$hdc" ls)"

# ---- matrix killed while its command runs -----------------------------------------------------
fifo=$work/fifo.matrix
mkfifo "$fifo"
"$hdc" matrix testdist -- sh -c 'echo command-started; sleep 600' >"$fifo" 2>&1 &
mpid=$!
bg+=("$mpid")
mname=testdist-m$mpid
while IFS= read -r -t 300 line; do
    [[ $line == *command-started* ]] && kill -KILL "$mpid"
done <"$fifo"
wait "$mpid" 2>/dev/null
before=$(labelled "$mname")
[ "$(state_of "$mname")" = orphaned ] && ok "a killed matrix's cluster is orphaned" \
    || bad "killed matrix state" "$("$hdc" ls)"
out=$("$hdc" gc 2>&1)
[ "$before" -gt 0 ] && [ "$(labelled "$mname")" = 0 ] \
    && ok "gc removes what a matrix killed during its command left ($before objects)" \
    || bad "gc after a killed matrix" "before $before, after $(labelled "$mname")" "$out"

# ---- SIGTERM, twice, to up --rm-on-failure ----------------------------------------------------
up_until TERM " master created " "$prefix"-rm --rm-on-failure
[ $up_status = 1 ] && [ "$(labelled "$prefix"-rm)" = 0 ] \
    && grep -q "removing what they created (--rm-on-failure)" "$up_err" \
    && ok "SIGTERM to up --rm-on-failure: nothing left, no gc needed" \
    || bad "SIGTERM with --rm-on-failure" "status $up_status, $(labelled "$prefix"-rm) left" "$(cat "$up_err")"

# ---- down during up, 30 times ---------------------------------------------------------------------
leaks=0
for r in $(seq 1 30); do
    name=$prefix-race$r
    fifo=$work/fifo.$name
    mkfifo "$fifo"
    "$hdc" up testdist --name "$name" >/dev/null 2>"$fifo" &
    upid=$!
    # Once the up has made something (its first line), after a random while.
    exec {in}<"$fifo"
    IFS= read -r -t 120 line <&$in
    cat <&$in >/dev/null &
    drain=$!
    sleep "$(printf '0.%03d' $((RANDOM % 1500)))"
    "$hdc" down "$name" >/dev/null 2>&1
    wait "$upid"
    wait "$drain"
    exec {in}<&-
    rm -f "$fifo"
    n=$(labelled "$name")
    if [ "$n" != 0 ]; then
        leaks=$((leaks + 1))
        echo "    run $r: $n objects left"
        docker ps -a --filter "label=hdc.cluster=$name" --format '    {{.Names}} {{.State}}'
    fi
    "$hdc" down "$name" >/dev/null 2>&1
done
[ $leaks = 0 ] && ok "down during up of the same name, 30 runs: nothing leaks" \
    || bad "down during up leaked in $leaks of 30 runs"

# ---- build stopped by SIGTERM ---------------------------------------------------------------------
fifo=$work/fifo.build
mkfifo "$fifo"
"$hdc" build testdist --no-cache >/dev/null 2>"$fifo" &
bpid=$!
bg+=("$bpid")
sent=0
while IFS= read -r line; do
    printf '%s\n' "$line" >>"$work/build.err"
    if [ $sent = 0 ] && [[ $line == *" | "* ]]; then kill -TERM "$bpid"; sent=1; fi
done <"$fifo"
wait "$bpid"; st=$?
[ $st = 1 ] && grep -q "terminated: stopping the build" "$work/build.err" && grep -q "canceled" "$work/build.err" \
    && ok "build stops on SIGTERM and says so" || bad "build and SIGTERM" "status $st" "$(tail -5 "$work/build.err")"
"$hdc" build testdist >/dev/null 2>&1 # the images as they were, for whoever comes next

echo "$pass passed, $fail failed"
[ $fail = 0 ]
