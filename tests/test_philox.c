/* Philox4x32-10 and the uniform built from it (SPEC section 4), and nuc_sample as exactly
 * nuc_sample_u of that uniform. */
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "util.h"

/* A second, textbook Philox (Salmon et al., Random123's philox.h round by round) so that
 * thousands of random vectors can be compared, not only the three published ones. */
static void ref_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]}, k[2] = {key[0], key[1]};
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k[0] += 0x9E3779B9u;
            k[1] += 0xBB67AE85u;
        }
        uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        uint32_t n[4] = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
        memcpy(c, n, sizeof c);
    }
    memcpy(out, c, sizeof c);
}

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Random123's kat_vectors for philox4x32_10. */
static const struct {
    uint32_t ctr[4], key[2], out[4];
} kat[] = {
    {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};

static void known_answers_on(const char *isa)
{
    for (size_t v = 0; v < sizeof kat / sizeof *kat; v++) {
        uint32_t out[4], ref[4];
        nuc_philox4x32_10(kat[v].ctr, kat[v].key, out);
        ref_philox(kat[v].ctr, kat[v].key, ref);
        for (int w = 0; w < 4; w++) {
            UT_CHECK(out[w] == kat[v].out[w], "[%s] vector %zu word %d: %08x, want %08x", isa, v, w,
                     out[w], kat[v].out[w]);
            UT_CHECK(ref[w] == kat[v].out[w], "reference Philox is wrong (vector %zu)", v);
        }
    }
}

static void random_vectors_on(const char *isa)
{
    uint64_t s = 1;
    for (long v = 0, nv = ut_quick() ? 2000 : 20000; v < nv; v++) {
        uint32_t ctr[4], key[2], out[4], ref[4];
        for (int w = 0; w < 4; w++)
            ctr[w] = (uint32_t)mix(&s);
        key[0] = (uint32_t)mix(&s);
        key[1] = (uint32_t)mix(&s);
        nuc_philox4x32_10(ctr, key, out);
        ref_philox(ctr, key, ref);
        UT_CHECK(memcmp(out, ref, sizeof out) == 0,
                 "[%s] ctr %08x %08x %08x %08x key %08x %08x: %08x.. vs reference %08x..", isa,
                 ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1], out[0], ref[0]);
    }
}

/* SPEC 4: key = seed, counter = (step, stream), low words first; 53 bits from words 0, 1. */
static double spec_uniform(uint64_t seed, uint64_t stream, uint64_t step)
{
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    const uint32_t ctr[4] = {(uint32_t)step, (uint32_t)(step >> 32), (uint32_t)stream,
                             (uint32_t)(stream >> 32)};
    uint32_t r[4];
    ref_philox(ctr, key, r);
    return ((double)(r[0] >> 5) * 0x1.0p26 + (double)(r[1] >> 6)) * 0x1.0p-53;
}

static void uniform_formula_on(const char *isa)
{
    /* The extremes catch a 64-bit half that is dropped or swapped. */
    static const uint64_t special[] = {0,
                                       1,
                                       UINT64_C(0xffffffff),
                                       UINT64_C(0x100000000),
                                       UINT64_MAX,
                                       UINT64_C(0x8000000000000000)};
    const size_t ns = sizeof special / sizeof *special;
    uint64_t s = 7;
    for (size_t v = 0, nv = ut_quick() ? 5000 : 50000; v < nv; v++) {
        uint64_t seed = mix(&s), stream = mix(&s), step = mix(&s);
        if (v < ns * ns * ns) {
            seed = special[v % ns];
            stream = special[v / ns % ns];
            step = special[v / (ns * ns)];
        }
        double u = nuc_uniform(seed, stream, step), want = spec_uniform(seed, stream, step);
        UT_CHECK(u >= 0.0 && u < 1.0, "[%s] nuc_uniform = %.17g", isa, u);
        UT_CHECK(u == want,
                 "[%s] nuc_uniform(seed %llx, stream %llx, step %llx) = %.17g, formula %.17g", isa,
                 (unsigned long long)seed, (unsigned long long)stream, (unsigned long long)step, u,
                 want);
    }
}

/* Philox is not dispatched today, but every suite runs under every kernel set so that a later
 * SIMD RNG (for the batch path, say) is covered without touching the tests. */
START_TEST(known_answers) { UT_FOR_EACH_ISA(isa) known_answers_on(nuc_isa_name(isa)); }
END_TEST

START_TEST(random_vectors) { UT_FOR_EACH_ISA(isa) random_vectors_on(nuc_isa_name(isa)); }
END_TEST

START_TEST(uniform_formula) { UT_FOR_EACH_ISA(isa) uniform_formula_on(nuc_isa_name(isa)); }
END_TEST

/* Every (seed, stream) pair of the lists, at several steps: a swapped or dropped argument
 * between nuc_sample and nuc_uniform shows up as a different token somewhere. */
static void sample_matches_on(nuc_sampler *s, const float *x, size_t n, const nuc_params *p,
                              const char *isa)
{
    static const uint64_t seeds[] = {0, UINT64_C(0xdeadbeef), UINT64_MAX};
    static const uint64_t streams[] = {0, 1, (UINT64_C(1) << 40) + 3};
    for (uint64_t i = 0; i < 18; i++) {
        uint64_t seed = seeds[i % 3], stream = streams[i / 3 % 3], step = i * i;
        int32_t a = -1, b = -2;
        int ra = nuc_sample(s, x, n, p, seed, stream, step, &a);
        int rb = nuc_sample_u(s, x, n, p, nuc_uniform(seed, stream, step), &b);
        UT_CHECK(ra == NUC_OK && rb == NUC_OK && a == b,
                 "[%s] n=%zu T=%g seed %llx stream %llx step %llu: nuc_sample %d (rc %d), "
                 "nuc_sample_u %d (rc %d)",
                 isa, n, (double)p->temperature, (unsigned long long)seed,
                 (unsigned long long)stream, (unsigned long long)step, (int)a, ra, (int)b, rb);
    }
}

START_TEST(sample_is_sample_u_of_uniform)
{
    const size_t sizes[] = {1, 7, 300, 4099, ut_quick() ? 32000 : 128256};
    static const nuc_params params[] = {
        {1.0f, 0, 1.0f, 0.0f}, {0.7f, 40, 0.9f, 0.05f}, {2.0f, 0, 0.5f, 0.0f},
        {0.0f, 0, 1.0f, 0.0f}, {1.0f, 1, 1.0f, 0.0f},
    };
    nuc_sampler *s = nuc_sampler_new(128256);
    ck_assert_ptr_nonnull(s);
    float *x = ut_floats(128256);
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        gen_logits((gen_profile)(k % GEN_COUNT), sizes[k], 99 + k, x);
        UT_FOR_EACH_ISA(isa)
        {
            for (size_t pi = 0; pi < sizeof params / sizeof *params; pi++)
                sample_matches_on(s, x, sizes[k], &params[pi], nuc_isa_name(isa));
        }
    }
    free(x);
    nuc_sampler_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("philox");
    TCase *tc = ut_tcase("philox");
    tcase_add_test(tc, known_answers);
    tcase_add_test(tc, random_vectors);
    tcase_add_test(tc, uniform_formula);
    tcase_add_test(tc, sample_is_sample_u_of_uniform);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
