/* The naive and the bucket-sort samplers; see baselines.h. Plain C11, no SIMD on purpose. */
#include "baselines.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct nb_pair {
    float v;   /* the sort key (a probability or a logit), or a weight */
    int32_t i; /* the token */
} nb_pair;

struct nbase_scratch {
    size_t cap;
    float *prob;    /* cap: softmax of the row */
    nb_pair *pairs; /* cap: the ranked candidates */
    nb_pair *kept;  /* cap: the kept candidates, re-sorted by token */
    uint8_t *bidx;  /* cap: the bucket of each token */
};

#define SMALL_KEPT 4096 /* up to this many kept tokens are sorted by index, else one pass */

nbase_scratch *nbase_new(size_t max_n) {
    if (max_n == 0 || max_n > (size_t)INT32_MAX) return NULL;
    nbase_scratch *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cap = max_n;
    s->prob = malloc(max_n * sizeof *s->prob);
    s->pairs = malloc(max_n * sizeof *s->pairs);
    s->kept = malloc(max_n * sizeof *s->kept);
    s->bidx = malloc(max_n);
    if (!s->prob || !s->pairs || !s->kept || !s->bidx) {
        nbase_free(s);
        return NULL;
    }
    return s;
}

void nbase_free(nbase_scratch *s) {
    if (!s) return;
    free(s->prob);
    free(s->pairs);
    free(s->kept);
    free(s->bidx);
    free(s);
}

/* ---- ordering ---------------------------------------------------------------------------- */

/* Rank order: larger key first, equal keys by ascending token. */
static int better(const nb_pair *a, const nb_pair *b) {
    return a->v > b->v || (a->v == b->v && a->i < b->i);
}

static int cmp_rank(const void *pa, const void *pb) {
    const nb_pair *a = pa, *b = pb;
    if (better(a, b)) return -1;
    if (better(b, a)) return 1;
    return 0;
}

static int cmp_token(const void *pa, const void *pb) {
    const nb_pair *a = pa, *b = pb;
    return (a->i > b->i) - (a->i < b->i);
}

/* The worst of a heap whose parents are never better than their children sits at the root. */
static void sift_down(nb_pair *h, size_t m, size_t at) {
    for (;;) {
        size_t c = 2 * at + 1;
        if (c >= m) return;
        if (c + 1 < m && better(&h[c], &h[c + 1])) c++; /* the worse child */
        if (!better(&h[at], &h[c])) return;
        nb_pair t = h[at];
        h[at] = h[c];
        h[c] = t;
        at = c;
    }
}

/* a[0..m-1] = the m best of a[0..len-1], in rank order (like std::partial_sort). */
static void partial_sort(nb_pair *a, size_t len, size_t m) {
    if (m == 0) return;
    if (m > len) m = len;
    if (m * 2 >= len) {
        qsort(a, len, sizeof *a, cmp_rank);
        return;
    }
    for (size_t k = m / 2; k-- > 0;) sift_down(a, m, k);
    for (size_t i = m; i < len; i++) {
        if (better(&a[i], &a[0])) {
            nb_pair t = a[0];
            a[0] = a[i];
            a[i] = t;
            sift_down(a, m, 0);
        }
    }
    qsort(a, m, sizeof *a, cmp_rank);
}

/* ---- the bucket partial sort (a 128-bucket histogram of the logits over [-10, 10]) -------- */

#define NBUCKETS 128
#define BUCKET_LOW (-10.0f)
#define BUCKET_HIGH 10.0f

static size_t bucket_top(nbase_scratch *s, const float *x, size_t n, size_t npartial) {
    const float scale = (float)NBUCKETS / (BUCKET_HIGH - BUCKET_LOW);
    const float inter = -BUCKET_LOW * scale;
    size_t histo[NBUCKETS] = {0};
    size_t off[NBUCKETS];
    uint8_t *bidx = s->bidx;
    nb_pair *out = s->pairs;
    if (npartial > n) npartial = n;

    for (size_t i = 0; i < n; i++) {
        float v = scale * x[i] + inter;
        int b = !(v > 0.0f) ? 0 : (v >= (float)(NBUCKETS - 1) ? NBUCKETS - 1 : (int)v);
        bidx[i] = (uint8_t)b;
        histo[b]++;
    }
    int ib = NBUCKETS - 1;
    size_t nhave = 0;
    for (; ib >= 0; --ib) {
        nhave += histo[ib];
        if (nhave >= npartial) break;
    }
    if (ib < 0) ib = 0;
    size_t pos = 0;
    for (int j = NBUCKETS - 1; j >= ib; --j) {
        off[j] = pos;
        pos += histo[j];
    }
    for (size_t i = 0; i < n; i++) {
        int b = bidx[i];
        if (b >= ib) out[off[b]++] = (nb_pair){x[i], (int32_t)i};
    }
    /* Every bucket above ib is wholly inside the top npartial: sort it; the last one partially. */
    nb_pair *p = out;
    size_t ndone = 0;
    for (int j = NBUCKETS - 1; j > ib; --j) {
        qsort(p, histo[j], sizeof *p, cmp_rank);
        p += histo[j];
        ndone += histo[j];
    }
    partial_sort(p, histo[ib], npartial - ndone);
    return npartial;
}

size_t nbase_bucket_top(nbase_scratch *s, const float *x, size_t n, size_t npartial,
                        int32_t *idx) {
    if (!s || !x || !idx || n == 0 || n > s->cap) return 0;
    size_t got = bucket_top(s, x, n, npartial);
    for (size_t j = 0; j < got; j++) idx[j] = s->pairs[j].i;
    return got;
}

/* ---- shared pieces ---------------------------------------------------------------------- */

static int check_args(const nbase_scratch *s, const float *x, size_t n, const nuc_params *p,
                      double u, const int32_t *token) {
    if (!s || !x || !p || !token || n == 0 || n > s->cap) return NUC_EINVAL;
    if (isnan(p->temperature) || p->temperature == INFINITY) return NUC_EINVAL;
    if (p->top_k < 0) return NUC_EINVAL;
    if (!(p->top_p >= 0.0f && p->top_p <= 1.0f)) return NUC_EINVAL;
    if (!(p->min_p >= 0.0f && p->min_p <= 1.0f)) return NUC_EINVAL;
    if (!(u >= 0.0 && u < 1.0)) return NUC_EINVAL;
    return NUC_OK;
}

/* The first maximum; -inf never wins. */
static int argmax_first(const float *x, size_t n, int32_t *token) {
    float m = -INFINITY;
    size_t at = n;
    for (size_t i = 0; i < n; i++) {
        if (x[i] > m) {
            m = x[i];
            at = i;
        }
    }
    if (at == n) return NUC_EMASKED;
    *token = (int32_t)at;
    return NUC_OK;
}

/* prob[i] = softmax(x / T) in float (the sum in double). Returns the sum of the stored probs, or
 * 0 if every logit is -inf. */
static double softmax_row(const float *x, size_t n, float t, float *prob) {
    float m = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        float y = x[i] / t;
        prob[i] = y;
        if (y > m) m = y;
    }
    if (m == -INFINITY) return 0.0;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        float e = expf(prob[i] - m);
        prob[i] = e;
        sum += e;
    }
    const float inv = (float)(1.0 / sum);
    double tot = 0.0;
    for (size_t i = 0; i < n; i++) {
        prob[i] *= inv;
        tot += prob[i];
    }
    return tot;
}

/* Inverse CDF in token order over kept[0..K-1] (v = weight, any order; re-sorted here). */
static int32_t sample_list(nb_pair *kept, size_t K, double u, double mass) {
    qsort(kept, K, sizeof *kept, cmp_token);
    const double target = u * mass;
    double cum = 0.0;
    int32_t last = kept[0].i;
    for (size_t j = 0; j < K; j++) {
        if (kept[j].v > 0.0f) last = kept[j].i;
        cum += kept[j].v;
        if (cum > target && kept[j].v > 0.0f) return kept[j].i;
    }
    return last;
}

/* Inverse CDF in token order over the rank prefix r[0..K-1] of a row ranked by key[] (the kept
 * tokens are those ranked no lower than r[K-1]), with weights w[]. */
static int32_t sample_ranked(nbase_scratch *s, const nb_pair *r, size_t K, const float *key,
                             const float *w, size_t n, double u, double mass) {
    if (K <= SMALL_KEPT) {
        for (size_t j = 0; j < K; j++) s->kept[j] = (nb_pair){w[r[j].i], r[j].i};
        return sample_list(s->kept, K, u, mass);
    }
    const nb_pair b = r[K - 1];
    const double target = u * mass;
    double cum = 0.0;
    int32_t last = r[0].i;
    for (size_t i = 0; i < n; i++) {
        if (key[i] > b.v || (key[i] == b.v && (int32_t)i <= b.i)) {
            if (w[i] > 0.0f) {
                last = (int32_t)i;
                cum += w[i];
                if (cum > target) return (int32_t)i;
            }
        }
    }
    return last;
}

/* top-p (Llama 3: keep while the mass ranked before is <= top_p of the total) then min-p, on
 * weights ranked in r[0..K-1] (r[j].v the weight). Returns the new K and the kept mass. */
static size_t keep_rules(const nb_pair *r, size_t K, const nuc_params *p, double *mass) {
    if (p->top_p < 1.0f) {
        double tot = 0.0;
        for (size_t j = 0; j < K; j++) tot += r[j].v;
        const double lim = (double)p->top_p * tot;
        double cum = 0.0;
        size_t j = 0;
        for (; j < K; j++) {
            if (cum > lim) break;
            cum += r[j].v;
        }
        K = j;
    }
    if (p->min_p > 0.0f) {
        const double thr = (double)p->min_p * (double)r[0].v;
        size_t j = 1;
        while (j < K && (double)r[j].v >= thr) j++;
        K = j;
    }
    double m = 0.0;
    for (size_t j = 0; j < K; j++) m += r[j].v;
    *mass = m;
    return K;
}

/* ---- naive: softmax, qsort of everything, keep rules, inverse CDF ------------------------ */

int nbase_naive_sample(nbase_scratch *s, const float *x, size_t n, const nuc_params *p,
                       double u, int32_t *token) {
    int rc = check_args(s, x, n, p, u, token);
    if (rc) return rc;
    if (!(p->temperature > 0.0f)) return argmax_first(x, n, token);

    float *prob = s->prob;
    if (softmax_row(x, n, p->temperature, prob) == 0.0) return NUC_EMASKED;
    nb_pair *r = s->pairs;
    for (size_t i = 0; i < n; i++) r[i] = (nb_pair){prob[i], (int32_t)i};
    qsort(r, n, sizeof *r, cmp_rank);

    size_t K = n;
    if (p->top_k > 0 && (size_t)p->top_k < K) K = (size_t)p->top_k;
    double mass;
    K = keep_rules(r, K, p, &mass);
    *token = sample_ranked(s, r, K, prob, prob, n, u, mass);
    return NUC_OK;
}

/* ---- bucket: the engines' sampler -------------------------------------------------------- */

int nbase_bucket_sample(nbase_scratch *s, const float *x, size_t n, const nuc_params *p,
                        double u, int32_t *token) {
    int rc = check_args(s, x, n, p, u, token);
    if (rc) return rc;
    if (!(p->temperature > 0.0f)) return argmax_first(x, n, token);
    const float t = p->temperature;

    if (p->top_k > 0 && (size_t)p->top_k < n) {
        /* top-k on the logits first; the softmax then only over the k candidates. */
        size_t k = bucket_top(s, x, n, (size_t)p->top_k);
        nb_pair *r = s->pairs;
        if (r[0].v == -INFINITY) return NUC_EMASKED;
        const float m = r[0].v / t;
        double sum = 0.0;
        for (size_t j = 0; j < k; j++) {
            float e = expf(r[j].v / t - m);
            r[j].v = e;
            sum += e;
        }
        const float inv = (float)(1.0 / sum);
        for (size_t j = 0; j < k; j++) r[j].v *= inv;
        double mass;
        size_t K = keep_rules(r, k, p, &mass);
        memcpy(s->kept, r, K * sizeof *r);
        *token = sample_list(s->kept, K, u, mass);
        return NUC_OK;
    }

    float *prob = s->prob;
    const double tot = softmax_row(x, n, t, prob);
    if (tot == 0.0) return NUC_EMASKED;

    if (p->top_p >= 1.0f) {
        /* No sort at all: min-p is a threshold on the probabilities. */
        float pmax = 0.0f;
        for (size_t i = 0; i < n; i++)
            if (prob[i] > pmax) pmax = prob[i];
        const double thr = (double)p->min_p * (double)pmax;
        double mass = 0.0;
        for (size_t i = 0; i < n; i++)
            if (prob[i] > 0.0f && (double)prob[i] >= thr) mass += prob[i];
        const double target = u * mass;
        double cum = 0.0;
        int32_t last = 0;
        for (size_t i = 0; i < n; i++) {
            if (prob[i] > 0.0f && (double)prob[i] >= thr) {
                last = (int32_t)i;
                cum += prob[i];
                if (cum > target) {
                    *token = last;
                    return NUC_OK;
                }
            }
        }
        *token = last;
        return NUC_OK;
    }

    /* top-p: the top 256 by the bucket partial sort; everything when the nucleus is larger. */
    size_t got = bucket_top(s, x, n, n < 256 ? n : 256);
    const nb_pair *r = s->pairs;
    const double lim = (double)p->top_p * tot;
    double cum = 0.0;
    size_t K = 0;
    for (;;) {
        if (K == got) {
            if (got == n) break;
            got = bucket_top(s, x, n, n);
        }
        if (cum > lim) break;
        cum += prob[r[K].i];
        K++;
    }
    if (p->min_p > 0.0f) {
        const double thr = (double)p->min_p * (double)prob[r[0].i];
        size_t j = 1;
        while (j < K && (double)prob[r[j].i] >= thr) j++;
        K = j;
    }
    double mass = 0.0;
    for (size_t j = 0; j < K; j++) mass += prob[r[j].i];
    *token = sample_ranked(s, r, K, x, prob, n, u, mass);
    return NUC_OK;
}
