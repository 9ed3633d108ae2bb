#!/usr/bin/env bash
# `hdc client`'s ssh port, end to end with the test distribution
# (tests/e2e/testdist) against the real dockerd:
#   three clusters, `hdc client` on each without --port: 3333 where it is
#   free, else a port Docker chooses, named on stderr; three different
#   ports; an ssh login by the cluster's key works on each;
#   a client node that fails (--client-dist testdist_crash, whose client
#   exits) fails the start with its log and leaves no container, and the
#   next `hdc client` starts one;
#   an explicit --port that is taken fails with a message naming the port,
#   not Docker's error, and leaves no container;
#   the clusters are made with --test-user tester, and `hdc client` without
#   --test-user logs in as the cluster's own test user.
set -u
build=${HDC_BUILD_DIR:?}
hdc=$build/hdc
export HDC_PLUGIN_PATH=$build/e2e-plugins
work=$(mktemp -d /tmp/hdc-client-ports-XXXXXX)
export HDC_LOGS_DIR=$work/logs HDC_STATE_DIR=$work/state
prefix=cp$$
clusters=("$prefix"-a "$prefix"-b "$prefix"-c)

cleanup() {
    "$hdc" down "${clusters[@]}" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib.sh"

client_containers() { # NAME: how many client containers the cluster has, in any state
    docker ps -aq --filter "name=^/$1_client_1\$" | wc -l
}

ssh_opts=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
          -o BatchMode=yes -o ConnectTimeout=10)

# ---- images and clusters ------------------------------------------------------
if ! out=$("$hdc" build-base --stand-in 2>&1); then
    bad "build-base" "$out"; finish
fi
for dist in testdist testdist_crash; do
    if ! out=$("$hdc" build "$dist" 2>&1); then
        bad "build $dist" "$out"; finish
    fi
done
if ! out=$("$hdc" up testdist --name "${clusters[0]}" testdist --name "${clusters[1]}" \
           testdist --name "${clusters[2]}" --test-user tester 2>&1); then
    bad "up of three clusters" "$out"; finish
fi
ok "images built, three clusters up"

# ---- a client node that fails leaves nothing, and a retry works ---------------
a=${clusters[0]}
out=$("$hdc" client "$a" --client-dist testdist_crash 2>&1); st=$?
if [ $st = 1 ] && grep -q "^hdc: client: $a: the client node failed: " <<<"$out" \
    && grep -q "the client node exits on purpose" <<<"$out" \
    && [ "$(client_containers "$a")" = 0 ]; then
    ok "a client node that fails: exit 1, its log in the message, no container left"
else
    bad "failing client node" "status $st" "$out" "$(docker ps -a --filter "name=$a" --format '{{.Names}} {{.Status}}')"
fi

# ---- without --port: 3333 if free, else Docker's choice -----------------------
declare -A port key user
client() { # NAME: its client without --port; port[NAME], key[NAME], user[NAME]
    local n=$1 json
    if ! json=$("$hdc" --json client "$n" 2>"$work/$n.err"); then
        bad "client $n" "$json" "$(cat "$work/$n.err")"
        return
    fi
    port[$n]=$(jq -r .ssh_port <<<"$json")
    key[$n]=$(jq -r .key <<<"$json")
    user[$n]=$(jq -r .user <<<"$json")
    if [ "${port[$n]}" = 3333 ]; then
        ok "client $n: ssh on 3333"
    elif [[ ${port[$n]} =~ ^[1-9][0-9]*$ ]] \
        && grep -qx "hdc: client: $n: port 3333 of 127.0.0.1 is taken: ssh is on port ${port[$n]}" \
            "$work/$n.err"; then
        ok "client $n: 3333 is taken: ssh on ${port[$n]}, said on stderr"
    else
        bad "client $n: port ${port[$n]}" "$json" "$(cat "$work/$n.err")"
    fi
}
client "${clusters[0]}"
client "${clusters[1]}"

# ---- an explicit --port that is taken: refused, nothing left ------------------
c=${clusters[2]}
for taken in "${port[@]}"; do # the clients of this test hold them
    out=$("$hdc" client "$c" --port "$taken" 2>&1); st=$?
    want="hdc: client: $c: port $taken of 127.0.0.1 is taken: give another --port, or --port 0 for one Docker chooses"
    if [ $st = 1 ] && [ "$out" = "$want" ] && [ "$(client_containers "$c")" = 0 ]; then
        ok "--port $taken (taken): exit 1, the port named, no container left"
    else
        bad "--port $taken (taken)" "status $st" "$out" "want: $want" \
            "$(docker ps -a --filter "name=$c" --format '{{.Names}} {{.Status}}')"
    fi
done
client "$c"

distinct=$(printf '%s\n' "${port[@]}" | sort -u | wc -l)
[ ${#port[@]} = 3 ] && [ "$distinct" = 3 ] && ok "three clients, three ports: ${port[*]}" \
    || bad "ports of the three clients" "${port[@]}"
for n in "${!port[@]}"; do
    got=$(ssh "${ssh_opts[@]}" -i "${key[$n]}" -p "${port[$n]}" "${user[$n]}@127.0.0.1" \
          '. /etc/profile.d/hdc.sh; echo "$HDC_CLUSTER"; id -un' 2>&1)
    [ "${user[$n]}" = tester ] && [ "$(sed -n 1p <<<"$got")" = "$n" ] \
        && [ "$(sed -n 2p <<<"$got")" = tester ] \
        && ok "ssh by key to $n's client on ${port[$n]}, as the cluster's test user" \
        || bad "ssh to $n on ${port[$n]} as '${user[$n]}'" "$got"
done

"$hdc" down "${clusters[@]}" >/dev/null 2>&1
left=$(docker ps -aq --filter "label=hdc.cluster" --filter "name=$prefix-" | wc -l)
[ "$left" = 0 ] && ok "down leaves no container" || bad "containers left" "$left"
finish
