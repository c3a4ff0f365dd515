/* Widening of 16-bit logits in NEON, by integer bit operations so that every input pattern,
 * NaN payloads included, gets exactly the bits of kernels/scalar/convert.c. */
#include "scalar/scalar.h"
#include "arm/neon.h"
#include "arm/neon_intrin.h"

void nuc_bf16_to_f32_neon(const uint16_t *src, size_t n, float *dst)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint16x8_t h = vld1q_u16(src + i);
        /* widen, then shift: SIMDe accepts vshll_n_u16 shifts of 1..15 only */
        vst1q_f32(dst + i, vreinterpretq_f32_u32(vshlq_n_u32(vmovl_u16(vget_low_u16(h)), 16)));
        vst1q_f32(dst + i + 4,
                  vreinterpretq_f32_u32(vshlq_n_u32(vmovl_u16(vget_high_u16(h)), 16)));
    }
    nuc_bf16_to_f32_scalar(src + i, n - i, dst + i);
}

/* Four halves: normal numbers rebias the exponent (15 -> 127), inf/NaN keep an all-ones one,
 * zeros and subnormals are mant * 2^-24 (exact in float), each with the sign put back. */
static inline float32x4_t f16x4(uint16x4_t h)
{
    const uint32x4_t x = vmovl_u16(h);
    const uint32x4_t sign = vshlq_n_u32(vandq_u32(x, vdupq_n_u32(0x8000u)), 16);
    const uint32x4_t e = vandq_u32(vshrq_n_u32(x, 10), vdupq_n_u32(0x1fu));
    const uint32x4_t mant = vandq_u32(x, vdupq_n_u32(0x3ffu));
    const uint32x4_t normal =
        vorrq_u32(vshlq_n_u32(vaddq_u32(e, vdupq_n_u32(112u)), 23), vshlq_n_u32(mant, 13));
    const uint32x4_t special = vorrq_u32(vdupq_n_u32(0x7f800000u), vshlq_n_u32(mant, 13));
    const uint32x4_t tiny =
        vreinterpretq_u32_f32(vmulq_f32(vcvtq_f32_u32(mant), vdupq_n_f32(0x1p-24f)));
    uint32x4_t b = vbslq_u32(vceqq_u32(e, vdupq_n_u32(0x1fu)), special, normal);
    b = vbslq_u32(vceqq_u32(e, vdupq_n_u32(0)), tiny, b);
    return vreinterpretq_f32_u32(vorrq_u32(b, sign));
}

void nuc_f16_to_f32_neon(const uint16_t *src, size_t n, float *dst)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint16x8_t h = vld1q_u16(src + i);
        vst1q_f32(dst + i, f16x4(vget_low_u16(h)));
        vst1q_f32(dst + i + 4, f16x4(vget_high_u16(h)));
    }
    nuc_f16_to_f32_scalar(src + i, n - i, dst + i);
}
