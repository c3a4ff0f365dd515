/* nuc_probs and nuc_sample_u against the double-precision oracle, on every kernel set, plus the
 * cross-ISA bit-identity promise (SPEC section 3).
 *
 * Each row is generated once, the oracle answers every parameter set of the row once, and then
 * each kernel set runs all of them: forcing a kernel set is cheap to ask for but not free (it
 * re-reads CPUID), and the oracle's sort dominates on large rows. NUC_TEST_QUICK=1 (valgrind,
 * qemu) thins the lengths and drops the two largest vocabularies. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "oracle.h"
#include "util.h"

#define MAX_N 262144
#define MAX_U 7
/* The share of cases a rounding margin may excuse before the sweep stops proving much. */
#define MAX_EXCUSED_SHARE 0.05

static const size_t large_sizes[] = {32000, 128256, 151936, 262144};

/* The grid of SPEC-relevant parameters; greedy gets two entries since T <= 0 ignores the rest. */
static const float temps[] = {0.05f, 0.7f, 1.0f, 2.0f};
static const int32_t top_ks[] = {0, 1, 40};
static const float top_ps[] = {0.0f, 0.5f, 0.9f, 1.0f};
static const float min_ps[] = {0.0f, 0.05f};
#define N_SAMPLED_COMBOS (4 * 3 * 4 * 2)
#define N_COMBOS (N_SAMPLED_COMBOS + 2)

static nuc_params combo(size_t c)
{
    if (c >= N_SAMPLED_COMBOS)
        return c == N_SAMPLED_COMBOS ? (nuc_params){0.0f, 0, 1.0f, 0.0f}
                                     : (nuc_params){0.0f, 40, 0.5f, 0.05f};
    nuc_params p = {temps[c / 24], top_ks[c / 8 % 3], top_ps[c / 2 % 4], min_ps[c % 2]};
    return p;
}

typedef struct counts {
    long probs, probs_excused, probs_excused_differ;
    long samples, samples_excused, samples_excused_differ;
    long by_top_p, by_min_p, by_rank, by_u[MAX_U];
} counts;

/* One parameter set on the current row: the oracle's answers, then what the kernel sets did. */
typedef struct expect {
    nuc_params p;
    char params[80];
    oracle_diag d;
    int excused;            /* a filter decision lies within a rounding margin */
    double *want;           /* the oracle's q */
    unsigned char *lo, *hi; /* the margin bounds of the kept set (excused cases only) */
    double *pi, pi_max;     /* the unfiltered softmax (excused cases only) */
    size_t nus;
    double us[MAX_U];
    int32_t want_t[MAX_U];
    int near[MAX_U];
    uint64_t hash; /* of the first kernel set's q and tokens */
    const char *hash_isa;
    int q_same, t_same[MAX_U]; /* over every kernel set */
} expect;

typedef struct sweep {
    nuc_sampler *s;
    ut_fails fails;
    counts c;
    float *x, *copy, *q;
    char row[96];
    size_t n;
    expect e[N_COMBOS];
    size_t ne;
} sweep;

static void sweep_init(sweep *sw)
{
    memset(sw, 0, sizeof *sw);
    sw->s = nuc_sampler_new(MAX_N);
    ck_assert_ptr_nonnull(sw->s);
    sw->x = ut_floats(MAX_N);
    sw->copy = ut_floats(MAX_N);
    sw->q = ut_floats(MAX_N);
}

static void sweep_free(sweep *sw)
{
    nuc_sampler_free(sw->s);
    free(sw->x);
    free(sw->copy);
    free(sw->q);
}

/* Fixed probes plus two per-case draws: 0 and the largest double below 1 exercise the ends of
 * the inverse CDF; the interior probes are irrational so that they never coincide with the
 * exact dyadic prefix sums of tied rows. */
static size_t pick_us(uint64_t salt, double *us)
{
    size_t k = 0;
    us[k++] = 0.0;
    us[k++] = 0.31830988618379067; /* 1/pi */
    us[k++] = 0.6180339887498949;  /* (sqrt 5 - 1)/2 */
    us[k++] = 0.9999;
    us[k++] = 0x1.fffffffffffffp-1;
    us[k++] = nuc_uniform(0x0dd5, salt, 0);
    us[k++] = nuc_uniform(0x0dd5, salt, 1);
    return k;
}

/* The oracle's side of one case. */
static void expect_add(sweep *sw, const nuc_params *p, uint64_t salt)
{
    ck_assert_uint_lt(sw->ne, N_COMBOS);
    expect *e = &sw->e[sw->ne++];
    size_t n = sw->n;
    memset(e, 0, sizeof *e);
    e->p = *p;
    snprintf(e->params, sizeof e->params, "T=%g top_k=%d top_p=%g min_p=%g", (double)p->temperature,
             (int)p->top_k, (double)p->top_p, (double)p->min_p);
    e->want = ut_malloc(n * sizeof(double));
    UT_CHECK(oracle_probs(sw->x, n, p, e->want, &e->d) == NUC_OK, "oracle refused %s", sw->row);
    e->excused = e->d.near_top_p || e->d.near_min_p || e->d.near_rank;
    if (e->excused) {
        e->lo = ut_malloc(n);
        e->hi = ut_malloc(n);
        UT_CHECK(oracle_kept_bounds(sw->x, n, p, e->lo, e->hi) == NUC_OK, "oracle bounds");
        /* The unfiltered softmax: whatever kept set K the margins allow, q must be pi
         * renormalised over K. */
        nuc_params all = {p->temperature, 0, 1.0f, 0.0f};
        e->pi = ut_malloc(n * sizeof(double));
        UT_CHECK(oracle_probs(sw->x, n, &all, e->pi, NULL) == NUC_OK, "oracle refused a row");
        for (size_t i = 0; i < n; i++)
            e->pi_max = fmax(e->pi_max, e->pi[i]);
    }
    e->nus = pick_us(salt, e->us);
    for (size_t k = 0; k < e->nus; k++)
        UT_CHECK(oracle_sample_q(e->want, n, e->us[k], &e->want_t[k], &e->near[k]) == NUC_OK,
                 "oracle_sample_q refused %s", sw->row);
    e->q_same = 1;
    for (size_t k = 0; k < e->nus; k++)
        e->t_same[k] = 1;
}

static void expect_free(expect *e)
{
    free(e->want);
    free(e->lo);
    free(e->hi);
    free(e->pi);
}

/* q against the oracle where every filter decision is certain. Returns 1 if it matched. */
static int check_q_exact(sweep *sw, const expect *e, const char *isa)
{
    for (size_t i = 0; i < sw->n; i++) {
        double want = e->want[i];
        float got = sw->q[i];
        int ok = want == 0.0 ? got == 0.0f && !signbit(got) : ut_close(got, want, 1e-5, 1e-9);
        if (!ok) {
            ut_fail(&sw->fails, "[%s] %s %s: q[%zu] = %.9g, oracle %.9g", isa, sw->row, e->params,
                    i, (double)got, want);
            return 0;
        }
    }
    return 1;
}

/* Where a margin excuses the exact kept set: the library's set K must lie between the margin
 * bounds (unless ranks are ambiguous) and q must be pi renormalised over K. Returns 1 if q
 * also equals the oracle's, 0 otherwise (or on a failure). */
static int check_q_excused(sweep *sw, const expect *e, const char *isa)
{
    double pk = 0.0;
    int same = 1;
    for (size_t i = 0; i < sw->n; i++) {
        float got = sw->q[i];
        if (!(got >= 0.0f)) {
            ut_fail(&sw->fails, "[%s] %s %s: q[%zu] = %g", isa, sw->row, e->params, i, (double)got);
            return 0;
        }
        if (got > 0.0f)
            pk += e->pi[i];
        same &= e->want[i] == 0.0 ? got == 0.0f : ut_close(got, e->want[i], 1e-5, 1e-9);
        if (e->d.near_rank)
            continue;
        /* The library flushes weights below exp(-87) of the max; only heavier tokens that
         * every admissible answer keeps must show up. */
        int must_keep = e->lo[i] && e->pi[i] > 1e-30 * e->pi_max;
        if ((!e->hi[i] && got != 0.0f) || (must_keep && got == 0.0f)) {
            ut_fail(&sw->fails,
                    "[%s] %s %s: q[%zu] = %.9g outside the margin bounds (lo %d hi %d, "
                    "oracle %.9g)",
                    isa, sw->row, e->params, i, (double)got, e->lo[i], e->hi[i], e->want[i]);
            return 0;
        }
    }
    if (!(pk > 0.0)) {
        ut_fail(&sw->fails, "[%s] %s %s: nothing kept", isa, sw->row, e->params);
        return 0;
    }
    for (size_t i = 0; i < sw->n; i++) {
        if (sw->q[i] > 0.0f && !ut_close(sw->q[i], e->pi[i] / pk, 1e-5, 1e-9)) {
            ut_fail(&sw->fails, "[%s] %s %s: q[%zu] = %.9g, but pi/sum over its kept set = %.9g",
                    isa, sw->row, e->params, i, (double)sw->q[i], e->pi[i] / pk);
            return 0;
        }
    }
    return same;
}

/* Whatever the margins: the token must carry weight in nuc_probs' own output, and u must fall
 * in its prefix-sum interval there, up to the spec's q tolerance plus the sampling margin. */
static int check_token_self(sweep *sw, const expect *e, const char *isa, double u, int32_t t)
{
    if (t < 0 || (size_t)t >= sw->n || !(sw->q[t] > 0.0f)) {
        ut_fail(&sw->fails, "[%s] %s %s u=%.17g: token %d has q = %g", isa, sw->row, e->params, u,
                (int)t, t >= 0 && (size_t)t < sw->n ? (double)sw->q[t] : -1.0);
        return 0;
    }
    double excl = 0.0, slack = 1e-6;
    for (int32_t i = 0; i < t; i++) {
        excl += sw->q[i];
        slack += 1e-5 * sw->q[i] + 1e-9;
    }
    double incl = excl + sw->q[t];
    if (!(excl <= u + slack && incl > u - slack)) {
        ut_fail(&sw->fails, "[%s] %s %s u=%.17g: token %d spans [%.12g, %.12g) of its own q", isa,
                sw->row, e->params, u, (int)t, excl, incl);
        return 0;
    }
    return 1;
}

/* Filters certain, u near a boundary: the token's oracle interval must reach u's margin. */
static int token_in_margin(const double *want, double u, int32_t t)
{
    double excl = 0.0;
    for (int32_t i = 0; i < t; i++)
        excl += want[i];
    return want[t] > 0.0 && excl <= u + 1e-6 && excl + want[t] > u - 1e-6;
}

/* One case under one kernel set. Where a margin excuses the kept set but q equals the
 * oracle's anyway, the two kept sets agree, so the token is held to the oracle as strictly as
 * anywhere. */
static void check_isa(sweep *sw, expect *e, const char *isa)
{
    int rc = nuc_probs(sw->s, sw->x, sw->n, &e->p, sw->q);
    if (rc != NUC_OK) {
        ut_fail(&sw->fails, "[%s] %s %s: nuc_probs = %d", isa, sw->row, e->params, rc);
        e->q_same = 0;
        return;
    }
    int same = e->excused ? check_q_excused(sw, e, isa) : check_q_exact(sw, e, isa);
    e->q_same &= same;
    uint64_t h = ut_hash(UT_HASH_INIT, sw->q, sw->n * sizeof(float));
    for (size_t k = 0; k < e->nus; k++) {
        double u = e->us[k];
        int32_t t = -1;
        rc = nuc_sample_u(sw->s, sw->x, sw->n, &e->p, u, &t);
        if (rc != NUC_OK) {
            ut_fail(&sw->fails, "[%s] %s %s u=%.17g: nuc_sample_u = %d", isa, sw->row, e->params, u,
                    rc);
            continue;
        }
        h = ut_hash(h, &t, sizeof t);
        e->t_same[k] &= t == e->want_t[k];
        if (!check_token_self(sw, e, isa, u, t) || t == e->want_t[k] || !same)
            continue;
        if (!e->near[k])
            ut_fail(&sw->fails, "[%s] %s %s u=%.17g: token %d, oracle %d", isa, sw->row, e->params,
                    u, (int)t, (int)e->want_t[k]);
        else if (!token_in_margin(e->want, u, t))
            ut_fail(&sw->fails, "[%s] %s %s u=%.17g: token %d, oracle %d, not within the margin",
                    isa, sw->row, e->params, u, (int)t, (int)e->want_t[k]);
    }
    if (e->hash_isa == NULL) {
        e->hash_isa = isa;
        e->hash = h;
    } else if (h != e->hash) {
        ut_fail(&sw->fails, "%s %s: %s and %s differ in nuc_probs bits or tokens", sw->row,
                e->params, e->hash_isa, isa);
    }
}

static void count(counts *c, const expect *e)
{
    c->probs++;
    c->probs_excused += e->excused;
    c->probs_excused_differ += e->excused && !e->q_same;
    c->by_top_p += e->d.near_top_p;
    c->by_min_p += e->d.near_min_p;
    c->by_rank += e->d.near_rank;
    for (size_t k = 0; k < e->nus; k++) {
        int ex = !e->q_same || e->near[k];
        c->samples++;
        c->samples_excused += ex;
        c->samples_excused_differ += ex && !e->t_same[k];
        c->by_u[k] += e->near[k];
    }
}

/* Runs the cases collected for the current row under every kernel set, then checks that the
 * logits survived and books the cases. */
static void row_done(sweep *sw)
{
    UT_FOR_EACH_ISA(isa)
    {
        for (size_t k = 0; k < sw->ne; k++)
            check_isa(sw, &sw->e[k], nuc_isa_name(isa));
    }
    if (memcmp(sw->x, sw->copy, sw->n * sizeof(float)) != 0)
        ut_fail(&sw->fails, "%s: the logits were modified", sw->row);
    for (size_t k = 0; k < sw->ne; k++) {
        count(&sw->c, &sw->e[k]);
        expect_free(&sw->e[k]);
    }
    sw->ne = 0;
}

static void row_begin(sweep *sw, size_t n)
{
    sw->n = n;
    sw->ne = 0;
    memcpy(sw->copy, sw->x, n * sizeof(float));
}

static void report(const char *what, const counts *c)
{
    printf("%s: %ld probs cases, %ld excused by a margin (%.2f%%, %ld of them differing); "
           "%ld sample cases, %ld excused (%.2f%%, %ld differing)\n",
           what, c->probs, c->probs_excused, 100.0 * (double)c->probs_excused / (double)c->probs,
           c->probs_excused_differ, c->samples, c->samples_excused,
           100.0 * (double)c->samples_excused / (double)c->samples, c->samples_excused_differ);
    printf("  near a margin: top-p %ld, min-p %ld, rank %ld; draws near a boundary per u probe:",
           c->by_top_p, c->by_min_p, c->by_rank);
    for (int k = 0; k < MAX_U; k++)
        printf(" %ld", c->by_u[k]);
    printf(" (of %ld each)\n", c->probs);
    fflush(stdout); /* a failing check ends this forked child without flushing */
}

static void counts_add(counts *sum, const counts *c)
{
    sum->probs += c->probs;
    sum->probs_excused += c->probs_excused;
    sum->probs_excused_differ += c->probs_excused_differ;
    sum->samples += c->samples;
    sum->samples_excused += c->samples_excused;
    sum->samples_excused_differ += c->samples_excused_differ;
    sum->by_top_p += c->by_top_p;
    sum->by_min_p += c->by_min_p;
    sum->by_rank += c->by_rank;
    for (int k = 0; k < MAX_U; k++)
        sum->by_u[k] += c->by_u[k];
}

/* Runs the combos that 'take' selects on one generated row. */
static void sweep_generated(sweep *sw, gen_profile prof, size_t n, uint64_t seed,
                            int (*take)(size_t combo, size_t salt), size_t salt)
{
    snprintf(sw->row, sizeof sw->row, "%s n=%zu seed=%llu", gen_name(prof), n,
             (unsigned long long)seed);
    gen_logits(prof, n, seed, sw->x);
    row_begin(sw, n);
    for (size_t cb = 0; cb < N_COMBOS; cb++) {
        if (take(cb, salt)) {
            nuc_params p = combo(cb);
            expect_add(sw, &p, seed * 131 + cb);
        }
    }
    row_done(sw);
}

/* Every length 1..300 sees a quarter of the grid, rotating, so each combo meets ~75 lengths of
 * each profile. */
static int take_small(size_t cb, size_t salt) { return (cb + salt) % 4 == 0; }
/* Large rows cost an oracle sort each: an eighth of the grid per (size, profile). */
static int take_large(size_t cb, size_t salt) { return (cb + salt) % 8 == 0; }

/* One test, so that the excused share is judged over the whole sweep: flat rows of 128k
 * tokens put every top-p cut inside the 1e-5 margin (each token holds < 1e-5), which is the
 * spec's doing, not a weakness the short rows share. */
START_TEST(whole_sweep)
{
    sweep sw;
    sweep_init(&sw);
    counts total = {0};
    size_t step = ut_quick() ? 7 : 1, sizes = ut_quick() ? 2 : 4;
    for (size_t n = 1; n <= 300; n += n < 64 ? 1 : step)
        for (int prof = 0; prof < GEN_COUNT; prof++)
            sweep_generated(&sw, (gen_profile)prof, n, 1000 + n, take_small, n + 3 * (size_t)prof);
    report("lengths 1..300", &sw.c);
    counts_add(&total, &sw.c);
    memset(&sw.c, 0, sizeof sw.c);
    for (size_t k = 0; k < sizes; k++)
        for (int prof = 0; prof < GEN_COUNT; prof++)
            sweep_generated(&sw, (gen_profile)prof, large_sizes[k], 7 + k, take_large,
                            k + 5 * (size_t)prof);
    report("vocabulary sizes", &sw.c);
    counts_add(&total, &sw.c);
    report("whole sweep", &total);
    ck_assert_msg((double)total.probs_excused <= MAX_EXCUSED_SHARE * (double)total.probs,
                  "%ld of %ld probs cases excused: too weak a test", total.probs_excused,
                  total.probs);
    ck_assert_msg((double)total.samples_excused <= MAX_EXCUSED_SHARE * (double)total.samples,
                  "%ld of %ld sample cases excused: too weak a test", total.samples_excused,
                  total.samples);
    UT_ASSERT_NO_FAILS(&sw.fails);
    sweep_free(&sw);
}
END_TEST

/* Hand-made rows at the edges of float range and of the parameter domain. */
typedef struct edge {
    const char *name;
    size_t n;
    float x[6];
    nuc_params p;
} edge;

static const edge edges[] = {
    {"signed zeros, greedy", 3, {-INFINITY, -0.0f, 0.0f}, {0.0f, 0, 1.0f, 0.0f}},
    {"signed zeros, sampled", 2, {0.0f, -0.0f}, {1.0f, 1, 1.0f, 0.0f}},
    {"T = -inf is greedy", 4, {1, 3, 2, 3}, {-INFINITY, 0, 1.0f, 0.0f}},
    {"T = -0 is greedy", 4, {1, 3, 2, 3}, {-0.0f, 0, 1.0f, 0.0f}},
    {"smallest subnormal T", 4, {1, 2, 2, 0}, {1e-45f, 0, 1.0f, 0.0f}},
    {"tiny T", 4, {1, 2, 2, 0}, {1e-30f, 0, 0.7f, 0.0f}},
    {"huge T", 3, {0, 1, 2}, {1e30f, 0, 1.0f, 0.0f}},
    {"largest finite logits", 2, {-FLT_MAX, FLT_MAX}, {1.0f, 0, 1.0f, 0.0f}},
    {"subnormal logits", 3, {1e-45f, 0.0f, -1e-45f}, {1.0f, 0, 1.0f, 0.0f}},
    {"top_k = n", 4, {4, 1, 3, 2}, {1.0f, 4, 1.0f, 0.0f}},
    {"top_k = unmasked - 1", 5, {-INFINITY, 4, -INFINITY, 3, 2}, {1.0f, 2, 1.0f, 0.0f}},
    {"top_k > unmasked", 4, {-INFINITY, 1, -INFINITY, 1}, {1.0f, 3, 1.0f, 0.0f}},
    {"tie straddles top_k", 5, {1, 2, 2, 2, 0}, {1.0f, 2, 1.0f, 0.0f}},
    {"min_p = 1 keeps the ties of the max", 4, {1, 3, 3, 2}, {1.0f, 0, 1.0f, 1.0f}},
    {"min_p subnormal", 3, {0, -50, -100}, {1.0f, 0, 1.0f, 1e-45f}},
    {"top_p subnormal", 3, {0, 0, -1}, {1.0f, 0, 1e-45f, 0.0f}},
    {"top_p just below 1", 3, {0, -1, -20}, {1.0f, 0, 0x1.fffffep-1f, 0.0f}},
    {"exact top_p boundary", 4, {0, 0, 0, 0}, {1.0f, 0, 0.5f, 0.0f}},
    {"all filters", 6, {5, 4.5f, 4, 3, 2, 1}, {0.8f, 5, 0.9f, 0.05f}},
    /* Inside the margins on purpose: the relaxed checks must accept either answer. */
    {"adjacent floats across top_k", 3, {1.0f, 0x1.fffffep-1f, 0.0f}, {1.0f, 1, 1.0f, 0.0f}},
    {"subnormal logits across top_k", 3, {1e-45f, 0.0f, -1e-45f}, {1.0f, 1, 1.0f, 0.0f}},
    {"ratio at min_p", 3, {0.0f, -2.9957323f /* ln 1/20 */, -1.0f}, {1.0f, 0, 1.0f, 0.05f}},
};

START_TEST(edge_rows)
{
    sweep sw;
    sweep_init(&sw);
    for (size_t k = 0; k < sizeof edges / sizeof *edges; k++) {
        const edge *e = &edges[k];
        memcpy(sw.x, e->x, e->n * sizeof(float));
        snprintf(sw.row, sizeof sw.row, "edge \"%s\"", e->name);
        row_begin(&sw, e->n);
        expect_add(&sw, &e->p, k);
        row_done(&sw);
    }
    report("edge rows (margin cases intended)", &sw.c);
    UT_ASSERT_NO_FAILS(&sw.fails);
    sweep_free(&sw);
}
END_TEST

/* The oracle is the truth for everything above, so it gets its own hand-checked answers (to
 * 1e-6: the float logits ln p are themselves rounded). */
static void oracle_expect(const float *x, size_t n, nuc_params p, const double *want)
{
    double q[8];
    ck_assert_int_eq(oracle_probs(x, n, &p, q, NULL), NUC_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(q[i] - want[i]) <= 1e-6 * want[i], "oracle q[%zu] = %.17g, want %.17g",
                      i, q[i], want[i]);
}

START_TEST(oracle_self)
{
    const float lp[5] = {-INFINITY, logf(0.1f), logf(0.2f), logf(0.3f), logf(0.4f)};
    oracle_expect(lp, 5, (nuc_params){1.0f, 0, 0.25f, 0.0f}, (double[]){0, 0, 0, 0, 1});
    oracle_expect(lp, 5, (nuc_params){1.0f, 0, 0.5f, 0.0f}, (double[]){0, 0, 0, 3.0 / 7, 4.0 / 7});
    oracle_expect(lp, 5, (nuc_params){1.0f, 0, 0.0f, 0.0f}, (double[]){0, 0, 0, 0, 1});
    /* top-k 3 then min-p 0.6: 0.2/0.4 < 0.6 drops token 2. */
    oracle_expect(lp, 5, (nuc_params){1.0f, 3, 1.0f, 0.6f}, (double[]){0, 0, 0, 3.0 / 7, 4.0 / 7});
    double s = sqrt(0.1) + sqrt(0.2) + sqrt(0.3) + sqrt(0.4);
    oracle_expect(lp, 5, (nuc_params){2.0f, 0, 1.0f, 0.0f},
                  (double[]){0, sqrt(0.1) / s, sqrt(0.2) / s, sqrt(0.3) / s, sqrt(0.4) / s});
    const float tie[4] = {1, 3, 2, 3};
    oracle_expect(tie, 4, (nuc_params){0.0f, 0, 1.0f, 0.0f}, (double[]){0, 1, 0, 0});
    oracle_expect(tie, 4, (nuc_params){1.0f, 1, 1.0f, 0.0f}, (double[]){0, 1, 0, 0});

    oracle_diag d;
    const float eq[4] = {0, 0, 0, 0};
    double q[6];
    ck_assert_int_eq(oracle_probs(eq, 4, &(nuc_params){1.0f, 0, 0.5f, 0.0f}, q, &d), NUC_OK);
    ck_assert(d.near_top_p && d.kept == 3 && !d.near_rank);
    ck_assert_int_eq(oracle_probs(tie, 4, &(nuc_params){1.0f, 1, 1.0f, 0.0f}, q, &d), NUC_OK);
    ck_assert(!d.near_rank && !d.near_top_p && !d.near_min_p && d.kept == 1);
    const float close[3] = {1.0f, nextafterf(1.0f, 0.0f), 0.0f};
    ck_assert_int_eq(oracle_probs(close, 3, &(nuc_params){1.0f, 1, 1.0f, 0.0f}, q, &d), NUC_OK);
    ck_assert(d.near_rank);

    /* min-p at exactly its threshold in real arithmetic: ratio e^-1 against min_p e^-1. */
    const float mp[2] = {0.0f, -1.0f};
    ck_assert_int_eq(oracle_probs(mp, 2, &(nuc_params){1.0f, 0, 1.0f, (float)exp(-1.0)}, q, &d),
                     NUC_OK);
    ck_assert(d.near_min_p);
    ck_assert_int_eq(oracle_probs(mp, 2, &(nuc_params){1.0f, 0, 1.0f, 0.3f}, q, &d), NUC_OK);
    ck_assert(!d.near_min_p && d.kept == 2);

    /* Sampling in index order: q = [.25 .25 .5]. */
    const double qs[4] = {0.25, 0.0, 0.25, 0.5};
    int32_t t;
    int near;
    ck_assert_int_eq(oracle_sample_q(qs, 4, 0.0, &t, &near), NUC_OK);
    ck_assert(t == 0 && !near);
    ck_assert_int_eq(oracle_sample_q(qs, 4, 0.3, &t, &near), NUC_OK);
    ck_assert(t == 2 && !near);
    ck_assert_int_eq(oracle_sample_q(qs, 4, 0.25, &t, &near), NUC_OK);
    ck_assert(t == 2 && near);
    ck_assert_int_eq(oracle_sample_q(qs, 4, 0x1.fffffffffffffp-1, &t, &near), NUC_OK);
    ck_assert(t == 3 && !near);

    /* Validation, one fault at a time. */
    const float bad[2] = {0.0f, NAN};
    const float masked[2] = {-INFINITY, -INFINITY};
    nuc_params ok = {1.0f, 0, 1.0f, 0.0f};
    ck_assert_int_eq(oracle_probs(bad, 2, &ok, q, NULL), NUC_ENONFINITE);
    ck_assert_int_eq(oracle_probs(masked, 2, &ok, q, NULL), NUC_EMASKED);
    ck_assert_int_eq(oracle_probs(eq, 0, &ok, q, NULL), NUC_EINVAL);
    ck_assert_int_eq(oracle_probs(eq, 4, &(nuc_params){1.0f, -1, 1.0f, 0.0f}, q, NULL), NUC_EINVAL);
    ck_assert_int_eq(oracle_sample(eq, 4, &ok, 1.0, &t, NULL), NUC_EINVAL);

    /* The margin bounds bracket the oracle's own answer. */
    unsigned char lo[4], hi[4];
    ck_assert_int_eq(oracle_kept_bounds(eq, 4, &(nuc_params){1.0f, 0, 0.5f, 0.0f}, lo, hi), NUC_OK);
    ck_assert(lo[0] && lo[1] && !lo[2] && !lo[3]);
    ck_assert(hi[0] && hi[1] && hi[2] && !hi[3]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("oracle");
    TCase *tc = ut_tcase("oracle_self");
    tcase_add_test(tc, oracle_self);
    suite_add_tcase(s, tc);
    tc = ut_tcase("edges");
    tcase_add_test(tc, edge_rows);
    suite_add_tcase(s, tc);
    tc = ut_tcase("sweep");
    tcase_add_test(tc, whole_sweep);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
