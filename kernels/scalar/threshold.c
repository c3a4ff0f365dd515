/* Reference threshold passes: the mass of a kept set, the scaled output distribution, and a
 * bracket: the tokens inside a value range, and the mass above it. */
#include "kernels.h"
#include "scalar/expw.h"
#include "scalar/scalar.h"

double nuc_kept_sum_scalar(const float *w, size_t n, float thr, size_t tie_end, float *bsum,
                           size_t *count)
{
    double total = 0.0;
    size_t c = 0;
    for (size_t start = 0; start < n; start += NUC_BLOCK) {
        const size_t end = n - start < NUC_BLOCK ? n : start + NUC_BLOCK;
        float lane[NUC_LANES] = {0};
        for (size_t i = start; i < end; i++) {
            if (w[i] > thr || (w[i] == thr && i < tie_end)) {
                lane[i % NUC_LANES] += w[i];
                c++;
            }
        }
        const float s = nuc_lane_fold(lane);
        bsum[start / NUC_BLOCK] = s;
        total += s;
    }
    *count = c;
    return total;
}

void nuc_scale_kept_scalar(const float *w, size_t n, float thr, size_t tie_end, float scale,
                           float *q)
{
    for (size_t i = 0; i < n; i++)
        q[i] = (w[i] > thr || (w[i] == thr && i < tie_end)) ? w[i] * scale : 0.0f;
}

double nuc_bracket_scalar(const float *w, size_t n, float lo, float hi, float *bsum,
                          uint32_t *idx, float *vals, size_t *count)
{
    double total = 0.0;
    size_t c = 0;
    for (size_t start = 0; start < n; start += NUC_BLOCK) {
        const size_t end = n - start < NUC_BLOCK ? n : start + NUC_BLOCK;
        float lane[NUC_LANES] = {0};
        for (size_t i = start; i < end; i++) {
            if (w[i] >= lo && w[i] <= hi) {
                if (idx)
                    idx[c] = (uint32_t)i;
                vals[c++] = w[i];
            }
            else if (w[i] > hi)
                lane[i % NUC_LANES] += w[i];
        }
        if (bsum) {
            const float s = nuc_lane_fold(lane);
            bsum[start / NUC_BLOCK] = s;
            total += s;
        }
    }
    *count = c;
    return total;
}
