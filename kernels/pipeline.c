/* The sampling pipeline, one row at a time:
 *
 *   max pass -> (greedy: first index of the max)
 *   exp pass: w = exp((x - max) / T), block sums, candidates above a floor every kept token clears
 *   top-k, then top-p, then min-p: each a cut in rank order, found by radix digits over a short
 *     candidate list (or a bracket estimated from a strided sample when the nucleus is wide;
 *     a long list or bracket is first narrowed by exact counting passes over its weights)
 *   kept mass M and its block sums, then one inverse-CDF walk in token order.
 *
 * Every whole-row pass goes through the kernel table, whose sets all produce the same bits; the
 * rest is this portable code, so every ISA takes the same decisions. A kept set is held as
 * (thr, tie_end): token i is kept iff w[i] > thr, or w[i] == thr and i < tie_end. */
#include <float.h>
#include <math.h>
#include <string.h>
#include "pipeline.h"
#include "radix.h"
#include "scalar/expw.h"

typedef struct keep {
    float thr;
    size_t tie_end;
} keep;

static inline int kept(keep c, float v, size_t i)
{
    return v > c.thr || (v == c.thr && i < c.tie_end);
}

/* The tokens ranked at or before token b. */
static keep keep_through(const float *w, uint32_t b)
{
    return (keep){w[b], (size_t)b + 1};
}

/* Intersect with { w >= v }: every token of the set at or above v stays. */
static keep keep_at_least(keep c, float v, size_t n)
{
    return v > c.thr ? (keep){v, n} : c;
}

/* Rows shorter than this are cut over the whole positive list; longer ones may use samples:
 * every sample_stride(n)-th token from the middle of the first stride, SAMPLE_SIZE of them, or
 * one in SAMPLE_STRIDE_MIN on shorter rows (taking and weighing a sampled token costs ~3 ns, a
 * fixed cost that a 32k row would otherwise spend a third of its call on). */
#define SAMPLED_MIN_N 16384
#define SAMPLE_SIZE 2048
#define SAMPLE_STRIDE_MIN 64
/* The exp pass lists the tokens with w >= LIST_FLOOR (2^-12), up to LIST_MAX of them. */
#define LIST_FLOOR 0x1p-12f
/* Under top-k the floor comes from a sample of the logits, for k up to about 1000 here. */
#define TOP_K_SAMPLE_MAX 64
#define LIST_MAX 8192
#define LIST_SUMS_MAX 1024

/* The most tokens a sample takes: stride >= 64 rounds n / SAMPLE_SIZE down by less than one,
 * so n / stride < SAMPLE_SIZE * 65 / 64, plus one for the first stride. */
#define SAMPLE_MAX (SAMPLE_SIZE + SAMPLE_SIZE / SAMPLE_STRIDE_MIN + 1)

static size_t sample_stride(size_t n)
{
    const size_t stride = n / SAMPLE_SIZE;
    return stride > SAMPLE_STRIDE_MIN ? stride : SAMPLE_STRIDE_MIN;
}

typedef struct row {
    int greedy;
    int constant;          /* every logit equal: every weight is exactly 1, w is not written */
    uint32_t argmax;
    float max;             /* the largest logit */
    double total;          /* S: every weight, block sums added in block order */
    const float *w;
    size_t n;
    keep keep;
    double mass;           /* M: the kept weights, block sums added in block order */
    const uint32_t *list;  /* if not NULL: exactly the kept tokens, ascending */
    size_t len;
    float *bsum;           /* kept mass of each block (of the blocks the list touches) */
    int lazy;              /* bsum not computed yet: M came from the cut, the draw sums blocks */
    const nuc_kernels *kt; /* as far as it walks */
} row;

int nuc_check_params(const nuc_params *p)
{
    if (!p || isnan(p->temperature) || p->temperature == INFINITY || p->top_k < 0 ||
        !(p->top_p >= 0.0f && p->top_p <= 1.0f) || !(p->min_p >= 0.0f && p->min_p <= 1.0f))
        return NUC_EINVAL;
    return NUC_OK;
}

/* The tokens of list that c keeps, in place; stops once `most` are found (the size of c's set
 * when known, so a top-k cut among long ties ends early). */
static size_t compact(const float *w, uint32_t *list, size_t len, keep c, size_t most)
{
    size_t m = 0;
    for (size_t j = 0; j < len && m < most; j++)
        if (kept(c, w[list[j]], list[j]))
            list[m++] = list[j];
    return m;
}

/* The weights of the list's tokens, side by side into s->vals; returns their sum, added in
 * four interleaved running sums (one chain would wait on each add: 5 us for 6k tokens). */
static double list_vals(nuc_sampler *s, size_t len)
{
    double part[4] = {0.0, 0.0, 0.0, 0.0};
    size_t j = 0;
    for (; j + 4 <= len; j += 4)
        for (size_t c = 0; c < 4; c++)
            part[c] += s->vals[j + c] = s->w[s->cand[j + c]];
    for (; j < len; j++)
        part[0] += s->vals[j] = s->w[s->cand[j]];
    return (part[0] + part[1]) + (part[2] + part[3]);
}

/* The tokens with lo <= w <= hi, ascending, into s->cand, their weights into s->vals. */
static size_t select_range(nuc_sampler *s, const nuc_kernels *kt, size_t n, float lo, float hi)
{
    size_t len;
    kt->bracket(s->w, n, lo, hi, NULL, s->cand, s->vals, &len);
    return len;
}

/* A cut over a copy of the list, whose weights are in s->vals (put there by list_vals, or by
 * the bracket pass that listed it); the cut overwrites what it is given. */
static nuc_cut cut_copy(nuc_sampler *s, size_t len, float lo, nuc_cut_mode mode, size_t k,
                        double target)
{
    memcpy(s->work, s->cand, len * sizeof *s->work);
    return nuc_radix_cut(s->work, s->vals, len, fmaxf(lo, FLT_MIN), 1.0f, mode, k, target, 0.0);
}

/* A histogram of every stride-th weight in (0, below) of a long row, the cheap picture of its
 * distribution from which the wide cuts are bracketed. The sampled weights go to smp; returns
 * their number. */
static size_t sample_hist(const float *w, size_t n, float below, float *smp, nuc_hist *h)
{
    const size_t stride = sample_stride(n);
    size_t m = 0;
    float lo = 1.0f, hi = 0.0f;
    for (size_t i = stride / 2; i < n; i += stride)
        if (w[i] > 0.0f && w[i] < below) {
            smp[m++] = w[i];
            lo = w[i] < lo ? w[i] : lo;
            hi = w[i] > hi ? w[i] : hi;
        }
    nuc_hist_range(h, lo, hi < lo ? lo : hi);
    nuc_hist_fill(h, smp, m);
    return m;
}

/* A sampled weight this many samples share marks a tie group of the row (sample_band). */
#define TIE_SAMPLES 8

/* The bucket (from the top) in which the sample's running count first reaches q; -1 if never. */
static int bucket_at_rank(const nuc_hist *h, size_t q)
{
    size_t seen = 0;
    for (int d = 255; d >= 0; d--) {
        seen += h->count[d];
        if (seen >= q)
            return d;
    }
    return -1;
}

/* A list that surely holds the top kk tokens of a row: every token at or above a weight that
 * enough sampled tokens clear (1.5x the expected count plus four standard deviations), else
 * every positive token. Returns the list length; *lo receives its floor. */
static size_t top_k_candidates(nuc_sampler *s, const nuc_kernels *kt, size_t n, size_t kk,
                               float *lo)
{
    size_t len = 0;
    *lo = FLT_MIN;
    if (n >= SAMPLED_MIN_N) {
        nuc_hist h;
        sample_hist(s->w, n, 2.0f, s->vals, &h);
        const double e = (double)kk / (double)sample_stride(n);
        const int d = bucket_at_rank(&h, (size_t)(1.5 * e + 4.0 * sqrt(e) + 8.0));
        if (d >= 0) {
            *lo = nuc_hist_lower_edge(&h, d);
            len = select_range(s, kt, n, *lo, FLT_MAX);
        }
    }
    if (len < kk) {
        *lo = FLT_MIN;
        len = select_range(s, kt, n, FLT_MIN, FLT_MAX);
    }
    return len;
}

/* A band [lo, hi] of sampled values around the point where the sample's mass, taken from the
 * top, first exceeds reach: that rank plus and minus two standard deviations of a sampled
 * quantile (at most sqrt(m) / 2 each), plus 5. A band that misses costs one more bracket pass
 * (top_p_bracketed). Over 100 rows each at 32k-262k tokens this width missed 0-2% of flat
 * rows, 1-5% of Zipf rows and 7-17% of N(0,3) rows (whose heavy head the sample estimates);
 * three deviations listed half again as many weights on every row (flat rows at n = 128256:
 * 51.8 us a call against 49.4, the misses included). The edges are sampled values, not bucket
 * edges: a tie group the cut falls in is then bracketed by its own value, and the cut inside it
 * is found in closed form. hi is top where the band reaches past the largest sampled value.
 * *tie receives the weight of the tie group the sample's mass crosses in, where the crossing
 * bucket holds one weight (or two) that TIE_SAMPLES or more samples share; else 0. */
static void sample_band(const float *smp, size_t m, const nuc_hist *h, double reach, float top,
                        float *lo, float *hi, float *tie)
{
    size_t rank = 0;
    double run = 0.0;
    int d_at = -1; /* the bucket the sample's mass crosses reach in */
    for (int d = 255; d >= 0 && run <= reach; d--) {
        run += h->mass[d];
        rank += h->count[d];
        d_at = d;
    }
    /* The crossing's rank inside its bucket, as if the bucket's samples weighed alike (the
     * bucket's last sample would put the band's centre up to a bucket low). */
    if (d_at >= 0 && h->count[d_at] > 0 && run > reach) {
        const double each = h->mass[d_at] / (double)h->count[d_at];
        const double over = floor((run - reach) / each); /* the bucket's samples past it */
        rank -= over < (double)h->count[d_at] ? (size_t)over : h->count[d_at] - 1;
    }
    const size_t delta = (size_t)sqrt((double)m) + 5;
    const int d_hi = rank > delta ? bucket_at_rank(h, rank - delta) : -1;
    const int d_lo = bucket_at_rank(h, rank + delta);
    *hi = d_hi < 0 ? top : 0.0f;
    *lo = 1.0f;
    /* The least and the largest sample of the crossing bucket, and how many samples equal
     * each. */
    float b_hi = *hi, b_lo = *lo, at_lo = 1.0f, at_hi = 0.0f;
    size_t n_lo = 0, n_hi = 0;
    /* Buckets d_lo..d_hi (d_lo < 0: all below d_at), the few samples the tests below can
     * take: one unsigned compare passes over the rest. */
    const uint32_t d_first = d_lo < 0 ? 0 : (uint32_t)d_lo;
    const uint32_t d_span = (uint32_t)(d_hi < 0 ? d_at : d_hi) - d_first;
    for (size_t j = 0; j < m; j++) {
        const float v = smp[j];
        const uint32_t dj = (nuc_f32_bits(v) - h->base) >> h->shift;
        if (dj - d_first > d_span)
            continue;
        const int d = (int)dj;
        if (d == d_hi && v > b_hi)
            b_hi = v;
        if ((d == d_lo || d_lo < 0) && v < b_lo)
            b_lo = v;
        if (d == d_at) {
            n_lo = v < at_lo ? 1 : n_lo + (v == at_lo);
            at_lo = v < at_lo ? v : at_lo;
            n_hi = v > at_hi ? 1 : n_hi + (v == at_hi);
            at_hi = v > at_hi ? v : at_hi;
        }
    }
    *hi = b_hi;
    *lo = b_lo;
    *tie = 0.0f;
    const size_t n_at = d_at >= 0 ? h->count[d_at] : 0;
    if (at_lo == at_hi && n_at >= TIE_SAMPLES)
        *tie = at_lo;
    else if (n_lo + n_hi == n_at && n_lo >= TIE_SAMPLES && n_hi >= TIE_SAMPLES)
        /* Two groups share the bucket: the sample crosses in the upper one if its mass alone
         * takes the run past reach. */
        *tie = run - h->mass[d_at] + (double)n_hi * at_hi > reach ? at_hi : at_lo;
}

/* The sampled weight next to v, above it if side > 0, else below, if TIE_SAMPLES or more
 * samples share it (a tie group); else 0. */
static float tie_neighbour(const float *smp, size_t m, float v, int side)
{
    float next = side > 0 ? 2.0f : 0.0f;
    size_t count = 0;
    for (size_t j = 0; j < m; j++) {
        const float u = smp[j];
        if (side > 0 ? u > v && u <= next : u < v && u >= next) {
            count = u == next ? count + 1 : 1;
            next = u;
        }
    }
    return count >= TIE_SAMPLES ? next : 0.0f;
}

/* The weights of a band, side by side in token order, and the mass above it. The bracket
 * passes of the wide cuts list weights only: a cut among them ends at a weight and a tie rank.
 * Every token of that weight is in the band, so the band tells whether the cut keeps them all
 * (nearly always: the kept set is then every w >= the weight); only otherwise is the token
 * found (kt->find_nth). */
typedef struct band {
    float lo, hi;
    double above;
    const float *vals;
    size_t len;
} band;

/* A band longer than this is narrowed before the radix cut reads it, at split points taken
 * from a sorted sample of NARROW_PIVOTS of its weights. */
#define NARROW_MAX 512
#define NARROW_PIVOTS 32

/* Narrows the band br, which holds the cut, to at most NARROW_MAX weights (or to one weight)
 * that still hold it, listed into s->vals_out. Each step splits the range [lo, hi] of float bits
 * at a point p, and one kept_sum pass over the band's weights gives the exact mass and count
 * above p: at most target, the cut lies at or below p, else above it. The weights are
 * positive, so the float after bits p has bits p + 1. The split point is the median of the
 * sampled weights in [lo, hi), so each step halves the weights left, about; with none left
 * there, hi's own group is tried (ties: the cut is inside one group), then the range is halved.
 * Then the radix cut reads the narrower band alone; its rank counts the band's weights above
 * it too. Not found (found = 0) for a band of NARROW_MAX weights or fewer, or where the radix
 * cut's own sums put the cut outside the narrower band (rounding, at its edge): the caller cuts
 * the whole band then. Overwrites s->bsum and s->vals_out. */
static nuc_cut narrowed_cut(nuc_sampler *s, const nuc_kernels *kt, const band *br, double target)
{
    if (br->len <= NARROW_MAX)
        return (nuc_cut){.found = 0};
    uint32_t key[NARROW_PIVOTS]; /* ascending */
    size_t np = 0;
    const size_t stride = br->len / NARROW_PIVOTS;
    for (size_t i = stride / 2; np < NARROW_PIVOTS && i < br->len; i += stride) {
        const uint32_t k = nuc_f32_bits(br->vals[i]);
        size_t at = np++;
        for (; at > 0 && key[at - 1] > k; at--)
            key[at] = key[at - 1];
        key[at] = k;
    }
    uint32_t lo = nuc_f32_bits(br->lo), hi = nuc_f32_bits(br->hi);
    double above = br->above;              /* the mass above hi: at most target */
    size_t n_above = 0, n_from = br->len; /* the weights above hi, the weights >= lo */
    uint32_t tried = 0;                   /* the last hi whose own group was tried */
    while (lo < hi && n_from - n_above > NARROW_MAX) {
        size_t a = 0;
        while (a < np && key[a] < lo)
            a++;
        size_t b = a;
        while (b < np && key[b] < hi)
            b++;
        uint32_t p;
        if (a < b)
            p = key[a + (b - a) / 2];
        else if (tried != hi)
            p = tried = hi - 1;
        else
            p = lo + (hi - lo) / 2;
        size_t count;
        const double m =
            br->above + kt->kept_sum(br->vals, br->len, nuc_f32_from_bits(p), 0, s->bsum, &count);
        if (m <= target) {
            hi = p;
            above = m;
            n_above = count;
        } else { /* the weights >= the float after p pass the target */
            lo = p + 1;
            n_from = count;
        }
    }
    const float nlo = nuc_f32_from_bits(lo), nhi = nuc_f32_from_bits(hi);
    size_t len;
    kt->bracket(br->vals, br->len, nlo, nhi, NULL, NULL, s->vals_out, &len);
    nuc_cut cut = nuc_radix_cut(NULL, s->vals_out, len, nlo, nhi, NUC_CUT_MASS, 0, target, above);
    cut.rank += n_above;
    return cut;
}

/* The top-p cut inside the list s->cand[0..len), whose weights (none below lo) are in s->vals:
 * narrowed as a wide row's band is, the token then being the tie-th of the cut's weight in the
 * list (every list token of that weight is in the band); else over the whole list. Overwrites
 * s->bsum. */
static nuc_cut list_cut_p(nuc_sampler *s, const nuc_kernels *kt, size_t len, float lo,
                          double target)
{
    const band br = {fmaxf(lo, FLT_MIN), 1.0f, 0.0, s->vals, len};
    nuc_cut cut = narrowed_cut(s, kt, &br, target);
    if (!cut.found)
        return cut_copy(s, len, lo, NUC_CUT_MASS, 0, target);
    cut.index = s->cand[kt->find_nth(s->vals, len, cut.value, cut.tie)];
    return cut;
}

/* The cut inside the tie group of weight v, if it lies there: one counting pass adds the mass
 * above the group, the j-th token of the group is then the one whose prefix (that mass plus
 * j * v) last fits the target, and kt->find_nth finds it (n if the group is shorter: the cut
 * lies below it). No listing, where a band around the group would list it whole. Returns 0 if
 * the cut is found, 1 if it lies above the group, -1 if below. */
static int tie_group_cut(nuc_sampler *s, const nuc_kernels *kt, size_t n, float v,
                         double target, nuc_cut *cut)
{
    size_t count;
    const double above = kt->kept_sum(s->w, n, v, 0, s->bsum, &count);
    if (above > target)
        return 1;
    const double j = floor((target - above) / v);
    if (!(j < (double)n))
        return -1;
    const size_t i = kt->find_nth(s->w, n, v, (size_t)j);
    if (i >= n)
        return -1;
    *cut = (nuc_cut){.found = 1, .index = (uint32_t)i, .value = v, .tie = (size_t)j,
                     .mass = above + (j + 1.0) * v};
    return 0;
}

/* The weights in [lo, hi], side by side into s->vals, with nothing above them. */
static band weights_in(nuc_sampler *s, const nuc_kernels *kt, size_t n, float lo, float hi)
{
    band b = {lo, hi, 0.0, s->vals, 0};
    kt->bracket(s->w, n, lo, hi, NULL, NULL, s->vals, &b.len);
    return b;
}

/* The cut among the band's weights (in s->vals) by radix digits alone. */
static nuc_cut radix_band(nuc_sampler *s, const band *br, double target)
{
    return nuc_radix_cut(NULL, s->vals, br->len, br->lo, br->hi, NUC_CUT_MASS, 0, target,
                         br->above);
}

/* A band that misses the cut is followed by at most this many others, each placed by the
 * sample on the side where the cut lies (calibrated there by the exact mass the miss showed),
 * before the cut is looked for among every weight on that side. */
#define BAND_RETRIES 2

/* The mass of the sampled weights above v, in four running sums: it only places a band, so the
 * order of its adds does not matter. */
static double sample_above(const float *smp, size_t m, float v)
{
    double part[4] = {0.0, 0.0, 0.0, 0.0};
    for (size_t j = 0; j < m; j++)
        part[j % 4] += smp[j] > v ? smp[j] : 0.0f;
    return (part[0] + part[1]) + (part[2] + part[3]);
}

/* The top-p cut over every positive token of a row too wide for a candidate list: a band
 * around the cut from a strided sample of the weights, one pass that lists the weights inside
 * it and adds the mass above it, and the cut among those only. The head of the row (the tokens
 * at or above head_floor, of mass head_mass, known exactly from the exp pass's list; head_floor
 * 2 if none) is left out of the sample: a few heavy tokens would otherwise be missed or
 * overweighted by it. Where the band misses the cut, the next band lies on the cut's side
 * (BAND_RETRIES), then every weight on that side is cut. *mass receives the kept mass (-1 if
 * the cut keeps every token). */
static keep top_p_bracketed(nuc_sampler *s, const nuc_kernels *kt, size_t n, double target,
                            double total, float head_floor, double head_mass, keep c,
                            double *mass)
{
    const float *w = s->w;
    nuc_hist h;
    float smp[SAMPLE_MAX];
    const size_t m = sample_hist(w, n, head_floor, smp, &h);
    double part[4] = {0.0, 0.0, 0.0, 0.0}; /* four running sums: it only places bands */
    for (int d = 0; d < 256; d += 4)
        for (int c = 0; c < 4; c++)
            part[c] += h.mass[d + c];
    const double smass = (part[0] + part[1]) + (part[2] + part[3]);
    /* The share of the tail's mass above the cut. */
    const double share = total > head_mass ? (target - head_mass) / (total - head_mass) : 0.0;
    band br = {0.0f, 0.0f, 0.0, s->vals, 0};
    const float top = fminf(1.0f, nextafterf(head_floor, 0.0f));
    float tie;
    sample_band(smp, m, &h, share * smass, top, &br.lo, &br.hi, &tie);
    /* A heavily tied row: try the tie group the sample crosses in, then the sampled group next
     * to it on the side where the cut lies, before listing a band that would hold whole
     * groups. */
    nuc_cut cut = {.found = 0};
    int side = 2; /* no group tried */
    if (tie > 0.0f) {
        side = tie_group_cut(s, kt, n, tie, target, &cut);
        const float next = side != 0 ? tie_neighbour(smp, m, tie, side) : 0.0f;
        if (next > 0.0f)
            side = tie_group_cut(s, kt, n, next, target, &cut);
    }
    if (side == 0) {
        *mass = cut.mass;
        return keep_through(w, cut.index);
    }
    for (int tries = 0;; tries++) {
        br.above = kt->bracket(w, n, br.lo, br.hi, s->bsum, NULL, s->vals, &br.len);
        double reach; /* where the sample puts the cut, as its mass above it */
        if (br.above > target) { /* the cut lies above the band */
            side = 1;
            reach = sample_above(smp, m, br.hi) * (target - head_mass) / (br.above - head_mass);
        } else {
            cut = narrowed_cut(s, kt, &br, target);
            if (cut.found)
                break;
            size_t count;
            const double from_lo =
                br.above + kt->kept_sum(br.vals, br.len, 0.0f, 0, s->bsum, &count);
            if (from_lo > target) { /* a short band, or a rounding miss of the narrower one */
                cut = radix_band(s, &br, target);
                side = 0;
                break;
            }
            side = -1; /* the cut lies below the band */
            const double s_lo = sample_above(smp, m, nextafterf(br.lo, 0.0f));
            reach = s_lo + (target - from_lo) * (smass - s_lo) / (total - from_lo);
        }
        float lo, hi, unused;
        if (tries == BAND_RETRIES || !(reach >= 0.0 && reach <= smass))
            break;
        sample_band(smp, m, &h, reach, top, &lo, &hi, &unused);
        if (side > 0 ? !(hi > br.hi) : !(lo < br.lo))
            break; /* the sample has nothing to offer on that side */
        if (side > 0)
            lo = fmaxf(lo, nextafterf(br.hi, 2.0f));
        else
            hi = fminf(hi, nextafterf(br.lo, 0.0f));
        br.lo = lo;
        br.hi = hi;
    }
    if (side > 0 && !cut.found) {
        /* Heavy tokens the sample missed carry the cut above every band: all above the last. */
        br = weights_in(s, kt, n, nextafterf(br.hi, 2.0f), 1.0f);
        cut = narrowed_cut(s, kt, &br, target);
        if (!cut.found)
            cut = radix_band(s, &br, target);
    }
    if (!cut.found) { /* below every band (or not found at all): take the whole row */
        br = weights_in(s, kt, n, FLT_MIN, 1.0f); /* every weight: none exceeds exp(0) */
        cut = radix_band(s, &br, target);
    }
    *mass = cut.found ? cut.mass : -1.0;
    if (!cut.found)
        return c;
    if (cut.tie + 1 == cut.group) /* the whole group of its weight is kept: no token to find */
        return (keep){cut.value, n};
    return keep_through(w, (uint32_t)kt->find_nth(w, n, cut.value, cut.tie));
}

/* The kept mass and its block sums from the list of kept tokens: lane by lane, exactly as the
 * kept_sum kernel adds them (a token outside the list adds +0 there, which changes nothing). */
static double list_block_sums(const float *w, const uint32_t *list, size_t len, float *bsum)
{
    double total = 0.0;
    for (size_t j = 0; j < len;) {
        const size_t blk = list[j] / NUC_BLOCK;
        float lane[NUC_LANES] = {0};
        for (; j < len && list[j] / NUC_BLOCK == blk; j++)
            lane[list[j] % NUC_LANES] += w[list[j]];
        bsum[blk] = nuc_lane_fold(lane);
        total += bsum[blk];
    }
    return total;
}

/* The logits of one row in the caller's type. Float rows are read in place; 16-bit rows are
 * widened NUC_CHUNK at a time into the sampler's chunk buffer, so each pass below runs the
 * float kernels on whole blocks and gets the bits it would get on the widened row. */
typedef struct row_in {
    const void *p;
    nuc_dtype dtype;
    float *chunk;
} row_in;

static size_t chunk_len(row_in in, size_t n, size_t start, int whole_f32)
{
    const size_t left = n - start;
    return (in.dtype == NUC_DTYPE_F32 && whole_f32) || left < NUC_CHUNK ? left : NUC_CHUNK;
}

static const float *widen(const nuc_kernels *kt, row_in in, size_t start, size_t len)
{
    if (in.dtype == NUC_DTYPE_F32)
        return (const float *)in.p + start;
    const uint16_t *h = (const uint16_t *)in.p + start;
    (in.dtype == NUC_DTYPE_BF16 ? kt->bf16_to_f32 : kt->f16_to_f32)(h, len, in.chunk);
    return in.chunk;
}

static float logit_at(const nuc_kernels *kt, row_in in, size_t i)
{
    if (in.dtype == NUC_DTYPE_F32)
        return ((const float *)in.p)[i];
    float v;
    (in.dtype == NUC_DTYPE_BF16 ? kt->bf16_to_f32 : kt->f16_to_f32)((const uint16_t *)in.p + i,
                                                                    1, &v);
    return v;
}

/* The max of the row. When `pieces`, float rows too are read NUC_CHUNK at a time, and
 * *at receives the start of the first piece that holds the max: the argmax is then searched in
 * that piece alone, not by a second scan of half the row on average. */
static int row_max(const nuc_kernels *kt, row_in in, size_t n, int pieces, float *max,
                   size_t *at)
{
    float best = -INFINITY;
    size_t best_at = 0;
    for (size_t start = 0, len; start < n; start += len) {
        len = chunk_len(in, n, start, !pieces);
        float m;
        const int rc = kt->max(widen(kt, in, start, len), len, &m);
        if (rc == NUC_ENONFINITE)
            return rc;
        if (rc == NUC_OK && (m > best || best == -INFINITY)) {
            best = m;
            best_at = start;
        }
    }
    if (best == -INFINITY)
        return NUC_EMASKED;
    *max = best;
    *at = best_at;
    return NUC_OK;
}

/* Whether every logit equals the max m. Three probes rule it out at once for nearly every row;
 * only where they all hold does a counting pass settle it (the n-th copy of m exists). */
static int all_equal(const nuc_kernels *kt, row_in in, size_t n, float m)
{
    if (logit_at(kt, in, 0) != m || logit_at(kt, in, n / 2) != m || logit_at(kt, in, n - 1) != m)
        return 0;
    for (size_t start = 0, len; start < n; start += len) {
        len = chunk_len(in, n, start, 1);
        if (kt->find_nth(widen(kt, in, start, len), len, m, len - 1) == len)
            return 0;
    }
    return 1;
}

static size_t argmax_in_piece(const nuc_kernels *kt, row_in in, size_t n, float m, size_t at)
{
    const size_t len = chunk_len(in, n, at, 0);
    return at + kt->find_nth(widen(kt, in, at, len), len, m, 0);
}

/* The exp pass of kernels.h over the row; block sums are carried in double across chunks in
 * block order, as one call over the whole row carries them, and the candidate list in token
 * order up to LIST_MAX (*ncand = LIST_MAX + 1 past it). */
static double row_exp_sum(const nuc_kernels *kt, row_in in, size_t n, float m, float inv_t,
                          nuc_sampler *s, float lo, size_t *ncand)
{
    double total = 0.0;
    size_t nc = 0;
    for (size_t start = 0, len; start < n; start += len) {
        len = chunk_len(in, n, start, 1);
        const size_t b0 = start / NUC_BLOCK;
        const float chunk_lo = nc <= LIST_MAX ? lo : 0.0f; /* a full list takes no more */
        size_t k = 0;
        const double part =
            kt->exp_sum(widen(kt, in, start, len), len, m, inv_t, s->w + start, s->bsum + b0,
                        chunk_lo, nc <= LIST_MAX ? LIST_MAX - nc : 0, s->cand + nc, &k);
        if (start == 0) {
            total = part;
        } else {
            for (size_t b = b0; b < b0 + NUC_NBLOCKS(len); b++)
                total += s->bsum[b];
        }
        if (chunk_lo > 0.0f) {
            for (size_t j = nc; start > 0 && j < nc + k && j < LIST_MAX; j++)
                s->cand[j] += (uint32_t)start;
            nc += k;
        }
    }
    *ncand = nc;
    return total;
}

/* Before the exp pass: a weight floor under which the top kk tokens surely do not all lie,
 * so that the exp pass can list them. The q-th best of a strided sample of the logits
 * (q = 1.5x the expected sample hits among the kk best, plus four standard deviations and 8),
 * weighed by the exp the pass uses. 0 when sampling cannot tell (short rows, large kk). */
static float top_k_floor(const nuc_kernels *kt, row_in in, size_t n, size_t kk, float m,
                         float inv_t)
{
    if (n < SAMPLED_MIN_N)
        return 0.0f;
    const size_t stride = sample_stride(n);
    const double e = (double)kk / (double)stride;
    const size_t q = (size_t)(1.5 * e + 4.0 * sqrt(e) + 8.0);
    float best[TOP_K_SAMPLE_MAX]; /* the q best sampled logits, descending */
    if (q > TOP_K_SAMPLE_MAX)
        return 0.0f;
    size_t have = 0;
    for (size_t i = stride / 2; i < n; i += stride) {
        const float v = logit_at(kt, in, i);
        if (have == q && !(v > best[q - 1]))
            continue;
        size_t at = have < q ? have++ : q - 1;
        for (; at > 0 && best[at - 1] < v; at--)
            best[at] = best[at - 1];
        best[at] = v;
    }
    return have == q ? nuc_exp_weight((best[q - 1] - m) * inv_t) : 0.0f;
}

/* Logits as unsigned keys in their order (-0 counts as +0: equal logits are ties). */
static uint32_t logit_key(float x)
{
    const uint32_t b = nuc_f32_bits(x + 0.0f);
    return b >> 31 ? ~b : b | 0x80000000u;
}

/* Rank order is by logit (SPEC), and the weights give it, with one exception: (x - m) / T
 * rounds to float, so far below the max a few neighbouring logits can share one weight
 * (1.6e-6 apart in probability at 18 T below the max, where the contract allows 1e-6). A cut
 * inside a group of equal weights keeps its first members by index, the right order for equal
 * logits. If the kept set c splits a group of several logits, its kept count is right (every
 * member weighs the same) but not which members: the largest logits are kept instead, by
 * moving the others one float below the group's weight in w (they are dropped, so no output
 * reads their weight). The weight is monotone in the logit, so a few weights of logits near a
 * kept member bound its group at once: nearly always it holds one logit, or logits whose
 * probabilities agree within the contract's margin, where any order is right. */
/* Just under half the 1e-6 rank margin, as a distance in logits over T: with T = 1, logits in
 * [4, 8) and the max in [8, 16), y's spacing is twice the logits', so a logit and its two
 * neighbours can round to one y, a group that spans 0.954e-6. */
#define RANK_SPREAD 0.49e-6

static float weight_of(float x, float m, float inv_t)
{
    return x > m ? 2.0f : nuc_exp_weight((x - m) * inv_t); /* no logit lies above m */
}

/* The float nearest x + d (d of either sign) on x's side of it. */
static float toward(float x, double d)
{
    float y = (float)((double)x + d);
    if (fabs((double)y - (double)x) > fabs(d))
        y = nextafterf(y, x);
    return y;
}

/* The last logit from x towards dir (+-INFINITY) that still weighs v: x if the next float does
 * not; NAN if GROUP_STEPS floats in a row do. */
#define GROUP_STEPS 8
static float group_end(float x, float v, float m, float inv_t, float dir)
{
    for (int i = 0; i < GROUP_STEPS; i++) {
        const float y = nextafterf(x, dir);
        if (weight_of(y, m, inv_t) != v)
            return x;
        x = y;
    }
    return NAN;
}

static keep rank_split_group(nuc_sampler *s, const nuc_kernels *kt, row_in in, size_t n,
                             float m, float inv_t, keep c)
{
    if (!(c.thr > 0.0f) || c.tie_end >= n)
        return c; /* no group is split */
    const float v = c.thr, xb = logit_at(kt, in, c.tie_end - 1); /* a kept member */
    /* The group holds one logit (index order is rank order), or logits within the margin of
     * each other: its ends are found a few floats apart (logits far from 0, whose spacing the
     * window below may not hold: past 4 with T = 1), or floats inside the window around xb
     * weigh otherwise. */
    const float xa = group_end(xb, v, m, inv_t, -INFINITY);
    const float xz = group_end(xb, v, m, inv_t, INFINITY);
    const double spread = RANK_SPREAD / (double)inv_t;
    if ((double)xz - (double)xa <= 2.0 * spread)
        return c;
    if (weight_of(toward(xb, spread), m, inv_t) != v &&
        weight_of(toward(xb, -spread), m, inv_t) != v)
        return c;
    size_t g, n_kept = 0;
    kt->bracket(s->w, n, v, v, NULL, s->work, s->vals_out, &g);
    while (n_kept < g && s->work[n_kept] < c.tie_end)
        n_kept++;
    /* The n_kept-th largest logit of the group: the largest key that n_kept members reach,
     * bisected over the logits' order-preserving bit keys (32 counts, whatever the group). */
    uint32_t lo = 0, hi = UINT32_MAX;
    while (lo < hi) {
        const uint32_t mid = lo + (hi - lo) / 2 + 1;
        size_t reach = 0;
        for (size_t j = 0; j < g; j++)
            reach += logit_key(logit_at(kt, in, s->work[j])) >= mid;
        if (reach >= n_kept)
            lo = mid;
        else
            hi = mid - 1;
    }
    size_t above = 0;
    for (size_t j = 0; j < g; j++)
        above += logit_key(logit_at(kt, in, s->work[j])) > lo;
    size_t ties_kept = n_kept - above; /* members of the cut's logit kept, by index */
    for (size_t j = 0; j < g; j++) {
        const uint32_t key = logit_key(logit_at(kt, in, s->work[j]));
        if (key > lo || (key == lo && ties_kept > 0 && ties_kept--))
            continue;
        s->w[s->work[j]] = nextafterf(v, 0.0f);
    }
    return (keep){v, n};
}

/* Runs the max, exp and filter stages on a validated row. */
static int filter_row(nuc_sampler *s, const nuc_kernels *kt, row_in x, size_t n,
                      const nuc_params *p, row *out)
{
    const int greedy = p->temperature <= 0.0f;
    float m;
    size_t at;
    const int rc = row_max(kt, x, n, greedy, &m, &at);
    if (rc != NUC_OK)
        return rc;
    memset(out, 0, sizeof *out);
    out->n = n;
    out->w = s->w;
    out->max = m;
    if (greedy) {
        out->greedy = 1;
        out->argmax = (uint32_t)argmax_in_piece(kt, x, n, m, at);
        return NUC_OK;
    }
    const float inv_t = nuc_inv_temperature(p->temperature);
    const int use_k = p->top_k > 0 && (size_t)p->top_k < n;
    const int use_p = p->top_p < 1.0f;
    const int use_min = p->min_p > 0.0f;
    if (all_equal(kt, x, n, m)) { /* every weight is exp(0) = 1: the cuts are counts */
        const size_t kk = use_k ? (size_t)p->top_k : n;
        /* top-p keeps the tokens whose exclusive prefix mass j is <= top_p * kk (radix.c's
         * closed form for ties); min-p keeps every weight-1 token. */
        const double j = floor((double)p->top_p * (double)kk);
        const size_t kept_n = use_p && j < (double)kk ? (size_t)j + 1 : kk;
        out->constant = 1;
        out->total = (double)n;
        out->keep = (keep){1.0f, kept_n};
        out->mass = (double)kept_n;
        return NUC_OK;
    }

    /* The exp pass also lists the tokens at or above a floor: a prefix of the rank order, so
     * any cut that falls inside it is found in the list alone. LIST_FLOOR (logits within 8.3 T
     * of the max) holds nearly all the mass of an LLM's row in a few dozen tokens; min-p raises
     * it to a floor under every kept token; top-k needs its k-th token inside, hence a floor
     * sampled from the logits. A flat row overflows the list (LIST_MAX) and its cuts are
     * bracketed instead. */
    const int filtered = use_k || use_p || use_min;
    const float lo = use_k      ? top_k_floor(kt, x, n, (size_t)p->top_k, m, inv_t)
                     : filtered ? fmaxf(LIST_FLOOR, p->min_p)
                                : 0.0f;
    size_t len = 0;
    const double total = row_exp_sum(kt, x, n, m, inv_t, s, lo, &len);
    out->total = total;
    const float *w = s->w;
    int have_list = lo > 0.0f && len <= LIST_MAX; /* s->cand[0..len): every token with */
    float list_floor = lo;                       /* w >= list_floor that c keeps */
    int bsum_valid = 1;                          /* s->bsum: the exp pass's block sums */
    keep c = {0.0f, 0};                          /* every token with w > 0 */
    double uni_mass = total;                     /* the survivors top-p renormalises over */
    double cut_mass = -1.0;                      /* >= 0: the kept mass, known from the cut */
    size_t kept_most = n;                        /* no more tokens than this are kept */

    if (use_k) {
        const size_t kk = (size_t)p->top_k;
        const int exp_listed = have_list && len >= kk; /* the exp pass's list holds the top k */
        if (!exp_listed) {
            /* A list too long for the exp pass is often a tie at the max (weight 1): if kk
             * tokens share it, the first kk of them are the top k, found by index alone. */
            const size_t last = kt->find_nth(w, n, 1.0f, kk - 1);
            if (last < n) {
                kt->bracket(w, last + 1, 1.0f, 1.0f, NULL, s->cand, s->vals, &len);
                list_floor = 1.0f;
            } else {
                len = top_k_candidates(s, kt, n, kk, &list_floor);
            }
            have_list = 1;
        }
        if (len >= kk) { /* else top-k keeps every positive token: nothing to cut */
            if (exp_listed) /* the bracket passes above list the weights with the tokens */
                list_vals(s, len);
            const nuc_cut cut = cut_copy(s, len, list_floor, NUC_CUT_COUNT, kk, 0.0);
            c = keep_through(w, cut.index);
            len = compact(w, s->cand, len, c, kk);
            uni_mass = list_vals(s, len);
        }
    }
    if (use_p) {
        const double target = (double)p->top_p * uni_mass;
        double list_total = 0.0;
        if (have_list) {
            /* The list's whole mass first: where it does not pass the target, the cut lies
             * past the list (a long-tailed row) and cutting inside it is wasted. */
            list_total = list_vals(s, len);
            nuc_cut cut = {.found = 0};
            if (list_total > target) {
                cut = list_cut_p(s, kt, len, list_floor, target);
                bsum_valid = 0;
            }
            if (cut.found) {
                c = keep_through(w, cut.index);
                cut_mass = cut.mass;
                kept_most = cut.rank + 1;
            } else if (use_k || list_floor <= p->min_p)
                c = keep_at_least(c, list_floor, n); /* top-k or min-p ends the set there */
            else
                have_list = 0; /* the cut lies below the list: look at the whole row */
        }
        if (!have_list && n < SAMPLED_MIN_N) {
            len = select_range(s, kt, n, FLT_MIN, FLT_MAX);
            have_list = 1;
            list_floor = FLT_MIN;
            const nuc_cut cut = list_cut_p(s, kt, len, list_floor, target);
            c = cut.found ? keep_through(w, cut.index) : c;
            bsum_valid = 0;
        } else if (!have_list) {
            /* What the bracket may take as known: the list, when it is the exact head. */
            const float head_floor = len <= LIST_MAX && list_floor > 0.0f ? list_floor : 2.0f;
            c = top_p_bracketed(s, kt, n, target, uni_mass, head_floor,
                                head_floor <= 1.0f ? list_total : 0.0, c, &cut_mass);
            bsum_valid = 0;
        }
    }
    if (use_min && p->min_p > c.thr) {
        c = keep_at_least(c, p->min_p, n);
        cut_mass = -1.0;
    }
    const keep ranked = rank_split_group(s, kt, x, n, m, inv_t, c);
    if (ranked.tie_end != c.tie_end) { /* members past a list's end may now be kept */
        have_list = 0;
        c = ranked;
    }

    out->keep = c;
    /* A list that holds the whole kept set gives its block sums token by token while they are
     * few; past LIST_SUMS_MAX kept tokens a pass over the row (the same sums) is cheaper. */
    const int list_holds_set = have_list && c.thr >= list_floor;
    if (list_holds_set && (kept_most <= LIST_SUMS_MAX || cut_mass < 0.0))
        len = compact(w, s->cand, len, c, kept_most);
    if (list_holds_set && len <= LIST_SUMS_MAX) {
        out->list = s->cand;
        out->len = len;
        out->mass = list_block_sums(w, s->cand, len, s->bsum);
    } else if (c.thr == 0.0f && c.tie_end == 0 && bsum_valid) {
        out->mass = total;
    } else if (cut_mass >= 0.0) {
        /* A top-p cut knows its kept mass: no pass over the row to sum it again; the draw sums
         * the blocks it walks (half the row on average) and probs need none. */
        out->mass = cut_mass;
        out->lazy = 1;
    } else {
        size_t count;
        out->mass = kt->kept_sum(w, n, c.thr, c.tie_end, s->bsum, &count);
    }
    out->bsum = s->bsum;
    out->kt = kt;
    return NUC_OK;
}

/* Inverse CDF in token order: the first kept token whose prefix sum exceeds u * M. Block sums
 * are carried in double; inside the chosen block the prefix is added in float, token by token.
 * Where the two orders round apart and no token crosses, the block's last kept token is taken.
 * Lazy rows get their block sums DRAW_BLOCKS at a time, as the walk reaches them, and for
 * u > 1/2 the walk comes from the row's end: the prefix before a block is then M less the kept
 * mass from it on (rounding apart by far less than the sampling margin), and the walk sums a
 * quarter of the row on average, not half (flat row at n = 128256: 3.2 us -> 2.1 us). */
#define DRAW_BLOCKS 16

/* The kept sums of the DRAW_BLOCKS blocks from blk (fewer at the row's end) into r->bsum. */
static void sum_blocks(const row *r, size_t blk)
{
    const size_t start = blk * NUC_BLOCK, ties = r->keep.tie_end;
    const size_t len =
        r->n - start < DRAW_BLOCKS * NUC_BLOCK ? r->n - start : DRAW_BLOCKS * NUC_BLOCK;
    size_t count;
    r->kt->kept_sum(r->w + start, len, r->keep.thr, ties > start ? ties - start : 0,
                    r->bsum + blk, &count);
}

/* The block the walk from the front crosses target in, *run receiving the kept mass before
 * it; or, where rounding leaves target uncrossed, the last block with kept mass (returns nb). */
static size_t walk_from_front(const row *r, double target, double *run, size_t *last_with_mass)
{
    const size_t nb = NUC_NBLOCKS(r->n);
    size_t blk = 0, summed = r->lazy ? 0 : nb;
    *run = 0.0;
    *last_with_mass = 0;
    for (; blk < nb; blk++) {
        if (blk == summed) {
            sum_blocks(r, blk);
            summed = blk + DRAW_BLOCKS;
        }
        if (*run + r->bsum[blk] > target)
            return blk;
        if (r->bsum[blk] > 0.0f)
            *last_with_mass = blk;
        *run += r->bsum[blk];
    }
    return nb;
}

/* The same from the row's end: the highest block with kept mass whose prefix, M less the mass
 * from it on, is at most target (the first block with mass if rounding leaves none). */
static size_t walk_from_back(const row *r, double target, double *run)
{
    const size_t nb = NUC_NBLOCKS(r->n);
    double from = 0.0; /* the kept mass of the blocks from blk on */
    size_t first_with_mass = nb;
    for (size_t blk = nb; blk-- > 0;) {
        if (blk % DRAW_BLOCKS == DRAW_BLOCKS - 1 || blk == nb - 1)
            sum_blocks(r, blk - blk % DRAW_BLOCKS);
        if (!(r->bsum[blk] > 0.0f))
            continue;
        from += r->bsum[blk];
        first_with_mass = blk;
        if (r->mass - from <= target) {
            *run = r->mass - from;
            return blk;
        }
    }
    *run = r->mass - from;
    return first_with_mass;
}

static uint32_t draw(const row *r, double u)
{
    const double target = u * r->mass;
    const float *w = r->w;
    if (r->constant) { /* weights 1: the walk's sums are the counts themselves */
        const double i = floor(target);
        return (uint32_t)(i < r->mass - 1.0 ? i : r->mass - 1.0);
    }
    if (r->list) {
        double run = 0.0;
        for (size_t j = 0; j < r->len;) {
            const size_t blk = r->list[j] / NUC_BLOCK;
            size_t end = j;
            while (end < r->len && r->list[end] / NUC_BLOCK == blk)
                end++;
            if (run + r->bsum[blk] > target) {
                float prefix = 0.0f;
                for (; j < end - 1; j++) {
                    prefix += w[r->list[j]];
                    if (run + prefix > target)
                        break;
                }
                return r->list[j];
            }
            run += r->bsum[blk];
            j = end;
        }
        return r->list[r->len - 1];
    }
    const size_t nb = NUC_NBLOCKS(r->n);
    double run;
    size_t blk, last_with_mass = 0;
    if (r->lazy && u > 0.5)
        blk = walk_from_back(r, target, &run);
    else
        blk = walk_from_front(r, target, &run, &last_with_mass);
    const int crossed = blk < nb;
    if (!crossed)
        blk = last_with_mass;
    const size_t start = blk * NUC_BLOCK;
    const size_t end = r->n - start < NUC_BLOCK ? r->n : start + NUC_BLOCK;
    float prefix = 0.0f;
    size_t last = start;
    for (size_t i = start; i < end; i++) {
        if (!kept(r->keep, w[i], i))
            continue;
        last = i;
        prefix += w[i];
        if (crossed && run + prefix > target)
            break;
    }
    return (uint32_t)last;
}

static int check_row(const nuc_sampler *s, const void *logits, nuc_dtype dtype, size_t n,
                     const nuc_params *p)
{
    if (!s || !logits || n == 0 || n > s->cap || n > (size_t)INT32_MAX ||
        (dtype != NUC_DTYPE_F32 && dtype != NUC_DTYPE_BF16 && dtype != NUC_DTYPE_F16))
        return NUC_EINVAL;
    return nuc_check_params(p);
}

static row_in input(const nuc_sampler *s, const void *logits, nuc_dtype dtype)
{
    return (row_in){logits, dtype, s->chunk};
}

int nuc_sample_u_typed(nuc_sampler *s, const void *logits, nuc_dtype dtype, size_t n,
                       const nuc_params *p, double u, int32_t *token)
{
    int rc = check_row(s, logits, dtype, n, p);
    if (rc != NUC_OK || !token || !(u >= 0.0 && u < 1.0))
        return rc != NUC_OK ? rc : NUC_EINVAL;
    row r;
    rc = filter_row(s, nuc_active_kernels(), input(s, logits, dtype), n, p, &r);
    if (rc != NUC_OK)
        return rc;
    *token = (int32_t)(r.greedy ? r.argmax : draw(&r, u));
    return NUC_OK;
}

int nuc_sample_typed(nuc_sampler *s, const void *logits, nuc_dtype dtype, size_t n,
                     const nuc_params *p, uint64_t seed, uint64_t stream, uint64_t step,
                     int32_t *token)
{
    return nuc_sample_u_typed(s, logits, dtype, n, p, nuc_uniform(seed, stream, step), token);
}

int nuc_sample_u(nuc_sampler *s, const float *logits, size_t n, const nuc_params *p, double u,
                 int32_t *token)
{
    return nuc_sample_u_typed(s, logits, NUC_DTYPE_F32, n, p, u, token);
}

int nuc_sample(nuc_sampler *s, const float *logits, size_t n, const nuc_params *p,
               uint64_t seed, uint64_t stream, uint64_t step, int32_t *token)
{
    return nuc_sample_u_typed(s, logits, NUC_DTYPE_F32, n, p, nuc_uniform(seed, stream, step),
                              token);
}

int nuc_probs_typed(nuc_sampler *s, const void *logits, nuc_dtype dtype, size_t n,
                    const nuc_params *p, float *q)
{
    int rc = check_row(s, logits, dtype, n, p);
    if (rc != NUC_OK || !q)
        return rc != NUC_OK ? rc : NUC_EINVAL;
    const nuc_kernels *kt = nuc_active_kernels();
    row r;
    rc = filter_row(s, kt, input(s, logits, dtype), n, p, &r);
    if (rc != NUC_OK)
        return rc;
    if (r.greedy) {
        memset(q, 0, n * sizeof *q);
        q[r.argmax] = 1.0f;
        return NUC_OK;
    }
    if (r.constant) { /* what scale_kept makes of weights 1: the scale, on the first kept */
        const float scale = (float)(1.0 / r.mass);
        for (size_t i = 0; i < n; i++)
            q[i] = i < r.keep.tie_end ? scale : 0.0f;
        return NUC_OK;
    }
    kt->scale_kept(r.w, n, r.keep.thr, r.keep.tie_end, (float)(1.0 / r.mass), q);
    return NUC_OK;
}

int nuc_probs(nuc_sampler *s, const float *logits, size_t n, const nuc_params *p, float *q)
{
    return nuc_probs_typed(s, logits, NUC_DTYPE_F32, n, p, q);
}

int nuc_argmax(const float *x, size_t n, int32_t *index)
{
    if (!x || !index || n == 0 || n > (size_t)INT32_MAX)
        return NUC_EINVAL;
    const nuc_kernels *kt = nuc_active_kernels();
    const row_in in = {x, NUC_DTYPE_F32, NULL};
    float m;
    size_t at;
    const int rc = row_max(kt, in, n, 1, &m, &at);
    if (rc == NUC_OK)
        *index = (int32_t)argmax_in_piece(kt, in, n, m, at);
    return rc;
}

/* Rank order among the top tokens: logit descending (pi is monotone in it), then index. */
static int ranks_before(float xa, int32_t a, float xb, int32_t b)
{
    return xa > xb || (xa == xb && a < b);
}

/* log pi_i = (x_i - max) / T - log S, in double from the logit itself (not from the float
 * weight, which flushes below exp(-87)). */
typedef struct logprob_of {
    const nuc_kernels *kt;
    row_in in;
    float max;
    double t, log_total;
} logprob_of;

static float logprob(const logprob_of *l, size_t i)
{
    return (float)(((double)logit_at(l->kt, l->in, i) - (double)l->max) / l->t - l->log_total);
}

int nuc_sample_logprobs(nuc_sampler *s, const void *logits, nuc_dtype dtype, size_t n,
                        const nuc_params *p, double u, int n_top, int32_t *token,
                        nuc_logprobs *out)
{
    int rc = check_row(s, logits, dtype, n, p);
    if (rc != NUC_OK || !token || !out || !(u >= 0.0 && u < 1.0) || n_top < 0 ||
        n_top > NUC_MAX_TOP_LOGPROBS)
        return rc != NUC_OK ? rc : NUC_EINVAL;
    const nuc_kernels *kt = nuc_active_kernels();
    const row_in in = input(s, logits, dtype);
    row r;
    rc = filter_row(s, kt, in, n, p, &r);
    if (rc != NUC_OK)
        return rc;
    const int32_t tok = (int32_t)(r.greedy ? r.argmax : draw(&r, u));
    if (r.constant) /* the weights the lists below read */
        for (size_t i = 0; i < n; i++)
            s->w[i] = 1.0f;

    /* Greedy rows report the softmax at temperature 1: one exp pass more. */
    double t = 1.0, total = r.total;
    if (r.greedy) {
        size_t unused;
        total = row_exp_sum(kt, in, n, r.max, 1.0f, s, 0.0f, &unused);
    } else {
        t = 1.0 / (double)nuc_inv_temperature(p->temperature);
    }
    const logprob_of lpo = {kt, in, r.max, t, log(total)};

    /* The n_top best: a count cut over the top-k candidates, then at most 20 in rank order.
     * Tokens whose weight underflowed (below exp(-87) of the max) are not listed. */
    nuc_logprobs lp = {logprob(&lpo, (size_t)tok), 0, {0}, {0}};
    if (n_top > 0) {
        float lo;
        size_t len = top_k_candidates(s, kt, n, (size_t)n_top, &lo);
        if (len > (size_t)n_top) {
            const nuc_cut cut =
                cut_copy(s, len, lo, NUC_CUT_COUNT, (size_t)n_top, 0.0);
            len = compact(s->w, s->cand, len, keep_through(s->w, cut.index), (size_t)n_top);
        }
        float x[NUC_MAX_TOP_LOGPROBS];
        for (size_t j = 0; j < len; j++) { /* insertion into rank order */
            const int32_t id = (int32_t)s->cand[j];
            const float v = logit_at(kt, in, (size_t)id);
            int at = lp.n_top++;
            for (; at > 0 && ranks_before(v, id, x[at - 1], lp.top_ids[at - 1]); at--) {
                x[at] = x[at - 1];
                lp.top_ids[at] = lp.top_ids[at - 1];
            }
            x[at] = v;
            lp.top_ids[at] = id;
        }
        for (int j = 0; j < lp.n_top; j++)
            lp.top_logprobs[j] = logprob(&lpo, (size_t)lp.top_ids[j]);
    }
    *token = tok;
    *out = lp;
    return NUC_OK;
}
