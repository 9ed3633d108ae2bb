#!/usr/bin/env bash
# The include layering of docs/architecture.md: each engine file includes
# only files of its own layer or of a layer below, never above. A new module
# must be given its layer here (an unknown one fails the test), so the map
# stays the truth. Plugins include only include/hdc/plugin.h; hdc-agent
# only what it is linked with.
set -u
src=${HDC_SOURCE_DIR:?}
pass=0 fail=0

# layer of a module (file name without .c/.h, engine/cmd/ files as cmd/NAME)
layer() {
    case "$1" in
    main) echo 6 ;;
    cmd/*) echo 5 ;;
    runner | fleet) echo 4 ;;
    cluster | cluster_up | cluster_watch | cluster_end | cluster_steps | cluster_spec | cluster_query | cluster_heal | cluster_survey | cluster_stop | cluster_ops | cluster_record | client | images | matrix) echo 3 ;;
    docker | docker_call | docker_json | docker_stream | zk | probe | fetch | plugin_host | plan | boot) echo 2 ;;
    http | demux | lines | logs | owner) echo 1 ;;
    err | util | hdc/plugin) echo 0 ;;
    *) echo "" ;;
    esac
}

module_of() { # PATH (relative to engine/ or an include) -> module name
    local p=${1%.[ch]}
    case "$p" in
    cmd/*) echo "$p" ;;
    hdc/plugin) echo hdc/plugin ;;
    */*) echo "${p##*/}" ;;
    *) echo "$p" ;;
    esac
}

check_file() { # FILE MODULE
    local f=$1 m=$2 lm inc im li
    lm=$(layer "$m")
    if [ -z "$lm" ]; then
        fail=$((fail + 1))
        echo "FAIL: $f: module '$m' has no layer in tests/unit/test_layering.sh: give it one"
        return
    fi
    while IFS= read -r inc; do
        # A quoted include is looked for beside the file first.
        if [ -e "$(dirname "$f")/$inc" ] && [ "$(dirname "$f")" = engine/cmd ]; then
            im=cmd/${inc%.h}
        else
            im=$(module_of "$inc")
        fi
        [ "$im" = "$m" ] && continue
        li=$(layer "$im")
        if [ -z "$li" ]; then
            fail=$((fail + 1))
            echo "FAIL: $f includes \"$inc\", which has no layer"
        elif [ "$li" -gt "$lm" ]; then
            fail=$((fail + 1))
            echo "FAIL: $f (layer $lm) includes \"$inc\" (layer $li): nothing includes upward"
        else
            pass=$((pass + 1))
        fi
    done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
}

cd "$src" || exit 1
for f in engine/*.[ch] engine/cmd/*.[ch]; do
    [ -e "$f" ] || continue
    rel=${f#engine/}
    check_file "$f" "$(module_of "$rel")"
done

# hdc-agent is linked with zk.c, err.c and util.c only.
while IFS= read -r inc; do
    case "$inc" in
    zk.h | err.h | util.h) pass=$((pass + 1)) ;;
    *) fail=$((fail + 1)); echo "FAIL: engine/agent/agent.c includes \"$inc\": it links zk, err, util only" ;;
    esac
done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' engine/agent/agent.c)

# Plugins see only the public ABI.
for f in plugins/*.c tests/e2e/testdist/testdist.c tests/unit/plugins/*.c; do
    while IFS= read -r inc; do
        case "$inc" in
        hdc/plugin.h | minimal.h | abi_v1.h) pass=$((pass + 1)) ;; # abi_v1.h: the first published ABI
        *) fail=$((fail + 1)); echo "FAIL: $f includes \"$inc\": a plugin includes only hdc/plugin.h" ;;
        esac
    done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done

printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" = 0 ]
