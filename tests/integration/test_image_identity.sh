#!/usr/bin/env bash
# Image identity against the real dockerd, with the test stand-in tarball
# (tests/fixtures/fakehadoop, NOT Apache Hadoop):
#   `hdc build-base --stand-in` and `hdc build apache_2.6.0` label the
#   stand-in's images (hdc.stand-in=true, hdc.identity) and tag them
#   REPO:stand-in and REPO:id-<16 hex>;
#   a second build with nothing changed sends no build request;
#   a changed base (one more file in its context) rebuilds the base, and
#   the next distribution build rebuilds the distribution's images;
#   a real release refuses the stand-in's base, naming what to do;
#   `hdc status` and `hdc ls` say a cluster of those images runs the stand-in;
#   `hdc up` runs each image by its identity tag, whatever REPO:latest
#   names, and builds an image whose context changed (and says so);
#   `hdc client` does the same for the client image; an up whose image changed while the release it was built
#   from is gone fails naming `hdc build`, leaving nothing.
# The images are hdc's shared ones (as every test that builds); the cluster
# is named idt<pid> and removed; REPO:latest, moved by this test, is put
# back.
set -u
build=${HDC_BUILD_DIR:?}
src=${HDC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
hdc=$build/hdc
work=$(mktemp -d /tmp/hdc-identity-XXXXXX)
export HDC_LOGS_DIR=$work/logs
export HDC_DIST_CACHE=$work/cache
name=idt$$

latest_before= moved=
cleanup() {
    "$hdc" down "$name" >/dev/null 2>&1
    "$hdc" down "${name}b" >/dev/null 2>&1
    if [ -n "$moved" ] && [ -n "$latest_before" ]; then
        docker tag "$latest_before" hdc/apache_2.6.0-hadoop:latest
    elif [ -n "$moved" ]; then
        docker rmi hdc/apache_2.6.0-hadoop:latest >/dev/null 2>&1
    fi
    rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib.sh"

label() { docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null; }
image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null; }

if ! out=$("$src/tests/fixtures/fakehadoop/build.sh" 2.6.0 "$work/dist" 2>&1); then
    bad "stand-in tarball" "$out"; finish
fi
tarball=$work/dist/hadoop-2.6.0.tar.gz

# ---- the stand-in's images: labelled, tagged apart ------------------------------
if ! out=$("$hdc" build-base --stand-in 2>&1); then
    bad "build-base --stand-in" "$out"; finish
fi
[ "$(label hdc/base:stand-in hdc.stand-in)" = true ] \
    && [ "$(label hdc/client:stand-in hdc.stand-in)" = true ] \
    && ! docker run --rm --entrypoint sh hdc/base:stand-in -c 'command -v java' >/dev/null \
    && ok "build-base --stand-in: hdc/base:stand-in and hdc/client:stand-in, labelled, no java" \
    || bad "build-base --stand-in labels" "$(tail -5 <<<"$out")"
id=$(label hdc/base:stand-in hdc.identity)
[ ${#id} = 64 ] && [ "$(image_id "hdc/base:id-${id:0:16}")" = "$(image_id hdc/base:stand-in)" ] \
    && ok "the base's identity is its label and its tag hdc/base:id-${id:0:16}" \
    || bad "identity tag of the base" "identity '$id'"

if ! out=$("$hdc" build apache_2.6.0 --hadoop-tarball "$tarball" 2>&1); then
    bad "build apache_2.6.0 (stand-in)" "$out"; finish
fi
hid=$(label hdc/apache_2.6.0-hadoop:stand-in hdc.identity)
[ "$(label hdc/apache_2.6.0-hadoop:stand-in hdc.stand-in)" = true ] \
    && [ "$(label hdc/apache_2.6.0-client:stand-in hdc.stand-in)" = true ] \
    && [ "$(image_id "hdc/apache_2.6.0-hadoop:id-${hid:0:16}")" = "$(image_id hdc/apache_2.6.0-hadoop:stand-in)" ] \
    && ok "build apache_2.6.0 from the stand-in: labelled hdc.stand-in, tagged :stand-in and :id-${hid:0:16}" \
    || bad "stand-in distribution labels" "$(tail -5 <<<"$out")"
grep -q "hdc's test stand-in, NOT Hadoop" <<<"$out" \
    && ok "the build says it builds the stand-in, not Hadoop" \
    || bad "the build's words" "$(grep building <<<"$out")"
grep -q "$tarball" "$work/cache/identity-digests" 2>/dev/null \
    && ok "the tarball's digest is cached by path, size and mtime" \
    || bad "digest cache" "$(cat "$work/cache/identity-digests" 2>&1)"

# ---- nothing changed: no build request ----------------------------------------------
out=$("$hdc" build-base --stand-in 2>&1); st=$?
[ $st = 0 ] && [ "$(grep -c 'is up to date' <<<"$out")" = 3 ] && ! grep -q "Step 1/" <<<"$out" \
    && ok "a second build-base with nothing changed sends no build" \
    || bad "second build-base" "status $st" "$(tail -5 <<<"$out")"
out=$("$hdc" build apache_2.6.0 --hadoop-tarball "$tarball" 2>&1); st=$?
[ $st = 0 ] && grep -q "hdc/apache_2.6.0-hadoop:stand-in is up to date" <<<"$out" \
    && ! grep -q "Step 1/" <<<"$out" \
    && ok "a second distribution build with nothing changed sends no build" \
    || bad "second build" "status $st" "$(tail -5 <<<"$out")"

# ---- a changed base rebuilds what is built from it ------------------------------
cp -a "$src/clusters" "$work/clusters"
echo "identity test $$" >"$work/clusters/base/hdc-identity-test"
out=$(HDC_CLUSTERS_DIR=$work/clusters "$hdc" build-base --stand-in 2>&1); st=$?
nid=$(label hdc/base:stand-in hdc.identity)
[ $st = 0 ] && [ -n "$nid" ] && [ "$nid" != "$id" ] \
    && grep -q "hdc/zookeeper:latest is up to date" <<<"$out" \
    && ! grep -q "hdc/base:stand-in is up to date" <<<"$out" \
    && ok "a changed base context: the base and the client rebuilt, ZooKeeper not" \
    || bad "changed base" "status $st" "$(tail -5 <<<"$out")"
out=$(HDC_CLUSTERS_DIR=$work/clusters "$hdc" build apache_2.6.0 --hadoop-tarball "$tarball" 2>&1); st=$?
[ $st = 0 ] && ! grep -q "is up to date" <<<"$out" \
    && [ "$(label hdc/apache_2.6.0-hadoop:stand-in hdc.identity)" != "$hid" ] \
    && ok "then the distribution's images are rebuilt FROM the new base" \
    || bad "rebuild after the base changed" "status $st" "$(tail -5 <<<"$out")"
# Back to the tree's base, for the tests after this one.
if ! out=$("$hdc" build-base --stand-in 2>&1) ||
    ! out=$("$hdc" build apache_2.6.0 --hadoop-tarball "$tarball" 2>&1); then
    bad "rebuild from the tree" "$out"; finish
fi
[ "$(label hdc/base:stand-in hdc.identity)" = "$id" ] \
    && [ "$(label hdc/apache_2.6.0-hadoop:stand-in hdc.identity)" = "$hid" ] \
    && ok "the tree's inputs again: the same identities as before" \
    || bad "identities are not the inputs'"

# ---- a real release on the stand-in's base is refused --------------------------
mkdir -p "$work/real/hadoop-2.6.0/bin"
printf '#!/bin/sh\necho "Hadoop 2.6.0"\n' >"$work/real/hadoop-2.6.0/bin/hadoop"
chmod +x "$work/real/hadoop-2.6.0/bin/hadoop"
tar -C "$work/real" -czf "$work/real/hadoop-2.6.0.tar.gz" hadoop-2.6.0
(cd "$work/real" && sha512sum hadoop-2.6.0.tar.gz >hadoop-2.6.0.tar.gz.sha512)
if [ "$(label hdc/base:latest hdc.stand-in)" = true ]; then
    before=$(image_id hdc/apache_2.6.0-hadoop:stand-in)
    out=$("$hdc" build apache_2.6.0 --hadoop-tarball "$work/real/hadoop-2.6.0.tar.gz" 2>&1); st=$?
    [ $st = 1 ] && grep -q "is the base of hdc's test stand-in" <<<"$out" \
        && grep -q "hdc build-base --base-image IMAGE" <<<"$out" && ! grep -q "Step 1/" <<<"$out" \
        && [ "$(image_id hdc/apache_2.6.0-hadoop:stand-in)" = "$before" ] \
        && ok "a real release refuses the stand-in's base before any build, saying what to do" \
        || bad "real release on the stand-in's base" "status $st" "$(tail -5 <<<"$out")"
else
    ok "hdc/base:latest is a real build here: the stand-in did not take it"
fi

# ---- hdc up runs images by identity; status and ls name the stand-in ---------------
# The alias moved to another image (another checkout's build, say): the up
# runs what its own inputs name, the stand-in this test built (the only
# release in its cache).
# The client's context changed since the build: the up builds its image,
# once, and says so (that the clusters of one DIST share that build is
# tests/unit/test_fleet.c's).
latest_before=$(image_id hdc/apache_2.6.0-hadoop:latest)
docker tag hdc/zookeeper:latest hdc/apache_2.6.0-hadoop:latest && moved=1
echo "identity test $$" >"$work/clusters/apache-client/hdc-identity-test"
if ! out=$(HDC_CLUSTERS_DIR=$work/clusters "$hdc" up apache_2.6.0 --name "$name" 2>&1); then
    bad "up $name" "$(grep "^hdc: " <<<"$out" | tail -5)" "$(grep -v "|" <<<"$out" | tail -3)"; finish
fi
[ "$(grep -c "hdc/apache_2.6.0-client:id-[0-9a-f]* is not built for its inputs" <<<"$out")" = 1 ] \
    && [ "$(grep -c "is not built for its inputs" <<<"$out")" = 1 ] \
    && ok "an up builds the changed client image once, and says so" \
    || bad "one build of the changed client image" "$(grep -c 'is not built' <<<"$out") builds said" "$(grep -v '|' <<<"$out" | tail -3)"
images=$(docker ps -a --filter "label=hdc.cluster=$name" --format '{{.Label "hdc.service"}} {{.Image}}' | sort -u)
zid=$(label hdc/zookeeper:latest hdc.identity)
grep -q "^namenode hdc/apache_2.6.0-hadoop:id-${hid:0:16}\$" <<<"$images" \
    && grep -q "^datanode hdc/apache_2.6.0-hadoop:id-${hid:0:16}\$" <<<"$images" \
    && grep -q "^zookeeper hdc/zookeeper:id-${zid:0:16}\$" <<<"$images" \
    && ! grep -q ":latest" <<<"$images" \
    && ok "up runs every image by its identity tag, not the alias REPO:latest (moved elsewhere)" \
    || bad "images of the up" "$images"
grep -q "$name (apache_2.6.0, hdc's test stand-in, NOT Hadoop) is up" <<<"$out" \
    && ok "the up's report says stand-in" || bad "up report" "$(tail -3 <<<"$out")"
out=$("$hdc" status "$name" 2>&1)
grep -q "images: hdc's test stand-in" <<<"$out" \
    && ok "hdc status names the stand-in" || bad "status" "$(tail -3 <<<"$out")"
[ "$("$hdc" --json status "$name" 2>/dev/null | jq -r .stand_in)" = true ] \
    && ok "hdc status --json: stand_in true" || bad "status --json stand_in"
out=$("$hdc" ls 2>&1)
grep -Eq "^$name .* stand-in\$" <<<"$out" \
    && ok "hdc ls: IMAGES stand-in" || bad "ls" "$(grep "$name" <<<"$out")"
[ "$("$hdc" --json ls 2>/dev/null | jq -r --arg n "$name" '.[] | select(.name == $n) | .stand_in')" = true ] \
    && ok "hdc ls --json: stand_in true" || bad "ls --json stand_in"

# ---- the client's context changed again: hdc client builds it, and says so -----
echo "identity test $$, again" >"$work/clusters/apache-client/hdc-identity-test"
out=$(HDC_CLUSTERS_DIR=$work/clusters "$hdc" client "$name" 2>&1); st=$?
cimage=$(docker ps -a --filter "label=hdc.cluster=$name" --filter "label=hdc.service=client" --format '{{.Image}}')
cid=$(label "$cimage" hdc.identity)
[ $st = 0 ] && grep -q "is not built for its inputs" <<<"$out" && grep -q "building it from what is here" <<<"$out" \
    && [ "$cimage" = "hdc/apache_2.6.0-client:id-${cid:0:16}" ] \
    && [ "$(label "$cimage" hdc.stand-in)" = true ] \
    && [ "$cid" != "$(label "hdc/apache_2.6.0-client:id-${hid:0:16}" hdc.identity)" ] \
    && ok "hdc client builds the client image its changed context names, says so, and runs it by identity" \
    || bad "client after a context change" "status $st, image '$cimage'" "$(grep -v '|' <<<"$out" | tail -5)"
"$hdc" down "$name" >/dev/null 2>&1 || bad "down $name"

# ---- changed, and the release it was built from gone: refused -------------------
rm -f "$tarball"
echo "identity test $$" >"$work/clusters/apache/hdc-identity-test"
out=$(HDC_CLUSTERS_DIR=$work/clusters "$hdc" up apache_2.6.0 --name "${name}b" 2>&1); st=$?
left=$(docker ps -a -q --filter "label=hdc.cluster=${name}b"; docker network ls -q --filter "label=hdc.cluster=${name}b")
[ $st = 1 ] && grep -q "the release it was built from, is not there any more: run \`hdc build apache_2.6.0\`" <<<"$out" \
    && ! grep -q "Step 1/" <<<"$out" && [ -z "$left" ] \
    && ok "an image whose inputs changed, its release gone: up fails naming hdc build, nothing built or left" \
    || bad "up without the release" "status $st, left: $left" "$(tail -3 <<<"$out")"
finish
