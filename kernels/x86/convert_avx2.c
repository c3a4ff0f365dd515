/* AVX2 widening of bf16 and fp16 logits: the bits of kernels/scalar/convert.c for every input
 * pattern. fp16 is widened by integer rebiasing: vcvtph2ps is F16C, which this set does not
 * require (with it, and the signalling-NaN fix of convert_avx512.c, fp16 would take half the
 * time). The one float operation, for subnormals, works on normal floats only, so the caller's
 * DAZ / FTZ modes cannot change it. */
#include <string.h>
#include "x86/expw_avx2.h"
#include "x86/x86.h"

NUC_INLINE __m256 bf16x8(__m128i h)
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* A half's exponent and mantissa, shifted into a float's places (em), need the bias moved from
 * 15 to 127: + 112 << 23 for normals; inf and NaN (exponent 31, em >= 31 << 23) take 255,
 * another + 112 << 23. A subnormal (em < 1 << 23) m * 2^-24 is 2^-14 * (1 + m / 1024) - 2^-14:
 * the sum is the normal that em gets with exponent 1 (em + 113 << 23), and the difference is
 * exact (+0 for m = 0). The half is sign-extended, so its sign is already in bit 31. */
NUC_INLINE __m256 f16x8(__m128i h16)
{
    const __m256i h = _mm256_cvtepi16_epi32(h16);
    const __m256i sign = _mm256_and_si256(h, _mm256_set1_epi32((int)0x80000000u));
    const __m256i em = _mm256_slli_epi32(_mm256_and_si256(h, _mm256_set1_epi32(0x7fff)), 13);
    const __m256i top = _mm256_cmpgt_epi32(em, _mm256_set1_epi32((31 << 23) - 1));
    const __m256i low = _mm256_cmpgt_epi32(_mm256_set1_epi32(1 << 23), em);
    __m256i o = _mm256_add_epi32(em, _mm256_set1_epi32(112 << 23));
    o = _mm256_add_epi32(o, _mm256_and_si256(top, _mm256_set1_epi32(112 << 23)));
    const __m256 sub = _mm256_sub_ps(
        _mm256_castsi256_ps(_mm256_add_epi32(em, _mm256_set1_epi32(113 << 23))),
        _mm256_set1_ps(0x1p-14f));
    o = _mm256_castps_si256(
        _mm256_blendv_ps(_mm256_castsi256_ps(o), sub, _mm256_castsi256_ps(low)));
    return _mm256_castsi256_ps(_mm256_or_si256(o, sign));
}

NUC_INLINE __m128i load8(const uint16_t *src)
{
    return _mm_loadu_si128((const __m128i *)(const void *)src);
}

/* The last c (< 8) halves: read through a zeroed copy, so nothing past src + c is touched. */
NUC_INLINE __m128i load_tail8(const uint16_t *src, size_t c)
{
    uint16_t tmp[8] = {0};
    memcpy(tmp, src, c * sizeof *src);
    return load8(tmp);
}

void nuc_bf16_to_f32_avx2(const uint16_t *src, size_t n, float *dst)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_ps(dst + i, bf16x8(load8(src + i)));
        _mm256_storeu_ps(dst + i + 8, bf16x8(load8(src + i + 8)));
    }
    for (; i < n; i += 8) {
        if (n - i >= 8)
            _mm256_storeu_ps(dst + i, bf16x8(load8(src + i)));
        else
            _mm256_maskstore_ps(dst + i, nuc_head_mask8(n - i), bf16x8(load_tail8(src + i, n - i)));
    }
}

void nuc_f16_to_f32_avx2(const uint16_t *src, size_t n, float *dst)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_ps(dst + i, f16x8(load8(src + i)));
        _mm256_storeu_ps(dst + i + 8, f16x8(load8(src + i + 8)));
    }
    for (; i < n; i += 8) {
        if (n - i >= 8)
            _mm256_storeu_ps(dst + i, f16x8(load8(src + i)));
        else
            _mm256_maskstore_ps(dst + i, nuc_head_mask8(n - i), f16x8(load_tail8(src + i, n - i)));
    }
}
