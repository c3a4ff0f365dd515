#!/usr/bin/env bash
# Shows that the NEON exp pass has no scalar fallback in its hot loops: disassembles
# nuc_exp_sum_neon from the aarch64 build, finds its innermost loops (strongly connected parts
# of the control-flow graph with no loop inside them; GCC lays loops out non-contiguously, so
# address ranges would mislead), prints the one that carries the exp, and fails if an innermost
# loop with fmla also calls something (bl/blr) or if none uses fmla at all.
#   cross/neon-asm.sh [build-aarch64]
set -euo pipefail
cd "$(dirname "$0")/.."
obj=${1:-build-aarch64}/kernels/libnuc_neon.a.p/arm_softmax_neon.c.o
[ -f "$obj" ] || { echo "neon-asm: $obj not found (run cross/test-aarch64.sh first)" >&2; exit 1; }
aarch64-linux-gnu-objdump -d --no-show-raw-insn "$obj" | python3 -c '
import re, sys
fn = "nuc_exp_sum_neon"
ins, inside = [], False
for line in sys.stdin:
    if line.rstrip().endswith("<%s>:" % fn):
        inside = True
        continue
    if inside:
        if not line.strip():
            break
        m = re.match(r"\s*([0-9a-f]+):\s+(\S+)\s*(.*)", line)
        if m:
            ins.append((int(m.group(1), 16), m.group(2), m.group(3)))
# Control flow between instructions: fall through (unless b/ret), and to a branch target.
addrs = [a for a, _, _ in ins]
op_at = {a: (op, args) for a, op, args in ins}
succ = {}
for k, (a, op, args) in enumerate(ins):
    out = []
    if op not in ("b", "ret", "br") and k + 1 < len(ins):
        out.append(ins[k + 1][0])
    t = re.search(r"<%s\+0x([0-9a-f]+)>" % fn, args)
    if (op.startswith("b") or op in ("cbz", "cbnz", "tbz", "tbnz")) and op not in ("bl", "blr") and t:
        out.append(int(t.group(1), 16))
    succ[a] = out

def sccs(nodes, edges):
    """Tarjan, iteratively: the strongly connected components of the subgraph on nodes."""
    index, low, on, stack, comps, n = {}, {}, set(), [], [], [0]
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
            ws = [w for w in edges.get(v, []) if w in nodes]
            if i < len(ws):
                work.append((v, i + 1))
                w = ws[i]
                if w not in index:
                    work.append((w, 0))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            for w in ws:
                if w in on:
                    low[v] = min(low[v], low[w])
            if low[v] == index[v]:
                comp = set()
                while True:
                    w = stack.pop(); on.discard(w); comp.add(w)
                    if w == v:
                        break
                comps.append(comp)
    return [c for c in comps if len(c) > 1 or any(v in edges.get(v, []) for v in c)]

def innermost(nodes, edges):
    """Loops with no loop inside: cut the edges into each loop header, look again inside."""
    found = []
    for comp in sccs(nodes, edges):
        preds_out = {v for v in comp for u in succ if v in succ[u] and u not in comp}
        heads = preds_out or {min(comp)}
        cut = {v: [w for w in edges.get(v, []) if w in comp and w not in heads] for v in comp}
        inner = innermost(comp, cut)
        found += inner if inner else [comp]
    return found

loops = innermost(set(addrs), succ)
bad, hot = 0, None
for comp in loops:
    body = [(a,) + op_at[a] for a in sorted(comp)]
    nfmla = sum(op == "fmla" for _, op, _ in body)
    calls = [(hex(a), op, args) for a, op, args in body if op in ("bl", "blr")]
    if nfmla and calls:
        bad = 1
        print("loop at 0x%x: %d fmla but calls %s" % (body[0][0], nfmla, calls))
    if nfmla:
        print("innermost loop 0x%x-0x%x: %d instructions, %d fmla, %d calls" % (
            body[0][0], body[-1][0], len(body), nfmla, len(calls)))
    if nfmla and (hot is None or nfmla > hot[2]):
        hot = (body[0][0], body[-1][0], nfmla, body)
if hot is None:
    print("no loop of %s uses fmla" % fn)
    sys.exit(1)
lo, hi, nfmla, body = hot
ops = {}
for _, op, _ in body:
    ops[op] = ops.get(op, 0) + 1
print("%s: %d innermost loops; hot loop 0x%x-0x%x: %d instructions, %d fmla, "
      "%d fcvtzs, calls: %d" % (fn, len(loops), lo, hi, len(body), nfmla,
                                ops.get("fcvtzs", 0), ops.get("bl", 0) + ops.get("blr", 0)))
print("  " + ", ".join("%s %d" % kv for kv in sorted(ops.items(), key=lambda kv: -kv[1])))
sys.exit(bad)
'
