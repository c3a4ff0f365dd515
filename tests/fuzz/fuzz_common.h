/* What the libFuzzer targets share: decoding the input bytes into a row and parameters, the
 * contract's expected codes, and the invariants every call must keep. Any violation aborts
 * (fuzz_fail), which libFuzzer reports as a crash with the input that caused it.
 *
 * Input layout (every field optional: a short input is completed from a PRNG seeded by it):
 *   byte 0      row shape: low bits the length class, high bits the misaligned start (0..3)
 *   bytes 1-2   length within the class
 *   byte 3      kernel set to run first (all supported sets always run)
 *   bytes 4..   temperature, top_k, top_p, min_p, u: a selector byte each, then a value byte
 *               or raw bits when the selector asks for them
 *   then        one selector byte per logit: a "nice" value, a tie with the previous logit,
 *               -inf, raw float bits (NaN, +-inf, -0, subnormals, huge), or a special value.
 *   When the bytes run out the rest of the row is drawn from a PRNG keyed by the input: mostly
 *   nice values, in a style the shape byte picks (so one short input describes a 4096 row). */
#ifndef NUC_FUZZ_COMMON_H
#define NUC_FUZZ_COMMON_H
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nucleus.h"
#include "oracle.h"

#define FZ_MAX_N 4096
#define FZ_GUARD 16
#define FZ_SENTINEL_BITS 0x7fa5a5a5u
#define FZ_TOK_SENTINEL (INT32_MIN + 4242)

#define fuzz_fail(...)                                                                         \
    do {                                                                                       \
        fprintf(stderr, "INVARIANT VIOLATED (%s:%d): ", __FILE__, __LINE__);                   \
        fprintf(stderr, __VA_ARGS__);                                                          \
        fputc('\n', stderr);                                                                   \
        abort();                                                                               \
    } while (0)

#define fuzz_check(cond, ...)                                                                  \
    do {                                                                                       \
        if (!(cond))                                                                           \
            fuzz_fail(__VA_ARGS__);                                                            \
    } while (0)

/* ---- the byte reader ---- */
typedef struct fz_reader {
    const uint8_t *p;
    size_t left;
    uint64_t prng; /* continues where the bytes end */
} fz_reader;

static inline uint64_t fz_mix(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static inline void fz_init(fz_reader *r, const uint8_t *data, size_t size)
{
    r->p = data;
    r->left = size;
    r->prng = UINT64_C(0x243f6a8885a308d3);
    for (size_t i = 0; i < size; i++)
        r->prng = (r->prng ^ data[i]) * UINT64_C(0x100000001b3);
}

static inline int fz_has(const fz_reader *r, size_t k) { return r->left >= k; }

static inline uint8_t fz_u8(fz_reader *r)
{
    if (r->left) {
        r->left--;
        return *r->p++;
    }
    return (uint8_t)fz_mix(&r->prng);
}

static inline uint32_t fz_u32(fz_reader *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)fz_u8(r) << (8 * i);
    return v;
}

static inline uint64_t fz_u64(fz_reader *r)
{
    return (uint64_t)fz_u32(r) | (uint64_t)fz_u32(r) << 32;
}

static inline float fz_bits_f(uint32_t b)
{
    float v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static inline uint32_t fz_f_bits(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static inline double fz_bits_d(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

/* ---- decoding ---- */
typedef struct fz_case {
    size_t n, offset;
    nuc_isa first_isa;
    nuc_params p;
    double u;
    uint64_t seed, stream, step;
} fz_case;

static inline size_t fz_length(fz_reader *r, uint8_t shape)
{
    const unsigned lo = fz_u8(r), hi = fz_u8(r), v = lo | hi << 8;
    switch (shape & 7) {
    case 0: return 1 + v % 8;
    case 1: return 1 + v % 70;  /* every vector tail */
    case 2: return 1 + v % 300; /* a block boundary */
    case 3: return 240 + v % 40;
    case 4: return 1 + v % FZ_MAX_N;
    case 5: return FZ_MAX_N - v % 64;
    case 6: return 1 + v % 1024;
    default: return 1 + v % 33;
    }
}

static inline float fz_temperature(fz_reader *r)
{
    const uint8_t s = fz_u8(r);
    switch (s % 20) {
    case 0: return 0.0f;
    case 1: return -0.0f;
    case 2: return -1.0f;
    case 3: return NAN;
    case 4: return INFINITY;
    case 5: return -INFINITY;
    case 6: return 0x1p-149f;
    case 7: return FLT_MIN;
    case 8: return 1e-30f;
    case 9: return 1e30f;
    case 10: return FLT_MAX;
    case 11: return fz_bits_f(fz_u32(r));
    case 12: return 1e-3f;
    case 13: return 1e38f;
    default: return 0.05f + (float)(fz_u8(r) % 64) * 0.05f; /* ordinary: 0.05 .. 3.2 */
    }
}

static inline int32_t fz_top_k(fz_reader *r, size_t n)
{
    const uint8_t s = fz_u8(r);
    switch (s % 14) {
    case 0: case 1: case 2: case 3: return 0;
    case 4: return 1;
    case 5: return -1;
    case 6: return INT32_MIN;
    case 7: return INT32_MAX;
    case 8: return (int32_t)n - 1;
    case 9: return (int32_t)n;
    case 10: return (int32_t)n + 1;
    case 11: return (int32_t)fz_u32(r);
    default: return 1 + fz_u8(r) % 64;
    }
}

/* top_p and min_p: on and around [0,1], NaN, raw bits. off is the value that disables it. */
static inline float fz_unit(fz_reader *r, float off)
{
    const uint8_t s = fz_u8(r);
    switch (s % 16) {
    case 0: case 1: case 2: case 3: case 4: return off;
    case 5: return 0.0f;
    case 6: return -0.0f;
    case 7: return 1.0f;
    case 8: return NAN;
    case 9: return 0x1.000002p0f;  /* just above 1 */
    case 10: return -0x1p-149f;    /* just below 0 */
    case 11: return fz_bits_f(fz_u32(r));
    case 12: return 0x1.fffffep-1f;
    case 13: return 0x1p-149f;
    default: return (float)(fz_u8(r) % 101) / 100.0f;
    }
}

static inline double fz_uniform(fz_reader *r)
{
    const uint8_t s = fz_u8(r);
    switch (s % 12) {
    case 0: return 0.0;
    case 1: return 1.0;
    case 2: return NAN;
    case 3: return 0x1.fffffffffffffp-1;
    case 4: return -0.0;
    case 5: return fz_bits_d(fz_u64(r));
    case 6: return -1e-300;
    default: return (double)fz_u32(r) * 0x1p-32;
    }
}

static const float fz_specials[16] = {
    NAN, INFINITY, -INFINITY, -0.0f, 0.0f, 0x1p-149f, -0x1p-149f, FLT_MIN,
    FLT_MAX, -FLT_MAX, 3e38f, -3e38f, 1e-30f, 88.0f, -88.0f, 0.0f /* filled: sNaN */};

/* The row: explicit selector bytes while they last, then the PRNG in the shape's style. */
static inline void fz_logits(fz_reader *r, uint8_t style, float *x, size_t n)
{
    float prev = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float v;
        if (r->left) {
            const uint8_t c = fz_u8(r);
            if (c < 160)
                v = (float)((int)c - 80) * 0.25f;
            else if (c < 192)
                v = prev;
            else if (c < 224)
                v = -INFINITY;
            else if (c < 240)
                v = fz_bits_f(fz_u32(r));
            else
                v = c == 255 ? fz_bits_f(0x7f800001u) : fz_specials[c - 240];
        } else {
            const uint64_t z = fz_mix(&r->prng);
            const double unit = (double)(z >> 11) * 0x1p-53;
            switch (style % 6) {
            case 0: v = (float)(unit * 20.0 - 10.0); break;              /* flat */
            case 1: v = (float)((z & 0xff) < 230 ? unit * 4 : 10 + unit * 6); break; /* peaked */
            case 2: v = (z & 3) ? -INFINITY : (float)(unit * 8.0); break; /* masked */
            case 3: v = (float)(int)(unit * 4.0); break;                  /* ties */
            case 4: v = (float)((unit - 0.5) * 6e38); break;              /* huge */
            default: v = (z & 0xf00) == 0 ? prev : (float)(unit * 200.0 - 100.0); break;
            }
        }
        x[i] = v;
        prev = v;
    }
}

/* Decodes the case and the row (x must hold FZ_MAX_N + 4 floats; the row starts at offset). */
static inline void fz_decode(fz_reader *r, fz_case *c, float *buf)
{
    const uint8_t shape = fz_u8(r);
    c->offset = (shape >> 3) & 3;
    c->n = fz_length(r, shape);
    c->first_isa = (nuc_isa)(fz_u8(r) % 4);
    c->p.temperature = fz_temperature(r);
    c->p.top_k = fz_top_k(r, c->n);
    c->p.top_p = fz_unit(r, 1.0f);
    c->p.min_p = fz_unit(r, 0.0f);
    c->u = fz_uniform(r);
    c->seed = fz_u8(r);
    c->stream = fz_u8(r);
    c->step = fz_u8(r);
    fz_logits(r, shape >> 5, buf + c->offset, c->n);
}

/* ---- the contract (the row's own code and its first max: oracle_row_code and
 * oracle_first_max of tests/oracle.h) ---- */
static inline int fz_params_bad(const nuc_params *p)
{
    return isnan(p->temperature) || p->temperature == INFINITY || p->top_k < 0 ||
           !(p->top_p >= 0.0f && p->top_p <= 1.0f) || !(p->min_p >= 0.0f && p->min_p <= 1.0f);
}

/* rc must be NUC_OK when nothing is wrong, else one of the faults' codes. */
static inline void fz_check_code(const char *call, int rc, int row_rc, int einval)
{
    if (row_rc == NUC_OK && !einval) {
        fuzz_check(rc == NUC_OK, "%s returned %d on valid input", call, rc);
        return;
    }
    fuzz_check((row_rc != NUC_OK && rc == row_rc) || (einval && rc == NUC_EINVAL),
               "%s returned %d; the faults are row %d, einval %d", call, rc, row_rc, einval);
}

/* Masked in the README's sense: -inf, or a distance to the max that overflows float. */
static inline int fz_masked(float x, float m)
{
    volatile float d = x - m;
    return x == -INFINITY || d == -INFINITY;
}

static inline void fz_fill_sentinel(float *q, size_t n)
{
    for (size_t i = 0; i < n; i++)
        q[i] = fz_bits_f(FZ_SENTINEL_BITS);
}

static inline int fz_untouched(const float *q, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fz_f_bits(q[i]) != FZ_SENTINEL_BITS)
            return 0;
    return 1;
}

/* q is the filtered distribution of a valid row: non-negative, no NaN, sums to 1, 0 on masked
 * tokens; greedy: the exact one-hot of the first max. */
static inline void fz_check_distribution(const char *call, const float *x, size_t n,
                                         const float *q, int greedy)
{
    const size_t fm = oracle_first_max(x, n);
    const float m = x[fm];
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        fuzz_check(q[i] >= 0.0f && q[i] <= 1.0f, "%s: q[%zu] = %g", call, i, (double)q[i]);
        fuzz_check(q[i] == 0.0f || !fz_masked(x[i], m), "%s: q[%zu] = %g on masked x %g", call,
                   i, (double)q[i], (double)x[i]);
        if (greedy)
            fuzz_check(q[i] == (i == fm ? 1.0f : 0.0f), "%s: greedy q[%zu] = %g, first max %zu",
                       call, i, (double)q[i], fm);
        sum += q[i];
    }
    fuzz_check(fabs(sum - 1.0) <= 1e-5, "%s: q sums to %.9g (n %zu)", call, sum, n);
}

/* The kernel sets this machine runs, the decoded one first. */
static inline int fz_isas(nuc_isa first, nuc_isa *out)
{
    int k = 0;
    if (nuc_isa_supported(first))
        out[k++] = first;
    for (nuc_isa i = NUC_ISA_SCALAR; i <= NUC_ISA_NEON; i = (nuc_isa)(i + 1))
        if (i != first && nuc_isa_supported(i))
            out[k++] = i;
    return k;
}

static inline void fz_force(nuc_isa isa)
{
    fuzz_check(nuc_isa_force(isa) == NUC_OK && nuc_isa_active() == isa,
               "nuc_isa_force(%s) failed although supported", nuc_isa_name(isa));
}

/* One sampler for the whole fuzzing process (the target is called millions of times). */
static inline nuc_sampler *fz_sampler(void)
{
    static nuc_sampler *s;
    if (!s) {
        s = nuc_sampler_new(FZ_MAX_N);
        fuzz_check(s != NULL, "nuc_sampler_new(%d) failed", FZ_MAX_N);
    }
    return s;
}
#endif
