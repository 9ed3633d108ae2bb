#!/usr/bin/env bash
# The classic interface: a distribution's images, e.g.
#   scripts/build_cluster_images.sh apache_2.6.0 [--hadoop-tarball FILE]
# It is `hdc build DIST`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 DIST [hdc build flags]" >&2; exit 2; }
exec "${HDC:-$root/build/hdc}" build "$@"
