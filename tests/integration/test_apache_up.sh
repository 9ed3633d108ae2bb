#!/usr/bin/env bash
# Whole Apache Hadoop clusters from the apache_<version> plugins
# (plugins/apache.c, clusters/apache), end to end against the real dockerd,
# with the test stand-in tarball (tests/fixtures/fakehadoop, NOT Apache
# Hadoop: no release can be downloaded here) in place of the release:
#   a tarball of the wrong version is refused by the image build;
#   apache_2.6.0 and apache_3.3.6 up at once from one `hdc up`, two datanodes
#   each: every node up, every PROBE step done; through `hdc status --json`
#   endpoints the namenode's /jmx counts 2 live datanodes and the
#   resourcemanager 2 active nodemanagers, on each version's own ports
#   (2.x 50070/50075, 3.x 9870/9864); the history server runs the version;
#   the HDFS directories of MapReduce exist with their owners and modes;
#   dfs.replication follows the datanode count; -put from one datanode,
#   -cat from another returns the bytes;
#   a restarted namenode is not formatted again and keeps its files;
#   after `hdc down`, a new `hdc up` of the same name (3 datanodes) starts
#   from a freshly formatted namenode that counts 3 datanodes;
#   `hdc down` leaves nothing labelled.
set -u
build=${HDC_BUILD_DIR:?}
src=${HDC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
hdc=$build/hdc
work=$(mktemp -d /tmp/hdc-apache-XXXXXX)
export HDC_LOGS_DIR=$work/logs
prefix=ap$$
a=$prefix-a   # apache_2.6.0
b=$prefix-b   # apache_3.3.6

cleanup() {
    "$hdc" down "$a" "$b" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib.sh"

labelled() { # objects labelled hdc.cluster=NAME, containers, networks and volumes
    { docker ps -aq --filter "label=hdc.cluster=$1"
      docker network ls -q --filter "label=hdc.cluster=$1"
      docker volume ls -q --filter "label=hdc.cluster=$1"; } | wc -l
}

# endpoint STATUS_JSON HOSTNAME PORT: 127.0.0.1:<host port> of that node's port.
endpoint() {
    jq -r --arg h "$2" --argjson p "$3" \
        '.nodes[] | select(.hostname == $h) | .endpoints[] | select(.port == $p)
         | "\(.host_ip):\(.host_port)"' <<<"$1"
}

# ---- images ------------------------------------------------------------------
for v in 2.6.0 3.3.6; do
    if ! out=$("$src/tests/fixtures/fakehadoop/build.sh" "$v" "$work/dist" 2>&1); then
        bad "stand-in tarball $v" "$out"; finish
    fi
done
if ! out=$("$hdc" build-base --stand-in 2>&1); then
    bad "build-base" "$out"; finish
fi

# A tarball of another version under the expected name: the build refuses it.
out=$("$hdc" build apache_2.6.0 --hadoop-tarball "$work/dist/hadoop-3.3.6.tar.gz" 2>&1); st=$?
[ $st != 0 ] && grep -Eq "has no hadoop-2.6.0/bin/hadoop|3\.3\.6" <<<"$out" \
    && ok "a tarball of the wrong version is refused by the image build" \
    || bad "wrong-version tarball" "status $st" "$(tail -5 <<<"$out")"

# A tarball whose SHA-512 is not the one beside it: refused before any build.
mkdir -p "$work/bad" "$work/text"
cp "$work/dist/hadoop-2.6.0.tar.gz" "$work/bad/"
sha512sum "$work/dist/hadoop-3.3.6.tar.gz" | sed 's|  .*|  hadoop-2.6.0.tar.gz|' \
    >"$work/bad/hadoop-2.6.0.tar.gz.sha512"
out=$("$hdc" build apache_2.6.0 --hadoop-tarball "$work/bad/hadoop-2.6.0.tar.gz" 2>&1); st=$?
[ $st != 0 ] && grep -q "not the expected" <<<"$out" && ! grep -q "Step 1/" <<<"$out" \
    && ok "a tarball failing its checksum is refused before any image is built" \
    || bad "bad checksum" "status $st" "$(tail -5 <<<"$out")"
# Not a tarball at all (its checksum file agrees): refused. Not being the
# stand-in, it counts as a release, which the stand-in's base (no JDK)
# refuses before any build; on a base with a JDK the image build would
# (it has no hadoop-2.6.0/bin/hadoop).
echo "not a tarball" >"$work/text/hadoop-2.6.0.tar.gz"
(cd "$work/text" && sha512sum hadoop-2.6.0.tar.gz >hadoop-2.6.0.tar.gz.sha512)
out=$("$hdc" build apache_2.6.0 --hadoop-tarball "$work/text/hadoop-2.6.0.tar.gz" 2>&1); st=$?
[ $st != 0 ] && ! grep -q "Step 1/" <<<"$out" \
    && grep -qE "has no hadoop-2.6.0/bin/hadoop|a Hadoop release needs a base with a JDK" <<<"$out" \
    && ok "a file that is not a tarball is refused (on the stand-in's base: before any build)" \
    || bad "not a tarball" "status $st" "$(tail -5 <<<"$out")"

for v in 2.6.0 3.3.6; do
    if ! out=$("$hdc" build "apache_$v" --hadoop-tarball "$work/dist/hadoop-$v.tar.gz" 2>&1); then
        bad "build apache_$v" "$out"; finish
    fi
    # The build says so too, unless its steps came from Docker's cache.
    docker run --rm --entrypoint sh hdc/base:stand-in -c '! command -v java' >/dev/null \
        && docker run --rm --entrypoint test "hdc/apache_$v-hadoop:stand-in" \
            -x /opt/hadoop/libexec/hdc-standin \
        && ok "apache_$v: the stand-in is built on a base without java (no JDK check)" \
        || bad "apache_$v: the stand-in on a base without java" "$(tail -5 <<<"$out")"
done

# A release that is not the stand-in, on a base without java: the build
# fails saying so (hdc-java-check), and the stand-in's image stays.
mkdir -p "$work/real/hadoop-2.6.0/bin"
printf '#!/bin/sh\necho "Hadoop 2.6.0"\n' >"$work/real/hadoop-2.6.0/bin/hadoop"
chmod +x "$work/real/hadoop-2.6.0/bin/hadoop"
tar -C "$work/real" -czf "$work/real/hadoop-2.6.0.tar.gz" hadoop-2.6.0
(cd "$work/real" && sha512sum hadoop-2.6.0.tar.gz >hadoop-2.6.0.tar.gz.sha512)
before=$(docker image inspect -f '{{.Id}}' hdc/apache_2.6.0-hadoop:latest)
out=$("$hdc" build apache_2.6.0 --hadoop-tarball "$work/real/hadoop-2.6.0.tar.gz" 2>&1); st=$?
[ $st != 0 ] && grep -Eq "the base image has no java|is the base of hdc's test stand-in" <<<"$out" \
    && grep -q "hdc build-base --base-image IMAGE" <<<"$out" \
    && [ "$(docker image inspect -f '{{.Id}}' hdc/apache_2.6.0-hadoop:latest)" = "$before" ] \
    && ok "a release on a base without java: the build fails saying what to do, the image stays" \
    || bad "a release on a base without java" "status $st" "$(tail -5 <<<"$out")"

# ---- two versions up at once -------------------------------------------------
start=$(date +%s.%N)
# --memory: twice the minimum of a cluster of either version with two
# datanodes (6656 MB: the limits apache.c declares, ZooKeeper's 512 in).
up=$("$hdc" --json up apache_2.6.0 --name "$a" apache_3.3.6 --name "$b" --datanodes 2 \
     --memory 13312 2>"$work/up.err"); st=$?
secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
for n in "$a" "$b"; do
    c=$(jq --arg n "$n" '.[] | select(.cluster == $n)' <<<"$up" 2>/dev/null)
    if [ $st = 0 ] && [ "$(jq -r .state <<<"$c")" = up ] \
        && [ "$(jq '[.nodes[] | select(.service != "zookeeper" and .state == "up")] | length' <<<"$c")" = 7 ] \
        && [ "$(jq '[.steps[] | select(.name == "datanodes-live" or .name == "nodemanagers-active"
                                  or .name == "historyserver-answers") | select(.end_ms != null)]
                   | length' <<<"$c")" = 3 ]; then
        ok "$(jq -r .dist <<<"$c"): 7 nodes up and every probe green (both clusters in $secs s)"
    else
        bad "up of $n" "status $st" "$(jq -c '.[]? | {cluster, state, error}' <<<"$up" 2>/dev/null || echo "$up")" \
            "$(tail -20 "$work/up.err")"
        finish
    fi
done

# ---- memory: every container's limit, twice what the plugin declares --------
for n in "$a" "$b"; do
    mem=$(docker ps -a --filter "label=hdc.cluster=$n" -q \
          | xargs docker inspect -f '{{index .Config.Labels "hdc.service"}} {{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{range .Config.Env}}{{println .}}{{end}}' 2>&1 \
          | awk '/^[a-z]+ [0-9]+ [0-9]+ / {print $1, $2 / 1048576, $3 / 1048576; next}
                 /^HDC_HEAP_MB=/ {print "heap", substr($0, 13)}')
    want="zookeeper 1024 1024|namenode 1536 1536|datanode 1024 1024|resourcemanager 1536 1536|nodemanager 3072 3072|historyserver 1024 1024"
    wrong=$(awk -v want="$want" 'BEGIN {n = split(want, w, "|"); for (i = 1; i <= n; i++) ok[w[i]] = 1}
                                 $1 != "heap" && !ok[$0] {print "unexpected: " $0}' <<<"$mem")
    if [ -z "$wrong" ] && [ "$(grep -vc '^heap' <<<"$mem")" = 8 ] \
        && grep -q '^heap 1024$' <<<"$mem" && grep -q '^heap 512$' <<<"$mem"; then
        ok "$n: --memory 13312: every container's limit (no swap) and heap is twice its declared one"
    else
        bad "$n: memory limits" "$wrong" "$mem"
    fi
done

# ---- each cluster ------------------------------------------------------------
for n in "$a" "$b"; do
    case $n in
    "$a") v=2.6.0 nn_http=50070 dn_http=50075 ;;
    *) v=3.3.6 nn_http=9870 dn_http=9864 ;;
    esac
    status=$("$hdc" --json status "$n")

    nn=$(endpoint "$status" namenode "$nn_http")
    if [ -n "$nn" ] && jmx=$(curl -fsS "http://$nn/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState") \
        && [ "$(jq '.beans[0].NumLiveDataNodes' <<<"$jmx")" = 2 ]; then
        ok "$v: namenode /jmx on port $nn_http: 2 live datanodes"
    else
        bad "$v: namenode /jmx" "endpoint '$nn'" "${jmx:-}"
    fi
    rm_ep=$(endpoint "$status" resourcemanager 8088)
    if [ -n "$rm_ep" ] && m=$(curl -fsS "http://$rm_ep/ws/v1/cluster/metrics") \
        && [ "$(jq '.clusterMetrics.activeNodes' <<<"$m")" = 2 ]; then
        ok "$v: resourcemanager metrics: 2 active nodemanagers"
    else
        bad "$v: resourcemanager metrics" "endpoint '$rm_ep'" "${m:-}"
    fi
    jhs=$(endpoint "$status" historyserver 19888)
    if [ -n "$jhs" ] && info=$(curl -fsS "http://$jhs/ws/v1/history/info") \
        && [ "$(jq -r '.historyInfo.hadoopVersion' <<<"$info")" = "$v" ]; then
        ok "$v: history server answers, version $v"
    else
        bad "$v: history server" "endpoint '$jhs'" "${info:-}"
    fi
    dn=$(endpoint "$status" datanode2 "$dn_http")
    [ -n "$dn" ] && curl -fsS -o /dev/null "http://$dn/jmx" \
        && ok "$v: datanode web UI on port $dn_http" || bad "$v: datanode web UI on $dn_http" "$status"

    ls=$("$hdc" exec "$n" namenode -- hdfs dfs -ls /mr-history 2>&1)
    if grep -qE '^drwxrwxrwt +- mapred hadoop .* /mr-history/done$' <<<"$ls" \
        && grep -qE '^drwxrwxrwt +- mapred hadoop .* /mr-history/tmp$' <<<"$ls"; then
        ok "$v: /mr-history/{tmp,done} are mapred:hadoop 1777"
    else
        bad "$v: /mr-history" "$ls"
    fi
    dirs=$("$hdc" exec "$n" namenode -- hdfs dfs -ls -d /tmp /tmp/hadoop-yarn/staging /user/mapred \
           /user/hdc /app-logs 2>&1)
    if grep -qE '^drwxrwxrwt .* /tmp$' <<<"$dirs" \
        && grep -qE '^drwxrwxrwt +- mapred hadoop .* /tmp/hadoop-yarn/staging$' <<<"$dirs" \
        && grep -qE ' mapred hadoop .* /user/mapred$' <<<"$dirs" \
        && grep -qE ' hdc hadoop .* /user/hdc$' <<<"$dirs" \
        && grep -qE '^drwxrwxrwt +- yarn hadoop .* /app-logs$' <<<"$dirs"; then
        ok "$v: /tmp, staging, /user/mapred, /user/<test user>, /app-logs as MapReduce needs"
    else
        bad "$v: HDFS directories" "$dirs"
    fi
    r=$("$hdc" exec "$n" datanode1 -- hdfs getconf -confKey dfs.replication 2>&1)
    [ "$r" = 2 ] && ok "$v: dfs.replication = 2 for 2 datanodes" || bad "$v: dfs.replication" "$r"

    bytes="round trip $v $$ $(date +%s%N)"
    if "$hdc" exec "$n" datanode1 -- sh -c "printf '%s\n' '$bytes' >/tmp/rt && hdfs dfs -put /tmp/rt /user/hdc/rt.txt" \
        && got=$("$hdc" exec "$n" datanode2 -- hdfs dfs -cat /user/hdc/rt.txt 2>&1) \
        && [ "$got" = "$bytes" ]; then
        ok "$v: -put from datanode1, -cat from datanode2 returns the bytes"
    else
        bad "$v: put/cat round trip" "${got:-}"
    fi
done

# ---- the client node --------------------------------------------------------
# hdc client: ssh by the cluster's key as the test user, the distribution's
# client configured for the cluster, /usr/local shared with the nodemanagers.
export HDC_STATE_DIR=$work/state
ssh_opts=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
          -o BatchMode=yes -o ConnectTimeout=10)
for c in "$a:2.6.0" "$b:3.3.6"; do
    name=${c%%:*} v=${c#*:}
    if ! info=$("$hdc" --json client "$name" --port 0 2>"$work/client.err") \
        || ! port=$(jq -r .ssh_port <<<"$info") || ! key=$(jq -r .key <<<"$info"); then
        bad "hdc client $name" "$info" "$(cat "$work/client.err")"
        continue
    fi
    grep -q "run_tests.sh is ready" "$work/client.err" \
        && ok "$v client: client_side_tests/apache_$v/initialize.sh ran" \
        || bad "$v initialize.sh" "$(cat "$work/client.err")"
    got=$(ssh "${ssh_opts[@]}" -i "$key" -p "$port" hdc@127.0.0.1 \
          'bash -lc "./run_tests.sh; hdfs dfs -ls /user"' 2>&1)
    if grep -q "run_tests.sh: all passed" <<<"$got" && grep -q "written by hdc on client" <<<"$got" \
        && grep -q "/user/hdc" <<<"$got" && grep -q "$v" <<<"$got"; then
        ok "$v client: the test user's -put then -cat over ssh by key returns the bytes"
    else
        bad "$v client run_tests.sh" "$got"
    fi
    # A command without a login shell (what CI scripts send) finds the
    # Hadoop environment too.
    got=$(ssh "${ssh_opts[@]}" -i "$key" -p "$port" hdc@127.0.0.1 \
          'hdfs dfs -ls /user && echo "conf=$HADOOP_CONF_DIR home=$HADOOP_HOME"' 2>&1)
    grep -q "/user/hdc" <<<"$got" && grep -q "conf=/etc/hadoop/conf home=/opt/hadoop" <<<"$got" \
        && ok "$v client: a non-login ssh command runs hdfs with the Hadoop environment" \
        || bad "$v client: non-login ssh command" "$got"
    ssh "${ssh_opts[@]}" -o PubkeyAuthentication=no -p "$port" hdc@127.0.0.1 true 2>/dev/null \
        && bad "$v client: a password login was accepted" \
        || ok "$v client: no login without the key"
    ssh "${ssh_opts[@]}" -i "$key" -p "$port" root@127.0.0.1 "echo $v > /usr/local/hdc-test" \
        && got=$("$hdc" exec "$name" nodemanager1 -- cat /usr/local/hdc-test 2>&1) \
        && [ "$got" = "$v" ] \
        && ok "$v client: /usr/local is shared with the nodemanagers" \
        || bad "$v client /usr/local" "${got:-}"
done

# ---- the namenode is formatted on a cluster's first start only --------------
# A restarted container's agent sees /namenode read "up" or "failed:" (its
# service was booted before) and starts the daemon again by itself.
formats() { docker logs "${1}_namenode_1" 2>&1 | grep -c "successfully formatted"; }
if docker restart "${a}_namenode_1" >/dev/null; then
    for _ in $(seq 1 60); do
        [ "$("$hdc" exec "$a" namenode -- sh -c 'hdfs dfsadmin -safemode get' 2>/dev/null)" = "Safe mode is OFF" ] \
            && break
        sleep 0.5
    done
    got=$("$hdc" exec "$a" namenode -- hdfs dfs -cat /user/hdc/rt.txt 2>&1)
    if [ "$(formats "$a")" = 1 ] && grep -q "round trip 2.6.0" <<<"$got"; then
        ok "a restarted namenode is not formatted again and keeps its files"
    else
        bad "namenode restart" "formats: $(formats "$a")" "$got"
    fi
else
    bad "could not restart ${a}_namenode_1"
fi

# ---- a restarted nodemanager registers as the same node -----------------------
# yarn.nodemanager.address has a fixed port: with Hadoop's ephemeral
# default a restarted nodemanager registers as a second node, and the
# activeNodes == N probe stays red until the first is declared lost.
rm_ep=$(endpoint "$("$hdc" --json status "$a")" resourcemanager 8088)
node_ids() { curl -fsS "http://$rm_ep/ws/v1/cluster/nodes" | jq -r '[.nodes.node[].id] | sort | join(" ")'; }
registrations() { docker logs "${a}_resourcemanager_1" 2>&1 | grep -c "from node nodemanager1("; }
before_ids=$(node_ids) before_regs=$(registrations)
if docker restart "${a}_nodemanager_1" >/dev/null; then
    for _ in $(seq 1 60); do
        [ "$(registrations)" -gt "$before_regs" ] && break
        sleep 0.5
    done
    after_ids=$(node_ids)
    if [ -n "$before_ids" ] && [ "$after_ids" = "$before_ids" ] && "$hdc" status "$a" >/dev/null 2>&1; then
        ok "a restarted nodemanager registers again as the same node ($after_ids): status green"
    else
        bad "nodemanager restart" "before: $before_ids" "after: $after_ids" \
            "$("$hdc" status "$a" 2>&1 | tail -5)"
    fi
else
    bad "could not restart ${a}_nodemanager_1"
fi

# ---- down, and up again: a fresh, formatted cluster, now with 3 datanodes ---
"$hdc" down "$a" "$b" >/dev/null 2>&1
[ "$(labelled "$a")" = 0 ] && [ "$(labelled "$b")" = 0 ] && ok "down leaves nothing labelled" \
    || bad "down left objects" "$(docker ps -a --filter "label=hdc.cluster=$a" --filter "label=hdc.cluster=$b")"

up=$("$hdc" --json up apache_2.6.0 --name "$a" --datanodes 3 2>"$work/up2.err"); st=$?
if [ $st = 0 ] && [ "$(jq -r '.[0].state' <<<"$up")" = up ]; then
    status=$("$hdc" --json status "$a")
    nn=$(endpoint "$status" namenode 50070)
    live=$(curl -fsS "http://$nn/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState" \
           | jq '.beans[0].NumLiveDataNodes')
    [ "$live" = 3 ] && ok "--datanodes 3: the namenode reports 3 live datanodes" \
        || bad "--datanodes 3" "NumLiveDataNodes $live"
    r=$("$hdc" exec "$a" namenode -- hdfs getconf -confKey dfs.replication 2>&1)
    [ "$r" = 3 ] && ok "dfs.replication = 3 for 3 datanodes" || bad "dfs.replication for 3" "$r"
    old=$("$hdc" exec "$a" namenode -- hdfs dfs -test -e /user/hdc/rt.txt 2>&1); st=$?
    if [ "$(formats "$a")" = 1 ] && [ $st != 0 ]; then
        ok "up after down starts from a freshly formatted namenode"
    else
        bad "second up" "formats: $(formats "$a"), rt.txt test status $st" "$old"
    fi
else
    bad "second up of $a" "status $st" "$up" "$(tail -20 "$work/up2.err")"
fi
"$hdc" down "$a" >/dev/null 2>&1
[ "$(labelled "$a")" = 0 ] && ok "down after the second up leaves nothing labelled" \
    || bad "second down left objects" "$(docker ps -a --filter "label=hdc.cluster=$a")"

finish
