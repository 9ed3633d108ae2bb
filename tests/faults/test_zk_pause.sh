#!/usr/bin/env bash
# ZooKeeper paused during bring-up, against the main engine with the test
# distribution (tests/e2e/testdist, not Hadoop): `hdc up` runs, and once its
# ZooKeeper session is up, `docker pause` freezes the ZooKeeper container for
# 20 s (HDC_ZK_PAUSE_S), then `docker unpause`. Meanwhile the engine writes
# the znodes and `boot`, and the agents connect and wait: every one of those
# calls stalls or loses its connection. The session timeout (40 s, for hdc
# and the agents) outlasts the pause, and a call that lost its connection is
# sent again once it is back, so:
#   the up exits 0, after the unpause; `hdc status` exits 0; down is clean.
# With the former 20 s session and no retry, the up failed ("cannot write
# 'boot' to /master: the connection to ZooKeeper was lost").
# The agents are hdc/base's: this test builds hdc/base from HDC_BUILD_DIR.
set -u
build=${HDC_BUILD_DIR:?}
hdc=$build/hdc
export HDC_PLUGIN_PATH=$build/e2e-plugins
work=$(mktemp -d /tmp/hdc-zkpause-XXXXXX)
export HDC_LOGS_DIR=$work/logs HDC_STATE_DIR=$work/state
name=hdczk$$
zk=${name}_zookeeper_1
pause_s=${HDC_ZK_PAUSE_S:-20}
bg=()

cleanup() {
    for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null; done
    docker unpause "$zk" >/dev/null 2>&1
    "$hdc" down "$name" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib.sh"

if ! out=$("$hdc" build-base --stand-in 2>&1) || ! out=$("$hdc" build testdist 2>&1); then
    bad "images" "$(tail -20 <<<"$out")"; finish
fi

# The up, its progress read line by line (stderr) until it ends; on
# " zookeeper up " the pause starts in the background, and the unpause
# leaves a mark.
fifo=$work/progress
mkfifo "$fifo"
"$hdc" up testdist --name "$name" >"$work/up.out" 2>"$fifo" &
up_pid=$!
bg+=("$up_pid")
paused=0 up_after_unpause=0
while IFS= read -r line; do
    printf '%s\n' "$line" >>"$work/up.err"
    if [ $paused = 0 ] && [[ $line == *" zookeeper up "* ]]; then
        paused=1
        (
            if docker pause "$zk" >/dev/null 2>"$work/pause.err"; then
                echo "$(date +%s)" >"$work/paused"
                sleep "$pause_s"
                docker unpause "$zk" >/dev/null 2>>"$work/pause.err"
                echo "$(date +%s)" >"$work/unpaused"
            fi
        ) &
        bg+=("$!")
    fi
done <"$fifo"
# The up closed its stderr: it has ended, after the unpause or not.
[ -e "$work/unpaused" ] && up_after_unpause=1
wait "$up_pid"; st=$?
wait "${bg[1]:-}" 2>/dev/null

if [ ! -e "$work/paused" ]; then
    bad "ZooKeeper was never paused" "$(cat "$work/up.err" "$work/pause.err" 2>/dev/null)"
    finish
fi
echo "# ZooKeeper paused $(($(cat "$work/unpaused" 2>/dev/null || date +%s) - $(cat "$work/paused"))) s"
[ $st = 0 ] && ok "hdc up exits 0 though ZooKeeper was paused for ${pause_s} s during bring-up" \
    || bad "hdc up exited $st" "$(tail -30 "$work/up.err")"
[ $up_after_unpause = 1 ] && ok "the up ended after the unpause (the pause fell within bring-up)" \
    || bad "the up ended before the unpause: the pause proved nothing" "$(cat "$work/up.err")"
out=$("$hdc" status "$name" 2>&1); st=$?
[ $st = 0 ] && ok "hdc status exits 0: every node runs, every probe green" \
    || bad "hdc status exited $st" "$out"
# What the agents saw of the pause, for the record (their session timeout
# says whether hdc/base holds this build's agent).
grep -h "connected to ZooKeeper\|ZooKeeper:\|again" "$HDC_LOGS_DIR/$name"/*.log 2>/dev/null |
    sed 's/^/# /'
out=$("$hdc" down "$name" 2>&1); st=$?
[ $st = 0 ] && ok "hdc down" || bad "hdc down exited $st" "$out"

finish
