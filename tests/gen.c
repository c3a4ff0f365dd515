#include "gen.h"

#include <math.h>

/* splitmix64 + Box-Muller in double: tiny, portable and identical on every platform, so a
 * failing (profile, n, seed) reproduces anywhere (libc rand() would not). */
typedef struct gen_rng {
    uint64_t s;
} gen_rng;

static uint64_t next_u64(gen_rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* [0, 1) with 53 bits. */
static double unit(gen_rng *r) { return (double)(next_u64(r) >> 11) * 0x1.0p-53; }

static size_t below(gen_rng *r, size_t n) { return (size_t)(unit(r) * (double)n); }

static double normal(gen_rng *r)
{
    const double two_pi = 6.283185307179586476925286766559;
    double u1 = 1.0 - unit(r); /* (0, 1]: log stays finite */
    double u2 = unit(r);
    return sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}

static void gaussian(gen_rng *r, size_t n, double sd, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (float)(sd * normal(r));
}

/* The few dozen lifted tokens give the top of the distribution most of the mass, while the
 * Gaussian bulk keeps a long tail, as in a trained LM's next-token logits. */
static void peaked(gen_rng *r, size_t n, float *out)
{
    gaussian(r, n, 1.5, out);
    size_t lifts = n < 32 ? n : 32;
    for (size_t k = 0; k < lifts; k++) {
        size_t i = below(r, n);
        out[i] = (float)(out[i] + 10.0 + 3.0 * fabs(normal(r)));
    }
}

static void masked90(gen_rng *r, size_t n, float *out)
{
    peaked(r, n, out);
    size_t live = 0;
    for (size_t i = 0; i < n; i++) {
        if (unit(r) < 0.9)
            out[i] = -INFINITY;
        else
            live++;
    }
    /* An all-masked row is an error case, not a sampling case. */
    if (live == 0)
        out[below(r, n)] = (float)(10.0 + 3.0 * fabs(normal(r)));
}

static void zipf(gen_rng *r, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (float)(-1.1 * log((double)(i + 1)));
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
        size_t j = below(r, i);
        float t = out[i - 1];
        out[i - 1] = out[j];
        out[j] = t;
    }
}

static void ties(gen_rng *r, size_t n, float *out)
{
    enum { LEVELS = 8 };
    float level[LEVELS];
    float top = -INFINITY;
    for (int k = 0; k < LEVELS; k++) {
        level[k] = (float)(2.0 * normal(r));
        top = level[k] > top ? level[k] : top;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = level[below(r, LEVELS)];
    /* Guarantee a tie at the max, the case where "first maximum" and rank-by-index bite. */
    if (n >= 2) {
        size_t a = below(r, n), b = (a + 1 + below(r, n - 1)) % n;
        out[a] = out[b] = top;
    }
}

static void spike(gen_rng *r, size_t n, float *out)
{
    gaussian(r, n, 1.0, out);
    out[below(r, n)] = 40.0f;
}

/* Differences near 1e30 overflow a naive exp(x) and stress x - max; the few tokens one or two
 * float steps below the max (and an exact tie with it) are the only ones with any weight. */
static void huge(gen_rng *r, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (float)((2.0 * unit(r) - 1.0) * 1e30);
    float top = 1e30f;
    float near[4] = {top, top, nextafterf(top, 0.0f), nextafterf(nextafterf(top, 0.0f), 0.0f)};
    for (size_t k = 0; k < 4 && k < n; k++)
        out[below(r, n)] = near[k];
}

const char *gen_name(gen_profile p)
{
    static const char *const names[GEN_COUNT] = {"peaked", "flat",     "flat3", "zipf", "ties",
                                                 "equal",  "masked90", "spike", "huge"};
    return (unsigned)p < GEN_COUNT ? names[p] : "unknown";
}

void gen_logits(gen_profile p, size_t n, uint64_t seed, float *out)
{
    gen_rng r = {seed ^ (UINT64_C(0xd1b54a32d192ed03) * (uint64_t)(p + 1)) ^
                 (UINT64_C(0x8cb92ba72f3d8dd7) * (uint64_t)n)};
    next_u64(&r); /* decorrelate neighbouring seeds before the first value is used */
    switch (p) {
    case GEN_PEAKED: peaked(&r, n, out); break;
    case GEN_FLAT: gaussian(&r, n, 1.0, out); break;
    case GEN_FLAT3: gaussian(&r, n, 3.0, out); break;
    case GEN_ZIPF: zipf(&r, n, out); break;
    case GEN_TIES: ties(&r, n, out); break;
    case GEN_MASKED90: masked90(&r, n, out); break;
    case GEN_SPIKE: spike(&r, n, out); break;
    case GEN_HUGE: huge(&r, n, out); break;
    case GEN_EQUAL:
    default:
        for (size_t i = 0; i < n; i++)
            out[i] = 0.5f;
        break;
    }
}
