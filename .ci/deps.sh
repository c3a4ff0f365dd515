#!/usr/bin/env bash
# Installs the Debian packages the build, tests and benchmarks need, when some are missing.
# Usage: .ci/deps.sh [base|bench|cross]...   (base is always included)
set -euo pipefail
pkgs=(meson ninja-build pkg-config gcc g++ check libsimde-dev libbenchmark-dev cmake)
for want in "$@"; do
  case "$want" in
    base) ;;
    bench) pkgs+=(gnuplot-nox python3) ;;
    cross) pkgs+=(gcc-aarch64-linux-gnu qemu-user) ;;
    sanitize) pkgs+=(valgrind clang libclang-rt-14-dev) ;;
    *) echo "deps.sh: unknown group $want" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
