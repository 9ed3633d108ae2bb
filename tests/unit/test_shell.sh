#!/usr/bin/env bash
# Every shell script of the tree (*.sh, and the files that start with a
# #! of sh or bash) parses as its author meant: shellcheck's
# errors (an unbalanced quote that swallows the lines after it, a [ without
# its ], ...) fail the test. Warnings and style are left to the author.
# scripts/setup.sh installs shellcheck. A file that fails: shellcheck -S error FILE.
set -u
src=${HDC_SOURCE_DIR:?}
command -v shellcheck >/dev/null || {
    echo "FAIL: shellcheck is not installed (scripts/setup.sh installs it)"
    echo "0 passed, 1 failed"
    exit 1
}
pass=0 fail=0
while IFS= read -r f; do
    if out=$(shellcheck -S error "$src/$f" 2>&1); then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $f: shellcheck -S error $f"
        sed 's/^/    /' <<<"$out" | head -20
    fi
done < <(
    # Every *.sh, and every other tracked file whose first line runs sh or bash.
    git -C "$src" ls-files | while IFS= read -r f; do
        case $f in
        *.sh) echo "$f" ;;
        *) [ -f "$src/$f" ] && head -n1 "$src/$f" 2>/dev/null | grep -qE '^#!.*[/ ](sh|bash)$' &&
            echo "$f" ;;
        esac
    done
)
printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
