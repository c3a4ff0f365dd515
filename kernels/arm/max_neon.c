/* The max pass and first-index search in NEON. A max is exact in any order, so four
 * accumulators are free to run ahead; only -0 versus +0 may differ, which kernels.h allows. */
#include <float.h>
#include <math.h>
#include "nucleus.h"
#include "kernels.h"
#include "arm/neon.h"
#include "arm/neon_intrin.h"

int nuc_max_neon(const float *x, size_t n, float *max)
{
    const float32x4_t big = vdupq_n_f32(FLT_MAX);
    float32x4_t m0 = vdupq_n_f32(-INFINITY), m1 = m0, m2 = m0, m3 = m0;
    uint32x4_t ok = vdupq_n_u32(UINT32_MAX); /* lanes that saw neither NaN nor +inf */
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const float32x4_t v0 = vld1q_f32(x + i), v1 = vld1q_f32(x + i + 4);
        const float32x4_t v2 = vld1q_f32(x + i + 8), v3 = vld1q_f32(x + i + 12);
        m0 = vmaxq_f32(m0, v0);
        m1 = vmaxq_f32(m1, v1);
        m2 = vmaxq_f32(m2, v2);
        m3 = vmaxq_f32(m3, v3);
        /* v <= FLT_MAX is false exactly for NaN and +inf. */
        const uint32x4_t f01 = vandq_u32(vcleq_f32(v0, big), vcleq_f32(v1, big));
        const uint32x4_t f23 = vandq_u32(vcleq_f32(v2, big), vcleq_f32(v3, big));
        ok = vandq_u32(ok, vandq_u32(f01, f23));
    }
    int bad = vminvq_u32(ok) == 0;
    float m = vmaxvq_f32(vmaxq_f32(vmaxq_f32(m0, m1), vmaxq_f32(m2, m3)));
    for (; i < n; i++) {
        const float v = x[i];
        bad |= !(v <= FLT_MAX);
        m = v > m ? v : m;
    }
    if (bad)
        return NUC_ENONFINITE;
    if (m == -INFINITY)
        return NUC_EMASKED;
    *max = m;
    return NUC_OK;
}

size_t nuc_find_nth_neon(const float *x, size_t n, float v, size_t j)
{
    const float32x4_t vv = vdupq_n_f32(v);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        /* Equal lanes are all ones, -1 as integers: minus their sum is their count. */
        const uint32x4_t e01 = vaddq_u32(vceqq_f32(vld1q_f32(x + i), vv),
                                         vceqq_f32(vld1q_f32(x + i + 4), vv));
        const uint32x4_t e23 = vaddq_u32(vceqq_f32(vld1q_f32(x + i + 8), vv),
                                         vceqq_f32(vld1q_f32(x + i + 12), vv));
        const size_t c = (size_t)(0u - vaddvq_u32(vaddq_u32(e01, e23)));
        if (c > j)
            break; /* the match is in these 16: the loop below finds it */
        j -= c;
    }
    for (; i < n; i++)
        if (x[i] == v && j-- == 0)
            return i;
    return n;
}
