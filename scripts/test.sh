#!/usr/bin/env bash
# Every test: set-up (packages, Docker engine, base image, build), the fuzz
# targets for a bounded time each, then ctest over the ASan+UBSan build and
# over the plain build. The last line printed is ctest's summary line.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
fuzz_seconds=${HDC_FUZZ_SECONDS:-20}

"$root/scripts/setup.sh"

say() { printf '\ntest: %s\n' "$*"; }

configure_and_build() { # DIR CMAKE-ARGS... [-- TARGETS...]
    local dir=$1 args=() targets=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
    [ $# -gt 0 ] && { shift; targets=(--target "$@"); }
    cmake -S "$root" -B "$dir" "${args[@]}" >"$dir.cmake.log" 2>&1 ||
        { cat "$dir.cmake.log" >&2; exit 1; }
    cmake --build "$dir" -j"$jobs" "${targets[@]}" >"$dir.build.log" 2>&1 ||
        { tail -60 "$dir.build.log" >&2; exit 1; }
}

say "fuzz targets, ${fuzz_seconds}s each"
fuzz_dir=$root/build-fuzz
mkdir -p "$fuzz_dir"
fuzzers=$(cd "$root/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//')
# shellcheck disable=SC2086 # one target per word
configure_and_build "$fuzz_dir" -DCMAKE_C_COMPILER=clang -DHDC_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug \
    -- $fuzzers
for fuzzer in "$fuzz_dir"/fuzz_*; do
    [ -x "$fuzzer" ] || continue
    name=$(basename "$fuzzer")
    corpus=$fuzz_dir/corpus/$name
    mkdir -p "$corpus"
    seeds=$root/tests/fuzz/corpus/$name
    [ -d "$seeds" ] || seeds=
    if "$fuzzer" -max_total_time="$fuzz_seconds" -timeout=5 -rss_limit_mb=2048 \
        -print_final_stats=0 "$corpus" $seeds >"$fuzz_dir/$name.log" 2>&1; then
        printf 'test: %s: %s\n' "$name" "$(grep -Eo 'Done [0-9]+ runs.*' "$fuzz_dir/$name.log" | tail -1)"
    else
        tail -40 "$fuzz_dir/$name.log" >&2
        printf 'test: fuzz target %s found a crash (log: %s)\n' "$name" "$fuzz_dir/$name.log" >&2
        exit 1
    fi
done

# ctest over DIR (more ctest arguments after it); on failure, exits with
# ctest's summary line as the last.
run_ctest() { # DIR [CTEST-ARGS...]
    local status dir=$1
    shift
    set +e
    ctest --test-dir "$dir" --output-on-failure -j"$jobs" "$@" 2>&1 | tee "$dir/ctest.log"
    status=${PIPESTATUS[0]}
    set -e
    if [ "$status" != 0 ]; then
        grep -E '^[0-9]+% tests passed' "$dir/ctest.log" | tail -1
        exit "$status"
    fi
}

say "ASan+UBSan build: every test but the fault tests (they run once, in the plain pass)"
asan_dir=$root/build-asan
mkdir -p "$asan_dir"
configure_and_build "$asan_dir" -DHDC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_ctest "$asan_dir" -LE faults
asan_summary=$(grep -E '^[0-9]+% tests passed' "$asan_dir/ctest.log" | tail -1)

say "plain build: every test"
run_ctest "$root/build"
echo "test: ASan+UBSan build: $asan_summary"
# The last line: ctest's summary of the plain build.
grep -E '^[0-9]+% tests passed' "$root/build/ctest.log" | tail -1
