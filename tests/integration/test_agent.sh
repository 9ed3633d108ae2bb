#!/usr/bin/env bash
# hdc-agent as a process on the host, against a real ZooKeeper server
# (tests/integration/zk-server.sh); znodes are read and written with
# Debian's zkCli.sh. Each case prints what it proves and its timings.
#
#   boot_then_up              /NAME is created as "wait"; the daemon starts only
#                             after "boot"; all --ready kinds pass; "up" is written
#   exit_status_is_reported   daemon exits 3 -> failed:exited with status 3, agent exits 3
#   readiness_timeout         --ready never met -> failed:not ready after 3s, the
#                             daemon is killed, agent exits 1
#   readiness_pacing          a slow cmd: check never runs twice at once, and the
#                             next round waits at least as long as the check took
#   sigterm_stops_daemon      SIGTERM to the agent reaches the daemon; it is gone
#   pidfile_daemon            a daemon that forks into the background is followed
#   pid1_reaps_orphans        as PID 1 (unshare -fp), orphans left by the daemon
#                             are reaped: no zombie stays
#   boot_timeout              no "boot" within --boot-timeout: exit 75 (abandoned),
#                             the reason logged, no daemon, the znode untouched;
#                             "boot" in time, or "up" on a restart: the daemon runs
#                             past the deadline; a ZooKeeper restart while waiting
#                             does not reset the deadline
#   bad_input                 unreachable ZooKeeper: a clear error within
#                             --zk-timeout; usage errors exit 2 (bad --boot-timeout too)
#   valgrind                  whole runs under valgrind (a daemon never ready, an
#                             abandoned agent): no errors, no leaks
set -euo pipefail

BUILD=${HDC_BUILD_DIR:?HDC_BUILD_DIR must point at the build directory}
SRC=${HDC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
AGENT=$BUILD/hdc-agent
# A sanitizer build also has the agent sanitized, for these host-side runs.
[ -x "$BUILD/hdc-agent-asan" ] && AGENT=$BUILD/hdc-agent-asan
ZKSERVER=$SRC/tests/integration/zk-server.sh
ZKCLI=/usr/share/zookeeper/bin/zkCli.sh

[ -x "$AGENT" ] || { echo "no $AGENT: build the hdc-agent target" >&2; exit 1; }
[ -x "$ZKCLI" ] || { echo "no $ZKCLI: install Debian's zookeeper package" >&2; exit 1; }

WORK=$(mktemp -d /tmp/hdc-agent-test-XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    bash "$ZKSERVER" stop "$WORK/zk" || true
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(bash "$ZKSERVER" start "$WORK/zk")
ZK=127.0.0.1:$PORT
echo "# ZooKeeper at $ZK"

FAILED=0
fail() { echo "FAIL: $*" >&2; FAILED=1; }
now_ms() { date +%s%3N; }

# zkget PATH: the node's value, or "<none>".
zkget() {
    local out
    out=$("$ZKCLI" -server "$ZK" get "$1" 2>&1) || true
    if grep -q "Node does not exist" <<<"$out"; then
        echo "<none>"
    else
        # zkCli prints its session events at no fixed place among the output.
        grep -v -E '^(WatchedEvent |WATCHER::|$)' <<<"$out" | tail -n 1
    fi
}
zkset() {
    "$ZKCLI" -server "$ZK" set "$1" "$2" >/dev/null 2>&1 || {
        "$ZKCLI" -server "$ZK" create "$1" "$2" >/dev/null 2>&1
    }
}
# wait_value PATH GLOB SECONDS: polls until the value matches.
wait_value() {
    local v end=$(($(date +%s) + $3))
    while :; do
        v=$(zkget "$1")
        # shellcheck disable=SC2053
        [[ $v == $2 ]] && { echo "$v"; return 0; }
        [ "$(date +%s)" -ge "$end" ] && { echo "$v"; return 1; }
        sleep 0.2
    done
}
# wait_exit PID SECONDS: sets RC to the agent's exit status (it is our
# child), or "timeout". Not in a $(...): only this shell can wait for it.
wait_exit() {
    local pid=$1 end=$(($(date +%s) + $2))
    RC=timeout
    while alive "$pid"; do
        [ "$(date +%s)" -ge "$end" ] && return 0
        sleep 0.05
    done
    RC=0
    wait "$pid" || RC=$?
}
alive() {
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ]
}
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# start_agent NAME LOG ARGS...: runs the agent in the background; sets APID.
start_agent() {
    local name=$1 log=$2
    shift 2
    "$AGENT" --zk "$ZK" --service "$name" "$@" 2>"$log" &
    APID=$!
    PIDS+=("$APID")
}

# ---------------------------------------------------------------------------
echo "== boot_then_up"
HP=$(free_port)
start_agent svc1 "$WORK/svc1.log" --ready "tcp:$HP" --ready "http:$HP/" \
    --ready "cmd:test -e $WORK/svc1.started" \
    --ready "sh:test -e '$WORK/svc1.started' && test \"\$(echo ok)\" = ok" --ready-timeout 60 \
    -- python3 -c "
import http.server, socketserver, sys
open('$WORK/svc1.started', 'w').close()
http.server.HTTPServer(('127.0.0.1', $HP), http.server.SimpleHTTPRequestHandler).serve_forever()"
v=$(wait_value /svc1 wait 20) || fail "svc1: /svc1 is '$v', expected 'wait' (created by the agent)"
sleep 1
[ -e "$WORK/svc1.started" ] && fail "svc1: the daemon started before boot"
t0=$(now_ms)
zkset /svc1 boot
v=$(wait_value /svc1 up 30) || fail "svc1: /svc1 is '$v', expected 'up'"
echo "# svc1: boot -> up seen by the test in $(($(now_ms) - t0)) ms (includes zkCli start-up, ~0.5 s per call)"
[ -e "$WORK/svc1.started" ] || fail "svc1: daemon never ran"
DPID=$(pgrep -P "$APID" | head -1 || true)
[ -n "$DPID" ] || fail "svc1: no daemon process under the agent"
kill -TERM "$APID"
wait_exit "$APID" 20; rc=$RC
[ "$rc" = 143 ] || fail "svc1: agent exit $rc, expected 143 (python killed by SIGTERM)"
[ -n "$DPID" ] && alive "$DPID" && fail "svc1: daemon $DPID still alive"
v=$(zkget /svc1)
[[ $v == "failed:stopped by signal 15"* ]] || fail "svc1: final value '$v'"
echo "# svc1: final value '$v', exit $rc"
grep -q "ready: wrote /svc1 = up" "$WORK/svc1.log" || fail "svc1: log lacks the up line"

# ---------------------------------------------------------------------------
echo "== exit_status_is_reported"
start_agent svc2 "$WORK/svc2.log" -- bash -c 'sleep 0.5; exit 3'
wait_value /svc2 wait 20 >/dev/null || fail "svc2: never created"
zkset /svc2 boot
wait_exit "$APID" 30; rc=$RC
[ "$rc" = 3 ] || fail "svc2: agent exit $rc, expected 3"
v=$(zkget /svc2)
[ "$v" = "failed:exited with status 3" ] || fail "svc2: value '$v'"
echo "# svc2: value '$v', exit $rc"

# ---------------------------------------------------------------------------
echo "== readiness_timeout"
CLOSED=$(free_port)
start_agent svc3 "$WORK/svc3.log" --ready "tcp:$CLOSED" --ready-timeout 3 -- sleep 1000
wait_value /svc3 wait 20 >/dev/null || fail "svc3: never created"
zkset /svc3 boot
t0=$(now_ms)
sleep 0.5
DPID=$(pgrep -P "$APID" | head -1 || true)
wait_exit "$APID" 30; rc=$RC
took=$(($(now_ms) - t0))
[ "$rc" = 1 ] || fail "svc3: agent exit $rc, expected 1"
v=$(zkget /svc3)
[[ $v == "failed:not ready after 3s"* ]] || fail "svc3: value '$v'"
[ -n "$DPID" ] || fail "svc3: no daemon seen"
[ -n "$DPID" ] && alive "$DPID" && fail "svc3: daemon $DPID still alive"
echo "# svc3: value '$v', exit $rc, agent gone ${took} ms after zkCli wrote boot"
grep "not ready yet" "$WORK/svc3.log" | head -2 | sed 's/^/# log: /'

# ---------------------------------------------------------------------------
echo "== readiness_pacing"
# The check stamps its start and end (ns), takes 0.3 s, and passes on its
# fourth run. Each run must start after the previous one ended, and at
# least as long after it as that run took (a JVM check's CPU is not spent
# back to back).
cat >"$WORK/check.sh" <<EOF
#!/bin/sh
echo "start \$(date +%s%N)" >>"$WORK/check.times"
sleep 0.3
n=\$(grep -c start "$WORK/check.times")
echo "end \$(date +%s%N)" >>"$WORK/check.times"
[ "\$n" -ge 4 ]
EOF
chmod +x "$WORK/check.sh"
start_agent svcp "$WORK/svcp.log" --ready "cmd:$WORK/check.sh" --ready-timeout 60 -- sleep 1000
wait_value /svcp wait 20 >/dev/null || fail "svcp: never created"
zkset /svcp boot
v=$(wait_value /svcp up 30) || fail "svcp: value '$v', expected up"
kill -TERM "$APID" 2>/dev/null || true
wait_exit "$APID" 30
pacing=$(awk '
    $1 == "start" { if (open) { print "overlap"; exit }
                    if (last_end && $2 - last_end < last_len) bad++
                    s = $2; open = 1; runs++ }
    $1 == "end"   { open = 0; last_len = $2 - s; last_end = $2 }
    END { if (!bad) print "ok " runs; else print "short pause " bad }' "$WORK/check.times")
[ "$pacing" = "ok 4" ] || fail "svcp: readiness pacing: $pacing ($(tr '\n' ' ' <"$WORK/check.times"))"
echo "# svcp: $pacing runs, one at a time, each pause at least the run before it"

# ---------------------------------------------------------------------------
echo "== sigterm_stops_daemon"
start_agent svc4 "$WORK/svc4.log" -- sleep 1000
wait_value /svc4 wait 20 >/dev/null || fail "svc4: never created"
zkset /svc4 boot
v=$(wait_value /svc4 up 20) || fail "svc4: value '$v', expected up"
DPID=$(pgrep -P "$APID" | head -1 || true)
[ -n "$DPID" ] || fail "svc4: no sleep under the agent"
t0=$(now_ms)
kill -TERM "$APID"
wait_exit "$APID" 20; rc=$RC
echo "# svc4: agent exited ${rc} $(($(now_ms) - t0)) ms after SIGTERM"
[ "$rc" = 143 ] || fail "svc4: agent exit $rc, expected 143"
[ -n "$DPID" ] && alive "$DPID" && fail "svc4: sleep $DPID still alive"
v=$(zkget /svc4)
[[ $v == "failed:stopped by signal 15"* ]] || fail "svc4: value '$v'"

# SIGTERM while waiting for boot: the agent just leaves.
start_agent svc4b "$WORK/svc4b.log" -- sleep 1000
wait_value /svc4b wait 20 >/dev/null || fail "svc4b: never created"
kill -TERM "$APID"
wait_exit "$APID" 20; rc=$RC
[ "$rc" = 143 ] || fail "svc4b: agent exit $rc, expected 143"
[ "$(zkget /svc4b)" = wait ] || fail "svc4b: value changed"

# ---------------------------------------------------------------------------
echo "== pidfile_daemon"
# The launcher backgrounds the real daemon, writes its PID and exits 0, as
# hadoop-daemon.sh start does.
cat >"$WORK/launch.sh" <<EOF
#!/usr/bin/env bash
( trap 'exit 7' TERM; while :; do sleep 0.1; done ) </dev/null >/dev/null 2>&1 &
echo \$! >"$WORK/daemon.pid"
exit 0
EOF
chmod +x "$WORK/launch.sh"
start_agent svc5 "$WORK/svc5.log" --pidfile "$WORK/daemon.pid" -- "$WORK/launch.sh"
wait_value /svc5 wait 20 >/dev/null || fail "svc5: never created"
zkset /svc5 boot
v=$(wait_value /svc5 up 20) || fail "svc5: value '$v', expected up"
DPID=$(cat "$WORK/daemon.pid" 2>/dev/null || true)
[ -n "$DPID" ] && alive "$DPID" || fail "svc5: followed daemon not running"
grep -q "following the daemon's pid $DPID" "$WORK/svc5.log" || fail "svc5: not following $DPID"
# The daemon ends by itself (status 7): the agent reports it and exits 7.
t0=$(now_ms)
kill -TERM "$DPID"
wait_exit "$APID" 20; rc=$RC
v=$(zkget /svc5)
echo "# svc5: followed pid $DPID; after it ended: value '$v', exit $rc, $(($(now_ms) - t0)) ms"
[ "$rc" = 7 ] || fail "svc5: agent exit $rc, expected 7"
[ "$v" = "failed:daemon (pid $DPID) exited with status 7" ] || fail "svc5: value '$v'"

# SIGTERM to the agent reaches the followed daemon too.
start_agent svc6 "$WORK/svc6.log" --pidfile "$WORK/daemon.pid" -- "$WORK/launch.sh"
wait_value /svc6 wait 20 >/dev/null || fail "svc6: never created"
zkset /svc6 boot
wait_value /svc6 up 20 >/dev/null || fail "svc6: never up"
DPID=$(cat "$WORK/daemon.pid")
kill -TERM "$APID"
wait_exit "$APID" 20; rc=$RC
[ "$rc" = 7 ] || fail "svc6: agent exit $rc, expected 7"
alive "$DPID" && fail "svc6: followed daemon $DPID still alive"
v=$(zkget /svc6)
[[ $v == "failed:stopped by signal 15"* ]] || fail "svc6: value '$v'"
echo "# svc6: value '$v'"

# ---------------------------------------------------------------------------
echo "== pid1_reaps_orphans"
# In a new PID namespace the agent is PID 1; the daemon leaves orphans that
# exit at once, then counts zombies. Without the reaper they would stay.
cat >"$WORK/orphans.sh" <<EOF
#!/usr/bin/env bash
for i in 1 2 3 4 5; do ( sleep 0.1 & ) ; done
sleep 1
ps -eo pid=,ppid=,stat=,comm= >"$WORK/ps.txt"
awk '\$3 ~ /^Z/' "$WORK/ps.txt" | wc -l >"$WORK/zombies.txt"
exit 5
EOF
chmod +x "$WORK/orphans.sh"
unshare -fp --mount-proc "$AGENT" --zk "$ZK" --service svc9 -- "$WORK/orphans.sh" \
    2>"$WORK/svc9.log" &
APID=$!
PIDS+=("$APID")
wait_value /svc9 wait 20 >/dev/null || fail "svc9: never created"
zkset /svc9 boot
wait_exit "$APID" 30; rc=$RC
[ "$rc" = 5 ] || fail "svc9: exit $rc, expected 5"
awk '$1 == 1 && $4 ~ /^hdc-agent/' "$WORK/ps.txt" | grep -q . \
    || fail "svc9: the agent was not PID 1"
[ "$(cat "$WORK/zombies.txt" 2>/dev/null)" = 0 ] || { fail "svc9: zombies left"; cat "$WORK/ps.txt" >&2; }
echo "# svc9: as PID 1, zombies after 5 orphans exited: $(cat "$WORK/zombies.txt"), exit $rc"

# ---------------------------------------------------------------------------
echo "== boot_timeout"
# Nobody writes "boot": the agent gives up at the deadline, says why, starts
# nothing and leaves the znode as it was.
t0=$(now_ms)
HDC_CLUSTER=c11 start_agent svc11 "$WORK/svc11.log" --boot-timeout 2 -- touch "$WORK/svc11.started"
wait_exit "$APID" 20; rc=$RC
took=$(($(now_ms) - t0))
echo "# svc11: no boot: exit $rc after $took ms"
grep "did not read" "$WORK/svc11.log" | sed 's/^/# log: /'
[ "$rc" = 75 ] || fail "svc11: exit $rc, expected 75 (abandoned)"
{ [ "$took" -ge 1900 ] && [ "$took" -le 8000 ]; } || fail "svc11: exited after $took ms, expected about 2000"
grep -qF "/svc11 did not read 'boot' within 2 s: the \`hdc up\` that created this cluster is gone; exiting with status 75 without starting touch (\`hdc down c11\` removes the cluster)" \
    "$WORK/svc11.log" || fail "svc11: the log does not say why it exited"
[ -e "$WORK/svc11.started" ] && fail "svc11: the daemon ran"
v=$(zkget /svc11)
[ "$v" = wait ] || fail "svc11: value '$v', expected 'wait' (an abandoned agent writes nothing)"

# "boot" before the deadline (svc12), and "up" on a restart (svc13): the
# daemons start and are still running well past the deadline.
zkset /svc13 up
t0=$(now_ms)
start_agent svc12 "$WORK/svc12.log" --boot-timeout 8 -- sleep 1000
A12=$APID
start_agent svc13 "$WORK/svc13.log" --boot-timeout 2 -- sleep 1000
A13=$APID
wait_value /svc12 wait 20 >/dev/null || fail "svc12: never created"
zkset /svc12 boot
tb=$(($(now_ms) - t0))
[ "$tb" -lt 8000 ] || fail "svc12: boot written only after $tb ms, past the 8 s deadline: inconclusive"
v=$(wait_value /svc12 up 20) || fail "svc12: value '$v', expected up"
v=$(wait_value /svc13 up 20) || fail "svc13: value '$v', expected up"
while [ $(($(now_ms) - t0)) -lt 9500 ]; do sleep 0.1; done
for pair in "svc12:$A12" "svc13:$A13"; do
    name=${pair%%:*} pid=${pair#*:}
    alive "$pid" || fail "$name: the agent is gone past its deadline"
    [ -n "$(pgrep -P "$pid" || true)" ] || fail "$name: no daemon under the agent past its deadline"
    grep -q "did not read" "$WORK/$name.log" && fail "$name: the deadline fired after the daemon started"
    v=$(zkget "/$name")
    [ "$v" = up ] || fail "$name: value '$v' past the deadline, expected up"
done
echo "# svc12: boot written ${tb} ms after the start, daemon still running at 9.5 s (deadline 8 s)"
echo "# svc13: 'up' (a restart) read at once, daemon still running at 9.5 s (deadline 2 s)"
kill -TERM "$A12" "$A13"
wait_exit "$A12" 20; rc=$RC
[ "$rc" = 143 ] || fail "svc12: exit $rc after SIGTERM, expected 143"
wait_exit "$A13" 20; rc=$RC
[ "$rc" = 143 ] || fail "svc13: exit $rc after SIGTERM, expected 143"

# ZooKeeper restarts while the agent waits: the agent reconnects, and the
# deadline still counts from the agent's start.
t0=$(now_ms)
start_agent svc14 "$WORK/svc14.log" --boot-timeout 8 -- touch "$WORK/svc14.started"
wait_value /svc14 wait 20 >/dev/null || fail "svc14: never created"
bash "$ZKSERVER" stop "$WORK/zk"
sleep 0.5
bash "$ZKSERVER" start "$WORK/zk" >/dev/null
tr=$(($(now_ms) - t0))
wait_exit "$APID" 30; rc=$RC
took=$(($(now_ms) - t0))
echo "# svc14: ZooKeeper back ${tr} ms after the start; agent exit $rc after $took ms (deadline 8 s)"
grep -E "ZooKeeper: |did not read" "$WORK/svc14.log" | sed 's/^/# log: /'
[ "$rc" = 75 ] || fail "svc14: exit $rc, expected 75"
{ [ "$took" -ge 7900 ] && [ "$took" -le 9500 ]; } \
    || fail "svc14: exited after $took ms, expected about 8000 (from the start, not the reconnection)"
awk '/ZooKeeper: (reconnected|new session)/ { back = NR } /did not read/ { gone = NR }
     END { exit !(back && gone && back < gone) }' "$WORK/svc14.log" \
    || fail "svc14: no reconnection before the deadline (inconclusive if ZooKeeper came back late)"
[ -e "$WORK/svc14.started" ] && fail "svc14: the daemon ran"

# ---------------------------------------------------------------------------
echo "== bad_input"
t0=$(now_ms)
rc=0
out=$("$AGENT" --zk "127.0.0.1:$CLOSED" --zk-timeout 2 --service x -- true 2>&1) || rc=$?
took=$(($(now_ms) - t0))
echo "# unreachable: exit $rc after $took ms: $out"
[ "$rc" = 1 ] || fail "unreachable: exit $rc, expected 1"
grep -q "ZooKeeper at 127.0.0.1:$CLOSED did not answer within 2 s" <<<"$out" \
    || fail "unreachable: unclear message"
rc=0
"$AGENT" --zk "$ZK" --service x 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "usage: no daemon: exit $rc, expected 2"
rc=0
"$AGENT" --zk "$ZK" --service x --ready bogus:1 -- true 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "usage: bad --ready: exit $rc, expected 2"
for bad in x -1 "" +3 " 3" 2s 99999999999; do
    rc=0
    out=$("$AGENT" --zk "$ZK" --service x --boot-timeout "$bad" -- true 2>&1) || rc=$?
    [ "$rc" = 2 ] || fail "usage: --boot-timeout '$bad': exit $rc, expected 2"
    grep -qF "hdc-agent: bad --boot-timeout $bad (whole seconds; 0: no deadline)" <<<"$out" \
        || fail "usage: --boot-timeout '$bad': unclear message: $out"
done
echo "# --boot-timeout x: $("$AGENT" --zk "$ZK" --service x --boot-timeout x -- true 2>&1 | head -1)"
# 0: no deadline, accepted (here ZooKeeper is unreachable: exit 1, not 2).
rc=0
"$AGENT" --zk "127.0.0.1:$CLOSED" --zk-timeout 1 --service x --boot-timeout 0 -- true 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "--boot-timeout 0: exit $rc, expected 1 (accepted; ZooKeeper unreachable)"
# --user: the daemon runs as that user, with its HOME.
start_agent svc10 "$WORK/svc10.log" --user nobody -- /bin/sh -c \
    '[ "$(id -un)" = nobody ] && [ "$(id -u)" != 0 ] && [ "$USER" = nobody ] && exit 42; exit 1'
wait_value /svc10 wait 20 >/dev/null || fail "svc10: never created"
zkset /svc10 boot
wait_exit "$APID" 20; rc=$RC
[ "$rc" = 42 ] || fail "svc10: --user nobody: exit $rc, expected 42 (the daemon's proof it ran as nobody)"
echo "# svc10: --user nobody: daemon's exit $rc"
# A daemon that cannot run: failed:cannot run ..., exit 127.
start_agent svc7 "$WORK/svc7.log" -- /nonexistent/daemon
wait_value /svc7 wait 20 >/dev/null || fail "svc7: never created"
zkset /svc7 boot
wait_exit "$APID" 20; rc=$RC
v=$(zkget /svc7)
[ "$rc" = 127 ] || fail "svc7: exit $rc, expected 127"
[[ $v == "failed:cannot run /nonexistent/daemon"* ]] || fail "svc7: value '$v'"
echo "# svc7: value '$v'"

# ---------------------------------------------------------------------------
echo "== valgrind"
# Read whole, not piped into grep -q: under pipefail, ldd killed by the
# SIGPIPE of a grep that has seen enough would read as "not sanitized".
libs=$(ldd "$AGENT" 2>/dev/null || true)
if [[ $libs == *libasan* ]]; then
    # A sanitizer build (HDC_SANITIZE): valgrind cannot run it, and every
    # case above already ran under ASan/LeakSanitizer, whose findings would
    # have changed the agent's exit status (a leak exits 23).
    echo "# sanitizer build: every run above was checked by ASan and LeakSanitizer instead"
elif command -v valgrind >/dev/null 2>&1; then
    valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --show-leak-kinds=definite,indirect --log-file="$WORK/vg.log" \
        "$AGENT" --zk "$ZK" --service svc8 --ready "tcp:$CLOSED" --ready "cmd:true" \
        --ready-timeout 2 -- sleep 1000 2>"$WORK/svc8.log" &
    APID=$!
    PIDS+=("$APID")
    wait_value /svc8 wait 60 >/dev/null || fail "svc8: never created"
    zkset /svc8 boot
    wait_exit "$APID" 60; rc=$RC
    v=$(zkget /svc8)
    echo "# valgrind run: exit $rc, value '$v'"
    [ "$rc" = 1 ] || { fail "valgrind: exit $rc, expected 1"; cat "$WORK/vg.log" >&2; }
    [ -s "$WORK/vg.log" ] && { echo "# valgrind said:"; sed 's/^/# /' "$WORK/vg.log"; }
    # An abandoned agent: its deadline passes during the wait for boot.
    rc=0
    valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --show-leak-kinds=definite,indirect --log-file="$WORK/vg2.log" \
        "$AGENT" --zk "$ZK" --service svc15 --boot-timeout 4 -- true 2>"$WORK/svc15.log" || rc=$?
    echo "# valgrind run, abandoned: exit $rc"
    [ "$rc" = 75 ] || { fail "valgrind: abandoned: exit $rc, expected 75"; cat "$WORK/vg2.log" >&2; }
else
    fail "valgrind is not installed (scripts/setup.sh installs it)"
fi

if [ "$FAILED" != 0 ]; then
    for f in "$WORK"/*.log; do echo "--- $f"; cat "$f"; done >&2
    exit 1
fi
echo "all agent cases passed"
