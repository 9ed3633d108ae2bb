#!/usr/bin/env bash
# A newcomer's first command: set-up from nothing (packages, Docker engine,
# base image, build), then the images and one cluster, with its endpoints.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"

# 'hdc up' is not part of this version yet: say so rather than fake a cluster.
cat <<MSG

quickstart: set-up is complete: the Debian packages are installed, a Docker
engine answers, debian:bookworm exists and hdc is built in build/.
No cluster was started: 'hdc up' is not part of this version yet (see
docs/status.md for what works today and what comes next).
MSG
