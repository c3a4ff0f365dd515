/* AVX-512 max pass and first-index search, the results of kernels/scalar/max.c. */
#include <float.h>
#include <math.h>
#include "nucleus.h"
#include "x86/expw_avx512.h"
#include "x86/x86.h"

/* vmaxps returns its second operand when either is a NaN, so max(acc, v) is NaN right after a
 * NaN in v (and would lose it at the next step): the accumulators are checked after every step,
 * in registers, one unordered compare for two of them; the first NaN ends the pass (the answer
 * is NUC_ENONFINITE whatever follows). A +inf survives the max, so it is found in the result. */
int nuc_max_avx512(const float *x, size_t n, float *max)
{
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    __m512 a = ninf, b = ninf, c = ninf, d = ninf;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512 va = _mm512_loadu_ps(x + i), vb = _mm512_loadu_ps(x + i + 16);
        const __m512 vc = _mm512_loadu_ps(x + i + 32), vd = _mm512_loadu_ps(x + i + 48);
        a = _mm512_max_ps(a, va);
        b = _mm512_max_ps(b, vb);
        c = _mm512_max_ps(c, vc);
        d = _mm512_max_ps(d, vd);
        if (!_kortestz_mask16_u8(_mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q),
                                 _mm512_cmp_ps_mask(c, d, _CMP_UNORD_Q)))
            return NUC_ENONFINITE;
    }
    for (; i < n; i += 16) {
        const __mmask16 live = nuc_head_mask16(n - i < 16 ? n - i : 16);
        const __m512 v = _mm512_mask_loadu_ps(ninf, live, x + i);
        a = _mm512_max_ps(a, v);
        if (_mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q))
            return NUC_ENONFINITE;
    }
    const float m = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(a, b), _mm512_max_ps(c, d)));
    if (m > FLT_MAX)
        return NUC_ENONFINITE;
    if (m == -INFINITY)
        return NUC_EMASKED;
    *max = m;
    return NUC_OK;
}

size_t nuc_find_nth_avx512(const float *x, size_t n, float v, size_t j)
{
    const __m512 vv = _mm512_set1_ps(v);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __mmask16 ka = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), vv, _CMP_EQ_OQ);
        const __mmask16 kb = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i + 16), vv, _CMP_EQ_OQ);
        const __mmask16 kc = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i + 32), vv, _CMP_EQ_OQ);
        const __mmask16 kd = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i + 48), vv, _CMP_EQ_OQ);
        if (ka | kb | kc | kd) {
            const uint64_t k = (uint64_t)ka | (uint64_t)kb << 16 | (uint64_t)kc << 32 |
                               (uint64_t)kd << 48;
            const size_t c = (size_t)__builtin_popcountll(k);
            if (c > j)
                return i + nuc_nth_bit(k, j);
            j -= c;
        }
    }
    for (; i < n; i += 16) {
        const __mmask16 live = nuc_head_mask16(n - i < 16 ? n - i : 16);
        const __mmask16 k = _mm512_mask_cmp_ps_mask(live, _mm512_maskz_loadu_ps(live, x + i), vv,
                                                    _CMP_EQ_OQ);
        const size_t c = (size_t)__builtin_popcount(k);
        if (c > j)
            return i + nuc_nth_bit(k, j);
        j -= c;
    }
    return n;
}
