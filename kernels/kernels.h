/* The kernel table: every pass over a whole row goes through one of these pointers, so the
 * pipeline (src/pipeline.c) never names an ISA. Each ISA's file computes the same bits as the
 * scalar reference in kernels/scalar/; the comments below define those bits.
 *
 * Summation order (the determinism promise): a row is cut into blocks of NUC_BLOCK elements.
 * Inside a block, lane j (0..15) adds the elements whose offset in the block is j mod 16, in
 * index order, in float, starting from +0. The 16 lanes are then folded by one fixed tree:
 * lane[j] += lane[j + h] for h = 8, 4, 2, 1. Block sums are added in block order in double. */
#ifndef NUC_KERNELS_H
#define NUC_KERNELS_H
#include <stddef.h>
#include <stdint.h>

#define NUC_LANES 16
#define NUC_BLOCK 256
#define NUC_NBLOCKS(n) (((n) + NUC_BLOCK - 1) / NUC_BLOCK)

/* exp(y) is evaluated for y >= NUC_EXP_CUTOFF only; below it the weight is +0. Every weight at
 * or above the cutoff is a normal float (>= 1.6e-38), so no kernel ever makes a subnormal.
 * Callers keep y <= NUC_EXP_CEILING (NaN aside): the pipeline's m is the row's max, so its
 * y <= 0. Up to there every weight is finite and normal, which lets the SIMD kernels build
 * p * 2^k with an integer add (kernels/x86/expw_avx512.h) and spare the clamp that a larger y
 * would need (one op of 16 per vector: 14.8 -> 13.4 us, AVX-512 at n = 128256). */
#define NUC_EXP_CUTOFF (-87.0f)
#define NUC_EXP_CEILING 88.0f

typedef struct nuc_kernels {
    /* Max of x[0..n-1] into *max. Returns 0, NUC_ENONFINITE (a NaN or +inf) or NUC_EMASKED
     * (every element -inf). The max of {-0, +0} may be either zero. */
    int (*max)(const float *x, size_t n, float *max);

    /* The index of the element equal to v that has j others equal to v before it (j = 0: the
     * first); n if there are no more than j. */
    size_t (*find_nth)(const float *x, size_t n, float v, size_t j);

    /* w[i] = nuc_exp_weight((x[i] - m) * inv_t) (kernels/scalar/expw.h) and bsum[b] = the sum of
     * block b of w. If lo > 0, the indices i with w[i] >= lo are listed in cand, ascending, while
     * they number at most cap, and *ncand = min(their number, cap + 1): cap + 1 says "more", and
     * cand's contents are then unspecified. Returns the total of the block sums. */
    double (*exp_sum)(const float *x, size_t n, float m, float inv_t, float *w, float *bsum,
                      float lo, size_t cap, uint32_t *cand, size_t *ncand);

    /* The kept set K = { i : w[i] > thr, or w[i] == thr and i < tie_end }. bsum[b] = the sum
     * of block b of w over K (elements outside K count as +0); *count = |K|. Returns the total
     * of the block sums. */
    double (*kept_sum)(const float *w, size_t n, float thr, size_t tie_end, float *bsum,
                       size_t *count);

    /* q[i] = w[i] * scale for i in the kept set (as above), else +0. */
    void (*scale_kept)(const float *w, size_t n, float thr, size_t tie_end, float scale,
                       float *q);

    /* The bracket [lo, hi] of a row: the indices i with lo <= w[i] <= hi, ascending, into idx
     * (unless it is NULL), their weights side by side into vals (vals[j] = w[idx[j]]) and their
     * number into *count;
     * and, when bsum is not NULL, bsum[b] = the sum of block b over { i : w[i] > hi } (the mass
     * above the bracket). Returns the total of those block sums (0 without bsum). */
    double (*bracket)(const float *w, size_t n, float lo, float hi, float *bsum, uint32_t *idx,
                      float *vals, size_t *count);

    /* Exact widening of bf16 and IEEE fp16 to float (every input has one float value). */
    void (*bf16_to_f32)(const uint16_t *src, size_t n, float *dst);
    void (*f16_to_f32)(const uint16_t *src, size_t n, float *dst);
} nuc_kernels;

/* Index lists (cand, idx) and vals always have room for n entries: kernels may store whole
 * vectors, so the slots between the count and n hold scratch values; nothing is written at or
 * past n. */

/* The table of the active kernel set (chosen once; see dispatch/dispatch.c). */
const nuc_kernels *nuc_active_kernels(void);
/* The table of one set, or NULL if it is not built in or not runnable on this machine. */
const nuc_kernels *nuc_kernels_for(int isa);
#endif
