#!/usr/bin/env bash
# The classic interface, kept for old habits: the cluster-independent images.
# It is `hdc build-base` (hdc/base, hdc/client, hdc/zookeeper); arguments are
# passed on (e.g. --base-image IMAGE for the JDK layer).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
exec "${HDC:-$root/build/hdc}" build-base "$@"
