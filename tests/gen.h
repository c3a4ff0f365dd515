/* Logit rows shaped like the ones engines see, shared by tests, benchmarks and examples. */
#ifndef NUC_TESTS_GEN_H
#define NUC_TESTS_GEN_H
#include <stddef.h>
#include <stdint.h>

typedef enum {
    GEN_PEAKED,   /* LLM-like: a Gaussian bulk plus a few dozen lifted tokens */
    GEN_FLAT,     /* N(0,1) */
    GEN_FLAT3,    /* N(0,3) */
    GEN_ZIPF,     /* log of a Zipf law over a random permutation */
    GEN_TIES,     /* few distinct values, many exact ties */
    GEN_EQUAL,    /* every logit equal */
    GEN_MASKED90, /* peaked, with 90% of the tokens at -inf */
    GEN_SPIKE,    /* one token far above the rest */
    GEN_HUGE,     /* values near +-1e30 */
    GEN_COUNT
} gen_profile;

const char *gen_name(gen_profile p);
/* Deterministic in (p, n, seed). */
void gen_logits(gen_profile p, size_t n, uint64_t seed, float *out);
#endif
