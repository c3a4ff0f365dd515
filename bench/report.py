#!/usr/bin/env python3
"""Reads the Google Benchmark JSON of bench/nucleus_bench and prints the tables of `make bench`
(Markdown, aligned so they read in a terminal too); optionally writes the chart data and a
gnuplot script. Standard library only. Speed is only reported, never judged."""
import argparse
import json
import os
import platform
import sys

ISAS = ["scalar", "avx2", "avx512", "neon"]
REF_N = 128256


def load(path, which):
    with open(path) as f:
        doc = json.load(f)
    sample, stage, yard, errors = {}, {}, {}, []
    busy = [0.0, 0.0]
    for b in doc.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        name = b["name"]
        if b.get("error_occurred"):
            errors.append((name, b.get("error_message", "")))
            continue
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b.get("time_unit", "us")]
        t = b[which + "_time"] * scale  # microseconds per call
        busy[0] += b["real_time"]
        busy[1] += b["cpu_time"]
        # With --benchmark_repetitions a name comes once per repetition: keep the fastest,
        # the estimate least disturbed by whatever else ran on the machine.
        parts = b.get("run_name", name).split("/")
        if parts[0] == "sample" and len(parts) == 5:
            _, impl, prof, ps, n = parts
            key = (impl, prof, ps, int(n))
            if key not in sample or t < sample[key][0]:
                sample[key] = (t, b.get("tok_u0.5"))
        elif parts[0] == "stage" and len(parts) == 5:
            _, st, isa, prof, n = parts
            key = (st, isa, prof, int(n))
            stage[key] = min(t, stage.get(key, t))
        elif parts[0] == "yardstick" and len(parts) == 5:
            _, kind, isa, prof, n = parts
            key = (kind, isa, prof, int(n))
            yard[key] = min(t, yard.get(key, t))
    ctx = doc.get("context", {})
    ctx["real_over_cpu"] = busy[0] / busy[1] if busy[1] else 1.0
    reps = max((b.get("repetitions", 1) for b in doc.get("benchmarks", [])), default=1)
    ctx["repetitions"] = reps if reps > 1 else None
    return ctx, sample, stage, yard, errors


def fmt_us(t):
    if t is None:
        return "–"
    if t >= 1000:
        return "%.0f" % t
    if t >= 100:
        return "%.0f" % t
    if t >= 10:
        return "%.1f" % t
    return "%.2f" % t


def fmt_x(r):
    if r is None:
        return "–"
    if r >= 100:
        return "%.0f×" % r
    if r >= 10:
        return "%.1f×" % r
    return "%.2f×" % r


def table(header, rows, align=None):
    """A Markdown table with padded columns; align: 'l' or 'r' per column."""
    cols = len(header)
    align = align or ["l"] + ["r"] * (cols - 1)
    width = [max(len(str(r[c])) for r in [header] + rows) for c in range(cols)]
    def line(r):
        cells = []
        for c in range(cols):
            s = str(r[c])
            cells.append(s.ljust(width[c]) if align[c] == "l" else s.rjust(width[c]))
        return "| " + " | ".join(cells) + " |"
    sep = "|" + "|".join(("-" * (width[c] + 1) + ":") if align[c] == "r" else
                         (":" + "-" * (width[c] + 1)) for c in range(cols)) + "|"
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def yard_time(yard, isa, prof, n, greedy):
    m = yard.get(("max", isa, prof, n))
    e = yard.get(("expsum", isa, prof, n))
    if m is None or (not greedy and e is None):
        return None
    return m if greedy else m + e


def sample_rows(sample, yard, isas, keys):
    rows = []
    for (label, prof, ps, n) in keys:
        naive = sample.get(("naive", prof, ps, n), (None, None))[0]
        bucket = sample.get(("bucket", prof, ps, n), (None, None))[0]
        row = [label, fmt_us(naive), fmt_us(bucket)]
        for isa in isas:
            t = sample.get(("nucleus-" + isa, prof, ps, n), (None, None))[0]
            y = yard_time(yard, isa, prof, n, ps == "greedy")
            row += [fmt_us(t),
                    fmt_x(naive / t) if t and naive else "–",
                    fmt_x(bucket / t) if t and bucket else "–",
                    fmt_x(t / y) if t and y else "–"]
        rows.append(row)
    return rows


def sample_header(isas, first):
    h = [first, "naive µs", "bucket µs"]
    for isa in isas:
        h += [isa + " µs", "×naive", "×bucket", "÷yard"]
    return h


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("json")
    ap.add_argument("--chart-dir", help="write chart-*.dat and chart.gp here")
    ap.add_argument("--command", default="make bench", help="the command named in the header")
    ap.add_argument("--note", action="append", default=[], help="a line for the header")
    ap.add_argument("--time", choices=["cpu", "real"], default="cpu",
                    help="Google Benchmark's cpu_time (default: steadier on a shared machine) "
                         "or real_time")
    args = ap.parse_args()

    ctx, sample, stage, yard, errors = load(args.json, args.time)
    impls = {k[0] for k in sample}
    isas = [i for i in ISAS if "nucleus-" + i in impls]
    profs = []
    for k in sorted(sample, key=lambda k: k[1]):
        if k[1] not in profs:
            profs.append(k[1])
    order = ["peaked", "flat", "flat3", "zipf", "ties", "equal", "masked90"]
    profs.sort(key=lambda p: order.index(p) if p in order else len(order))
    psets = []
    for k in sample:
        if k[2] not in psets:
            psets.append(k[2])
    pset_order = ["top_p0.9", "top_p0.9_T0.05", "k40_p0.95_m0.05_T0.8", "greedy"]
    psets.sort(key=lambda p: pset_order.index(p) if p in pset_order else len(pset_order))
    sizes = sorted({k[3] for k in sample})

    out = []
    out.append("nucleus benchmarks — `%s`, single thread, %s time per call" % (args.command,
                                                                              args.time))
    out.append("")
    if ctx["real_over_cpu"] > 1.05:
        out.append("**The machine was busy: wall time was %.2f× CPU time over the run; expect "
                   "noise.**" % ctx["real_over_cpu"])
        out.append("")
    out.append("- CPU: %s (%s logical CPUs, %s MHz per Google Benchmark)" % (
        cpu_model(), ctx.get("num_cpus", "?"), ctx.get("mhz_per_cpu", "?")))
    out.append("- date: %s; host: %s; Google Benchmark library build: %s" % (
        ctx.get("date", "?"), ctx.get("host_name", "?"), ctx.get("library_build_type", "?")))
    out.append("- ISAs measured: %s" % (", ".join(isas) or "none"))
    reps = ctx.get("repetitions")
    if reps:
        out.append("- %s repetitions per benchmark; the fastest is shown" % reps)
    out.extend("- " + n for n in args.note)
    out.append("- columns: µs per call; `×naive` / `×bucket` = the baseline's time over "
               "nucleus's (higher is better for nucleus); `÷yard` = nucleus's time over the "
               "yardstick of the same ISA (a plain max pass + a plain exp-sum pass; the max pass "
               "alone for greedy): the cost of the call in plain passes over the row")
    out.append("")

    # 1. Across vocabulary sizes, peaked profile.
    for ps in psets:
        keys = [("%d" % n, "peaked", ps, n) for n in sizes
                if ("naive", "peaked", ps, n) in sample or
                any(("nucleus-" + i, "peaked", ps, n) in sample for i in isas)]
        if len(keys) < 2:
            continue
        out.append("### Whole call, peaked profile, %s, by vocabulary size" % ps)
        out.append("")
        out.append(table(sample_header(isas, "n"), sample_rows(sample, yard, isas, keys)))
        out.append("")

    # 2. Every profile and parameter set at each size that has more than one profile.
    for n in sizes:
        keys = [("%s %s" % (prof, ps), prof, ps, n) for prof in profs for ps in psets
                if any(k[1] == prof and k[2] == ps and k[3] == n for k in sample)]
        if len({k[1] for k in keys}) < 2:
            continue
        out.append("### Whole call at n = %d, every profile and parameter set" % n)
        out.append("")
        out.append(table(sample_header(isas, "profile, params"),
                         sample_rows(sample, yard, isas, keys)))
        out.append("")

    # 3. Stages.
    stage_names = []
    for k in stage:
        if k[0] not in stage_names:
            stage_names.append(k[0])
    for prof in profs:
        for n in sizes:
            if not any(k[2] == prof and k[3] == n for k in stage):
                continue
            rows = []
            for st in stage_names:
                row = [st]
                for isa in isas:
                    t = stage.get((st, isa, prof, n))
                    yk = "max" if st in ("k.max", "nuc_argmax") else (
                        "expsum" if st == "k.exp_sum_T1" else None)
                    y = yard.get((yk, isa, prof, n)) if yk else None
                    row += [fmt_us(t), fmt_x(t / y) if t and y else ""]
                rows.append(row)
            for yk in ("max", "expsum"):
                row = ["yardstick " + yk]
                for isa in isas:
                    row += [fmt_us(yard.get((yk, isa, prof, n))), ""]
                rows.append(row)
            h = ["stage"]
            for isa in isas:
                h += [isa + " µs", "÷yard"]
            out.append("### Stages, %s profile, n = %d" % (prof, n))
            out.append("")
            out.append(table(h, rows))
            out.append("")
    out.append("Stages: `k.*` are kernel-table entries called directly (nuc_kernels_for); "
               "`nuc_*` are the public calls under nuc_isa_force. exp_sum+list also lists "
               "the tokens with w >= 2^-12 (at most 8192), as the pipeline does; kept_sum / "
               "scale_kept use the 256th largest weight as threshold; bracket lists the band "
               "between the 512th and the 256th weight and sums the mass above it.")
    out.append("")

    # 4. Token agreement at u = 0.5 (informational: near-boundary cases may differ legally).
    diffs = []
    cases = {(k[1], k[2], k[3]) for k in sample}
    for c in sorted(cases):
        toks = {impl: sample[(impl,) + c][1] for impl in impls if (impl,) + c in sample}
        if len({v for v in toks.values() if v is not None}) > 1:
            diffs.append("%s %s n=%d: %s" % (c[0], c[1], c[2], ", ".join(
                "%s %d" % (i, toks[i]) for i in sorted(toks) if toks[i] is not None)))
    if diffs:
        out.append("Token at u = 0.5 differs between implementations (a near-tie decides "
                   "it; the contract allows either only within its rounding margins):")
        out.extend("- " + d for d in diffs)
    else:
        out.append("Every implementation picks the same token at u = 0.5 in every case above.")
    if errors:
        out.append("")
        out.append("Skipped: " + "; ".join("%s (%s)" % e for e in errors))
    print("\n".join(out))

    if args.chart_dir:
        write_chart(args.chart_dir, sample, yard, isas, psets, sizes)


def write_chart(d, sample, yard, isas, psets, sizes):
    impls = ["naive", "bucket"] + ["nucleus-" + i for i in isas]
    best = isas[-1] if isas else None
    panels = []
    for ps in psets:
        if ps == "greedy":
            continue
        pts = [n for n in sizes if any((i, "peaked", ps, n) in sample for i in impls)]
        if len(pts) < 2:
            continue
        fn = os.path.join(d, "chart-%s.dat" % ps)
        with open(fn, "w") as f:
            f.write("# n " + " ".join(impls) + " yardstick-%s\n" % best)
            for n in pts:
                vals = []
                for i in impls:
                    v = sample.get((i, "peaked", ps, n))
                    vals.append("%.4f" % v[0] if v else "NaN")
                y = yard_time(yard, best, "peaked", n, False) if best else None
                vals.append("%.4f" % y if y else "NaN")
                f.write("%d %s\n" % (n, " ".join(vals)))
        panels.append((ps, os.path.basename(fn)))
    if not panels:
        return
    labels = impls + ["yardstick max+expsum (%s)" % best]
    def plots():
        return ", ".join("'%%s' using 1:%d with linespoints lw 2 title '%s'" % (c + 2, lab)
                         for c, lab in enumerate(labels))
    gp = ["# gnuplot script written by bench/report.py; run it inside this directory"]
    gp.append("set logscale xy")
    gp.append("set xlabel 'vocabulary size'")
    gp.append("set ylabel 'µs per call'")
    gp.append("set grid")
    gp.append("set key below")
    gp.append("set xrange [%d:%d]" % (min(sizes) * 0.8, max(sizes) * 1.25))
    gp.append("set xtics (%s)" % ", ".join("'%s' %d" % ("" if n == 151936 else "%dk" % round(n / 1000), n)
                                            for n in sizes))
    width = 560 * len(panels)
    title = ("set multiplot layout 1,%d title 'nucleus vs sort-based samplers, peaked logits, "
             "one thread (log-log)'" % len(panels))
    body = []
    for ps, fn in panels:
        body.append("set title '%s'" % ps)
        body.append("plot " + plots().replace("%s", fn))
    gp.append("set terminal svg size %d,560 dynamic noenhanced font 'sans,11'" % width)
    gp.append("set output 'chart.svg'")
    gp += [title] + body + ["unset multiplot", "set output"]
    gp.append('if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {')
    gp.append("  set terminal pngcairo size %d,560 noenhanced font 'sans,10'" % width)
    gp.append("  set output 'chart.png'")
    gp += ["  " + line for line in [title] + body + ["unset multiplot", "set output"]]
    gp.append("}")
    ps, fn = panels[0]
    gp.append("set terminal dumb size 90,30 noenhanced")
    gp.append("set key inside left top")
    gp.append("set output 'chart.txt'")
    gp.append("set title 'µs per call vs vocabulary size, %s, peaked (log-log)'" % ps)
    # The text chart keeps four lines (a terminal cannot tell more apart): the two baselines,
    # nucleus on the best ISA, and that ISA's yardstick.
    keep = [0, 1, len(labels) - 2, len(labels) - 1] if best else [0, 1]
    gp.append("plot " + ", ".join("'%s' using 1:%d with linespoints title '%s'" %
                                  (fn, c + 2, labels[c]) for c in keep))
    gp.append("set output")
    with open(os.path.join(d, "chart.gp"), "w") as f:
        f.write("\n".join(gp) + "\n")


if __name__ == "__main__":
    sys.exit(main())
