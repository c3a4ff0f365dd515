/* AVX-512 threshold passes: kept mass, scaled output, and a bracket (the indices in a value
 * range, the mass above it); the bits of kernels/scalar/threshold.c. */
#include "x86/expw_avx512.h"
#include "x86/x86.h"

/* The kept lanes of the vector v at base (x86.h: one compare except where tie_end cuts it). */
NUC_INLINE __mmask16 kept16(__m512 v, __m512 thr, nuc_tie_region rg, size_t base,
                            size_t tie_end, __mmask16 live)
{
    switch (rg) {
    case NUC_TIE_BELOW: return _mm512_mask_cmp_ps_mask(live, v, thr, _CMP_GE_OQ);
    case NUC_TIE_ABOVE: return _mm512_mask_cmp_ps_mask(live, v, thr, _CMP_GT_OQ);
    default:
        return _mm512_mask_cmp_ps_mask(live, v, thr, _CMP_GT_OQ) |
               _mm512_mask_cmp_ps_mask(nuc_below_mask16(base, tie_end) & live, v, thr,
                                       _CMP_EQ_OQ);
    }
}

/* Adds the kept lanes of the vectors in [i, stop) into acc (a masked add: the other lanes are
 * left as they are, as the scalar loop skips them) and counts them, one per lane, in cnt. */
NUC_INLINE void kept_run(const float *w, size_t i, size_t stop, __m512 thr, nuc_tie_region rg,
                         size_t tie_end, __m512 *acc, __m512i *cnt)
{
    for (; i < stop; i += 16) {
        const __m512 v = _mm512_loadu_ps(w + i);
        const __mmask16 k = kept16(v, thr, rg, i, tie_end, 0xffff);
        *acc = _mm512_mask_add_ps(*acc, k, *acc, v);
        *cnt = _mm512_mask_sub_epi32(*cnt, k, *cnt, _mm512_set1_epi32(-1));
    }
}

/* The kept mass of the block [start, end), cut at tie_end wherever it falls. */
NUC_INLINE float kept_block(const float *w, size_t start, size_t end, __m512 thr, size_t tie_end,
                            __m512i *cnt)
{
    const size_t full_end = end - (end - start) % 16;
    __m512 acc = _mm512_setzero_ps();
    size_t i = nuc_tie_split(start, full_end, tie_end, 16);
    kept_run(w, start, i, thr, NUC_TIE_BELOW, tie_end, &acc, cnt);
    if (i < full_end && i < tie_end) {
        kept_run(w, i, i + 16, thr, NUC_TIE_STRADDLE, tie_end, &acc, cnt);
        i += 16;
    }
    kept_run(w, i, full_end, thr, NUC_TIE_ABOVE, tie_end, &acc, cnt);
    if (full_end < end) {
        const __mmask16 live = nuc_head_mask16(end - full_end);
        const __m512 v = _mm512_maskz_loadu_ps(live, w + full_end);
        const __mmask16 k = kept16(v, thr, NUC_TIE_STRADDLE, full_end, tie_end, live);
        acc = _mm512_mask_add_ps(acc, k, acc, v);
        *cnt = _mm512_mask_sub_epi32(*cnt, k, *cnt, _mm512_set1_epi32(-1));
    }
    return nuc_lane_fold_avx512(acc);
}

/* KEPT_WAYS whole blocks from start, all on one side of tie_end, side by side: independent add
 * and count chains (the 16 dependent masked adds of one block alone leave the adders idle; two
 * blocks still left half of them idle, at 1.5 cycles a vector). */
enum { KEPT_WAYS = 4 };
NUC_INLINE void kept_blocks(const float *w, size_t start, __m512 thr, nuc_tie_region rg,
                            __m512i *cnt, float s[KEPT_WAYS])
{
    __m512 acc[KEPT_WAYS];
    __m512i c[KEPT_WAYS];
    for (int b = 0; b < KEPT_WAYS; b++) {
        acc[b] = _mm512_setzero_ps();
        c[b] = _mm512_setzero_si512();
    }
    for (size_t i = start; i < start + NUC_BLOCK; i += 16)
        for (int b = 0; b < KEPT_WAYS; b++) {
            const __m512 v = _mm512_loadu_ps(w + i + b * NUC_BLOCK);
            const __mmask16 k = kept16(v, thr, rg, 0, 0, 0xffff);
            acc[b] = _mm512_mask_add_ps(acc[b], k, acc[b], v);
            c[b] = _mm512_mask_sub_epi32(c[b], k, c[b], _mm512_set1_epi32(-1));
        }
    for (int b = 0; b < KEPT_WAYS; b++) {
        *cnt = _mm512_add_epi32(*cnt, c[b]);
        s[b] = nuc_lane_fold_avx512(acc[b]);
    }
}

double nuc_kept_sum_avx512(const float *w, size_t n, float thr, size_t tie_end, float *bsum,
                           size_t *count)
{
    const __m512 vt = _mm512_set1_ps(thr);
    __m512i cnt = _mm512_setzero_si512();
    double total = 0.0;
    size_t start = 0;
    for (; start + KEPT_WAYS * NUC_BLOCK <= n; start += KEPT_WAYS * NUC_BLOCK) {
        float s[KEPT_WAYS];
        if (tie_end <= start)
            kept_blocks(w, start, vt, NUC_TIE_ABOVE, &cnt, s);
        else if (tie_end >= start + KEPT_WAYS * NUC_BLOCK)
            kept_blocks(w, start, vt, NUC_TIE_BELOW, &cnt, s);
        else
            for (int b = 0; b < KEPT_WAYS; b++)
                s[b] = kept_block(w, start + b * NUC_BLOCK, start + (b + 1) * NUC_BLOCK, vt,
                                  tie_end, &cnt);
        for (int b = 0; b < KEPT_WAYS; b++) {
            bsum[start / NUC_BLOCK + b] = s[b];
            total += s[b];
        }
    }
    for (; start < n; start += NUC_BLOCK) {
        const size_t end = n - start < NUC_BLOCK ? n : start + NUC_BLOCK;
        const float s = kept_block(w, start, end, vt, tie_end, &cnt);
        bsum[start / NUC_BLOCK] = s;
        total += s;
    }
    *count = (size_t)(uint32_t)_mm512_reduce_add_epi32(cnt); /* n < 2^31 */
    return total;
}

/* q = w * scale in the kept lanes of the vectors in [i, stop), +0 elsewhere. */
NUC_INLINE void scale_run(const float *w, size_t i, size_t stop, __m512 thr, nuc_tie_region rg,
                          size_t tie_end, __m512 scale, float *q)
{
    for (; i < stop; i += 16) {
        const __m512 v = _mm512_loadu_ps(w + i);
        const __mmask16 k = kept16(v, thr, rg, i, tie_end, 0xffff);
        _mm512_storeu_ps(q + i, _mm512_maskz_mul_ps(k, v, scale));
    }
}

void nuc_scale_kept_avx512(const float *w, size_t n, float thr, size_t tie_end, float scale,
                           float *q)
{
    const __m512 vt = _mm512_set1_ps(thr), vs = _mm512_set1_ps(scale);
    const size_t full_end = n - n % 16;
    size_t i = nuc_tie_split(0, full_end, tie_end, 16);
    scale_run(w, 0, i, vt, NUC_TIE_BELOW, tie_end, vs, q);
    if (i < full_end && i < tie_end) {
        scale_run(w, i, i + 16, vt, NUC_TIE_STRADDLE, tie_end, vs, q);
        i += 16;
    }
    scale_run(w, i, full_end, vt, NUC_TIE_ABOVE, tie_end, vs, q);
    if (full_end < n) {
        const __mmask16 live = nuc_head_mask16(n - full_end);
        const __m512 v = _mm512_maskz_loadu_ps(live, w + full_end);
        const __mmask16 k = kept16(v, vt, NUC_TIE_STRADDLE, full_end, tie_end, live);
        _mm512_mask_storeu_ps(q + full_end, live, _mm512_maskz_mul_ps(k, v, vs));
    }
}

/* The lanes of v in [lo, hi]. For 0 < lo <= hi one unsigned compare of bit patterns decides
 * it: positive floats order as their bits, and +0, negatives and NaNs all land past the span
 * (bits(w) - bits(lo) wraps above it). Otherwise the two compares. */
NUC_INLINE __mmask16 in_range16(__m512 v, __m512 lo, __m512 hi, int positive, __m512i base,
                                __m512i span, __mmask16 live)
{
    if (positive)
        return _mm512_mask_cmple_epu32_mask(live, _mm512_sub_epi32(_mm512_castps_si512(v), base),
                                            span);
    return _mm512_mask_cmp_ps_mask(_mm512_mask_cmp_ps_mask(live, v, lo, _CMP_GE_OQ), v, hi,
                                   _CMP_LE_OQ);
}

/* Appends the lanes k of the vector v at index i to vals and (unless NULL) idx at c; returns
 * the new count. Whole-vector stores (nuc_compress16), or exact ones for the row's last,
 * partial vector. */
NUC_INLINE size_t list16(uint32_t *idx, float *vals, size_t c, size_t i, __m512 v, __mmask16 k,
                         int whole)
{
    if (whole) {
        _mm512_storeu_ps(vals + c, _mm512_maskz_compress_ps(k, v));
        if (idx)
            nuc_compress16(idx + c, i, k);
    } else {
        _mm512_mask_compressstoreu_ps(vals + c, k, v);
        if (idx)
            nuc_compress16_tail(idx + c, i, k);
    }
    return c + (size_t)__builtin_popcount(k);
}

/* The bracket without the mass above it: a compress of the lanes in range. */
NUC_INLINE size_t bracket_list(const float *w, size_t n, float lo, float hi, uint32_t *idx,
                               float *vals, int positive)
{
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    const __m512i base = _mm512_set1_epi32((int32_t)nuc_f32_bits(lo));
    const __m512i span = _mm512_set1_epi32((int32_t)(nuc_f32_bits(hi) - nuc_f32_bits(lo)));
    size_t c = 0, i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 va = _mm512_loadu_ps(w + i), vb = _mm512_loadu_ps(w + i + 16);
        const __mmask16 ka = in_range16(va, vlo, vhi, positive, base, span, 0xffff);
        const __mmask16 kb = in_range16(vb, vlo, vhi, positive, base, span, 0xffff);
        if (!_kortestz_mask16_u8(ka, kb)) {
            c = list16(idx, vals, c, i, va, ka, 1);
            c = list16(idx, vals, c, i + 16, vb, kb, 1);
        }
    }
    for (; i < n; i += 16) {
        const __mmask16 live = nuc_below_mask16(i, n);
        const __m512 v = _mm512_maskz_loadu_ps(live, w + i);
        const __mmask16 k = in_range16(v, vlo, vhi, positive, base, span, live);
        if (k)
            c = list16(idx, vals, c, i, v, k, i + 16 <= n);
    }
    return c;
}

/* The bracket lanes of v (in_range16), the lanes above hi added into acc: a masked add, the
 * others are left as they are, as the scalar loop skips them. hi is not NaN. */
NUC_INLINE __mmask16 bracket16(__m512 v, __m512 lo, __m512 hi, int positive, __m512i base,
                               __m512i span, __m512 *acc, __mmask16 live)
{
    const __mmask16 above = _mm512_mask_cmp_ps_mask(live, v, hi, _CMP_GT_OQ);
    *acc = _mm512_mask_add_ps(*acc, above, *acc, v);
    if (positive) /* the integer compare, off the float compare's ports */
        return in_range16(v, lo, hi, 1, base, span, live);
    return _kandn_mask16(above, _mm512_mask_cmp_ps_mask(live, v, lo, _CMP_GE_OQ));
}

enum { VECS = NUC_BLOCK / 16, WAYS = 4 };

/* A group listing more than this (of its 1024 weights) makes the next group list every
 * vector, empty or not: where most vectors hold a lane in range, the test of each mispredicts
 * more often than the stores it saves cost. A 10% band at n = 32000 (the pipeline's band
 * there): 1.98 -> 1.72 us. Dropping the test everywhere would cost sparse bands: a 2% band at
 * n = 128256 took 8.4-9.5 us where it takes 7.0-7.2. */
#define DENSE_LISTED 64

/* The group of WAYS blocks at start (bracket_sums): the first block lists into vals at *c, the
 * others into the staging lists; dense (a constant at each call) lists every vector. */
NUC_INLINE void bracket_group(const float *w, size_t start, __m512 vlo, __m512 vhi, int positive,
                              __m512i base, __m512i span, __m512 acc[WAYS], uint32_t *idx,
                              float *vals, size_t *c, uint32_t stage_idx[WAYS - 1][NUC_BLOCK],
                              float stage_vals[WAYS - 1][NUC_BLOCK], size_t staged[WAYS - 1],
                              int dense)
{
    for (size_t v = 0; v < VECS; v++) {
        const size_t i = start + 16 * v;
        const __m512 x = _mm512_loadu_ps(w + i);
        const __mmask16 k = bracket16(x, vlo, vhi, positive, base, span, &acc[0], 0xffff);
        if (dense || k)
            *c = list16(idx, vals, *c, i, x, k, 1);
        for (int b = 1; b < WAYS; b++) {
            const __m512 y = _mm512_loadu_ps(w + i + b * NUC_BLOCK);
            const __mmask16 kb = bracket16(y, vlo, vhi, positive, base, span, &acc[b], 0xffff);
            if (dense || kb)
                staged[b - 1] = list16(idx ? stage_idx[b - 1] : NULL, stage_vals[b - 1],
                                       staged[b - 1], i + b * NUC_BLOCK, y, kb, 1);
        }
    }
}

/* The bracket with the mass above it, block by block; positive as in bracket_list. */
NUC_INLINE double bracket_sums(const float *w, size_t n, float lo, float hi, float *bsum,
                               uint32_t *idx, float *vals, size_t *count, int positive)
{
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    const __m512i base = _mm512_set1_epi32((int32_t)nuc_f32_bits(lo));
    const __m512i span = _mm512_set1_epi32((int32_t)(nuc_f32_bits(hi) - nuc_f32_bits(lo)));
    double total = 0.0;
    size_t c = 0, start = 0;
    /* Four blocks side by side: four independent add chains (one block's 16 dependent masked
     * adds alone leave the adders idle). Each block lists its lanes as found, the first one
     * straight into vals, the other three into staging lists appended after it at the group's
     * end, which keeps the list ascending. (Keeping the other three blocks' masks and listing
     * from them afterwards took 11.5 us where this takes 9.2, on a flat row at n = 128256 with
     * a 7.1k band: a second, unpredictable branch per vector.) */
    float stage_vals[WAYS - 1][NUC_BLOCK];
    uint32_t stage_idx[WAYS - 1][NUC_BLOCK];
    int dense = 0;
    for (; start + WAYS * NUC_BLOCK <= n; start += WAYS * NUC_BLOCK) {
        __m512 acc[WAYS];
        size_t staged[WAYS - 1] = {0};
        for (int b = 0; b < WAYS; b++)
            acc[b] = _mm512_setzero_ps();
        const size_t c0 = c;
        if (dense)
            bracket_group(w, start, vlo, vhi, positive, base, span, acc, idx, vals, &c,
                          stage_idx, stage_vals, staged, 1);
        else
            bracket_group(w, start, vlo, vhi, positive, base, span, acc, idx, vals, &c,
                          stage_idx, stage_vals, staged, 0);
        /* Whole vectors: the slots past the count are scratch, and c + a rounded-up stage
         * stays within the group's own elements. */
        for (int b = 0; b < WAYS - 1; b++) {
            for (size_t j = 0; j < staged[b]; j += 16) {
                _mm512_storeu_ps(vals + c + j, _mm512_loadu_ps(stage_vals[b] + j));
                if (idx)
                    _mm512_storeu_si512(idx + c + j, _mm512_loadu_si512(stage_idx[b] + j));
            }
            c += staged[b];
        }
        dense = c - c0 > DENSE_LISTED;
        for (int b = 0; b < WAYS; b++) {
            const float s = nuc_lane_fold_avx512(acc[b]);
            bsum[start / NUC_BLOCK + b] = s;
            total += s;
        }
    }
    for (; start < n; start += NUC_BLOCK) { /* the rest, the last block possibly partial */
        const size_t end = n - start < NUC_BLOCK ? n : start + NUC_BLOCK;
        __m512 acc = _mm512_setzero_ps();
        for (size_t i = start; i < end; i += 16) {
            const __mmask16 live = nuc_below_mask16(i, n);
            const __m512 x = _mm512_maskz_loadu_ps(live, w + i);
            const __mmask16 k = bracket16(x, vlo, vhi, positive, base, span, &acc, live);
            if (k)
                c = list16(idx, vals, c, i, x, k, i + 16 <= n);
        }
        const float s = nuc_lane_fold_avx512(acc);
        bsum[start / NUC_BLOCK] = s;
        total += s;
    }
    *count = c;
    return total;
}

double nuc_bracket_avx512(const float *w, size_t n, float lo, float hi, float *bsum,
                          uint32_t *idx, float *vals, size_t *count)
{
    if (bsum) {
        if (lo > 0.0f && lo <= hi) /* the pipeline's case, without indices: its own copy */
            return idx ? bracket_sums(w, n, lo, hi, bsum, idx, vals, count, 1)
                       : bracket_sums(w, n, lo, hi, bsum, NULL, vals, count, 1);
        /* A NaN hi holds nothing and has nothing above it: a NaN lo too makes the bracket test
         * (w >= lo, not w > hi) empty as well. */
        return bracket_sums(w, n, hi != hi ? hi : lo, hi, bsum, idx, vals, count, 0);
    }
    if (!(lo <= hi))
        *count = 0; /* a NaN bound or an empty range holds no w */
    else if (lo > 0.0f)
        *count = bracket_list(w, n, lo, hi, idx, vals, 1);
    else
        *count = bracket_list(w, n, lo, hi, idx, vals, 0);
    return 0.0;
}
