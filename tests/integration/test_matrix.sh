#!/usr/bin/env bash
# `hdc matrix` end to end with the test distribution (tests/e2e/testdist)
# against the real dockerd:
#   bad usage (unknown DIST, a DIST twice, no `--`, no CMD, bad --parallel)
#   exits 2 and creates nothing; a 2-DIST matrix where testdist passes and
#   testdist_crash fails to come up exits 1 with a JUnit report of one pass
#   and one failure (the bootstrap message) that validates against the
#   junit-10 shaped schema in tests/fixtures/junit, the passing command's
#   output in its system-out and in logs/<cluster>/matrix.log, a logs bundle
#   for the failed one and nothing left behind; a failing command is a
#   failure "... exited with status N" and a client node that fails one of
#   type client; --keep-failed keeps the failed clusters and --parallel 1
#   brings them up one at a time; a passing run exits 0 and --keep keeps
#   its cluster; SIGINT during the command or during the ups tears
#   everything down and exits 1 with the report written.
set -u
build=${HDC_BUILD_DIR:?}
src=${HDC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
hdc=$build/hdc
xsd=$src/tests/fixtures/junit/junit.xsd
export HDC_PLUGIN_PATH=$build/e2e-plugins
work=$(mktemp -d /tmp/hdc-matrix-XXXXXX)
export HDC_LOGS_DIR=$work/logs HDC_STATE_DIR=$work/state
names=()                          # every cluster a run of this test made

cleanup() {
    for n in "${names[@]}"; do
        "$hdc" down "$n" >/dev/null 2>&1
    done
    rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib.sh"

labelled() { # objects labelled hdc.cluster=NAME: containers, networks, volumes
    { docker ps -aq --filter "label=hdc.cluster=$1"
      docker network ls -q --filter "label=hdc.cluster=$1"
      docker volume ls -q --filter "label=hdc.cluster=$1"; } | wc -l
}

# Runs hdc matrix ARGS... with its pid known (the cluster names carry it):
# sets st, pid, and writes $work/<tag>.out and .err.
matrix() { # TAG ARGS...
    local tag=$1
    shift
    "$hdc" matrix "$@" >"$work/$tag.out" 2>"$work/$tag.err" &
    pid=$!
    wait $pid
    st=$?
}

xpath() { xmllint --xpath "$1" "$2" 2>/dev/null; }

if ! command -v xmllint >/dev/null; then
    echo "xmllint is missing: install libxml2-utils (scripts/setup.sh does)"; exit 1
fi

# The images: base from debian:bookworm (the stand-ins need no JDK).
if ! out=$("$hdc" build-base --stand-in 2>&1); then
    bad "build-base" "$out"; echo "$pass passed, $fail failed"; exit 1
fi
for dist in testdist testdist_crash; do
    if ! out=$("$hdc" build "$dist" 2>&1); then
        bad "build $dist" "$out"; echo "$pass passed, $fail failed"; exit 1
    fi
done
ok "images built"

# Bad usage: 2, and nothing created (no logs directory, no cluster).
usage() { # NAME PATTERN ARGS...
    local name=$1 pattern=$2
    shift 2
    matrix usage "$@"
    names+=("testdist-m$pid" "testdistcrash-m$pid")
    if [ $st = 2 ] && grep -qE -- "$pattern" "$work/usage.err" && [ ! -e "$HDC_LOGS_DIR" ] \
        && [ "$(labelled "testdist-m$pid")" = 0 ]; then
        ok "$name: refused with 2, nothing created"
    else
        bad "$name" "status $st" "$(cat "$work/usage.err")"
    fi
}
usage "an unknown DIST (after a good one)" "no plugin 'nosuchdist'.*" \
    testdist nosuchdist -- true
grep -q "known distributions: .*testdist" "$work/usage.err" \
    && ok "an unknown DIST lists the known ones" || bad "known list" "$(cat "$work/usage.err")"
usage "a DIST given twice" "'testdist' is given twice" testdist testdist_crash testdist -- true
usage "no --" "no \`--\`" testdist true
usage "no command" "no command after" testdist --
usage "--parallel 0" "--parallel '0'" testdist --parallel 0 -- true
usage "an unknown flag" "unknown flag '--frobnicate'" testdist --frobnicate -- true
usage "a --junit in a missing directory" "--junit" testdist --junit "$work/no/such/r.xml" -- true

# Two DISTs: testdist's command passes, testdist_crash never comes up.
junit=$work/report.xml
matrix two testdist testdist_crash --junit "$junit" -- \
    sh -c 'id -un; pwd; echo "hello <&> from $HDC_DIST"; echo to-stderr >&2; test "$(id -un)" = hdc'
a=testdist-m$pid c=testdistcrash-m$pid
names+=("$a" "$c")
[ $st = 1 ] && ok "one failed DIST: exit 1" || bad "exit status $st, want 1" "$(cat "$work/two.err")"
if xmllint --noout --schema "$xsd" "$junit" 2>"$work/xsd.err"; then
    ok "the JUnit report validates against the junit-10 schema"
else
    bad "JUnit validation" "$(cat "$work/xsd.err")" "$(cat "$junit" 2>&1)"
fi
[ "$(xpath 'count(//testsuite/testcase)' "$junit")" = 2 ] \
    && [ "$(xpath 'string(//testsuite/@tests)' "$junit")" = 2 ] \
    && [ "$(xpath 'string(//testsuite/@failures)' "$junit")" = 1 ] \
    && [ "$(xpath 'count(//testcase/failure)' "$junit")" = 1 ] \
    && [ "$(xpath 'count(//testcase[@name="testdist"]/failure)' "$junit")" = 0 ] \
    && ok "2 testcases, 1 failure" || bad "testcase counts" "$(cat "$junit")"
msg=$(xpath 'string(//testcase[@name="testdist_crash"]/failure/@message)' "$junit")
body=$(xpath 'string(//testcase[@name="testdist_crash"]/failure)' "$junit")
type=$(xpath 'string(//testcase[@name="testdist_crash"]/failure/@type)' "$junit")
grep -q "worker1.*exited with status 3" <<<"$msg" && [ "$type" = bootstrap ] \
    && grep -q "exiting with status 3" <<<"$body" \
    && ok "the failed up's testcase: the bootstrap message, its log tail in the body" \
    || bad "failure of testdist_crash" "type $type" "$msg" "$body"
sysout=$(xpath 'string(//testcase[@name="testdist"]/system-out)' "$junit")
grep -qx "hello <&> from testdist" <<<"$sysout" && grep -qx hdc <<<"$sysout" \
    && grep -qx /home/hdc <<<"$sysout" && grep -qx to-stderr <<<"$sysout" \
    && ok "system-out: the command's output, as the test user in its home" \
    || bad "system-out" "$sysout"
grep -qx "\[testdist\] hello <&> from testdist" "$work/two.out" \
    && ok "output streamed with the [DIST] prefix" || bad "stream" "$(cat "$work/two.out")"
grep -q "hello <&> from testdist" "$HDC_LOGS_DIR/$a/matrix.log" \
    && ok "logs/$a/matrix.log written" || bad "matrix.log" "$(ls -la "$HDC_LOGS_DIR/$a" 2>&1)"
grep -q "exiting with status 3" "$HDC_LOGS_DIR/$c/bundle/worker1.log" 2>/dev/null \
    && [ -s "$HDC_LOGS_DIR/$c/bundle/master.inspect.json" ] \
    && ok "a logs bundle for the failed DIST in logs/$c/bundle" \
    || bad "bundle" "$(ls -la "$HDC_LOGS_DIR/$c" "$HDC_LOGS_DIR/$c/bundle" 2>&1)"
[ ! -e "$HDC_LOGS_DIR/$a/bundle" ] && ok "no bundle for the passing DIST" || bad "bundle of $a"
grep -Eq "testdist +passed" "$work/two.err" && grep -Eq "testdist_crash +failed" "$work/two.err" \
    && ok "the summary on stderr" || bad "summary" "$(cat "$work/two.err")"
[ "$(labelled "$a")" = 0 ] && [ "$(labelled "$c")" = 0 ] && [ ! -e "$HDC_STATE_DIR/$a" ] \
    && ok "no leftovers: containers, networks, volumes, key pair" \
    || bad "leftovers" "$(docker ps -a --filter "label=hdc.cluster=$a" --filter "label=hdc.cluster=$c")" \
           "$(ls -la "$HDC_STATE_DIR" 2>&1)"

# A command that fails, --keep-failed: the clusters stay, with their
# bundles; --parallel 1: the second cluster starts when the first is done.
matrix cmdfail testdist testdist_crash --parallel 1 --keep-failed --junit "$work/cmdfail.xml" \
    -- sh -c 'echo before; exit 3'
k=testdist-m$pid kc=testdistcrash-m$pid
names+=("$k" "$kc")
type=$(xpath 'string(//testcase[@name="testdist"]/failure/@type)' "$work/cmdfail.xml")
msg=$(xpath 'string(//testcase[@name="testdist"]/failure/@message)' "$work/cmdfail.xml")
[ $st = 1 ] && [ "$type" = command ] && grep -q "exited with status 3" <<<"$msg" \
    && [ "$(xpath 'string(//testsuite/@failures)' "$work/cmdfail.xml")" = 2 ] \
    && xmllint --noout --schema "$xsd" "$work/cmdfail.xml" 2>/dev/null \
    && ok "a failing command: exit 1, failure \"... exited with status 3\"" \
    || bad "failing command" "status $st" "type $type" "$msg" "$(cat "$work/cmdfail.err")"
first_done=$(grep -n "\[testdist\] FAILED" "$work/cmdfail.err" | cut -d: -f1)
second_up=$(grep -n "bringing up $kc" "$work/cmdfail.err" | cut -d: -f1)
[ -n "$first_done" ] && [ -n "$second_up" ] && [ "$first_done" -lt "$second_up" ] \
    && ok "--parallel 1: one cluster at a time" || bad "--parallel 1" "$(cat "$work/cmdfail.err")"
[ "$(docker ps -q --filter "label=hdc.cluster=$k" | wc -l)" -ge 3 ] \
    && [ "$(labelled "$kc")" -gt 0 ] && [ -s "$HDC_LOGS_DIR/$k/bundle/client.log" ] \
    && ok "--keep-failed keeps the failed clusters; the bundle has the client's log" \
    || bad "--keep-failed" "$(docker ps -a --filter "label=hdc.cluster=$k")" \
           "$(ls -la "$HDC_LOGS_DIR/$k/bundle" 2>&1)"
"$hdc" down "$k" "$kc" >/dev/null 2>&1
[ "$(labelled "$k")" = 0 ] && [ "$(labelled "$kc")" = 0 ] || bad "down $k $kc left objects"

# A client node that fails is a failed testcase of type client, with a
# bundle holding the client's log: the test user "hadoop" passes hdc's
# check, but useradd refuses it in the node (a group of that name exists).
matrix client testdist --test-user hadoop --junit "$work/client.xml" -- true
k=testdist-m$pid
names+=("$k")
type=$(xpath 'string(//testcase/failure/@type)' "$work/client.xml")
[ $st = 1 ] && [ "$type" = client ] && [ -e "$HDC_LOGS_DIR/$k/bundle/client.log" ] \
    && [ "$(labelled "$k")" = 0 ] && [ ! -e "$HDC_STATE_DIR/$k" ] \
    && ok "a failed client node: a failure of type client, its bundle, nothing left" \
    || bad "failed client" "status $st" "type $type" "$(cat "$work/client.err")" \
           "$(ls -la "$HDC_LOGS_DIR/$k/bundle" "$HDC_STATE_DIR" 2>&1)"

# Everything passes: exit 0; --keep keeps the cluster until `hdc down`.
matrix keep testdist --keep --parallel 1 --datanodes 2 -- sh -c 'cat /etc/hostname; getent hosts master worker2'
k=testdist-m$pid
names+=("$k")
[ $st = 0 ] && grep -q "^\[testdist\] .*worker2" "$work/keep.out" \
    && ok "every DIST passed: exit 0 (two workers, names resolve from the client)" \
    || bad "passing run" "status $st" "$(cat "$work/keep.out" "$work/keep.err")"
[ "$(docker ps -q --filter "label=hdc.cluster=$k" | wc -l)" = 5 ] \
    && ok "--keep keeps the cluster (zookeeper, master, 2 workers, client)" \
    || bad "--keep" "$(docker ps -a --filter "label=hdc.cluster=$k")"
"$hdc" down "$k" >/dev/null 2>&1
[ "$(labelled "$k")" = 0 ] && ok "hdc down removes the kept cluster" || bad "down $k left objects"

# SIGINT while the command runs: everything torn down, exit 1, report written.
"$hdc" matrix testdist testdist_crash --keep --junit "$work/int.xml" -- \
    sh -c 'echo started; exec sleep 300' >"$work/int.out" 2>"$work/int.err" &
pid=$!
names+=("testdist-m$pid" "testdistcrash-m$pid")
for _ in $(seq 120); do
    grep -q "^\[testdist\] started" "$work/int.out" && break
    sleep 0.5
done
start=$(date +%s)
kill -INT $pid
wait $pid
st=$?
took=$(($(date +%s) - start))
i=testdist-m$pid
[ $st = 1 ] && [ "$(labelled "$i")" = 0 ] && [ "$(labelled "testdistcrash-m$pid")" = 0 ] \
    && ok "SIGINT: exit 1 in ${took} s, the clusters removed (--keep notwithstanding)" \
    || bad "SIGINT" "status $st" "$(cat "$work/int.err")" "$(docker ps -a --filter "label=hdc.cluster=$i")"
[ "$(xpath 'string(//testcase[@name="testdist"]/error/@type)' "$work/int.xml")" = interrupted ] \
    && xmllint --noout --schema "$xsd" "$work/int.xml" 2>/dev/null \
    && grep -qx started <<<"$(xpath 'string(//testcase[@name="testdist"]/system-out)' "$work/int.xml")" \
    && ok "SIGINT: the report says interrupted, with the output so far" \
    || bad "SIGINT report" "$(cat "$work/int.xml" 2>&1)"

# SIGINT while the clusters come up: the ups are canceled, nothing is left.
"$hdc" matrix testdist testdist_crash --junit "$work/int2.xml" -- true \
    >"$work/int2.out" 2>"$work/int2.err" &
pid=$!
names+=("testdist-m$pid" "testdistcrash-m$pid")
for _ in $(seq 100); do
    grep -q "bringing up testdistcrash-m$pid" "$work/int2.err" && break
    sleep 0.1
done
sleep 0.5
kill -INT $pid
wait $pid
st=$?
[ $st = 1 ] && [ "$(labelled "testdist-m$pid")" = 0 ] && [ "$(labelled "testdistcrash-m$pid")" = 0 ] \
    && [ "$(xpath 'count(//testcase/error[@type="interrupted"])' "$work/int2.xml")" = 2 ] \
    && xmllint --noout --schema "$xsd" "$work/int2.xml" 2>/dev/null \
    && ok "SIGINT during the ups: canceled, both errors in the report, nothing left" \
    || bad "SIGINT during the ups" "status $st" "$(cat "$work/int2.err")" "$(cat "$work/int2.xml" 2>&1)"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
