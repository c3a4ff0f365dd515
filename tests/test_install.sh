#!/usr/bin/env bash
# What a user of nucleus gets: `meson install` of this build into a temporary DESTDIR, then the
# consumers of examples/consumers/ built against it and run:
#   pkgconfig/         cc + `pkg-config --cflags --libs nucleus` (shared), and --static
#   cmake/             CMake, pkg_check_modules(IMPORTED_TARGET)
#   meson-subproject/  nucleus as a meson subproject (a fresh build of this source tree)
# Each must print the same line "nucleus <version>: tokens t0 t1 t2 t3", every token in range.
# Usage: test_install.sh SOURCE_ROOT BUILD_ROOT   (meson test runs it as 'install')
set -euo pipefail

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
[ $# -eq 2 ] || fail "usage: $0 SOURCE_ROOT BUILD_ROOT"
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
for tool in cc make pkg-config cmake meson ninja readelf nm ldd; do
    command -v "$tool" >/dev/null ||
        fail "$tool not found: this test needs it (Debian: apt-get install build-essential pkgconf cmake meson ninja-build)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nucleus-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

# --- install ------------------------------------------------------------------------------
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log" >&2; fail "meson install"; }
pc=$(find "$dest" -path '*/pkgconfig/nucleus.pc' | head -n 1)
[ -n "$pc" ] || fail "nucleus.pc not installed"
libdir=$(dirname "$(dirname "$pc")")
[ -n "$(find "$dest" -path '*/include/nucleus.h')" ] || fail "nucleus.h not installed"
[ -f "$libdir/libnucleus.a" ] || fail "libnucleus.a not installed in $libdir"
version=$(sed -n 's/^Version: *//p' "$pc")
major=${version%%.*}
[ -f "$libdir/libnucleus.so.$version" ] || fail "libnucleus.so.$version not installed"
[ "$(readlink "$libdir/libnucleus.so")" = "libnucleus.so.$major" ] ||
    fail "libnucleus.so should link to libnucleus.so.$major"
[ "$(readlink "$libdir/libnucleus.so.$major")" = "libnucleus.so.$version" ] ||
    fail "libnucleus.so.$major should link to libnucleus.so.$version"
soname=$(readelf -d "$libdir/libnucleus.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libnucleus.so.$major" ] || fail "SONAME is '$soname', want libnucleus.so.$major"
echo "installed: nucleus $version, SONAME $soname, $(basename "$pc") in ${libdir#"$dest"}/pkgconfig"

# The .pc of an install in DESTDIR: PKG_CONFIG_SYSROOT_DIR puts DESTDIR before its paths.
export PKG_CONFIG_PATH=$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
unset PKG_CONFIG_LIBDIR
private=$(pkg-config --static --libs nucleus)
echo "pkg-config --static --libs nucleus: $private"
for flag in -lm -pthread; do
    [[ " $private " == *" $flag "* ]] || fail "Libs.private lacks $flag"
done
undefined=$(nm "$libdir/libnucleus.a" 2>/dev/null)
if grep -qE ' U (GOMP|omp)_' <<<"$undefined"; then
    [[ " $private " == *" -fopenmp "* || " $private " == *" -lgomp "* ]] ||
        fail "libnucleus.a calls libgomp but Libs.private has neither -fopenmp nor -lgomp"
fi

cp -r "$src/examples/consumers" "$tmp/consumers"
c=$tmp/consumers
outputs=()

# Runs a consumer, checks its line, remembers it.
check_run() {
    local what=$1 exe=$2 out
    out=$(LD_LIBRARY_PATH=$libdir "$exe") || fail "$what: $exe exited with $?"
    [[ "$out" =~ ^nucleus\ $version:\ tokens(\ [0-9]+){4}$ ]] || fail "$what printed '$out'"
    echo "$what: $out"
    outputs+=("$out")
}

# --- pkg-config ---------------------------------------------------------------------------
make -s -C "$c/pkgconfig" consumer >"$tmp/make.log" 2>&1 ||
    { cat "$tmp/make.log" >&2; fail "pkg-config consumer did not build"; }
# (ldd's output is captured first: grep -q exiting early would fail the pipe under pipefail)
deps=$(LD_LIBRARY_PATH=$libdir ldd "$c/pkgconfig/consumer")
grep -q "$libdir/libnucleus.so.$major" <<<"$deps" ||
    fail "pkg-config consumer is not linked to the installed libnucleus.so.$major"
check_run "pkg-config (shared)" "$c/pkgconfig/consumer"

# Static: with the shared library out of the way the linker takes libnucleus.a, and everything
# else it needs must come from Libs.private.
mkdir "$tmp/shared-aside"
mv "$libdir"/libnucleus.so* "$tmp/shared-aside/"
make -s -C "$c/pkgconfig" consumer-static >"$tmp/make.log" 2>&1 ||
    { cat "$tmp/make.log" >&2; fail "static pkg-config consumer did not link (Libs.private)"; }
mv "$tmp/shared-aside"/libnucleus.so* "$libdir/"
deps=$(ldd "$c/pkgconfig/consumer-static")
if grep -q libnucleus <<<"$deps"; then
    fail "static consumer still needs libnucleus.so"
fi
check_run "pkg-config (static)" "$c/pkgconfig/consumer-static"

# --- CMake --------------------------------------------------------------------------------
cmake -S "$c/cmake" -B "$tmp/cmake-build" >"$tmp/cmake.log" 2>&1 ||
    { cat "$tmp/cmake.log" >&2; fail "CMake consumer: configure"; }
cmake --build "$tmp/cmake-build" >>"$tmp/cmake.log" 2>&1 ||
    { cat "$tmp/cmake.log" >&2; fail "CMake consumer: build"; }
check_run "CMake" "$tmp/cmake-build/consumer"

# --- meson subproject ---------------------------------------------------------------------
# No installed nucleus in sight, and --force-fallback-for in case one is on the system.
mkdir -p "$c/meson-subproject/subprojects"
ln -s "$src" "$c/meson-subproject/subprojects/nucleus"
(
    unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
    meson setup "$tmp/meson-build" "$c/meson-subproject" --force-fallback-for=nucleus \
        >"$tmp/meson.log" 2>&1 &&
        ninja -C "$tmp/meson-build" >>"$tmp/meson.log" 2>&1
) || { cat "$tmp/meson.log" >&2; fail "meson subproject consumer"; }
grep -q "Executing subproject nucleus" "$tmp/meson.log" || fail "meson did not use the subproject"
check_run "meson subproject" "$tmp/meson-build/consumer"

for out in "${outputs[@]}"; do
    [ "$out" = "${outputs[0]}" ] || fail "the consumers disagree: '$out' vs '${outputs[0]}'"
done
echo "ok: ${#outputs[@]} consumer builds, one answer"
