/* libFuzzer target: nuc_sample_u, nuc_sample and nuc_argmax on hostile rows, parameters and
 * uniforms (u = 1, NaN, negative, huge), and rows longer than the sampler's capacity.
 * Invariants: the code is the contract's; on success the token is in [0,n) on a finite logit
 * with q[token] > 0 (greedy: the first max); on failure the token is untouched; nuc_sample is
 * nuc_sample_u of nuc_uniform(seed, stream, step); the logits are never written; every kernel
 * set returns the same codes and tokens. */
#include "fuzz_common.h"

static float buf[FZ_MAX_N + 8], copy[FZ_MAX_N + 8], q[FZ_MAX_N];

typedef struct answers {
    int rc_u, rc_s, rc_a, rc_small;
    int32_t tok_u, tok_s, idx;
} answers;

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
    const int u_bad = !(c.u >= 0.0 && c.u < 1.0);
    const int greedy = !(c.p.temperature > 0.0f);
    const size_t fm = oracle_first_max(x, n);
    nuc_sampler *s = fz_sampler();
    /* A sampler one token too small: always NUC_EINVAL, nothing written. */
    static nuc_sampler *small;
    if (n > 1 && nuc_sampler_capacity(small) != n - 1) {
        nuc_sampler_free(small);
        small = nuc_sampler_new(n - 1);
        fuzz_check(small != NULL, "nuc_sampler_new(%zu) failed", n - 1);
    }

    nuc_isa isas[4];
    const int ni = fz_isas(c.first_isa, isas);
    answers first = {0};
    for (int k = 0; k < ni; k++) {
        fz_force(isas[k]);
        const char *name = nuc_isa_name(isas[k]);
        answers a;

        /* The caller's own uniform. */
        int32_t tok[2] = {FZ_TOK_SENTINEL, FZ_TOK_SENTINEL};
        a.rc_u = nuc_sample_u(s, x, n, &c.p, c.u, tok);
        a.tok_u = tok[0];
        fuzz_check(tok[1] == FZ_TOK_SENTINEL, "[%s] nuc_sample_u wrote past the token", name);
        fz_check_code("nuc_sample_u", a.rc_u, row_rc, einval || u_bad);
        if (a.rc_u != NUC_OK) {
            fuzz_check(tok[0] == FZ_TOK_SENTINEL, "[%s] nuc_sample_u failed but wrote", name);
        } else {
            fuzz_check(tok[0] >= 0 && (size_t)tok[0] < n && isfinite(x[tok[0]]),
                       "[%s] token %d out of range or on a non-finite logit", name, (int)tok[0]);
            if (greedy)
                fuzz_check((size_t)tok[0] == fm, "[%s] greedy token %d, first max %zu", name,
                           (int)tok[0], fm);
            fuzz_check(nuc_probs(s, x, n, &c.p, q) == NUC_OK, "[%s] nuc_probs fails", name);
            fuzz_check(q[tok[0]] > 0.0f, "[%s] u=%.17g: token %d has q %g", name, c.u,
                       (int)tok[0], (double)q[tok[0]]);
        }

        /* The library's own uniform. */
        int32_t t2 = FZ_TOK_SENTINEL, t3 = FZ_TOK_SENTINEL;
        a.rc_s = nuc_sample(s, x, n, &c.p, c.seed, c.stream, c.step, &t2);
        a.tok_s = t2;
        fz_check_code("nuc_sample", a.rc_s, row_rc, einval);
        const int rc3 = nuc_sample_u(s, x, n, &c.p, nuc_uniform(c.seed, c.stream, c.step), &t3);
        fuzz_check(a.rc_s == rc3 && t2 == t3,
                   "[%s] nuc_sample (%d, %d) is not nuc_sample_u of its uniform (%d, %d)", name,
                   a.rc_s, (int)t2, rc3, (int)t3);
        if (a.rc_s != NUC_OK)
            fuzz_check(t2 == FZ_TOK_SENTINEL, "[%s] nuc_sample failed but wrote", name);
        else
            fuzz_check(t2 >= 0 && (size_t)t2 < n && isfinite(x[t2]) && (!greedy || (size_t)t2 == fm),
                       "[%s] nuc_sample token %d", name, (int)t2);

        /* The argmax stage: the row alone decides. */
        int32_t idx = FZ_TOK_SENTINEL;
        a.rc_a = nuc_argmax(x, n, &idx);
        a.idx = idx;
        fuzz_check(a.rc_a == row_rc, "[%s] nuc_argmax returned %d, row code %d", name, a.rc_a,
                   row_rc);
        fuzz_check(a.rc_a != NUC_OK ? idx == FZ_TOK_SENTINEL : (size_t)idx == fm,
                   "[%s] nuc_argmax gives %d (rc %d), first max %zu", name, (int)idx, a.rc_a, fm);

        /* Over capacity. */
        a.rc_small = 0;
        if (n > 1) {
            int32_t t4 = FZ_TOK_SENTINEL;
            a.rc_small = nuc_sample_u(small, x, n, &c.p, 0.5, &t4);
            fuzz_check(a.rc_small == NUC_EINVAL && t4 == FZ_TOK_SENTINEL,
                       "[%s] a row longer than the sampler: %d, token %d", name, a.rc_small,
                       (int)t4);
        }
        fuzz_check(memcmp(x, copy, n * sizeof *x) == 0, "[%s] the logits were written", name);

        if (k == 0)
            first = a;
        else
            fuzz_check(memcmp(&a, &first, sizeof a) == 0,
                       "%s and %s differ: u (%d, %d) vs (%d, %d), seed (%d, %d) vs (%d, %d)",
                       name, nuc_isa_name(isas[0]), a.rc_u, (int)a.tok_u, first.rc_u,
                       (int)first.tok_u, a.rc_s, (int)a.tok_s, first.rc_s, (int)first.tok_s);
    }
    return 0;
}
