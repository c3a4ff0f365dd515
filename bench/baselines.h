/* The sort-based samplers engines ship, as the benchmark's points of comparison. Both follow
 * the contract's semantics (README "Semantics": top-k, then top-p with Llama 3's keep rule,
 * then min-p; inverse CDF in token-index order), so their tokens can be checked against the
 * oracle (tests/test_baselines.c); only the way they find the kept set differs from nucleus.
 *
 * - naive: float softmax (x / T, minus the max, expf, normalised), qsort of (prob, index) over
 *   the whole vocabulary, the keep rules walked in rank order, then the inverse CDF.
 * - bucket: the sampler llama.cpp-style engines ship. Top-k is a partial sort of the top k by a
 *   128-bucket histogram of the logits over [-10, 10] (values outside fall into the end
 *   buckets); without top-k, a float softmax over the whole row, then the same partial sort of
 *   the top 256, and a full bucket sort only when the nucleus turns out to be larger than that.
 *
 * Neither validates its input beyond what it needs (NaN and +inf are not checked): they are
 * yardsticks for speed, not libraries. Accumulators are double so that the comparison with the
 * oracle is about the algorithm, not about float drift. Sampling happens in token-index order
 * (the contract) rather than in rank order as engines do; the cost of that is a sort of the
 * kept candidates by index (at most 4096 of them) or one pass over the row. */
#ifndef NUC_BENCH_BASELINES_H
#define NUC_BENCH_BASELINES_H
#include <stddef.h>
#include <stdint.h>
#include "nucleus.h"

typedef struct nbase_scratch nbase_scratch;

/* Scratch for rows of up to max_n logits (one per thread); NULL on failure. */
nbase_scratch *nbase_new(size_t max_n);
void nbase_free(nbase_scratch *s);

/* One token for uniform u in [0,1). Returns NUC_OK, NUC_EINVAL (bad size or parameter) or
 * NUC_EMASKED (every logit -inf). T <= 0 is greedy (the first maximum). */
int nbase_naive_sample(nbase_scratch *s, const float *x, size_t n, const nuc_params *p,
                       double u, int32_t *token);
int nbase_bucket_sample(nbase_scratch *s, const float *x, size_t n, const nuc_params *p,
                        double u, int32_t *token);

/* The bucket sampler's partial sort on its own: the npartial largest of x (ties by ascending
 * index) into idx[0..npartial-1], in rank order. Returns how many it sorted (npartial, clamped
 * to n), or 0 on a NULL / oversize argument. Exposed for the tests. */
size_t nbase_bucket_top(nbase_scratch *s, const float *x, size_t n, size_t npartial,
                        int32_t *idx);
#endif
