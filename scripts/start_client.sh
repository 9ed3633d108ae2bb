#!/usr/bin/env bash
# The classic interface: run from client_side_tests/<dist>/ (the directory
# names the distribution), start the cluster's client node with ssh on PORT
# (default 3333) and run ./initialize.sh there as root, if there is one:
#   cd client_side_tests/apache_2.6.0 && ../../scripts/start_client.sh [PORT]
# It is `hdc client NAME --port PORT`. Login is by the cluster's key only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hdc=${HDC:-$root/build/hdc}
port=${1:-3333}
dist=$(basename "$PWD")
name=$(tr -cd 'a-z0-9' <<<"${dist,,}")
info=$("$hdc" --json client "$name" --port "$port")
key=$(sed -n 's/.*"key": "\(.*\)".*/\1/p' <<<"$info")
echo "client of $name: ssh -i $key -p $port root@localhost"
if [ -f initialize.sh ]; then
    echo "running initialize.sh on the client"
    ssh -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile="$root/.hdc/known_hosts" \
        -i "$key" -p "$port" root@127.0.0.1 'bash -s' <initialize.sh
fi
