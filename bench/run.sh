#!/usr/bin/env bash
# Runs the benchmark suite and reports it: bash bench/run.sh quick|full [BUILD_DIR [FLAGS...]]
#   quick: the representative subset (`make bench`, well under two minutes)
#   full:  every implementation x profile x parameter set x vocabulary size (`make bench-full`)
# Writes under bench-results/: <mode>-<stamp>.json (Google Benchmark JSON), the console log, the
# table (.md, also printed), chart-*.dat, chart.gp and chart.svg / .png / .txt (gnuplot).
# FLAGS go to the benchmark binary, e.g. --benchmark_repetitions=3 (the report keeps the fastest)
# or --benchmark_filter=REGEX.
# Nothing here passes or fails on speed; the exit status only reports a failure to run.
set -euo pipefail

mode=${1:-quick}
build=${2:-build-release}
shift $(( $# < 2 ? $# : 2 ))
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac
exe="$build/bench/nucleus_bench"
if [ ! -x "$exe" ]; then
    echo "run.sh: $exe not found (configure with -Dbench=true and build it first)" >&2
    exit 2
fi

case "$mode" in
quick) args=(--nb_quick --benchmark_min_time=0.05 "$@"); cmd="make bench" ;;
full) args=(--benchmark_min_time=0.1 "$@"); cmd="make bench-full" ;;
*) echo "usage: bash bench/run.sh quick|full [BUILD_DIR]" >&2; exit 2 ;;
esac

out="$root/bench-results"
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
base="$out/$mode-$stamp"
count=$("$exe" "${args[@]}" --benchmark_list_tests=true | wc -l)
echo "bench: running $count benchmarks ($mode), log in ${base#"$root"/}.console.txt" >&2
start=$(date +%s)
"$exe" "${args[@]}" --benchmark_out="$base.json" --benchmark_out_format=json \
    --benchmark_counters_tabular=false >"$base.console.txt" 2>&1 || {
    echo "bench: nucleus_bench failed; see $base.console.txt" >&2
    tail -n 20 "$base.console.txt" >&2
    exit 1
}
echo "bench: done in $(( $(date +%s) - start )) s" >&2
cp "$base.json" "$out/latest-$mode.json"

[ $# -gt 0 ] && cmd="bash bench/run.sh $mode ${build#"$root"/} $*"
python3 "$root/bench/report.py" "$base.json" --chart-dir "$out" --command "$cmd" >"$base.md"
cp "$base.md" "$out/latest-$mode.md"
cat "$base.md"

if command -v gnuplot >/dev/null 2>&1; then
    if (cd "$out" && gnuplot chart.gp) 2>"$base.gnuplot.log"; then
        [ -s "$base.gnuplot.log" ] || rm -f "$base.gnuplot.log"
        echo
        echo "chart: ${out#"$root"/}/chart.svg (text version: ${out#"$root"/}/chart.txt)"
    else
        echo "bench: gnuplot failed (see $base.gnuplot.log); the tables above stand" >&2
    fi
else
    echo "bench: gnuplot not found, no chart (apt-get install gnuplot-nox)" >&2
fi
