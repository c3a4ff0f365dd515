/* Written from SPEC section 2 alone, in double, the obvious way (sort, walk, sum), so that a
 * shared misreading with the library's threshold/histogram pipeline is unlikely. */
#include "oracle.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The rounding margins of SPEC section 2 ("Rounding"), each in the spec's own units. */
#define TOP_P_MARGIN 1e-5  /* exclusive mass, relative to the top-k survivors' total */
#define MIN_P_MARGIN 1e-6  /* relative to min_p * max pi */
#define RANK_MARGIN 1e-6   /* relative difference of two probabilities */
#define SAMPLE_MARGIN 1e-6 /* relative to M */

int oracle_row_code(const float *x, size_t n)
{
    int live = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]) || x[i] == INFINITY)
            return NUC_ENONFINITE;
        live |= x[i] != -INFINITY;
    }
    return live ? NUC_OK : NUC_EMASKED;
}

static int outside_unit(float v) { return isnan(v) || v < 0.0f || v > 1.0f; }

static int params_error(const nuc_params *p)
{
    if (isnan(p->temperature) || p->temperature == INFINITY || p->top_k < 0 ||
        outside_unit(p->top_p) || outside_unit(p->min_p))
        return NUC_EINVAL;
    return NUC_OK;
}

static int validate(const float *x, size_t n, const nuc_params *p, const void *out)
{
    if (x == NULL || p == NULL || out == NULL || n == 0 || n > (size_t)INT32_MAX)
        return NUC_EINVAL;
    int rc = oracle_row_code(x, n);
    return rc != NUC_OK ? rc : params_error(p);
}

size_t oracle_first_max(const float *x, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

/* Rank order by logit, not by pi: for T > 0 the two orders agree in real arithmetic, and the
 * logits cannot underflow the way exp() does in double for huge spreads. */
typedef struct ranked {
    float x;
    size_t i;
} ranked;

static int by_rank(const void *a, const void *b)
{
    const ranked *ra = a, *rb = b;
    if (ra->x != rb->x)
        return ra->x > rb->x ? -1 : 1;
    return (ra->i > rb->i) - (ra->i < rb->i);
}

typedef struct row {
    const float *x;
    float m;       /* the max logit */
    double t;      /* temperature, > 0 */
    double *w;     /* exp((x - m) / T), 0 when masked: the max weighs exactly 1 */
    double total;  /* the softmax denominator in these units */
    ranked *order; /* unmasked tokens; sorted by rank whenever a cut depends on rank */
    size_t nu;     /* number of unmasked tokens */
    size_t nk;     /* top-k survivors: order[0..nk-1] */
    double sk;     /* their weight */
} row;

static void row_free(row *r)
{
    free(r->w);
    free(r->order);
}

static int row_init(row *r, const float *x, size_t n, const nuc_params *p)
{
    memset(r, 0, sizeof *r);
    r->x = x;
    r->m = x[oracle_first_max(x, n)];
    r->t = p->temperature;
    r->w = malloc(n * sizeof *r->w);
    r->order = malloc(n * sizeof *r->order);
    if (r->w == NULL || r->order == NULL) {
        row_free(r);
        return NUC_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (x[i] == -INFINITY) {
            r->w[i] = 0.0;
            continue;
        }
        r->w[i] = exp(((double)x[i] - (double)r->m) / r->t);
        r->total += r->w[i];
        r->order[r->nu].x = x[i];
        r->order[r->nu].i = i;
        r->nu++;
    }
    size_t k = (size_t)p->top_k;
    r->nk = (k == 0 || k >= r->nu) ? r->nu : k;
    /* Without a top-k or top-p cut the order is never consulted; skipping the sort keeps the
     * oracle cheap on 256k rows. */
    if (r->nk < r->nu || p->top_p < 1.0f)
        qsort(r->order, r->nu, sizeof *r->order, by_rank);
    for (size_t j = 0; j < r->nk; j++)
        r->sk += r->w[r->order[j].i];
    return NUC_OK;
}

static double weight(const row *r, size_t rank) { return r->w[r->order[rank].i]; }

/* The number of top-p survivors (a prefix of the rank order). e_last and e_next receive the
 * exclusive masses (relative to sk) of the last kept and the first dropped token. */
static size_t top_p_cut(const row *r, double top_p, double *e_last, double *e_next)
{
    *e_last = *e_next = 0.0;
    if (top_p >= 1.0)
        return r->nk;
    double before = 0.0, excl = 0.0;
    size_t k = 0;
    while (k < r->nk && excl <= top_p * r->sk) {
        before = excl;
        excl += weight(r, k);
        k++;
    }
    *e_last = before / r->sk;
    *e_next = excl / r->sk;
    return k;
}

/* Ties with the max always survive min-p: their ratio to the max is exactly 1 in any
 * arithmetic, so min_p == 1 keeps them without any rounding question. */
static int min_p_keeps(const row *r, size_t i, double min_p)
{
    return min_p <= 0.0 || r->x[i] == r->m || r->w[i] >= min_p;
}

static size_t mark_kept(const row *r, size_t n, double top_p, double min_p, unsigned char *keep)
{
    double e_last, e_next;
    size_t np = top_p_cut(r, top_p, &e_last, &e_next), kept = 0;
    memset(keep, 0, n);
    for (size_t k = 0; k < np; k++) {
        size_t i = r->order[k].i;
        if (min_p_keeps(r, i, min_p)) {
            keep[i] = 1;
            kept++;
        }
    }
    return kept;
}

/* Probabilities of logits a > b differ by 1 - exp(-(a - b)/T) relative. */
static int close_logits(float a, float b, double t)
{
    double d = ((double)a - (double)b) / t;
    return d > 0.0 && -expm1(-d) <= RANK_MARGIN;
}

/* Whether a kept token (rank < c) and a dropped one (rank >= c) have differing logits whose
 * probabilities are within the rank margin, so that float rounding may swap them across the
 * cut. Exact ties are ordered by index in any arithmetic and do not count; the nearest
 * non-tied neighbours on each side are the only pairs to test since the order is sorted. */
static int near_cut(const row *r, size_t c)
{
    float a = r->order[c - 1].x, b = r->order[c].x;
    size_t j = c;
    while (j < r->nu && r->order[j].x == a)
        j++;
    if (j < r->nu && close_logits(a, r->order[j].x, r->t))
        return 1;
    size_t i = c;
    while (i > 0 && r->order[i - 1].x == b)
        i--;
    return i > 0 && close_logits(r->order[i - 1].x, b, r->t);
}

int oracle_probs(const float *x, size_t n, const nuc_params *p, double *q, oracle_diag *diag)
{
    oracle_diag d = {0};
    int rc = validate(x, n, p, q);
    if (rc != NUC_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        q[i] = 0.0;
    if (!(p->temperature > 0.0f)) {
        q[oracle_first_max(x, n)] = 1.0;
        d.kept = 1;
        d.mass = 1.0;
        if (diag != NULL)
            *diag = d;
        return NUC_OK;
    }

    row r;
    rc = row_init(&r, x, n, p);
    if (rc != NUC_OK)
        return rc;
    double e_last, e_next, min_p = p->min_p, top_p = p->top_p, kept_w = 0.0;
    size_t np = top_p_cut(&r, top_p, &e_last, &e_next);
    for (size_t k = 0; k < np; k++) {
        size_t i = r.order[k].i;
        if (min_p_keeps(&r, i, min_p)) {
            kept_w += r.w[i];
            d.kept++;
        }
        /* Either side of the threshold: a kept token just above it is as ambiguous as a
         * dropped one just below. */
        if (min_p > 0.0 && x[i] != r.m && fabs(r.w[i] - min_p) <= MIN_P_MARGIN * min_p)
            d.near_min_p = 1;
    }
    for (size_t k = 0; k < np; k++) {
        size_t i = r.order[k].i;
        if (min_p_keeps(&r, i, min_p))
            q[i] = r.w[i] / kept_w;
    }
    d.mass = kept_w / r.total;
    /* top_p 0 and 1 are exact rules, and rank 0 is kept for any top_p >= 0. */
    if (top_p > 0.0 && top_p < 1.0)
        d.near_top_p = (np >= 2 && top_p - e_last <= TOP_P_MARGIN) ||
                       (np < r.nk && e_next - top_p <= TOP_P_MARGIN);
    d.near_rank = (r.nk < r.nu && near_cut(&r, r.nk)) || (np < r.nk && near_cut(&r, np));
    row_free(&r);
    if (diag != NULL)
        *diag = d;
    return NUC_OK;
}

int oracle_sample_q(const double *q, size_t n, double u, int32_t *token, int *near_sample)
{
    if (q == NULL || token == NULL || n == 0 || !(u >= 0.0 && u < 1.0))
        return NUC_EINVAL;
    size_t t = n, last = n;
    double before = 0.0, cum = 0.0;
    int earlier = 0;
    for (size_t i = 0; i < n && t == n; i++) {
        if (!(q[i] > 0.0))
            continue;
        earlier = last != n;
        before = cum;
        cum += q[i];
        last = i;
        if (cum > u)
            t = i;
    }
    if (last == n)
        return NUC_EINVAL; /* not a distribution */
    /* u at or above the double-rounded total (u close to 1): the total is exactly 1 in real
     * arithmetic, so the answer is the last token, near only by its lower boundary. */
    if (t == n)
        t = last;
    int later = 0;
    for (size_t i = t + 1; i < n && !later; i++)
        later = q[i] > 0.0;
    /* Boundaries with no token beyond them cannot change the answer. */
    int near = (earlier && u - before <= SAMPLE_MARGIN) || (later && cum - u <= SAMPLE_MARGIN);
    *token = (int32_t)t;
    if (near_sample != NULL)
        *near_sample = near;
    return NUC_OK;
}

int oracle_sample(const float *x, size_t n, const nuc_params *p, double u, int32_t *token,
                  oracle_diag *diag)
{
    int rc = validate(x, n, p, token);
    if (rc != NUC_OK)
        return rc;
    if (!(u >= 0.0 && u < 1.0))
        return NUC_EINVAL;
    double *q = malloc(n * sizeof *q);
    if (q == NULL)
        return NUC_ENOMEM;
    oracle_diag d;
    rc = oracle_probs(x, n, p, q, &d);
    if (rc == NUC_OK)
        rc = oracle_sample_q(q, n, u, token, &d.near_sample);
    free(q);
    if (rc == NUC_OK && diag != NULL)
        *diag = d;
    return rc;
}

int oracle_kept_bounds(const float *x, size_t n, const nuc_params *p, unsigned char *lo,
                       unsigned char *hi)
{
    int rc = validate(x, n, p, lo);
    if (rc != NUC_OK)
        return rc;
    if (hi == NULL)
        return NUC_EINVAL;
    if (!(p->temperature > 0.0f)) {
        memset(lo, 0, n);
        lo[oracle_first_max(x, n)] = 1;
        memcpy(hi, lo, n);
        return NUC_OK;
    }
    row r;
    rc = row_init(&r, x, n, p);
    if (rc != NUC_OK)
        return rc;
    double tp = p->top_p, tp_lo = tp, tp_hi = tp, mp = p->min_p;
    if (tp > 0.0 && tp < 1.0) {
        tp_lo = fmax(0.0, tp - TOP_P_MARGIN);
        tp_hi = fmin(1.0, tp + TOP_P_MARGIN);
    }
    mark_kept(&r, n, tp_lo, mp * (1.0 + MIN_P_MARGIN), lo);
    mark_kept(&r, n, tp_hi, mp * (1.0 - MIN_P_MARGIN), hi);
    row_free(&r);
    return NUC_OK;
}
