/* The one exp used for weights, written as the exact sequence of float operations that every
 * kernel set reproduces lane by lane (same constants, same fused multiply-adds, same order).
 * exp(y) = 2^k * 2^(j/16) * exp(r): K = 16k + j = round(16 y / ln 2), so |r| <= ln(2) / 32,
 * where a cubic suffices; 2^(j/16) comes from a 16-entry table. Three fused multiply-adds
 * fewer than a degree-6 polynomial over |r| <= ln(2) / 2, on the ports that bound the exp pass
 * (AVX-512 at n = 128256: 19.1 us -> 15.8 us). Over every float in [-87, 0] (1.1e9 of them,
 * against exp in double): at most 1.7e-7 relative error (the degree-6 form: 2.3e-7), far inside
 * the 1e-5 the contract allows, and one weight one ulp below its lower neighbour's (at
 * y = -ln(2) / 32; the degree-6 form had 2828 such). */
#ifndef NUC_EXPW_H
#define NUC_EXPW_H
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "kernels.h"

/* 16 / ln 2 (16 times the float nearest log2(e), exactly). */
#define NUC_LOG2E_16 (1.44269502f * 16.0f)
/* Adding 1.5 * 2^23 rounds a float of magnitude < 2^22 to an integer (ulp is 1 there). */
#define NUC_ROUND_MAGIC 12582912.0f
/* ln(2) / 16 split so that K * NUC_LN2_16_HI is exact for |K| < 2^15 (9 significant bits). */
#define NUC_LN2_16_HI (0.693359375f / 16.0f)
#define NUC_LN2_16_LO (-2.12194440e-4f / 16.0f)
/* Taylor coefficients 1/2 and 1/6: the cubic leaves a 9.3e-9 truncation error on
 * |r| <= ln(2) / 32. */
#define NUC_EXP_C2 0.5f
#define NUC_EXP_C3 0.166666672f

/* 2^(j/16), each the float nearest it; aligned for one vector load. */
static _Alignas(64) const float nuc_exp_table[16] = {
    0x1.000000p+0f, 0x1.0b5586p+0f, 0x1.172b84p+0f, 0x1.2387a6p+0f,
    0x1.306fe0p+0f, 0x1.3dea64p+0f, 0x1.4bfdaep+0f, 0x1.5ab07ep+0f,
    0x1.6a09e6p+0f, 0x1.7a1148p+0f, 0x1.8ace54p+0f, 0x1.9c4918p+0f,
    0x1.ae89fap+0f, 0x1.c199bep+0f, 0x1.d5818ep+0f, 0x1.ea4afap+0f};

/* exp(y); +0 below NUC_EXP_CUTOFF (and for y = -inf and NaN). y is at most NUC_EXP_CEILING
 * (kernels.h); the clamp there only keeps a y past it from undefined behaviour here (the SIMD
 * kernels' bits are defined up to the ceiling). The pipeline's y is <= 0. The result is never
 * subnormal: k = -126 needs K >= -2008 (the cutoff) and K < -2000, so j >= 8 and
 * p * 2^(j/16) >= 1.38; at the ceiling K = 2031 (k = 126), so it stays finite. */
static inline float nuc_exp_weight(float y)
{
    if (!(y >= NUC_EXP_CUTOFF))
        return 0.0f;
    y = y < NUC_EXP_CEILING ? y : NUC_EXP_CEILING;
    const float t = fmaf(y, NUC_LOG2E_16, NUC_ROUND_MAGIC);
    const float kf = t - NUC_ROUND_MAGIC; /* K, in [-2008, 2031] */
    float r = fmaf(kf, -NUC_LN2_16_HI, y);
    r = fmaf(kf, -NUC_LN2_16_LO, r);
    float p = fmaf(NUC_EXP_C3, r, NUC_EXP_C2);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    const int32_t K = (int32_t)kf, j = K & 15; /* two's complement: j = K mod 16 */
    p = p * nuc_exp_table[j];
    const uint32_t bits = (uint32_t)((K - j) / 16 + 127) << 23; /* 2^k, a normal float */
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
