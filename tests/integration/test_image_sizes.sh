#!/usr/bin/env bash
# A distribution's images hold its release once (clusters/apache,
# clusters/apache-client), measured with docker image inspect against the
# real dockerd, with the test stand-in (tests/fixtures/fakehadoop, NOT
# Apache Hadoop) padded to about 64 MB of incompressible files so that a
# second copy of the release would show:
#   the hadoop image is at most the base plus 1.1 x the unpacked tree (the
#   release unpacked in one layer at its final place, never moved);
#   the client image is built FROM the hadoop image (its layers start with
#   the hadoop image's);
#   the client image adds well under the unpacked tree (its sshd layer, not
#   the release again), and runs the release through /opt/hadoop.
# hdc build names images hdc/<dist>-<image> and has no option to name them
# otherwise: the test builds apache_3.4.1, which no other test builds, and
# afterwards removes its images and tags back any that were there before.
set -u
build=${HDC_BUILD_DIR:?}
src=${HDC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
hdc=$build/hdc
v=3.4.1
dist=apache_$v
base=hdc/base:latest
hadoop=hdc/$dist-hadoop:latest
client=hdc/$dist-client:latest
work=$(mktemp -d /tmp/hdc-image-sizes-XXXXXX)
probe=hdc-image-sizes-$$ # the one container this test runs

image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null; }
size() { docker image inspect -f '{{.Size}}' "$1"; }
mb() { awk -v b="$1" 'BEGIN{printf "%.1f MB", b / 1e6}'; }

# What was there before, tagged back at the end (the client first: it is
# the hadoop image's child).
declare -A before
for im in "$client" "$hadoop"; do
    before[$im]=$(image_id "$im")
done

cleanup() {
    docker rm -f "$probe" >/dev/null 2>&1
    for im in "$client" "$hadoop"; do
        if [ "$(image_id "$im")" != "${before[$im]}" ]; then
            docker rmi "$im" >/dev/null 2>&1
            [ -n "${before[$im]}" ] && docker tag "${before[$im]}" "$im"
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib.sh"

# ---- the padded stand-in, and its unpacked size -------------------------------
if ! out=$("$src/tests/fixtures/fakehadoop/build.sh" --pad 64 "$v" "$work/dist" 2>&1); then
    bad "stand-in tarball $v padded to 64 MB" "$out"; finish
fi
mkdir -p "$work/tree"
tar -C "$work/tree" -xzf "$work/dist/hadoop-$v.tar.gz"
tree=$(du -sb "$work/tree" | cut -f1) # bytes, as Docker counts a layer
if [ "$tree" -ge 60000000 ] && [ "$tree" -le 70000000 ]; then
    ok "the padded stand-in unpacks to $(mb "$tree")"
else
    bad "the padded stand-in unpacks to $(mb "$tree"), not about 64 MB"; finish
fi

# ---- the images ----------------------------------------------------------------
if ! out=$("$hdc" build-base --stand-in 2>&1); then
    bad "build-base" "$out"; finish
fi
if ! out=$("$hdc" build "$dist" --hadoop-tarball "$work/dist/hadoop-$v.tar.gz" 2>&1); then
    bad "build $dist" "$(tail -20 <<<"$out")"; finish
fi
b=$(size "$base") h=$(size "$hadoop") c=$(size "$client")
echo "sizes: base $(mb "$b"), hadoop $(mb "$h"), client $(mb "$c"), unpacked release $(mb "$tree")"

# The release once in the hadoop image: base + 1.1 x the tree at most (a
# moved tree, as before, was base + 2 x).
[ $((h - b)) -le $((tree * 11 / 10)) ] \
    && ok "hadoop image: base + $(mb $((h - b))), within 1.1 x the unpacked release" \
    || bad "hadoop image adds $(mb $((h - b))) to the base: more than 1.1 x $(mb "$tree")" \
           "$(docker history --format '{{.Size}}\t{{.CreatedBy}}' "$hadoop" | cut -c1-100)"

# FROM the hadoop image: its layers are the first of the client's.
hl=$(docker image inspect -f '{{join .RootFS.Layers " "}}' "$hadoop")
cl=$(docker image inspect -f '{{join .RootFS.Layers " "}}' "$client")
[ -n "$hl" ] && [ "${cl#"$hl"}" != "$cl" ] && [ "$cl" != "$hl" ] \
    && ok "client image: built FROM the hadoop image (its layers first, then $(($(wc -w <<<"$cl") - $(wc -w <<<"$hl"))) more)" \
    || bad "client image's layers do not start with the hadoop image's" "hadoop: $hl" "client: $cl"

# What the client adds is its sshd layer (about 30 MB on Debian bookworm),
# not the release again, which alone would be the whole unpacked tree.
[ $((c - h)) -lt $((tree * 3 / 4)) ] \
    && ok "client image: hadoop + $(mb $((c - h))), well under the unpacked release" \
    || bad "client image adds $(mb $((c - h))) to the hadoop image: the release again?" \
           "$(docker history --format '{{.Size}}\t{{.CreatedBy}}' "$client" | cut -c1-100)"

# The client runs the release through HADOOP_HOME, the link to it.
got=$(docker run --rm --name "$probe" --entrypoint sh "$client" \
      -c 'readlink /opt/hadoop; hadoop version | head -1; test -x /usr/lib/hdc/hdc-client-init && echo init' 2>&1)
[ "$got" = "hadoop-$v
Hadoop $v (hdc test stand-in, not Apache Hadoop)
init" ] && ok "client image: /opt/hadoop links to hadoop-$v, hadoop version runs, hdc-client-init is there" \
    || bad "client image's release" "$got"

finish
