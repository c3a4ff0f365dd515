/* AVX2 max pass and first-index search, the results of kernels/scalar/max.c. */
#include <float.h>
#include <math.h>
#include "nucleus.h"
#include "x86/expw_avx2.h"
#include "x86/x86.h"

/* vmaxps returns its second operand when either is a NaN, so max(acc, v) is NaN right after a
 * NaN in v (and would lose it at the next step): the accumulators are checked after every step,
 * in registers, one unordered compare for two of them; the first NaN ends the pass (the answer
 * is NUC_ENONFINITE whatever follows). A +inf survives the max, so it is found in the result. */
int nuc_max_avx2(const float *x, size_t n, float *max)
{
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 a = ninf, b = ninf, c = ninf, d = ninf;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256 va = _mm256_loadu_ps(x + i), vb = _mm256_loadu_ps(x + i + 8);
        const __m256 vc = _mm256_loadu_ps(x + i + 16), vd = _mm256_loadu_ps(x + i + 24);
        a = _mm256_max_ps(a, va);
        b = _mm256_max_ps(b, vb);
        c = _mm256_max_ps(c, vc);
        d = _mm256_max_ps(d, vd);
        const __m256 nan = _mm256_or_ps(_mm256_cmp_ps(a, b, _CMP_UNORD_Q),
                                        _mm256_cmp_ps(c, d, _CMP_UNORD_Q));
        if (!_mm256_testz_ps(nan, nan))
            return NUC_ENONFINITE;
    }
    for (; i < n; i += 8) {
        const __m256i live = nuc_head_mask8(n - i < 8 ? n - i : 8);
        const __m256 v = _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + i, live),
                                          _mm256_castsi256_ps(live));
        a = _mm256_max_ps(a, v);
        if (_mm256_movemask_ps(_mm256_cmp_ps(a, a, _CMP_UNORD_Q)))
            return NUC_ENONFINITE;
    }
    a = _mm256_max_ps(_mm256_max_ps(a, b), _mm256_max_ps(c, d));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    const float m = _mm_cvtss_f32(h);
    if (m > FLT_MAX)
        return NUC_ENONFINITE;
    if (m == -INFINITY)
        return NUC_EMASKED;
    *max = m;
    return NUC_OK;
}

size_t nuc_find_nth_avx2(const float *x, size_t n, float v, size_t j)
{
    const __m256 vv = _mm256_set1_ps(v);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256 ea = _mm256_cmp_ps(_mm256_loadu_ps(x + i), vv, _CMP_EQ_OQ);
        const __m256 eb = _mm256_cmp_ps(_mm256_loadu_ps(x + i + 8), vv, _CMP_EQ_OQ);
        const __m256 ec = _mm256_cmp_ps(_mm256_loadu_ps(x + i + 16), vv, _CMP_EQ_OQ);
        const __m256 ed = _mm256_cmp_ps(_mm256_loadu_ps(x + i + 24), vv, _CMP_EQ_OQ);
        if (_mm256_movemask_ps(_mm256_or_ps(_mm256_or_ps(ea, eb), _mm256_or_ps(ec, ed)))) {
            const uint32_t k = (uint32_t)_mm256_movemask_ps(ea) |
                               (uint32_t)_mm256_movemask_ps(eb) << 8 |
                               (uint32_t)_mm256_movemask_ps(ec) << 16 |
                               (uint32_t)_mm256_movemask_ps(ed) << 24;
            const size_t c = (size_t)__builtin_popcount(k);
            if (c > j)
                return i + nuc_nth_bit(k, j);
            j -= c;
        }
    }
    for (; i < n; i += 8) {
        const __m256i live = nuc_head_mask8(n - i < 8 ? n - i : 8);
        const __m256 v = _mm256_maskload_ps(x + i, live);
        const __m256 e = _mm256_and_ps(_mm256_cmp_ps(v, vv, _CMP_EQ_OQ), _mm256_castsi256_ps(live));
        const uint32_t k = (uint32_t)_mm256_movemask_ps(e);
        const size_t c = (size_t)__builtin_popcount(k);
        if (c > j)
            return i + nuc_nth_bit(k, j);
        j -= c;
    }
    return n;
}
