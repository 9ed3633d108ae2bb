#!/usr/bin/env bash
# A throw-away ZooKeeper server for the tests, from Debian's zookeeper package.
#
#   zk-server.sh start DIR   start a standalone server with its data in DIR and
#                            print its client port once it answers `srvr`.
#                            If DIR holds a server stopped before, it restarts
#                            on the same port with the same data.
#   zk-server.sh stop DIR    stop it (SIGTERM, then SIGKILL after 10 s).
#
# The server listens on 127.0.0.1 only, on a free port found by binding port 0;
# its admin server is off; its log is DIR/server.log.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
    else
        perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(LocalAddr=>"127.0.0.1",LocalPort=>0,Listen=>1)->sockport, "\n"'
    fi
}

# srvr PORT: prints the server's `srvr` answer, or nothing.
srvr() {
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf srvr >&3
        timeout 2 cat <&3
    ) 2>/dev/null || true
}

classpath() {
    local cp=/usr/share/java/zookeeper.jar jar
    # zookeeper.jar names its dependencies in its manifest; add a logger.
    for jar in /usr/share/java/slf4j-simple.jar; do
        [ -e "$jar" ] && cp="$cp:$jar"
    done
    echo "$cp"
}

start() {
    mkdir -p "$dir/data"
    dir=$(cd "$dir" && pwd)
    if [ -f "$dir/pid" ] && alive "$(cat "$dir/pid")"; then
        echo "zk-server.sh: a server already runs from $dir (pid $(cat "$dir/pid"))" >&2
        exit 1
    fi
    local port
    if [ -f "$dir/port" ]; then
        port=$(cat "$dir/port")
    else
        port=$(free_port)
        echo "$port" >"$dir/port"
    fi
    cat >"$dir/zoo.cfg" <<CFG
tickTime=500
initLimit=10
syncLimit=5
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
minSessionTimeout=1000
maxSessionTimeout=60000
admin.enableServer=false
4lw.commands.whitelist=srvr,ruok,stat,cons
maxClientCnxns=0
CFG
    # setsid: the server gets its own process group, so that stopping it
    # never touches the caller's.
    setsid java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
        -Dzookeeper.admin.enableServer=false \
        -cp "$(classpath)" org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zoo.cfg" \
        >>"$dir/server.log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
    local i
    for i in $(seq 1 300); do
        if srvr "$port" | grep -q '^Mode'; then
            echo "$port"
            return 0
        fi
        if ! alive "$(cat "$dir/pid")"; then
            echo "zk-server.sh: the server exited; its log:" >&2
            tail -20 "$dir/server.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "zk-server.sh: no answer to srvr on 127.0.0.1:$port after 30 s; log in $dir/server.log" >&2
    stop
    exit 1
}

# alive PID: the process exists and is not a zombie waiting for its parent.
alive() {
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

stop() {
    [ -f "$dir/pid" ] || return 0
    local pid i
    pid=$(cat "$dir/pid")
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 100); do
            alive "$pid" || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        while alive "$pid"; do sleep 0.05; done
    fi
    rm -f "$dir/pid"
}

case $cmd in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
