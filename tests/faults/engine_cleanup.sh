#!/usr/bin/env bash
# ctest fixture private_engine, clean-up (after the last test_engine_* test,
# passed or not): stops the private dockerd by its PID, removes its state
# and its network namespace (engine_lib.sh). Never touches the main engine.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/engine_lib.sh"

pe_destroy || { echo "engine_cleanup: the private engine was not removed completely" >&2; exit 1; }
[ -e "$pe_netns" ] && { echo "engine_cleanup: namespace $pe_ns is still there" >&2; exit 1; }
echo "private engine stopped and removed"
