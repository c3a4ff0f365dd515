/* AVX2 exp pass: weights, block sums and candidates, the bits of kernels/scalar/softmax.c.
 * A block's 16 lanes are two ymm accumulators; element i of a block goes to lo if i % 16 < 8,
 * else to hi. */
#include "x86/expw_avx2.h"
#include "x86/x86.h"

/* The weights of the 8 logits at i, stored; unit: inv_t is 1. */
NUC_INLINE __m256 weights8(const float *x, float *w, size_t i, __m256 m, __m256 inv_t, int unit)
{
    const __m256 v = nuc_expw_avx2(nuc_expw_arg_avx2(_mm256_loadu_ps(x + i), m, inv_t, unit));
    _mm256_storeu_ps(w + i, v);
    return v;
}

NUC_INLINE unsigned cand8(__m256 v, __m256 lo)
{
    return (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v, lo, _CMP_GE_OQ));
}

/* The pass state: the constants, the list so far, the total. */
typedef struct pass {
    __m256 m, inv_t, lo;
    uint32_t *cand;
    size_t nc, cap;
    double total;
} pass;

/* Appends the candidates of the whole block at start, read back from w (still in L1). */
NUC_INLINE void list_block(pass *p, const float *w, size_t start)
{
    for (size_t j = start; j < start + NUC_BLOCK; j += 16) {
        const unsigned ka = cand8(_mm256_loadu_ps(w + j), p->lo);
        const unsigned kb = cand8(_mm256_loadu_ps(w + j + 8), p->lo);
        if (ka | kb) {
            p->nc += nuc_compress8(p->cand + p->nc, j, ka);
            p->nc += nuc_compress8(p->cand + p->nc, j + 8, kb);
        }
    }
}

/* The whole blocks from start up to end (a multiple of NUC_BLOCK past start); with_cand and unit
 * are constants at every call site, so each gets its own loop. A block is listed only if a lane
 * of its sum reaches lo: the weights are >= +0, so a lane's sum is at least each of its
 * weights, and the test costs the loop nothing (a max per vector cost more; softmax_avx512.c).
 * The list stops at the first block boundary where it holds more than cap (its use is over): the
 * rest of the row, say all of a flat one, costs what the plain pass costs. Returns where it
 * stopped. */
NUC_INLINE size_t blocks(pass *p, const float *x, float *w, float *bsum, size_t start,
                         size_t end, int with_cand, int unit)
{
    for (; start < end; start += NUC_BLOCK) {
        if (with_cand && p->nc > p->cap)
            break;
        __m256 acc_lo = _mm256_setzero_ps(), acc_hi = _mm256_setzero_ps();
        for (size_t i = start; i < start + NUC_BLOCK; i += 32) {
            const __m256 a = weights8(x, w, i, p->m, p->inv_t, unit);
            const __m256 b = weights8(x, w, i + 8, p->m, p->inv_t, unit);
            const __m256 c = weights8(x, w, i + 16, p->m, p->inv_t, unit);
            const __m256 d = weights8(x, w, i + 24, p->m, p->inv_t, unit);
            acc_lo = _mm256_add_ps(_mm256_add_ps(acc_lo, a), c);
            acc_hi = _mm256_add_ps(_mm256_add_ps(acc_hi, b), d);
        }
        if (with_cand && cand8(_mm256_max_ps(acc_lo, acc_hi), p->lo))
            list_block(p, w, start);
        const float s = nuc_lane_fold_avx2(acc_lo, acc_hi);
        bsum[start / NUC_BLOCK] = s;
        p->total += s;
    }
    return start;
}

/* The last, partial block [start, n). */
NUC_INLINE void last_block(pass *p, const float *x, size_t n, float *w, float *bsum,
                           size_t start, int with_cand, int unit)
{
    __m256 acc_lo = _mm256_setzero_ps(), acc_hi = _mm256_setzero_ps();
    size_t i = start;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = weights8(x, w, i, p->m, p->inv_t, unit);
        if (i % 16 == 0)
            acc_lo = _mm256_add_ps(acc_lo, v);
        else
            acc_hi = _mm256_add_ps(acc_hi, v);
        if (with_cand)
            p->nc += nuc_compress8(p->cand + p->nc, i, cand8(v, p->lo));
    }
    if (i < n) { /* the first n - i lanes; +0 in the others */
        const __m256i live = nuc_head_mask8(n - i);
        const __m256 y = nuc_expw_arg_avx2(_mm256_maskload_ps(x + i, live), p->m, p->inv_t, unit);
        const __m256 v = _mm256_and_ps(nuc_expw_avx2(y), _mm256_castsi256_ps(live));
        _mm256_maskstore_ps(w + i, live, v);
        if (i % 16 == 0)
            acc_lo = _mm256_add_ps(acc_lo, v);
        else
            acc_hi = _mm256_add_ps(acc_hi, v);
        if (with_cand)
            p->nc += nuc_compress8_tail(p->cand + p->nc, i, cand8(v, p->lo));
    }
    const float s = nuc_lane_fold_avx2(acc_lo, acc_hi);
    bsum[start / NUC_BLOCK] = s;
    p->total += s;
}

/* The pass, once for inv_t = 1 (unit) and once for any other. */
NUC_INLINE double exp_pass(const float *x, size_t n, float m, float inv_t, float *w, float *bsum,
                           float lo, size_t cap, uint32_t *cand, size_t *ncand, int unit)
{
    pass p = {_mm256_set1_ps(m), _mm256_set1_ps(inv_t), _mm256_set1_ps(lo), cand, 0, cap, 0.0};
    const size_t full = n - n % NUC_BLOCK;
    size_t start = 0;
    if (lo > 0.0f)
        start = blocks(&p, x, w, bsum, 0, full, 1, unit);
    blocks(&p, x, w, bsum, start, full, 0, unit);
    if (full < n) {
        if (lo > 0.0f && p.nc <= cap)
            last_block(&p, x, n, w, bsum, full, 1, unit);
        else
            last_block(&p, x, n, w, bsum, full, 0, unit);
    }
    if (lo > 0.0f)
        *ncand = p.nc > cap ? cap + 1 : p.nc;
    return p.total;
}

double nuc_exp_sum_avx2(const float *x, size_t n, float m, float inv_t, float *w, float *bsum,
                        float lo, size_t cap, uint32_t *cand, size_t *ncand)
{
    if (inv_t == 1.0f)
        return exp_pass(x, n, m, inv_t, w, bsum, lo, cap, cand, ncand, 1);
    return exp_pass(x, n, m, inv_t, w, bsum, lo, cap, cand, ncand, 0);
}
