/* checkasm for the kernel table: every kernel of every set this machine runs (AVX2, AVX-512,
 * NEON when built) against the scalar reference, bit for bit, on random and adversarial rows,
 * at lengths around the vector widths and unrolls, from unaligned starts. Outputs are compared
 * with memcmp over the written range plus a guard zone past it, so a stray store (a masked
 * tail gone wrong) fails as surely as a wrong bit. Links the library's objects: the tables are
 * internal (nuc_kernels_for). */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nucleus.h"
#include "kernels.h"
#include "radix.h"
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h> /* MXCSR, for the DAZ / FTZ check of the widening */
#endif

#define MAX_N 128256
#define GUARD 32       /* elements past the end that no kernel may touch */
#define MAX_OFFSET 3   /* unaligned starts: 0..3 floats past a 64-byte boundary */
#define SENTINEL 0xa5u /* byte pattern of every output buffer before a call */

static const size_t long_lengths[] = {255, 256, 257, 4093, 32000, MAX_N};

static int quick_mode(void)
{
    const char *v = getenv("NUC_TEST_QUICK");
    return v && *v && strcmp(v, "0") != 0;
}
static const float temperatures[] = {0.05f, 0.7f, 1.0f, 2.0f, 1e-30f, 1e30f};
#define N_TEMPS (sizeof temperatures / sizeof temperatures[0])

/* ---- randomness (splitmix64) ---- */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static double unif(rng *r) { return (double)(rnd(r) >> 11) * 0x1p-53; }

static size_t below(rng *r, size_t n) { return n ? (size_t)(rnd(r) % n) : 0; }

static float normal(rng *r)
{
    const double u1 = unif(r) + 1e-300, u2 = unif(r);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* ---- rows ---- */
typedef enum {
    G_NORMAL,  /* N(0, 3) */
    G_PEAKED,  /* N(0, 1.5) plus a few tokens lifted by 10..16 */
    G_MASKED,  /* 70% -inf */
    G_WIDE,    /* uniform in [-200, 0]: every exponent of the exp, and the cutoff */
    G_CUTOFF,  /* at and around -87 and the rounding boundaries (K + 1/2) ln(2) / 16 of the exp */
    G_TIES,    /* five distinct values */
    G_EQUAL,   /* one value */
    G_HUGE,    /* +-1e30 .. FLT_MAX */
    G_TINY,    /* zeros of both signs, FLT_MIN, subnormals */
    G_ALLMASK, /* every logit -inf */
    G_COUNT
} gen;

static const char *const gen_names[G_COUNT] = {"normal", "peaked", "masked", "wide", "cutoff",
                                               "ties", "equal", "huge", "tiny", "allmask"};

static float nudge(float v, int ulps)
{
    for (; ulps > 0; ulps--)
        v = nextafterf(v, INFINITY);
    for (; ulps < 0; ulps++)
        v = nextafterf(v, -INFINITY);
    return v;
}

static void fill(gen g, rng *r, float *x, size_t n)
{
    static const float tiny[] = {0.0f, -0.0f, FLT_MIN, -FLT_MIN, 1e-38f, -1e-38f, 1e-40f,
                                 -1e-40f, 1.4e-45f, -1.4e-45f, 3e-39f, 1e-30f};
    const float ties[5] = {normal(r), normal(r), normal(r) * 3.0f, 0.0f, -1.0f};
    const float equal = normal(r) * 10.0f;
    for (size_t i = 0; i < n; i++) {
        switch (g) {
        case G_NORMAL: x[i] = 3.0f * normal(r); break;
        case G_PEAKED:
            x[i] = 1.5f * normal(r) + (below(r, 1000) == 0 ? 10.0f + 6.0f * (float)unif(r) : 0.0f);
            break;
        case G_MASKED: x[i] = below(r, 10) < 7 ? -INFINITY : 2.0f * normal(r); break;
        case G_WIDE: x[i] = (float)(-200.0 * unif(r)); break;
        case G_CUTOFF:
            if (below(r, 2))
                x[i] = nudge(NUC_EXP_CUTOFF, (int)below(r, 9) - 4);
            else
                x[i] = nudge((float)(((double)below(r, 2009) - 2008.5) * 0.6931471805599453 / 16),
                             (int)below(r, 7) - 3);
            break;
        case G_TIES: x[i] = ties[below(r, 5)]; break;
        case G_EQUAL: x[i] = equal; break;
        case G_HUGE: {
            const float v = below(r, 8) == 0 ? FLT_MAX : (float)(1e30 * pow(3.4e8, unif(r)));
            x[i] = below(r, 2) ? v : -v;
            break;
        }
        case G_TINY: x[i] = tiny[below(r, sizeof tiny / sizeof tiny[0])]; break;
        case G_ALLMASK: x[i] = -INFINITY; break;
        default: x[i] = 0.0f;
        }
    }
    if (g == G_CUTOFF && n > 0)
        x[below(r, n)] = 0.0f; /* max 0, so at T = 1 y is the logit itself */
}

/* ---- the sets under test ---- */
typedef struct set {
    const char *name;
    const nuc_kernels *k;
} set;

static const nuc_kernels *ref;

/* Every set but scalar that this machine runs; returns how many. */
static int sets_under_test(set out[4])
{
    int c = 0;
    ref = nuc_kernels_for(NUC_ISA_SCALAR);
    ck_assert_ptr_nonnull(ref);
    for (int isa = NUC_ISA_SCALAR + 1; isa <= NUC_ISA_NEON; isa++) {
        const nuc_kernels *k = nuc_kernels_for(isa);
        if (k)
            out[c++] = (set){nuc_isa_name((nuc_isa)isa), k};
    }
    return c;
}

/* ---- failure collection: a sweep goes on after a mismatch and reports the first ---- */
static long fails;
static char first_fail[1024];

static void mismatch(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mismatch(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (fails == 0)
        vsnprintf(first_fail, sizeof first_fail, fmt, ap);
    va_end(ap);
    if (fails < 8) {
        va_start(ap, fmt);
        fputs("mismatch: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    fails++;
}

#define ASSERT_NO_FAILS() \
    ck_assert_msg(fails == 0, "%ld mismatch(es); first: %s", fails, first_fail)

/* First differing byte's element (size elem), or -1. */
static long first_diff(const void *a, const void *b, size_t count, size_t elem)
{
    if (memcmp(a, b, count * elem) == 0)
        return -1;
    const unsigned char *pa = a, *pb = b;
    for (size_t i = 0; i < count * elem; i++)
        if (pa[i] != pb[i])
            return (long)(i / elem);
    return -1;
}

static int untouched(const void *p, size_t bytes)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < bytes; i++)
        if (b[i] != SENTINEL)
            return 0;
    return 1;
}

/* ---- buffers ---- */
typedef struct bufs {
    float *xbase;              /* input rows start at xbase + offset */
    float *w_ref, *w_got;      /* MAX_N + GUARD */
    float *b_ref, *b_got;      /* NBLOCKS + GUARD */
    uint32_t *c_ref, *c_got;   /* MAX_N + GUARD */
    float *weights;            /* a row of scalar weights, kept for the threshold kernels */
} bufs;

static void *alloc64(size_t bytes)
{
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    ck_assert_ptr_nonnull(p);
    return p;
}

static void bufs_init(bufs *b)
{
    const size_t nf = MAX_N + GUARD + 64;
    b->xbase = alloc64(nf * sizeof(float));
    b->w_ref = alloc64(nf * sizeof(float));
    b->w_got = alloc64(nf * sizeof(float));
    b->b_ref = alloc64((NUC_NBLOCKS(MAX_N) + GUARD) * sizeof(float));
    b->b_got = alloc64((NUC_NBLOCKS(MAX_N) + GUARD) * sizeof(float));
    b->c_ref = alloc64(nf * sizeof(uint32_t));
    b->c_got = alloc64(nf * sizeof(uint32_t));
    b->weights = alloc64(nf * sizeof(float));
}

static void bufs_free(bufs *b)
{
    free(b->xbase);
    free(b->w_ref);
    free(b->w_got);
    free(b->b_ref);
    free(b->b_got);
    free(b->c_ref);
    free(b->c_got);
    free(b->weights);
}

static void poison(bufs *b, size_t n)
{
    const size_t nb = NUC_NBLOCKS(n) + GUARD;
    memset(b->w_ref, SENTINEL, (n + GUARD) * sizeof(float));
    memset(b->w_got, SENTINEL, (n + GUARD) * sizeof(float));
    memset(b->b_ref, SENTINEL, nb * sizeof(float));
    memset(b->b_got, SENTINEL, nb * sizeof(float));
    memset(b->c_ref, SENTINEL, (n + GUARD) * sizeof(uint32_t));
    memset(b->c_got, SENTINEL, (n + GUARD) * sizeof(uint32_t));
}

/* The sweep: every length 0..130 with every offset and row kind; the long lengths with each
 * row kind at one offset (rotating), which keeps the scalar reference's time in bounds. */
typedef void (*case_fn)(const set *s, bufs *b, const float *x, size_t n, gen g, size_t off,
                        rng *r);

static void sweep(case_fn fn, uint64_t seed)
{
    set sets[4];
    const int ns = sets_under_test(sets);
    bufs b;
    bufs_init(&b);
    rng r = {seed};
    fails = 0;
    for (int si = 0; si < ns; si++) {
        for (size_t n = 0; n <= 130 + sizeof long_lengths / sizeof long_lengths[0]; n++) {
            const size_t len = n <= 130 ? n : long_lengths[n - 131];
            if (quick_mode() && len > 4093)
                continue; /* NUC_TEST_QUICK (qemu, valgrind): the long rows add no new tails */
            for (int g = 0; g < G_COUNT; g++) {
                for (size_t off = 0; off <= MAX_OFFSET; off++) {
                    if (len > 130 && off != (len + (size_t)g) % (MAX_OFFSET + 1))
                        continue;
                    float *x = b.xbase + off;
                    fill((gen)g, &r, x, len);
                    fn(&sets[si], &b, x, len, (gen)g, off, &r);
                }
            }
        }
    }
    bufs_free(&b);
    ASSERT_NO_FAILS();
}

/* ---- max ---- */
static void check_max1(const set *s, const float *x, size_t n, const char *what, size_t off)
{
    float mr = 12345.0f, mg = 12345.0f;
    const int rr = ref->max(x, n, &mr), rg = s->k->max(x, n, &mg);
    if (rr != rg)
        mismatch("%s max %s n=%zu off=%zu: rc %d, scalar %d", s->name, what, n, off, rg, rr);
    else if (mr != mg) /* == : either zero of +-0 is a right answer */
        mismatch("%s max %s n=%zu off=%zu: %a, scalar %a", s->name, what, n, off, (double)mg,
                 (double)mr);

}

static void case_max(const set *s, bufs *b, const float *x0, size_t n, gen g, size_t off, rng *r)
{
    (void)b;
    float *x = (float *)x0;
    check_max1(s, x, n, gen_names[g], off);
    if (n == 0)
        return;
    /* A bad value at a random place, at each end, and in the last (partial) vector. */
    static const uint32_t bad_bits[] = {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0x7f800000u};
    const size_t places[] = {below(r, n), 0, n - 1, n - 1 - below(r, n < 17 ? n : 17)};
    for (size_t pi = 0; pi < sizeof places / sizeof places[0]; pi++) {
        for (size_t bi = 0; bi < sizeof bad_bits / sizeof bad_bits[0]; bi++) {
            const float keep = x[places[pi]];
            memcpy(&x[places[pi]], &bad_bits[bi], sizeof(float));
            char what[64];
            snprintf(what, sizeof what, "%s+%08x@%zu", gen_names[g], bad_bits[bi], places[pi]);
            check_max1(s, x, n, what, off);
            x[places[pi]] = keep;
        }
    }
    /* -inf everywhere but one place, and -inf everywhere but one NaN. */
    if (g == G_ALLMASK) {
        const size_t p = below(r, n);
        x[p] = -FLT_MAX;
        check_max1(s, x, n, "allmask+one", off);
        x[p] = NAN;
        check_max1(s, x, n, "allmask+nan", off);
        x[p] = -INFINITY;
    }
}

START_TEST(test_max) { sweep(case_max, 1); }
END_TEST

/* ---- find_nth ---- */
static void case_find_nth(const set *s, bufs *b, const float *x, size_t n, gen g, size_t off,
                          rng *r)
{
    (void)b;
    const float vs[] = {n ? x[below(r, n)] : 1.0f, n ? x[n - 1] : 0.0f, n ? x[0] : 0.0f,
                        12345.678f, 0.0f, -0.0f, NAN, -INFINITY, INFINITY};
    for (size_t k = 0; k < sizeof vs / sizeof vs[0]; k++) {
        size_t equal = 0; /* how many there are, by the definition */
        for (size_t i = 0; i < n; i++)
            equal += x[i] == vs[k];
        /* The first, the last, one past the last, one in the middle, and a random one. */
        const size_t js[] = {0, equal ? equal - 1 : 0, equal, equal / 2, below(r, equal + 2)};
        for (size_t t = 0; t < sizeof js / sizeof js[0]; t++) {
            const size_t j = js[t];
            const size_t er = ref->find_nth(x, n, vs[k], j), eg = s->k->find_nth(x, n, vs[k], j);
            if (er != eg)
                mismatch("%s find_nth %s n=%zu off=%zu v=%a j=%zu: %zu, scalar %zu", s->name,
                         gen_names[g], n, off, (double)vs[k], j, eg, er);
            size_t before = 0; /* the reference itself, against the definition */
            for (size_t i = 0; i < er && i < n; i++)
                before += x[i] == vs[k];
            if (j < equal ? (er >= n || x[er] != vs[k] || before != j) : er != n)
                mismatch("scalar find_nth %s n=%zu v=%a j=%zu: %zu", gen_names[g], n,
                         (double)vs[k], j, er);
        }
    }
}

START_TEST(test_find_nth) { sweep(case_find_nth, 2); }
END_TEST

/* ---- exp_sum ---- */
static void check_exp1(const set *s, bufs *b, const float *x, size_t n, float m, float inv_t,
                       float lo, size_t cap, size_t count, const char *what, size_t off)
{
    poison(b, n);
    size_t nr = 777777, ng = 777777;
    const double tr = ref->exp_sum(x, n, m, inv_t, b->w_ref, b->b_ref, lo, cap, b->c_ref, &nr);
    const double tg = s->k->exp_sum(x, n, m, inv_t, b->w_got, b->b_got, lo, cap, b->c_got, &ng);
    char ctx[256];
    snprintf(ctx, sizeof ctx, "%s exp_sum %s n=%zu off=%zu m=%a inv_t=%a lo=%a cap=%zu", s->name,
             what, n, off, (double)m, (double)inv_t, (double)lo, cap);
    long d;
    if (memcmp(&tr, &tg, sizeof tr) != 0)
        mismatch("%s: total %a, scalar %a", ctx, tg, tr);
    if ((d = first_diff(b->w_ref, b->w_got, n + GUARD, sizeof(float))) >= 0)
        mismatch("%s: w[%ld] = %a, scalar %a%s", ctx, d, (double)b->w_got[d], (double)b->w_ref[d],
                 (size_t)d >= n ? " (past the end)" : "");
    if ((d = first_diff(b->b_ref, b->b_got, NUC_NBLOCKS(n) + GUARD, sizeof(float))) >= 0)
        mismatch("%s: bsum[%ld] = %a, scalar %a", ctx, d, (double)b->b_got[d], (double)b->b_ref[d]);
    if (lo > 0.0f) {
        /* kernels.h: min(count, cap + 1), and the exact list while it fits */
        const size_t want = count <= cap ? count : cap + 1;
        if (nr != want)
            mismatch("%s: scalar ncand %zu, want %zu (count %zu)", ctx, nr, want, count);
        if (ng != want)
            mismatch("%s: ncand %zu, want %zu (count %zu)", ctx, ng, want, count);
        else if (count <= cap && (d = first_diff(b->c_ref, b->c_got, count, sizeof(uint32_t))) >= 0)
            mismatch("%s: cand[%ld] = %u, scalar %u", ctx, d, b->c_got[d], b->c_ref[d]);
    } else if (ng != 777777) {
        mismatch("%s: ncand written without a floor", ctx);
    }
    if (!untouched(b->c_got + n, GUARD * sizeof(uint32_t)))
        mismatch("%s: cand written past n", ctx);
    if (lo <= 0.0f && !untouched(b->c_got, n * sizeof(uint32_t)))
        mismatch("%s: cand written without a floor", ctx);
}

/* The list capacities: none, tiny, around a vector, around the count, the row, unbounded. */
static size_t draw_caps(size_t n, size_t count, size_t out[12])
{
    size_t c = 0;
    const size_t fixed[] = {0, 1, 15, 16, 17, n, SIZE_MAX};
    for (size_t j = 0; j < sizeof fixed / sizeof fixed[0]; j++)
        out[c++] = fixed[j];
    if (count > 0)
        out[c++] = count - 1;
    out[c++] = count;
    out[c++] = count + 1;
    if (count > 32)
        out[c++] = count / 2; /* overflow mid-row */
    return c;
}

static void case_exp(const set *s, bufs *b, const float *x, size_t n, gen g, size_t off, rng *r)
{
    float m0 = 0.0f;
    if (ref->max(x, n, &m0) != NUC_OK)
        m0 = 0.0f;
    const int is_long = n > 130;
    for (size_t ti = 0; ti < N_TEMPS; ti++) {
        const float T = temperatures[ti];
        const float inv_t = fminf(1.0f / T, FLT_MAX);
        /* m is the max (the pipeline's case), above it, and for moderate 1/T a little below
         * it (weights above 1; y at most 50, inside kernels.h's ceiling). */
        const float ms[3] = {m0, m0 + fabsf(m0) * 0.5f + 1.0f, m0 - 0.5f};
        const int n_m = inv_t <= 100.0f ? 3 : 2;
        for (int mi = 0; mi < n_m; mi++) {
            if (is_long && mi != (int)((ti + (size_t)g) % 3) % n_m)
                continue;
            const float m = ms[mi];
            /* The weights themselves, for floors that tie with some of them. */
            size_t unused;
            ref->exp_sum(x, n, m, inv_t, b->weights, b->b_ref, 0.0f, 0, NULL, &unused);
            const float drawn = n ? b->weights[below(r, n)] : 0.5f;
            const float los[] = {0.0f, drawn, FLT_MIN, 1e-6f, nudge(drawn, 1), 1.0f, -1.0f,
                                 NAN, INFINITY};
            for (size_t li = 0; li < sizeof los / sizeof los[0]; li++) {
                if (is_long && li > 3)
                    continue;
                const float lo = los[li];
                size_t count = 0;
                for (size_t i = 0; i < n; i++)
                    count += b->weights[i] >= lo;
                size_t caps[12];
                const size_t nc = lo > 0.0f ? draw_caps(n, count, caps) : 1;
                if (lo <= 0.0f)
                    caps[0] = below(r, n + 1);
                for (size_t ci = 0; ci < nc; ci++) {
                    if (is_long && ci != nc - 1 - below(r, 4) && ci != below(r, nc))
                        continue; /* the long rows: one cap near the count, one at random */
                    check_exp1(s, b, x, n, m, inv_t, lo, caps[ci], count, gen_names[g], off);
                }
            }
        }
    }
    if (n == 0 || g != G_NORMAL)
        return;
    /* Weights at the ceiling (y = 88: k = 126, the largest weight, 1.65e38) followed, in the
     * same lane of their block, by two more (the lane's sum overflows to +inf) and by a NaN
     * logit (weight +0): no candidate may be lost or invented around them. */
    float *xm = (float *)x;
    for (size_t start = 0; start < n; start += NUC_BLOCK) {
        const size_t end = n - start < NUC_BLOCK ? n : start + NUC_BLOCK;
        if (below(r, 2))
            continue;
        size_t at = start + below(r, end - start);
        xm[at] = NUC_EXP_CEILING;
        for (int more = 0; more < 3 && at + 16 < end; more++) {
            at += 16 * (1 + below(r, (end - at - 1) / 16));
            xm[at] = more == 2 ? NAN : NUC_EXP_CEILING;
        }
    }
    const float m = 0.0f, los[] = {1e-3f, 0.5f, INFINITY};
    ref->exp_sum(x, n, m, 1.0f, b->weights, b->b_ref, 0.0f, 0, NULL, NULL);
    for (size_t li = 0; li < sizeof los / sizeof los[0]; li++) {
        size_t count = 0;
        for (size_t i = 0; i < n; i++)
            count += b->weights[i] >= los[li];
        check_exp1(s, b, x, n, m, 1.0f, los[li], SIZE_MAX, count, "normal+ceiling", off);
        check_exp1(s, b, x, n, m, 1.0f, los[li], count / 2, count, "normal+ceiling", off);
    }
}

START_TEST(test_exp_sum) { sweep(case_exp, 3); }
END_TEST

/* ---- the threshold kernels, on weights and on raw rows ---- */

/* The input of the threshold kernels: either the scalar weights of x (at a temperature drawn
 * per row) or x itself (any floats: negatives, -inf, huge, subnormal) with NaNs of both signs
 * sprinkled in, at the same offset. */
static const float *threshold_input(bufs *b, const float *x, size_t n, size_t off, rng *r,
                                    int raw)
{
    if (raw) {
        static const uint32_t nans[] = {0x7fc00000u, 0xffc00000u, 0x7f800001u};
        float *v = b->weights + off;
        memcpy(v, x, n * sizeof *v);
        for (size_t j = 0; j < n / 50 + (n > 0); j++)
            memcpy(&v[below(r, n)], &nans[below(r, 3)], sizeof *v);
        return v;
    }
    float m = 0.0f;
    if (ref->max(x, n, &m) != NUC_OK)
        m = 0.0f;
    const float T = temperatures[below(r, N_TEMPS)];
    size_t unused;
    float *w = b->weights + off;
    ref->exp_sum(x, n, m, fminf(1.0f / T, FLT_MAX), w, b->b_ref, 0.0f, 0, NULL, &unused);
    return w;
}

/* thr values that sit on the data (ties), just off it, and at the edges. */
static void draw_thresholds(const float *w, size_t n, rng *r, float out[8])
{
    const float a = n ? w[below(r, n)] : 0.5f;
    out[0] = a;
    out[1] = n ? w[below(r, n)] : 1.0f;
    out[2] = nudge(a, -1);
    out[3] = 0.0f;
    out[4] = FLT_MIN;
    out[5] = -INFINITY;
    out[6] = NAN;
    out[7] = 1.0f;
}

/* tie_end values: none, all, past the end, random, and at / just after a token equal to thr. */
static void draw_tie_ends(const float *w, size_t n, float thr, rng *r, size_t out[7])
{
    size_t at = n ? below(r, n) : 0;
    for (size_t i = 0; i < n; i++)
        if (w[(at + i) % n] == thr) {
            at = (at + i) % n;
            break;
        }
    out[0] = 0;
    out[1] = n;
    out[2] = SIZE_MAX;
    out[3] = below(r, n + 1);
    out[4] = at;
    out[5] = at + 1;
    out[6] = n + 7;
}

static void check_kept1(const set *s, bufs *b, const float *w, size_t n, float thr, size_t te,
                        const char *what, size_t off)
{
    poison(b, n);
    size_t cr = 777777, cg = 777777;
    const double tr = ref->kept_sum(w, n, thr, te, b->b_ref, &cr);
    const double tg = s->k->kept_sum(w, n, thr, te, b->b_got, &cg);
    char ctx[256];
    snprintf(ctx, sizeof ctx, "%s kept_sum %s n=%zu off=%zu thr=%a tie_end=%zu", s->name, what,
             n, off, (double)thr, te);
    long d;
    if (memcmp(&tr, &tg, sizeof tr) != 0)
        mismatch("%s: total %a, scalar %a", ctx, tg, tr);
    if (cr != cg)
        mismatch("%s: count %zu, scalar %zu", ctx, cg, cr);
    if ((d = first_diff(b->b_ref, b->b_got, NUC_NBLOCKS(n) + GUARD, sizeof(float))) >= 0)
        mismatch("%s: bsum[%ld] = %a, scalar %a", ctx, d, (double)b->b_got[d], (double)b->b_ref[d]);
}

static void check_scale1(const set *s, bufs *b, const float *w, size_t n, float thr, size_t te,
                         float scale, const char *what, size_t off)
{
    poison(b, n);
    /* q at the row's own misalignment, too */
    float *qr = b->w_ref + off, *qg = b->w_got + off;
    ref->scale_kept(w, n, thr, te, scale, qr);
    s->k->scale_kept(w, n, thr, te, scale, qg);
    const long d = first_diff(qr, qg, n + GUARD - MAX_OFFSET, sizeof(float));
    if (d >= 0)
        mismatch("%s scale_kept %s n=%zu off=%zu thr=%a tie_end=%zu scale=%a: q[%ld] = %a, "
                 "scalar %a%s",
                 s->name, what, n, off, (double)thr, te, (double)scale, d, (double)qg[d],
                 (double)qr[d], (size_t)d >= n ? " (past the end)" : "");
}

static void case_threshold(const set *s, bufs *b, const float *x, size_t n, gen g, size_t off,
                           rng *r)
{
    const int is_long = n > 130;
    for (int raw = 0; raw < 2; raw++) {
        if (is_long && raw != (int)(n + (size_t)g) % 2)
            continue;
        const float *w = threshold_input(b, x, n, off, r, raw);
        char what[64];
        snprintf(what, sizeof what, "%s%s", gen_names[g], raw ? "/raw" : "/weights");
        float thrs[8];
        draw_thresholds(w, n, r, thrs);
        for (int ti = 0; ti < 8; ti++) {
            if (is_long && ti > 2 && ti != 3 + (int)below(r, 5))
                continue;
            size_t tes[7];
            draw_tie_ends(w, n, thrs[ti], r, tes);
            for (int ei = 0; ei < 7; ei++) {
                if (is_long && ei != 3 && ei != 4 && ei != 5 && ei != (int)below(r, 7))
                    continue;
                check_kept1(s, b, w, n, thrs[ti], tes[ei], what, off);
                size_t cnt;
                const double mass = ref->kept_sum(w, n, thrs[ti], tes[ei], b->b_ref, &cnt);
                const float scales[] = {(float)(1.0 / mass), 1.0f, -2.0f, 1e-30f, 1e30f};
                const size_t si = below(r, sizeof scales / sizeof scales[0]);
                check_scale1(s, b, w, n, thrs[ti], tes[ei], scales[0], what, off);
                check_scale1(s, b, w, n, thrs[ti], tes[ei], scales[si], what, off);
            }
        }
    }
}

START_TEST(test_kept_sum_scale_kept) { sweep(case_threshold, 4); }
END_TEST

/* ---- bracket ---- */
static void check_bracket1(const set *s, bufs *b, const float *w, size_t n, float lo, float hi,
                           int with_sums, const char *what, size_t off)
{
    poison(b, n);
    size_t cr = 777777, cg = 777777;
    /* The listed weights go to w_ref / w_got, free here: the row lives in b->weights. */
    const double tr =
        ref->bracket(w, n, lo, hi, with_sums ? b->b_ref : NULL, b->c_ref, b->w_ref, &cr);
    const double tg =
        s->k->bracket(w, n, lo, hi, with_sums ? b->b_got : NULL, b->c_got, b->w_got, &cg);
    char ctx[256];
    snprintf(ctx, sizeof ctx, "%s bracket%s %s n=%zu off=%zu lo=%a hi=%a", s->name,
             with_sums ? "+bsum" : "", what, n, off, (double)lo, (double)hi);
    long d;
    if (memcmp(&tr, &tg, sizeof tr) != 0)
        mismatch("%s: total %a, scalar %a", ctx, tg, tr);
    if (!with_sums && tg != 0.0)
        mismatch("%s: total %a without bsum", ctx, tg);
    if (cr != cg)
        mismatch("%s: count %zu, scalar %zu", ctx, cg, cr);
    else if ((d = first_diff(b->c_ref, b->c_got, cr, sizeof(uint32_t))) >= 0)
        mismatch("%s: idx[%ld] = %u, scalar %u", ctx, d, b->c_got[d], b->c_ref[d]);
    else if ((d = first_diff(b->w_ref, b->w_got, cr, sizeof(float))) >= 0)
        mismatch("%s: vals[%ld] = %a, scalar %a", ctx, d, (double)b->w_got[d],
                 (double)b->w_ref[d]);
    for (size_t j = 0; j < cr && j < n; j++)
        if (memcmp(&b->w_ref[j], &w[b->c_ref[j]], sizeof(float)) != 0) {
            mismatch("%s: scalar vals[%zu] is not w[idx[%zu]]", ctx, j, j);
            break;
        }
    if (!untouched(b->c_got + n, GUARD * sizeof(uint32_t)))
        mismatch("%s: idx written past n", ctx);
    if (!untouched(b->w_got + n, GUARD * sizeof(float)))
        mismatch("%s: vals written past n", ctx);
    if (with_sums) {
        if ((d = first_diff(b->b_ref, b->b_got, NUC_NBLOCKS(n) + GUARD, sizeof(float))) >= 0)
            mismatch("%s: bsum[%ld] = %a, scalar %a", ctx, d, (double)b->b_got[d],
                     (double)b->b_ref[d]);
    } else if (!untouched(b->b_got, (NUC_NBLOCKS(n) + GUARD) * sizeof(float))) {
        mismatch("%s: bsum written", ctx);
    }
    /* Without idx: the same weights, count and sums, and nothing written past n. */
    memset(b->w_got, SENTINEL, (n + GUARD) * sizeof(float));
    memset(b->b_got, SENTINEL, (NUC_NBLOCKS(n) + GUARD) * sizeof(float));
    size_t cn = 777777;
    const double tn = s->k->bracket(w, n, lo, hi, with_sums ? b->b_got : NULL, NULL, b->w_got, &cn);
    if (cn != cr || memcmp(&tn, &tr, sizeof tr) != 0)
        mismatch("%s without idx: count %zu total %a, scalar %zu %a", ctx, cn, tn, cr, tr);
    else if ((d = first_diff(b->w_ref, b->w_got, cr, sizeof(float))) >= 0)
        mismatch("%s without idx: vals[%ld] = %a, scalar %a", ctx, d, (double)b->w_got[d],
                 (double)b->w_ref[d]);
    if (!untouched(b->w_got + n, GUARD * sizeof(float)))
        mismatch("%s without idx: vals written past n", ctx);
    if (with_sums && (d = first_diff(b->b_ref, b->b_got, NUC_NBLOCKS(n), sizeof(float))) >= 0)
        mismatch("%s without idx: bsum[%ld] = %a, scalar %a", ctx, d, (double)b->b_got[d],
                 (double)b->b_ref[d]);
}

static void case_bracket(const set *s, bufs *b, const float *x, size_t n, gen g, size_t off,
                         rng *r)
{
    const int is_long = n > 130;
    for (int raw = 0; raw < 2; raw++) {
        const float *w = threshold_input(b, x, n, off, r, raw);
        char what[64];
        snprintf(what, sizeof what, "%s%s", gen_names[g], raw ? "/raw" : "/weights");
        /* Bounds drawn from the data, so both ends tie with some w. */
        const float a = n ? w[below(r, n)] : 0.25f, c = n ? w[below(r, n)] : 0.75f;
        const float mn = fminf(a, c), mx = fmaxf(a, c);
        const float pairs[][2] = {{mn, mx}, {mn, FLT_MAX}, {a, a}, {mx, mn},
                                  {nudge(mn, 1), nudge(mx, -1)}, {FLT_MIN, mx},
                                  {-INFINITY, INFINITY}, {FLT_MIN, FLT_MAX},
                                  {nudge(a, 1), INFINITY}, {-INFINITY, nudge(a, -1)},
                                  {0.0f, mx}, {-0.0f, 0.0f}, {NAN, 1.0f}, {0.0f, NAN},
                                  {NAN, NAN}, {-1.0f, -0.5f}};
        for (size_t pi = 0; pi < sizeof pairs / sizeof pairs[0]; pi++) {
            if (is_long && pi > 3 && pi != 4 + below(r, 12))
                continue;
            for (int with_sums = 0; with_sums < 2; with_sums++)
                check_bracket1(s, b, w, n, pairs[pi][0], pairs[pi][1], with_sums, what, off);
        }
    }
}

START_TEST(test_bracket) { sweep(case_bracket, 5); }
END_TEST

/* ---- bf16 / fp16 widening: every 16-bit pattern, then short lengths at every offset ---- */
START_TEST(test_convert)
{
    set sets[4];
    const int ns = sets_under_test(sets);
    enum { ALL = 65536 };
    uint16_t *src = alloc64((ALL + 8) * sizeof(uint16_t));
    float *fr = alloc64((ALL + GUARD + 8) * sizeof(float));
    float *fg = alloc64((ALL + GUARD + 8) * sizeof(float));
    rng r = {6};
    fails = 0;
    for (int si = 0; si < ns; si++) {
        for (int f16 = 0; f16 < 2; f16++) {
            void (*const want)(const uint16_t *, size_t, float *) =
                f16 ? ref->f16_to_f32 : ref->bf16_to_f32;
            void (*const got)(const uint16_t *, size_t, float *) =
                f16 ? sets[si].k->f16_to_f32 : sets[si].k->bf16_to_f32;
            for (size_t len = 0; len <= 131; len++) {
                const size_t n = len == 131 ? ALL : len, off = len == 131 ? 0 : len % 4;
                for (size_t i = 0; i < n; i++)
                    src[off + i] = len == 131 ? (uint16_t)i : (uint16_t)rnd(&r);
                memset(fr, SENTINEL, (n + GUARD + 4) * sizeof(float));
                memset(fg, SENTINEL, (n + GUARD + 4) * sizeof(float));
                want(src + off, n, fr + off);
                got(src + off, n, fg + off);
                const long d = first_diff(fr, fg, n + GUARD + 4, sizeof(float));
                if (d >= 0)
                    mismatch("%s %s_to_f32 n=%zu off=%zu: dst[%ld] differs", sets[si].name,
                             f16 ? "f16" : "bf16", n, off, d - (long)off);
            }
        }
    }
#if defined(__x86_64__) || defined(__i386__)
    /* Every pattern again with the caller in DAZ + FTZ (as some ML runtimes leave MXCSR): the
     * widening is exact whatever the mode. */
    for (size_t i = 0; i < ALL; i++)
        src[i] = (uint16_t)i;
    for (int si = 0; si < ns; si++) {
        for (int f16 = 0; f16 < 2; f16++) {
            (f16 ? ref->f16_to_f32 : ref->bf16_to_f32)(src, ALL, fr);
            const unsigned csr = _mm_getcsr();
            _mm_setcsr(csr | 0x8040u); /* FTZ | DAZ */
            (f16 ? sets[si].k->f16_to_f32 : sets[si].k->bf16_to_f32)(src, ALL, fg);
            _mm_setcsr(csr);
            const long d = first_diff(fr, fg, ALL, sizeof(float));
            if (d >= 0)
                mismatch("%s %s_to_f32 under DAZ+FTZ: dst[%ld] = %08x, scalar %08x",
                         sets[si].name, f16 ? "f16" : "bf16", d, ((const uint32_t *)fg)[d],
                         ((const uint32_t *)fr)[d]);
        }
    }
#endif
    free(src);
    free(fr);
    free(fg);
    ASSERT_NO_FAILS();
}
END_TEST

/* ---- the radix cut (kernels/radix.c), shared by every set, against a ranking by sort ---- */
typedef struct ranked {
    float v;
    uint32_t i;
} ranked;

static int by_rank(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->v != y->v)
        return x->v > y->v ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Lists of 1..80 weights (around the few-values path's 16), drawn from a few tied values, from
 * a range a few floats wide, spread out, or a cluster a few hundred floats wide beside one far
 * value (the cluster fills one bucket of the first level: a second level); the cut of rank k,
 * and the mass cut at the middle of a token's span (no rounding can move it) or past the
 * whole list. */
START_TEST(test_radix_cut)
{
    enum { MAXL = 80 };
    rng r = {0x7a11c0de};
    ranked sorted[MAXL];
    uint32_t list[MAXL];
    float vals[MAXL], pool[4];
    const int rounds = quick_mode() ? 3000 : 20000;
    fails = 0;
    for (int round = 0; round < rounds; round++) {
        const size_t len = 1 + below(&r, MAXL);
        const int shape = (int)below(&r, 4);
        for (int c = 0; c < 4; c++)
            pool[c] = (float)(0.01 + unif(&r));
        const float base = (float)(0.001 + unif(&r));
        uint32_t at = (uint32_t)below(&r, 1000);
        float lo = INFINITY, hi = 0.0f;
        for (size_t j = 0; j < len; j++) {
            float v = shape == 0   ? pool[below(&r, 4)]
                      : shape != 2 ? base
                                   : (float)(0.001 + unif(&r));
            if (shape == 1 || shape == 3)
                for (size_t steps = below(&r, shape == 1 ? 6 : 400); steps > 0; steps--)
                    v = nextafterf(v, 2.0f);
            if (shape == 3 && j == 0)
                v = 2.0f * base;
            at += 1 + (uint32_t)below(&r, 3);
            sorted[j] = (ranked){v, at};
            lo = fminf(lo, v);
            hi = fmaxf(hi, v);
        }
        if (below(&r, 4) == 0)
            lo = nextafterf(lo, 0.0f); /* a range wider than its values */
        qsort(sorted, len, sizeof *sorted, by_rank);
        double prefix[MAXL + 1] = {0}; /* exclusive prefix masses in rank order */
        const double above = below(&r, 2) ? 0.0 : unif(&r);
        prefix[0] = above;
        for (size_t j = 0; j < len; j++)
            prefix[j + 1] = prefix[j] + sorted[j].v;
        const int count_mode = below(&r, 2) == 0;
        const size_t t = below(&r, len + 1); /* the token expected to end the kept side */
        const size_t k = t + 1;
        const double target = t < len ? (prefix[t] + prefix[t + 1]) / 2 : prefix[len] + 1.0;
        /* The list in index order, as the pipeline passes it. */
        ranked by_index[MAXL];
        memcpy(by_index, sorted, len * sizeof *sorted);
        for (size_t j = 1; j < len; j++) /* insertion sort by index */
            for (size_t q = j; q > 0 && by_index[q - 1].i > by_index[q].i; q--) {
                const ranked tmp = by_index[q];
                by_index[q] = by_index[q - 1];
                by_index[q - 1] = tmp;
            }
        for (size_t j = 0; j < len; j++) {
            list[j] = by_index[j].i;
            vals[j] = by_index[j].v;
        }
        const nuc_cut cut =
            nuc_radix_cut(list, vals, len, lo, hi, count_mode ? NUC_CUT_COUNT : NUC_CUT_MASS, k,
                          target, above);
        char ctx[128];
        snprintf(ctx, sizeof ctx, "radix cut round %d len %zu shape %d %s t %zu", round, len,
                 shape, count_mode ? "count" : "mass", t);
        if (t >= len) {
            if (cut.found)
                mismatch("%s: found token %u past the whole list", ctx, cut.index);
            continue;
        }
        size_t tie = 0, group = 0;
        for (size_t j = 0; j < len; j++) {
            tie += sorted[j].v == sorted[t].v && j < t;
            group += sorted[j].v == sorted[t].v;
        }
        if (!cut.found || cut.index != sorted[t].i || cut.value != sorted[t].v ||
            cut.tie != tie || cut.rank != t || cut.group != group)
            mismatch("%s: found %d token %u value %a tie %zu rank %zu group %zu; want token %u "
                     "value %a tie %zu group %zu",
                     ctx, cut.found, cut.index, (double)cut.value, cut.tie, cut.rank, cut.group,
                     sorted[t].i, (double)sorted[t].v, tie, group);
        else if (fabs(cut.mass - prefix[t + 1]) > 1e-12 * prefix[t + 1])
            mismatch("%s: mass %a, want %a", ctx, cut.mass, prefix[t + 1]);
    }
    ASSERT_NO_FAILS();
}
END_TEST

static Suite *kernels_suite(void)
{
    Suite *s = suite_create("kernels");
    const struct {
        const char *name;
        const TTest *fn;
    } tests[] = {{"max", test_max},
                 {"find_nth", test_find_nth},
                 {"exp_sum", test_exp_sum},
                 {"kept_sum_scale_kept", test_kept_sum_scale_kept},
                 {"bracket", test_bracket},
                 {"convert", test_convert},
                 {"radix_cut", test_radix_cut}};
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        TCase *tc = tcase_create(tests[i].name);
        tcase_set_timeout(tc, 600); /* the sweeps run minutes under valgrind or qemu */
        tcase_add_test(tc, tests[i].fn);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    printf("kernel sets checked against scalar:");
    int any = 0;
    for (int isa = NUC_ISA_SCALAR + 1; isa <= NUC_ISA_NEON; isa++)
        if (nuc_kernels_for(isa)) {
            printf(" %s", nuc_isa_name((nuc_isa)isa));
            any = 1;
        }
    printf("%s\n", any ? "" : " none (scalar only on this machine)");
    fflush(stdout);
    SRunner *sr = srunner_create(kernels_suite());
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
