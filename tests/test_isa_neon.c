/* The NEON kernel set is really the one running, and it gives the scalar set's bits.
 *
 * On aarch64 dispatch picks NEON by default (and for NUCLEUS_ISA=neon); on x86 built with
 * -Dneon_simde=true the same sources run through SIMDe and are reachable only by
 * nuc_isa_force or NUCLEUS_ISA=neon, never by default. In both cases whole-pipeline outputs
 * (nuc_probs, nuc_softmax, nuc_sample) must match scalar bit for bit; tests/test_kernels.c
 * compares the kernels one by one.
 *
 * The choice made at first use is captured in main() before any test forces a set, so the
 * checks hold with CK_FORK=no (as under qemu), where every test shares one process. */
#include <stdlib.h>
#include <string.h>
#include "gen.h"
#include "util.h"

static nuc_isa initial_isa; /* nuc_isa_active() before anything was forced */

/* What dispatch must have chosen at first use, given NUCLEUS_ISA. */
static nuc_isa expected_initial(void)
{
    const char *want = getenv("NUCLEUS_ISA");
    if (want && *want)
        for (nuc_isa isa = NUC_ISA_SCALAR; isa <= NUC_ISA_NEON; isa = (nuc_isa)(isa + 1))
            if (strcmp(want, nuc_isa_name(isa)) == 0 && nuc_isa_supported(isa))
                return isa;
#if defined(__aarch64__)
    return NUC_ISA_NEON; /* every aarch64 CPU has Advanced SIMD */
#else
    return (nuc_isa)-1; /* some x86 set, but never NEON: checked separately */
#endif
}

START_TEST(neon_is_built_and_supported)
{
    ck_assert_msg(nuc_isa_supported(NUC_ISA_NEON), "the NEON set is not built in");
    ck_assert_str_eq(nuc_isa_name(NUC_ISA_NEON), "neon");
}
END_TEST

START_TEST(initial_choice)
{
    const nuc_isa want = expected_initial();
    if ((int)want >= 0) {
        ck_assert_msg(initial_isa == want, "first use chose %s, expected %s (NUCLEUS_ISA=%s)",
                      nuc_isa_name(initial_isa), nuc_isa_name(want),
                      getenv("NUCLEUS_ISA") ? getenv("NUCLEUS_ISA") : "(unset)");
    } else {
        ck_assert_msg(initial_isa != NUC_ISA_NEON,
                      "the SIMDe NEON set was chosen by default on a non-ARM machine");
    }
}
END_TEST

START_TEST(force_takes_effect)
{
    ck_assert_int_eq(nuc_isa_force(NUC_ISA_NEON), NUC_OK);
    ck_assert_int_eq(nuc_isa_active(), NUC_ISA_NEON);
    ck_assert_int_eq(nuc_isa_force(NUC_ISA_SCALAR), NUC_OK);
    ck_assert_int_eq(nuc_isa_active(), NUC_ISA_SCALAR);
    ck_assert_int_eq(nuc_isa_force(NUC_ISA_NEON), NUC_OK);
    ck_assert_int_eq(nuc_isa_active(), NUC_ISA_NEON);
#if defined(__aarch64__)
    ck_assert_int_eq(nuc_isa_force(NUC_ISA_AVX2), NUC_EUNSUPPORTED);
    ck_assert_int_eq(nuc_isa_active(), NUC_ISA_NEON);
#endif
}
END_TEST

/* Lengths around the 16-lane step and the 256-element block, a long row and the reference
 * vocabulary; profiles with ties, masks, huge values. */
static const size_t lengths[] = {1, 15, 17, 257, 4093, 128256};
static const gen_profile profiles[] = {GEN_PEAKED, GEN_FLAT3, GEN_TIES, GEN_MASKED90, GEN_HUGE,
                                       GEN_ZIPF};
static const nuc_params params[] = {
    {1.0f, 0, 1.0f, 0.0f},     /* plain softmax: the exp pass and its block sums */
    {0.7f, 0, 0.9f, 0.0f},     /* top-p: candidates from the exp pass */
    {1.0f, 40, 1.0f, 0.0f},    /* top-k: select */
    {1.3f, 0, 1.0f, 0.05f},    /* min-p: kept_sum / scale_kept */
    {0.8f, 50, 0.95f, 0.02f},  /* all three */
    {1.0f, 0, 0.999f, 0.0f},   /* a wide nucleus: the bracketed cut on long rows */
    {0.05f, 0, 1.0f, 0.0f},    /* cold: most weights under the exp cutoff */
    {0.0f, 0, 1.0f, 0.0f},     /* greedy: max and find_nth */
};
#define NPARAMS (sizeof params / sizeof params[0])

/* Runs every row and parameter set on one kernel set; records nuc_probs, nuc_softmax and
 * tokens of a few draws into the arrays (one slot per case). */
typedef struct results {
    uint64_t probs[64][NPARAMS];
    uint64_t softmax[64];
    int32_t tokens[64][NPARAMS][3];
    int rc[64][NPARAMS];
} results;

static void run_all(nuc_isa isa, results *r)
{
    ck_assert_int_eq(nuc_isa_force(isa), NUC_OK);
    ck_assert_int_eq(nuc_isa_active(), isa);
    const size_t maxn = 128256;
    nuc_sampler *s = nuc_sampler_new(maxn);
    ck_assert_ptr_nonnull(s);
    float *x = ut_floats(maxn), *q = ut_floats(maxn);
    size_t c = 0;
    for (size_t li = 0; li < sizeof lengths / sizeof *lengths; li++) {
        for (size_t pi = 0; pi < sizeof profiles / sizeof *profiles; pi++, c++) {
            ck_assert_uint_lt(c, 64);
            const size_t n = lengths[li];
            gen_logits(profiles[pi], n, 1000 + c, x);
            if (nuc_softmax(x, n, 1.0f, q) == NUC_OK)
                r->softmax[c] = ut_hash(UT_HASH_INIT, q, n * sizeof *q);
            else
                r->softmax[c] = 0;
            for (size_t k = 0; k < NPARAMS; k++) {
                memset(q, 0xA5, n * sizeof *q);
                r->rc[c][k] = nuc_probs(s, x, n, &params[k], q);
                r->probs[c][k] = ut_hash(UT_HASH_INIT, q, n * sizeof *q);
                for (uint64_t step = 0; step < 3; step++) {
                    int32_t t = -1;
                    const int rc = nuc_sample(s, x, n, &params[k], 42, c, step, &t);
                    r->tokens[c][k][step] = rc == NUC_OK ? t : rc;
                }
            }
        }
    }
    free(x);
    free(q);
    nuc_sampler_free(s);
}

START_TEST(pipeline_bits_match_scalar)
{
    results *a = ut_malloc(sizeof *a), *b = ut_malloc(sizeof *b);
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    run_all(NUC_ISA_SCALAR, a);
    run_all(NUC_ISA_NEON, b);
    ut_fails f = {0};
    size_t c = 0;
    for (size_t li = 0; li < sizeof lengths / sizeof *lengths; li++) {
        for (size_t pi = 0; pi < sizeof profiles / sizeof *profiles; pi++, c++) {
            const size_t n = lengths[li];
            const char *g = gen_name(profiles[pi]);
            if (a->softmax[c] != b->softmax[c])
                ut_fail(&f, "nuc_softmax bits differ: n=%zu %s", n, g);
            for (size_t k = 0; k < NPARAMS; k++) {
                const nuc_params *p = &params[k];
                if (a->rc[c][k] != b->rc[c][k] || a->probs[c][k] != b->probs[c][k])
                    ut_fail(&f, "nuc_probs differ: n=%zu %s T=%g k=%d p=%g min_p=%g (rc %d/%d)",
                            n, g, p->temperature, p->top_k, p->top_p, p->min_p, a->rc[c][k],
                            b->rc[c][k]);
                if (memcmp(a->tokens[c][k], b->tokens[c][k], sizeof a->tokens[c][k]) != 0)
                    ut_fail(&f, "nuc_sample tokens differ: n=%zu %s T=%g k=%d p=%g min_p=%g", n,
                            g, p->temperature, p->top_k, p->top_p, p->min_p);
            }
        }
    }
    free(a);
    free(b);
    UT_ASSERT_NO_FAILS(&f);
}
END_TEST

int main(void)
{
    initial_isa = nuc_isa_active(); /* first use: NUCLEUS_ISA and CPU detection decide */
    Suite *s = suite_create("isa_neon");
    TCase *tc = ut_tcase("neon");
    tcase_add_test(tc, neon_is_built_and_supported);
    tcase_add_test(tc, initial_choice);
    tcase_add_test(tc, force_takes_effect);
    tcase_add_test(tc, pipeline_bits_match_scalar);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
