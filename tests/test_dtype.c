/* bf16 / fp16 logits equal converting first, and log-probabilities against the oracle. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "oracle.h"
#include "util.h"

/* The test's own narrowing (round to nearest even) and widening, independent of the library. */
static uint16_t to_bf16(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    if ((b & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((b >> 16) | 0x40); /* NaN stays NaN */
    b += 0x7fffu + ((b >> 16) & 1u);
    return (uint16_t)(b >> 16);
}

static float from_bf16(uint16_t h)
{
    const uint32_t b = (uint32_t)h << 16;
    float v;
    memcpy(&v, &b, sizeof v);
    return v;
}

/* Round to the nearest fp16 (ties to even) by scaling into its integer grid in double. */
static uint16_t to_f16(float v)
{
    const uint16_t sign = signbit(v) ? 0x8000 : 0;
    const double a = fabs((double)v);
    if (isnan(v))
        return 0x7e00;
    if (a >= 65520.0) /* rounds past the largest finite fp16 (65504) */
        return sign | 0x7c00;
    int e;
    frexp(a, &e);                 /* a = f * 2^e, f in [0.5, 1) */
    const int exp = e - 1 < -14 ? -14 : e - 1; /* subnormals share the exponent -14 */
    const double m = nearbyint(ldexp(a, 10 - exp)); /* the 11-bit significand, rounded */
    if (m == 0.0)
        return sign;
    if (m >= 2048.0) /* rounded up into the next binade */
        return sign | (uint16_t)((exp + 16) << 10);
    const uint16_t biased = m >= 1024.0 ? (uint16_t)(exp + 15) : 0;
    return sign | (uint16_t)(biased << 10) | (uint16_t)((uint32_t)m & 0x3ff);
}

static float from_f16(uint16_t b)
{
    const int e = (b >> 10) & 0x1f, m = b & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(1024 + m, e - 25);
    return (float)((b & 0x8000) ? -v : v);
}

static const size_t sizes[] = {1, 7, 255, 4095, 4096, 4097, 12289, 32000, 128256};
static const nuc_params params[] = {
    {1.0f, 0, 0.9f, 0.0f}, {0.8f, 40, 0.95f, 0.05f}, {0.0f, 0, 1.0f, 0.0f},
    {2.0f, 0, 1.0f, 0.0f}, {0.7f, 1, 1.0f, 0.0f},    {1.0f, 0, 1.0f, 0.05f},
};

/* One row in both 16-bit types: the typed calls must give the bits of the widened float row. */
static void check_typed(ut_fails *f, const char *isa, nuc_sampler *s, const float *x, size_t n)
{
    uint16_t *h = ut_malloc(n * sizeof *h);
    float *wide = ut_floats(n), *q = ut_floats(n), *qt = ut_floats(n);
    for (int dt = NUC_DTYPE_BF16; dt <= NUC_DTYPE_F16; dt++) {
        for (size_t i = 0; i < n; i++) {
            h[i] = dt == NUC_DTYPE_BF16 ? to_bf16(x[i]) : to_f16(x[i]);
            wide[i] = dt == NUC_DTYPE_BF16 ? from_bf16(h[i]) : from_f16(h[i]);
        }
        for (size_t k = 0; k < sizeof params / sizeof *params; k++) {
            const nuc_params *p = &params[k];
            const int rc = nuc_probs(s, wide, n, p, q);
            const int rct = nuc_probs_typed(s, h, (nuc_dtype)dt, n, p, qt);
            if (rc != rct || (rc == NUC_OK && memcmp(q, qt, n * sizeof *q) != 0))
                ut_fail(f, "[%s] dtype %d n %zu params %zu: probs differ (rc %d vs %d)", isa, dt,
                        n, k, rc, rct);
            for (double u = 0.05; u < 1.0; u += 0.3) {
                int32_t a = -1, b = -2;
                const int ra = nuc_sample_u(s, wide, n, p, u, &a);
                const int rb = nuc_sample_u_typed(s, h, (nuc_dtype)dt, n, p, u, &b);
                if (ra != rb || (ra == NUC_OK && a != b))
                    ut_fail(f, "[%s] dtype %d n %zu params %zu u %g: token %d vs %d", isa, dt,
                            n, k, u, a, b);
            }
        }
    }
    free(h);
    free(wide);
    free(q);
    free(qt);
}

START_TEST(typed_equals_converted)
{
    nuc_sampler *s = nuc_sampler_new(128256);
    float *x = ut_floats(128256);
    ut_fails f = {0};
    UT_FOR_EACH_ISA(isa)
    {
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
            for (int prof = 0; prof < GEN_COUNT; prof++) {
                if (ut_quick() && sizes[si] > 12289)
                    continue; /* NUC_TEST_QUICK: the chunk boundaries are all below */
                if (prof == GEN_HUGE)
                    continue; /* beyond bf16/fp16 range: covered below */
                gen_logits((gen_profile)prof, sizes[si], 7 + si, x);
                check_typed(&f, nuc_isa_name(isa), s, x, sizes[si]);
            }
    }
    UT_ASSERT_NO_FAILS(&f);
    nuc_sampler_free(s);
    free(x);
}
END_TEST

/* Special encodings: fp16 overflow to inf, subnormals, -0, NaN and inf in a late chunk. */
START_TEST(typed_special_values)
{
    enum { N = 9000 };
    nuc_sampler *s = nuc_sampler_new(N);
    uint16_t h[N];
    const nuc_params p = {1.0f, 0, 0.9f, 0.0f};
    int32_t tok = -7;
    UT_FOR_EACH_ISA(isa)
    {
        for (int dt = NUC_DTYPE_BF16; dt <= NUC_DTYPE_F16; dt++) {
            const uint16_t ninf = dt == NUC_DTYPE_BF16 ? 0xff80 : 0xfc00;
            const uint16_t pinf = dt == NUC_DTYPE_BF16 ? 0x7f80 : 0x7c00;
            const uint16_t nan = dt == NUC_DTYPE_BF16 ? 0x7fc1 : 0x7e01;
            for (size_t i = 0; i < N; i++)
                h[i] = ninf;
            ck_assert_int_eq(nuc_sample_u_typed(s, h, (nuc_dtype)dt, N, &p, 0.5, &tok),
                             NUC_EMASKED);
            h[8999] = 0x0001; /* the smallest subnormal, alone in the last chunk */
            ck_assert_int_eq(nuc_sample_u_typed(s, h, (nuc_dtype)dt, N, &p, 0.5, &tok), NUC_OK);
            ck_assert_msg(tok == 8999, "[%s] dtype %d: token %d", nuc_isa_name(isa), dt, tok);
            h[5000] = 0x8000; /* -0 beats the subnormal? no: 0x0001 > -0 */
            ck_assert_int_eq(nuc_sample_u_typed(s, h, (nuc_dtype)dt, N, &p, 0.5, &tok), NUC_OK);
            ck_assert_int_eq(tok, 8999);
            h[4500] = nan;
            tok = -7;
            ck_assert_int_eq(nuc_sample_u_typed(s, h, (nuc_dtype)dt, N, &p, 0.5, &tok),
                             NUC_ENONFINITE);
            ck_assert_int_eq(tok, -7);
            h[4500] = pinf;
            ck_assert_int_eq(nuc_sample_u_typed(s, h, (nuc_dtype)dt, N, &p, 0.5, &tok),
                             NUC_ENONFINITE);
            ck_assert_int_eq(nuc_sample_u_typed(s, h, (nuc_dtype)7, N, &p, 0.5, &tok),
                             NUC_EINVAL);
        }
    }
    nuc_sampler_free(s);
}
END_TEST

/* log pi against the oracle's unfiltered softmax, and the top list in the oracle's rank order
 * (a swap of two tokens whose probabilities agree to 1e-6 is excused). */
static void check_logprobs(ut_fails *f, const char *isa, nuc_sampler *s, const float *x,
                           size_t n, const nuc_params *p, int n_top, double *pi)
{
    const nuc_params plain = {p->temperature > 0.0f ? p->temperature : 1.0f, 0, 1.0f, 0.0f};
    ck_assert_int_eq(oracle_probs(x, n, &plain, pi, NULL), NUC_OK);
    const double u = 0.37;
    int32_t tok = -1, ref = -2;
    nuc_logprobs lp;
    ck_assert_int_eq(nuc_sample_logprobs(s, x, NUC_DTYPE_F32, n, p, u, n_top, &tok, &lp), NUC_OK);
    ck_assert_int_eq(nuc_sample_u(s, x, n, p, u, &ref), NUC_OK);
    if (tok != ref)
        ut_fail(f, "[%s] n %zu: logprobs token %d, nuc_sample_u %d", isa, n, tok, ref);
    if (!ut_close(lp.token_logprob, log(pi[tok]), 0.0, 1e-5))
        ut_fail(f, "[%s] n %zu T %g: token logprob %.8g, oracle %.8g", isa, n, p->temperature,
                lp.token_logprob, log(pi[tok]));
    int expect = 0; /* tokens the library can list: weight above exp(-87) of the max */
    double pmax = 0.0;
    for (size_t i = 0; i < n; i++)
        pmax = pi[i] > pmax ? pi[i] : pmax;
    for (size_t i = 0; i < n && expect < n_top; i++)
        expect += pi[i] >= pmax * exp(-86.9);
    if (lp.n_top != expect)
        ut_fail(f, "[%s] n %zu: %d top entries, want %d", isa, n, lp.n_top, expect);
    for (int j = 0; j < lp.n_top; j++) {
        const int32_t id = lp.top_ids[j];
        if (id < 0 || (size_t)id >= n) {
            ut_fail(f, "[%s] top id %d out of range", isa, id);
            return;
        }
        if (!ut_close(lp.top_logprobs[j], log(pi[id]), 0.0, 1e-5))
            ut_fail(f, "[%s] n %zu top %d: logprob %.8g, oracle %.8g", isa, n, j,
                    lp.top_logprobs[j], log(pi[id]));
        /* rank: no token outside the list ranks before it, none inside after it */
        size_t better = 0;
        for (size_t i = 0; i < n; i++)
            better += pi[i] > pi[id] * (1 + 1e-6) || (pi[i] == pi[id] && (int32_t)i < id);
        if (better > (size_t)j)
            ut_fail(f, "[%s] n %zu: top %d is token %d but %zu tokens rank before it", isa, n, j,
                    id, better);
        if (j > 0 && pi[lp.top_ids[j - 1]] < pi[id] * (1 - 1e-6))
            ut_fail(f, "[%s] n %zu: top list out of order at %d", isa, n, j);
    }
}

START_TEST(logprobs_against_oracle)
{
    static const size_t lp_sizes[] = {1, 5, 30, 300, 32000, 128256};
    static const int tops[] = {0, 1, 5, 20};
    nuc_sampler *s = nuc_sampler_new(128256);
    float *x = ut_floats(128256);
    double *pi = ut_malloc(128256 * sizeof *pi);
    ut_fails f = {0};
    UT_FOR_EACH_ISA(isa)
    {
        for (size_t si = 0; si < sizeof lp_sizes / sizeof *lp_sizes; si++)
            for (int prof = 0; prof < GEN_COUNT; prof++) {
                if (ut_quick() && lp_sizes[si] > 32000)
                    continue;
                gen_logits((gen_profile)prof, lp_sizes[si], 11 + si, x);
                for (size_t k = 0; k < sizeof params / sizeof *params; k++)
                    check_logprobs(&f, nuc_isa_name(isa), s, x, lp_sizes[si], &params[k],
                                   tops[(si + k) % 4], pi);
            }
    }
    UT_ASSERT_NO_FAILS(&f);
    int32_t tok = -3;
    nuc_logprobs lp;
    memset(&lp, 0x5a, sizeof lp);
    const nuc_logprobs before = lp;
    ck_assert_int_eq(nuc_sample_logprobs(s, x, NUC_DTYPE_F32, 30, &params[0], 0.5, 21, &tok, &lp),
                     NUC_EINVAL);
    ck_assert_int_eq(nuc_sample_logprobs(s, x, NUC_DTYPE_F32, 30, &params[0], 0.5, -1, &tok, &lp),
                     NUC_EINVAL);
    ck_assert_int_eq(nuc_sample_logprobs(s, x, NUC_DTYPE_F32, 30, &params[0], 1.0, 3, &tok, &lp),
                     NUC_EINVAL);
    ck_assert_int_eq(nuc_sample_logprobs(s, x, NUC_DTYPE_F32, 30, &params[0], 0.5, 3, &tok, NULL),
                     NUC_EINVAL);
    ck_assert_int_eq(tok, -3);
    ck_assert(memcmp(&lp, &before, sizeof lp) == 0);
    nuc_sampler_free(s);
    free(x);
    free(pi);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dtype");
    TCase *tc = ut_tcase("typed");
    tcase_add_test(tc, typed_equals_converted);
    tcase_add_test(tc, typed_special_values);
    tcase_add_test(tc, logprobs_against_oracle);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
