/* What the NEON passes share: the fixed fold of the 16 canonical lanes (kernels.h) and an
 * order-keeping compress of selected indices that writes exactly the selected count. */
#ifndef NUC_NEON_UTIL_H
#define NUC_NEON_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include "arm/neon_intrin.h"

/* a0..a3 hold lanes 0-3, 4-7, 8-11, 12-15 of one block. The tree of kernels.h, h = 8, 4, 2, 1:
 * lane[j] += lane[j + h]. */
static inline float nuc_fold16_neon(float32x4_t a0, float32x4_t a1, float32x4_t a2,
                                    float32x4_t a3)
{
    a0 = vaddq_f32(a0, a2); /* h = 8: lanes 0-3 += 8-11 */
    a1 = vaddq_f32(a1, a3); /*        lanes 4-7 += 12-15 */
    a0 = vaddq_f32(a0, a1); /* h = 4 */
    const float32x2_t h2 = vadd_f32(vget_low_f32(a0), vget_high_f32(a0)); /* h = 2 */
    return vget_lane_f32(h2, 0) + vget_lane_f32(h2, 1);                    /* h = 1 */
}

/* The lanes {0, 1, 2, 3} of a vector of indices. */
static const uint32_t nuc_lane_index[4] = {0, 1, 2, 3};
/* Mask bit j of a lane: selected lane j contributes 1 << j. */
static const uint32_t nuc_lane_bit[4] = {1, 2, 4, 8};

/* For each 4-bit lane mask, the byte shuffle that moves the selected 32-bit lanes to the front
 * in lane order (255: out of range, vqtbl1q_u8 gives 0 there). */
static const uint8_t nuc_compress_perm[16][16] = {
    {255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 6, 7, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 255, 255, 255, 255, 255, 255, 255, 255},
    {8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 6, 7, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255, 255, 255, 255},
    {12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 6, 7, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 255, 255, 255, 255},
    {8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255},
    {4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
};
static const uint8_t nuc_popcount4[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};

/* A compress writes whole vectors into this stage (which has room for the garbage lanes past
 * the selected ones) and copies it out 48 indices at a time, so the caller's array receives
 * exactly the selected count and never a byte past it (it need not have slack). */
#define NUC_STAGE_OUT 48
typedef struct nuc_stage {
    uint32_t buf[64];
    size_t fill; /* indices in buf */
    size_t done; /* indices already copied to the output */
} nuc_stage;

/* Appends the lanes of idx whose sel lane is all ones, in lane (so index) order. */
static inline void nuc_stage_push4(nuc_stage *st, uint32x4_t sel, uint32x4_t idx)
{
    const uint32_t b = vaddvq_u32(vandq_u32(sel, vld1q_u32(nuc_lane_bit)));
    const uint8x16_t perm = vld1q_u8(nuc_compress_perm[b]);
    const uint8x16_t packed = vqtbl1q_u8(vreinterpretq_u8_u32(idx), perm);
    vst1q_u32(st->buf + st->fill, vreinterpretq_u32_u8(packed));
    st->fill += nuc_popcount4[b];
}

/* Appends the selected indices of 16 consecutive elements starting at index i (sel0..sel3 for
 * i..i+3, ..., i+12..i+15), then moves a full 48 to out. fill < 48 on entry, so the stores
 * stay below buf[63]. */
static inline void nuc_stage_push16(nuc_stage *st, uint32_t *out, size_t i, uint32x4_t sel0,
                                    uint32x4_t sel1, uint32x4_t sel2, uint32x4_t sel3)
{
    const uint32x4_t any = vorrq_u32(vorrq_u32(sel0, sel1), vorrq_u32(sel2, sel3));
    if (vmaxvq_u32(any) == 0)
        return;
    const uint32x4_t idx = vaddq_u32(vdupq_n_u32((uint32_t)i), vld1q_u32(nuc_lane_index));
    nuc_stage_push4(st, sel0, idx);
    nuc_stage_push4(st, sel1, vaddq_u32(idx, vdupq_n_u32(4)));
    nuc_stage_push4(st, sel2, vaddq_u32(idx, vdupq_n_u32(8)));
    nuc_stage_push4(st, sel3, vaddq_u32(idx, vdupq_n_u32(12)));
    if (st->fill >= NUC_STAGE_OUT) {
        for (size_t j = 0; j < NUC_STAGE_OUT; j += 4)
            vst1q_u32(out + st->done + j, vld1q_u32(st->buf + j));
        for (size_t j = 0; j < 64 - NUC_STAGE_OUT; j += 4)
            vst1q_u32(st->buf + j, vld1q_u32(st->buf + NUC_STAGE_OUT + j));
        st->done += NUC_STAGE_OUT;
        st->fill -= NUC_STAGE_OUT;
    }
}

/* Copies what is left in the stage; returns the total count. */
static inline size_t nuc_stage_finish(nuc_stage *st, uint32_t *out)
{
    for (size_t j = 0; j < st->fill; j++)
        out[st->done + j] = st->buf[j];
    return st->done + st->fill;
}

/* All-ones in the lanes of idx0 + {0..3} that are below end (for a partial last group). */
static inline uint32x4_t nuc_lanes_below(uint32_t first, uint32_t end)
{
    const uint32x4_t idx = vaddq_u32(vdupq_n_u32(first), vld1q_u32(nuc_lane_index));
    return vcltq_u32(idx, vdupq_n_u32(end));
}
#endif
