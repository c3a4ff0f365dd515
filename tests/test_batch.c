/* nuc_sample_batch and the batch handle against nuc_sample on each row alone: every thread
 * count, batch shape, stride, parameter and stream layout, on every kernel set; the errors
 * (first failing row, nothing written); handle reuse; callers on several threads at once. */
#define _GNU_SOURCE /* sched_getaffinity: the processors OpenMP may use */
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "gen.h"
#include "util.h"

#define SENTINEL (-777)

static const nuc_params row_params[] = {
    {1.0f, 0, 1.0f, 0.0f},    /* plain softmax sampling */
    {0.8f, 40, 0.95f, 0.05f}, /* a typical chat setting */
    {0.0f, 0, 1.0f, 0.0f},    /* greedy */
    {2.0f, 0, 0.5f, 0.0f},    /* hot, top-p */
    {1.0f, 1, 1.0f, 0.0f},    /* top-k 1 */
    {0.05f, 0, 0.95f, 0.1f},  /* cold, min-p */
    {0.7f, 0, 0.0f, 0.0f},    /* top-p 0: one token */
    {1.2f, 100, 0.9f, 0.02f},
};
#define N_ROW_PARAMS (sizeof row_params / sizeof row_params[0])

/* Profiles that always leave something to sample, cycled over the rows. */
static const gen_profile profiles[] = {GEN_PEAKED, GEN_FLAT, GEN_ZIPF,   GEN_TIES,
                                       GEN_SPIKE,  GEN_HUGE, GEN_FLAT3,  GEN_EQUAL};

static const int thread_counts[] = {1, 2, 0, 5};

/* rows rows of n logits at stride; the padding between rows is NaN, so a batch that reads
 * past a row's n logits fails with NUC_ENONFINITE. Row 3 of a long enough row is 90% masked. */
static float *make_rows(size_t rows, size_t n, size_t stride, uint64_t seed)
{
    float *x = ut_floats(rows * stride);
    for (size_t i = 0; i < rows * stride; i++)
        x[i] = NAN;
    for (size_t r = 0; r < rows; r++) {
        gen_profile g = profiles[(r + seed) % (sizeof profiles / sizeof profiles[0])];
        if (r == 3 && n >= 257)
            g = GEN_MASKED90;
        gen_logits(g, n, seed * 1000 + r, x + r * stride);
    }
    return x;
}

static void fill_tokens(int32_t *t, size_t rows)
{
    for (size_t r = 0; r < rows; r++)
        t[r] = SENTINEL;
}

typedef struct layout {
    size_t rows, n, stride;
    const nuc_params *p;
    size_t n_params;
    uint64_t seed, step;
    const uint64_t *streams;
} layout;

/* nuc_sample on every row alone: the tokens (every row of these shapes succeeds). */
static void reference(nuc_sampler *s, const float *x, const layout *l, int32_t *want)
{
    for (size_t r = 0; r < l->rows; r++) {
        int rc = nuc_sample(s, x + r * l->stride, l->n, &l->p[l->n_params == 1 ? 0 : r], l->seed,
                            l->streams ? l->streams[r] : r, l->step, &want[r]);
        ck_assert_msg(rc == NUC_OK, "reference row %zu (n %zu): %d", r, l->n, rc);
    }
}

static void compare(ut_fails *f, const char *what, const layout *l, int threads, int rc,
                    const int32_t *got, const int32_t *want)
{
    if (rc != NUC_OK) {
        ut_fail(f, "[%s] %s rows %zu n %zu stride %zu n_params %zu streams %s threads %d: rc %d",
                nuc_isa_name(nuc_isa_active()), what, l->rows, l->n, l->stride, l->n_params,
                l->streams ? "given" : "NULL", threads, rc);
        return;
    }
    for (size_t r = 0; r < l->rows; r++)
        if (got[r] != want[r]) {
            ut_fail(f,
                    "[%s] %s rows %zu n %zu stride %zu n_params %zu streams %s threads %d: "
                    "row %zu token %d, nuc_sample %d",
                    nuc_isa_name(nuc_isa_active()), what, l->rows, l->n, l->stride, l->n_params,
                    l->streams ? "given" : "NULL", threads, r, (int)got[r], (int)want[r]);
            return;
        }
}

START_TEST(batch_equals_single_rows)
{
    static const size_t row_counts[] = {1, 3, 16};
    static const size_t lengths[] = {1, 257, 32000, 128256};
    enum { MAX_ROWS = 16 };
    uint64_t streams[MAX_ROWS];
    nuc_params per_row[MAX_ROWS];
    for (size_t r = 0; r < MAX_ROWS; r++) {
        streams[r] = r * UINT64_C(0x9e3779b97f4a7c15) + 3;
        per_row[r] = row_params[r % N_ROW_PARAMS];
    }
    nuc_sampler *s = nuc_sampler_new(128256);
    nuc_batch *handles[4];
    for (size_t t = 0; t < 4; t++) {
        handles[t] = nuc_batch_new(128256, thread_counts[t]);
        ck_assert_ptr_nonnull(handles[t]);
    }
    ck_assert_ptr_nonnull(s);
    ut_fails f = {0};
    int32_t want[MAX_ROWS], got[MAX_ROWS];
    nuc_draw draws[MAX_ROWS];
    UT_FOR_EACH_ISA(isa)
    {
        for (size_t ri = 0; ri < 3; ri++)
            for (size_t ni = 0; ni < 4; ni++)
                for (size_t pad = 0; pad <= 13; pad += 13) {
                    const size_t rows = row_counts[ri], n = lengths[ni], stride = n + pad;
                    float *x = make_rows(rows, n, stride, ri * 4 + ni + 1);
                    for (int layout_i = 0; layout_i < 4; layout_i++) {
                        const int shared = layout_i & 1, with_streams = layout_i >> 1;
                        layout l = {rows, n, stride, shared ? &row_params[1] : per_row,
                                    shared ? 1 : rows, 42 + ni, 7 + ri,
                                    with_streams ? streams : NULL};
                        reference(s, x, &l, want);
                        for (size_t t = 0; t < 4; t++) {
                            fill_tokens(got, rows);
                            int rc = nuc_sample_batch(x, rows, n, stride, l.p, l.n_params,
                                                      l.seed, l.streams, l.step, got,
                                                      thread_counts[t]);
                            compare(&f, "nuc_sample_batch", &l, thread_counts[t], rc, got,
                                    want);
                            fill_tokens(got, rows);
                            rc = nuc_batch_sample(handles[t], x, rows, n, stride, l.p,
                                                  l.n_params, l.seed, l.streams, l.step, got);
                            compare(&f, "nuc_batch_sample", &l, thread_counts[t], rc, got,
                                    want);
                            for (size_t r = 0; r < rows; r++)
                                draws[r] = (nuc_draw){l.seed, l.streams ? l.streams[r] : r,
                                                      l.step};
                            fill_tokens(got, rows);
                            rc = nuc_batch_sample_draws(handles[t], x, rows, n, stride, l.p,
                                                        l.n_params, draws, got);
                            compare(&f, "nuc_batch_sample_draws", &l, thread_counts[t], rc,
                                    got, want);
                        }
                    }
                    free(x);
                }
    }
    UT_ASSERT_NO_FAILS(&f);
    for (size_t t = 0; t < 4; t++)
        nuc_batch_free(handles[t]);
    nuc_sampler_free(s);
}
END_TEST

/* Every row its own seed, stream and step (a continuous batch), and the same rows in another
 * order and grouping: each token is that row's nuc_sample. */
START_TEST(draws_per_row_and_regrouping)
{
    enum { R = 12, N = 32000 };
    float *x = make_rows(R, N, N, 99);
    nuc_sampler *s = nuc_sampler_new(N);
    nuc_batch *b = nuc_batch_new(N, 0);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_nonnull(b);
    nuc_draw d[R];
    nuc_params p[R];
    int32_t want[R];
    for (size_t r = 0; r < R; r++) {
        d[r] = (nuc_draw){1000 + r * 17, 500 + r, r * r};
        p[r] = row_params[(r * 3) % N_ROW_PARAMS];
    }
    UT_FOR_EACH_ISA(isa)
    {
        for (size_t r = 0; r < R; r++)
            ck_assert_int_eq(nuc_sample(s, x + r * N, N, &p[r], d[r].seed, d[r].stream,
                                        d[r].step, &want[r]),
                             NUC_OK);
        int32_t got[R];
        fill_tokens(got, R);
        ck_assert_int_eq(nuc_batch_sample_draws(b, x, R, N, N, p, R, d, got), NUC_OK);
        for (size_t r = 0; r < R; r++)
            ck_assert_msg(got[r] == want[r], "[%s] row %zu: %d, want %d", nuc_isa_name(isa), r,
                          (int)got[r], (int)want[r]);
        /* Reversed, through a copy of the rows in reverse order. */
        float *rev = ut_floats((size_t)R * N);
        nuc_draw drev[R];
        nuc_params prev[R];
        for (size_t r = 0; r < R; r++) {
            memcpy(rev + r * N, x + (R - 1 - r) * N, N * sizeof(float));
            drev[r] = d[R - 1 - r];
            prev[r] = p[R - 1 - r];
        }
        fill_tokens(got, R);
        ck_assert_int_eq(nuc_batch_sample_draws(b, rev, R, N, N, prev, R, drev, got), NUC_OK);
        for (size_t r = 0; r < R; r++)
            ck_assert_msg(got[r] == want[R - 1 - r], "[%s] reversed row %zu: %d, want %d",
                          nuc_isa_name(isa), r, (int)got[r], (int)want[R - 1 - r]);
        free(rev);
        /* Split into batches of 5, 1 and 6 rows. */
        const size_t cuts[] = {0, 5, 6, R};
        for (size_t c = 0; c + 1 < 4; c++) {
            const size_t lo = cuts[c], len = cuts[c + 1] - lo;
            fill_tokens(got, R);
            ck_assert_int_eq(nuc_batch_sample_draws(b, x + lo * N, len, N, N, p + lo, len,
                                                    d + lo, got),
                             NUC_OK);
            for (size_t r = 0; r < len; r++)
                ck_assert_msg(got[r] == want[lo + r], "[%s] split row %zu: %d, want %d",
                              nuc_isa_name(isa), lo + r, (int)got[r], (int)want[lo + r]);
        }
    }
    nuc_batch_free(b);
    nuc_sampler_free(s);
    free(x);
}
END_TEST

/* The code of the first failing row, and no token written, whatever thread finds which. */
START_TEST(first_failing_row)
{
    enum { R = 16, N = 32771 }; /* enough work for a team of 16 */
    float *x = make_rows(R, N, N, 5);
    nuc_params p = row_params[1];
    nuc_batch *handles[4];
    for (size_t t = 0; t < 4; t++) {
        handles[t] = nuc_batch_new(N, thread_counts[t]);
        ck_assert_ptr_nonnull(handles[t]);
    }
    static const struct {
        size_t nan_row, masked_row;
        int want;
    } cases[] = {
        {5, 9, NUC_ENONFINITE}, {9, 5, NUC_EMASKED},   {0, 15, NUC_ENONFINITE},
        {15, 14, NUC_EMASKED},  {15, R, NUC_ENONFINITE}, {R, 0, NUC_EMASKED},
    };
    float *y = ut_floats((size_t)R * N);
    UT_FOR_EACH_ISA(isa)
    {
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            memcpy(y, x, (size_t)R * N * sizeof(float));
            if (cases[c].nan_row < R)
                y[cases[c].nan_row * N + N / 2] = NAN;
            if (cases[c].masked_row < R)
                for (size_t i = 0; i < N; i++)
                    y[cases[c].masked_row * N + i] = -INFINITY;
            for (size_t t = 0; t < 4; t++)
                for (int rep = 0; rep < 8; rep++) {
                    int32_t got[R];
                    fill_tokens(got, R);
                    int rc = rep & 1 ? nuc_batch_sample(handles[t], y, R, N, N, &p, 1, 1, NULL,
                                                        rep, got)
                                     : nuc_sample_batch(y, R, N, N, &p, 1, 1, NULL, rep, got,
                                                        thread_counts[t]);
                    ck_assert_msg(rc == cases[c].want,
                                  "[%s] case %zu threads %d: rc %d, want %d", nuc_isa_name(isa),
                                  c, thread_counts[t], rc, cases[c].want);
                    for (size_t r = 0; r < R; r++)
                        ck_assert_msg(got[r] == SENTINEL, "[%s] case %zu: row %zu written",
                                      nuc_isa_name(isa), c, r);
                }
        }
        /* The handle is fine after a failed call. */
        int32_t got[R], want[R];
        ck_assert_int_eq(nuc_sample_batch(x, R, N, N, &p, 1, 1, NULL, 3, want, 1), NUC_OK);
        ck_assert_int_eq(nuc_batch_sample(handles[2], x, R, N, N, &p, 1, 1, NULL, 3, got),
                         NUC_OK);
        ck_assert(memcmp(got, want, sizeof got) == 0);
    }
    for (size_t t = 0; t < 4; t++)
        nuc_batch_free(handles[t]);
    free(y);
    free(x);
}
END_TEST

typedef struct call {
    const float *x;
    size_t rows, n, stride;
    const nuc_params *p;
    size_t n_params;
    const uint64_t *streams;
    int threads;
    int null_tokens;
} call;

enum { BR = 6, BN = 300 };

static void expect_error(nuc_batch *b, const char *what, call c, int want)
{
    int32_t tokens[BR];
    nuc_draw d[BR] = {{0}};
    for (int api = 0; api < 3; api++) {
        fill_tokens(tokens, BR);
        int32_t *out = c.null_tokens ? NULL : tokens;
        int rc = api == 0   ? nuc_sample_batch(c.x, c.rows, c.n, c.stride, c.p, c.n_params, 1,
                                               c.streams, 0, out, c.threads)
                 : api == 1 ? nuc_batch_sample(b, c.x, c.rows, c.n, c.stride, c.p, c.n_params,
                                               1, c.streams, 0, out)
                            : nuc_batch_sample_draws(b, c.x, c.rows, c.n, c.stride, c.p,
                                                     c.n_params, d, out);
        if (api == 0 || c.threads >= 0) { /* threads is nuc_sample_batch's alone */
            ck_assert_msg(rc == want, "%s (api %d): rc %d, want %d", what, api, rc, want);
            for (size_t r = 0; r < BR; r++)
                ck_assert_msg(tokens[r] == SENTINEL, "%s (api %d): row %zu written", what, api,
                              r);
        }
    }
}

START_TEST(bad_arguments)
{
    float *x = make_rows(BR, BN, BN + 1, 3);
    nuc_params ok = row_params[0], per_row[BR];
    for (size_t r = 0; r < BR; r++)
        per_row[r] = ok;
    nuc_batch *b = nuc_batch_new(BN + 1, 2);
    ck_assert_ptr_nonnull(b);
    const call base = {x, BR, BN, BN + 1, &ok, 1, NULL, 2, 0};
    UT_FOR_EACH_ISA(isa)
    {
        int32_t tokens[BR];
        ck_assert_int_eq(nuc_sample_batch(x, BR, BN, BN + 1, &ok, 1, 1, NULL, 0, tokens, 2),
                         NUC_OK);
        call c;
        c = base, c.x = NULL;
        expect_error(b, "NULL logits", c, NUC_EINVAL);
        c = base, c.p = NULL;
        expect_error(b, "NULL params", c, NUC_EINVAL);
        c = base, c.null_tokens = 1;
        expect_error(b, "NULL tokens", c, NUC_EINVAL);
        c = base, c.rows = 0;
        expect_error(b, "rows 0", c, NUC_EINVAL);
        c = base, c.n = 0;
        expect_error(b, "n 0", c, NUC_EINVAL);
        c = base, c.stride = BN - 1;
        expect_error(b, "stride < n", c, NUC_EINVAL);
        c = base, c.n = c.stride = (size_t)INT32_MAX + 1, c.rows = 1;
        expect_error(b, "n 2^31", c, NUC_EINVAL);
        c = base, c.rows = SIZE_MAX / 8, c.n_params = 1;
        expect_error(b, "rows * stride overflows", c, NUC_EINVAL);
        c = base, c.stride = SIZE_MAX / 2;
        expect_error(b, "stride overflows", c, NUC_EINVAL);
        c = base, c.n_params = 0;
        expect_error(b, "n_params 0", c, NUC_EINVAL);
        c = base, c.n_params = 2;
        expect_error(b, "n_params neither 1 nor rows", c, NUC_EINVAL);
        c = base, c.threads = -1;
        expect_error(b, "threads -1", c, NUC_EINVAL);
        /* Parameters are checked before any row is read: a bad last row beats a NaN row 0. */
        per_row[BR - 1].top_k = -1;
        c = base, c.p = per_row, c.n_params = BR, c.n = c.stride = BN + 1;
        expect_error(b, "bad params of the last row, NaN in row 0", c, NUC_EINVAL);
        per_row[BR - 1] = ok;
        per_row[2].temperature = NAN;
        c = base, c.p = per_row, c.n_params = BR;
        expect_error(b, "NaN temperature in row 2", c, NUC_EINVAL);
        per_row[2] = ok;
        c = base, c.n = c.stride = BN + 1; /* pulls the NaN padding into every row */
        expect_error(b, "NaN padding read as logits", c, NUC_ENONFINITE);

        /* The handle's own edges. */
        int32_t t[BR];
        fill_tokens(t, BR);
        ck_assert_int_eq(nuc_batch_sample(NULL, x, BR, BN, BN + 1, &ok, 1, 1, NULL, 0, t),
                         NUC_EINVAL);
        nuc_batch *small = nuc_batch_new(BN - 1, 1);
        ck_assert_ptr_nonnull(small);
        ck_assert_int_eq(nuc_batch_sample(small, x, BR, BN, BN + 1, &ok, 1, 1, NULL, 0, t),
                         NUC_EINVAL);
        ck_assert_int_eq(nuc_batch_sample_draws(b, x, BR, BN, BN + 1, &ok, 1, NULL, t),
                         NUC_EINVAL);
        nuc_batch_free(small);
        for (size_t r = 0; r < BR; r++)
            ck_assert_int_eq(t[r], SENTINEL);
    }
    ck_assert_ptr_null(nuc_batch_new(0, 1));
    ck_assert_ptr_null(nuc_batch_new((size_t)INT32_MAX + 1, 1));
    ck_assert_ptr_null(nuc_batch_new(10, -1));
    ck_assert_int_eq(nuc_batch_threads(NULL), 0);
    ck_assert_uint_eq(nuc_batch_capacity(NULL), 0);
    nuc_batch_free(NULL);
    nuc_batch_free(b);
    free(x);
}
END_TEST

START_TEST(handle_properties)
{
    nuc_batch *b0 = nuc_batch_new(100, 0), *b3 = nuc_batch_new(100, 3);
    ck_assert_ptr_nonnull(b0);
    ck_assert_ptr_nonnull(b3);
    ck_assert_uint_eq(nuc_batch_capacity(b3), 100);
    ck_assert_int_ge(nuc_batch_threads(b0), 1);
#if NUC_TEST_OPENMP
    cpu_set_t cpus;
    ck_assert_int_eq(sched_getaffinity(0, sizeof cpus, &cpus), 0);
    const int procs = CPU_COUNT(&cpus);
    ck_assert_int_eq(nuc_batch_threads(b3), procs < 3 ? procs : 3);
    nuc_batch *many = nuc_batch_new(100, 100000); /* clamped, not 100000 samplers */
    ck_assert_ptr_nonnull(many);
    ck_assert_int_eq(nuc_batch_threads(many), procs);
    nuc_batch_free(many);
#else
    ck_assert_int_eq(nuc_batch_threads(b3), 1);
    ck_assert_int_eq(nuc_batch_threads(b0), 1);
#endif
    /* Growing and shrinking batches, and rows shorter than the capacity, on one handle. */
    nuc_sampler *s = nuc_sampler_new(100);
    float *x = make_rows(40, 100, 100, 8);
    nuc_params p = row_params[3];
    static const size_t sizes[] = {1, 40, 2, 17, 40, 3};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        const size_t rows = sizes[i], n = 100 - i * 7;
        int32_t got[40], want;
        ck_assert_int_eq(nuc_batch_sample(b3, x, rows, n, 100, &p, 1, i, NULL, i, got), NUC_OK);
        for (size_t r = 0; r < rows; r++) {
            ck_assert_int_eq(nuc_sample(s, x + r * 100, n, &p, i, r, i, &want), NUC_OK);
            ck_assert_int_eq(got[r], want);
        }
    }
    free(x);
    nuc_sampler_free(s);
    nuc_batch_free(b0);
    nuc_batch_free(b3);
}
END_TEST

/* An engine with several scheduler threads, each with its own handle (and one using the
 * one-shot call): the OpenMP teams of different callers must not interfere. */
enum { CR = 8, CN = 20000, CALLERS = 3, CALLS = 6 };
typedef struct caller {
    const float *x;
    const int32_t *want; /* CALLS x CR */
    int id, bad;
} caller;

static int caller_main(void *arg)
{
    caller *c = arg;
    nuc_batch *b = nuc_batch_new(CN, 2);
    if (!b)
        return c->bad = -1;
    const nuc_params p = row_params[1];
    for (int k = 0; k < CALLS; k++) {
        int32_t got[CR];
        int rc = c->id == 0 ? nuc_sample_batch(c->x, CR, CN, CN, &p, 1, 9, NULL, (uint64_t)k,
                                               got, 2)
                            : nuc_batch_sample(b, c->x, CR, CN, CN, &p, 1, 9, NULL, (uint64_t)k,
                                               got);
        if (rc != NUC_OK || memcmp(got, c->want + k * CR, sizeof got) != 0)
            c->bad++;
    }
    nuc_batch_free(b);
    return 0;
}

START_TEST(concurrent_callers)
{
    float *x = make_rows(CR, CN, CN, 21);
    const nuc_params p = row_params[1];
    int32_t want[CALLS * CR];
    for (int k = 0; k < CALLS; k++)
        ck_assert_int_eq(nuc_sample_batch(x, CR, CN, CN, &p, 1, 9, NULL, (uint64_t)k,
                                          want + k * CR, 1),
                         NUC_OK);
    thrd_t th[CALLERS];
    caller c[CALLERS];
    for (int i = 0; i < CALLERS; i++) {
        c[i] = (caller){x, want, i, 0};
        ck_assert_int_eq(thrd_create(&th[i], caller_main, &c[i]), thrd_success);
    }
    for (int i = 0; i < CALLERS; i++) {
        thrd_join(th[i], NULL);
        ck_assert_msg(c[i].bad == 0, "caller %d: %d bad calls", i, c[i].bad);
    }
    free(x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = ut_tcase("equals_single");
    tcase_add_test(tc, batch_equals_single_rows);
    tcase_add_test(tc, draws_per_row_and_regrouping);
    suite_add_tcase(s, tc);
    tc = ut_tcase("errors");
    tcase_add_test(tc, first_failing_row);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    tc = ut_tcase("handle");
    tcase_add_test(tc, handle_properties);
    tcase_add_test(tc, concurrent_callers);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
