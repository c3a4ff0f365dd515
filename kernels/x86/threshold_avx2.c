/* AVX2 threshold passes: kept mass, scaled output, and a bracket (the indices in a value range,
 * the mass above it); the bits of kernels/scalar/threshold.c. */
#include <math.h>
#include "x86/expw_avx2.h"
#include "x86/x86.h"

const uint32_t nuc_compress_perm_avx2[256] = {
    0x00000000, 0x00000000, 0x00000001, 0x00000010, 0x00000002, 0x00000020, 0x00000021, 0x00000210,
    0x00000003, 0x00000030, 0x00000031, 0x00000310, 0x00000032, 0x00000320, 0x00000321, 0x00003210,
    0x00000004, 0x00000040, 0x00000041, 0x00000410, 0x00000042, 0x00000420, 0x00000421, 0x00004210,
    0x00000043, 0x00000430, 0x00000431, 0x00004310, 0x00000432, 0x00004320, 0x00004321, 0x00043210,
    0x00000005, 0x00000050, 0x00000051, 0x00000510, 0x00000052, 0x00000520, 0x00000521, 0x00005210,
    0x00000053, 0x00000530, 0x00000531, 0x00005310, 0x00000532, 0x00005320, 0x00005321, 0x00053210,
    0x00000054, 0x00000540, 0x00000541, 0x00005410, 0x00000542, 0x00005420, 0x00005421, 0x00054210,
    0x00000543, 0x00005430, 0x00005431, 0x00054310, 0x00005432, 0x00054320, 0x00054321, 0x00543210,
    0x00000006, 0x00000060, 0x00000061, 0x00000610, 0x00000062, 0x00000620, 0x00000621, 0x00006210,
    0x00000063, 0x00000630, 0x00000631, 0x00006310, 0x00000632, 0x00006320, 0x00006321, 0x00063210,
    0x00000064, 0x00000640, 0x00000641, 0x00006410, 0x00000642, 0x00006420, 0x00006421, 0x00064210,
    0x00000643, 0x00006430, 0x00006431, 0x00064310, 0x00006432, 0x00064320, 0x00064321, 0x00643210,
    0x00000065, 0x00000650, 0x00000651, 0x00006510, 0x00000652, 0x00006520, 0x00006521, 0x00065210,
    0x00000653, 0x00006530, 0x00006531, 0x00065310, 0x00006532, 0x00065320, 0x00065321, 0x00653210,
    0x00000654, 0x00006540, 0x00006541, 0x00065410, 0x00006542, 0x00065420, 0x00065421, 0x00654210,
    0x00006543, 0x00065430, 0x00065431, 0x00654310, 0x00065432, 0x00654320, 0x00654321, 0x06543210,
    0x00000007, 0x00000070, 0x00000071, 0x00000710, 0x00000072, 0x00000720, 0x00000721, 0x00007210,
    0x00000073, 0x00000730, 0x00000731, 0x00007310, 0x00000732, 0x00007320, 0x00007321, 0x00073210,
    0x00000074, 0x00000740, 0x00000741, 0x00007410, 0x00000742, 0x00007420, 0x00007421, 0x00074210,
    0x00000743, 0x00007430, 0x00007431, 0x00074310, 0x00007432, 0x00074320, 0x00074321, 0x00743210,
    0x00000075, 0x00000750, 0x00000751, 0x00007510, 0x00000752, 0x00007520, 0x00007521, 0x00075210,
    0x00000753, 0x00007530, 0x00007531, 0x00075310, 0x00007532, 0x00075320, 0x00075321, 0x00753210,
    0x00000754, 0x00007540, 0x00007541, 0x00075410, 0x00007542, 0x00075420, 0x00075421, 0x00754210,
    0x00007543, 0x00075430, 0x00075431, 0x00754310, 0x00075432, 0x00754320, 0x00754321, 0x07543210,
    0x00000076, 0x00000760, 0x00000761, 0x00007610, 0x00000762, 0x00007620, 0x00007621, 0x00076210,
    0x00000763, 0x00007630, 0x00007631, 0x00076310, 0x00007632, 0x00076320, 0x00076321, 0x00763210,
    0x00000764, 0x00007640, 0x00007641, 0x00076410, 0x00007642, 0x00076420, 0x00076421, 0x00764210,
    0x00007643, 0x00076430, 0x00076431, 0x00764310, 0x00076432, 0x00764320, 0x00764321, 0x07643210,
    0x00000765, 0x00007650, 0x00007651, 0x00076510, 0x00007652, 0x00076520, 0x00076521, 0x00765210,
    0x00007653, 0x00076530, 0x00076531, 0x00765310, 0x00076532, 0x00765320, 0x00765321, 0x07653210,
    0x00007654, 0x00076540, 0x00076541, 0x00765410, 0x00076542, 0x00765420, 0x00765421, 0x07654210,
    0x00076543, 0x00765430, 0x00765431, 0x07654310, 0x00765432, 0x07654320, 0x07654321, 0x76543210,
};

/* The kept-set test (x86.h: one compare except where tie_end cuts a group). In the straddling
 * group the tie compare is against thr in the lanes below tie_end and against NaN (equal to
 * nothing) above, a window into thr x 8, NaN x 8. */
typedef struct kept_test {
    __m256 thr;
    float window[16];
    size_t tie_end;
} kept_test;

static void kept_test_init(kept_test *t, float thr, size_t tie_end)
{
    t->thr = _mm256_set1_ps(thr);
    for (int j = 0; j < 8; j++) {
        t->window[j] = thr;
        t->window[j + 8] = NAN;
    }
    t->tie_end = tie_end;
}

/* All ones in the kept lanes of the vector v at base. */
NUC_INLINE __m256 kept8(const kept_test *t, __m256 v, size_t base, nuc_tie_region rg)
{
    switch (rg) {
    case NUC_TIE_BELOW: return _mm256_cmp_ps(v, t->thr, _CMP_GE_OQ);
    case NUC_TIE_ABOVE: return _mm256_cmp_ps(v, t->thr, _CMP_GT_OQ);
    default: {
        const __m256 tie = _mm256_loadu_ps(t->window + 8 - nuc_below8(base, t->tie_end));
        return _mm256_or_ps(_mm256_cmp_ps(v, t->thr, _CMP_GT_OQ),
                            _mm256_cmp_ps(v, tie, _CMP_EQ_OQ));
    }
    }
}

/* The kept weights of the vector at i (its first c elements, the rest +0), counted into cnt.
 * Adding +0 for a skipped element is exact: a lane sum that starts at +0 is never -0. */
NUC_INLINE __m256 kept_step(const kept_test *t, const float *w, size_t i, size_t c,
                            nuc_tie_region rg, __m256i *cnt)
{
    __m256 v, k;
    if (c == 8) {
        v = _mm256_loadu_ps(w + i);
        k = kept8(t, v, i, rg);
    } else {
        const __m256i live = nuc_head_mask8(c);
        v = _mm256_maskload_ps(w + i, live);
        k = _mm256_and_ps(kept8(t, v, i, rg), _mm256_castsi256_ps(live));
    }
    *cnt = _mm256_sub_epi32(*cnt, _mm256_castps_si256(k));
    return _mm256_and_ps(v, k);
}

/* The groups of 16 in [i, stop) into the block's lanes 0-7 (lo) and 8-15 (hi). */
NUC_INLINE void kept_run(const kept_test *t, const float *w, size_t i, size_t stop,
                         nuc_tie_region rg, __m256 *lo, __m256 *hi, __m256i *cnt)
{
    for (; i < stop; i += 16) {
        *lo = _mm256_add_ps(*lo, kept_step(t, w, i, 8, rg, cnt));
        *hi = _mm256_add_ps(*hi, kept_step(t, w, i + 8, 8, rg, cnt));
    }
}

/* The kept mass of the block [start, end), cut at tie_end wherever it falls. */
NUC_INLINE float kept_block(const kept_test *t, const float *w, size_t start, size_t end,
                            __m256i *cnt)
{
    const size_t full_end = end - (end - start) % 16;
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    size_t i = nuc_tie_split(start, full_end, t->tie_end, 16);
    kept_run(t, w, start, i, NUC_TIE_BELOW, &lo, &hi, cnt);
    if (i < full_end && i < t->tie_end) {
        kept_run(t, w, i, i + 16, NUC_TIE_STRADDLE, &lo, &hi, cnt);
        i += 16;
    }
    kept_run(t, w, i, full_end, NUC_TIE_ABOVE, &lo, &hi, cnt);
    if (full_end < end) { /* the last, partial group of the row */
        const size_t r = end - full_end;
        lo = _mm256_add_ps(lo, kept_step(t, w, full_end, r < 8 ? r : 8, NUC_TIE_STRADDLE, cnt));
        if (r > 8)
            hi = _mm256_add_ps(hi, kept_step(t, w, full_end + 8, r - 8, NUC_TIE_STRADDLE, cnt));
    }
    return nuc_lane_fold_avx2(lo, hi);
}

/* Two whole blocks from start, both on one side of tie_end, side by side: four independent add
 * chains instead of two. */
NUC_INLINE void kept_block_pair(const kept_test *t, const float *w, size_t start,
                                nuc_tie_region rg, __m256i *cnt, float *s0, float *s1)
{
    __m256 lo0 = _mm256_setzero_ps(), hi0 = _mm256_setzero_ps();
    __m256 lo1 = _mm256_setzero_ps(), hi1 = _mm256_setzero_ps();
    for (size_t i = start; i < start + NUC_BLOCK; i += 16) {
        lo0 = _mm256_add_ps(lo0, kept_step(t, w, i, 8, rg, cnt));
        hi0 = _mm256_add_ps(hi0, kept_step(t, w, i + 8, 8, rg, cnt));
        lo1 = _mm256_add_ps(lo1, kept_step(t, w, i + NUC_BLOCK, 8, rg, cnt));
        hi1 = _mm256_add_ps(hi1, kept_step(t, w, i + NUC_BLOCK + 8, 8, rg, cnt));
    }
    *s0 = nuc_lane_fold_avx2(lo0, hi0);
    *s1 = nuc_lane_fold_avx2(lo1, hi1);
}

double nuc_kept_sum_avx2(const float *w, size_t n, float thr, size_t tie_end, float *bsum,
                         size_t *count)
{
    kept_test t;
    kept_test_init(&t, thr, tie_end);
    __m256i cnt = _mm256_setzero_si256();
    double total = 0.0;
    size_t start = 0;
    for (; start + 2 * NUC_BLOCK <= n; start += 2 * NUC_BLOCK) {
        float s0, s1;
        if (tie_end <= start)
            kept_block_pair(&t, w, start, NUC_TIE_ABOVE, &cnt, &s0, &s1);
        else if (tie_end >= start + 2 * NUC_BLOCK)
            kept_block_pair(&t, w, start, NUC_TIE_BELOW, &cnt, &s0, &s1);
        else {
            s0 = kept_block(&t, w, start, start + NUC_BLOCK, &cnt);
            s1 = kept_block(&t, w, start + NUC_BLOCK, start + 2 * NUC_BLOCK, &cnt);
        }
        bsum[start / NUC_BLOCK] = s0;
        bsum[start / NUC_BLOCK + 1] = s1;
        total += s0;
        total += s1;
    }
    for (; start < n; start += NUC_BLOCK) {
        const size_t end = n - start < NUC_BLOCK ? n : start + NUC_BLOCK;
        const float s = kept_block(&t, w, start, end, &cnt);
        bsum[start / NUC_BLOCK] = s;
        total += s;
    }
    uint32_t lanes[8];
    _mm256_storeu_si256((__m256i *)(void *)lanes, cnt);
    size_t c = 0;
    for (int j = 0; j < 8; j++)
        c += lanes[j];
    *count = c;
    return total;
}

/* q = w * scale where kept, else +0. The weight is zeroed before the multiply, so a dropped
 * tiny weight cannot make a subnormal product (a slow path), and the product is masked again so
 * a dropped lane is +0 whatever the sign of scale. */
NUC_INLINE __m256 scaled8(const kept_test *t, __m256 v, size_t base, nuc_tie_region rg,
                          __m256 scale)
{
    const __m256 k = kept8(t, v, base, rg);
    return _mm256_and_ps(_mm256_mul_ps(_mm256_and_ps(v, k), scale), k);
}

NUC_INLINE void scale_run(const kept_test *t, const float *w, size_t i, size_t stop,
                          nuc_tie_region rg, __m256 scale, float *q)
{
    for (; i < stop; i += 8)
        _mm256_storeu_ps(q + i, scaled8(t, _mm256_loadu_ps(w + i), i, rg, scale));
}

void nuc_scale_kept_avx2(const float *w, size_t n, float thr, size_t tie_end, float scale,
                         float *q)
{
    kept_test t;
    kept_test_init(&t, thr, tie_end);
    const __m256 vs = _mm256_set1_ps(scale);
    const size_t full_end = n - n % 8;
    size_t i = nuc_tie_split(0, full_end, tie_end, 8);
    scale_run(&t, w, 0, i, NUC_TIE_BELOW, vs, q);
    if (i < full_end && i < tie_end) {
        scale_run(&t, w, i, i + 8, NUC_TIE_STRADDLE, vs, q);
        i += 8;
    }
    scale_run(&t, w, i, full_end, NUC_TIE_ABOVE, vs, q);
    if (full_end < n) {
        const __m256i live = nuc_head_mask8(n - full_end);
        const __m256 v = _mm256_maskload_ps(w + full_end, live);
        _mm256_maskstore_ps(q + full_end, live, scaled8(&t, v, full_end, NUC_TIE_STRADDLE, vs));
    }
}

/* The lanes of v in [lo, hi], as a bit mask. For 0 < lo <= hi one compare of bit patterns
 * decides it: positive floats order as their bits, and +0, negatives and NaNs all land past
 * the span (bits(w) - bits(lo) wraps above it). AVX2 compares signed, so both sides are offset
 * by 2^31 (folded into the subtracted base) and the compare asks for the lanes past the span. */
typedef struct range_test {
    __m256 lo, hi;
    __m256i base, span;
} range_test;

NUC_INLINE unsigned in_range8(const range_test *t, __m256 v, int positive)
{
    if (positive)
        return ~(unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(
                   _mm256_sub_epi32(_mm256_castps_si256(v), t->base), t->span))) &
               0xffu;
    return (unsigned)_mm256_movemask_ps(
        _mm256_and_ps(_mm256_cmp_ps(v, t->lo, _CMP_GE_OQ), _mm256_cmp_ps(v, t->hi, _CMP_LE_OQ)));
}

NUC_INLINE range_test range_test_make(float lo, float hi)
{
    const uint32_t flip = 0x80000000u;
    const range_test t = {_mm256_set1_ps(lo), _mm256_set1_ps(hi),
                          _mm256_set1_epi32((int32_t)(nuc_f32_bits(lo) - flip)),
                          _mm256_set1_epi32((int32_t)(nuc_f32_bits(hi) - nuc_f32_bits(lo) - flip))};
    return t;
}

/* Appends the lanes in mask of the vector v at index i to vals and (unless NULL) idx at c;
 * returns the new count. Whole-vector stores (nuc_compress8), or exact ones for the row's last,
 * partial vector. */
NUC_INLINE size_t list8(uint32_t *idx, float *vals, size_t c, size_t i, __m256 v, unsigned mask,
                        int whole)
{
    if (whole) {
        _mm256_storeu_ps(vals + c, _mm256_permutevar8x32_ps(v, nuc_compress_perm8(mask)));
        if (idx)
            nuc_compress8(idx + c, i, mask);
        return c + (size_t)__builtin_popcount(mask);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, v);
    for (; mask; mask &= mask - 1) {
        const int lane = __builtin_ctz(mask);
        if (idx)
            idx[c] = (uint32_t)(i + (size_t)lane);
        vals[c++] = lanes[lane];
    }
    return c;
}

NUC_INLINE size_t bracket_list(const float *w, size_t n, float lo, float hi, uint32_t *idx,
                               float *vals, int positive)
{
    const range_test t = range_test_make(lo, hi);
    size_t c = 0, i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 va = _mm256_loadu_ps(w + i), vb = _mm256_loadu_ps(w + i + 8);
        const unsigned ka = in_range8(&t, va, positive);
        const unsigned kb = in_range8(&t, vb, positive);
        if (ka | kb) {
            c = list8(idx, vals, c, i, va, ka, 1);
            c = list8(idx, vals, c, i + 8, vb, kb, 1);
        }
    }
    for (; i < n; i += 8) {
        const size_t live = n - i < 8 ? n - i : 8;
        const __m256 v = _mm256_maskload_ps(w + i, nuc_head_mask8(live));
        const unsigned k = in_range8(&t, v, positive) & ((1u << live) - 1u);
        c = list8(idx, vals, c, i, v, k, live == 8);
    }
    return c;
}

/* The bracket lanes of v (in_range8) as a bit mask; the lanes above hi are added into acc, the
 * others add +0 (exact: acc starts at +0 and so is never -0). hi is not NaN. */
NUC_INLINE unsigned bracket8(const range_test *t, __m256 v, int positive, __m256 *acc)
{
    const __m256 above = _mm256_cmp_ps(v, t->hi, _CMP_GT_OQ);
    *acc = _mm256_add_ps(*acc, _mm256_and_ps(v, above));
    if (positive)
        return in_range8(t, v, 1);
    return (unsigned)_mm256_movemask_ps(
        _mm256_andnot_ps(above, _mm256_cmp_ps(v, t->lo, _CMP_GE_OQ)));
}

/* The bracket with the mass above it, block by block (a block's lanes 0-7 go to acc_lo, 8-15
 * to acc_hi); positive as in bracket_list. */
NUC_INLINE double bracket_sums(const float *w, size_t n, float lo, float hi, float *bsum,
                               uint32_t *idx, float *vals, size_t *count, int positive)
{
    const range_test t = range_test_make(lo, hi);
    double total = 0.0;
    size_t c = 0, start = 0;
    for (; start + NUC_BLOCK <= n; start += NUC_BLOCK) {
        __m256 acc_lo = _mm256_setzero_ps(), acc_hi = _mm256_setzero_ps();
        for (size_t i = start; i < start + NUC_BLOCK; i += 16) {
            const __m256 va = _mm256_loadu_ps(w + i), vb = _mm256_loadu_ps(w + i + 8);
            const unsigned ka = bracket8(&t, va, positive, &acc_lo);
            const unsigned kb = bracket8(&t, vb, positive, &acc_hi);
            if (ka | kb) {
                c = list8(idx, vals, c, i, va, ka, 1);
                c = list8(idx, vals, c, i + 8, vb, kb, 1);
            }
        }
        const float s = nuc_lane_fold_avx2(acc_lo, acc_hi);
        bsum[start / NUC_BLOCK] = s;
        total += s;
    }
    if (start < n) { /* the last, partial block */
        __m256 acc_lo = _mm256_setzero_ps(), acc_hi = _mm256_setzero_ps();
        for (size_t i = start; i < n; i += 8) {
            const size_t live = nuc_below8(i, n);
            const __m256 v = _mm256_maskload_ps(w + i, nuc_head_mask8(live));
            const unsigned k = bracket8(&t, v, positive, i % 16 == 0 ? &acc_lo : &acc_hi) &
                               ((1u << live) - 1u);
            c = list8(idx, vals, c, i, v, k, live == 8);
        }
        const float s = nuc_lane_fold_avx2(acc_lo, acc_hi);
        bsum[start / NUC_BLOCK] = s;
        total += s;
    }
    *count = c;
    return total;
}

double nuc_bracket_avx2(const float *w, size_t n, float lo, float hi, float *bsum,
                        uint32_t *idx, float *vals, size_t *count)
{
    if (bsum) {
        if (lo > 0.0f && lo <= hi)
            return bracket_sums(w, n, lo, hi, bsum, idx, vals, count, 1);
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
