#!/usr/bin/env bash
# Builds nucleus for aarch64 with Debian's cross toolchain and runs the whole meson test suite
# under qemu-aarch64, where dispatch picks the NEON kernels by default.
#
#   cross/test-aarch64.sh            install what is missing (as root), configure build-aarch64,
#                                    build, test with NUCLEUS_ISA=neon
#   NUC_CROSS_SCALAR=1 cross/...     also run the suite once more with NUCLEUS_ISA=scalar
#   NUC_CROSS_TESTS="kernels isa_neon" cross/...   only these meson tests (default: all)
#   NUC_CROSS_SKIP="stats" cross/...                all meson tests but these
#   NUC_CROSS_BUILDDIR=dir           build somewhere else than build-aarch64
#   NUC_CROSS_JOBS=n                 ninja jobs and meson test processes (default 2)
#
# Idempotent: packages are installed only when missing, the build dir is configured once
# (ninja reconfigures it when meson files change; a changed cross file wipes it). Exit status:
# 0 iff every test passed. The logs: $builddir/meson-logs/testlog{,-scalar}.txt.
# Tests run with CK_FORK=no (set CK_FORK=yes to override): cheaper under qemu, and the fork
# hang seen before was the glibc mix that the cross file's exe_wrapper now avoids. Suites that
# sweep many cases shrink them under NUC_TEST_QUICK=1 (set here unless given). The bench subdir
# needs Google Benchmark, which has no arm64 package here: -Dbench=false.
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${NUC_CROSS_BUILDDIR:-build-aarch64}
jobs=${NUC_CROSS_JOBS:-2}

# --- packages -------------------------------------------------------------------------------
need_host=(meson ninja-build gcc-aarch64-linux-gnu qemu-user)
# check:arm64 brings libc6:arm64 and libsubunit; pkgconf:arm64 brings the triplet
# aarch64-linux-gnu-pkg-config that the cross file names.
need_arm64=(check:arm64 pkgconf:arm64)
missing=()
for p in "${need_host[@]}" "${need_arm64[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test-aarch64: missing packages: ${missing[*]} (run as root once, or install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- configure and build --------------------------------------------------------------------
t0=$(date +%s)
# meson keeps the cross file's settings from setup time: rebuild the dir when the file changed.
if [ -f "$builddir/build.ninja" ] &&
   [ cross/aarch64-linux-gnu.ini -nt "$builddir/meson-private/coredata.dat" ]; then
  meson setup --wipe "$builddir" --cross-file cross/aarch64-linux-gnu.ini -Dbench=false
elif [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" --cross-file cross/aarch64-linux-gnu.ini -Dbench=false
fi
ninja -C "$builddir" -j "$jobs"
t1=$(date +%s)
echo "test-aarch64: build $((t1 - t0)) s"

# --- the NEON exp loop is vector code with fused multiply-adds and no calls ----------------
status=0
bash cross/neon-asm.sh "$builddir" || status=1

# --- test under qemu ------------------------------------------------------------------------
export CK_FORK=${CK_FORK:-no}
export NUC_TEST_QUICK=${NUC_TEST_QUICK:-1}
read -r -a tests <<< "${NUC_CROSS_TESTS:-}"
if [ ${#tests[@]} -eq 0 ] && [ -n "${NUC_CROSS_SKIP:-}" ]; then
  # Every test but the skipped ones (meson 1.0 has no --exclude): names from --list.
  read -r -a skip <<< "$NUC_CROSS_SKIP"
  while read -r name; do
    keep=1
    for s in "${skip[@]}"; do [ "$name" = "$s" ] && keep=0; done
    if [ $keep = 1 ]; then tests+=("$name"); fi
  done < <(meson test -C "$builddir" --no-rebuild --list 2>/dev/null | sed 's|.* / ||')
  echo "test-aarch64: skipping ${skip[*]}"
fi
NUCLEUS_ISA=neon meson test -C "$builddir" --no-rebuild --print-errorlogs \
  --num-processes "$jobs" --logbase testlog "${tests[@]}" || status=1
t2=$(date +%s)
echo "test-aarch64: tests with NUCLEUS_ISA=neon $((t2 - t1)) s"
if [ "${NUC_CROSS_SCALAR:-0}" = 1 ]; then
  NUCLEUS_ISA=scalar meson test -C "$builddir" --no-rebuild --print-errorlogs \
    --num-processes "$jobs" --logbase testlog-scalar "${tests[@]}" || status=1
  echo "test-aarch64: tests with NUCLEUS_ISA=scalar $(($(date +%s) - t2)) s"
fi
exit $status
