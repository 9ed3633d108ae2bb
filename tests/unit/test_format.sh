#!/usr/bin/env bash
# Every C file of the tree is as .clang-format says (clang-format 14, which
# scripts/setup.sh installs). A file that fails: `clang-format -i FILE`.
set -u
src=${HDC_SOURCE_DIR:?}
cf=$(command -v clang-format-14 || command -v clang-format) || {
    echo "FAIL: clang-format is not installed (scripts/setup.sh installs it)"
    echo "0 passed, 1 failed"
    exit 1
}
pass=0 fail=0
while IFS= read -r f; do
    if "$cf" --dry-run --Werror "$src/$f" >/dev/null 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $f is not formatted: clang-format -i $f"
    fi
done < <(git -C "$src" ls-files '*.c' '*.h')
printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
