#!/usr/bin/env bash
# real-hadoop.sh: hdc against real Apache Hadoop releases, where a network
# and Docker exist (it cannot run where hdc is developed: no network to
# apache.org there; the tests use the stand-in instead). It
#   1. builds hdc (cmake) unless the build directory already has it;
#   2. builds the base image on a JDK image (`hdc build-base --base-image`,
#      default eclipse-temurin:8-jdk: Java 8 runs Hadoop 2.x and 3.x; Debian
#      bookworm's only JDK, 17, runs neither);
#   3. builds every distribution from its release tarball, downloaded from
#      archive.apache.org into the cache and checked against its SHA-512
#      (`hdc build`; docs/distributions.md says which are pinned);
#   4. runs `hdc matrix` over them with an HDFS round trip as the test user:
#      put a file under /user/<test user>, cat it back, compare, rm it.
# Exits 0 only if every step passed; 2 on bad usage, before anything is
# built. .github/workflows/real-hadoop.yml runs it; docs/ci.md says more.
set -euo pipefail

all_dists=(apache_2.6.0 apache_2.7.7 apache_2.10.2 apache_3.3.6 apache_3.4.1)
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")

usage() {
    cat <<EOF
usage: scripts/real-hadoop.sh [options] [DIST...]

Builds real Apache Hadoop distributions on a JDK base and runs \`hdc matrix\`
over them with an HDFS round trip (put, cat, rm under /user/<test user>) as
the test user. Needs Docker and the network (archive.apache.org, the JDK
image's registry). DIST: any of ${all_dists[*]}
(default: all five).

options:
  --build-dir DIR    hdc's build directory (default: $src/build); hdc is
                     built there with cmake when DIR/hdc is missing
  --base-image IMG   the JDK image of the base (default: \$HDC_BASE_IMAGE,
                     else eclipse-temurin:8-jdk)
  --dist-cache DIR   where release tarballs are cached (default:
                     \$HDC_DIST_CACHE, else ~/.cache/hdc/dist)
  --junit FILE       the matrix's JUnit report (default: real-hadoop.xml)
  --parallel N       clusters alive at once (default: 2)
  --datanodes N      datanodes (and nodemanagers) per cluster (default: 2)
  --test-user USER   the client's test user (default: \$HDC_TEST_USER, else hdc)
  -h, --help         this text

Exit 0: every distribution built and passed; 1: a build or a test failed;
2: bad usage.
EOF
}

bad_usage() {
    echo "real-hadoop.sh: $*; see --help" >&2
    exit 2
}

build_dir=$src/build
base_image=${HDC_BASE_IMAGE:-eclipse-temurin:8-jdk}
dist_cache=${HDC_DIST_CACHE:-}
junit=real-hadoop.xml
parallel=2
datanodes=2
test_user=${HDC_TEST_USER:-hdc}
dists=()

need_value() { # FLAG COUNT
    [ "$2" -ge 2 ] || bad_usage "$1 needs a value"
}
whole_number() { # FLAG VALUE
    case $2 in
    '' | *[!0-9]*) bad_usage "$1 takes a whole number, not '$2'" ;;
    esac
    [ "$2" -ge 1 ] || bad_usage "$1 must be at least 1"
}

while [ $# -gt 0 ]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --build-dir) need_value "$1" $#; build_dir=$2; shift ;;
    --base-image) need_value "$1" $#; base_image=$2; shift ;;
    --dist-cache) need_value "$1" $#; dist_cache=$2; shift ;;
    --junit) need_value "$1" $#; junit=$2; shift ;;
    --parallel) need_value "$1" $#; whole_number "$1" "$2"; parallel=$2; shift ;;
    --datanodes) need_value "$1" $#; whole_number "$1" "$2"; datanodes=$2; shift ;;
    --test-user) need_value "$1" $#; test_user=$2; shift ;;
    -*) bad_usage "unknown option $1" ;;
    *)
        known=0
        for d in "${all_dists[@]}"; do
            [ "$1" = "$d" ] && known=1
        done
        [ $known = 1 ] || bad_usage "unknown distribution $1 (known: ${all_dists[*]})"
        dists+=("$1")
        ;;
    esac
    shift
done
[ ${#dists[@]} -gt 0 ] || dists=("${all_dists[@]}")
[ -n "$base_image" ] || bad_usage "--base-image needs an image"
[ -n "$test_user" ] || bad_usage "--test-user needs a user name"

fail() {
    echo "real-hadoop.sh: FAIL: $*" >&2
    exit 1
}
step() {
    echo "real-hadoop.sh: $*" >&2
}

docker info >/dev/null 2>&1 ||
    fail "Docker does not answer (docker info): start it, or run where the Docker socket is mounted"

hdc=$build_dir/hdc
if [ ! -x "$hdc" ]; then
    step "building hdc in $build_dir"
    cmake -S "$src" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo ||
        fail "cmake could not configure hdc (are its build dependencies installed? see README.md)"
    cmake --build "$build_dir" -j"$(nproc)" || fail "hdc did not build"
fi
if [ -n "$dist_cache" ]; then
    mkdir -p "$dist_cache" || fail "cannot create the tarball cache $dist_cache"
    export HDC_DIST_CACHE=$dist_cache
fi
export HDC_TEST_USER=$test_user

step "building the base on $base_image"
"$hdc" build-base --base-image "$base_image" ||
    fail "hdc build-base --base-image $base_image failed: is the image a Debian or Ubuntu JDK 8 or 11?"

for d in "${dists[@]}"; do
    step "building $d from the Apache release"
    "$hdc" build "$d" || fail "hdc build $d failed (its output above says which step)"
done

# What the test user runs on each client node: an HDFS round trip in the
# user's own directory, which real HDFS lets only that user (or hdfs) write.
# shellcheck disable=SC2016 # expanded on the client node, not here
roundtrip='set -eu
f="/user/$(id -un)/real-hadoop-roundtrip.$$"
want="hdc real-hadoop round trip on $HDC_DIST"
printf "%s\n" "$want" >"$HOME/roundtrip.txt"
hdfs dfs -put "$HOME/roundtrip.txt" "$f"
got=$(hdfs dfs -cat "$f")
[ "$got" = "$want" ] || { echo "read back \"$got\", wrote \"$want\"" >&2; exit 1; }
hdfs dfs -rm -skipTrash "$f"
echo "HDFS round trip as $(id -un): OK"'

step "hdc matrix over ${dists[*]} (JUnit report: $junit)"
"$hdc" matrix "${dists[@]}" --parallel "$parallel" --datanodes "$datanodes" \
    --test-user "$test_user" --junit "$junit" -- sh -c "$roundtrip" ||
    fail "hdc matrix failed: see $junit and logs/ (each failed cluster's bundle)"
step "every distribution passed: ${dists[*]}"
