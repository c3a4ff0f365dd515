/* Reference widening of 16-bit logits. */
#include <string.h>
#include "scalar/scalar.h"

void nuc_bf16_to_f32_scalar(const uint16_t *src, size_t n, float *dst)
{
    for (size_t i = 0; i < n; i++) {
        const uint32_t b = (uint32_t)src[i] << 16; /* bf16 is the top half of a float */
        memcpy(&dst[i], &b, sizeof b);
    }
}

void nuc_f16_to_f32_scalar(const uint16_t *src, size_t n, float *dst)
{
    for (size_t i = 0; i < n; i++) {
        const uint32_t h = src[i], sign = (h & 0x8000u) << 16, e = (h >> 10) & 0x1f;
        const uint32_t mant = h & 0x3ffu;
        uint32_t b;
        if (e == 0x1f) {
            b = sign | 0x7f800000u | (mant << 13); /* inf, NaN */
        } else if (e == 0) {
            /* zero or subnormal: mant * 2^-24, exact in float */
            const float v = (float)mant * 0x1p-24f;
            memcpy(&b, &v, sizeof b);
            b |= sign;
        } else {
            b = sign | ((e + 112u) << 23) | (mant << 13); /* rebias 15 -> 127 */
        }
        memcpy(&dst[i], &b, sizeof b);
    }
}
