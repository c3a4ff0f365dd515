#!/usr/bin/env bash
# Hostile-input and sanitizer runs of the test suite, in build directories of their own:
#
#   asan      build-asan/      every meson test (but the install suite) under AddressSanitizer +
#                              UndefinedBehaviorSanitizer; the suites loop over every kernel set
#                              this CPU runs: scalar, AVX2, AVX-512, and NEON through SIMDe when
#                              libsimde-dev is installed. NUC_TEST_QUICK=1 unless SANITIZE_FULL=1
#   valgrind  build-valgrind/  memcheck over test_api, test_philox, test_edge, test_threads
#                              (VALGRIND_SUITES picks others) with NUC_TEST_QUICK=1, CK_FORK=no.
#                              valgrind 3.19 cannot run AVX-512: it hides it, dispatch falls back
#   tsan      build-tsan/      tests/test_threads.c under ThreadSanitizer (TSAN_SUITES picks
#                              others), built with clang so that OpenMP is LLVM's libomp, whose
#                              synchronisation TSan sees through libarcher (libgomp's it cannot)
#
# Usage: tests/sanitize.sh [asan] [valgrind] [tsan]    (no argument: all three, in that order)
# Prints one line per stage with its result and time; exits non-zero if any stage fails.
# Installs the Debian packages it misses (as root).
# Environment: JOBS (default 2), SANITIZE_FULL=1 (full sweeps under ASan), VALGRIND_SUITES,
# VALGRIND_ORIGINS=1 (--track-origins=yes), TSAN_SUITES (default "threads").
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
JOBS=${JOBS:-2}
STAGES=("$@")
[ ${#STAGES[@]} -eq 0 ] && STAGES=(asan valgrind tsan)

log() { printf '[sanitize] %s\n' "$*"; }

# ---- packages ---------------------------------------------------------------------------------
need_pkgs() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages: ${missing[*]} (run as root, or install them)"
    return 1
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pkgs=(meson ninja-build pkg-config gcc check)
for s in "${STAGES[@]}"; do
  case "$s" in
    asan) ;;
    valgrind) pkgs+=(valgrind) ;;
    tsan) pkgs+=(clang libclang-rt-14-dev libomp-14-dev) ;;
    *) log "unknown stage '$s' (asan, valgrind, tsan)"; exit 2 ;;
  esac
done
need_pkgs "${pkgs[@]}" || exit 1

# NEON through SIMDe when the headers are there (they come with the project's base packages).
NEON=()
if [ -f /usr/include/simde/arm/neon.h ]; then
  NEON=(-Dneon_simde=true)
else
  log "libsimde-dev not installed: the NEON kernels are not part of these runs"
fi

# Configure a build directory once; reconfigure if its options changed.
setup() { # dir, then meson options
  local dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" >/dev/null || return 1
  else
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
    rm -f "$dir.setup.log"
  fi
}

declare -A RESULT TIME
now() { date +%s; }

# ---- ASan + UBSan: the whole suite ------------------------------------------------------------
stage_asan() {
  setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false \
    -Dbuildtype=debugoptimized -Dtests=true "${NEON[@]}" || return 1
  ninja -C build-asan -j "$JOBS" >build-asan/ninja.log 2>&1 || { tail -40 build-asan/ninja.log; return 1; }
  # The install suite (meson install + consumer builds) has no sanitizer question in it.
  # NUC_TEST_QUICK=1 shrinks the sweeps of the suites that honour it (the full sweeps are
  # `make test`'s; ASan's ~2-3x would take the whole suite past 10 minutes on 2 cores);
  # SANITIZE_FULL=1 runs them whole.
  local quick=1
  [ "${SANITIZE_FULL:-0}" = 1 ] && quick=0
  NUC_TEST_QUICK=$quick OMP_WAIT_POLICY=passive \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-asan --no-rebuild --print-errorlogs --num-processes "$JOBS" \
      --no-suite install --timeout-multiplier 3
}

# ---- valgrind memcheck: a quick subset --------------------------------------------------------
stage_valgrind() {
  setup build-valgrind -Dbench=false -Dbuildtype=debugoptimized -Dtests=true "${NEON[@]}" || return 1
  # test_api, test_philox, test_edge and test_threads (the last two honour NUC_TEST_QUICK, which
  # shrinks their sweeps to fit valgrind's ~30-50x). Other suites on request, VALGRIND_SUITES:
  # test_oracle honours NUC_TEST_QUICK too but still needs over 6 CPU minutes under valgrind.
  local names n
  read -r -a names <<<"${VALGRIND_SUITES:-api philox edge threads}"
  local targets=() exes=()
  for n in "${names[@]}"; do
    # Only the suites this build defines (some are conditional, e.g. on NEON).
    if ninja -C build-valgrind -t query "tests/test_$n" >/dev/null 2>&1; then
      targets+=("tests/test_$n")
      exes+=("build-valgrind/tests/test_$n")
    fi
  done
  [ ${#exes[@]} -gt 0 ] || { log "no test executable to run under valgrind"; return 1; }
  log "valgrind runs: ${names[*]}"
  ninja -C build-valgrind -j "$JOBS" "${targets[@]}" >build-valgrind/ninja.log 2>&1 ||
    { tail -40 build-valgrind/ninja.log; return 1; }
  mkdir -p build-valgrind/vg
  # Two at a time; each writes its own log. An idle OpenMP team spins, which under valgrind's
  # one-thread-at-a-time scheduling costs whole time slices: let it sleep instead.
  # --track-origins doubles the time: on request only.
  local vg_extra=""
  [ "${VALGRIND_ORIGINS:-0}" = 1 ] && vg_extra=--track-origins=yes
  # shellcheck disable=SC2016 # the script is for bash -c, which gets the path as $1
  printf '%s\n' "${exes[@]}" | CK_FORK=no NUC_TEST_QUICK=1 OMP_WAIT_POLICY=passive VG_EXTRA=$vg_extra \
    xargs -P "$JOBS" -n 1 bash -c '
      exe=$1; name=$(basename "$exe")
      start=$(date +%s)
      # shellcheck disable=SC2086
      valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        $VG_EXTRA "$exe" >"build-valgrind/vg/$name.log" 2>&1
      rc=$?
      times >"build-valgrind/vg/$name.times" # in this shell: a subshell has no children
      cpu=$(tail -1 "build-valgrind/vg/$name.times" | cut -d" " -f1)
      took="$(( $(date +%s) - start )) s, cpu $cpu"
      if [ $rc -eq 0 ]; then
        echo "[sanitize]   valgrind $name: ok ($took)"
      else
        what="the suite failed"
        [ $rc -eq 99 ] && what="valgrind found errors"
        echo "[sanitize]   valgrind $name: FAILED, $what ($took)"
        tail -60 "build-valgrind/vg/$name.log"
        echo "[sanitize]   (VALGRIND_ORIGINS=1 tells where an uninitialised value came from)"
        exit 1
      fi' bash
}

# ---- ThreadSanitizer: the threads and batch suites --------------------------------------------
stage_tsan() {
  local archer
  archer=$(find /usr/lib/llvm-*/lib -name libarcher.so 2>/dev/null | sort -V | tail -1)
  local opts=(-Db_sanitize=thread -Db_lundef=false -Dbench=false -Dbuildtype=debugoptimized
              -Dtests=true)
  # test_batch stays out by default: its concurrent_callers starts threads with C11 thrd_create,
  # which LLVM 14's TSan does not intercept (the new thread crashes in __tsan_func_entry);
  # test_threads covers concurrent batches over pthreads. TSAN_SUITES="threads batch" adds it.
  local names n targets=()
  read -r -a names <<<"${TSAN_SUITES:-threads}"
  for n in "${names[@]}"; do targets+=("tests/test_$n"); done
  CC=clang setup build-tsan "${opts[@]}" "${NEON[@]}" || return 1
  if ! ninja -C build-tsan -j "$JOBS" "${targets[@]}" >build-tsan/ninja.log 2>&1; then
    grep -E 'error|FAILED' build-tsan/ninja.log | head -10
    [ ${#NEON[@]} -gt 0 ] || return 1
    # clang refuses some NEON-through-SIMDe code that gcc takes: test the other sets, loudly.
    log "WARNING: no clang build with -Dneon_simde=true (above): TSan runs WITHOUT NEON"
    setup build-tsan "${opts[@]}" -Dneon_simde=false || return 1
    ninja -C build-tsan -j "$JOBS" "${targets[@]}" >build-tsan/ninja.log 2>&1 ||
      { tail -40 build-tsan/ninja.log; return 1; }
  fi
  [ -n "$archer" ] || log "libarcher not found: OpenMP regions may give false reports"
  # libomp itself is not built with TSan: its allocator hands memory from thread to thread
  # behind TSan's back (reports inside __kmp_* / memset called from libomp). Reports from the
  # library's own code are not suppressed.
  cat >build-tsan/tsan.supp <<'SUPP'
called_from_lib:libomp.so.5
race:^__kmp_
SUPP
  OMP_TOOL_LIBRARIES=$archer \
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$ROOT/build-tsan/tsan.supp" \
  ARCHER_OPTIONS="verbose=0" CK_FORK=no \
    meson test -C build-tsan --no-rebuild --print-errorlogs --num-processes 1 \
      --timeout-multiplier 3 "${names[@]}"
}

status=0
for s in "${STAGES[@]}"; do
  log "== $s"
  start=$(now)
  if "stage_$s"; then RESULT[$s]=ok; else RESULT[$s]=FAILED; status=1; fi
  TIME[$s]=$(( $(now) - start ))
  log "== $s: ${RESULT[$s]} (${TIME[$s]} s)"
done
log "summary:"
for s in "${STAGES[@]}"; do log "  $s: ${RESULT[$s]} (${TIME[$s]} s)"; done
exit $status
