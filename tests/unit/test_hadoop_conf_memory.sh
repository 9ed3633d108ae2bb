#!/usr/bin/env bash
# clusters/apache/hdc-hadoop-conf's memory settings, rendered for a 2.x and
# a 3.x release at the plugin's defaults and at budgets `hdc up --memory`
# gives (the nodemanager's share, as cluster_memory_of computes it): a
# nodemanager's container covers its heap + yarn.nodemanager.resource.memory-mb
# + a margin; an ApplicationMaster plus one map or reduce task fit in
# memory-mb; allocations are multiples of yarn.scheduler.minimum-allocation-mb
# and at most maximum-allocation-mb; task heaps are below their containers;
# the daemon's heap reaches hadoop-env.sh under the version's names. A
# nodemanager too small for an AM and a task is refused with exit 2.
set -u
src=${HDC_SOURCE_DIR:?}
conf_sh=$src/clusters/apache/hdc-hadoop-conf
work=$(mktemp -d /tmp/hdc-conf-memory-XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $1"; }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; }
check() { # WHAT CONDITION...
    local what=$1
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}

# value FILE KEY: the property's value in the rendered XML.
value() {
    awk -v key="$2" '
        /<name>/ { gsub(/.*<name>|<\/name>.*/, ""); name = $0 }
        /<value>/ { gsub(/.*<value>|<\/value>.*/, ""); if (name == key) print; name = "" }
    ' "$1"
}
xmx() { sed -n 's/^-Xmx\([0-9]*\)m$/\1/p' <<<"$1"; }

# render VERSION NM_MEMORY NM_HEAP HEAP: writes $work/<version>-<nm>/conf.
render() {
    local v=$1 dir=$work/$1-$2
    mkdir -p "$dir/hadoop-$v/etc/hadoop"
    env -i PATH=/usr/bin:/bin HADOOP_HOME="$dir/hadoop-$v" HDC_MEMORY_NODEMANAGER="$2" \
        HDC_HEAP_NODEMANAGER="$3" HDC_HEAP_MB="$4" sh "$conf_sh" "$dir/conf"
}

invariants() { # VERSION NM_MEMORY NM_HEAP HEAP
    local v=$1 nm=$2 nm_heap=$3 heap=$4 dir=$work/$1-$2/conf
    local yarn minalloc maxalloc am map red am_x map_x red_x
    if ! render "$@" >"$work/out" 2>&1; then
        bad "$v, nodemanager $nm MB: rendered"
        cat "$work/out"
        return
    fi
    yarn=$(value "$dir/yarn-site.xml" yarn.nodemanager.resource.memory-mb)
    minalloc=$(value "$dir/yarn-site.xml" yarn.scheduler.minimum-allocation-mb)
    maxalloc=$(value "$dir/yarn-site.xml" yarn.scheduler.maximum-allocation-mb)
    am=$(value "$dir/mapred-site.xml" yarn.app.mapreduce.am.resource.mb)
    map=$(value "$dir/mapred-site.xml" mapreduce.map.memory.mb)
    red=$(value "$dir/mapred-site.xml" mapreduce.reduce.memory.mb)
    am_x=$(xmx "$(value "$dir/mapred-site.xml" yarn.app.mapreduce.am.command-opts)")
    map_x=$(xmx "$(value "$dir/mapred-site.xml" mapreduce.map.java.opts)")
    red_x=$(xmx "$(value "$dir/mapred-site.xml" mapreduce.reduce.java.opts)")
    local at="$v, nodemanager $nm MB (heap $nm_heap): memory-mb $yarn, AM $am, map $map, reduce $red"
    check "$at: all set" test -n "$yarn" -a -n "$minalloc" -a -n "$maxalloc" -a -n "$am" \
        -a -n "$map" -a -n "$red" -a -n "$am_x" -a -n "$map_x" -a -n "$red_x"
    [ -n "$yarn" ] && [ -n "$am" ] && [ -n "$map" ] && [ -n "$red" ] || return
    check "$at: heap + memory-mb + 256 margin <= container" \
        test $((nm_heap + yarn + 256)) -le "$nm"
    check "$at: AM + map fit in memory-mb" test $((am + map)) -le "$yarn"
    check "$at: AM + reduce fit in memory-mb" test $((am + red)) -le "$yarn"
    check "$at: allocations are multiples of the minimum allocation" \
        test $((yarn % minalloc)) -eq 0 -a $((am % minalloc)) -eq 0 -a $((map % minalloc)) -eq 0 \
        -a $((red % minalloc)) -eq 0
    check "$at: maximum allocation covers each and fits memory-mb" \
        test "$maxalloc" -le "$yarn" -a "$am" -le "$maxalloc" -a "$map" -le "$maxalloc"
    check "$at: task heaps below their containers" \
        test "$am_x" -lt "$am" -a "$map_x" -lt "$map" -a "$red_x" -lt "$red"
    if [ "${v%%.*}" = 2 ]; then
        check "$at: 2.x daemon heap via HADOOP_NAMENODE_OPTS and YARN_NODEMANAGER_OPTS" \
            grep -q "export HADOOP_NAMENODE_OPTS=.* -Xmx${heap}m" "$dir/hadoop-env.sh"
        check "$at: 2.x: YARN_NODEMANAGER_OPTS" \
            grep -q "export YARN_NODEMANAGER_OPTS=.* -Xmx${heap}m" "$dir/hadoop-env.sh"
        check "$at: 2.x: no HADOOP_HEAPSIZE_MAX" \
            bash -c "! grep -q HADOOP_HEAPSIZE_MAX '$dir/hadoop-env.sh'"
    else
        check "$at: 3.x daemon heap via HADOOP_HEAPSIZE_MAX" \
            grep -q "^export HADOOP_HEAPSIZE_MAX=${heap}m$" "$dir/hadoop-env.sh"
    fi
}

# The apache plugin's declared limits (plugins/apache.c) for one datanode,
# ZooKeeper's 512 included: 512 + 768 + 512 + 768 + 1536 + 512 = 4608 MB.
min=4608
for v in 2.10.2 3.3.6; do
    invariants "$v" 1536 256 512 # the defaults: no --memory
    for budget in 6000 9216 20000; do
        invariants "$v" $((1536 * budget / min)) $((256 * budget / min)) $((512 * budget / min))
    done
done

# Below what an AM and a task need: refused, saying what to do.
if out=$(render 3.3.6 1000 256 256 2>&1); then
    bad "a 1000 MB nodemanager is refused"
elif [ $? -eq 2 ] && grep -q "below the 1024 MB an ApplicationMaster and a task need" <<<"$out"; then
    ok "a 1000 MB nodemanager is refused with exit 2: $out"
else
    bad "a 1000 MB nodemanager: want exit 2 and the reason, got: $out"
fi
if out=$(render 2.6.0 1536x 256 256 2>&1); then
    bad "a memory that is not a number is refused"
else
    check "a memory that is not a number is refused: $out" grep -q "not a number of MB" <<<"$out"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
