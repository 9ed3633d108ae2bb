#!/usr/bin/env bash
# A cluster survives a restart of its Docker engine: on the private engine
# of the fault tests (fixture private_engine, engine_lib.sh; never the
# main one), an apache_2.6.0 cluster on the test stand-in tarball
# (tests/fixtures/fakehadoop: NOT Apache Hadoop):
#   a file put into HDFS; `hdc logs -f` running when the engine stops
#   ends saying why (the engine stops the containers first);
#   after the restart every container has exited and `hdc ls` calls the
#   cluster stopped; `hdc start` brings it back: probes green, the file
#   there, the endpoints it prints are `hdc status --json`'s;
#   logs/NAME/namenode.log holds the namenode's run before the restart and
#   its run after, each once, and its last line before the restart once.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/engine_lib.sh"
build=${HDC_BUILD_DIR:?}
hdc=$build/hdc
work=$(mktemp -d /tmp/hdc-engine-restart-XXXXXX)
export HDC_LOGS_DIR=$work/logs HDC_STATE_DIR=$work/state
name=er$$
logs_pid=

cleanup() {
    [ -n "$logs_pid" ] && kill "$logs_pid" 2>/dev/null
    pe_run "$hdc" down "$name" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib.sh"

if ! pe_pid >/dev/null; then
    bad "no private engine: engine_setup.sh (fixture private_engine) did not run or failed"; finish
fi
if ! pe_docker image inspect hdc/apache_2.6.0-hadoop:latest >/dev/null 2>&1; then
    bad "the private engine has no hdc/apache_2.6.0-hadoop image (engine_setup.sh loads it)"; finish
fi

nn_log=$HDC_LOGS_DIR/$name/namenode.log
startups() { grep -c 'STARTUP_MSG: Starting NameNode' "$nn_log" 2>/dev/null; }

# ---- up, a file ------------------------------------------------------------------
if ! out=$(pe_run "$hdc" up apache_2.6.0 --name "$name" --datanodes 1 2>&1); then
    bad "up on the private engine" "$(tail -20 <<<"$out")"; finish
fi
bytes="kept across an engine restart $$"
if pe_run "$hdc" exec "$name" namenode -- sh -c "printf '%s\n' '$bytes' >/tmp/f && hdfs dfs -put /tmp/f /user/hdc/kept.txt" >/dev/null 2>&1; then
    ok "a file is put into HDFS"
else
    bad "put"; finish
fi

# ---- the engine restarts -----------------------------------------------------------
pe_run "$hdc" logs "$name" namenode -f >"$work/follow.out" 2>"$work/follow.err" &
logs_pid=$!
# The follower is attached once it has printed the namenode's first line.
for _ in $(seq 1 100); do [ -s "$work/follow.out" ] && break; sleep 0.1; done
last_before=$(tail -1 "$nn_log")
pe_restart || { bad "the private engine did not come back"; finish; }
wait "$logs_pid"; st=$?
logs_pid=
# A stopping dockerd stops its containers first: the follower sees them
# stop and says so (exit 0); were the engine gone with them running, it
# says that and exits 1 (test_logs_follow.sh). Never silent.
{ { [ $st = 0 ] && grep -q "every container of $name has stopped" "$work/follow.err"; } ||
    { [ $st = 1 ] && grep -q "engine" "$work/follow.err"; }; } \
    && ok "logs -f ends saying why when the engine stops ($(head -1 "$work/follow.err"))" \
    || bad "logs -f when the engine went" "status $st" "$(cat "$work/follow.err")"
running=$(pe_docker ps -q --filter "label=hdc.cluster=$name" | wc -l)
state=$(pe_run "$hdc" --json ls | jq -r --arg n "$name" '.[] | select(.name == $n) | .state')
[ "$running" = 0 ] && [ "$state" = stopped ] && ok "after the restart: nothing runs, and ls says stopped" \
    || bad "after the restart" "running $running" "state $state"

# ---- start -------------------------------------------------------------------------
out=$(pe_run "$hdc" start "$name" 2>&1); st=$?
printed=$(sed -n 's/^  namenode *http-ui *50070 -> \(127\.0\.0\.1:[0-9]*\)$/\1/p' <<<"$out")
said=$(pe_run "$hdc" --json status "$name" 2>/dev/null |
    jq -r '.nodes[] | select(.hostname == "namenode") | .endpoints[] | select(.port == 50070)
           | "\(.host_ip):\(.host_port)"')
[ $st = 0 ] && [ -n "$printed" ] && [ "$printed" = "$said" ] \
    && ok "start after the engine restart: up, and the endpoints it prints are status's" \
    || bad "start" "status $st" "$out" "status says $said"
pe_run "$hdc" status "$name" >/dev/null 2>&1 && ok "status: every probe green" \
    || bad "status after start" "$(pe_run "$hdc" status "$name" 2>&1)"
got=$(pe_run "$hdc" exec "$name" namenode -- hdfs dfs -cat /user/hdc/kept.txt 2>&1)
[ "$got" = "$bytes" ] && ok "the HDFS file survived the engine restart" || bad "file" "$got"

# ---- the logs: both runs, nothing twice --------------------------------------------
# The writer `start` left follows on; what the first run said last is in
# the file once, and the second run's start is there too.
for _ in $(seq 1 100); do [ "$(startups)" = 2 ] && break; sleep 0.1; done
[ "$(startups)" = 2 ] && ok "namenode.log holds the run before the restart and the run after" \
    || bad "namenode.log: $(startups) startups (want 2)" "$(grep -n 'STARTUP_MSG' "$nn_log" 2>&1)"
n=$(grep -cxF -- "$last_before" "$nn_log")
[ -n "$last_before" ] && [ "$n" = 1 ] && ok "the last line before the restart is there once" \
    || bad "last line before the restart: $n times" "$last_before"
# The daemon's own lines carry the time to the millisecond: none twice.
dups=$(grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2} ' "$nn_log" | sort | uniq -d | head -5)
[ -z "$dups" ] && ok "no line of the namenode's written twice" || bad "lines twice" "$dups"

finish
