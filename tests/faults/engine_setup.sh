#!/usr/bin/env bash
# ctest fixture private_engine, set-up (once per run, before the first
# test_engine_* test): the private dockerd in its own network namespace
# (engine_lib.sh), with the images of the test distribution and of
# apache_2.6.0 on the stand-in tarball loaded from the main engine.
# Idempotent: what an earlier, killed run left of the private engine (its
# dockerd, containers, state, namespace) is removed first.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/engine_lib.sh"
build=${HDC_BUILD_DIR:?}
src=${HDC_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
hdc=$build/hdc
export HDC_PLUGIN_PATH=$build/e2e-plugins
work=$(mktemp -d /tmp/hdc-engine-setup-XXXXXX)
trap 'rm -rf "$work"' EXIT

fail() { printf 'engine_setup: %s\n' "$*" >&2; exit 1; }

for tool in ip nsenter dockerd docker; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/setup.sh installs it)"
done
[ "$(id -u)" = 0 ] || fail "needs root (a network namespace and a dockerd): run as root"

# The images, on the main engine, as the other integration tests build them
# (cached: quick when they are current): the test distribution's, and
# apache_2.6.0's on the test stand-in tarball (tests/fixtures/fakehadoop,
# NOT Apache Hadoop). The private engine reaches no network, so nothing is
# built there.
images=(hdc/zookeeper:latest hdc/base:latest hdc/client:latest hdc/testdist-testsvc:latest
    hdc/apache_2.6.0-hadoop:latest hdc/apache_2.6.0-client:latest)
out=$("$hdc" build-base --stand-in 2>&1) ||
    fail "hdc build-base on the main engine failed:"$'\n'"$out"
out=$("$hdc" build testdist 2>&1) ||
    fail "hdc build testdist on the main engine failed:"$'\n'"$out"
out=$("$src/tests/fixtures/fakehadoop/build.sh" 2.6.0 "$work/dist" 2>&1) ||
    fail "the stand-in tarball 2.6.0 was not built:"$'\n'"$out"
out=$("$hdc" build apache_2.6.0 --hadoop-tarball "$work/dist/hadoop-2.6.0.tar.gz" 2>&1) ||
    fail "hdc build apache_2.6.0 on the main engine failed:"$'\n'"$out"

# hdc up runs images by their identity tags (REPO:id-<16 hex>): those
# travel too, with the stand-in's aliases.
for img in "${images[@]}"; do
    id=$(docker image inspect -f '{{index .Config.Labels "hdc.identity"}}' "$img" 2>/dev/null)
    [ ${#id} = 64 ] || fail "$img has no identity label (hdc.identity): rebuild it"
    images+=("${img%:*}:id-${id:0:16}")
    docker image inspect "${img%:*}:stand-in" >/dev/null 2>&1 && images+=("${img%:*}:stand-in")
done

pe_destroy || fail "could not remove the private engine an earlier run left"
pe_ns_up || fail "could not create the network namespace $pe_ns"
pe_start || fail "the private dockerd did not start (log: $pe_log)"

# One save of them all: their shared layers travel once.
docker save "${images[@]}" | pe_docker load >/dev/null ||
    fail "moving ${images[*]} to the private engine failed"
for img in "${images[@]}"; do
    pe_docker image inspect "$img" >/dev/null 2>&1 || fail "$img is missing on the private engine after the load"
done
echo "private engine up in namespace $pe_ns (socket $pe_sock, PID $(pe_pid)) with ${images[*]}"
