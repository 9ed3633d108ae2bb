#!/usr/bin/env bash
# The private engine of the engine-fault tests works as they need it
# (fixture private_engine, engine_setup.sh): through pe_run, `hdc up` of a
# stand-in cluster succeeds on it, reached in its namespace; after
# pe_restart the images are still there and the cluster's containers have
# exited (not vanished), and `hdc down` removes them. The main engine is
# not touched: its docker0 is still there and no container of this cluster
# is on it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/engine_lib.sh"
build=${HDC_BUILD_DIR:?}
hdc=$build/hdc
export HDC_PLUGIN_PATH=$build/e2e-plugins
work=$(mktemp -d /tmp/hdc-pe-XXXXXX)
export HDC_LOGS_DIR=$work/logs HDC_STATE_DIR=$work/state
name=hdcpe$$

cleanup() {
    pe_run "$hdc" down "$name" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib.sh"

states() { # the cluster's containers on the private engine: "NAME STATE" lines
    pe_docker ps -a --filter "label=hdc.cluster=$name" --format '{{.Names}} {{.State}}' | sort
}

if ! pe_pid >/dev/null; then
    bad "no private engine: engine_setup.sh (fixture private_engine) did not run or failed"
    echo "$pass passed, $fail failed"; exit 1
fi
docker0() { # the host's docker0: its index and address, empty if none
    { printf '%s %s\n' "$(cat /sys/class/net/docker0/ifindex)" "$(cat /sys/class/net/docker0/address)"; } 2>/dev/null
}
docker0_before=$(docker0)

out=$(pe_run "$hdc" --json up testdist --name "$name" --datanodes 1 2>"$work/up.err"); st=$?
if [ $st = 0 ] && [ "$(jq -r '.[0].state' <<<"$out")" = up ] \
    && [ "$(jq '[.[0].nodes[] | select(.state == "up")] | length' <<<"$out")" = 3 ]; then
    ok "hdc up on the private engine: ZooKeeper, the master and a worker up"
else
    bad "hdc up of $name on the private engine" "status $st" "$out" "$(tail -20 "$work/up.err")"
fi
before=$(states)
if [ "$(wc -l <<<"$before")" = 3 ] && ! grep -qv ' running$' <<<"$before"; then
    ok "three containers running on the private engine"
else
    bad "the cluster's containers before the restart" "$before"
fi
on_main=$(docker ps -aq --filter "label=hdc.cluster=$name" | wc -l)
[ "$on_main" = 0 ] && ok "nothing of the cluster on the main engine" || bad "$on_main containers of $name on the main engine"
subnet=$(for net in $(pe_docker network ls -q --filter "label=hdc.cluster=$name"); do
    pe_docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$net"; done)
[[ $subnet == 172.30.* ]] && ok "its network from the private pool ($subnet)" || bad "its network's subnet is '$subnet', not in $pe_pool"

old_pid=$(pe_pid)
if pe_restart; then
    new_pid=$(pe_pid)
    [ -n "$new_pid" ] && [ "$new_pid" != "$old_pid" ] && ok "pe_restart: a new dockerd (PID $old_pid -> $new_pid)" \
        || bad "pe_restart did not give a new dockerd ($old_pid -> $new_pid)"
else
    bad "pe_restart failed" "$(tail -20 "$pe_log")"
fi
after=$(states)
if [ "$(wc -l <<<"$after")" = 3 ] && [ "$(awk '{print $1}' <<<"$after")" = "$(awk '{print $1}' <<<"$before")" ] \
    && ! grep -qv ' exited$' <<<"$after"; then
    ok "after the restart the same three containers are there, exited"
else
    bad "the cluster's containers after the restart" "before:" "$before" "after:" "$after"
fi
missing=$(for img in hdc/zookeeper:latest hdc/testdist-testsvc:latest; do
    pe_docker image inspect "$img" >/dev/null 2>&1 || echo "$img"; done)
[ -z "$missing" ] && ok "the images survive the restart" || bad "images gone after the restart: $missing"

out=$(pe_run "$hdc" down "$name" 2>&1); st=$?
left=$({ pe_docker ps -aq --filter "label=hdc.cluster=$name"
    pe_docker network ls -q --filter "label=hdc.cluster=$name"
    pe_docker volume ls -q --filter "label=hdc.cluster=$name"; } | wc -l)
[ $st = 0 ] && [ "$left" = 0 ] && ok "hdc down removes the exited cluster from the private engine" \
    || bad "hdc down $name" "status $st, $left objects left" "$out"

docker0_after=$(docker0)
[ "$docker0_after" = "$docker0_before" ] && ok "the host's docker0 is untouched (index, address: $docker0_after)" \
    || bad "the host's docker0 changed: '$docker0_before' -> '$docker0_after'"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
