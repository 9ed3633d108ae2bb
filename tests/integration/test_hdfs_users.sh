#!/usr/bin/env bash
# The users HDFS sees, end to end against the real dockerd: one apache_3.3.6
# cluster (one datanode) on the test stand-in (tests/fixtures/fakehadoop,
# NOT Apache Hadoop), whose namenode checks permissions as HDFS does, and
# its client node (`hdc client`):
#   root on the client node is refused writing into the test user's home,
#   with Hadoop's AccessControlException message, as real HDFS refuses it
#   (root is no HDFS superuser);
#   `hdc exec NAME client -- ...` runs as the test user, whose -put into its
#   home succeeds and whose -cat gives the bytes back;
#   a non-login ssh command by the cluster's key, as the test user, on the
#   port `hdc --json status` shows, runs `hdfs dfs -ls /`;
#   `hdc exec NAME namenode -- hdfs dfsadmin -report` runs as hdfs, the
#   namenode's user, a superuser (root would be refused);
#   `hdc exec NAME namenode --user nosuchuser -- true` exits 2 naming the
#   user; `hdc down` leaves nothing labelled.
set -u
build=${HDC_BUILD_DIR:?}
src=${HDC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
hdc=$build/hdc
work=$(mktemp -d /tmp/hdc-users-XXXXXX)
export HDC_LOGS_DIR=$work/logs HDC_STATE_DIR=$work/state
name=hu$$

cleanup() {
    "$hdc" down "$name" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib.sh"

labelled() { # objects labelled hdc.cluster=NAME, containers, networks and volumes
    { docker ps -aq --filter "label=hdc.cluster=$1"
      docker network ls -q --filter "label=hdc.cluster=$1"
      docker volume ls -q --filter "label=hdc.cluster=$1"; } | wc -l
}

# ---- images ------------------------------------------------------------------
if ! out=$("$src/tests/fixtures/fakehadoop/build.sh" 3.3.6 "$work/dist" 2>&1); then
    bad "stand-in tarball 3.3.6" "$out"; finish
fi
if ! out=$("$hdc" build-base --stand-in 2>&1); then
    bad "build-base" "$out"; finish
fi
if ! out=$("$hdc" build apache_3.3.6 --hadoop-tarball "$work/dist/hadoop-3.3.6.tar.gz" 2>&1); then
    bad "build apache_3.3.6" "$out"; finish
fi

# ---- the cluster and its client node -----------------------------------------
if ! up=$("$hdc" --json up apache_3.3.6 --name "$name" --datanodes 1 2>"$work/up.err") \
    || [ "$(jq -r '.[0].state' <<<"$up" 2>/dev/null)" != up ]; then
    bad "up of $name" "$up" "$(tail -20 "$work/up.err")"; finish
fi
ok "apache_3.3.6 up with one datanode"
if ! info=$("$hdc" --json client "$name" --port 0 2>"$work/client.err") \
    || ! key=$(jq -er .key <<<"$info") || ! user=$(jq -er .user <<<"$info"); then
    bad "hdc client $name" "$info" "$(tail -20 "$work/client.err")"; finish
fi
ok "hdc client: the client node is up (test user $user)"

# ---- who may write into the test user's home ---------------------------------
bytes="hdfs users $$ $(date +%s%N)"
"$hdc" exec "$name" client -- sh -c "printf '%s\n' '$bytes' >/tmp/users-f && chmod 644 /tmp/users-f" \
    >/dev/null 2>&1
out=$("$hdc" exec "$name" client --user root -- hdfs dfs -put /tmp/users-f "/user/$user/x" 2>&1); st=$?
if [ $st != 0 ] && grep -q "^put: Permission denied: user=root, access=WRITE, inode=\"/user/$user\":$user:" <<<"$out"; then
    ok "root on the client node is refused writing into /user/$user, with Hadoop's message"
else
    bad "root's -put into /user/$user" "status $st" "$out"
fi
out=$("$hdc" exec "$name" client -- hdfs dfs -put /tmp/users-f "/user/$user/x" 2>&1); st=$?
got=$("$hdc" exec "$name" client -- hdfs dfs -cat "/user/$user/x" 2>&1)
if [ $st = 0 ] && [ "$got" = "$bytes" ]; then
    ok "exec on the client as its default user ($user): -put into its home, -cat gives the bytes back"
else
    bad "the test user's -put and -cat" "put status $st: $out" "cat: $got"
fi
owner=$("$hdc" exec "$name" client -- hdfs dfs -ls "/user/$user/x" 2>&1)
grep -qE "^-rw-r--r-- +1 +$user " <<<"$owner" && ok "the file is the test user's" \
    || bad "owner of /user/$user/x" "$owner"

# ---- ssh as the test user, on the port hdc status shows ----------------------
port=$("$hdc" --json status "$name" \
       | jq -r '.nodes[] | select(.hostname == "client") | .endpoints[] | select(.port == 22)
                | .host_port' 2>/dev/null)
got=$(ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
          -o BatchMode=yes -o ConnectTimeout=10 -p "${port:-0}" -i "$key" "$user@127.0.0.1" \
          hdfs dfs -ls / 2>&1); st=$?
if [ -n "$port" ] && [ $st = 0 ] && grep -qE " /user$" <<<"$got"; then
    ok "ssh -p $port $user@127.0.0.1 hdfs dfs -ls / (a non-login command) lists HDFS"
else
    bad "ssh to the client node" "port '$port', status $st" "$got"
fi

# ---- the namenode's user, and a user the node lacks --------------------------
got=$("$hdc" exec "$name" namenode -- hdfs dfsadmin -report 2>&1); st=$?
if [ $st = 0 ] && grep -q "Live datanodes (1):" <<<"$got"; then
    ok "exec namenode -- hdfs dfsadmin -report runs as hdfs (the superuser)"
else
    bad "dfsadmin -report on the namenode" "status $st" "$got"
fi
got=$("$hdc" exec "$name" namenode --user root -- hdfs dfsadmin -report 2>&1); st=$?
[ $st != 0 ] && grep -q "Access denied for user root. Superuser privilege is required" <<<"$got" \
    && ok "the same as root is refused: root is no HDFS superuser" \
    || bad "dfsadmin -report as root" "status $st" "$got"
got=$("$hdc" exec "$name" namenode --user nosuchuser -- true 2>&1); st=$?
[ $st = 2 ] && grep -q "nosuchuser" <<<"$got" \
    && ok "exec --user nosuchuser exits 2 naming the user" \
    || bad "exec --user nosuchuser" "status $st" "$got"

# ---- down ----------------------------------------------------------------------
"$hdc" down "$name" >/dev/null 2>&1
[ "$(labelled "$name")" = 0 ] && ok "down leaves nothing labelled" \
    || bad "down left objects" "$(docker ps -a --filter "label=hdc.cluster=$name")"
finish
