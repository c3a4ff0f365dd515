/* The exp pass in NEON: nuc_exp_weight (kernels/scalar/expw.h) four lanes at a time with the
 * same constants and the same fused multiply-adds, the block sums in the canonical lane order
 * (four accumulators are lanes 0-3, 4-7, 8-11, 12-15 of a block), and the fused compress of the
 * candidates above the floor. */
#include <string.h>
#include "kernels.h"
#include "scalar/expw.h"
#include "arm/neon.h"
#include "arm/neon_intrin.h"
#include "arm/neon_util.h"

/* nuc_exp_weight on four lanes: +0 where !(y >= cutoff) (the scalar branch; NaN and -inf
 * too), for y <= NUC_EXP_CEILING (kernels.h). Nothing is clamped and every lane runs the same
 * instructions; a lane below the cutoff computes garbage that the mask drops, none of it
 * subnormal (the float steps stay far from 2^-126, and the exponent is built by an integer
 * add). Each vfmaq_f32 is one fmaf of the scalar code: vfmaq_f32(a, b, c) = fmaf(b, c, a). */
static inline float32x4_t nuc_expw_neon(float32x4_t y)
{
    const uint32x4_t live = vcgeq_f32(y, vdupq_n_f32(NUC_EXP_CUTOFF));
    const float32x4_t magic = vdupq_n_f32(NUC_ROUND_MAGIC);
    const float32x4_t t = vfmaq_f32(magic, y, vdupq_n_f32(NUC_LOG2E_16));
    const float32x4_t k = vsubq_f32(t, magic);
    float32x4_t r = vfmaq_f32(y, k, vdupq_n_f32(-NUC_LN2_16_HI));
    r = vfmaq_f32(r, k, vdupq_n_f32(-NUC_LN2_16_LO));
    float32x4_t p = vfmaq_f32(vdupq_n_f32(NUC_EXP_C2), vdupq_n_f32(NUC_EXP_C3), r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    /* t = 1.5 * 2^23 + K exactly, so t's low mantissa bits hold K in two's complement and
     * j = K & 15. The table's 64 bytes are read by byte indices 4j .. 4j + 3 in each lane. */
    const uint32x4_t tb = vreinterpretq_u32_f32(t);
    const uint32x4_t at = vmlaq_n_u32(vdupq_n_u32(0x03020100u), vandq_u32(tb, vdupq_n_u32(15)),
                                      0x04040404u);
    const uint8x16x4_t table = {{vld1q_u8((const uint8_t *)nuc_exp_table),
                                 vld1q_u8((const uint8_t *)nuc_exp_table + 16),
                                 vld1q_u8((const uint8_t *)nuc_exp_table + 32),
                                 vld1q_u8((const uint8_t *)nuc_exp_table + 48)}};
    p = vmulq_f32(p, vreinterpretq_f32_u8(vqtbl4q_u8(table, vreinterpretq_u8_u32(at))));
    /* times 2^k as an integer add of k to the exponent field: the scalar multiply is exact
     * (the product is normal, expw.h), so the bits are the same, with no second float multiply
     * and no float-to-int conversion. K << 19 is k << 23 plus j in bits 19-22, which the mask
     * clears (the bits of 1.5 * 2^23 above K shift out). */
    const uint32x4_t e = vandq_u32(vshlq_n_u32(tb, 19), vdupq_n_u32(0xff800000u));
    const uint32x4_t v = vaddq_u32(vreinterpretq_u32_f32(p), e);
    return vreinterpretq_f32_u32(vandq_u32(v, live));
}

/* The weights of the four logits at x; unit (a constant at each call site: inv_t is 1) leaves
 * out the multiply by inv_t, which would change no bit. */
static inline float32x4_t nuc_weight4(const float *x, float32x4_t m, float32x4_t inv_t,
                                      const int unit)
{
    const float32x4_t d = vsubq_f32(vld1q_f32(x), m);
    return nuc_expw_neon(unit ? d : vmulq_f32(d, inv_t));
}

#if defined(__GNUC__)
#define NUC_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define NUC_ALWAYS_INLINE inline
#endif

/* The pass, specialised on want (candidates wanted) so the plain pass carries no compress, and
 * on unit (inv_t is 1). */
static NUC_ALWAYS_INLINE double nuc_exp_pass(const float *x, size_t n, float m, float inv_t,
                                             float *w, float *bsum, float lo, size_t cap,
                                             uint32_t *cand, size_t *ncand, const int want,
                                             const int unit)
{
    const float32x4_t vm = vdupq_n_f32(m), vt = vdupq_n_f32(inv_t), vlo = vdupq_n_f32(lo);
    nuc_stage st;
    st.fill = st.done = 0;
    double total = 0.0;
    size_t i = 0;
    for (size_t start = 0; start < n; start += NUC_BLOCK) {
        const size_t end = n - start < NUC_BLOCK ? n : start + NUC_BLOCK;
        float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
        for (; i + 16 <= end; i += 16) {
            const float32x4_t w0 = nuc_weight4(x + i, vm, vt, unit);
            const float32x4_t w1 = nuc_weight4(x + i + 4, vm, vt, unit);
            const float32x4_t w2 = nuc_weight4(x + i + 8, vm, vt, unit);
            const float32x4_t w3 = nuc_weight4(x + i + 12, vm, vt, unit);
            vst1q_f32(w + i, w0);
            vst1q_f32(w + i + 4, w1);
            vst1q_f32(w + i + 8, w2);
            vst1q_f32(w + i + 12, w3);
            a0 = vaddq_f32(a0, w0);
            a1 = vaddq_f32(a1, w1);
            a2 = vaddq_f32(a2, w2);
            a3 = vaddq_f32(a3, w3);
            if (want && st.done + st.fill <= cap) /* past cap the list is not wanted */
                nuc_stage_push16(&st, cand, i, vcgeq_f32(w0, vlo), vcgeq_f32(w1, vlo),
                                 vcgeq_f32(w2, vlo), vcgeq_f32(w3, vlo));
        }
        if (i < end) {
            /* The row's last 1..15 elements: padded lanes compute a weight that is then
             * replaced by +0, so they add +0 to their lane and are never candidates. */
            const size_t rest = end - i;
            float xb[16], wb[16];
            for (size_t j = 0; j < 16; j++)
                xb[j] = j < rest ? x[i + j] : m;
            const uint32_t first = (uint32_t)i, stop = (uint32_t)end;
            float32x4_t wv[4];
            for (size_t g = 0; g < 4; g++) {
                const uint32x4_t in = nuc_lanes_below(first + 4 * (uint32_t)g, stop);
                const float32x4_t v = nuc_weight4(xb + 4 * g, vm, vt, unit);
                wv[g] = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(v), in));
                vst1q_f32(wb + 4 * g, wv[g]);
            }
            memcpy(w + i, wb, rest * sizeof *w);
            a0 = vaddq_f32(a0, wv[0]);
            a1 = vaddq_f32(a1, wv[1]);
            a2 = vaddq_f32(a2, wv[2]);
            a3 = vaddq_f32(a3, wv[3]);
            if (want && st.done + st.fill <= cap)
                nuc_stage_push16(&st, cand, i, vcgeq_f32(wv[0], vlo), vcgeq_f32(wv[1], vlo),
                                 vcgeq_f32(wv[2], vlo), vcgeq_f32(wv[3], vlo));
            i = end;
        }
        const float s = nuc_fold16_neon(a0, a1, a2, a3);
        bsum[start / NUC_BLOCK] = s;
        total += s;
    }
    if (want) {
        const size_t c = nuc_stage_finish(&st, cand);
        *ncand = c <= cap ? c : cap + 1;
    }
    return total;
}

double nuc_exp_sum_neon(const float *x, size_t n, float m, float inv_t, float *w, float *bsum,
                        float lo, size_t cap, uint32_t *cand, size_t *ncand)
{
    const int unit = inv_t == 1.0f;
    if (lo > 0.0f)
        return unit ? nuc_exp_pass(x, n, m, inv_t, w, bsum, lo, cap, cand, ncand, 1, 1)
                    : nuc_exp_pass(x, n, m, inv_t, w, bsum, lo, cap, cand, ncand, 1, 0);
    return unit ? nuc_exp_pass(x, n, m, inv_t, w, bsum, lo, 0, cand, ncand, 0, 1)
                : nuc_exp_pass(x, n, m, inv_t, w, bsum, lo, 0, cand, ncand, 0, 0);
}
