/* AVX-512 forms of kernels/scalar/expw.h: the weight exp and the lane fold, lane by lane the
 * same operations in the same order, plus the lane masks the AVX-512 kernels share. Include only
 * from files compiled with the AVX-512 flags. */
#ifndef NUC_EXPW_AVX512_H
#define NUC_EXPW_AVX512_H
#include <immintrin.h>
#include "scalar/expw.h"

#define NUC_INLINE static inline __attribute__((always_inline))

/* nuc_exp_weight on 16 lanes, +0 where a lane is not live or !(y >= cutoff) (the scalar
 * branch; NaN and -inf too), for y <= NUC_EXP_CEILING (kernels.h). Nothing is clamped: a lane
 * below the cutoff computes garbage that the mask drops, none of it subnormal (the float steps
 * stay far from 2^-126, and the exponent is built by an integer add); a clamp would cost an op
 * on the busy ports. */
NUC_INLINE __m512 nuc_expw_avx512(__m512 y, __mmask16 live)
{
    const __m512 magic = _mm512_set1_ps(NUC_ROUND_MAGIC);
    const __mmask16 keep =
        _mm512_mask_cmp_ps_mask(live, y, _mm512_set1_ps(NUC_EXP_CUTOFF), _CMP_GE_OQ);
    const __m512 t = _mm512_fmadd_ps(y, _mm512_set1_ps(NUC_LOG2E_16), magic);
    const __m512 k = _mm512_sub_ps(t, magic);
    __m512 r = _mm512_fmadd_ps(k, _mm512_set1_ps(-NUC_LN2_16_HI), y);
    r = _mm512_fmadd_ps(k, _mm512_set1_ps(-NUC_LN2_16_LO), r);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(NUC_EXP_C3), r, _mm512_set1_ps(NUC_EXP_C2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    /* t = 1.5 * 2^23 + K exactly, so t's low mantissa bits hold K in two's complement: the
     * permute reads the table at its low four bits, j. */
    const __m512i tb = _mm512_castps_si512(t);
    p = _mm512_mul_ps(p, _mm512_permutexvar_ps(tb, _mm512_load_ps(nuc_exp_table)));
    /* times 2^k as an integer add of k to the exponent field: the scalar multiply is exact
     * (the product is normal, expw.h), so the bits are the same, and the add runs off the
     * multiply ports. K << 19 is k << 23 plus j in bits 19-22, which the mask clears (the bits
     * of 1.5 * 2^23 above K shift out). */
    const __m512i e = _mm512_and_si512(_mm512_slli_epi32(tb, 19), _mm512_set1_epi32(-(1 << 23)));
    return _mm512_castsi512_ps(_mm512_maskz_add_epi32(keep, _mm512_castps_si512(p), e));
}

/* The exp's argument (x - m) * inv_t. With unit (a constant at each call site: inv_t is 1) the
 * multiply, which would change no bit, is left out: one op fewer on the multiply ports. */
NUC_INLINE __m512 nuc_expw_arg_avx512(__m512 x, __m512 m, __m512 inv_t, int unit)
{
    const __m512 d = _mm512_sub_ps(x, m);
    return unit ? d : _mm512_mul_ps(d, inv_t);
}

/* nuc_lane_fold: lane[j] += lane[j + h] for h = 8, 4, 2, 1. */
NUC_INLINE float nuc_lane_fold_avx512(__m512 acc)
{
    const __m256 a = _mm256_add_ps(_mm512_castps512_ps256(acc), _mm512_extractf32x8_ps(acc, 1));
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    b = _mm_add_ps(b, _mm_movehl_ps(b, b));
    b = _mm_add_ss(b, _mm_shuffle_ps(b, b, 1));
    return _mm_cvtss_f32(b);
}

/* Lanes [0, c) for c in [0, 16]. */
NUC_INLINE __mmask16 nuc_head_mask16(size_t c)
{
    return (__mmask16)((1u << c) - 1u);
}

/* The lanes of the vector at base whose index is below end. */
NUC_INLINE __mmask16 nuc_below_mask16(size_t base, size_t end)
{
    return nuc_head_mask16(end > base ? (end - base < 16 ? end - base : 16) : 0);
}

/* Indices base .. base + 15. Rows are shorter than 2^31, so they fit 32 bits. */
NUC_INLINE __m512i nuc_index16(size_t base)
{
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return _mm512_add_epi32(_mm512_set1_epi32((int32_t)base), lane);
}

/* Appends the indices of the lanes in k, ascending, at dst; returns how many. A full-vector
 * store (the register form of vpcompressd is fast where its memory form is microcoded), so the
 * caller guarantees 16 writable slots at dst: in a pass that emits at most one index per
 * element, dst = out + (indices emitted so far) <= out + base, and base + 16 <= n. */
NUC_INLINE size_t nuc_compress16_idx(uint32_t *dst, __m512i idx, __mmask16 k)
{
    _mm512_storeu_si512((void *)dst, _mm512_maskz_compress_epi32(k, idx));
    return (size_t)__builtin_popcount(k);
}

/* The same with the indices base .. base + 15. */
NUC_INLINE size_t nuc_compress16(uint32_t *dst, size_t base, __mmask16 k)
{
    return nuc_compress16_idx(dst, nuc_index16(base), k);
}

/* The same for the last, partial vector of a row: writes exactly the emitted indices. */
NUC_INLINE size_t nuc_compress16_tail(uint32_t *dst, size_t base, __mmask16 k)
{
    _mm512_mask_compressstoreu_epi32((void *)dst, k, nuc_index16(base));
    return (size_t)__builtin_popcount(k);
}
#endif
