/* AVX2 (+FMA) forms of kernels/scalar/expw.h: the weight exp and the lane fold, lane by lane the
 * same operations in the same order, plus the lane masks and the index compress the AVX2
 * kernels share. The 16 summation lanes are two ymm registers: lanes 0-7 and lanes 8-15.
 * Include only from files compiled with -mavx2 -mfma. */
#ifndef NUC_EXPW_AVX2_H
#define NUC_EXPW_AVX2_H
#include <immintrin.h>
#include "scalar/expw.h"

#define NUC_INLINE static inline __attribute__((always_inline))

/* nuc_exp_weight on 8 lanes, +0 where !(y >= cutoff) (the scalar branch; NaN and -inf too),
 * for y <= NUC_EXP_CEILING (kernels.h). Nothing is clamped: a lane below the cutoff computes
 * garbage that the mask drops, none of it subnormal (the float steps stay far from 2^-126, and
 * the exponent is built by an integer add). */
NUC_INLINE __m256 nuc_expw_avx2(__m256 y)
{
    const __m256 magic = _mm256_set1_ps(NUC_ROUND_MAGIC);
    const __m256 keep = _mm256_cmp_ps(y, _mm256_set1_ps(NUC_EXP_CUTOFF), _CMP_GE_OQ);
    const __m256 t = _mm256_fmadd_ps(y, _mm256_set1_ps(NUC_LOG2E_16), magic);
    const __m256 k = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_fmadd_ps(k, _mm256_set1_ps(-NUC_LN2_16_HI), y);
    r = _mm256_fmadd_ps(k, _mm256_set1_ps(-NUC_LN2_16_LO), r);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(NUC_EXP_C3), r, _mm256_set1_ps(NUC_EXP_C2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    /* t = 1.5 * 2^23 + K exactly, so t's low mantissa bits hold K in two's complement. The
     * table is two halves of 8 (vpermps reads an index's low three bits); j's bit 3, moved to
     * the sign, picks the half. */
    const __m256i tb = _mm256_castps_si256(t);
    const __m256 lo = _mm256_permutevar8x32_ps(_mm256_load_ps(nuc_exp_table), tb);
    const __m256 hi = _mm256_permutevar8x32_ps(_mm256_load_ps(nuc_exp_table + 8), tb);
    p = _mm256_mul_ps(
        p, _mm256_blendv_ps(lo, hi, _mm256_castsi256_ps(_mm256_slli_epi32(tb, 28))));
    /* times 2^k as an integer add of k to the exponent field: the scalar multiply is exact
     * (the product is normal, expw.h), so the bits are the same, and the add runs off the
     * multiply ports. K << 19 is k << 23 plus j in bits 19-22, which the mask clears (the bits
     * of 1.5 * 2^23 above K shift out). */
    const __m256i e = _mm256_and_si256(_mm256_slli_epi32(tb, 19), _mm256_set1_epi32(-(1 << 23)));
    return _mm256_and_ps(_mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e)), keep);
}

/* The exp's argument (x - m) * inv_t. With unit (a constant at each call site: inv_t is 1) the
 * multiply, which would change no bit, is left out: one op fewer on the multiply ports. */
NUC_INLINE __m256 nuc_expw_arg_avx2(__m256 x, __m256 m, __m256 inv_t, int unit)
{
    const __m256 d = _mm256_sub_ps(x, m);
    return unit ? d : _mm256_mul_ps(d, inv_t);
}

/* nuc_lane_fold of lanes 0-7 (lo) and 8-15 (hi): lane[j] += lane[j + h] for h = 8, 4, 2, 1. */
NUC_INLINE float nuc_lane_fold_avx2(__m256 lo, __m256 hi)
{
    const __m256 a = _mm256_add_ps(lo, hi);
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    b = _mm_add_ps(b, _mm_movehl_ps(b, b));
    b = _mm_add_ss(b, _mm_shuffle_ps(b, b, 1));
    return _mm_cvtss_f32(b);
}

/* All ones in lanes [0, c), c in [0, 8]: a window into -1 x 8, 0 x 8. */
NUC_INLINE __m256i nuc_head_mask8(size_t c)
{
    static const int32_t window[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(const void *)(window + 8 - c));
}

/* How many of the 8 lanes at base lie below end. */
NUC_INLINE size_t nuc_below8(size_t base, size_t end)
{
    return end > base ? (end - base < 8 ? end - base : 8) : 0;
}

/* Indices base .. base + 7. Rows are shorter than 2^31, so they fit 32 bits. */
NUC_INLINE __m256i nuc_index8(size_t base)
{
    return _mm256_add_epi32(_mm256_set1_epi32((int32_t)base),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* For each 8-bit lane mask, the set lanes in ascending order, one per nibble
 * (kernels/x86/threshold_avx2.c). */
extern const uint32_t nuc_compress_perm_avx2[256];

/* Appends the indices of the lanes in mask, ascending, at dst; returns how many. A full-vector
 * store, so the caller guarantees 8 writable slots at dst: in a pass that emits at most one
 * index per element, dst = out + (indices emitted so far) <= out + base, and base + 8 <= n. */
NUC_INLINE __m256i nuc_compress_perm8(unsigned mask)
{
    return _mm256_and_si256(
        _mm256_srlv_epi32(_mm256_set1_epi32((int32_t)nuc_compress_perm_avx2[mask]),
                          _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28)),
        _mm256_set1_epi32(7));
}

NUC_INLINE size_t nuc_compress8(uint32_t *dst, size_t base, unsigned mask)
{
    _mm256_storeu_si256((__m256i *)(void *)dst,
                        _mm256_permutevar8x32_epi32(nuc_index8(base), nuc_compress_perm8(mask)));
    return (size_t)__builtin_popcount(mask);
}

/* The same for a vector at the end of a row: writes exactly the emitted indices. */
NUC_INLINE size_t nuc_compress8_tail(uint32_t *dst, size_t base, unsigned mask)
{
    size_t c = 0;
    for (; mask; mask &= mask - 1)
        dst[c++] = (uint32_t)(base + (size_t)__builtin_ctz(mask));
    return c;
}
#endif
