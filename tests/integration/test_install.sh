#!/usr/bin/env bash
# An installed hdc, with the source and build trees out of its reach, and a
# plugin built out of tree against its SDK (issue 14), against the real dockerd:
#   `cmake --install` to a temporary prefix puts hdc, hdc-agent, the plugins,
#   the build contexts, client_side_tests, the header, hdc-plugin.pc, hdc(1)
#   and the bash completion where docs/plugins.md says;
#   every hdc below runs from /tmp with HDC_* unset, in a mount namespace
#   where an empty tmpfs hides the source and the build tree: what it finds,
#   it finds under the prefix (`hdc plugins` lists the installed plugins only);
#   the example distribution (docs/examples/hello_dist, copied out: a toy,
#   NOT Hadoop) builds with its Makefile through `pkg-config --cflags
#   hdc-plugin` against the prefix, and loads from HDC_PLUGIN_PATH;
#   the installed hdc builds the base images (from share/hdc/clusters, with
#   libexec/hdc/hdc-agent) and the example's image, brings a cluster of it up
#   with two workers (every probe green, its EXEC step done), and down,
#   leaving nothing labelled;
#   `man -l` renders the installed hdc(1) without a warning; the installed
#   completion offers the commands, the running cluster's name and the
#   example distribution;
#   a moved prefix still works (hdc and pkg-config find everything from
#   their own place).
set -u
build=${HDC_BUILD_DIR:?}
src=${HDC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/hdc-install-XXXXXX)
prefix=$work/prefix
name=inst$$

. "$(dirname "$0")/../lib.sh"

labelled() { # objects labelled hdc.cluster=NAME: containers, networks and volumes
    { docker ps -aq --filter "label=hdc.cluster=$1"
      docker network ls -q --filter "label=hdc.cluster=$1"
      docker volume ls -q --filter "label=hdc.cluster=$1"; } | wc -l
}

# hidden CMD...: CMD from $work, with HDC_* unset and the source and build
# trees hidden under an empty tmpfs (the build tree first: it may be inside
# the source tree), in a mount namespace of its own (root's, or a user
# namespace's where the kernel allows it).
ns=(unshare --mount --propagation private)
[ "$(id -u)" = 0 ] || ns=(unshare --mount --map-root-user)
hidden() {
    (cd "$work" && env -u HDC_SOURCE_DIR -u HDC_BUILD_DIR -u HDC_SHARE_DIR -u HDC_CLUSTERS_DIR \
        -u HDC_PLUGIN_PATH HDC_LOGS_DIR="$work/logs" HDC_STATE_DIR="$work/state" \
        "${HIDDEN_ENV[@]}" "${ns[@]}" sh -c '
            mount -t tmpfs hdc-hidden "$1" && { [ ! -d "$2" ] || mount -t tmpfs hdc-hidden "$2"; } \
                || exit 99
            shift 2
            exec "$@"' sh "$build" "$src" "$@")
}
HIDDEN_ENV=()
hdc=$prefix/bin/hdc

cleanup() {
    [ -x "$hdc" ] && "$hdc" down "$name" >/dev/null 2>&1
    if [ -n "${built_image:-}" ]; then docker image rm -f hdc/hello_dist-hello:latest >/dev/null 2>&1; fi
    rm -rf "$work"
}
trap cleanup EXIT

# ---- install --------------------------------------------------------------------
if ! out=$(cmake --install "$build" --prefix "$prefix" 2>&1); then
    bad "cmake --install $build --prefix $prefix" "$out"; finish
fi
libdir=$(dirname "$(find "$prefix" -name hdc-plugin.pc -path '*/pkgconfig/*' | head -n1)")
libdir=${libdir%/pkgconfig}
missing=()
for f in bin/hdc libexec/hdc/hdc-agent include/hdc/plugin.h share/hdc/clusters/base/Dockerfile \
    share/hdc/clusters/client/hdc-client-init share/hdc/client_side_tests/apache_3.3.6/initialize.sh \
    share/man/man1/hdc.1 share/bash-completion/completions/hdc; do
    [ -e "$prefix/$f" ] || missing+=("$f")
done
[ -x "$prefix/share/hdc/clusters/client/hdc-client-init" ] || missing+=("hdc-client-init's mode")
[ -n "$libdir" ] && [ -e "$libdir/hdc/plugins/apache_3.3.6.so" ] || missing+=("LIBDIR/hdc/plugins/apache_3.3.6.so")
[ ${#missing[@]} = 0 ] && ok "cmake --install puts hdc, hdc-agent, plugins, contexts, SDK, page and completion under the prefix" \
    || bad "missing under the prefix" "${missing[@]}"

# ---- the installed hdc, the trees out of reach -------------------------------------
# Each tree empty, or not there at all (a build tree inside the source
# tree is gone under the source tree's tmpfs).
if ! out=$(hidden sh -c 'for d; do [ ! -e "$d" ] || ls -A "$d"; done' sh "$src" "$build" 2>&1) \
    || [ -n "$out" ]; then
    bad "the source and build trees cannot be hidden (unshare, mount)" "$out"; finish
fi
out=$(hidden "$hdc" --version 2>&1) && grep -q '^hdc [0-9.]* (plugin ABI [0-9]*)' <<<"$out" \
    && ok "the installed hdc runs with the source and build trees hidden: $out" \
    || bad "installed hdc --version" "$out"
plugins=$(hidden "$hdc" --json plugins 2>&1)
if [ "$(jq -r '.[].path' <<<"$plugins" 2>/dev/null | grep -vc "^$libdir/hdc/plugins/")" = 0 ] \
    && [ "$(jq '[.[] | select(.name == "apache_3.3.6")] | length' <<<"$plugins")" = 1 ]; then
    ok "hdc plugins: the installed plugins, from $libdir/hdc/plugins only"
else
    bad "installed hdc plugins" "$plugins"
fi
# HDC_SHARE_DIR overrides where the contexts are (refused before Docker is asked).
HIDDEN_ENV=(HDC_SHARE_DIR="$work/nowhere" DOCKER_HOST=unix:///nonexistent.sock)
out=$(hidden "$hdc" build-base 2>&1); st=$?
HIDDEN_ENV=()
[ $st != 0 ] && grep -q "$work/nowhere/clusters/base" <<<"$out" \
    && ok "HDC_SHARE_DIR overrides the installed share/hdc" \
    || bad "HDC_SHARE_DIR override" "status $st" "$out"

# ---- the example plugin, out of tree, against the installed SDK ----------------------
cp -r "$src/docs/examples/hello_dist" "$work/hello_dist"
rm -f "$work/hello_dist/hello_dist.so"
HIDDEN_ENV=(PKG_CONFIG_PATH="$libdir/pkgconfig")
out=$(hidden make -C "$work/hello_dist" 2>&1); st=$?
cflags=$(hidden pkg-config --cflags hdc-plugin 2>&1)
cflags=${cflags% }
plugindir=$(hidden pkg-config --variable=plugindir hdc-plugin 2>&1)
HIDDEN_ENV=()
if [ $st = 0 ] && [ -f "$work/hello_dist/hello_dist.so" ] && grep -q -- "$cflags" <<<"$out" \
    && [ "$(realpath "$plugindir")" = "$(realpath "$libdir/hdc/plugins")" ]; then
    ok "the example builds with pkg-config --cflags hdc-plugin ($cflags); plugindir is the installed one"
else
    bad "make of the example" "status $st" "cflags: $cflags" "plugindir: $plugindir" "$out"; finish
fi
HIDDEN_ENV=(HDC_PLUGIN_PATH="$work/hello_dist")
plugins=$(hidden "$hdc" --json plugins 2>&1)
[ "$(jq -r '.[] | select(.name == "hello_dist") | .path' <<<"$plugins")" = "$work/hello_dist/hello_dist.so" ] \
    && ok "the installed hdc loads hello_dist from HDC_PLUGIN_PATH" \
    || bad "hello_dist from HDC_PLUGIN_PATH" "$plugins"

# ---- images and a cluster, all by the installed hdc ----------------------------------
if ! out=$(hidden "$hdc" build-base --stand-in 2>&1); then
    bad "installed hdc build-base" "$(tail -20 <<<"$out")"; finish
fi
ok "the installed hdc builds the base images (share/hdc/clusters, libexec/hdc/hdc-agent)"
built_image=1
if ! out=$(hidden "$hdc" build hello_dist 2>&1); then
    bad "installed hdc build hello_dist" "$(tail -20 <<<"$out")"; finish
fi
ok "the installed hdc builds the example's image from its own context"
up=$(hidden "$hdc" --json up hello_dist --name "$name" --datanodes 2 2>"$work/up.err"); st=$?
if [ $st = 0 ] && [ "$(jq -r '.[0].state' <<<"$up")" = up ] \
    && [ "$(jq '[.[0].nodes[] | select(.state == "up")] | length' <<<"$up")" = 4 ] \
    && [ "$(jq '[.[0].steps[] | select(.name == "workers-registered" or .name == "greet")
                | select(.end_ms != null)] | length' <<<"$up")" = 2 ]; then
    ok "up hello_dist --datanodes 2: ZooKeeper, master and 2 workers up, every step done"
else
    bad "up hello_dist" "status $st" "$up" "$(tail -20 "$work/up.err")"
    finish
fi
status=$(hidden "$hdc" --json status "$name" 2>&1)
got=$(hidden "$hdc" exec "$name" master -- cat /var/log/hello/greeting.txt 2>&1)
[ "$(jq -r .healthy <<<"$status")" = true ] && [ "$got" = "hello from hello_dist cluster $name, 2 workers" ] \
    && ok "status: healthy (the master counts 2 workers); the EXEC step wrote: $got" \
    || bad "status and greeting of $name" "$status" "$got"

# ---- the page and the completion, as installed ---------------------------------------
page=$(MANWIDTH=80 man -P cat -l "$prefix/share/man/man1/hdc.1" 2>&1)
warnings=$(groff -man -ww -z "$prefix/share/man/man1/hdc.1" 2>&1)
# (groff justifies lines: words may stand apart by more than one blank)
if grep -q '^HDC(1)' <<<"$page" && grep -Eq 'hdc +up +DIST +\[--name +NAME\]' <<<"$page" \
    && grep -q 'HDC_SHARE_DIR' <<<"$page" && [ -z "$warnings" ]; then
    ok "man -l renders the installed hdc(1), every command in it, no groff warning"
else
    bad "man -l hdc.1" "$warnings" "$(head -20 <<<"$page")"
fi
# complete WORD...: what the installed completion offers for the last word.
complete_words() {
    env HDC_PLUGIN_PATH="$work/hello_dist" PATH="$prefix/bin:$PATH" bash -c '
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
        _hdc; printf "%s\n" "${COMPREPLY[@]}"' sh "$prefix/share/bash-completion/completions/hdc" "$@"
}
cmds=$(complete_words hdc '')
clusters=$(complete_words hdc status '')
downs=$(complete_words hdc down "${name:0:4}")
dists=$(complete_words hdc up '')
flags=$(complete_words hdc up hello_dist --da)
if grep -qx up <<<"$cmds" && grep -qx matrix <<<"$cmds" && [ "$(wc -l <<<"$cmds")" = 18 ] \
    && grep -qx "$name" <<<"$clusters" && grep -qx "$name" <<<"$downs" \
    && grep -qx hello_dist <<<"$dists" && grep -qx apache_3.3.6 <<<"$dists" \
    && [ "$flags" = --datanodes ] && shellcheck -S error "$prefix/share/bash-completion/completions/hdc"; then
    ok "completion: the 18 commands, the running cluster $name, the distributions, a flag"
else
    bad "completion" "commands: $(tr '\n' ' ' <<<"$cmds")" "clusters: $(tr '\n' ' ' <<<"$clusters")" \
        "down ${name:0:4}: $downs" "dists: $(tr '\n' ' ' <<<"$dists")" "flags: $flags"
fi

# ---- down ------------------------------------------------------------------------
out=$(hidden "$hdc" down "$name" 2>&1); st=$?
[ $st = 0 ] && [ "$(labelled "$name")" = 0 ] && ok "the installed hdc's down leaves nothing labelled" \
    || bad "down $name" "status $st" "$out"
HIDDEN_ENV=()

# ---- a moved prefix --------------------------------------------------------------------
mv "$prefix" "$work/moved"
hdc=$work/moved/bin/hdc
libdir=$work/moved/${libdir#"$prefix"/}
plugins=$(hidden "$hdc" --json plugins 2>&1)
plugindir=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --variable=plugindir hdc-plugin)
if [ "$(jq '[.[] | select(.name == "apache_3.3.6")] | length' <<<"$plugins")" = 1 ] \
    && [ "$(jq -r '.[].path' <<<"$plugins" | grep -vc "^$libdir/hdc/plugins/")" = 0 ] \
    && [ "$(realpath "$plugindir")" = "$libdir/hdc/plugins" ]; then
    ok "a moved prefix: hdc and pkg-config find the plugins from their own place"
else
    bad "moved prefix" "$plugins" "plugindir: $plugindir"
fi

finish
