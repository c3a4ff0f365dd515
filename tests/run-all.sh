#!/usr/bin/env bash
# The whole suite, as `make test` runs it: every meson test of the native build, then the other
# builds; ends with one line "N passed, N failed" that adds up Check's own counts.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
logs=()

meson test -C build --print-errorlogs --num-processes 2 || status=1
logs+=(build/meson-logs/testlog.txt)

# Check prints "NN%: Checks: N, Failures: F, Errors: E" once per suite.
awk '/[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
       for (i = 1; i <= NF; i++) {
         if ($i == "Checks:") c += $(i + 1)
         if ($i == "Failures:") f += $(i + 1)
         if ($i == "Errors:") e += $(i + 1)
       }
     }
     END { printf "%d passed, %d failed\n", c - f - e, f + e }' "${logs[@]}" > build/summary.txt
cat build/summary.txt
grep -q ' 0 failed$' build/summary.txt || status=1
exit $status
