#!/usr/bin/env bash
# A newcomer's first command: set-up from nothing (packages, Docker engine,
# build), the images, and one cluster up with its endpoints printed.
#
# A real Apache Hadoop cluster needs two things this script cannot make:
#   - a base image with a JDK (Hadoop 2.x: Java 8; 3.x: 8 or 11) and apt:
#     $HDC_BASE_IMAGE, default eclipse-temurin:8-jdk (pulled if a registry
#     answers);
#   - the release tarball: downloaded from the Apache archive and checked,
#     or found in $HDC_DIST_CACHE (default ~/.cache/hdc/dist).
# When either is missing it says which, and brings up the same cluster
# built from hdc's test stand-in instead, labelled as such: the stand-in is
# a small program with Hadoop's layout, ports and endpoints, NOT Hadoop.
#
#   scripts/quickstart.sh [DIST]      (default apache_3.3.6)
#   scripts/quickstart.sh --stand-in  (skip the real attempt)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dist=apache_3.3.6
stand_in=0
for arg in "$@"; do
    case $arg in
        --stand-in) stand_in=1 ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "quickstart: unknown flag $arg" >&2; exit 2 ;;
        *) dist=$arg ;;
    esac
done
version=${dist#apache_}
base_image=${HDC_BASE_IMAGE:-eclipse-temurin:8-jdk}

"$root/scripts/setup.sh"
hdc=$root/build/hdc
say() { printf '\nquickstart: %s\n' "$*"; }

missing=""
if [ "$stand_in" = 0 ]; then
    if ! docker image inspect "$base_image" >/dev/null 2>&1 &&
        ! docker pull "$base_image" >/dev/null 2>&1; then
        missing="the JDK base image $base_image (no registry answers; set HDC_BASE_IMAGE to a local image with a JDK and apt)"
    fi
fi

if [ "$stand_in" = 0 ] && [ -z "$missing" ]; then
    say "building the images on $base_image"
    "$hdc" build-base --base-image "$base_image"
    say "building $dist (downloading the release unless it is in the cache)"
    if "$hdc" build "$dist"; then
        say "bringing up $dist"
        "$hdc" up "$dist" -y
        say "done. 'build/hdc client ${dist//[._]/}' starts the client node; 'build/hdc down ${dist//[._]/}' removes the cluster."
        exit 0
    fi
    missing="the Hadoop $version release tarball (see the message above)"
fi

name=standin${version//./}
cat <<MSG

quickstart: a real Apache Hadoop $version cluster cannot be built here:
            missing ${missing:-nothing (--stand-in was asked for)}.
quickstart: bringing up the same $dist cluster built from hdc's TEST STAND-IN
            instead (tests/fixtures/fakehadoop): a small program with Hadoop's
            layout, ports and JSON endpoints. It is NOT Apache Hadoop.
MSG
work=$(mktemp -d /tmp/hdc-quickstart-XXXXXX)
trap 'rm -rf "$work"' EXIT
"$root/tests/fixtures/fakehadoop/build.sh" "$version" "$work" >/dev/null
"$hdc" build-base --stand-in
"$hdc" build "$dist" --hadoop-tarball "$work/hadoop-$version.tar.gz"
"$hdc" up "$dist" --name "$name" -y
say "the cluster '$name' runs the test stand-in, not Hadoop. Try:"
cat <<MSG
  build/hdc status $name
  build/hdc client $name && build/hdc exec $name client -- hdfs dfs -ls /
  build/hdc down $name
MSG
