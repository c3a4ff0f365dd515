/* Goodness of fit: nuc_sample's draws follow nuc_probs, and nuc_uniform is uniform. Seeds are
 * fixed, so a pass or a failure reproduces exactly; the threshold p < 1e-6 keeps a correct
 * library's false-alarm odds negligible while a wrong filter or an off-by-one in the
 * inverse CDF (a 1/50 shift of mass) fails by hundreds of standard deviations. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "util.h"

#define P_MIN 1e-6
/* Draws for the default kernels and for each other set; NUC_TEST_QUICK (qemu, valgrind) takes
 * a tenth, which still resolves a 2% shift of mass (checked below). */
static long big_draws(void) { return ut_quick() ? 100000 : 1000000; }
static long small_draws(void) { return big_draws() / 10; }

/* Q(a, x), the regularized upper incomplete gamma function: the series for P below a + 1,
 * Lentz's continued fraction for Q above it, where tiny p-values need Q directly. */
static double gamma_q(double a, double x)
{
    if (x <= 0.0)
        return 1.0;
    double front = exp(-x + a * log(x) - lgamma(a));
    if (x < a + 1.0) {
        double term = 1.0 / a, sum = term;
        for (int k = 1; k < 10000 && term > sum * 1e-16; k++) {
            term *= x / (a + k);
            sum += term;
        }
        return 1.0 - sum * front;
    }
    const double tiny = 1e-300;
    double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
    for (int k = 1; k < 10000; k++) {
        double an = -k * (k - a);
        b += 2.0;
        d = an * d + b;
        d = fabs(d) < tiny ? tiny : d;
        c = b + an / c;
        c = fabs(c) < tiny ? tiny : c;
        d = 1.0 / d;
        double delta = d * c;
        h *= delta;
        if (fabs(delta - 1.0) < 1e-16)
            break;
    }
    return front * h;
}

/* The chi-square survival function: P(X >= chi2) for df degrees of freedom. */
static double chi2_sf(double chi2, double df) { return gamma_q(df / 2.0, chi2 / 2.0); }

/* Pearson's statistic and its p-value; *dof gets the degrees of freedom. Bins expecting fewer
 * than 5 are pooled so that the chi-square approximation holds, and a pool still under 5 joins
 * the largest bin. */
static double chi2_pvalue(const long *observed, const double *expected, size_t bins, int *dof)
{
    double pool_o = 0.0, pool_e = 0.0;
    size_t big = 0;
    for (size_t i = 0; i < bins; i++) {
        if (expected[i] < 5.0) {
            pool_o += (double)observed[i];
            pool_e += expected[i];
        }
        big = expected[i] > expected[big] ? i : big;
    }
    int alone = pool_e >= 5.0, used = alone;
    double chi2 = alone ? (pool_o - pool_e) * (pool_o - pool_e) / pool_e : 0.0;
    for (size_t i = 0; i < bins; i++) {
        if (expected[i] < 5.0)
            continue;
        double o = (double)observed[i], e = expected[i];
        if (!alone && i == big) {
            o += pool_o;
            e += pool_e;
        }
        chi2 += (o - e) * (o - e) / e;
        used++;
    }
    *dof = used - 1;
    return used > 1 ? chi2_sf(chi2, used - 1) : 1.0;
}

START_TEST(chi2_function)
{
    /* Table values: the 5%, 1% and 1e-6 points. */
    ck_assert(fabs(chi2_sf(3.841458820694124, 1) - 0.05) < 1e-9);
    ck_assert(fabs(chi2_sf(23.20925115650049, 10) - 0.01) < 1e-9);
    ck_assert(fabs(chi2_sf(111.135905300675, 49) / 1e-6 - 1.0) < 1e-6);
    ck_assert(fabs(chi2_sf(49.0, 49) - 0.473128295654765) < 1e-9);
    ck_assert(fabs(chi2_sf(300.0, 100) / 7.41210085732288e-22 - 1.0) < 1e-6);
    ck_assert(chi2_sf(0.0, 5) == 1.0);
}
END_TEST

/* Rows whose filters leave a few dozen tokens, each bin seeing thousands of draws. The row
 * length hardly matters to the statistics; a short one keeps 10^6 calls fast. */
#define ROW 512
typedef struct config {
    const char *name;
    gen_profile profile;
    nuc_params p;
} config;

static const config configs[] = {
    {"flat, top-k 50", GEN_FLAT, {1.0f, 50, 1.0f, 0.0f}},
    {"zipf, top-p 0.8 + min-p", GEN_ZIPF, {1.0f, 0, 0.8f, 0.012f}},
    {"peaked, T 3, top-k 40 + min-p", GEN_PEAKED, {3.0f, 40, 0.99f, 0.01f}},
};

typedef struct fit {
    double p, p_perturbed;
    int dof;
    size_t kept;
    long outside; /* draws of tokens that nuc_probs gives zero */
} fit;

/* The test's power: moving 2% of the mass between the two largest bins must fail it. */
static void perturb(double *expected, size_t bins, double draws)
{
    size_t a = 0, b = 1;
    for (size_t i = 0; i < bins; i++)
        a = expected[i] > expected[a] ? i : a;
    b = a == 0 ? 1 : 0;
    for (size_t i = 0; i < bins; i++)
        b = i != a && expected[i] > expected[b] ? i : b;
    expected[a] -= 0.02 * draws;
    expected[b] += 0.02 * draws;
}

static fit draw_and_fit(nuc_sampler *s, const config *c, long draws, uint64_t seed)
{
    float x[ROW], q[ROW];
    long counts[ROW] = {0}, obs[ROW];
    double expected[ROW];
    fit f = {0};
    gen_logits(c->profile, ROW, 2024, x);
    ck_assert_int_eq(nuc_probs(s, x, ROW, &c->p, q), NUC_OK);
    for (long k = 0; k < draws; k++) {
        int32_t t = -1;
        int rc = nuc_sample(s, x, ROW, &c->p, seed, 0, (uint64_t)k, &t);
        UT_CHECK(rc == NUC_OK && t >= 0 && t < ROW, "%s: draw %ld: rc %d, token %d", c->name, k, rc,
                 (int)t);
        counts[t]++;
    }
    size_t bins = 0;
    for (size_t i = 0; i < ROW; i++) {
        if (q[i] > 0.0f) {
            obs[bins] = counts[i];
            expected[bins++] = (double)q[i] * (double)draws;
        } else {
            f.outside += counts[i];
        }
    }
    f.kept = bins;
    f.p = chi2_pvalue(obs, expected, bins, &f.dof);
    int dof;
    perturb(expected, bins, (double)draws);
    f.p_perturbed = chi2_pvalue(obs, expected, bins, &dof);
    return f;
}

/* power: also require that moving 2% of the mass is detected, which needs >= 10^5 draws. */
static void expect_fit(nuc_sampler *s, const char *isa, long draws, int power)
{
    for (size_t k = 0; k < sizeof configs / sizeof *configs; k++) {
        fit f = draw_and_fit(s, &configs[k], draws, 0x5eed + k);
        printf("[%s] %s: %ld draws, %zu tokens kept, chi2 dof %d, p = %.3g (%.3g with 2%% of "
               "the mass moved)\n",
               isa, configs[k].name, draws, f.kept, f.dof, f.p, f.p_perturbed);
        fflush(stdout); /* a failing check ends this forked child without flushing */
        ck_assert_msg(f.kept >= 20 && f.kept <= 120, "[%s] %s: %zu tokens kept, not a few dozen",
                      isa, configs[k].name, f.kept);
        ck_assert_msg(f.outside == 0, "[%s] %s: %ld draws of tokens with q = 0", isa,
                      configs[k].name, f.outside);
        ck_assert_msg(f.p >= P_MIN, "[%s] %s: draws do not follow nuc_probs (p = %g)", isa,
                      configs[k].name, f.p);
        ck_assert_msg(!power || f.p_perturbed < P_MIN,
                      "[%s] %s: a 2%% mass shift went unnoticed (p = %g)", isa, configs[k].name,
                      f.p_perturbed);
    }
}

/* The big run on the kernels a user gets by default; every other set gets a tenth. */
START_TEST(draws_follow_probs)
{
    nuc_sampler *s = nuc_sampler_new(ROW);
    ck_assert_ptr_nonnull(s);
    nuc_isa active = nuc_isa_active();
    expect_fit(s, nuc_isa_name(active), big_draws(), 1);
    UT_FOR_EACH_ISA(isa)
    {
        if (isa != active)
            expect_fit(s, nuc_isa_name(isa), small_draws(), 0);
    }
    nuc_sampler_free(s);
}
END_TEST

/* nuc_uniform along the step axis and along the stream axis, in 1000 equal bins. */
START_TEST(uniform_is_uniform)
{
    enum { BINS = 1000 };
    const long draws = big_draws();
    UT_FOR_EACH_ISA(isa)
    {
        for (int axis = 0; axis < 2; axis++) {
            static long counts[BINS];
            double expected[BINS];
            memset(counts, 0, sizeof counts);
            for (uint64_t k = 0; k < (uint64_t)draws; k++) {
                double u = axis == 0 ? nuc_uniform(42, 7, k) : nuc_uniform(42, k, 7);
                counts[(size_t)(u * BINS)]++;
            }
            for (int b = 0; b < BINS; b++)
                expected[b] = (double)draws / BINS;
            int dof;
            double p = chi2_pvalue(counts, expected, BINS, &dof);
            ck_assert_msg(p >= P_MIN, "[%s] nuc_uniform along the %s axis: p = %g",
                          nuc_isa_name(isa), axis == 0 ? "step" : "stream", p);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = ut_tcase("stats");
    tcase_add_test(tc, chi2_function);
    tcase_add_test(tc, uniform_is_uniform);
    tcase_add_test(tc, draws_follow_probs);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
