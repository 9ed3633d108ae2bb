# Sourced by the integration and fault tests (tests/integration,
# tests/faults): their tallies and their last line, `N passed, N failed
# (S s)`, which ctest shows and the test's exit status follows.
# shellcheck shell=bash

pass=0 fail=0
t0=$(date +%s)

# ok WHAT: a check that held.
ok() { pass=$((pass + 1)); echo "ok: $1"; }

# bad WHAT [DETAIL...]: a check that did not; each DETAIL indented below.
bad() { fail=$((fail + 1)); echo "FAIL: $1"; shift; [ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/    /'; }

# finish: the last line, then exit 0 when nothing failed, else 1.
finish() { echo "$pass passed, $fail failed ($(($(date +%s) - t0)) s)"; [ "$fail" = 0 ]; exit; }
