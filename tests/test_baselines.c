/* The benchmark's baselines (bench/baselines.h) are honest: the naive and the bucket-sort
 * samplers pick the oracle's token wherever the oracle calls the case unambiguous, and the
 * bucket partial sort ranks exactly like a full sort. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baselines.h"
#include "gen.h"
#include "nucleus.h"
#include "oracle.h"

#define MAXN 20000

static const size_t SIZES[] = {1, 2, 17, 300, 1000, 4099, MAXN};
#define NSIZES (sizeof SIZES / sizeof SIZES[0])

static const nuc_params PARAMS[] = {
    {1.0f, 0, 1.0f, 0.0f},      /* plain softmax sampling */
    {1.0f, 0, 0.9f, 0.0f},      /* the benchmark's sets */
    {0.05f, 0, 0.9f, 0.0f},
    {0.8f, 40, 0.95f, 0.05f},
    {0.0f, 0, 1.0f, 0.0f},      /* greedy */
    {1.0f, 1, 1.0f, 0.0f},      /* top-k 1 */
    {1.5f, 300, 1.0f, 0.0f},
    {1.0f, 0, 0.0f, 0.0f},      /* top-p 0 keeps one */
    {1.0f, 0, 0.5f, 0.1f},
    {2.0f, 0, 0.99f, 0.0f},     /* a wide nucleus: the bucket sampler's full sort */
    {1.0f, 0, 1.0f, 0.2f},      /* min-p alone */
    {0.7f, 5000, 0.8f, 0.0f},   /* a long top-k list */
};
#define NPARAMS (sizeof PARAMS / sizeof PARAMS[0])

typedef int (*sampler_fn)(nbase_scratch *, const float *, size_t, const nuc_params *, double,
                          int32_t *);

static void against_oracle(sampler_fn fn, const char *who) {
    nbase_scratch *s = nbase_new(MAXN);
    ck_assert_ptr_nonnull(s);
    float *x = malloc(MAXN * sizeof *x);
    ck_assert_ptr_nonnull(x);
    size_t cases = 0, compared = 0, mismatches = 0;
    for (int prof = 0; prof < GEN_COUNT; prof++) {
        for (size_t si = 0; si < NSIZES; si++) {
            const size_t n = SIZES[si];
            gen_logits((gen_profile)prof, n, 1000u + (uint64_t)prof * 17u + si, x);
            for (size_t pi = 0; pi < NPARAMS; pi++) {
                for (uint64_t d = 0; d < 4; d++) {
                    const double u = d == 0 ? 0.0 : nuc_uniform(42, prof * 1000 + si * 50 + pi, d);
                    int32_t want = -1, got = -1;
                    oracle_diag diag;
                    memset(&diag, 0, sizeof diag);
                    const int orc = oracle_sample(x, n, &PARAMS[pi], u, &want, &diag);
                    const int rc = fn(s, x, n, &PARAMS[pi], u, &got);
                    cases++;
                    if (orc != NUC_OK) {
                        ck_assert_msg(rc == orc, "%s: %s n=%zu params %zu: rc %d, oracle %d", who,
                                      gen_name((gen_profile)prof), n, pi, rc, orc);
                        continue;
                    }
                    ck_assert_msg(rc == NUC_OK, "%s: %s n=%zu params %zu: rc %d", who,
                                  gen_name((gen_profile)prof), n, pi, rc);
                    if (diag.near_top_p || diag.near_min_p || diag.near_rank || diag.near_sample)
                        continue;
                    compared++;
                    if (got != want) {
                        if (++mismatches <= 10)
                            fprintf(stderr, "%s: %s n=%zu params %zu u=%.17g: token %d, oracle %d\n",
                                who, gen_name((gen_profile)prof), n, pi, u, (int)got, (int)want);
                    }
                }
            }
        }
    }
    fprintf(stderr, "%s: %zu cases, %zu unambiguous, %zu mismatches\n", who, cases, compared,
            mismatches);
    ck_assert_msg(mismatches == 0, "%s: %zu of %zu unambiguous cases differ from the oracle", who,
                  mismatches, compared);
    ck_assert_msg(compared * 10 >= cases * 8, "%s: only %zu of %zu cases were unambiguous", who,
                  compared, cases);
    free(x);
    nbase_free(s);
}

START_TEST(naive_matches_oracle) { against_oracle(nbase_naive_sample, "naive"); }
END_TEST

START_TEST(bucket_matches_oracle) { against_oracle(nbase_bucket_sample, "bucket"); }
END_TEST

static const float *g_x;
static int cmp_rank_idx(const void *pa, const void *pb) {
    const int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;
    if (g_x[a] > g_x[b] || (g_x[a] == g_x[b] && a < b)) return -1;
    if (g_x[b] > g_x[a] || (g_x[a] == g_x[b] && b < a)) return 1;
    return 0;
}

/* The partial bucket sort returns exactly the head of a full sort (logit desc, index asc). */
START_TEST(bucket_top_is_a_sort_prefix) {
    nbase_scratch *s = nbase_new(MAXN);
    float *x = malloc(MAXN * sizeof *x);
    int32_t *ref = malloc(MAXN * sizeof *ref), *got = malloc(MAXN * sizeof *got);
    ck_assert(s && x && ref && got);
    const size_t parts[] = {1, 2, 40, 256, 1000, 4099, MAXN};
    for (int prof = 0; prof < GEN_COUNT; prof++) {
        for (size_t si = 0; si < NSIZES; si++) {
            const size_t n = SIZES[si];
            gen_logits((gen_profile)prof, n, 7u + (uint64_t)prof, x);
            for (size_t i = 0; i < n; i++) ref[i] = (int32_t)i;
            g_x = x;
            qsort(ref, n, sizeof *ref, cmp_rank_idx);
            for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
                const size_t want = parts[k] < n ? parts[k] : n;
                const size_t m = nbase_bucket_top(s, x, n, parts[k], got);
                ck_assert_uint_eq(m, want);
                for (size_t j = 0; j < m; j++)
                    ck_assert_msg(got[j] == ref[j], "%s n=%zu top %zu: rank %zu is %d, not %d",
                                  gen_name((gen_profile)prof), n, parts[k], j, (int)got[j],
                                  (int)ref[j]);
            }
        }
    }
    free(x);
    free(ref);
    free(got);
    nbase_free(s);
}
END_TEST

/* Bad arguments are refused, and greedy takes the first maximum. */
START_TEST(baseline_edges) {
    nbase_scratch *s = nbase_new(8);
    ck_assert_ptr_nonnull(s);
    const float x[4] = {1.0f, 3.0f, 3.0f, -INFINITY};
    const float m[3] = {-INFINITY, -INFINITY, -INFINITY};
    const nuc_params greedy = {0.0f, 0, 1.0f, 0.0f}, plain = {1.0f, 0, 1.0f, 0.0f};
    const nuc_params bad_p = {1.0f, 0, 1.5f, 0.0f}, bad_k = {1.0f, -1, 1.0f, 0.0f};
    const sampler_fn fns[2] = {nbase_naive_sample, nbase_bucket_sample};
    for (int f = 0; f < 2; f++) {
        int32_t t = -7;
        ck_assert_int_eq(fns[f](s, x, 4, &greedy, 0.5, &t), NUC_OK);
        ck_assert_int_eq(t, 1);
        ck_assert_int_eq(fns[f](s, x, 9, &plain, 0.5, &t), NUC_EINVAL);
        ck_assert_int_eq(fns[f](s, x, 0, &plain, 0.5, &t), NUC_EINVAL);
        ck_assert_int_eq(fns[f](s, x, 4, &plain, 1.0, &t), NUC_EINVAL);
        ck_assert_int_eq(fns[f](s, x, 4, &bad_p, 0.5, &t), NUC_EINVAL);
        ck_assert_int_eq(fns[f](s, x, 4, &bad_k, 0.5, &t), NUC_EINVAL);
        ck_assert_int_eq(fns[f](s, m, 3, &plain, 0.5, &t), NUC_EMASKED);
        ck_assert_int_eq(fns[f](s, m, 3, &greedy, 0.5, &t), NUC_EMASKED);
        ck_assert_int_eq(fns[f](s, x, 4, &plain, 0.0, &t), NUC_OK);
        ck_assert_int_eq(t, 0);
    }
    nbase_free(s);
}
END_TEST

int main(void) {
    Suite *su = suite_create("baselines");
    TCase *tc = tcase_create("baselines");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, baseline_edges);
    tcase_add_test(tc, bucket_top_is_a_sort_prefix);
    tcase_add_test(tc, naive_matches_oracle);
    tcase_add_test(tc, bucket_matches_oracle);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
