/* An independent double-precision reference for the sampling semantics (README "Semantics").
 * Slow on purpose: it sorts. It shares no code with the library. */
#ifndef NUC_TESTS_ORACLE_H
#define NUC_TESTS_ORACLE_H
#include <stddef.h>
#include <stdint.h>
#include "nucleus.h"

typedef struct oracle_diag {
    size_t kept;        /* |F|, the number of tokens that survive the filters */
    double mass;        /* M, the kept mass relative to the whole softmax */
    int near_top_p;     /* 1 if a top-p decision lies within the rounding margin */
    int near_min_p;     /* 1 if a min-p decision lies within the rounding margin */
    int near_rank;      /* 1 if two differing logits have probabilities within 1e-6 relative
                           across a top-k / top-p cut */
    int near_sample;    /* oracle_sample only: u*M within 1e-6*M of a prefix-sum boundary */
} oracle_diag;

/* The code a row alone earns (nuc_argmax's validation): NUC_ENONFINITE for a NaN or +inf,
 * NUC_EMASKED when every logit is -inf, else NUC_OK. */
int oracle_row_code(const float *x, size_t n);

/* The smallest index of the max; -0 == +0, so the earlier of the two wins. */
size_t oracle_first_max(const float *x, size_t n);

/* q[0..n-1] = the filtered distribution in double. Returns NUC_OK or the error code the
 * library must return (validation). diag may be NULL. */
int oracle_probs(const float *x, size_t n, const nuc_params *p, double *q, oracle_diag *diag);

/* The token for uniform u. Returns NUC_OK or the expected error code. */
int oracle_sample(const float *x, size_t n, const nuc_params *p, double u, int32_t *token,
                  oracle_diag *diag);

/* Section 2.5 on a distribution q from oracle_probs (F = the support of q), so one
 * oracle_probs call serves many uniforms. *near_sample (may be NULL) as in oracle_diag. */
int oracle_sample_q(const double *q, size_t n, double u, int32_t *token, int *near_sample);

/* The kept sets at the two ends of the top-p and min-p rounding margins: lo[i] = 1 for the
 * tokens every admissible answer keeps (top_p - 1e-5, min_p * (1 + 1e-6)), hi[i] = 1 for those
 * it may keep (top_p + 1e-5, min_p * (1 - 1e-6)). Rank ambiguity (near_rank) is not covered:
 * when it is set, a kept set may swap tokens across the cut. Returns like oracle_probs. */
int oracle_kept_bounds(const float *x, size_t n, const nuc_params *p, unsigned char *lo,
                       unsigned char *hi);
#endif
