/* Radix select on the bits of positive floats, whose order as unsigned integers is their order
 * as numbers. Each level splits the range of the values still in the list into 256 buckets by
 * the bits (so a narrow bracket is split as finely as a wide one), keeps the bucket that holds
 * the cut and narrows the list to it. When one value is left, its ties are walked in index
 * order, the rank order the contract fixes for ties. Heavy ties end after one level. */
#include <math.h>
#include <string.h>
#include "radix.h"
#include "scalar/expw.h"

static void hist_span(nuc_hist *h, uint32_t base, uint32_t span /* >= 1 */)
{
    int bits = 0;
    while (bits < 32 && ((uint64_t)span - 1) >> bits)
        bits++;
    h->base = base;
    h->shift = bits > 8 ? bits - 8 : 0;
}

void nuc_hist_range(nuc_hist *h, float lo, float hi)
{
    hist_span(h, nuc_f32_bits(lo), nuc_f32_bits(hi) - nuc_f32_bits(lo) + 1);
}

static uint32_t digit(const nuc_hist *h, float v)
{
    return (nuc_f32_bits(v) - h->base) >> h->shift;
}

/* Long lists spread over four histograms, taken in turn and added at the end: a run of equal
 * digits (ties, a narrow bracket) would otherwise wait on the previous update of the same
 * bucket, through memory, once per value. */
#define FILL_WAYS 4
#define FILL_WAYS_MIN 1024

void nuc_hist_fill(nuc_hist *h, const float *v, size_t len)
{
    memset(h->count, 0, sizeof h->count);
    memset(h->mass, 0, sizeof h->mass);
    size_t j = 0;
    if (len >= FILL_WAYS_MIN) {
        uint32_t count[FILL_WAYS - 1][256] = {{0}};
        double mass[FILL_WAYS - 1][256] = {{0}};
        for (; j + FILL_WAYS <= len; j += FILL_WAYS) {
            const uint32_t d0 = digit(h, v[j]);
            h->count[d0]++;
            h->mass[d0] += v[j];
            for (int c = 1; c < FILL_WAYS; c++) {
                const uint32_t d = digit(h, v[j + c]);
                count[c - 1][d]++;
                mass[c - 1][d] += v[j + c];
            }
        }
        for (int d = 0; d < 256; d++)
            for (int c = 0; c < FILL_WAYS - 1; c++) {
                h->count[d] += count[c][d];
                h->mass[d] += mass[c][d];
            }
    }
    for (; j < len; j++) {
        const uint32_t d = digit(h, v[j]);
        h->count[d]++;
        h->mass[d] += v[j];
    }
}

float nuc_hist_lower_edge(const nuc_hist *h, int d)
{
    return nuc_f32_from_bits(h->base + ((uint32_t)d << h->shift));
}

/* The cut among a few values, by selection: the largest value left and its ties, then the next,
 * each group weighed whole (count * value, exact in double). A histogram level costs its 256
 * buckets whatever the length (clearing and walking them); the few values a first level leaves
 * take a few compares. `settled`: a level before found the cut among these values, so where
 * rounding leaves it uncrossed it is the last group's last token (the levels' rule); else the
 * cut lies after them all. */
#define FEW 16

static int crosses(nuc_cut_mode mode, size_t k, double target, size_t before, double above,
                   size_t g, float v)
{
    return mode == NUC_CUT_COUNT ? before + g >= k : above + (double)g * (double)v > target;
}

/* The cut inside a group of g tokens of weight v that holds it, `before` list tokens of mass
 * `above` ranking before the group. Its tokens rank by index and the mass before the j-th of
 * them is above + j * v, so the last one kept is found without walking them (its index is
 * the caller's to find). */
static nuc_cut group_cut(nuc_cut_mode mode, size_t k, double target, double above, size_t before,
                         float v, size_t g)
{
    const double j =
        mode == NUC_CUT_COUNT ? (double)(k - before - 1) : floor((target - above) / v);
    const size_t last = j < (double)g ? (size_t)j : g - 1;
    return (nuc_cut){.found = 1, .value = v, .tie = last,
                     .mass = above + (double)(last + 1) * (double)v, .rank = before + last,
                     .group = g};
}

static nuc_cut few_cut(const uint32_t *list, const float *vals, size_t len, nuc_cut_mode mode,
                       size_t k, double target, double above, size_t before, int settled)
{
    float v = INFINITY; /* the group taken last */
    size_t g = 0;
    int crossed = 0;
    while (!crossed) {
        float next = 0.0f; /* the largest value below v (values are > 0) */
        for (size_t j = 0; j < len; j++)
            next = vals[j] < v && vals[j] > next ? vals[j] : next;
        if (next == 0.0f)
            break;
        if (g > 0) { /* the group before next ranks before it */
            before += g;
            above += (double)g * (double)v;
        }
        v = next;
        g = 0;
        for (size_t j = 0; j < len; j++)
            g += vals[j] == v;
        crossed = crosses(mode, k, target, before, above, g, v);
    }
    if (g == 0 || (!crossed && !settled))
        return (nuc_cut){.found = 0};
    nuc_cut cut = group_cut(mode, k, target, above, before, v, g);
    size_t at = 0; /* the group's cut.tie-th token in the list */
    for (size_t seen = 0;; at++)
        if (vals[at] == v && seen++ == cut.tie)
            break;
    cut.index = list ? list[at] : 0;
    return cut;
}

nuc_cut nuc_radix_cut(uint32_t *list, float *vals, size_t len, float lo, float hi,
                      nuc_cut_mode mode, size_t k, double target, double above)
{
    nuc_cut cut = {.found = 0};
    if (len == 0)
        return cut;
    size_t ranked_before = 0; /* list tokens known to rank before every token still in list */
    if (lo == hi && (mode == NUC_CUT_COUNT ? len < k : above + (double)len * lo <= target))
        return cut; /* a single value: the first level's test, without its histogram */
    if (len <= FEW)
        return few_cut(list, vals, len, mode, k, target, above, 0, 0);
    nuc_hist h;
    nuc_hist_range(&h, lo, hi);
    for (int level = 0; lo != hi; level++) {
        nuc_hist_fill(&h, vals, len);
        int sel = -1, last_nonempty = -1;
        size_t before_last = ranked_before;
        double above_last = above;
        for (int d = 255; d >= 0; d--) {
            if (!h.count[d])
                continue;
            const int cut_here = mode == NUC_CUT_COUNT ? ranked_before + h.count[d] >= k
                                                       : above + h.mass[d] > target;
            if (cut_here) {
                sel = d;
                break;
            }
            last_nonempty = d;
            before_last = ranked_before;
            above_last = above;
            ranked_before += h.count[d];
            above += h.mass[d];
        }
        if (sel < 0) {
            if (level == 0)
                return cut; /* the cut lies after the whole list */
            /* The parent bucket held the cut but its sub-buckets, summed in another order, fall
             * a rounding error short: the cut is at the bucket's last token. */
            sel = last_nonempty;
            ranked_before = before_last;
            above = above_last;
        }
        /* Narrow the list to the bucket, and the next level's range to the values in it. */
        size_t kept = 0;
        uint32_t lo_bits = UINT32_MAX, hi_bits = 0;
        for (size_t j = 0; j < len; j++) {
            const uint32_t b = nuc_f32_bits(vals[j]);
            if ((b - h.base) >> h.shift == (uint32_t)sel) {
                if (list)
                    list[kept] = list[j];
                vals[kept++] = vals[j];
                lo_bits = b < lo_bits ? b : lo_bits;
                hi_bits = b > hi_bits ? b : hi_bits;
            }
        }
        len = kept;
        if (lo_bits == hi_bits)
            break; /* one value left: only ties remain */
        if (len <= FEW)
            return few_cut(list, vals, len, mode, k, target, above, ranked_before, 1);
        hist_span(&h, lo_bits, hi_bits - lo_bits + 1);
    }
    /* Every token left has the same weight: one group, in list (index) order. */
    cut = group_cut(mode, k, target, above, ranked_before, vals[0], len);
    cut.index = list ? list[cut.tie] : 0;
    return cut;
}
