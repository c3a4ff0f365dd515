#!/usr/bin/env bash
# The whole suite, as `make test` runs it, stage by stage:
#   native    every meson test of build/ (every kernel set this CPU runs, NEON through SIMDe,
#             the install / pkg-config / CMake / subproject consumers)
#   aarch64   the same suites cross-built for aarch64, under qemu, on the NEON kernels
#   sanitize  AddressSanitizer + UBSan, valgrind memcheck, ThreadSanitizer (tests/sanitize.sh)
#   fuzz      each libFuzzer target for NUC_FUZZ_SECONDS (default 30)
# NUC_TEST_STAGES="native fuzz" runs a subset. Ends with one line, "N passed, N failed": Check's
# own counts added over every suite of every stage, plus one failure per stage that failed
# without a Check count to show for it (a build error, a fuzz finding).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
stages=(${NUC_TEST_STAGES:-native aarch64 sanitize fuzz})
marker=$(mktemp)
trap 'rm -f "$marker"' EXIT
failed_stages=0

run_stage() {
  local name=$1 start rc
  shift
  start=$(date +%s)
  echo "=== $name: $*"
  "$@"
  rc=$?
  echo "=== $name: $([ $rc -eq 0 ] && echo ok || echo FAILED) in $(( $(date +%s) - start )) s"
  [ $rc -eq 0 ] || failed_stages=$((failed_stages + 1))
}

for stage in "${stages[@]}"; do
  case "$stage" in
    native) run_stage native meson test -C build --print-errorlogs --num-processes 2 ;;
    aarch64) run_stage aarch64 bash cross/test-aarch64.sh ;;
    sanitize) run_stage sanitize bash tests/sanitize.sh ;;
    fuzz) run_stage fuzz bash tests/fuzz/run.sh "${NUC_FUZZ_SECONDS:-30}" ;;
    *) echo "run-all: unknown stage $stage" >&2; failed_stages=$((failed_stages + 1)) ;;
  esac
done

# Check prints "NN%: Checks: N, Failures: F, Errors: E" once per suite run; the logs written by
# this run are the ones newer than the marker.
logs=$(find build build-aarch64 build-asan build-valgrind build-tsan -newer "$marker" \
         \( -path '*/meson-logs/testlog*.txt' -o -path '*/vg/*.log' \) 2>/dev/null)
# shellcheck disable=SC2086 # one path per word
awk -v extra="$failed_stages" '
  /[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Checks:") c += $(i + 1)
      if ($i == "Failures:") f += $(i + 1)
      if ($i == "Errors:") e += $(i + 1)
    }
  }
  END {
    bad = f + e
    if (bad == 0 && extra > 0) bad = extra
    printf "%d passed, %d failed\n", c - f - e, bad
    exit bad > 0
  }' $logs /dev/null
