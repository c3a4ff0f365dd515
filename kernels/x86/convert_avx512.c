/* AVX-512 widening of bf16 and fp16 logits: the bits of kernels/scalar/convert.c for every input
 * pattern (tests/test_kernels.c checks all 65536, under DAZ and FTZ too). */
#include "x86/expw_avx512.h"
#include "x86/x86.h"

NUC_INLINE __m512 bf16x16(__m256i h)
{
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* vcvtph2ps widens every half exactly (subnormals included: it ignores MXCSR.DAZ) except a
 * signalling NaN (magnitude 0x7c01 ... 0x7dff: exponent 31, mantissa bit 9 clear), which it
 * quiets by setting the float's bit 22; the scalar code copies the mantissa as it is, so that
 * bit is cleared again. One unsigned compare finds those lanes. */
NUC_INLINE __m512 f16x16(__m256i h)
{
    const __m512i r = _mm512_castps_si512(_mm512_cvtph_ps(h));
    const __m256i off = _mm256_sub_epi16(_mm256_and_si256(h, _mm256_set1_epi16(0x7fff)),
                                         _mm256_set1_epi16(0x7c01));
    const __mmask16 snan = _mm256_cmple_epu16_mask(off, _mm256_set1_epi16(0x7dff - 0x7c01));
    return _mm512_castsi512_ps(_mm512_mask_xor_epi32(r, snan, r, _mm512_set1_epi32(1 << 22)));
}

NUC_INLINE __m256i load16(const uint16_t *src)
{
    return _mm256_loadu_si256((const __m256i *)(const void *)src);
}

void nuc_bf16_to_f32_avx512(const uint16_t *src, size_t n, float *dst)
{
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm512_storeu_ps(dst + i, bf16x16(load16(src + i)));
        _mm512_storeu_ps(dst + i + 16, bf16x16(load16(src + i + 16)));
    }
    for (; i < n; i += 16) {
        const __mmask16 live = nuc_below_mask16(i, n);
        _mm512_mask_storeu_ps(dst + i, live, bf16x16(_mm256_maskz_loadu_epi16(live, src + i)));
    }
}

void nuc_f16_to_f32_avx512(const uint16_t *src, size_t n, float *dst)
{
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm512_storeu_ps(dst + i, f16x16(load16(src + i)));
        _mm512_storeu_ps(dst + i + 16, f16x16(load16(src + i + 16)));
    }
    for (; i < n; i += 16) {
        const __mmask16 live = nuc_below_mask16(i, n);
        _mm512_mask_storeu_ps(dst + i, live, f16x16(_mm256_maskz_loadu_epi16(live, src + i)));
    }
}
