#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ into build-fuzz/fuzz/.
#
# The library comes from meson itself (CC=clang, ASan + UBSan, coverage for libFuzzer, static),
# so the source list and the per-ISA flags (the AVX2 / AVX-512 / NEON-through-SIMDe kernels each
# built with their own -m flags, kernels/meson.build) are never repeated here: the targets link
# build-fuzz/libnucleus.a with the flags of its uninstalled pkg-config file.
# Installs the Debian packages it misses (as root). Environment: JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/../.."
JOBS=${JOBS:-2}
B=build-fuzz

need=(clang libclang-rt-14-dev meson ninja-build pkg-config libomp-14-dev)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "missing Debian packages: ${missing[*]}" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# shellcheck disable=SC2054 # commas inside flags, not between elements
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=all)
# shellcheck disable=SC2054
opts=(-Dbuildtype=debugoptimized -Ddefault_library=static -Dtests=false -Dbench=false
      -Db_sanitize=address,undefined -Db_lundef=false
      "-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer")
# NEON through SIMDe when it builds with clang; if it does not, say so loudly and fuzz the other
# kernel sets rather than nothing.
neon=false
[ -f /usr/include/simde/arm/neon.h ] && neon=true
build_lib() { # neon_simde value
  if [ -f "$B/build.ninja" ]; then
    meson configure "$B" "${opts[@]}" -Dneon_simde="$1" >/dev/null
  else
    CC=clang meson setup "$B" "${opts[@]}" -Dneon_simde="$1" >"$B.setup.log" 2>&1 ||
      { cat "$B.setup.log"; return 1; }
    rm -f "$B.setup.log"
  fi
  ninja -C "$B" -j "$JOBS" libnucleus.a >"$B/ninja.log" 2>&1
}
if ! build_lib $neon; then
  grep -E 'error|FAILED' "$B/ninja.log" | head -10
  [ $neon = true ] || exit 1
  echo "WARNING: the library does not build with clang and -Dneon_simde=true (above);" \
       "fuzzing WITHOUT the NEON kernels" >&2
  build_lib false || { grep -v '^\[' "$B/ninja.log" | tail -30; exit 1; }
fi

# What a static link of the library needs (-lm, -pthread, OpenMP's flag), as meson wrote it.
export PKG_CONFIG_PATH=$PWD/$B/meson-uninstalled
LIBS=$(pkg-config --static --libs nucleus)
CFLAGS=$(pkg-config --cflags nucleus)

mkdir -p "$B/fuzz"
for src in tests/fuzz/fuzz_*.c; do
  t=$(basename "$src" .c)
  # Rebuild when the target, the shared header, the oracle or the library changed.
  if [ "$B/fuzz/$t" -nt "$src" ] && [ "$B/fuzz/$t" -nt tests/fuzz/fuzz_common.h ] &&
     [ "$B/fuzz/$t" -nt "$B/libnucleus.a" ] && [ "$B/fuzz/$t" -nt tests/oracle.c ]; then
    continue
  fi
  # shellcheck disable=SC2086
  clang -std=c11 -g -O1 -Wall -Wextra -ffp-contract=off -fsanitize=fuzzer "${SAN[@]}" \
    $CFLAGS -Itests "$src" tests/oracle.c -o "$B/fuzz/$t" $LIBS &
done
wait
ls "$B"/fuzz/fuzz_* >/dev/null
echo "fuzz targets: $(cd "$B/fuzz" && echo fuzz_*)"
