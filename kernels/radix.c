/* Radix select on the bits of non-negative floats, whose order as unsigned integers is their
 * order as numbers. Four digits (8, 8, 8, 7 bits from the top; the sign bit is always 0) narrow
 * the list to the tokens that share the cut's value; their ties are then walked in index
 * order, which is the rank order the contract fixes for ties. */
#include <string.h>
#include "radix.h"
#include "scalar/expw.h"

static const struct { int shift; uint32_t mask; } digits[4] = {
    {23, 0xff}, {15, 0xff}, {7, 0xff}, {0, 0x7f}};

nuc_cut nuc_radix_cut(const float *w, uint32_t *list, size_t len, nuc_cut_mode mode, size_t k,
                      double target, double above)
{
    nuc_cut cut = {0, 0, len};
    size_t ranked_before = 0; /* list tokens known to rank before every token still in list */
    for (int level = 0; level < 4 && len > 0; level++) {
        const int shift = digits[level].shift;
        const uint32_t mask = digits[level].mask;
        uint32_t count[256];
        double mass[256];
        memset(count, 0, sizeof count);
        memset(mass, 0, sizeof mass);
        for (size_t j = 0; j < len; j++) {
            const float v = w[list[j]];
            const uint32_t d = (nuc_f32_bits(v) >> shift) & mask;
            count[d]++;
            if (mode == NUC_CUT_MASS)
                mass[d] += v;
        }
        int sel = -1, last_nonempty = -1;
        size_t before_last = ranked_before;
        double above_last = above;
        for (int d = (int)mask; d >= 0; d--) {
            if (!count[d])
                continue;
            const int cut_here = mode == NUC_CUT_COUNT ? ranked_before + count[d] >= k
                                                       : above + mass[d] > target;
            if (cut_here) {
                sel = d;
                break;
            }
            last_nonempty = d;
            before_last = ranked_before;
            above_last = above;
            ranked_before += count[d];
            if (mode == NUC_CUT_MASS)
                above += mass[d];
        }
        if (sel < 0) {
            if (level == 0)
                return cut; /* the cut lies after the whole list */
            /* The parent bucket held the cut but its digits, summed in another order, fall a
             * rounding error short: the cut is at the bucket's last token. */
            sel = last_nonempty;
            ranked_before = before_last;
            above = above_last;
        }
        size_t kept = 0;
        for (size_t j = 0; j < len; j++)
            if (((nuc_f32_bits(w[list[j]]) >> shift) & mask) == (uint32_t)sel)
                list[kept++] = list[j];
        len = kept;
    }
    /* Every token left has the same weight: ties, ranked by index. */
    size_t last = 0;
    if (mode == NUC_CUT_COUNT) {
        last = k - ranked_before - 1;
    } else {
        for (size_t j = 0; j < len && above <= target; j++) {
            last = j;
            above += w[list[j]];
        }
    }
    cut.found = 1;
    cut.index = list[last];
    cut.rank = ranked_before + last + 1;
    return cut;
}
