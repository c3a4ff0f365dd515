/* The public API at its edges: SPEC's worked examples, every validation rule (exact code, output
 * untouched), the stage functions, the batch call, the kernel-set controls. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "gen.h"
#include "oracle.h"
#include "util.h"

/* Odd lengths so that SIMD kernels take their tail paths. */
#define CAP 64
#define LEN 37
#define TOKEN_SENTINEL (-777)
static const float float_sentinel = 1234.5f;

static nuc_params params(float t, int32_t k, float top_p, float min_p)
{
    nuc_params p = {t, k, top_p, min_p};
    return p;
}

static void fill(float *v, size_t n, float value)
{
    for (size_t i = 0; i < n; i++)
        v[i] = value;
}

static int all_equal(const float *v, size_t n, float value)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&v[i], &value, sizeof value) != 0)
            return 0;
    return 1;
}

/* ---- SPEC's worked examples ---------------------------------------------------------------- */

/* p = [0 .1 .2 .3 .4] as logits ln p; token 0 is masked. */
static void example_row(float x[5])
{
    x[0] = -INFINITY;
    for (int i = 1; i < 5; i++)
        x[i] = logf(0.1f * (float)i);
}

static void expect_q(const char *isa, const char *what, const float *q, const double *want,
                     size_t n, double tol)
{
    for (size_t i = 0; i < n; i++) {
        if (want[i] == 0.0)
            ck_assert_msg(q[i] == 0.0f, "[%s] %s: q[%zu] = %g, want exactly 0", isa, what, i,
                          (double)q[i]);
        else
            ck_assert_msg(fabs(q[i] - want[i]) <= tol * want[i],
                          "[%s] %s: q[%zu] = %.9g, want %.9g", isa, what, i, (double)q[i], want[i]);
    }
}

static int32_t sample_u(nuc_sampler *s, const float *x, size_t n, nuc_params p, double u)
{
    int32_t t = TOKEN_SENTINEL;
    ck_assert_int_eq(nuc_sample_u(s, x, n, &p, u, &t), NUC_OK);
    return t;
}

START_TEST(top_p_examples)
{
    nuc_sampler *s = nuc_sampler_new(CAP);
    ck_assert_ptr_nonnull(s);
    float x[5], q[5];
    example_row(x);
    UT_FOR_EACH_ISA(isa)
    {
        const char *name = nuc_isa_name(isa);
        /* Exclusive masses in rank order: 0, .4, .7, .9: top_p .25 keeps token 4 alone. */
        nuc_params p = params(1.0f, 0, 0.25f, 0.0f);
        ck_assert_int_eq(nuc_probs(s, x, 5, &p, q), NUC_OK);
        expect_q(name, "top_p 0.25", q, (double[]){0, 0, 0, 0, 1}, 5, 0.0);
        for (double u = 0.0; u < 1.0; u += 0.125)
            ck_assert_int_eq(sample_u(s, x, 5, p, u), 4);

        /* top_p .5 keeps 4 (exclusive 0) and 3 (exclusive .4): q = [0 0 0 3/7 4/7]. */
        p = params(1.0f, 0, 0.5f, 0.0f);
        ck_assert_int_eq(nuc_probs(s, x, 5, &p, q), NUC_OK);
        expect_q(name, "top_p 0.5", q, (double[]){0, 0, 0, 3.0 / 7, 4.0 / 7}, 5, 1e-6);
        /* Inverse CDF in token order: token 3 owns [0, 3/7), token 4 the rest. */
        ck_assert_int_eq(sample_u(s, x, 5, p, 0.0), 3);
        ck_assert_int_eq(sample_u(s, x, 5, p, 0.42), 3);
        ck_assert_int_eq(sample_u(s, x, 5, p, 0.43), 4);
        ck_assert_int_eq(sample_u(s, x, 5, p, 0x1.fffffffffffffp-1), 4);

        /* top-p sees the top-k survivors renormalised: after top-k 2, token 3's exclusive
         * mass is .4/.7 > .5, so it goes. */
        p = params(1.0f, 2, 0.5f, 0.0f);
        ck_assert_int_eq(nuc_probs(s, x, 5, &p, q), NUC_OK);
        expect_q(name, "top_k 2, top_p .5", q, (double[]){0, 0, 0, 0, 1}, 5, 0.0);
        /* After top-k 3 it is .4/.9 and stays; min-p .7 passes it too (.3/.4 = .75). */
        p = params(1.0f, 3, 0.5f, 0.7f);
        ck_assert_int_eq(nuc_probs(s, x, 5, &p, q), NUC_OK);
        expect_q(name, "top_k 3, top_p .5, min_p .7", q, (double[]){0, 0, 0, 3.0 / 7, 4.0 / 7}, 5,
                 1e-6);
        /* min-p .8 drops token 3. */
        p = params(1.0f, 0, 1.0f, 0.8f);
        ck_assert_int_eq(nuc_probs(s, x, 5, &p, q), NUC_OK);
        expect_q(name, "min_p .8", q, (double[]){0, 0, 0, 0, 1}, 5, 0.0);
    }
    nuc_sampler_free(s);
}
END_TEST

START_TEST(temperature_example)
{
    nuc_sampler *s = nuc_sampler_new(CAP);
    ck_assert_ptr_nonnull(s);
    float x[5], q[5], pi[5];
    example_row(x);
    /* exp(ln p / 2) = sqrt p. */
    double root[5], sum = 0.0;
    for (int i = 0; i < 5; i++)
        sum += root[i] = i == 0 ? 0.0 : sqrt(0.1 * i);
    for (int i = 0; i < 5; i++)
        root[i] /= sum;
    UT_FOR_EACH_ISA(isa)
    {
        nuc_params p = params(2.0f, 0, 1.0f, 0.0f);
        ck_assert_int_eq(nuc_probs(s, x, 5, &p, q), NUC_OK);
        expect_q(nuc_isa_name(isa), "nuc_probs T=2", q, root, 5, 1e-6);
        ck_assert_int_eq(nuc_softmax(x, 5, 2.0f, pi), NUC_OK);
        expect_q(nuc_isa_name(isa), "nuc_softmax T=2", pi, root, 5, 1e-6);
    }
    nuc_sampler_free(s);
}
END_TEST

/* Greedy: every T <= 0, whatever the filters and u, gives the first maximum. */
static void expect_greedy(nuc_sampler *s, const char *isa, const float *x, size_t n, size_t want)
{
    static const float temps[] = {0.0f, -0.0f, -1.0f, -INFINITY};
    float *q = ut_floats(n);
    for (size_t k = 0; k < 4; k++) {
        nuc_params p = params(temps[k], (int32_t)(k * 3), k ? 0.3f : 1.0f, k ? 0.5f : 0.0f);
        ck_assert_int_eq(nuc_probs(s, x, n, &p, q), NUC_OK);
        for (size_t i = 0; i < n; i++)
            UT_CHECK(q[i] == (i == want ? 1.0f : 0.0f), "[%s] T=%g n=%zu: q[%zu] = %g", isa,
                     (double)temps[k], n, i, (double)q[i]);
        for (double u = 0.0; u < 1.0; u += 0.25)
            ck_assert_int_eq(sample_u(s, x, n, p, u), (int32_t)want);
        int32_t t = TOKEN_SENTINEL;
        ck_assert_int_eq(nuc_sample(s, x, n, &p, 1, 2, 3, &t), NUC_OK);
        ck_assert_int_eq(t, (int32_t)want);
        ck_assert_int_eq(nuc_softmax(x, n, temps[k], q), NUC_OK);
        for (size_t i = 0; i < n; i++)
            UT_CHECK(q[i] == (i == want ? 1.0f : 0.0f), "[%s] softmax T=%g: q[%zu] = %g", isa,
                     (double)temps[k], i, (double)q[i]);
    }
    int32_t index = TOKEN_SENTINEL;
    ck_assert_int_eq(nuc_argmax(x, n, &index), NUC_OK);
    ck_assert_msg(index == (int32_t)want, "[%s] nuc_argmax n=%zu: %d, want %zu", isa, n, (int)index,
                  want);
    free(q);
}

START_TEST(greedy_first_max)
{
    nuc_sampler *s = nuc_sampler_new(1000);
    ck_assert_ptr_nonnull(s);
    float big[1000];
    UT_FOR_EACH_ISA(isa)
    {
        const char *name = nuc_isa_name(isa);
        expect_greedy(s, name, (float[]){1, 3, 2, 3}, 4, 1);
        expect_greedy(s, name, (float[]){-INFINITY, -0.0f, 0.0f}, 3, 1);
        expect_greedy(s, name, (float[]){0.0f, -0.0f}, 2, 0);
        expect_greedy(s, name, (float[]){-INFINITY, -INFINITY, 7.0f}, 3, 2);
        /* Ties far apart, across SIMD blocks and the 256-element summation blocks. */
        fill(big, 1000, -5.0f);
        big[999] = big[517] = 3.0f;
        big[64] = 3.0f;
        expect_greedy(s, name, big, 1000, 64);
        fill(big, 1000, -5.0f);
        big[517] = 0.0f;
        big[33] = -0.0f;
        expect_greedy(s, name, big, 1000, 33);
    }
    nuc_sampler_free(s);
}
END_TEST

/* ---- validation ------------------------------------------------------------------------- */

enum {
    E_PROBS = 1,
    E_SAMPLE_U = 2,
    E_SAMPLE = 4,
    E_ARGMAX = 8,
    E_SOFTMAX = 16,
    E_SAMPLER = E_PROBS | E_SAMPLE_U | E_SAMPLE,
    E_ALL = E_SAMPLER | E_ARGMAX | E_SOFTMAX
};

typedef struct call {
    nuc_sampler *s;
    const float *x;
    size_t n;
    const nuc_params *p;
    double u;
    int null_out;
} call;

/* Every entry point in 'entries' must return 'code' and leave its output as it was. */
static void expect_error(const char *isa, const char *what, const call *c, int code,
                         unsigned entries)
{
    float out[CAP + 1];
    int32_t t = TOKEN_SENTINEL;
    int rc;
    if (entries & E_PROBS) {
        fill(out, CAP + 1, float_sentinel);
        rc = nuc_probs(c->s, c->x, c->n, c->p, c->null_out ? NULL : out);
        ck_assert_msg(rc == code, "[%s] %s: nuc_probs = %d, want %d", isa, what, rc, code);
        ck_assert_msg(all_equal(out, CAP + 1, float_sentinel), "[%s] %s: nuc_probs wrote q", isa,
                      what);
    }
    if (entries & E_SAMPLE_U) {
        rc = nuc_sample_u(c->s, c->x, c->n, c->p, c->u, c->null_out ? NULL : &t);
        ck_assert_msg(rc == code, "[%s] %s: nuc_sample_u = %d, want %d", isa, what, rc, code);
        ck_assert_msg(t == TOKEN_SENTINEL, "[%s] %s: nuc_sample_u wrote a token", isa, what);
    }
    if (entries & E_SAMPLE) {
        rc = nuc_sample(c->s, c->x, c->n, c->p, 1, 2, 3, c->null_out ? NULL : &t);
        ck_assert_msg(rc == code, "[%s] %s: nuc_sample = %d, want %d", isa, what, rc, code);
        ck_assert_msg(t == TOKEN_SENTINEL, "[%s] %s: nuc_sample wrote a token", isa, what);
    }
    if (entries & E_ARGMAX) {
        rc = nuc_argmax(c->x, c->n, c->null_out ? NULL : &t);
        ck_assert_msg(rc == code, "[%s] %s: nuc_argmax = %d, want %d", isa, what, rc, code);
        ck_assert_msg(t == TOKEN_SENTINEL, "[%s] %s: nuc_argmax wrote an index", isa, what);
    }
    if (entries & E_SOFTMAX) {
        fill(out, CAP + 1, float_sentinel);
        float temp = c->p != NULL ? c->p->temperature : 1.0f;
        rc = nuc_softmax(c->x, c->n, temp, c->null_out ? NULL : out);
        ck_assert_msg(rc == code, "[%s] %s: nuc_softmax = %d, want %d", isa, what, rc, code);
        ck_assert_msg(all_equal(out, CAP + 1, float_sentinel), "[%s] %s: nuc_softmax wrote", isa,
                      what);
    }
}

/* One fault per case (SPEC 2.1), so exactly one code is right. */
START_TEST(bad_input)
{
    nuc_sampler *s = nuc_sampler_new(CAP);
    ck_assert_ptr_nonnull(s);
    float row[CAP + 1], bad[CAP + 1], copy[CAP + 1];
    gen_logits(GEN_PEAKED, CAP + 1, 5, row);
    memcpy(copy, row, sizeof row);
    nuc_params ok = params(1.0f, 0, 1.0f, 0.0f);
    const call base = {s, row, LEN, &ok, 0.5, 0};
    char what[128];

    UT_FOR_EACH_ISA(isa)
    {
        const char *name = nuc_isa_name(isa);
        call c = base;
        /* The control: the unmodified call succeeds everywhere, so each error below is caused
         * by its one fault. */
        float out[CAP];
        int32_t t;
        ck_assert_int_eq(nuc_probs(s, row, LEN, &ok, out), NUC_OK);
        ck_assert_int_eq(nuc_sample_u(s, row, LEN, &ok, 0.5, &t), NUC_OK);
        ck_assert_int_eq(nuc_sample(s, row, LEN, &ok, 1, 2, 3, &t), NUC_OK);
        ck_assert_int_eq(nuc_argmax(row, LEN, &t), NUC_OK);
        ck_assert_int_eq(nuc_softmax(row, LEN, 1.0f, out), NUC_OK);

        c = base, c.s = NULL;
        expect_error(name, "NULL sampler", &c, NUC_EINVAL, E_SAMPLER);
        c = base, c.x = NULL;
        expect_error(name, "NULL logits", &c, NUC_EINVAL, E_ALL);
        c = base, c.p = NULL;
        expect_error(name, "NULL params", &c, NUC_EINVAL, E_SAMPLER);
        c = base, c.null_out = 1;
        expect_error(name, "NULL output", &c, NUC_EINVAL, E_ALL);
        c = base, c.n = 0;
        expect_error(name, "n == 0", &c, NUC_EINVAL, E_ALL);
        c = base, c.n = CAP + 1;
        expect_error(name, "n > capacity", &c, NUC_EINVAL, E_SAMPLER);
        /* Must be refused before a single logit is read: the buffer is only CAP + 1 long. */
        c = base, c.n = (size_t)INT32_MAX + 1;
        expect_error(name, "n = 2^31", &c, NUC_EINVAL, E_ALL);
        c = base, c.n = SIZE_MAX;
        expect_error(name, "n = SIZE_MAX", &c, NUC_EINVAL, E_ALL);

        /* Non-finite logits at the head, inside and in the SIMD tail. */
        static const size_t where[] = {0, 17, LEN - 1};
        for (size_t k = 0; k < 3; k++) {
            memcpy(bad, row, sizeof row);
            c = base, c.x = bad;
            bad[where[k]] = NAN;
            snprintf(what, sizeof what, "NaN logit at %zu", where[k]);
            expect_error(name, what, &c, NUC_ENONFINITE, E_ALL);
            bad[where[k]] = INFINITY;
            snprintf(what, sizeof what, "+inf logit at %zu", where[k]);
            expect_error(name, what, &c, NUC_ENONFINITE, E_ALL);
            bad[where[k]] = -NAN;
            snprintf(what, sizeof what, "negative NaN logit at %zu", where[k]);
            expect_error(name, what, &c, NUC_ENONFINITE, E_ALL);
        }
        nuc_params greedy = params(0.0f, 0, 1.0f, 0.0f);
        c.p = &greedy; /* bad still holds a NaN */
        expect_error(name, "NaN logit, greedy", &c, NUC_ENONFINITE, E_SAMPLER);

        fill(bad, CAP + 1, -INFINITY);
        c = base, c.x = bad;
        expect_error(name, "every logit -inf", &c, NUC_EMASKED, E_ALL);
        c.p = &greedy;
        expect_error(name, "every logit -inf, greedy", &c, NUC_EMASKED, E_SAMPLER);

        const struct {
            const char *what;
            nuc_params p;
        } bad_params[] = {
            {"T NaN", params(NAN, 0, 1.0f, 0.0f)},
            {"T +inf", params(INFINITY, 0, 1.0f, 0.0f)},
            {"top_k -1", params(1.0f, -1, 1.0f, 0.0f)},
            {"top_k INT32_MIN", params(1.0f, INT32_MIN, 1.0f, 0.0f)},
            {"top_p NaN", params(1.0f, 0, NAN, 0.0f)},
            {"top_p < 0", params(1.0f, 0, -0.01f, 0.0f)},
            {"top_p > 1", params(1.0f, 0, 1.01f, 0.0f)},
            {"top_p just above 1", params(1.0f, 0, 0x1.000002p0f, 0.0f)},
            {"top_p +inf", params(1.0f, 0, INFINITY, 0.0f)},
            {"min_p NaN", params(1.0f, 0, 1.0f, NAN)},
            {"min_p < 0", params(1.0f, 0, 1.0f, -0.01f)},
            {"min_p > 1", params(1.0f, 0, 1.0f, 1.01f)},
            {"min_p -inf", params(1.0f, 0, 1.0f, -INFINITY)},
            /* Validation does not depend on the mode: greedy calls check the filters too. */
            {"top_k -1, greedy", params(0.0f, -1, 1.0f, 0.0f)},
            {"top_p NaN, greedy", params(0.0f, 0, NAN, 0.0f)},
        };
        for (size_t k = 0; k < sizeof bad_params / sizeof *bad_params; k++) {
            c = base, c.p = &bad_params[k].p;
            unsigned entries = E_SAMPLER;
            if (k < 2) /* nuc_softmax takes the temperature too */
                entries |= E_SOFTMAX;
            expect_error(name, bad_params[k].what, &c, NUC_EINVAL, entries);
        }

        static const double bad_u[] = {-0x1p-1074, -0.5, 1.0, 1.5, NAN, INFINITY, -INFINITY};
        for (size_t k = 0; k < sizeof bad_u / sizeof *bad_u; k++) {
            c = base, c.u = bad_u[k];
            snprintf(what, sizeof what, "u = %g", bad_u[k]);
            expect_error(name, what, &c, NUC_EINVAL, E_SAMPLE_U);
            c.p = &greedy;
            snprintf(what, sizeof what, "u = %g, greedy", bad_u[k]);
            expect_error(name, what, &c, NUC_EINVAL, E_SAMPLE_U);
        }
        ck_assert_msg(memcmp(row, copy, sizeof row) == 0, "[%s] the logits were modified", name);
    }
    nuc_sampler_free(s);
}
END_TEST

/* The edges of the valid domain are accepted. */
START_TEST(domain_edges_accepted)
{
    nuc_sampler *s = nuc_sampler_new(CAP);
    ck_assert_ptr_nonnull(s);
    float row[CAP], q[CAP];
    gen_logits(GEN_FLAT, CAP, 3, row);
    const nuc_params edge[] = {
        params(1.0f, 0, 0.0f, 0.0f),     params(1.0f, 0, 1.0f, 1.0f),
        params(1.0f, 0, -0.0f, -0.0f),   params(1.0f, INT32_MAX, 1.0f, 0.0f),
        params(FLT_MAX, 0, 1.0f, 0.0f),  params(FLT_TRUE_MIN, 0, 1.0f, 0.0f),
        params(-FLT_MAX, 0, 1.0f, 0.0f),
    };
    static const double us[] = {0.0, -0.0, 0x1.fffffffffffffp-1};
    UT_FOR_EACH_ISA(isa)
    {
        for (size_t k = 0; k < sizeof edge / sizeof *edge; k++) {
            ck_assert_msg(nuc_probs(s, row, CAP, &edge[k], q) == NUC_OK, "[%s] edge params %zu",
                          nuc_isa_name(isa), k);
            for (size_t j = 0; j < 3; j++) {
                int32_t t = sample_u(s, row, CAP, edge[k], us[j]);
                ck_assert_msg(t >= 0 && t < CAP && q[t] > 0.0f,
                              "[%s] edge params %zu u %g: token %d (q %g)", nuc_isa_name(isa), k,
                              us[j], (int)t, t >= 0 && t < CAP ? (double)q[t] : -1.0);
            }
        }
        /* A single token, and a single live token among masked ones. */
        float one = -3.0f;
        ck_assert_int_eq(sample_u(s, &one, 1, params(1.0f, 0, 0.5f, 0.5f), 0.7), 0);
        float masked[CAP];
        fill(masked, CAP, -INFINITY);
        masked[CAP - 1] = -1e30f;
        ck_assert_int_eq(sample_u(s, masked, CAP, params(1.0f, 0, 1.0f, 0.0f), 0.99), CAP - 1);
        ck_assert_int_eq(sample_u(s, masked, CAP, params(1.0f, 5, 0.0f, 1.0f), 0.0), CAP - 1);
    }
    nuc_sampler_free(s);
}
END_TEST

/* ---- the stage functions ---------------------------------------------------------------- */

/* One row under every kernel set: nuc_argmax is the first maximum, nuc_softmax sums to 1 and
 * matches the oracle's unfiltered softmax. */
static void check_stages(const float *x, size_t n, const char *row, const double *want[3],
                         float *pi)
{
    static const float temps[] = {0.05f, 1.0f, 2.0f};
    UT_FOR_EACH_ISA(isa)
    {
        const char *name = nuc_isa_name(isa);
        int32_t index = TOKEN_SENTINEL;
        ck_assert_int_eq(nuc_argmax(x, n, &index), NUC_OK);
        ck_assert_msg(index == (int32_t)oracle_first_max(x, n), "[%s] argmax %s: %d", name, row,
                      (int)index);
        for (size_t j = 0; j < 3; j++) {
            ck_assert_int_eq(nuc_softmax(x, n, temps[j], pi), NUC_OK);
            double sum = 0.0;
            for (size_t i = 0; i < n; i++) {
                sum += pi[i];
                UT_CHECK(ut_close(pi[i], want[j][i], 1e-5, 1e-9),
                         "[%s] softmax %s T=%g: pi[%zu] = %.9g, oracle %.9g", name, row,
                         (double)temps[j], i, (double)pi[i], want[j][i]);
            }
            ck_assert_msg(fabs(sum - 1.0) <= 1e-6, "[%s] softmax %s T=%g: sum %.12f", name, row,
                          (double)temps[j], sum);
        }
    }
}

START_TEST(argmax_and_softmax)
{
    /* Around the 16-lane and 256-element block sizes, and a real vocabulary. */
    static const size_t sizes[] = {1, 2, 15, 16, 17, 255, 256, 257, 1000, 4099, 128256};
    static const float temps[] = {0.05f, 1.0f, 2.0f};
    const size_t max_n = 128256;
    float *x = ut_floats(max_n), *pi = ut_floats(max_n);
    double *want[3];
    for (size_t j = 0; j < 3; j++)
        want[j] = ut_malloc(max_n * sizeof(double));
    for (int prof = 0; prof < GEN_COUNT; prof++) {
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            size_t n = sizes[k];
            char row[64];
            snprintf(row, sizeof row, "%s n=%zu", gen_name((gen_profile)prof), n);
            gen_logits((gen_profile)prof, n, 31 + k, x);
            for (size_t j = 0; j < 3; j++) {
                nuc_params all = params(temps[j], 0, 1.0f, 0.0f);
                ck_assert_int_eq(oracle_probs(x, n, &all, want[j], NULL), NUC_OK);
            }
            check_stages(x, n, row, (const double **)want, pi);
        }
    }
    free(x);
    free(pi);
    for (size_t j = 0; j < 3; j++)
        free(want[j]);
}
END_TEST

/* ---- the batch call ---------------------------------------------------------------------- */

#define ROWS 6
#define BN 300
#define STRIDE 307

/* Rows of different shapes, with NaN in the stride padding: a batch that reads past n fails. */
static float *batch_rows(void)
{
    float *x = ut_floats(ROWS * STRIDE);
    fill(x, ROWS * STRIDE, NAN);
    for (size_t r = 0; r < ROWS; r++)
        gen_logits((gen_profile)(r % GEN_COUNT), BN, 50 + r, x + r * STRIDE);
    return x;
}

START_TEST(batch_matches_single_rows)
{
    float *x = batch_rows(), *copy = ut_floats(ROWS * STRIDE);
    memcpy(copy, x, ROWS * STRIDE * sizeof(float));
    nuc_sampler *s = nuc_sampler_new(BN);
    ck_assert_ptr_nonnull(s);
    const nuc_params per_row[ROWS] = {
        params(1.0f, 0, 1.0f, 0.0f), params(0.7f, 40, 0.9f, 0.05f), params(0.0f, 0, 1.0f, 0.0f),
        params(2.0f, 0, 0.5f, 0.0f), params(1.0f, 1, 1.0f, 0.0f),   params(0.05f, 0, 0.95f, 0.1f),
    };
    const uint64_t streams[ROWS] = {100, 7, UINT64_C(1) << 40, 0, 5, UINT64_MAX};
    static const int threads[] = {1, 2, 0};
    UT_FOR_EACH_ISA(isa)
    {
        for (size_t np = 1; np <= ROWS; np += ROWS - 1) {
            for (int with_streams = 0; with_streams < 2; with_streams++) {
                for (size_t th = 0; th < 3; th++) {
                    for (uint64_t step = 0; step < 4; step++) {
                        int32_t tokens[ROWS];
                        for (size_t r = 0; r < ROWS; r++)
                            tokens[r] = TOKEN_SENTINEL;
                        int rc = nuc_sample_batch(x, ROWS, BN, STRIDE, per_row, np, 99,
                                                  with_streams ? streams : NULL, step, tokens,
                                                  threads[th]);
                        ck_assert_msg(rc == NUC_OK, "[%s] batch n_params %zu threads %d: %d",
                                      nuc_isa_name(isa), np, threads[th], rc);
                        for (size_t r = 0; r < ROWS; r++) {
                            int32_t t = TOKEN_SENTINEL;
                            uint64_t stream = with_streams ? streams[r] : r;
                            ck_assert_int_eq(nuc_sample(s, x + r * STRIDE, BN,
                                                        &per_row[np == 1 ? 0 : r], 99, stream, step,
                                                        &t),
                                             NUC_OK);
                            ck_assert_msg(tokens[r] == t,
                                          "[%s] batch row %zu (n_params %zu, streams %s, "
                                          "threads %d, step %llu): %d, nuc_sample %d",
                                          nuc_isa_name(isa), r, np, with_streams ? "given" : "NULL",
                                          threads[th], (unsigned long long)step, (int)tokens[r],
                                          (int)t);
                        }
                    }
                }
            }
        }
    }
    ck_assert(memcmp(x, copy, ROWS * STRIDE * sizeof(float)) == 0);
    nuc_sampler_free(s);
    free(copy);
    free(x);
}
END_TEST

/* Enough rows of a real vocabulary that a thread pool actually splits the work. */
START_TEST(batch_large_threaded)
{
    enum { R = 16, N = 32000 };
    float *x = ut_floats((size_t)R * N);
    for (size_t r = 0; r < R; r++)
        gen_logits(GEN_PEAKED, N, r, x + r * N);
    nuc_sampler *s = nuc_sampler_new(N);
    ck_assert_ptr_nonnull(s);
    nuc_params p = params(0.8f, 0, 0.95f, 0.0f);
    UT_FOR_EACH_ISA(isa)
    {
        int32_t tokens[R];
        ck_assert_int_eq(nuc_sample_batch(x, R, N, N, &p, 1, 5, NULL, 11, tokens, 4), NUC_OK);
        for (size_t r = 0; r < R; r++) {
            int32_t t;
            ck_assert_int_eq(nuc_sample(s, x + r * N, N, &p, 5, r, 11, &t), NUC_OK);
            ck_assert_msg(tokens[r] == t, "[%s] row %zu: batch %d, single %d", nuc_isa_name(isa), r,
                          (int)tokens[r], (int)t);
        }
    }
    nuc_sampler_free(s);
    free(x);
}
END_TEST

typedef struct batch_call {
    const float *x;
    size_t rows, n, stride;
    const nuc_params *p;
    size_t n_params;
    int null_tokens, threads;
} batch_call;

static void expect_batch_error(const char *isa, const char *what, batch_call c, int code)
{
    int32_t tokens[ROWS];
    for (size_t r = 0; r < ROWS; r++)
        tokens[r] = TOKEN_SENTINEL;
    int rc = nuc_sample_batch(c.x, c.rows, c.n, c.stride, c.p, c.n_params, 1, NULL, 0,
                              c.null_tokens ? NULL : tokens, c.threads);
    ck_assert_msg(rc == code, "[%s] batch, %s: %d, want %d", isa, what, rc, code);
    for (size_t r = 0; r < ROWS; r++)
        ck_assert_msg(tokens[r] == TOKEN_SENTINEL, "[%s] batch, %s: row %zu written", isa, what, r);
}

START_TEST(batch_bad_input)
{
    float *x = batch_rows();
    nuc_params ok = params(1.0f, 0, 1.0f, 0.0f);
    nuc_params per_row[ROWS];
    for (size_t r = 0; r < ROWS; r++)
        per_row[r] = ok;
    const batch_call base = {x, ROWS, BN, STRIDE, &ok, 1, 0, 1};
    UT_FOR_EACH_ISA(isa)
    {
        const char *name = nuc_isa_name(isa);
        batch_call c = base;
        int32_t tokens[ROWS];
        ck_assert_int_eq(nuc_sample_batch(x, ROWS, BN, STRIDE, &ok, 1, 1, NULL, 0, tokens, 1),
                         NUC_OK);
        c = base, c.x = NULL;
        expect_batch_error(name, "NULL logits", c, NUC_EINVAL);
        c = base, c.null_tokens = 1;
        expect_batch_error(name, "NULL tokens", c, NUC_EINVAL);
        c = base, c.p = NULL;
        expect_batch_error(name, "NULL params", c, NUC_EINVAL);
        c = base, c.n = 0;
        expect_batch_error(name, "n == 0", c, NUC_EINVAL);
        c = base, c.stride = BN - 1;
        expect_batch_error(name, "stride < n", c, NUC_EINVAL);
        c = base, c.n = c.stride = (size_t)INT32_MAX + 1, c.rows = 1;
        expect_batch_error(name, "n = 2^31", c, NUC_EINVAL);
        c = base, c.n_params = 2;
        expect_batch_error(name, "n_params neither 1 nor rows", c, NUC_EINVAL);
        c = base, c.n_params = 0;
        expect_batch_error(name, "n_params 0", c, NUC_EINVAL);
        c = base, c.threads = -1;
        expect_batch_error(name, "threads < 0", c, NUC_EINVAL);
        /* The padding is NaN: a stride equal to n + 1 pulls it into the rows. */
        c = base, c.n = BN + 1;
        expect_batch_error(name, "NaN in a row", c, NUC_ENONFINITE);
        per_row[3].top_p = 2.0f;
        c = base, c.p = per_row, c.n_params = ROWS;
        expect_batch_error(name, "bad params of row 3", c, NUC_EINVAL);
        per_row[3] = ok;
        float *masked = batch_rows();
        fill(masked + 4 * STRIDE, BN, -INFINITY);
        c = base, c.x = masked;
        expect_batch_error(name, "row 4 all -inf", c, NUC_EMASKED);
        free(masked);
    }
    free(x);
}
END_TEST

/* ---- sampler state, threads, constancy of the input --------------------------------------- */

/* A sampler's scratch must carry nothing from one call to the next. */
START_TEST(scratch_reuse)
{
    enum { N = 5000 };
    nuc_sampler *s = nuc_sampler_new(N);
    ck_assert_ptr_nonnull(s);
    float *a = ut_floats(N), *b = ut_floats(N), *qa = ut_floats(N), *qb = ut_floats(N);
    gen_logits(GEN_PEAKED, N, 1, a);
    gen_logits(GEN_TIES, N, 2, b);
    nuc_params p = params(0.9f, 40, 0.9f, 0.02f), p2 = params(1.5f, 3, 0.5f, 0.0f);
    UT_FOR_EACH_ISA(isa)
    {
        ck_assert_int_eq(nuc_probs(s, a, N, &p, qa), NUC_OK);
        ck_assert_int_eq(nuc_probs(s, b, N, &p2, qb), NUC_OK);
        ck_assert_int_eq(nuc_probs(s, b, 17, &p, qb), NUC_OK);
        ck_assert_int_eq(nuc_probs(s, a, N, &p, qb), NUC_OK);
        ck_assert_msg(memcmp(qa, qb, N * sizeof(float)) == 0, "[%s] results depend on history",
                      nuc_isa_name(isa));
    }
    free(a);
    free(b);
    free(qa);
    free(qb);
    nuc_sampler_free(s);
}
END_TEST

typedef struct job {
    const float *x;
    const float *want;
    size_t n;
    nuc_params p;
    int mismatches;
} job;

static int worker(void *arg)
{
    job *j = arg;
    nuc_sampler *s = nuc_sampler_new(j->n);
    float *q = malloc(j->n * sizeof(float));
    if (s == NULL || q == NULL) {
        j->mismatches = -1;
    } else {
        for (int k = 0; k < 100; k++) {
            int rc = nuc_probs(s, j->x, j->n, &j->p, q);
            j->mismatches += rc != NUC_OK || memcmp(q, j->want, j->n * sizeof(float)) != 0;
        }
    }
    free(q);
    nuc_sampler_free(s);
    return 0;
}

/* SPEC: safe from many threads with one sampler each, and thread count never changes bits. */
START_TEST(threads_one_sampler_each)
{
    enum { T = 4, N = 20000 };
    float *x = ut_floats(N), *want = ut_floats(N);
    gen_logits(GEN_FLAT3, N, 8, x);
    nuc_params p = params(1.0f, 0, 0.9f, 0.0f);
    nuc_sampler *s = nuc_sampler_new(N);
    ck_assert_ptr_nonnull(s);
    UT_FOR_EACH_ISA(isa)
    {
        ck_assert_int_eq(nuc_probs(s, x, N, &p, want), NUC_OK);
        job jobs[T];
        thrd_t th[T];
        for (int k = 0; k < T; k++) {
            jobs[k] = (job){x, want, N, p, 0};
            ck_assert_int_eq(thrd_create(&th[k], worker, &jobs[k]), thrd_success);
        }
        for (int k = 0; k < T; k++) {
            ck_assert_int_eq(thrd_join(th[k], NULL), thrd_success);
            ck_assert_msg(jobs[k].mismatches == 0, "[%s] thread %d: %d mismatching calls",
                          nuc_isa_name(isa), k, jobs[k].mismatches);
        }
    }
    nuc_sampler_free(s);
    free(x);
    free(want);
}
END_TEST

START_TEST(logits_never_modified)
{
    enum { N = 4099 };
    float *x = ut_floats(N), *copy = ut_floats(N), *q = ut_floats(N);
    nuc_sampler *s = nuc_sampler_new(N);
    ck_assert_ptr_nonnull(s);
    nuc_params p = params(0.7f, 40, 0.9f, 0.05f), greedy = params(0.0f, 0, 1.0f, 0.0f);
    UT_FOR_EACH_ISA(isa)
    {
        for (int prof = 0; prof < GEN_COUNT; prof++) {
            gen_logits((gen_profile)prof, N, 77, x);
            memcpy(copy, x, N * sizeof(float));
            int32_t t, tokens[1];
            ck_assert_int_eq(nuc_probs(s, x, N, &p, q), NUC_OK);
            ck_assert_int_eq(nuc_probs(s, x, N, &greedy, q), NUC_OK);
            ck_assert_int_eq(nuc_sample_u(s, x, N, &p, 0.3, &t), NUC_OK);
            ck_assert_int_eq(nuc_sample(s, x, N, &p, 1, 2, 3, &t), NUC_OK);
            ck_assert_int_eq(nuc_argmax(x, N, &t), NUC_OK);
            ck_assert_int_eq(nuc_softmax(x, N, 0.5f, q), NUC_OK);
            ck_assert_int_eq(nuc_sample_batch(x, 1, N, N, &p, 1, 1, NULL, 0, tokens, 1), NUC_OK);
            ck_assert_msg(memcmp(x, copy, N * sizeof(float)) == 0, "[%s] %s: logits modified",
                          nuc_isa_name(isa), gen_name((gen_profile)prof));
        }
    }
    nuc_sampler_free(s);
    free(x);
    free(copy);
    free(q);
}
END_TEST

/* ---- the small API ---------------------------------------------------------------------- */

/* Nothing here reaches a kernel today; it runs under every set anyway, like the rest, so that
 * a set that breaks global state (the first-use dispatch, say) shows up here too. */
static void strings_and_defaults_on(const char *isa)
{
    static const int codes[] = {NUC_OK,      NUC_EINVAL, NUC_ENONFINITE,
                                NUC_EMASKED, NUC_ENOMEM, NUC_EUNSUPPORTED};
    for (size_t k = 0; k < 6; k++) {
        const char *m = nuc_strerror(codes[k]);
        ck_assert_msg(m != NULL && m[0] != '\0', "[%s] nuc_strerror(%d) is empty", isa, codes[k]);
        for (size_t j = 0; j < k; j++)
            ck_assert_msg(strcmp(m, nuc_strerror(codes[j])) != 0,
                          "[%s] nuc_strerror(%d) and (%d) say the same", isa, codes[k], codes[j]);
    }
    ck_assert_str_eq(nuc_isa_name(NUC_ISA_SCALAR), "scalar");
    ck_assert_str_eq(nuc_isa_name(NUC_ISA_AVX2), "avx2");
    ck_assert_str_eq(nuc_isa_name(NUC_ISA_AVX512), "avx512");
    ck_assert_str_eq(nuc_isa_name(NUC_ISA_NEON), "neon");
    ck_assert_str_eq(nuc_version(), NUC_VERSION_STRING);
    nuc_params d = nuc_params_default();
    ck_assert(d.temperature == 1.0f && d.top_k == 0 && d.top_p == 1.0f && d.min_p == 0.0f);
    ck_assert_ptr_null(nuc_sampler_new(0));
    nuc_sampler *s = nuc_sampler_new(123);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(nuc_sampler_capacity(s), 123);
    nuc_sampler_free(s);
    nuc_sampler_free(NULL); /* like free(NULL) */
}

START_TEST(strings_and_defaults)
{
    UT_FOR_EACH_ISA(isa) strings_and_defaults_on(nuc_isa_name(isa));
}
END_TEST

START_TEST(isa_controls)
{
    ck_assert_msg(nuc_isa_supported(NUC_ISA_SCALAR), "the scalar kernels are always there");
    int supported = 0;
    for (nuc_isa isa = NUC_ISA_SCALAR; isa <= NUC_ISA_NEON; isa = (nuc_isa)(isa + 1)) {
        if (nuc_isa_supported(isa)) {
            supported++;
            ck_assert_int_eq(nuc_isa_force(isa), NUC_OK);
            ck_assert_msg(nuc_isa_active() == isa, "forcing %s did not take", nuc_isa_name(isa));
            continue;
        }
        nuc_isa before = nuc_isa_active();
        ck_assert_msg(nuc_isa_force(isa) == NUC_EUNSUPPORTED, "forcing unsupported %s did not fail",
                      nuc_isa_name(isa));
        ck_assert_msg(nuc_isa_active() == before, "a refused force changed the kernels");
    }
    nuc_isa before = nuc_isa_active();
    ck_assert(!nuc_isa_supported((nuc_isa)42));
    ck_assert_int_eq(nuc_isa_force((nuc_isa)42), NUC_EUNSUPPORTED);
    ck_assert(nuc_isa_active() == before);
    ck_assert_int_eq(ut_isa_count(), supported);
    printf("kernel sets here: %d (active after the loop: %s)\n", supported,
           nuc_isa_name(nuc_isa_active()));
#if defined(__x86_64__)
    ck_assert_msg(nuc_isa_supported(NUC_ISA_AVX2) || !__builtin_cpu_supports("avx2") ||
                      !__builtin_cpu_supports("fma"),
                  "this CPU has AVX2+FMA but the AVX2 kernels are not offered");
#endif
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api");
    TCase *tc = ut_tcase("examples");
    tcase_add_test(tc, top_p_examples);
    tcase_add_test(tc, temperature_example);
    tcase_add_test(tc, greedy_first_max);
    suite_add_tcase(s, tc);
    tc = ut_tcase("validation");
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, domain_edges_accepted);
    suite_add_tcase(s, tc);
    tc = ut_tcase("stages");
    tcase_add_test(tc, argmax_and_softmax);
    suite_add_tcase(s, tc);
    tc = ut_tcase("batch");
    tcase_add_test(tc, batch_matches_single_rows);
    tcase_add_test(tc, batch_large_threaded);
    tcase_add_test(tc, batch_bad_input);
    suite_add_tcase(s, tc);
    tc = ut_tcase("state");
    tcase_add_test(tc, scratch_reuse);
    tcase_add_test(tc, threads_one_sampler_each);
    tcase_add_test(tc, logits_never_modified);
    suite_add_tcase(s, tc);
    tc = ut_tcase("api");
    tcase_add_test(tc, strings_and_defaults);
    tcase_add_test(tc, isa_controls);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
