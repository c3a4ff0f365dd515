/* The x86 kernel sets: AVX2 (+FMA) and AVX-512 (F/BW/VL/DQ). Each function computes the same
 * bits as its scalar namesake in kernels/scalar/ (kernels.h defines them). The definitions live
 * in per-ISA static libraries compiled with that ISA's flags only; this header is plain C, so
 * the dispatcher can name them without wide flags. */
#ifndef NUC_X86_H
#define NUC_X86_H
#include "kernels.h"

int nuc_max_avx2(const float *x, size_t n, float *max);
size_t nuc_find_nth_avx2(const float *x, size_t n, float v, size_t j);
double nuc_exp_sum_avx2(const float *x, size_t n, float m, float inv_t, float *w, float *bsum,
                        float lo, size_t cap, uint32_t *cand, size_t *ncand);
double nuc_kept_sum_avx2(const float *w, size_t n, float thr, size_t tie_end, float *bsum,
                         size_t *count);
void nuc_scale_kept_avx2(const float *w, size_t n, float thr, size_t tie_end, float scale,
                         float *q);
double nuc_bracket_avx2(const float *w, size_t n, float lo, float hi, float *bsum,
                        uint32_t *idx, float *vals, size_t *count);
void nuc_bf16_to_f32_avx2(const uint16_t *src, size_t n, float *dst);
void nuc_f16_to_f32_avx2(const uint16_t *src, size_t n, float *dst);

int nuc_max_avx512(const float *x, size_t n, float *max);
size_t nuc_find_nth_avx512(const float *x, size_t n, float v, size_t j);
double nuc_exp_sum_avx512(const float *x, size_t n, float m, float inv_t, float *w, float *bsum,
                          float lo, size_t cap, uint32_t *cand, size_t *ncand);
double nuc_kept_sum_avx512(const float *w, size_t n, float thr, size_t tie_end, float *bsum,
                           size_t *count);
void nuc_scale_kept_avx512(const float *w, size_t n, float thr, size_t tie_end, float scale,
                           float *q);
double nuc_bracket_avx512(const float *w, size_t n, float lo, float hi, float *bsum,
                          uint32_t *idx, float *vals, size_t *count);
void nuc_bf16_to_f32_avx512(const uint16_t *src, size_t n, float *dst);
void nuc_f16_to_f32_avx512(const uint16_t *src, size_t n, float *dst);

/* The threshold kernels keep w > thr, or w == thr below tie_end: one compare per vector (w >=
 * thr, then w > thr) everywhere but in the one group of lanes that straddles tie_end. This
 * splits the whole groups of g elements in [i, end) (end - i a multiple of g): those before
 * the returned point lie wholly below tie_end; the group at it, if it starts below tie_end,
 * straddles it; the rest lie wholly at or above it. */
static inline size_t nuc_tie_split(size_t i, size_t end, size_t tie_end, size_t g)
{
    if (tie_end <= i)
        return i;
    if (tie_end >= end)
        return end;
    return i + (tie_end - i) / g * g;
}

/* The position of the (j+1)-th set bit of a lane mask k that has more than j (find_nth). */
static inline size_t nuc_nth_bit(uint64_t k, size_t j)
{
    for (; j > 0; j--)
        k &= k - 1;
    return (size_t)__builtin_ctzll(k);
}

/* Where a group of lanes lies against tie_end. */
typedef enum { NUC_TIE_BELOW, NUC_TIE_ABOVE, NUC_TIE_STRADDLE } nuc_tie_region;
#endif
