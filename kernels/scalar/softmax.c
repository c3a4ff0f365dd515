/* Reference exp pass: weights, block sums in the canonical order, and the candidates above a
 * floor (the fused compress that saves the filters a second pass), up to a capacity past which
 * the pipeline has no use for the list. */
#include "kernels.h"
#include "scalar/expw.h"
#include "scalar/scalar.h"

double nuc_exp_sum_scalar(const float *x, size_t n, float m, float inv_t, float *w, float *bsum,
                          float lo, size_t cap, uint32_t *cand, size_t *ncand)
{
    double total = 0.0;
    size_t nc = 0;
    for (size_t start = 0; start < n; start += NUC_BLOCK) {
        const size_t end = n - start < NUC_BLOCK ? n : start + NUC_BLOCK;
        float lane[NUC_LANES] = {0};
        for (size_t i = start; i < end; i++) {
            const float v = nuc_exp_weight((x[i] - m) * inv_t);
            w[i] = v;
            lane[i % NUC_LANES] += v;
            if (lo > 0.0f && v >= lo && nc <= cap) {
                if (nc < cap)
                    cand[nc] = (uint32_t)i;
                nc++;
            }
        }
        const float s = nuc_lane_fold(lane);
        bsum[start / NUC_BLOCK] = s;
        total += s;
    }
    if (lo > 0.0f)
        *ncand = nc;
    return total;
}
