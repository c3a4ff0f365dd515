/* libFuzzer target: nuc_probs and nuc_softmax on hostile rows and parameters.
 * Invariants: the code is the contract's (OK on valid input, else one of the faults' codes);
 * on success q is a distribution (non-negative, no NaN, sums to 1 within 1e-5, 0 on masked
 * tokens; greedy: the one-hot of the first max) and a token sampled with any u has q > 0; on
 * failure q is untouched; nothing is written past q[n-1]; the logits are never written; every
 * kernel set returns the same code and the same bits. And the double-precision oracle
 * (tests/oracle.c) agrees: the kept set lies between its rounding-margin bounds and q is the
 * real softmax over the kept set within 1e-5 relative / 1e-9 absolute, wherever real arithmetic
 * is the contract (see oracle_applies). */
#include "fuzz_common.h"
#include "oracle.h"

static float buf[FZ_MAX_N + 8], copy[FZ_MAX_N + 8];
static float q[FZ_MAX_N + FZ_GUARD], q_first[FZ_MAX_N + FZ_GUARD];
static float sm[FZ_MAX_N + FZ_GUARD], sm_first[FZ_MAX_N + FZ_GUARD];
static double ref[FZ_MAX_N], oq[FZ_MAX_N];
static unsigned char lo[FZ_MAX_N], hi[FZ_MAX_N];

/* Where the library's answer must be the oracle's: everywhere but where the README departs
 * from real arithmetic on purpose, a logit whose distance to the max overflows float (masked,
 * whatever T). A temperature below FLT_MIN counts as FLT_MIN (README): the oracle gets that. */
static float effective_t(float t) { return t < FLT_MIN ? FLT_MIN : t; }

static int oracle_applies(const float *x, size_t n, float t)
{
    if (!(t > 0.0f))
        return 0;
    t = effective_t(t);
    const float m = x[oracle_first_max(x, n)];
    for (size_t i = 0; i < n; i++)
        if (x[i] != -INFINITY && fz_masked(x[i], m) &&
            exp(((double)x[i] - (double)m) / (double)t) > 1e-38)
            return 0;
    return 1;
}

/* Weights below exp(-87) of the max are flushed (README): only those clearly above must stay. */
#define KEEP_ABOVE 1.66e-38

static void check_oracle(const float *x, size_t n, const nuc_params *given, const float *q)
{
    nuc_params eff = *given;
    eff.temperature = effective_t(eff.temperature);
    const nuc_params *p = &eff;
    oracle_diag d;
    fuzz_check(oracle_probs(x, n, p, oq, &d) == NUC_OK, "the oracle refuses a valid row");
    const float m = x[oracle_first_max(x, n)];
    double kept_w = 0.0;
    for (size_t i = 0; i < n; i++) {
        ref[i] = x[i] == -INFINITY ? 0.0 : exp(((double)x[i] - (double)m) / (double)p->temperature);
        if (q[i] > 0.0f)
            kept_w += ref[i];
    }
    if (!d.near_rank && oracle_kept_bounds(x, n, p, lo, hi) == NUC_OK)
        for (size_t i = 0; i < n; i++) {
            fuzz_check(!(q[i] > 0.0f) || hi[i], "token %zu (x %a) kept; the oracle never keeps it",
                       i, (double)x[i]);
            fuzz_check(q[i] > 0.0f || !lo[i] || ref[i] <= KEEP_ABOVE,
                       "token %zu (x %a, w %g) dropped; the oracle always keeps it", i,
                       (double)x[i], ref[i]);
        }
    fuzz_check(kept_w > 0.0, "the kept set has no real weight");
    for (size_t i = 0; i < n; i++) {
        const double want = q[i] > 0.0f ? ref[i] / kept_w : 0.0;
        const double err = fabs((double)q[i] - want);
        fuzz_check(err <= 1e-9 || err <= 1e-5 * want,
                   "q[%zu] = %.9g; the real softmax over the kept set gives %.9g", i,
                   (double)q[i], want);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_reader r;
    fz_case c;
    fz_init(&r, data, size);
    fz_decode(&r, &c, buf);
    const float *x = buf + c.offset;
    const size_t n = c.n;
    memcpy(copy, x, n * sizeof *x);
    const int row_rc = oracle_row_code(x, n);
    const int einval = fz_params_bad(&c.p);
    const int t_bad = isnan(c.p.temperature) || c.p.temperature == INFINITY;
    const int greedy = !(c.p.temperature > 0.0f);
    nuc_sampler *s = fz_sampler();

    nuc_isa isas[4];
    const int ni = fz_isas(c.first_isa, isas);
    int rc_first = 0, sm_rc_first = 0;
    for (int k = 0; k < ni; k++) {
        fz_force(isas[k]);
        const char *name = nuc_isa_name(isas[k]);

        /* nuc_probs */
        fz_fill_sentinel(q, n + FZ_GUARD);
        const int rc = nuc_probs(s, x, n, &c.p, q);
        fuzz_check(memcmp(x, copy, n * sizeof *x) == 0, "[%s] nuc_probs wrote the logits", name);
        fz_check_code("nuc_probs", rc, row_rc, einval);
        fuzz_check(fz_untouched(q + n, FZ_GUARD), "[%s] nuc_probs wrote past q[n-1]", name);
        if (rc != NUC_OK) {
            fuzz_check(fz_untouched(q, n), "[%s] nuc_probs failed (%d) but wrote q", name, rc);
        } else {
            fz_check_distribution("nuc_probs", x, n, q, greedy);
            /* Whatever u, the token drawn has q > 0. */
            const double us[] = {0.0, 0.5, 0x1.fffffffffffffp-1, c.u >= 0.0 && c.u < 1.0 ? c.u : 0.25};
            for (int j = 0; j < 4; j++) {
                int32_t tok = FZ_TOK_SENTINEL;
                fuzz_check(nuc_sample_u(s, x, n, &c.p, us[j], &tok) == NUC_OK,
                           "[%s] nuc_sample_u fails where nuc_probs succeeds", name);
                fuzz_check(tok >= 0 && (size_t)tok < n && q[tok] > 0.0f,
                           "[%s] u=%.17g: token %d with q %g", name, us[j], (int)tok,
                           tok >= 0 && (size_t)tok < n ? (double)q[tok] : -1.0);
            }
        }
        if (k == 0) {
            rc_first = rc;
            memcpy(q_first, q, (n + FZ_GUARD) * sizeof *q);
            if (rc == NUC_OK && !greedy && oracle_applies(x, n, c.p.temperature))
                check_oracle(x, n, &c.p, q);
        } else {
            fuzz_check(rc == rc_first, "nuc_probs: %s returns %d, %s %d", name, rc,
                       nuc_isa_name(isas[0]), rc_first);
            fuzz_check(memcmp(q, q_first, (n + FZ_GUARD) * sizeof *q) == 0,
                       "nuc_probs: %s and %s differ in bits", name, nuc_isa_name(isas[0]));
        }

        /* nuc_softmax: the unfiltered pi; only the temperature and the row can be wrong. */
        fz_fill_sentinel(sm, n + FZ_GUARD);
        const int src = nuc_softmax(x, n, c.p.temperature, sm);
        fuzz_check(memcmp(x, copy, n * sizeof *x) == 0, "[%s] nuc_softmax wrote the logits",
                   name);
        fz_check_code("nuc_softmax", src, row_rc, t_bad);
        fuzz_check(fz_untouched(sm + n, FZ_GUARD), "[%s] nuc_softmax wrote past probs[n-1]",
                   name);
        if (src != NUC_OK)
            fuzz_check(fz_untouched(sm, n), "[%s] nuc_softmax failed but wrote", name);
        else
            fz_check_distribution("nuc_softmax", x, n, sm, greedy);
        if (k == 0) {
            sm_rc_first = src;
            memcpy(sm_first, sm, (n + FZ_GUARD) * sizeof *sm);
        } else {
            fuzz_check(src == sm_rc_first && memcmp(sm, sm_first, (n + FZ_GUARD) * sizeof *sm) == 0,
                       "nuc_softmax: %s and %s differ", name, nuc_isa_name(isas[0]));
        }
    }
    return 0;
}
