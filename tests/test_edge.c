/* Numerical edge cases of the public API, under every kernel set: extreme temperatures, logits
 * that span the float range, rows with one live token or none, exact parameter boundaries,
 * signed zeros and subnormals, and NaN / +inf / -inf at the first, middle and last position of
 * every length 1..70 (every vector tail of every kernel set), from unaligned starts.
 *
 * Every row goes through one checker (check_row) that asserts, for nuc_probs, nuc_sample_u,
 * nuc_sample, nuc_sample_batch, nuc_argmax and nuc_softmax:
 *   - the exact return code;
 *   - on failure: the outputs are untouched (sentinel-filled buffers, guard zone included);
 *   - on success: the token is in range with a finite logit and q[token] > 0; q is a
 *     distribution (no NaN, non-negative, sums to 1 within 1e-5, exactly 0 on masked tokens and
 *     outside the kept set); greedy gives the first maximum and an exact one-hot;
 *   - the logits are never written;
 *   - the kept set lies between the oracle's bounds (tests/oracle.h) and q matches the real
 *     softmax over the kept set within the contract's 1e-5 relative / 1e-9 absolute, and the
 *     token matches inverse-CDF sampling of that q, wherever the oracle's answer is meaningful.
 *     It is not where the README departs from real arithmetic on purpose: a logit whose
 *     distance to the maximum overflows float counts as masked there (checked on its own).
 *
 * NUC_TEST_QUICK=1 (set by tests/sanitize.sh for valgrind) shrinks the longest rows and the
 * sweeps. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "oracle.h"
#include "util.h"

#define BIG_N 262144   /* the longest vocabulary the contract names */
#define QUICK_BIG_N 32768
#define GUARD 16       /* floats past the end of q that no call may touch */
#define BATCH_ROWS 3
#define BATCH_PAD 3    /* row_stride = n + BATCH_PAD: every row starts differently aligned */

static const uint32_t q_sentinel_bits = 0x7fa5a5a5u; /* a NaN no library computation makes */
static const int32_t tok_sentinel = INT32_MIN + 12345;

static int quick(void)
{
    const char *v = getenv("NUC_TEST_QUICK");
    return v && *v && strcmp(v, "0") != 0;
}

static size_t big_n(void) { return quick() ? QUICK_BIG_N : BIG_N; }

/* ---- per-process scratch, sized once for the longest row ---- */
typedef struct scratch {
    size_t cap;
    nuc_sampler *s;
    float *q, *qs;       /* cap + GUARD */
    float *copy;         /* cap */
    float *rows;         /* BATCH_ROWS * (cap + BATCH_PAD) */
    double *ref, *eq;    /* cap */
    unsigned char *lo, *hi, *kept;
} scratch;

static scratch *sc(void)
{
    static scratch S;
    if (!S.s) {
        const size_t cap = BIG_N + 8;
        S.cap = cap;
        S.s = nuc_sampler_new(cap);
        ck_assert_ptr_nonnull(S.s);
        S.q = ut_floats(cap + GUARD);
        S.qs = ut_floats(cap + GUARD);
        S.copy = ut_floats(cap);
        S.rows = ut_floats(BATCH_ROWS * (cap + BATCH_PAD));
        S.ref = ut_malloc(cap * sizeof(double));
        S.eq = ut_malloc(cap * sizeof(double));
        S.lo = ut_malloc(cap);
        S.hi = ut_malloc(cap);
        S.kept = ut_malloc(cap);
    }
    return &S;
}

static float bits_f(uint32_t b)
{
    float v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static uint32_t f_bits(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static void fill_sentinel(float *q, size_t n)
{
    for (size_t i = 0; i < n; i++)
        q[i] = bits_f(q_sentinel_bits);
}

/* Index of the first float in q[0..n) whose bits are not the sentinel; n if none. */
static size_t first_touched(const float *q, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (f_bits(q[i]) != q_sentinel_bits)
            return i;
    return n;
}

/* ---- what the contract says, computed here ---- */

/* A logit whose distance to the maximum overflows float counts as masked (README). */
static int overflow_masked(float x, float m)
{
    volatile float d = x - m;
    return x != -INFINITY && d == -INFINITY;
}

/* ref[i] = exp((x[i] - m) / T) in double, 0 for masked tokens (-inf or an overflowing
 * distance). *oracle_ok is cleared when an overflow-masked token has a real weight that is not
 * negligible, where the oracle (real arithmetic) and the README's rule part ways. */
static void ref_weights(const float *x, size_t n, double t, double *ref, int *oracle_ok)
{
    const float m = x[oracle_first_max(x, n)];
    for (size_t i = 0; i < n; i++) {
        if (x[i] == -INFINITY) {
            ref[i] = 0.0;
            continue;
        }
        const double w = exp(((double)x[i] - (double)m) / t);
        if (overflow_masked(x[i], m)) {
            if (w > 1e-38)
                *oracle_ok = 0;
            ref[i] = 0.0;
        } else {
            ref[i] = w;
        }
    }
}

/* ---- the checker ---- */

/* Weights below exp(-87) = 1.6458e-38 of the max are flushed to 0 (README); around the cutoff
 * the rounding of (x - m) / T decides, so only weights clearly on one side are asserted. */
#define KEEP_ABOVE 1.66e-38
#define DROP_BELOW 1.63e-38

typedef struct ctx {
    ut_fails *f;
    nuc_isa isa;
    const char *what;
    int check_oracle; /* 0 where the case knows the oracle's real arithmetic does not apply */
} ctx;

static void failf(ctx *c, size_t n, const nuc_params *p, const char *fmt, ...) UT_PRINTF(4, 5);
static void failf(ctx *c, size_t n, const nuc_params *p, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ut_fail(c->f, "[%s] %s n=%zu T=%a k=%d p=%a minp=%a: %s", nuc_isa_name(c->isa), c->what, n,
            (double)p->temperature, (int)p->top_k, (double)p->top_p, (double)p->min_p, msg);
}
/* Uses the n and p of the calling scope. */
#define FAIL(c, ...) failf((c), n, p, __VA_ARGS__)

static void check_unchanged(ctx *c, const float *x, size_t n, const nuc_params *p,
                            const char *call)
{
    if (memcmp(x, sc()->copy, n * sizeof *x) != 0)
        FAIL(c, "%s wrote through the logits", call);
}

static void check_softmax(ctx *c, const float *x, size_t n, const nuc_params *p)
{
    scratch *S = sc();
    const float t = p->temperature;
    int want = oracle_row_code(x, n);
    const int tbad = isnan(t) || t == INFINITY;
    fill_sentinel(S->qs, n + GUARD);
    const int rc = nuc_softmax(x, n, t, S->qs);
    check_unchanged(c, x, n, p, "nuc_softmax");
    if (!(rc == want || (tbad && rc == NUC_EINVAL)) || (tbad && want == NUC_OK && rc == NUC_OK)) {
        FAIL(c, "nuc_softmax returned %d, want %d%s", rc, want, tbad ? " or EINVAL" : "");
        return;
    }
    if (first_touched(S->qs + n, GUARD) != GUARD)
        FAIL(c, "nuc_softmax wrote past q[n-1] (rc %d)", rc);
    if (rc != NUC_OK) {
        if (first_touched(S->qs, n) != n)
            FAIL(c, "nuc_softmax failed (%d) but wrote probs[%zu]", rc, first_touched(S->qs, n));
        return;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!(S->qs[i] >= 0.0f)) {
            FAIL(c, "nuc_softmax probs[%zu] = %g", i, (double)S->qs[i]);
            return;
        }
        if (x[i] == -INFINITY && S->qs[i] != 0.0f) {
            FAIL(c, "nuc_softmax probs[%zu] = %g on a masked token", i, (double)S->qs[i]);
            return;
        }
        sum += S->qs[i];
    }
    if (!(fabs(sum - 1.0) <= 1e-5))
        FAIL(c, "nuc_softmax sums to %.9g", sum);
    if (t <= 0.0f) {
        const size_t b = oracle_first_max(x, n);
        if (S->qs[b] != 1.0f)
            FAIL(c, "nuc_softmax greedy: probs[first max %zu] = %g", b, (double)S->qs[b]);
        return;
    }
    /* Unfiltered pi against the real softmax (with the overflow rule). */
    int ok = 1;
    ref_weights(x, n, (double)t, S->ref, &ok);
    double total = 0.0;
    for (size_t i = 0; i < n; i++)
        total += S->ref[i];
    for (size_t i = 0; i < n; i++)
        if (!ut_close(S->qs[i], S->ref[i] / total, 1e-5, 1e-9)) {
            FAIL(c, "nuc_softmax probs[%zu] = %.9g, want %.9g", i, (double)S->qs[i],
                 S->ref[i] / total);
            return;
        }
}

static void check_batch(ctx *c, const float *x, size_t n, const nuc_params *p, int want,
                        const int32_t *want_tok /* BATCH_ROWS tokens, if want == OK */)
{
    scratch *S = sc();
    const size_t stride = n + BATCH_PAD;
    for (size_t r = 0; r < BATCH_ROWS; r++) {
        memcpy(S->rows + r * stride, x, n * sizeof *x);
        for (size_t i = n; i < stride; i++)
            S->rows[r * stride + i] = bits_f(q_sentinel_bits); /* NaN pads: never read */
    }
    /* A team of threads costs far more than a short row, and an OpenMP team keeps spinning
     * after the call: the thread counts other than 1 are taken on every 16th long row and every
     * 256th short one only (tests/test_batch.c covers the teams). */
    static const int threads[] = {1, 0, 3};
    static unsigned calls;
    const size_t nt = calls++ % (n >= 100000 ? 16 : 256) == 0 ? 3 : 1;
    for (size_t t = 0; t < nt; t++) {
        int32_t tok[BATCH_ROWS + 1];
        for (size_t r = 0; r <= BATCH_ROWS; r++)
            tok[r] = tok_sentinel;
        const int rc = nuc_sample_batch(S->rows, BATCH_ROWS, n, stride, p, 1, 42, NULL, 7, tok,
                                        threads[t]);
        if (rc != want) {
            FAIL(c, "nuc_sample_batch(threads %d) returned %d, want %d", threads[t], rc, want);
            continue;
        }
        if (tok[BATCH_ROWS] != tok_sentinel)
            FAIL(c, "nuc_sample_batch wrote tokens[%d]", BATCH_ROWS);
        for (size_t r = 0; r < BATCH_ROWS; r++) {
            if (rc != NUC_OK && tok[r] != tok_sentinel)
                FAIL(c, "nuc_sample_batch failed (%d) but wrote tokens[%zu]", rc, r);
            if (rc == NUC_OK && tok[r] != want_tok[r])
                FAIL(c, "nuc_sample_batch row %zu: token %d, nuc_sample gives %d", r,
                     (int)tok[r], (int)want_tok[r]);
        }
    }
    for (size_t r = 0; r < BATCH_ROWS; r++)
        if (memcmp(S->rows + r * stride, x, n * sizeof *x) != 0)
            FAIL(c, "nuc_sample_batch wrote through row %zu", r);
}

/* The kept set and q against the oracle's bounds and the real softmax over the kept set; the
 * tokens against inverse-CDF sampling of that q. */
static void check_against_reference(ctx *c, const float *x, size_t n, const nuc_params *p,
                                    const double *us, size_t nu, const int32_t *toks)
{
    scratch *S = sc();
    int oracle_ok = c->check_oracle;
    ref_weights(x, n, (double)p->temperature, S->ref, &oracle_ok);

    double kept_w = 0.0;
    for (size_t i = 0; i < n; i++) {
        S->kept[i] = S->q[i] > 0.0f;
        if (S->kept[i])
            kept_w += S->ref[i];
    }
    /* Outside the oracle's domain only unfiltered rows have a known kept set: every token
     * whose weight is not flushed (below exp(-87) relative to the max). */
    const int unfiltered = p->top_k == 0 && p->top_p == 1.0f && p->min_p == 0.0f;
    if (oracle_ok) {
        oracle_diag d;
        double *oq = S->eq;
        const int orc = oracle_probs(x, n, p, oq, &d);
        if (orc != NUC_OK) {
            FAIL(c, "oracle_probs returned %d where the library succeeded", orc);
            return;
        }
        if (!d.near_rank && oracle_kept_bounds(x, n, p, S->lo, S->hi) == NUC_OK) {
            for (size_t i = 0; i < n; i++) {
                if (S->kept[i] && !S->hi[i]) {
                    FAIL(c, "token %zu (x %.9g) kept, the oracle never keeps it", i,
                         (double)x[i]);
                    return;
                }
                if (!S->kept[i] && S->lo[i] && S->ref[i] > KEEP_ABOVE) {
                    FAIL(c, "token %zu (x %.9g, w %.3g) dropped, the oracle always keeps it", i,
                         (double)x[i], S->ref[i]);
                    return;
                }
            }
        }
    } else if (unfiltered) {
        for (size_t i = 0; i < n; i++)
            if ((S->kept[i] && S->ref[i] < DROP_BELOW) || (!S->kept[i] && S->ref[i] > KEEP_ABOVE)) {
                FAIL(c, "token %zu (x %.9g, w %.3g): kept %d", i, (double)x[i], S->ref[i],
                     S->kept[i]);
                return;
            }
    }
    if (!(kept_w > 0.0)) {
        FAIL(c, "the kept set has no real weight (%g)", kept_w);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        S->eq[i] = S->kept[i] ? S->ref[i] / kept_w : 0.0;
        if (!ut_close(S->q[i], S->eq[i], 1e-5, 1e-9)) {
            FAIL(c, "q[%zu] = %.9g, the real softmax over the kept set gives %.9g", i,
                 (double)S->q[i], S->eq[i]);
            return;
        }
    }
    for (size_t k = 0; k < nu; k++) {
        int32_t want;
        int near = 1;
        if (oracle_sample_q(S->eq, n, us[k], &want, &near) != NUC_OK)
            continue;
        if (!near && toks[k] != want)
            FAIL(c, "u=%.17g: token %d, inverse CDF of q gives %d", us[k], (int)toks[k],
                 (int)want);
    }
}

/* Every entry point on one row; want is the code of nuc_probs / nuc_sample*. */
static void check_row(ctx *c, const float *x, size_t n, const nuc_params *p, int want)
{
    scratch *S = sc();
    ck_assert_msg(n <= S->cap, "test row longer than the scratch");
    memcpy(S->copy, x, n * sizeof *x);

    /* nuc_probs */
    fill_sentinel(S->q, n + GUARD);
    int rc = nuc_probs(S->s, x, n, p, S->q);
    check_unchanged(c, x, n, p, "nuc_probs");
    if (rc != want) {
        FAIL(c, "nuc_probs returned %d (%s), want %d", rc, nuc_strerror(rc), want);
        return;
    }
    if (first_touched(S->q + n, GUARD) != GUARD)
        FAIL(c, "nuc_probs wrote past q[n-1] (rc %d)", rc);
    if (rc != NUC_OK) {
        if (first_touched(S->q, n) != n)
            FAIL(c, "nuc_probs failed (%d) but wrote q[%zu]", rc, first_touched(S->q, n));
    } else {
        double sum = 0.0;
        const float m = x[oracle_first_max(x, n)];
        for (size_t i = 0; i < n; i++) {
            if (!(S->q[i] >= 0.0f) || S->q[i] > 1.0f) {
                FAIL(c, "q[%zu] = %g", i, (double)S->q[i]);
                return;
            }
            if (S->q[i] != 0.0f && (x[i] == -INFINITY || overflow_masked(x[i], m))) {
                FAIL(c, "q[%zu] = %g on a masked token (x %g)", i, (double)S->q[i], (double)x[i]);
                return;
            }
            sum += S->q[i];
        }
        if (!(fabs(sum - 1.0) <= 1e-5))
            FAIL(c, "q sums to %.9g", sum);
    }

    /* nuc_sample_u and nuc_sample */
    static const double us[] = {0.0, 1e-300, 0.25, 0.5, 0.75, 0.999999, 0x1.fffffffffffffp-1};
    const size_t nu = sizeof us / sizeof *us;
    int32_t toks[sizeof us / sizeof *us];
    const size_t fm = oracle_row_code(x, n) == NUC_OK ? oracle_first_max(x, n) : 0;
    const int greedy = !(p->temperature > 0.0f);
    for (size_t k = 0; k < nu; k++) {
        int32_t tok[2] = {tok_sentinel, tok_sentinel};
        rc = nuc_sample_u(S->s, x, n, p, us[k], tok);
        check_unchanged(c, x, n, p, "nuc_sample_u");
        toks[k] = tok[0];
        if (rc != want) {
            FAIL(c, "nuc_sample_u(u=%.17g) returned %d, want %d", us[k], rc, want);
            return;
        }
        if (tok[1] != tok_sentinel)
            FAIL(c, "nuc_sample_u wrote past the token (rc %d)", rc);
        if (rc != NUC_OK) {
            if (tok[0] != tok_sentinel)
                FAIL(c, "nuc_sample_u failed (%d) but wrote a token", rc);
            continue;
        }
        if (tok[0] < 0 || (size_t)tok[0] >= n || !isfinite(x[tok[0]])) {
            FAIL(c, "u=%.17g: token %d out of range or on a non-finite logit", us[k],
                 (int)tok[0]);
            return;
        }
        if (!(S->q[tok[0]] > 0.0f))
            FAIL(c, "u=%.17g: token %d has q = %g", us[k], (int)tok[0], (double)S->q[tok[0]]);
        if (greedy && (size_t)tok[0] != fm)
            FAIL(c, "greedy token %d, the first max is %zu", (int)tok[0], fm);
    }
    /* nuc_sample is nuc_sample_u of nuc_uniform(seed, stream, step). */
    int32_t want_tok[BATCH_ROWS];
    for (uint64_t r = 0; r < BATCH_ROWS; r++) {
        int32_t a = tok_sentinel, b = tok_sentinel;
        rc = nuc_sample(S->s, x, n, p, 42, r, 7, &a);
        const int rcu = nuc_sample_u(S->s, x, n, p, nuc_uniform(42, r, 7), &b);
        if (rc != want || rcu != want || a != b)
            FAIL(c, "nuc_sample (%d, token %d) against nuc_sample_u of its uniform (%d, %d)", rc,
                 (int)a, rcu, (int)b);
        want_tok[r] = a;
    }
    check_unchanged(c, x, n, p, "nuc_sample");
    check_batch(c, x, n, p, want, want_tok);

    /* The stages. */
    {
        int32_t idx[2] = {tok_sentinel, tok_sentinel};
        const int want_arg = oracle_row_code(x, n);
        rc = nuc_argmax(x, n, idx);
        check_unchanged(c, x, n, p, "nuc_argmax");
        if (rc != want_arg)
            FAIL(c, "nuc_argmax returned %d, want %d", rc, want_arg);
        else if (rc == NUC_OK && (size_t)idx[0] != fm)
            FAIL(c, "nuc_argmax gives %d, the first max is %zu", (int)idx[0], fm);
        else if (rc != NUC_OK && idx[0] != tok_sentinel)
            FAIL(c, "nuc_argmax failed (%d) but wrote an index", rc);
        if (idx[1] != tok_sentinel)
            FAIL(c, "nuc_argmax wrote past the index");
    }
    check_softmax(c, x, n, p);

    if (want != NUC_OK)
        return;
    if (greedy) {
        for (size_t i = 0; i < n; i++)
            if (S->q[i] != (i == fm ? 1.0f : 0.0f)) {
                FAIL(c, "greedy q[%zu] = %g, want the one-hot of %zu", i, (double)S->q[i], fm);
                return;
            }
        return;
    }
    check_against_reference(c, x, n, p, us, nu, toks);
}

/* ---- parameter sets ---- */
static nuc_params P(float t, int32_t k, float tp, float mp)
{
    return (nuc_params){t, k, tp, mp};
}

static const nuc_params common_params[] = {
    {1.0f, 0, 1.0f, 0.0f},   {0.7f, 40, 0.95f, 0.05f}, {1.0f, 1, 1.0f, 0.0f},
    {1.0f, 0, 0.0f, 0.0f},   {1.0f, 0, 0.9f, 0.0f},    {1.0f, 0, 1.0f, 1.0f},
    {1.0f, 0, 1.0f, 0.1f},   {2.0f, 5, 0.5f, 0.0f},    {0.0f, 0, 1.0f, 0.0f},
};
#define N_COMMON (sizeof common_params / sizeof *common_params)

static float *row_buf(size_t n)
{
    return ut_floats(n + 8);
}

/* ---- the cases ---- */

START_TEST(extreme_temperatures)
{
    static const float temps[] = {1e-30f, 1e30f, FLT_MIN, 1e-39f /* subnormal */,
                                  0x1p-149f, -0.0f, 0.0f, -INFINITY, -1.0f, FLT_MAX,
                                  1e38f, 3.0e-39f};
    static const gen_profile profiles[] = {GEN_PEAKED, GEN_TIES, GEN_FLAT, GEN_MASKED90,
                                           GEN_HUGE};
    static const size_t lens[] = {1, 17, 1000, 4099};
    /* Quick: the 4099 rows and every other parameter set go. */
    const size_t nlens = quick() ? 3 : 4, kstep = quick() ? 2 : 1;
    ut_fails f = {0};
    float *x = row_buf(4099);
    UT_FOR_EACH_ISA(isa)
    for (size_t g = 0; g < sizeof profiles / sizeof *profiles; g++)
        for (size_t l = 0; l < nlens; l++) {
            const size_t n = lens[l];
            gen_logits(profiles[g], n, 1000 + g * 10 + l, x);
            if (oracle_row_code(x, n) != NUC_OK)
                continue;
            for (size_t t = 0; t < sizeof temps / sizeof *temps; t++)
                for (size_t k = t % kstep; k < N_COMMON; k += kstep) {
                    nuc_params p = common_params[k];
                    p.temperature = temps[t];
                    char what[96];
                    snprintf(what, sizeof what, "%s row, T %a", gen_name(profiles[g]),
                             (double)temps[t]);
                    ctx c = {&f, isa, what, 1};
                    check_row(&c, x, n, &p, NUC_OK);
                }
            /* The invalid temperatures. */
            const float bad[] = {NAN, -NAN, INFINITY};
            for (size_t t = 0; t < 3; t++) {
                nuc_params p = P(bad[t], 0, 1.0f, 0.0f);
                ctx c = {&f, isa, "invalid temperature", 1};
                check_row(&c, x, n, &p, NUC_EINVAL);
            }
        }
    free(x);
    UT_ASSERT_NO_FAILS(&f);
}
END_TEST

/* Logits near +-FLT_MAX: at T = 1 only the maximum survives; at huge T the README's rule
 * decides (a distance to the max that overflows is masked); nothing may turn NaN. */
START_TEST(huge_span)
{
    ut_fails f = {0};
    static const float temps[] = {1.0f, 1e-30f, 1e30f, 1e37f, 1e38f, FLT_MAX, 0.0f};
    const float fixed[] = {3e38f, -3e38f, 1e38f, -1e38f, 0.0f, 2e38f, -FLT_MAX, FLT_MAX,
                           -INFINITY, 1.5e38f};
    const size_t nf = sizeof fixed / sizeof *fixed;
    float *x = row_buf(4096);
    UT_FOR_EACH_ISA(isa)
    {
        /* The fixed row, and its rotations (so the max sits everywhere). */
        for (size_t rot = 0; rot < nf; rot++) {
            for (size_t i = 0; i < nf; i++)
                x[i] = fixed[(i + rot) % nf];
            for (size_t t = 0; t < sizeof temps / sizeof *temps; t++)
                for (size_t k = 0; k < N_COMMON; k++) {
                    nuc_params p = common_params[k];
                    p.temperature = temps[t];
                    ctx c = {&f, isa, "fixed +-3e38 row", 1};
                    check_row(&c, x, nf, &p, NUC_OK);
                }
        }
        /* Random mixes of +-3e38, +-1e38, zeros and ordinary values, every length to 70. */
        uint64_t s = 7;
        for (size_t n = 1; n <= 70; n++) {
            for (size_t i = 0; i < n; i++) {
                s = s * 6364136223846793005u + 1442695040888963407u;
                static const float pick[] = {3e38f, -3e38f, 1e38f, -1e38f, 0.0f, -0.0f, 1.0f,
                                             -2.5f, 3.3e38f, -3.3e38f, 2e38f, -INFINITY};
                x[i] = pick[(s >> 33) % (sizeof pick / sizeof *pick)];
            }
            if (oracle_row_code(x, n) != NUC_OK)
                x[n / 2] = 1.0f;
            for (size_t t = 0; t < sizeof temps / sizeof *temps; t++) {
                nuc_params p = P(temps[t], 0, 1.0f, 0.0f);
                ctx c = {&f, isa, "random +-3e38 row", 1};
                check_row(&c, x, n, &p, NUC_OK);
                p = P(temps[t], 3, 0.8f, 0.01f);
                check_row(&c, x, n, &p, NUC_OK);
            }
        }
        /* The README's rule on a long row: half the row is -3e38 and half +3e38 (distance
         * 6e38 overflows); at T = FLT_MAX the real weights would be exp(-1.8), yet those tokens
         * must be masked, while 1e38 (distance 2e38, no overflow) keeps its weight. */
        const size_t n = 4096;
        for (size_t i = 0; i < n; i++)
            x[i] = (i % 3 == 0) ? -3e38f : (i % 3 == 1) ? 3e38f : 1e38f;
        for (size_t t = 0; t < sizeof temps / sizeof *temps; t++) {
            nuc_params p = P(temps[t], 0, 1.0f, 0.0f);
            ctx c = {&f, isa, "long +-3e38 row", 1};
            check_row(&c, x, n, &p, NUC_OK);
        }
    }
    free(x);
    UT_ASSERT_NO_FAILS(&f);
}
END_TEST

START_TEST(single_unmasked_token)
{
    ut_fails f = {0};
    const size_t n = big_n();
    float *x = row_buf(n);
    const size_t pos[] = {0, 17, n / 2 + 3, n - 1};
    const float vals[] = {0.0f, -3e38f, 3e38f, 0x1p-149f};
    const nuc_params ps[] = {P(1, 0, 1, 0),      P(1, 1, 1, 0),     P(1, 1000, 1, 0),
                             P(1, 0, 0, 0),      P(1, 0, 0.5f, 0),  P(1, 0, 1, 1),
                             P(1e-30f, 0, 1, 0), P(1e30f, 0, 1, 0), P(0, 0, 1, 0),
                             P(0.5f, 40, 0.9f, 0.05f)};
    for (size_t i = 0; i < n; i++)
        x[i] = -INFINITY;
    UT_FOR_EACH_ISA(isa)
    for (size_t a = 0; a < sizeof pos / sizeof *pos; a++)
        for (size_t v = 0; v < (quick() ? 1 : sizeof vals / sizeof *vals); v++) {
            x[pos[a]] = vals[v];
            for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
                ctx c = {&f, isa, "one live token", 1};
                check_row(&c, x, n, &ps[k], NUC_OK);
                const nuc_params *p = &ps[k];
                if (sc()->q[pos[a]] != 1.0f)
                    FAIL(&c, "q[%zu] = %g, want exactly 1", pos[a], (double)sc()->q[pos[a]]);
            }
            x[pos[a]] = -INFINITY;
        }
    free(x);
    UT_ASSERT_NO_FAILS(&f);
}
END_TEST

START_TEST(length_one)
{
    ut_fails f = {0};
    const float ok[] = {0.0f, -0.0f, 0x1p-149f, -3e38f, 3e38f, FLT_MAX, -FLT_MAX, 5.0f};
    const nuc_params ps[] = {P(1, 0, 1, 0),   P(1, 1, 1, 0),      P(1, 7, 1, 0),
                             P(1, 0, 0, 0),   P(1, 0, 1, 1),      P(1e-30f, 0, 1, 0),
                             P(1e30f, 0, 0, 1), P(0x1p-149f, 0, 1, 0), P(-0.0f, 0, 1, 0),
                             P(FLT_MAX, 3, 0.5f, 0.5f)};
    UT_FOR_EACH_ISA(isa)
    {
        for (size_t v = 0; v < sizeof ok / sizeof *ok; v++)
            for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
                ctx c = {&f, isa, "n = 1", 1};
                check_row(&c, &ok[v], 1, &ps[k], NUC_OK);
                const nuc_params *p = &ps[k];
                const size_t n = 1;
                if (sc()->q[0] != 1.0f)
                    FAIL(&c, "q[0] = %g, want exactly 1", (double)sc()->q[0]);
            }
        const float minf = -INFINITY, nan = NAN, pinf = INFINITY;
        for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
            ctx c = {&f, isa, "n = 1, -inf", 1};
            check_row(&c, &minf, 1, &ps[k], NUC_EMASKED);
            c.what = "n = 1, NaN";
            check_row(&c, &nan, 1, &ps[k], NUC_ENONFINITE);
            c.what = "n = 1, +inf";
            check_row(&c, &pinf, 1, &ps[k], NUC_ENONFINITE);
        }
    }
    UT_ASSERT_NO_FAILS(&f);
}
END_TEST

/* top_p 0 and 1 exactly, min_p 1, top_k at and above the number of unmasked tokens. */
START_TEST(exact_parameter_bounds)
{
    ut_fails f = {0};
    static const gen_profile profiles[] = {GEN_PEAKED, GEN_TIES, GEN_FLAT3, GEN_MASKED90,
                                           GEN_EQUAL, GEN_SPIKE, GEN_ZIPF};
    /* Quick: no row long enough for the sampled paths (test_api and test_oracle have them). */
    const size_t lens[] = {1, 2, 17, 257, 4099, 128256};
    const size_t nlens = sizeof lens / sizeof *lens - (quick() ? 1 : 0);
    float *x = row_buf(128256);
    UT_FOR_EACH_ISA(isa)
    for (size_t g = 0; g < sizeof profiles / sizeof *profiles; g++)
        for (size_t l = 0; l < nlens; l++) {
            const size_t n = lens[l];
            gen_logits(profiles[g], n, 77 + l, x);
            if (oracle_row_code(x, n) != NUC_OK)
                continue;
            int32_t live = 0;
            for (size_t i = 0; i < n; i++)
                live += x[i] != -INFINITY;
            const float top = 0x1.fffffep-1f, tiny = 0x1p-149f;
            /* Each bound alone, then together. */
            const nuc_params ps[] = {
                P(1, 1, 1, 0),          P(1, live - 1, 1, 0),  P(1, live, 1, 0),
                P(1, live + 1, 1, 0),   P(1, (int32_t)n + 1, 1, 0), P(1, INT32_MAX, 1, 0),
                P(1, 0, 0.0f, 0),       P(1, 0, -0.0f, 0),     P(1, 0, 1.0f, 0),
                P(1, 0, top, 0),        P(1, 0, tiny, 0),      P(1, 0, 1, 1.0f),
                P(1, 0, 1, -0.0f),      P(1, 0, 1, top),       P(1, 0, 1, tiny),
                P(1, live + 1, 0, 1),   P(1, live, 1, 1),      P(1, INT32_MAX, top, tiny),
                P(1, live - 1, tiny, top), P(0.5f, 1, 0, 1),
            };
            for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
                /* The long rows (the oracle sorts them) take a third of the sets, on three
                 * profiles. */
                if (ps[k].top_k < 0 || (n > 5000 && (k % 3 || g % 3)))
                    continue;
                char what[80];
                snprintf(what, sizeof what, "%s row (%d live)", gen_name(profiles[g]),
                         (int)live);
                ctx c = {&f, isa, what, 1};
                check_row(&c, x, n, &ps[k], NUC_OK);
            }
        }
    free(x);
    UT_ASSERT_NO_FAILS(&f);
}
END_TEST

/* Subnormal logits, signed zeros and their ties: -0.0 == 0.0, so the first of them is the max
 * and ranks first. */
START_TEST(subnormals_and_signed_zeros)
{
    ut_fails f = {0};
    const float vals[] = {0.0f, -0.0f, 0x1p-149f, -0x1p-149f, 0x1p-130f, -0x1p-130f, FLT_MIN,
                          -FLT_MIN, 0x1.fffffcp-127f};
    const size_t nv = sizeof vals / sizeof *vals;
    float *x = row_buf(300);
    uint64_t s = 99;
    UT_FOR_EACH_ISA(isa)
    {
        /* Rows of zeros of both signs: greedy and every cut take the first index. */
        for (size_t n = 1; n <= 70; n++) {
            for (size_t i = 0; i < n; i++)
                x[i] = (i % 2) ? 0.0f : -0.0f;
            if (n > 3)
                x[n - 1] = -INFINITY;
            for (size_t k = 0; k < N_COMMON; k++) {
                ctx c = {&f, isa, "signed zeros", 1};
                check_row(&c, x, n, &common_params[k], NUC_OK);
                const nuc_params *p = &common_params[k];
                int32_t tok = -1;
                nuc_params one = P(1.0f, 1, 1.0f, 0.0f);
                if (nuc_sample_u(sc()->s, x, n, &one, 0.999, &tok) != NUC_OK || tok != 0)
                    FAIL(&c, "top_k 1 over signed-zero ties gives %d, want 0", (int)tok);
                one = P(1.0f, 0, 0.0f, 0.0f);
                if (nuc_sample_u(sc()->s, x, n, &one, 0.999, &tok) != NUC_OK || tok != 0)
                    FAIL(&c, "top_p 0 over signed-zero ties gives %d, want 0", (int)tok);
            }
        }
        /* Random rows of subnormals and zeros: at ordinary T every weight is 1. */
        for (size_t n = 1; n <= 300; n += (n < 70 ? 1 : 23)) {
            for (size_t i = 0; i < n; i++) {
                s = s * 6364136223846793005u + 1442695040888963407u;
                x[i] = vals[(s >> 33) % nv];
            }
            const nuc_params ps[] = {P(1, 0, 1, 0), P(1, 2, 1, 0),      P(1, 0, 0, 0),
                                     P(1, 0, 1, 1), P(1e-30f, 0, 1, 0), P(0, 0, 1, 0),
                                     P(0.8f, 5, 0.6f, 0.3f)};
            for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
                ctx c = {&f, isa, "subnormal row", 1};
                check_row(&c, x, n, &ps[k], NUC_OK);
            }
        }
    }
    free(x);
    UT_ASSERT_NO_FAILS(&f);
}
END_TEST

START_TEST(all_equal_long_rows)
{
    ut_fails f = {0};
    const size_t n = big_n();
    float *x = row_buf(n);
    const float vals[] = {0.0f, -0.0f, 1.0f, -3e38f, 3e38f, 0x1p-149f};
    const nuc_params ps[] = {P(1, 0, 1, 0),  P(1, 10, 1, 0),      P(1, 0, 0, 0),
                             P(1, 0, 0.5f, 0), P(1, 0, 1, 1),     P(0, 0, 1, 0),
                             P(1e30f, 0, 1, 0), P(1e-30f, 7, 0.3f, 0.2f)};
    UT_FOR_EACH_ISA(isa)
    for (size_t v = 0; v < (quick() ? 2 : sizeof vals / sizeof *vals); v++) {
        for (size_t i = 0; i < n; i++)
            x[i] = vals[v];
        if (vals[v] == 0.0f && v == 1) /* -0.0 and +0.0 alternating: still one value */
            for (size_t i = 0; i < n; i += 2)
                x[i] = 0.0f;
        for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
            const nuc_params *p = &ps[k];
            ctx c = {&f, isa, "all equal", 1};
            check_row(&c, x, n, p, NUC_OK);
            const float *q = sc()->q;
            /* Every weight is exactly 1, so the exact answers are known. */
            if (k == 0 || k == 4 || k == 6) {
                for (size_t i = 0; i < n; i++)
                    if (q[i] != 0x1p-18f * (float)(BIG_N / n)) {
                        FAIL(&c, "q[%zu] = %a, want exactly 1/n", i, (double)q[i]);
                        break;
                    }
            } else if (k == 1) {
                for (size_t i = 0; i < n; i++)
                    if (q[i] != (i < 10 ? 0.1f : 0.0f)) {
                        FAIL(&c, "top_k 10: q[%zu] = %g", i, (double)q[i]);
                        break;
                    }
            } else if (k == 2 || k == 5) {
                if (q[0] != 1.0f)
                    FAIL(&c, "q[0] = %g, want 1", (double)q[0]);
            } else if (k == 3) {
                /* top_p 0.5: token j (mass j before it) is kept while j <= n / 2; the draw at u
                 * is then token floor(u * kept) of the equal weights. */
                const size_t kept = n / 2 + 1;
                for (size_t i = 0; i < n; i++)
                    if (q[i] != (i < kept ? (float)(1.0 / (double)kept) : 0.0f)) {
                        FAIL(&c, "top_p 0.5: q[%zu] = %a", i, (double)q[i]);
                        break;
                    }
                const double us[] = {0.0, 0.3, 0.5, 0.999999};
                for (size_t j = 0; j < sizeof us / sizeof *us; j++) {
                    int32_t tok = -1;
                    const int32_t want = (int32_t)floor(us[j] * (double)kept);
                    if (nuc_sample_u(sc()->s, x, n, p, us[j], &tok) != NUC_OK || tok != want)
                        FAIL(&c, "top_p 0.5 at u = %g: token %d, want %d", us[j], (int)tok,
                             (int)want);
                }
            }
        }
    }
    free(x);
    UT_ASSERT_NO_FAILS(&f);
}
END_TEST

/* Two logits 10 ulps apart (probabilities 1.6e-6 apart, past the contract's 1e-6 rank margin)
 * that round to one weight 18 T below the max: a top-k cut inside that weight keeps the larger
 * logit first, though it has the larger index. */
START_TEST(top_k_inside_a_weight_shared_by_two_logits)
{
    ut_fails f = {0};
    const float max = 0x1.fef08cp+3f, lower = 0x1.42c7cp+1f, upper = 0x1.42c7cap+1f;
    const size_t ns[] = {64, big_n()};
    UT_FOR_EACH_ISA(isa)
    for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++) {
        const size_t n = ns[ni], at_lower[] = {5, n / 2}, at_upper = n / 3, at_max = n - 1;
        float *x = row_buf(n);
        for (size_t i = 0; i < n; i++)
            x[i] = max - 40.0f - (float)(i % 7);
        x[at_max] = max;
        x[at_lower[0]] = x[at_lower[1]] = lower;
        x[at_upper] = upper;
        ctx c = {&f, isa, "top-k inside a weight shared by two logits", 1};
        const nuc_params all = P(0.75f, 0, 1, 0), *p = &all;
        check_row(&c, x, n, p, NUC_OK);
        const float *q = sc()->q;
        if (q[at_upper] != q[at_lower[0]]) /* the premise: without it the cut below is moot */
            FAIL(&c, "n %zu: the two logits weigh %a and %a", n, (double)q[at_upper],
                 (double)q[at_lower[0]]);
        for (int k = 2; k <= 4; k++) { /* the max, then upper, then lower by index */
            const nuc_params params = P(0.75f, k, 1, 0);
            p = &params;
            check_row(&c, x, n, p, NUC_OK);
            const int want[3] = {k >= 2, k >= 3, k >= 4}; /* upper, lower[0], lower[1] */
            const int got[3] = {q[at_upper] > 0.0f, q[at_lower[0]] > 0.0f, q[at_lower[1]] > 0.0f};
            if (got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || !(q[at_max] > 0.0f))
                FAIL(&c, "n %zu top_k %d: kept upper %d, lower %d %d; want %d, %d %d", n, k,
                     got[0], got[1], got[2], want[0], want[1], want[2]);
        }
        free(x);
    }
    UT_ASSERT_NO_FAILS(&f);
}
END_TEST

/* A long row whose max is shared by `tied` tokens spread over it (more than the exp pass lists),
 * the rest below: top-k keeps the first k of them by index while k <= tied (the index order of
 * ties), and reaches below the max once k > tied. */
START_TEST(top_k_inside_a_tie_at_the_max)
{
    ut_fails f = {0};
    const size_t n = big_n(), tied = 10000;
    const size_t ks[] = {1, 40, tied - 1, tied, tied + 1, tied + 2000};
    float *x = row_buf(n);
    uint64_t r = 7;
    UT_FOR_EACH_ISA(isa)
    for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
        const size_t k = ks[ki];
        for (size_t i = 0; i < n; i++) {
            r = r * 6364136223846793005u + 1442695040888963407u;
            x[i] = (float)((r >> 40) % 1000) * 1e-3f; /* below 1, many ties of their own */
        }
        for (size_t t = 0; t < tied; t++) /* 3 is prime to n: every t its own token */
            x[(t * 3 + 13) % n] = 2.0f;
        const nuc_params params = P(1, (int)k, 1, 0), *p = &params;
        ctx c = {&f, isa, "top-k in a tie at the max", 1};
        check_row(&c, x, n, p, NUC_OK);
        const float *q = sc()->q;
        size_t kept = 0, first_out = n;
        for (size_t i = 0; i < n; i++) {
            if (x[i] == 2.0f) {
                if (q[i] > 0.0f)
                    kept++;
                else if (first_out == n)
                    first_out = i;
            }
        }
        const size_t want = k < tied ? k : tied;
        if (kept != want)
            FAIL(&c, "k %zu: %zu of the tied max kept, want %zu", k, kept, want);
        for (size_t i = first_out; i < n && k < tied; i++)
            if (x[i] == 2.0f && q[i] > 0.0f) {
                FAIL(&c, "k %zu: tied token %zu kept after the excluded %zu", k, i, first_out);
                break;
            }
    }
    free(x);
    UT_ASSERT_NO_FAILS(&f);
}
END_TEST

/* NaN, +inf and -inf at the first, middle and last position of every length 1..70, from
 * unaligned starts, over finite and over all -inf backgrounds. */
/* Rows whose top-p cut is found off the common path, swept over top_p so that the cut visits
 * every part of the row:
 *   - eight tie groups, two of them 0.4% apart and three more 0.3% apart: the strided sample
 *     puts each close set in one bucket of its histogram, and the cut's group is told from its
 *     neighbours by the sampled counts, or by narrowing a band that holds whole groups; top_p
 *     also sits 0.2% to either side of each group's edge, where the sample may well guess the
 *     neighbouring group first;
 *   - one token in 21 within 8 T of the max, the rest 20 T below it: the cut lies inside the
 *     exp pass's candidate list (6k tokens), which is narrowed before its radix cut;
 *   - short rows (N(0,1), and the tie groups above), cut over the list of every token and
 *     narrowed the same way. */
START_TEST(top_p_among_tie_groups_and_long_lists)
{
    ut_fails f = {0};
    const size_t n_long = quick() ? QUICK_BIG_N : 131072, n_short = 10000;
    static const float levels[8] = {1.0f, 0.6f, 0.3012f, 0.3f, 0.1006f, 0.1003f, 0.1f, 0.02f};
    static const float top_ps[] = {0.2f, 0.5f, 0.7f, 0.8f, 0.86f, 0.89f, 0.93f, 0.96f, 0.98f};
    static const char *const names[] = {"close tie groups", "a long candidate list",
                                        "a short row", "a short row of tie groups"};
    float *x = row_buf(n_long);
    UT_FOR_EACH_ISA(isa)
    for (int row = 0; row < 4; row++) {
        const size_t n = row >= 2 ? n_short : n_long;
        uint64_t r = 11;
        if (row == 2)
            gen_logits(GEN_FLAT, n, r, x);
        for (size_t i = 0; row != 2 && i < n; i++) {
            r = r * 6364136223846793005u + 1442695040888963407u;
            x[i] = row != 1          ? logf(levels[(r >> 33) % 8])
                   : i % 21 == 0 ? -8.0f * (float)((double)(r >> 11) * 0x1p-53)
                                 : -20.0f;
        }
        float tp[sizeof top_ps / sizeof *top_ps + 14];
        size_t ntp = sizeof top_ps / sizeof *top_ps;
        memcpy(tp, top_ps, sizeof top_ps);
        if (row != 1 && row != 2) { /* the groups' edges: their mass from the top */
            double mass[8] = {0}, total = 0.0, run = 0.0;
            for (size_t i = 0; i < n; i++)
                for (int g = 0; g < 8; g++)
                    if (x[i] == logf(levels[g]))
                        mass[g] += (double)levels[g];
            for (int g = 0; g < 8; g++)
                total += mass[g];
            for (int g = 0; g < 7; g++) {
                run += mass[g];
                tp[ntp++] = (float)(run / total - 0.002);
                tp[ntp++] = (float)(run / total + 0.002);
            }
        }
        for (size_t k = 0; k < ntp; k++) {
            const nuc_params params = P(1, 0, tp[k], 0), *p = &params;
            ctx c = {&f, isa, names[row], 1};
            check_row(&c, x, n, p, NUC_OK);
        }
    }
    free(x);
    UT_ASSERT_NO_FAILS(&f);
}
END_TEST

/* Flat rows whose strided sample misleads the top-p bracket: the tokens it reads (one in 64
 * from the 32nd, at these lengths) are moved, so the first band misses the cut, above it or
 * below, and the next band is placed on the cut's side from the exact mass the miss showed.
 * Samples moved far off (-60: they weigh nothing; +5: a tie group at the max) leave the sample
 * nothing to offer on that side, and every weight there is cut. */
START_TEST(top_p_when_the_sample_misleads)
{
    ut_fails f = {0};
    const size_t n = quick() ? QUICK_BIG_N : 131072;
    static const float moves[] = {0.25f, 0.5f, -0.25f, -0.5f, -60.0f};
    static const float top_ps[] = {0.3f, 0.7f, 0.9f, 0.97f};
    float *x = row_buf(n);
    UT_FOR_EACH_ISA(isa)
    for (size_t mv = 0; mv <= sizeof moves / sizeof *moves; mv++) {
        gen_logits(GEN_FLAT, n, 29, x);
        for (size_t i = 32; i < n; i += 64)
            x[i] = mv < sizeof moves / sizeof *moves ? x[i] + moves[mv] : 5.0f;
        for (size_t k = 0; k < sizeof top_ps / sizeof *top_ps; k++) {
            const nuc_params params = P(1, 0, top_ps[k], 0), *p = &params;
            char what[48];
            if (mv < sizeof moves / sizeof *moves)
                snprintf(what, sizeof what, "samples moved by %g", (double)moves[mv]);
            else
                snprintf(what, sizeof what, "samples set to 5 (the max)");
            ctx c = {&f, isa, what, 1};
            check_row(&c, x, n, p, NUC_OK);
        }
    }
    free(x);
    UT_ASSERT_NO_FAILS(&f);
}
END_TEST

START_TEST(nonfinite_positions)
{
    ut_fails f = {0};
    const float specials[] = {NAN, bits_f(0x7f800001u) /* signalling */,
                              bits_f(0xffc00123u) /* negative, with a payload */, INFINITY,
                              -INFINITY};
    const int codes[] = {NUC_ENONFINITE, NUC_ENONFINITE, NUC_ENONFINITE, NUC_ENONFINITE,
                         NUC_OK};
    /* All four parameter sets from an aligned start; the first two (sampling, greedy) from the
     * unaligned ones, over a finite background only. */
    const nuc_params ps[] = {P(1, 0, 1, 0), P(0, 0, 1, 0), P(0.7f, 40, 0.95f, 0.05f),
                             P(1, 0, 0, 0)};
    float *buf = row_buf(80);
    uint64_t s = 5;
    const size_t max_off = quick() ? 1 : 3;
    UT_FOR_EACH_ISA(isa)
    for (size_t off = 0; off <= max_off; off++)
        for (size_t n = 1; n <= 70; n++)
            for (int bg = 0; bg < (off ? 1 : 2); bg++) {
                float *x = buf + off;
                const size_t where[] = {0, n / 2, n - 1};
                for (size_t w = 0; w < 3; w++) {
                    if (w > 0 && where[w] == where[w - 1])
                        continue;
                    for (size_t sp = 0; sp < sizeof specials / sizeof *specials; sp++) {
                        for (size_t i = 0; i < n; i++) {
                            s = s * 6364136223846793005u + 1442695040888963407u;
                            x[i] = bg ? -INFINITY : (float)((int64_t)(s >> 40) % 2000) / 100.0f;
                        }
                        x[where[w]] = specials[sp];
                        int want = codes[sp];
                        if (want == NUC_OK && oracle_row_code(x, n) == NUC_EMASKED)
                            want = NUC_EMASKED;
                        for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
                            if ((quick() || off) && k > 1)
                                break;
                            char what[64];
                            snprintf(what, sizeof what, "%a at %zu (offset %zu, bg %d)",
                                     (double)specials[sp], where[w], off, bg);
                            ctx c = {&f, isa, what, 1};
                            check_row(&c, x, n, &ps[k], want);
                            /* An invalid parameter too: either code is right. */
                            if (want != NUC_OK) {
                                nuc_params bad = ps[k];
                                bad.top_p = 2.0f;
                                int32_t tok = tok_sentinel;
                                const int rc = nuc_sample_u(sc()->s, x, n, &bad, 0.5, &tok);
                                const nuc_params *p = &bad;
                                if ((rc != want && rc != NUC_EINVAL) || tok != tok_sentinel)
                                    FAIL(&c, "two faults: %d (token %d)", rc, (int)tok);
                            }
                        }
                    }
                }
            }
    free(buf);
    UT_ASSERT_NO_FAILS(&f);
}
END_TEST

START_TEST(all_masked_and_last_only)
{
    ut_fails f = {0};
    const size_t big = big_n();
    float *x = row_buf(big);
    const size_t lens[] = {255, 256, 257, 4096, 4099, big};
    const nuc_params ps[] = {P(1, 0, 1, 0), P(0, 0, 1, 0), P(0.7f, 40, 0.95f, 0.05f),
                             P(1, 0, 0, 1), P(1e30f, 0, 1, 0)};
    UT_FOR_EACH_ISA(isa)
    for (size_t li = 0; li < 70 + sizeof lens / sizeof *lens; li++) {
        const size_t n = li < 70 ? li + 1 : lens[li - 70];
        for (size_t i = 0; i < n; i++)
            x[i] = -INFINITY;
        for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
            ctx c = {&f, isa, "all -inf", 1};
            check_row(&c, x, n, &ps[k], NUC_EMASKED);
        }
        const float lastv[] = {0.0f, -3e38f, 3e38f, 0x1p-149f};
        for (size_t v = 0; v < sizeof lastv / sizeof *lastv; v++) {
            x[n - 1] = lastv[v];
            for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
                const nuc_params *p = &ps[k];
                ctx c = {&f, isa, "only the last finite", 1};
                check_row(&c, x, n, p, NUC_OK);
                if (sc()->q[n - 1] != 1.0f)
                    FAIL(&c, "q[n-1] = %g, want exactly 1", (double)sc()->q[n - 1]);
            }
        }
    }
    free(x);
    UT_ASSERT_NO_FAILS(&f);
}
END_TEST

/* Parameters on and just outside their domains. */
START_TEST(parameter_domains)
{
    ut_fails f = {0};
    float x[37];
    gen_logits(GEN_PEAKED, 37, 3, x);
    const size_t n = 37;
    const struct {
        nuc_params p;
        int want;
    } cases[] = {
        {{1, -1, 1, 0}, NUC_EINVAL},        {{1, INT32_MIN, 1, 0}, NUC_EINVAL},
        {{1, 0, -0.1f, 0}, NUC_EINVAL},     {{1, 0, 1.0000001f, 0}, NUC_EINVAL},
        {{1, 0, NAN, 0}, NUC_EINVAL},       {{1, 0, -INFINITY, 0}, NUC_EINVAL},
        {{1, 0, 1, -0x1p-149f}, NUC_EINVAL}, {{1, 0, 1, 1.0000001f}, NUC_EINVAL},
        {{1, 0, 1, NAN}, NUC_EINVAL},       {{1, 0, 1, INFINITY}, NUC_EINVAL},
        {{NAN, 0, 1, 0}, NUC_EINVAL},       {{INFINITY, 0, 1, 0}, NUC_EINVAL},
        {{1, 0, -0.0f, -0.0f}, NUC_OK},     {{-INFINITY, -1, 1, 0}, NUC_EINVAL},
        {{0, 0, NAN, 0}, NUC_EINVAL},       {{-1, 0, 1, 2}, NUC_EINVAL},
        {{1, INT32_MAX, 0x1p-149f, 0x1p-149f}, NUC_OK},
    };
    UT_FOR_EACH_ISA(isa)
    {
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            ctx c = {&f, isa, "parameter domain", 1};
            check_row(&c, x, n, &cases[i].p, cases[i].want);
        }
        /* u outside [0,1): NaN, 1, above, below, infinities. -0.0 is inside. */
        const nuc_params dp = nuc_params_default();
        const nuc_params *p = &dp;
        const double bad_u[] = {NAN, -NAN, 1.0, 1.0000000000000002, -1e-300, -INFINITY,
                                INFINITY, 2.0};
        for (size_t i = 0; i < sizeof bad_u / sizeof *bad_u; i++) {
            int32_t tok = tok_sentinel;
            const int rc = nuc_sample_u(sc()->s, x, n, p, bad_u[i], &tok);
            ctx c = {&f, isa, "u outside [0,1)", 1};
            if (rc != NUC_EINVAL || tok != tok_sentinel)
                FAIL(&c, "u=%g: %d (token %d)", bad_u[i], rc, (int)tok);
        }
        int32_t tok = tok_sentinel;
        if (nuc_sample_u(sc()->s, x, n, p, -0.0, &tok) != NUC_OK || tok < 0 || tok >= 37) {
            ctx c = {&f, isa, "u = -0.0", 1};
            FAIL(&c, "token %d", (int)tok);
        }
        /* Greedy ignores u, but u is still validated. */
        nuc_params g = P(0, 0, 1, 0);
        tok = tok_sentinel;
        if (nuc_sample_u(sc()->s, x, n, &g, 1.0, &tok) != NUC_EINVAL || tok != tok_sentinel) {
            ctx c = {&f, isa, "greedy, u = 1", 1};
            FAIL(&c, "token %d", (int)tok);
        }
    }
    UT_ASSERT_NO_FAILS(&f);
}
END_TEST

/* Temperatures below FLT_MIN count as FLT_MIN (README: 1/T stays finite and exact): a row at a
 * subnormal temperature gives the bits of the same row at FLT_MIN, which the oracle checks. */
START_TEST(subnormal_temperature_gaps)
{
    ut_fails f = {0};
    UT_FOR_EACH_ISA(isa)
    {
        const float rows[][2] = {{0x1p-124f, 0x1p-126f}, {0x1p-125f, 0.0f}, {FLT_MIN, 0.0f}};
        const float temps[] = {0x1p-149f, 1e-39f, 0x1p-127f};
        for (size_t r = 0; r < 3; r++) {
            nuc_params at_min = P(FLT_MIN, 0, 1, 0);
            ctx c = {&f, isa, "T = FLT_MIN, gaps of a few T", 1};
            check_row(&c, rows[r], 2, &at_min, NUC_OK);
            float q_min[2], q_sub[2];
            ck_assert_int_eq(nuc_probs(sc()->s, rows[r], 2, &at_min, q_min), NUC_OK);
            for (size_t t = 0; t < 3; t++) {
                nuc_params sub = P(temps[t], 0, 1, 0);
                ck_assert_int_eq(nuc_probs(sc()->s, rows[r], 2, &sub, q_sub), NUC_OK);
                if (memcmp(q_min, q_sub, sizeof q_min) != 0)
                    ut_fail(&f, "[%s] row %zu T %a: q = %g %g, at FLT_MIN %g %g",
                            nuc_isa_name(isa), r, (double)temps[t], (double)q_sub[0],
                            (double)q_sub[1], (double)q_min[0], (double)q_min[1]);
            }
        }
    }
    UT_ASSERT_NO_FAILS(&f);
}
END_TEST

int main(void)
{
    /* One case per test, so that CK_RUN_CASE=<name> runs one alone. */
    const struct {
        const char *name;
        const TTest *test;
    } tests[] = {
        {"extreme_temperatures", extreme_temperatures},
        {"huge_span", huge_span},
        {"single_unmasked_token", single_unmasked_token},
        {"length_one", length_one},
        {"exact_parameter_bounds", exact_parameter_bounds},
        {"subnormals_and_signed_zeros", subnormals_and_signed_zeros},
        {"all_equal_long_rows", all_equal_long_rows},
        {"top_k_inside_a_tie_at_the_max", top_k_inside_a_tie_at_the_max},
        {"top_k_inside_a_weight_shared_by_two_logits", top_k_inside_a_weight_shared_by_two_logits},
        {"top_p_among_tie_groups_and_long_lists", top_p_among_tie_groups_and_long_lists},
        {"top_p_when_the_sample_misleads", top_p_when_the_sample_misleads},
        {"nonfinite_positions", nonfinite_positions},
        {"all_masked_and_last_only", all_masked_and_last_only},
        {"parameter_domains", parameter_domains},
        {"subnormal_temperature_gaps", subnormal_temperature_gaps},
    };
    Suite *s = suite_create("edge");
    for (size_t i = 0; i < sizeof tests / sizeof *tests; i++) {
        TCase *tc = ut_tcase(tests[i].name);
        tcase_add_test(tc, tests[i].test);
        suite_add_tcase(s, tc);
    }
    return ut_run(s);
}
