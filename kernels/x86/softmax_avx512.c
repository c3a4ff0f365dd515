/* AVX-512 exp pass: weights, block sums and candidates, the bits of kernels/scalar/softmax.c.
 * One zmm accumulator is the 16 lanes of a block; a block is 16 vectors. */
#include "x86/expw_avx512.h"
#include "x86/x86.h"

/* The weights of 16 logits (lanes outside live read nothing and weigh +0); unit: inv_t is 1. */
NUC_INLINE __m512 weights16(const float *x, __m512 m, __m512 inv_t, __mmask16 live, int unit)
{
    const __m512 v = live == 0xffff ? _mm512_loadu_ps(x) : _mm512_maskz_loadu_ps(live, x);
    return nuc_expw_avx512(nuc_expw_arg_avx512(v, m, inv_t, unit), live);
}

/* The pass state: the constants, the list so far, the total. */
typedef struct pass {
    __m512 m, inv_t, lo;
    uint32_t *cand;
    size_t nc, cap;
    double total;
} pass;

/* Appends the candidates of the whole block at start, read back from w (still in L1). The
 * indices are stepped along, one add a pair of vectors where building them from j took a
 * broadcast and an add a vector (the exp pass over a 32000-token row whose every block lists:
 * 1-3%). */
NUC_INLINE void list_block(pass *p, const float *w, size_t start)
{
    const __m512i sixteen = _mm512_set1_epi32(16), step = _mm512_add_epi32(sixteen, sixteen);
    __m512i idx = nuc_index16(start);
    for (size_t j = start; j < start + NUC_BLOCK; j += 32, idx = _mm512_add_epi32(idx, step)) {
        const __mmask16 ka = _mm512_cmp_ps_mask(_mm512_loadu_ps(w + j), p->lo, _CMP_GE_OQ);
        const __mmask16 kb = _mm512_cmp_ps_mask(_mm512_loadu_ps(w + j + 16), p->lo, _CMP_GE_OQ);
        if (!_kortestz_mask16_u8(ka, kb)) {
            p->nc += nuc_compress16_idx(p->cand + p->nc, idx, ka);
            p->nc += nuc_compress16_idx(p->cand + p->nc, _mm512_add_epi32(idx, sixteen), kb);
        }
    }
}

/* The whole blocks from start up to end (a multiple of NUC_BLOCK past start); with_cand and unit
 * are constants at every call site, so each gets its own loop. A block is listed only if a lane
 * of its sum reaches lo: the weights are >= +0, so a lane's sum is at least each of its
 * weights, and the test costs the loop nothing. (A max per vector cost 1.2-2 us a row at
 * n = 128256 on the exp's busy ports, a compare and a branch per vector more.) The list stops
 * at the first block boundary where it holds more than cap (its use is over): the rest of the
 * row, say all of a flat one, costs what the plain pass costs. Returns where it stopped. */
NUC_INLINE size_t blocks(pass *p, const float *x, float *w, float *bsum, size_t start,
                         size_t end, int with_cand, int unit)
{
    for (; start < end; start += NUC_BLOCK) {
        if (with_cand && p->nc > p->cap)
            break;
        __m512 acc = _mm512_setzero_ps();
        for (size_t i = start; i < start + NUC_BLOCK; i += 64) {
            for (size_t j = i; j < i + 64; j += 16) { /* unrolled by 4 */
                const __m512 v = weights16(x + j, p->m, p->inv_t, 0xffff, unit);
                _mm512_storeu_ps(w + j, v);
                acc = _mm512_add_ps(acc, v);
            }
        }
        if (with_cand && _mm512_cmp_ps_mask(acc, p->lo, _CMP_GE_OQ))
            list_block(p, w, start);
        const float s = nuc_lane_fold_avx512(acc);
        bsum[start / NUC_BLOCK] = s;
        p->total += s;
    }
    return start;
}

/* The last, partial block [start, n). */
NUC_INLINE void last_block(pass *p, const float *x, size_t n, float *w, float *bsum,
                           size_t start, int with_cand, int unit)
{
    __m512 acc = _mm512_setzero_ps();
    for (size_t i = start; i < n; i += 16) {
        const __mmask16 live = nuc_below_mask16(i, n);
        const __m512 v = weights16(x + i, p->m, p->inv_t, live, unit);
        _mm512_mask_storeu_ps(w + i, live, v);
        acc = _mm512_add_ps(acc, v); /* +0 in the lanes past n */
        if (with_cand) {
            const __mmask16 k = _mm512_cmp_ps_mask(v, p->lo, _CMP_GE_OQ);
            if (live == 0xffff)
                p->nc += nuc_compress16(p->cand + p->nc, i, k);
            else
                p->nc += nuc_compress16_tail(p->cand + p->nc, i, k);
        }
    }
    const float s = nuc_lane_fold_avx512(acc);
    bsum[start / NUC_BLOCK] = s;
    p->total += s;
}

/* The pass, once for inv_t = 1 (unit) and once for any other. */
NUC_INLINE double exp_pass(const float *x, size_t n, float m, float inv_t, float *w, float *bsum,
                           float lo, size_t cap, uint32_t *cand, size_t *ncand, int unit)
{
    pass p = {_mm512_set1_ps(m), _mm512_set1_ps(inv_t), _mm512_set1_ps(lo), cand, 0, cap, 0.0};
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

double nuc_exp_sum_avx512(const float *x, size_t n, float m, float inv_t, float *w, float *bsum,
                          float lo, size_t cap, uint32_t *cand, size_t *ncand)
{
    if (inv_t == 1.0f)
        return exp_pass(x, n, m, inv_t, w, bsum, lo, cap, cand, ncand, 1);
    return exp_pass(x, n, m, inv_t, w, bsum, lo, cap, cand, ncand, 0);
}
