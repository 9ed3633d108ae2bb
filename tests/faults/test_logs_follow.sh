#!/usr/bin/env bash
# The log writer and `hdc logs -f` against the main engine, on a cluster of
# two plain containers made here (labels as cluster_list reads them): one
# that sleeps, one that prints a numbered line every 50 ms, each line
# unique (the run's start time and the number):
#   a) the writer (`hdc logs -f --write-root`) writes the lines; the node is
#      stopped and started again (`docker stop`/`docker start`): the writer,
#      still running, follows its start event and writes the later lines;
#      the file is Docker's log exactly, each line once, in order;
#   b) the writer killed (SIGKILL) while the node prints, started again: it
#      resumes from its cursor: nothing twice, nothing lost; the cursor is
#      the timestamp of the last line;
#   c) a second writer while the first runs writes nothing (exit 0, one
#      line on stderr) and the file still holds each line once;
#   d) every container stopped: the writer ends, exit 0, saying so;
#   e) `hdc logs -f` through a proxy of the engine's socket that goes away
#      (the main engine is never touched): exit 1, the reason on stderr;
#   f) the same with --retry: it waits, the proxy comes back, the later
#      lines arrive, none twice; when the containers stop it ends (exit 0).
# ctest label "faults". Every object is named with the prefix hdclg.
set -u
build=${HDC_BUILD_DIR:?}
hdc=$build/hdc
work=$(mktemp -d /tmp/hdc-logs-follow-XXXXXX)
export HDC_LOGS_DIR=$work/logs HDC_STATE_DIR=$work/state
name=hdclg$$
root=$work/root
log=$root/$name/num.log
sock=$work/engine.sock
image=debian:bookworm
bg=() # background pids to stop on exit

cleanup() {
    for p in "${bg[@]}"; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    docker rm -f "$name-keep" "$name-num" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib.sh"

# wait_for SECONDS CMD...: until CMD succeeds, for at most SECONDS.
wait_for() {
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        [ $SECONDS -ge $end ] && return 1
        sleep 0.1
    done
}

docker_lines() { docker logs "$name-num" 2>&1; }
count() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
file_is_docker() { cmp -s <(docker_lines) "$log"; }
more_than() { [ "$(count "$1")" -gt "$2" ]; }
docker_more_than() { [ "$(docker_lines | wc -l)" -gt "$1" ]; }
alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }
has() { grep -q -- "$2" "$1" 2>/dev/null; }
twice() { sort "$1" | uniq -d | head -3; }

# writer ERRFILE: starts a log writer of the cluster; sets $wpid.
writer() {
    "$hdc" logs -f --write-root "$root" "$name" 2>"$1" &
    wpid=$!
    bg+=("$wpid")
}

# proxy: serves $sock, forwarding to the engine's socket; sets $ppid_.
# One process: killed, every connection through it closes at once.
proxy() {
    rm -f "$sock"
    python3 "$work/proxy.py" "$sock" /var/run/docker.sock &
    ppid_=$!
    bg+=("$ppid_")
    wait_for 20 test -S "$sock"
}
cat >"$work/proxy.py" <<'EOF'
import asyncio, sys

async def pipe(r, w):
    try:
        while True:
            b = await r.read(65536)
            if not b:
                break
            w.write(b)
            await w.drain()
    except Exception:
        pass
    finally:
        w.close()

async def handle(cr, cw):
    try:
        ur, uw = await asyncio.open_unix_connection(sys.argv[2])
    except Exception:
        cw.close()
        return
    await asyncio.gather(pipe(cr, uw), pipe(ur, cw))

async def main():
    srv = await asyncio.start_unix_server(handle, path=sys.argv[1])
    async with srv:
        await srv.serve_forever()

asyncio.run(main())
EOF

labels() { # SERVICE
    printf -- '--label hdc.cluster=%s --label hdc.dist=test --label hdc.service=%s --label hdc.hostname=%s' \
        "$name" "$1" "$1"
}
# shellcheck disable=SC2046
if ! docker run -d --init --name "$name-keep" --hostname keep $(labels keep) "$image" \
        sleep infinity >/dev/null ||
    ! docker run -d --init --name "$name-num" --hostname num $(labels num) "$image" bash -c \
        'trap "exit 0" TERM; r=$(date +%s%N); n=0; while :; do n=$((n+1)); echo "run $r line $n"; sleep 0.05 & wait $!; done' \
        >/dev/null; then
    bad "cannot run the containers of $name from $image"
    echo "$pass passed, $fail failed"
    exit 1
fi

# ---- a) stop and start under a running writer
writer "$work/w1.err"
w1=$wpid
wait_for 30 more_than "$log" 5 || bad "a) the writer wrote no lines" "$(cat "$work/w1.err")"
docker stop -t 5 "$name-num" >/dev/null
if wait_for 30 file_is_docker; then
    ok "a) the writer wrote the node's lines, as Docker has them"
else
    bad "a) after the stop, the file is not Docker's log" "$(diff <(docker_lines) "$log" | head -5)"
fi
n=$(count "$log")
docker start "$name-num" >/dev/null
wait_for 30 more_than "$log" $((n + 5)) || bad "a) no line after the start reached the file"
docker stop -t 5 "$name-num" >/dev/null
if wait_for 30 file_is_docker && [ -z "$(twice "$log")" ] && alive "$w1" &&
    [ "$(grep -c "line 1\$" "$log")" = 2 ]; then
    ok "a) after stop and start, the same writer wrote the later lines: each once, in order ($(count "$log") lines, two runs)"
else
    bad "a) stop and start under one writer" "$(diff <(docker_lines) "$log" | head -5)" \
        "twice: $(twice "$log")" "writer alive: $(alive "$w1" && echo yes || echo no)" "$(cat "$work/w1.err")"
fi

# ---- b) the writer killed while the node prints, then started again
docker start "$name-num" >/dev/null
n=$(count "$log")
wait_for 30 more_than "$log" $((n + 5)) || bad "b) no line after the second start"
kill -KILL "$w1"
wait "$w1" 2>/dev/null
n=$(count "$log")
wait_for 30 docker_more_than $((n + 20)) # it prints with no writer
writer "$work/w2.err"
w2=$wpid
docker_n=$(docker_lines | wc -l)
wait_for 30 more_than "$log" "$docker_n" || bad "b) the new writer did not catch up"
docker stop -t 5 "$name-num" >/dev/null
cursor=$(cat "$root/$name/.cursor/num" 2>/dev/null)
if wait_for 30 file_is_docker && [ -z "$(twice "$log")" ]; then
    ok "b) a writer killed and started again resumed from the cursor: nothing twice, nothing lost"
else
    bad "b) the writer resumed" "$(diff <(docker_lines) "$log" | head -5)" "twice: $(twice "$log")" \
        "$(cat "$work/w2.err")"
fi
last=$(docker logs -t "$name-num" 2>&1 | tail -1 | cut -d' ' -f1)
wait_for 10 test "$(cat "$root/$name/.cursor/num" 2>/dev/null)" = "$last"
cursor=$(cat "$root/$name/.cursor/num" 2>/dev/null)
[ "$cursor" = "$last" ] && ok "b) the cursor is the last line's timestamp ($cursor)" ||
    bad "b) the cursor is '$cursor', the last line's timestamp $last"

# ---- c) a second writer while the first runs
docker start "$name-num" >/dev/null
"$hdc" logs -f --write-root "$root" "$name" 2>"$work/w3.err" &
w3=$!
bg+=("$w3")
if wait_for 30 dead "$w3"; then
    wait "$w3"
    st=$?
else
    st=timeout
fi
n=$(count "$log")
wait_for 30 more_than "$log" $((n + 5)) || bad "c) the first writer wrote no more lines"
docker stop -t 5 "$name-num" >/dev/null
if [ "$st" = 0 ] && has "$work/w3.err" "another process holds $root/$name/.writer.lock" &&
    wait_for 30 file_is_docker && [ -z "$(twice "$log")" ] && alive "$w2"; then
    ok "c) a second writer left the cluster to the first (exit 0, said so); each line once"
else
    bad "c) a second writer" "status $st" "$(cat "$work/w3.err")" "twice: $(twice "$log")" \
        "$(diff <(docker_lines) "$log" | head -5)"
fi

# ---- d) every container stopped: the writer ends
docker stop -t 5 "$name-keep" >/dev/null
if wait_for 30 dead "$w2"; then
    wait "$w2"
    st=$?
else
    st=timeout
fi
if [ "$st" = 0 ] && has "$work/w2.err" "every container of $name has stopped"; then
    ok "d) with every container stopped the writer ended (exit 0), saying so"
else
    bad "d) the writer's end" "status $st" "$(cat "$work/w2.err")"
fi

# ---- e) hdc logs -f, and the engine goes away
docker start "$name-keep" "$name-num" >/dev/null
proxy || bad "e) the proxy did not start"
DOCKER_HOST=unix://$sock "$hdc" logs "$name" -f >"$work/e.out" 2>"$work/e.err" &
e=$!
bg+=("$e")
wait_for 30 has "$work/e.out" "^num  | run" || bad "e) no lines through the proxy"
kill "$ppid_"
wait "$ppid_" 2>/dev/null
if wait_for 30 dead "$e"; then
    wait "$e"
    st=$?
else
    st=timeout
fi
if [ "$st" = 1 ] && has "$work/e.err" "hdc: logs: the Docker engine at unix://$sock went away" &&
    has "$work/e.err" "hdc logs $name -f --retry\` waits for it"; then
    ok "e) hdc logs -f: the engine went away: exit 1, said on stderr"
else
    bad "e) hdc logs -f when the engine goes away" "status $st" "$(cat "$work/e.err")"
fi

# ---- f) the same with --retry
proxy || bad "f) the proxy did not start"
DOCKER_HOST=unix://$sock "$hdc" logs "$name" -f --retry >"$work/f.out" 2>"$work/f.err" &
f=$!
bg+=("$f")
shown() { sed -n 's/^num  | //p' "$work/f.out"; }
wait_for 30 has "$work/f.out" "^num  | run" || bad "f) no lines through the proxy"
kill "$ppid_"
wait "$ppid_" 2>/dev/null
wait_for 30 has "$work/f.err" "waiting for it (--retry)" || bad "f) it did not say it waits" "$(cat "$work/f.err")"
n=$(shown | wc -l)
wait_for 30 docker_more_than $((n + 20)) # lines said while the engine is away
alive "$f" && ok "f) --retry: still waiting while the engine is away" || bad "f) --retry ended" "$(cat "$work/f.err")"
proxy || bad "f) the proxy did not start again"
wait_for 60 has "$work/f.err" "answers again" || bad "f) it did not see the engine back" "$(cat "$work/f.err")"
docker_n=$(docker_lines | wc -l)
wait_for 30 test "$(shown | wc -l)" -gt "$docker_n" || true
docker stop -t 5 "$name-num" "$name-keep" >/dev/null
if wait_for 30 dead "$f"; then
    wait "$f"
    st=$?
else
    st=timeout
fi
if [ "$st" = 0 ] && cmp -s <(docker_lines) <(shown) &&
    has "$work/f.err" "every container of $name has stopped"; then
    ok "f) --retry: the lines said while the engine was away arrived, none twice ($(shown | wc -l) lines); exit 0 when the containers stopped"
else
    bad "f) hdc logs -f --retry" "status $st" "$(cat "$work/f.err")" \
        "$(diff <(docker_lines) <(shown) | head -5)"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
