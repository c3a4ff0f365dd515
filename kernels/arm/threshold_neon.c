/* The threshold passes in NEON: the kept mass in the canonical lane order, the scaled output
 * distribution, and the bracket (the compress of a value range, and the mass above it). A kept set is (thr, tie_end): token i is
 * kept iff w[i] > thr, or w[i] == thr and i < tie_end. Indices travel as 32-bit lanes, which
 * holds every row the contract allows (n <= 2^31 - 1). */
#include "kernels.h"
#include "arm/neon.h"
#include "arm/neon_intrin.h"
#include "arm/neon_util.h"

static inline uint32x4_t nuc_kept4(float32x4_t w, float32x4_t thr, uint32x4_t idx,
                                   uint32x4_t tie)
{
    const uint32x4_t tied = vandq_u32(vceqq_f32(w, thr), vcltq_u32(idx, tie));
    return vorrq_u32(vcgtq_f32(w, thr), tied);
}

/* w where keep is set, else +0 (which adds nothing to a lane that is never -0). */
static inline float32x4_t nuc_and4(float32x4_t w, uint32x4_t keep)
{
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(w), keep));
}

static inline uint32_t nuc_tie_lanes(size_t tie_end, size_t n)
{
    return (uint32_t)(tie_end < n ? tie_end : n);
}

double nuc_kept_sum_neon(const float *w, size_t n, float thr, size_t tie_end, float *bsum,
                         size_t *count)
{
    const float32x4_t vthr = vdupq_n_f32(thr);
    const uint32x4_t tie = vdupq_n_u32(nuc_tie_lanes(tie_end, n));
    const uint32x4_t lane = vld1q_u32(nuc_lane_index);
    double total = 0.0;
    size_t c = 0, i = 0;
    for (size_t start = 0; start < n; start += NUC_BLOCK) {
        const size_t end = n - start < NUC_BLOCK ? n : start + NUC_BLOCK;
        float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
        uint32x4_t cnt = vdupq_n_u32(0); /* minus the all-ones masks: +1 per kept lane */
        for (; i + 16 <= end; i += 16) {
            const uint32x4_t idx = vaddq_u32(vdupq_n_u32((uint32_t)i), lane);
            const float32x4_t w0 = vld1q_f32(w + i), w1 = vld1q_f32(w + i + 4);
            const float32x4_t w2 = vld1q_f32(w + i + 8), w3 = vld1q_f32(w + i + 12);
            const uint32x4_t k0 = nuc_kept4(w0, vthr, idx, tie);
            const uint32x4_t k1 = nuc_kept4(w1, vthr, vaddq_u32(idx, vdupq_n_u32(4)), tie);
            const uint32x4_t k2 = nuc_kept4(w2, vthr, vaddq_u32(idx, vdupq_n_u32(8)), tie);
            const uint32x4_t k3 = nuc_kept4(w3, vthr, vaddq_u32(idx, vdupq_n_u32(12)), tie);
            a0 = vaddq_f32(a0, nuc_and4(w0, k0));
            a1 = vaddq_f32(a1, nuc_and4(w1, k1));
            a2 = vaddq_f32(a2, nuc_and4(w2, k2));
            a3 = vaddq_f32(a3, nuc_and4(w3, k3));
            cnt = vsubq_u32(cnt, vaddq_u32(vaddq_u32(k0, k1), vaddq_u32(k2, k3)));
        }
        if (i < end) {
            /* Padded lanes hold +0 and are masked out of the kept set. */
            const size_t rest = end - i;
            float wb[16];
            for (size_t j = 0; j < 16; j++)
                wb[j] = j < rest ? w[i + j] : 0.0f;
            float32x4_t add[4];
            for (size_t g = 0; g < 4; g++) {
                const uint32_t first = (uint32_t)(i + 4 * g);
                const uint32x4_t idx = vaddq_u32(vdupq_n_u32(first), lane);
                const float32x4_t v = vld1q_f32(wb + 4 * g);
                const uint32x4_t k = vandq_u32(nuc_kept4(v, vthr, idx, tie),
                                               nuc_lanes_below(first, (uint32_t)end));
                add[g] = nuc_and4(v, k);
                cnt = vsubq_u32(cnt, k);
            }
            a0 = vaddq_f32(a0, add[0]);
            a1 = vaddq_f32(a1, add[1]);
            a2 = vaddq_f32(a2, add[2]);
            a3 = vaddq_f32(a3, add[3]);
            i = end;
        }
        c += vaddvq_u32(cnt);
        const float s = nuc_fold16_neon(a0, a1, a2, a3);
        bsum[start / NUC_BLOCK] = s;
        total += s;
    }
    *count = c;
    return total;
}

void nuc_scale_kept_neon(const float *w, size_t n, float thr, size_t tie_end, float scale,
                         float *q)
{
    const float32x4_t vthr = vdupq_n_f32(thr), vs = vdupq_n_f32(scale);
    const uint32x4_t tie = vdupq_n_u32(nuc_tie_lanes(tie_end, n));
    const uint32x4_t lane = vld1q_u32(nuc_lane_index);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const uint32x4_t idx = vaddq_u32(vdupq_n_u32((uint32_t)i), lane);
        for (size_t g = 0; g < 16; g += 4) {
            const float32x4_t v = vld1q_f32(w + i + g);
            const uint32x4_t k =
                nuc_kept4(v, vthr, vaddq_u32(idx, vdupq_n_u32((uint32_t)g)), tie);
            vst1q_f32(q + i + g, nuc_and4(vmulq_f32(v, vs), k));
        }
    }
    for (; i < n; i++) /* the same product, one lane at a time */
        q[i] = (w[i] > thr || (w[i] == thr && i < tie_end)) ? w[i] * scale : 0.0f;
}

/* One group of 16: the in-bracket lanes to the stage, the above-bracket weights to the lanes. */
static inline void nuc_bracket16(nuc_stage *st, uint32_t *idx, size_t i, const float32x4_t v[4],
                                 const uint32x4_t live[4], float32x4_t lo, float32x4_t hi,
                                 float32x4_t acc[4])
{
    uint32x4_t in[4];
    for (size_t g = 0; g < 4; g++) {
        in[g] = vandq_u32(vandq_u32(vcgeq_f32(v[g], lo), vcleq_f32(v[g], hi)), live[g]);
        acc[g] = vaddq_f32(acc[g], nuc_and4(v[g], vandq_u32(vcgtq_f32(v[g], hi), live[g])));
    }
    nuc_stage_push16(st, idx, i, in[0], in[1], in[2], in[3]);
}

/* Without idx, the indices the stage packs go to a buffer on the stack, a piece of the row at
 * a time; the block sums are then added in block order, as one pass adds them. */
#define BRACKET_PIECE (4 * NUC_BLOCK)

double nuc_bracket_neon(const float *w, size_t n, float lo, float hi, float *bsum, uint32_t *idx,
                        float *vals, size_t *count)
{
    if (!idx) {
        uint32_t piece_idx[BRACKET_PIECE];
        size_t c = 0;
        for (size_t start = 0; start < n; start += BRACKET_PIECE) {
            const size_t len = n - start < BRACKET_PIECE ? n - start : BRACKET_PIECE;
            size_t k;
            nuc_bracket_neon(w + start, len, lo, hi, bsum ? bsum + start / NUC_BLOCK : NULL,
                             piece_idx, vals + c, &k);
            c += k;
        }
        double total = 0.0;
        for (size_t b = 0; bsum && b < NUC_NBLOCKS(n); b++)
            total += bsum[b];
        *count = c;
        return total;
    }
    const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
    const uint32x4_t all = vdupq_n_u32(UINT32_MAX);
    const uint32x4_t every[4] = {all, all, all, all};
    nuc_stage st;
    st.fill = st.done = 0;
    double total = 0.0;
    size_t i = 0;
    for (size_t start = 0; start < n; start += NUC_BLOCK) {
        const size_t end = n - start < NUC_BLOCK ? n : start + NUC_BLOCK;
        float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f),
                              vdupq_n_f32(0.0f)};
        for (; i + 16 <= end; i += 16) {
            const float32x4_t v[4] = {vld1q_f32(w + i), vld1q_f32(w + i + 4),
                                      vld1q_f32(w + i + 8), vld1q_f32(w + i + 12)};
            nuc_bracket16(&st, idx, i, v, every, vlo, vhi, acc);
        }
        if (i < end) { /* the row's last 1..15 elements; padded lanes are not live */
            const size_t rest = end - i;
            float wb[16];
            for (size_t j = 0; j < 16; j++)
                wb[j] = j < rest ? w[i + j] : 0.0f;
            float32x4_t v[4];
            uint32x4_t live[4];
            for (size_t g = 0; g < 4; g++) {
                v[g] = vld1q_f32(wb + 4 * g);
                live[g] = nuc_lanes_below((uint32_t)(i + 4 * g), (uint32_t)end);
            }
            nuc_bracket16(&st, idx, i, v, live, vlo, vhi, acc);
            i = end;
        }
        if (bsum) {
            const float s = nuc_fold16_neon(acc[0], acc[1], acc[2], acc[3]);
            bsum[start / NUC_BLOCK] = s;
            total += s;
        }
    }
    *count = nuc_stage_finish(&st, idx);
    /* The stage packs indices only; the weights follow from them, in cache order. */
    for (size_t j = 0; j < *count; j++)
        vals[j] = w[idx[j]];
    return total;
}
