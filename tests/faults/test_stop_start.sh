#!/usr/bin/env bash
# hdc stop, start and restart on a whole apache_2.6.0 cluster (on the test
# stand-in tarball, tests/fixtures/fakehadoop: NOT Apache Hadoop), against
# the main engine:
#   a file put into HDFS survives `hdc stop` + `hdc start`; the stopped
#   cluster is `stopped` in `hdc ls`, and `hdc up` of its name points to
#   `hdc start`; start prints the endpoints as they now are and `hdc status
#   --json` agrees (docs/cli.md: Docker gives new ephemeral ports);
#   logs/NAME/namenode.log holds the namenode's first run and its second,
#   each once;
#   `hdc fault NAME datanode1 kill`: `hdc status` exits 1 and, once the
#   namenode has declared it dead, shows its probe red; `hdc restart NAME
#   datanode1`: every probe green again, the file still there.
set -u
build=${HDC_BUILD_DIR:?}
src=${HDC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
hdc=$build/hdc
work=$(mktemp -d /tmp/hdc-stopstart-XXXXXX)
export HDC_LOGS_DIR=$work/logs HDC_STATE_DIR=$work/state
name=ss$$

cleanup() {
    "$hdc" down "$name" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib.sh"

state_of() { "$hdc" --json ls | jq -r --arg n "$1" '[.[] | select(.name == $n) | .state][0] // "none"'; }

# until SECONDS CMD...: runs CMD until it succeeds, at most SECONDS (the
# namenode's view of a datanode changes on its own clock: no event says so).
until_true() {
    local deadline=$(($(date +%s) + $1))
    shift
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 1
    done
}

# The namenode's http-ui endpoint, as `hdc status --json` gives it now.
nn_endpoint() {
    "$hdc" --json status "$name" 2>/dev/null |
        jq -r '.nodes[] | select(.hostname == "namenode") | .endpoints[] | select(.port == 50070)
               | "\(.host_ip):\(.host_port)"'
}

probe_red() { # the live-datanodes probe is not green
    local s
    s=$("$hdc" --json status "$name" 2>/dev/null)
    [ "$(jq -r '.probes[] | select(.name == "live-datanodes") | .healthy' <<<"$s")" = false ]
}
status_green() { "$hdc" status "$name" >/dev/null 2>&1; }

# ---- images (cached after the first build) ----------------------------------
if ! out=$("$src/tests/fixtures/fakehadoop/build.sh" 2.6.0 "$work/dist" 2>&1) ||
    ! out=$("$hdc" build-base --stand-in 2>&1) ||
    ! out=$("$hdc" build apache_2.6.0 --hadoop-tarball "$work/dist/hadoop-2.6.0.tar.gz" 2>&1); then
    bad "images" "$(tail -20 <<<"$out")"; finish
fi

# ---- up, a file in HDFS --------------------------------------------------------
if ! out=$("$hdc" up apache_2.6.0 --name "$name" --datanodes 1 2>&1); then
    bad "up" "$(tail -20 <<<"$out")"; finish
fi
bytes="kept across stop and start $$"
if "$hdc" exec "$name" namenode -- sh -c "printf '%s\n' '$bytes' >/tmp/f && hdfs dfs -put /tmp/f /user/hdc/kept.txt" >/dev/null 2>&1; then
    ok "a file is put into HDFS"
else
    bad "put"; finish
fi

# ---- stop ------------------------------------------------------------------------
out=$("$hdc" stop "$name" 2>&1); st=$?
running=$(docker ps -q --filter "label=hdc.cluster=$name" | wc -l)
[ $st = 0 ] && [ "$running" = 0 ] && [ "$(state_of "$name")" = stopped ] \
    && ok "stop: no container runs, and ls says stopped" \
    || bad "stop" "status $st" "$out" "running: $running" "$("$hdc" ls)"
out=$("$hdc" up apache_2.6.0 --name "$name" 2>&1 </dev/null); st=$?
[ $st = 1 ] && grep -q "hdc start $name" <<<"$out" \
    && ok "up of the stopped cluster points to hdc start" || bad "up of a stopped cluster" "status $st" "$out"

# ---- start -----------------------------------------------------------------------
out=$("$hdc" start "$name" 2>&1); st=$?
printed=$(sed -n 's/^  namenode *http-ui *50070 -> \(127\.0\.0\.1:[0-9]*\)$/\1/p' <<<"$out")
if [ $st = 0 ] && [ -n "$printed" ] && [ "$printed" = "$(nn_endpoint)" ]; then
    ok "start: up again, and the endpoints it prints are status's ($printed)"
else
    bad "start" "status $st" "$out" "status says: $(nn_endpoint)"
fi
got=$("$hdc" exec "$name" namenode -- hdfs dfs -cat /user/hdc/kept.txt 2>&1)
[ "$got" = "$bytes" ] && ok "the file survived stop and start" || bad "file after start" "$got"
status_green && ok "status: every node runs, every probe green" || bad "status after start" "$("$hdc" status "$name" 2>&1)"
runs=$(grep -c 'STARTUP_MSG: Starting NameNode' "$HDC_LOGS_DIR/$name/namenode.log" 2>/dev/null)
[ "$runs" = 2 ] && ok "namenode.log holds both runs of the namenode, each once" \
    || bad "namenode.log: $runs startups (want 2)" "$(grep -n STARTUP_MSG "$HDC_LOGS_DIR/$name/namenode.log" 2>&1)"

# ---- a datanode killed, then restarted --------------------------------------------
out=$("$hdc" fault "$name" datanode1 kill 2>&1); st=$?
[ $st = 0 ] && ok "fault datanode1 kill" || bad "fault kill" "status $st" "$out"
"$hdc" status "$name" >/dev/null 2>&1; st=$?
[ $st = 1 ] && ok "status exits 1 with datanode1 killed" || bad "status after kill: $st"
until_true 90 probe_red && ok "the live-datanodes probe turns red once the namenode declares it dead" \
    || bad "probe never red" "$("$hdc" status "$name" 2>&1)"
out=$("$hdc" restart "$name" datanode1 2>&1); st=$?
[ $st = 0 ] && status_green && ok "restart datanode1: every probe green again" \
    || bad "restart datanode1" "status $st" "$out" "$("$hdc" status "$name" 2>&1)"
got=$("$hdc" exec "$name" namenode -- hdfs dfs -cat /user/hdc/kept.txt 2>&1)
[ "$got" = "$bytes" ] && ok "the file is still there" || bad "file after restart" "$got"

finish
