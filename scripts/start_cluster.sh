#!/usr/bin/env bash
# The classic interface: start a distribution's cluster with the classic
# fixed host ports (namenode UI on localhost:50070 for 2.x, RM on 8088, ...),
# e.g. scripts/start_cluster.sh apache_2.6.0 [-y]
# It is `hdc up DIST --publish-classic`: one such cluster per host. Without
# the fixed ports, `hdc up` runs many at once. A stopped cluster of the same
# name is refused unless -y is given (then it is removed, as the classic
# script did after asking); its logs are moved to logs.backup.<pid>/.
# The output keeps the classic "Creating <container>..." lines.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 DIST [hdc up flags]" >&2; exit 2; }
"${HDC:-$root/build/hdc}" up "$1" --publish-classic "${@:2}" 2>&1 |
    sed -E 's/^([a-z0-9-]+) ([a-z-]+[a-z])([0-9]*) created .*/Creating \1_\2_\3.../; s/_\.\.\.$/_1.../'
