#!/usr/bin/env bash
# clusters/apache/hdc-java-check against fake `java` programs printing the
# version banners of Java 7, 8, 11, 17 and 21 (Debian here ships only 17):
# Hadoop 2.x takes 7 and 8, 3.x takes 8 and 11; no java, or a banner with
# no version, is refused with what to do.
set -u
src=${HDC_SOURCE_DIR:?}
check=$src/clusters/apache/hdc-java-check
work=$(mktemp -d /tmp/hdc-java-check-XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $1"; }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; shift; [ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/    /'; }

fake_java() { # NAME BANNER-LINE: $work/NAME/bin/java printing it on stderr, as java does
    mkdir -p "$work/$1/bin"
    printf '#!/bin/sh\necho %s >&2\necho "OpenJDK Runtime Environment" >&2\n' "'$2'" >"$work/$1/bin/java"
    chmod +x "$work/$1/bin/java"
}
fake_java j7 'java version "1.7.0_80"'
fake_java j8 'openjdk version "1.8.0_372"'
fake_java j11 'openjdk version "11.0.20" 2023-07-18'
fake_java j17 'openjdk version "17.0.8" 2023-07-18'
fake_java j21 'openjdk version "21" 2023-09-19'
fake_java garbled 'no version here'

# expect JDK HADOOP-VERSION 0|1 [TEXT]: through JAVA_HOME, and through the PATH.
expect() {
    local jdk=$1 v=$2 want=$3 text=${4:-} out st how
    for how in JAVA_HOME PATH; do
        if [ "$how" = JAVA_HOME ]; then
            out=$(env -i PATH=/usr/bin:/bin JAVA_HOME="$work/$jdk" sh "$check" "$v" 2>&1); st=$?
        else
            out=$(env -i PATH="$work/$jdk/bin:/usr/bin:/bin" sh "$check" "$v" 2>&1); st=$?
        fi
        if [ "$st" = "$want" ] && { [ -z "$text" ] || grep -q -- "$text" <<<"$out"; }; then
            ok "$jdk, Hadoop $v, by $how: exit $want${text:+ ($text)}"
        else
            bad "$jdk, Hadoop $v, by $how: exit $st, want $want${text:+ and '$text'}" "$out"
        fi
    done
}
expect j7 2.6.0 0 "Java 7"
expect j8 2.10.2 0 "Java 8"
expect j11 2.7.7 1 "Java 11 .* does not run Hadoop 2.7.7: build the base on an image with a JDK"
expect j17 2.6.0 1 "Java 17 .* does not run Hadoop 2.6.0"
expect j8 3.3.6 0 "supported by Hadoop 3.3.6"
expect j11 3.4.1 0 "Java 11"
expect j17 3.3.6 1 "Java 17 .* does not run Hadoop 3.3.6: .*hdc build-base --base-image IMAGE"
expect j21 3.4.1 1 "Java 21"
expect j7 3.3.6 1 "Java 7"
expect garbled 3.3.6 1 "says no version hdc can read"

# No java at all.
out=$(env -i PATH=/nonexistent /bin/sh "$check" 2.6.0 2>&1); st=$?
[ $st = 1 ] && grep -q "the base image has no java" <<<"$out" \
    && ok "no java: exit 1 with what to do" || bad "no java: exit $st" "$out"

printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" = 0 ]
