#!/usr/bin/env bash
# `hdc fault` on a whole apache_2.6.0 cluster (on the test stand-in
# tarball, tests/fixtures/fakehadoop: NOT Apache Hadoop), against the main
# engine (nothing here restarts an engine):
#   a paused datanode: `hdc status` exits 1, in bounded time, showing it
#   paused; a paused namenode: status still ends (its probe's deadline),
#   red; unpaused: status green again;
#   `hdc fault NAME datanode1 disconnect --for 5`: while it runs the node is
#   off the network and status exits 1 naming it; then it exits 0, the node
#   is back at its own address with its alias, and status is green again;
#   the same with --for 600, interrupted (SIGINT): it exits 0 and the node
#   is back; SIGTERM to a service-wide pause: every instance unpaused;
#   an unknown target: exit 2, naming the nodes, nothing done;
#   a paused node and a disconnected one: `hdc down` leaves nothing.
# The kill + `hdc restart` part of issue 11 is tests/faults/test_stop_start.sh.
set -u
build=${HDC_BUILD_DIR:?}
src=${HDC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
hdc=$build/hdc
work=$(mktemp -d /tmp/hdc-fault-XXXXXX)
export HDC_LOGS_DIR=$work/logs HDC_STATE_DIR=$work/state
name=hdcft$$
bg=() # background hdc processes, stopped on exit

cleanup() {
    for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null; done
    "$hdc" down "$name" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib.sh"

# until_true SECONDS CMD...: runs CMD until it succeeds, at most SECONDS
# (the namenode's view of a datanode changes on its own clock, and Docker
# says nothing when a network endpoint is gone: no event to wait on).
until_true() {
    local deadline=$(($(date +%s) + $1))
    shift
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 1
    done
}

labelled() {
    { docker ps -aq --filter "label=hdc.cluster=$name"
      docker network ls -q --filter "label=hdc.cluster=$name"
      docker volume ls -q --filter "label=hdc.cluster=$name"; } | wc -l
}
status_green() { timeout 120 "$hdc" status "$name" >/dev/null 2>&1; }
# The node's networks as "NETWORK ADDRESS ALIAS..." (empty: off every network).
nets() {
    docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{$v.IPAddress}} {{join $v.Aliases " "}}{{end}}' \
        "${name}_$1"
}
off_network() { [ -z "$(nets "$1")" ]; }
# Back on hdc_<name> at its own address, with its hostname as an alias.
home() {
    local want
    want=$(docker inspect -f '{{index .Config.Labels "hdc.address"}}' "${name}_$1")
    [[ "$(nets "$1") " == "hdc_$name $want"*" $2 "* ]]
}
# wait_exit PID SECONDS: waits for a background hdc, bounded; its status in $st.
wait_exit() {
    local deadline=$(($(date +%s) + $2))
    while kill -0 "$1" 2>/dev/null; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            kill -KILL "$1" 2>/dev/null
            break
        fi
        sleep 0.2
    done
    wait "$1"
    st=$?
}

# ---- images (cached after the first build) ----------------------------------
if ! out=$("$src/tests/fixtures/fakehadoop/build.sh" 2.6.0 "$work/dist" 2>&1) ||
    ! out=$("$hdc" build-base --stand-in 2>&1) ||
    ! out=$("$hdc" build apache_2.6.0 --hadoop-tarball "$work/dist/hadoop-2.6.0.tar.gz" 2>&1); then
    bad "images" "$(tail -20 <<<"$out")"; finish
fi

# ---- up ------------------------------------------------------------------------------
if ! out=$("$hdc" up apache_2.6.0 --name "$name" --datanodes 2 2>&1); then
    bad "up" "$(tail -20 <<<"$out")"; finish
fi
status_green && ok "the cluster is up, status green" || bad "status after up" "$("$hdc" status "$name" 2>&1)"

# ---- usage ------------------------------------------------------------------------
out=$("$hdc" fault "$name" nosuchnode kill 2>&1); st=$?
[ $st = 2 ] && grep -q "has no node or service 'nosuchnode': its nodes are datanode1, datanode2," <<<"$out" \
    && [ "$(docker inspect -f '{{.State.Status}}' "${name}_datanode_1")" = running ] \
    && ok "an unknown target: exit 2, naming the nodes, nothing done" || bad "unknown target" "status $st" "$out"

# ---- pause ---------------------------------------------------------------------------
out=$("$hdc" fault "$name" datanode1 pause 2>&1); st=$?
[ $st = 0 ] && grep -q "\`hdc fault $name datanode1 unpause\` undoes it" <<<"$out" \
    && [ "$(docker inspect -f '{{.State.Status}}' "${name}_datanode_1")" = paused ] \
    && ok "pause: the node is paused, and the message says what undoes it" || bad "pause" "status $st" "$out"
out=$(timeout 120 "$hdc" status "$name" 2>&1); st=$?
[ $st = 1 ] && grep -Eq "^datanode +datanode1 +${name}_datanode_1 +paused " <<<"$out" \
    && grep -q "not running: datanode1 (paused)" <<<"$out" \
    && ok "status of a paused datanode ends, exit 1, showing it paused" || bad "status paused" "status $st" "$out"

# The namenode paused: the probes to it get no answer; status still ends.
"$hdc" fault "$name" namenode pause >/dev/null 2>&1
out=$(timeout 120 "$hdc" status "$name" 2>&1); st=$?
[ $st = 1 ] && grep -q "probe live-datanodes *NOT green" <<<"$out" \
    && ok "status of a paused namenode ends (the probe's deadline), exit 1, probe red" \
    || bad "status, namenode paused" "status $st" "$out"

out=$("$hdc" fault "$name" namenode unpause 2>&1 && "$hdc" fault "$name" datanode1 unpause 2>&1); st=$?
[ $st = 0 ] && [ "$(docker inspect -f '{{.State.Status}}' "${name}_datanode_1")" = running ] \
    && until_true 120 status_green \
    && ok "unpause: the nodes run, status green again" || bad "unpause" "status $st" "$out" "$("$hdc" status "$name" 2>&1)"

# ---- disconnect --for 5 ------------------------------------------------------------
"$hdc" fault "$name" datanode1 disconnect --for 5 >"$work/for5.out" 2>&1 &
pid=$!
bg+=("$pid")
if until_true 30 off_network datanode_1; then
    out=$(timeout 120 "$hdc" status "$name" 2>&1); st=$?
    [ $st = 1 ] && grep -q "off its network: datanode1" <<<"$out" \
        && ok "while disconnected: the node is off the network, status exit 1 names it" \
        || bad "status while disconnected" "status $st" "$out"
else
    bad "disconnect --for 5: the node never left the network" "$(cat "$work/for5.out")"
fi
wait_exit "$pid" 60
[ $st = 0 ] && grep -q "datanode1 reconnected" "$work/for5.out" && home datanode_1 datanode1 \
    && ok "disconnect --for 5: exits 0, the node back at its address with its alias" \
    || bad "disconnect --for 5: undone" "status $st" "$(cat "$work/for5.out")" "$(nets datanode_1)"
until_true 120 status_green && ok "after the disconnect: status green again" \
    || bad "green after disconnect" "$("$hdc" status "$name" 2>&1)"

# ---- disconnect --for 600, interrupted -------------------------------------------
"$hdc" fault "$name" datanode1 disconnect --for 600 >"$work/int.out" 2>&1 &
pid=$!
bg+=("$pid")
if until_true 30 off_network datanode_1; then
    kill -INT "$pid"
    wait_exit "$pid" 60
    [ $st = 0 ] && grep -q "interrupted: undoing the disconnect" "$work/int.out" && home datanode_1 datanode1 \
        && ok "disconnect --for 600, SIGINT: exits 0, the node reconnected" \
        || bad "interrupted disconnect" "status $st" "$(cat "$work/int.out")" "$(nets datanode_1)"
else
    bad "disconnect --for 600: the node never left the network" "$(cat "$work/int.out")"
fi

# A service: every instance; SIGTERM undoes it as SIGINT does.
"$hdc" fault "$name" datanode pause --for 600 >"$work/svc.out" 2>&1 &
pid=$!
bg+=("$pid")
both_paused() {
    [ "$(docker inspect -f '{{.State.Status}}' "${name}_datanode_1" "${name}_datanode_2" | sort -u)" = paused ]
}
if until_true 30 both_paused; then
    kill -TERM "$pid"
    wait_exit "$pid" 60
    [ $st = 0 ] && [ "$(docker inspect -f '{{.State.Status}}' "${name}_datanode_1" "${name}_datanode_2" | sort -u)" = running ] \
        && ok "a service paused --for 600, SIGTERM: every instance unpaused, exit 0" \
        || bad "service pause, SIGTERM" "status $st" "$(cat "$work/svc.out")"
else
    bad "pause of a service: not every instance paused" "$(cat "$work/svc.out")"
fi

# ---- down heals first ------------------------------------------------------------------
"$hdc" fault "$name" datanode1 pause >/dev/null 2>&1
"$hdc" fault "$name" datanode2 disconnect >/dev/null 2>&1
out=$("$hdc" down "$name" 2>&1); st=$?
[ $st = 0 ] && [ "$(labelled)" = 0 ] && ok "down of a cluster with a paused node and a disconnected one: nothing left" \
    || bad "down after faults" "status $st" "$out" "$(labelled) objects left"

finish
