#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz/ for SECONDS each (default 60), two at a time,
# after building them (tests/fuzz/build.sh). New inputs go to build-fuzz/corpus/<target>/ (the
# committed seeds in tests/fuzz/corpus/<target>/ are only read); a crash leaves its input in
# build-fuzz/artifacts/ and fails the run. Prints one line per target with the number of
# executions; exits non-zero if any target found a violation.
#   tests/fuzz/run.sh [SECONDS]      environment: JOBS (targets at once, default 2)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
SECS=${1:-60}
JOBS=${JOBS:-2}
case "$SECS" in '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac

bash tests/fuzz/build.sh || { echo "[fuzz] build failed"; exit 1; }
mkdir -p build-fuzz/artifacts build-fuzz/logs
targets=()
for src in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$src" .c)"); done

# An idle OpenMP team (nuc_sample_batch) sleeps instead of spinning; every sanitizer report is
# fatal; leaks are checked.
export KMP_BLOCKTIME=0 OMP_WAIT_POLICY=passive
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export SECS
# shellcheck disable=SC2016 # the script is for bash -c, which gets the target as $1
printf '%s\n' "${targets[@]}" | xargs -P "$JOBS" -n 1 bash -c '
  t=$1
  mkdir -p "build-fuzz/corpus/$t"
  log="build-fuzz/logs/$t.log"
  start=$(date +%s)
  "build-fuzz/fuzz/$t" -max_total_time="$SECS" -print_final_stats=1 -max_len=16384 \
      -timeout=60 -rss_limit_mb=2048 -artifact_prefix="build-fuzz/artifacts/$t-" \
      "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  execs=$(sed -n "s/^stat::number_of_executed_units: *//p" "$log" | tail -1)
  corpus=$(ls "build-fuzz/corpus/$t" | wc -l)
  if [ $rc -eq 0 ]; then
    echo "[fuzz] $t: ok, ${execs:-?} executions in $(( $(date +%s) - start )) s, corpus $corpus"
  else
    echo "[fuzz] $t: FAILED (exit $rc) after ${execs:-?} executions; log $log"
    grep -E "INVARIANT|ERROR|runtime error|SUMMARY|Test unit written" "$log" | head -20
    exit 1
  fi' bash
status=$?
[ $status -eq 0 ] || echo "[fuzz] FAILED: reproduce with build-fuzz/fuzz/<target> <input from build-fuzz/artifacts/>"
exit $status
