#!/usr/bin/env bash
# `hdc up` end to end with the test distribution (tests/e2e/testdist: a
# master and workers built from a small C program, not Hadoop) against the
# real dockerd and a real ZooKeeper container:
#   up -> every node up and the probe green -> status --json lists endpoints
#   that answer -> names resolve forward and back between every pair of
#   nodes -> down leaves nothing labelled; three clusters from one `hdc up`;
#   a service that exits during boot fails the up with its log tail; two
#   concurrent ups of one name: exactly one wins; bad input creates nothing.
set -u
build=${HDC_BUILD_DIR:?}
hdc=$build/hdc
export HDC_PLUGIN_PATH=$build/e2e-plugins
work=$(mktemp -d /tmp/hdc-e2e-XXXXXX)
export HDC_LOGS_DIR=$work/logs
prefix=e2e$$

cleanup() {
    for n in "$prefix"-a "$prefix"-b "$prefix"-c "$prefix"-d "$prefix"-crash "$prefix"-race; do
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

# Bad input: refused with 2, nothing created.
out=$("$hdc" up nosuchdist --name "$prefix"-a 2>&1); st=$?
[ $st = 2 ] && grep -q "nosuchdist" <<<"$out" && grep -q "known distributions: .*testdist" <<<"$out" \
    && [ "$(labelled "$prefix"-a)" = 0 ] \
    && ok "unknown distribution refused with 2, listing the known ones" \
    || bad "unknown distribution" "status $st" "$out"
out=$("$hdc" up testdist --name "$prefix"-a --frobnicate 2>&1); st=$?
[ $st = 2 ] && grep -q "frobnicate" <<<"$out" && [ "$(labelled "$prefix"-a)" = 0 ] \
    && ok "bad flag refused with 2" || bad "bad flag" "status $st" "$out"
out=$("$hdc" up testdist --name Bad_Name 2>&1); st=$?
[ $st = 2 ] && grep -q "Bad_Name" <<<"$out" && ok "bad name refused with 2" || bad "bad name" "status $st" "$out"
out=$("$hdc" up testdist --name "$prefix"-a --datanodes 0 2>&1); st=$?
[ $st = 2 ] && [ "$(labelled "$prefix"-a)" = 0 ] && ok "--datanodes 0 refused with 2" \
    || bad "--datanodes 0" "status $st" "$out"

# One cluster with two workers.
out=$("$hdc" --json up testdist --name "$prefix"-a --datanodes 2 2>"$work/up.err"); st=$?
if [ $st = 0 ] && [ "$(jq -r '.[0].state' <<<"$out")" = up ] \
    && [ "$(jq '[.[0].nodes[] | select(.state == "up")] | length' <<<"$out")" = 4 ]; then
    ok "up: ZooKeeper, the master and two workers up, probe green"
else
    bad "up of $prefix-a" "status $st" "$out" "$(cat "$work/up.err")"
fi
for f in zookeeper master worker1 worker2; do
    [ -s "$HDC_LOGS_DIR/$prefix-a/$f.log" ] || bad "log file $f.log is missing or empty"
done
grep -q "registered with master" "$HDC_LOGS_DIR/$prefix-a/worker1.log" \
    && ok "logs streamed to logs/<cluster>/<host>.log" || bad "worker1's log lacks its registration"

status=$("$hdc" --json status "$prefix"-a); st=$?
port=$(jq -r '.nodes[] | select(.hostname == "master") | .endpoints[] | select(.port == 8080) | .host_port' <<<"$status")
if [ $st = 0 ] && [ -n "$port" ] && answer=$(curl -fsS "http://127.0.0.1:$port/status") \
    && [ "$(jq .workers <<<"$answer")" = 2 ]; then
    ok "status --json endpoints answer (master sees 2 workers)"
else
    bad "status endpoints" "status $st" "$status" "${answer:-}"
fi

[ "$(jq -r '.probes[] | select(.name == "workers") | .healthy' <<<"$status")" = true ] \
    && ok "status runs the probes: green" || bad "status probes" "$status"

for host in master worker1 worker2; do
    if out=$("$hdc" exec "$prefix"-a "$host" -- testsvc hosts-check 2>&1) \
        && [ "$(grep -c '^ok ' <<<"$out")" -ge 4 ]; then
        ok "forward and reverse names resolve from $host"
    else
        bad "names from $host" "$out"
    fi
done
"$hdc" exec "$prefix"-a master -- sh -c 'echo from-master > /shared/note' >/dev/null 2>&1
out=$("$hdc" exec "$prefix"-a worker2 -- cat /shared/note 2>&1)
[ "$out" = from-master ] && ok "a volume the plugin declares is shared between services" \
    || bad "shared volume" "$out"
# The client node: ssh by the cluster's key only, the shared volume, names.
export HDC_STATE_DIR=$work/state
ssh_opts=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
          -o BatchMode=yes -o ConnectTimeout=10)
if out=$("$hdc" --json client "$prefix"-a --port 0 2>&1) \
    && port=$(jq -r .ssh_port <<<"$out") && key=$(jq -r .key <<<"$out") \
    && got=$(ssh "${ssh_opts[@]}" -i "$key" -p "$port" hdc@127.0.0.1 \
             'id -un; cat /shared/note; getent hosts master | cut -d" " -f1' 2>&1) \
    && [ "$(sed -n 1p <<<"$got")" = hdc ] && [ "$(sed -n 2p <<<"$got")" = from-master ]; then
    ok "client: ssh by key as the test user sees the cluster and the shared volume"
    master_ip=$(sed -n 3p <<<"$got" | tr -d ' ')
    back=$(ssh "${ssh_opts[@]}" -i "$key" -p "$port" root@127.0.0.1 "getent hosts $master_ip" 2>&1)
    grep -q master <<<"$back" && ok "client: root by key; reverse lookup of master" \
        || bad "client root/reverse" "$back"
    ssh "${ssh_opts[@]}" -o PubkeyAuthentication=no -p "$port" hdc@127.0.0.1 true 2>/dev/null \
        && bad "client: a login without the key was accepted" || ok "client: no login without the key"
    again=$("$hdc" client "$prefix"-a 2>&1) && grep -q "runs already" <<<"$again" \
        && ok "client: a second hdc client reports the running one" || bad "client again" "$again"
else
    bad "client" "$out" "${got:-}"
fi

out=$("$hdc" exec "$prefix"-a master -- sh -c 'exit 7' 2>&1); st=$?
[ $st = 7 ] && ok "exec returns the command's exit status" || bad "exec status" "status $st" "$out"

# A command the node does not have: said on stderr, nothing on stdout, 127.
"$hdc" exec "$prefix"-a master -- nosuchcommand --flag >"$work/exec.out" 2>"$work/exec.err"; st=$?
want="hdc: exec: 'nosuchcommand' is not in master (or not executable): "
if [ $st = 127 ] && [ ! -s "$work/exec.out" ] && [ "$(wc -l <"$work/exec.err")" = 1 ] \
    && [[ $(cat "$work/exec.err") == "$want"*'"nosuchcommand"'*"not found"* ]]; then
    ok "exec of a command the node lacks: one line on stderr, exit 127"
else
    bad "exec of a missing command" "status $st" "stdout: $(cat "$work/exec.out")" \
        "stderr: $(cat "$work/exec.err")"
fi
"$hdc" exec "$prefix"-a master -- /etc/hostname >"$work/exec.out" 2>"$work/exec.err"; st=$?
[ $st = 126 ] && [ ! -s "$work/exec.out" ] \
    && grep -q "^hdc: exec: '/etc/hostname' is not in master (or not executable): " "$work/exec.err" \
    && ok "exec of a file that is not executable: stderr, exit 126" \
    || bad "exec of a non-executable file" "status $st" "$(cat "$work/exec.out" "$work/exec.err")"
out=$("$hdc" exec "$prefix"-a master -- sh -c 'printf "OCI runtime"; exit 126' 2>/dev/null); st=$?
[ $st = 126 ] && [ "$out" = "OCI runtime" ] && ok "a command's own output and 126 pass through" \
    || bad "exec output passing through" "status $st" "$out"

if "$hdc" export-logs "$prefix"-a "$work/export" >"$work/export.out" 2>&1 \
    && [ -s "$work/export/worker2.log" ] && [ -s "$work/export/master.inspect.json" ] \
    && jq -e '.Config.Labels["hdc.cluster"]' "$work/export/master.inspect.json" >/dev/null \
    && tar -tf "$work/export/master.var_log.tar" >/dev/null \
    && [ ! -e "$work/export/master.nonexistent_logs.tar" ]; then
    ok "export-logs: logs, inspect JSON and the daemons' log directories"
else
    bad "export-logs" "$(cat "$work/export.out")" "$(ls -la "$work/export" 2>&1)"
fi

ls=$("$hdc" --json ls)
[ "$(jq -r --arg n "$prefix"-a '.[] | select(.name == $n) | .state' <<<"$ls")" = up ] \
    && [ "$(jq -r --arg n "$prefix"-a '.[] | select(.name == $n) | .logs' <<<"$ls")" = "$HDC_LOGS_DIR/$prefix-a" ] \
    && ok "ls lists the cluster as up, with the absolute path of its logs" || bad "ls" "$ls"

out=$("$hdc" up testdist --name "$prefix"-a 2>&1); st=$?
[ $st = 1 ] && grep -q "exists" <<<"$out" && ok "a second up of a running cluster is refused" \
    || bad "second up" "status $st" "$out"

# A stopped cluster of the name: refused without -y (no TTY to ask on),
# pointing to `hdc start`; removed with -y, and the previous run's logs
# moved aside.
"$hdc" stop "$prefix"-a >/dev/null
out=$("$hdc" up testdist --name "$prefix"-a 2>&1 </dev/null); st=$?
[ $st = 1 ] && grep -q "cluster '$prefix-a' is stopped, with its data: \`hdc start $prefix-a\`" <<<"$out" \
    && ok "up of a stopped cluster is refused without -y and points to hdc start" \
    || bad "leftovers without -y" "status $st" "$out"
out=$("$hdc" up testdist --name "$prefix"-a -y 2>&1 </dev/null); st=$?
[ $st = 0 ] && grep -q "replacing the stopped cluster" <<<"$out" && grep -q "logs.backup" <<<"$out" \
    && ok "-y removes them, moves the old logs aside and comes up" \
    || bad "leftovers with -y" "status $st" "$out"

"$hdc" down "$prefix"-a >/dev/null 2>&1
[ "$(labelled "$prefix"-a)" = 0 ] && ok "down leaves nothing labelled" \
    || bad "down left objects" "$(docker ps -a --filter "label=hdc.cluster=$prefix-a")"

# Three clusters from one hdc up.
out=$("$hdc" --json up testdist --name "$prefix"-b testdist --name "$prefix"-c \
      testdist --name "$prefix"-d 2>"$work/up3.err"); st=$?
if [ $st = 0 ] && [ "$(jq '[.[] | select(.state == "up")] | length' <<<"$out")" = 3 ] \
    && [ "$(jq '[.[].subnet] | unique | length' <<<"$out")" = 3 ]; then
    ok "three clusters up at once, each on its own subnet"
else
    bad "three clusters" "status $st" "$out" "$(cat "$work/up3.err")"
fi
writers=$(pgrep -fc -- "--write-root .*$prefix-b $prefix-c $prefix-d" || true)
[ "$writers" = 1 ] && [ -s "$HDC_LOGS_DIR/$prefix-d/master.log" ] \
    && ok "one detached log writer follows the three clusters after up" \
    || bad "log writer" "writers: $writers" "$(pgrep -fa -- --write-root)"
"$hdc" down "$prefix"-b "$prefix"-c "$prefix"-d >/dev/null 2>&1
for n in b c d; do [ "$(labelled "$prefix-$n")" = 0 ] || bad "down $prefix-$n left objects"; done

# A service that exits during boot fails the up, naming it, with its log.
start=$(date +%s.%N)
out=$("$hdc" up testdist_crash --name "$prefix"-crash 2>&1); st=$?
end=$(date +%s.%N)
if [ $st = 1 ] && grep -q "worker1" <<<"$out" && grep -q "exiting with status 3" <<<"$out"; then
    ok "a crashing service fails the up with its log tail ($(awk -v s="$start" -v e="$end" 'BEGIN{printf "%.1f", e-s}') s)"
else
    bad "crashing service" "status $st" "$out"
fi
[ "$(labelled "$prefix"-crash)" -gt 0 ] && ok "a failed cluster is left for inspection" \
    || bad "the failed cluster was removed without --rm-on-failure"
"$hdc" down "$prefix"-crash >/dev/null 2>&1
out=$("$hdc" up testdist_crash --name "$prefix"-crash --rm-on-failure 2>&1); st=$?
[ $st = 1 ] && [ "$(labelled "$prefix"-crash)" = 0 ] && ok "--rm-on-failure removes it" \
    || bad "--rm-on-failure" "status $st" "$out"

# Two ups of one name at the same instant: exactly one wins.
"$hdc" up testdist --name "$prefix"-race >"$work/r1.out" 2>&1 & p1=$!
"$hdc" up testdist --name "$prefix"-race >"$work/r2.out" 2>&1 & p2=$!
wait $p1; s1=$?
wait $p2; s2=$?
if { [ $s1 = 0 ] && [ $s2 = 1 ]; } || { [ $s1 = 1 ] && [ $s2 = 0 ]; }; then
    ok "two concurrent ups of one name: exactly one wins"
else
    bad "race" "statuses $s1 $s2" "$(cat "$work/r1.out")" "$(cat "$work/r2.out")"
fi
"$hdc" down "$prefix"-race >/dev/null 2>&1
[ "$(labelled "$prefix"-race)" = 0 ] || bad "down $prefix-race left objects"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
