/* The one exp used for weights, written as the exact sequence of float operations that every
 * kernel set reproduces lane by lane (same constants, same fused multiply-adds, same order).
 * Accuracy: about 2e-7 relative over the reduced range, far inside the 1e-5 the contract allows. */
#ifndef NUC_EXPW_H
#define NUC_EXPW_H
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "kernels.h"

#define NUC_LOG2E 1.44269502f
/* Adding 1.5 * 2^23 rounds a float of magnitude < 2^22 to an integer (ulp is 1 there). */
#define NUC_ROUND_MAGIC 12582912.0f
/* ln 2 split so that k * NUC_LN2_HI is exact for |k| < 2^15 (NUC_LN2_HI has 9 significant bits). */
#define NUC_LN2_HI 0.693359375f
#define NUC_LN2_LO (-2.12194440e-4f)
/* Taylor coefficients 1/k! for k = 2..6: degree 6 leaves a 1.2e-7 truncation error on
 * |r| <= ln(2)/2, below what float rounding adds anyway. */
#define NUC_EXP_C2 0.5f
#define NUC_EXP_C3 0.166666672f
#define NUC_EXP_C4 0.0416666679f
#define NUC_EXP_C5 0.00833333377f
#define NUC_EXP_C6 0.00138888892f

/* exp(y); +0 below NUC_EXP_CUTOFF (and for y = -inf and NaN), exp(NUC_EXP_CEILING) above the
 * ceiling. The pipeline's y is <= 0. The result is never subnormal: at the cutoff k = -126 but
 * r >= 0.33, so p >= 1.39 keeps it normal; at the ceiling k = 127, so it stays finite. */
static inline float nuc_exp_weight(float y)
{
    if (!(y >= NUC_EXP_CUTOFF))
        return 0.0f;
    y = y < NUC_EXP_CEILING ? y : NUC_EXP_CEILING;
    const float t = fmaf(y, NUC_LOG2E, NUC_ROUND_MAGIC);
    const float k = t - NUC_ROUND_MAGIC; /* round(y / ln 2), in [-126, 127] */
    float r = fmaf(k, -NUC_LN2_HI, y);
    r = fmaf(k, -NUC_LN2_LO, r);
    float p = NUC_EXP_C6;
    p = fmaf(p, r, NUC_EXP_C5);
    p = fmaf(p, r, NUC_EXP_C4);
    p = fmaf(p, r, NUC_EXP_C3);
    p = fmaf(p, r, NUC_EXP_C2);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    const uint32_t bits = (uint32_t)((int32_t)k + 127) << 23; /* 2^k, a normal float */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* The fixed reduction tree of the 16 lane sums (kernels.h): h = 8, 4, 2, 1. */
static inline float nuc_lane_fold(float lane[NUC_LANES])
{
    for (int h = NUC_LANES / 2; h >= 1; h /= 2)
        for (int j = 0; j < h; j++)
            lane[j] = lane[j] + lane[j + h];
    return lane[0];
}

static inline uint32_t nuc_f32_bits(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static inline float nuc_f32_from_bits(uint32_t b)
{
    float v;
    memcpy(&v, &b, sizeof v);
    return v;
}
#endif
