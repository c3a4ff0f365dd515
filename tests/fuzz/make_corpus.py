#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets: tests/fuzz/corpus/<target>/seed-<name>.

Each seed is a hand-made case spelled out below in the byte layout of fuzz_common.h, so the
committed files are reproducible from this script (run it again after changing the layout).
Usage: tests/fuzz/make_corpus.py [OUTDIR]   (default: tests/fuzz/corpus next to this script)
"""
import os
import struct
import sys

# Selector values (fuzz_common.h).
T = {"zero": [0], "negzero": [1], "neg": [2], "nan": [3], "inf": [4], "neginf": [5],
     "denorm": [6], "fltmin": [7], "1e-30": [8], "1e30": [9], "fltmax": [10], "1e-3": [12],
     "1e38": [13], "one": [14, 19], "0.7": [14, 13]}  # 14, b: 0.05 + (b % 64) * 0.05
K = {"off": [0], "one": [4], "neg": [5], "min": [6], "max": [7], "n-1": [8], "n": [9],
     "n+1": [10]}
UNIT = {"off": [0], "zero": [5], "negzero": [6], "one": [7], "nan": [8], "above1": [9],
        "below0": [10], "almost1": [12], "denorm": [13]}
U = {"zero": 0, "one": 1, "nan": 2, "almost1": 3, "negzero": 4, "raw": 5, "neg": 6, "bits": 7}


def unit_val(v):
    """A top_p / min_p of v/100: the selector 14, then v."""
    return [14, v]


def topk_val(k):
    """A top_k of k in 1..64: the selector 12, then k - 1."""
    return [12, k - 1]


def nice(v):
    """The logit selector of v in -20..19.75 (multiples of 0.25)."""
    c = int(round(v * 4)) + 80
    assert 0 <= c < 160
    return c


TIE, MINF = 160, 192
SPECIAL = {"nan": 240, "inf": 241, "-inf": 242, "-0": 243, "0": 244, "denorm": 245,
           "-denorm": 246, "fltmin": 247, "fltmax": 248, "-fltmax": 249, "3e38": 250,
           "-3e38": 251, "1e-30": 252, "88": 253, "-88": 254, "snan": 255}


def raw(f):
    return [224] + list(struct.pack("<f", f))


def row_case(n, cls=1, offset=0, style=0, isa=0, t="one", k="off", p="off", m="off", u="bits",
             u_bits=0x80000000, logits=()):
    """One single-row case. cls picks the length class (fuzz_common.h fz_length)."""
    classes = {0: (1, 8), 1: (1, 70), 2: (1, 300), 4: (1, 4096), 6: (1, 1024), 7: (1, 33)}
    base, mod = classes[cls]
    v = n - base
    assert 0 <= v < mod
    out = [cls | offset << 3 | style << 5, v & 0xff, v >> 8, isa]
    out += T[t] if isinstance(t, str) else t
    out += K[k] if isinstance(k, str) else k
    out += UNIT[p] if isinstance(p, str) else p
    out += UNIT[m] if isinstance(m, str) else m
    out += [U[u]]
    if u == "bits":
        out += list(struct.pack("<I", u_bits))
    out += [1, 2, 3]  # seed, stream, step
    for x in logits:
        out += x if isinstance(x, list) else [x]
    return bytes(out)


def row_seeds():
    ramp = [nice(v / 4) for v in range(-20, 20)]
    return {
        "plain": row_case(11, logits=[nice(v) for v in (0, 1, 2, 3, -1, 5, 5, 0.5, -7, 2, 4)]),
        "filters": row_case(40, t="0.7", k=topk_val(5), p=unit_val(90), m=unit_val(5),
                            logits=ramp),
        "greedy_ties": row_case(9, t="negzero", logits=[SPECIAL["-0"], SPECIAL["0"], TIE,
                                                         nice(-3), SPECIAL["0"], TIE, MINF,
                                                         SPECIAL["-0"], nice(-1)]),
        "nan_last": row_case(17, logits=[nice(1)] * 16 + [SPECIAL["nan"]]),
        "inf_first": row_case(33, offset=1, logits=[SPECIAL["inf"]] + [nice(2)] * 32),
        "all_masked": row_case(9, logits=[MINF] * 9),
        "last_only": row_case(70, offset=3, logits=[MINF] * 69 + [SPECIAL["-3e38"]]),
        "huge_span": row_case(8, cls=0, t="1e38", logits=[SPECIAL["3e38"], SPECIAL["-3e38"],
                                                          raw(1e38), raw(-1e38), SPECIAL["0"],
                                                          raw(2e38), SPECIAL["fltmax"],
                                                          SPECIAL["-fltmax"]]),
        "subnormal_t": row_case(4, cls=0, t="denorm", logits=[SPECIAL["denorm"], raw(2.8e-45),
                                                              SPECIAL["0"], SPECIAL["-denorm"]]),
        "bad_params": row_case(5, cls=0, t="nan", k="neg", p="above1", m="nan", u="one",
                               logits=[nice(1)] * 5),
        "top_p_zero": row_case(30, p="zero", m="one", logits=[TIE] * 30),
        "k_above_live": row_case(20, k="n+1", logits=[MINF] * 10 + [nice(v) for v in range(10)]),
        # The whole row from the PRNG: a 4096-token peaked row with every filter.
        "long_peaked": row_case(4096, cls=4, style=1, t="0.7", k=topk_val(40), p=unit_val(95),
                                m=unit_val(5)),
        "long_masked": row_case(4093, cls=4, style=2, p=unit_val(50), u="almost1"),
        "long_huge": row_case(1000, cls=4, style=4, t="fltmax"),
    }


def batch_case(rows, n, per_row, default_streams, threads, isa=0, stride_pad=0, align=0,
               params=None, styles=None, shape_cls=1):
    assert 1 <= rows <= 8 and 0 <= threads <= 3
    head = (rows - 1) | per_row << 3 | default_streams << 4 | threads << 5
    classes = {0: (1, 8), 1: (1, 70), 2: (1, 300), 6: (1, 1024)}
    base, mod = classes[shape_cls]
    v = n - base
    out = [head, isa, shape_cls | stride_pad << 3 | align << 6, v & 0xff, v >> 8, 9, 4]
    for i in range(rows):
        t, k, p, m = (params or [("one", "off", "off", "off")])[i % len(params or [1])]
        for field, table in ((t, T), (k, K), (p, UNIT), (m, UNIT)):
            out += table[field] if isinstance(field, str) else field
        out += [i]
    for i in range(rows):
        out += [(styles or [0])[i % len(styles or [0])]]
    return bytes(out)


def batch_seeds():
    mix = [("one", "off", "off", "off"), ("zero", "off", "off", "off"),
           ("0.7", topk_val(5), unit_val(90), unit_val(5))]
    return {
        "shared": batch_case(4, 64, 0, 1, 1),
        "per_row": batch_case(6, 257, 1, 0, 2, stride_pad=3, align=1, params=mix,
                              styles=[0, 1, 2, 3], shape_cls=2),
        "all_cores": batch_case(8, 1000, 0, 0, 0, stride_pad=1, shape_cls=6, styles=[1]),
        "bad_row": batch_case(3, 5, 1, 1, 1, params=[("one", "off", "off", "off"),
                                                     ("nan", "off", "off", "off")]),
        "one_row": batch_case(1, 1, 0, 1, 1, shape_cls=0),
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    sets = {"fuzz_probs": row_seeds(), "fuzz_sample": row_seeds(), "fuzz_batch": batch_seeds()}
    for target, seeds in sets.items():
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)
        print(f"{d}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
