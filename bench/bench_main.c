/* The nucleus benchmarks (Google Benchmark through bench/shim.h), single thread:
 *
 *   sample/<impl>/<profile>/<params>/<n>     a whole call: nuc_sample_u per ISA
 *                                            (impl nucleus-scalar|-avx2|-avx512) against the
 *                                            naive and bucket-sort samplers (bench/baselines.h)
 *   stage/<stage>/<isa>/<profile>/<n>        one kernel-table entry (nuc_kernels_for) or one
 *                                            public stage (nuc_argmax, nuc_softmax, nuc_probs)
 *   yardstick/<max|expsum>/<isa>/<profile>/<n>  the plainest pass of that kind (yardstick.h)
 *
 * Rows come from tests/gen.h with a fixed seed and are generated once, outside the timed loops.
 * Every iteration of a sampling benchmark draws a fresh u = nuc_uniform(seed, 0, step).
 * Flags: --nb_quick registers the representative subset `make bench` runs (the default is
 * everything); the rest are Google Benchmark's --benchmark_* flags. Times are only reported:
 * nothing here passes or fails on speed. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baselines.h"
#include "gen.h"
#include "nucleus.h"
#include "shim.h"
#include "yardstick.h"
#include "kernels.h"

#define BENCH_SEED 0x6e75636c65757321ull /* fixed: every run measures the same rows */
#define MAX_N 262144

static const size_t SIZES[] = {32000, 128256, 151936, 262144};
#define NSIZES (sizeof SIZES / sizeof SIZES[0])
#define REF_N 128256 /* Llama 3 */

static const gen_profile PROFILES[] = {GEN_PEAKED, GEN_FLAT, GEN_FLAT3, GEN_ZIPF,
                                       GEN_TIES, GEN_EQUAL, GEN_MASKED90};
#define NPROFILES (sizeof PROFILES / sizeof PROFILES[0])

typedef struct pset {
    const char *name;
    nuc_params p;
} pset;
static const pset PSETS[] = {
    {"top_p0.9", {1.0f, 0, 0.9f, 0.0f}},
    {"top_p0.9_T0.05", {0.05f, 0, 0.9f, 0.0f}},
    {"k40_p0.95_m0.05_T0.8", {0.8f, 40, 0.95f, 0.05f}},
    {"greedy", {0.0f, 0, 1.0f, 0.0f}},
};
#define NPSETS (sizeof PSETS / sizeof PSETS[0])

typedef enum { IMPL_NUCLEUS, IMPL_NAIVE, IMPL_BUCKET } impl_kind;

typedef enum {
    ST_K_MAX,
    ST_K_FIND_NTH,
    ST_K_EXP_SUM,       /* lo = 0: the plain exp pass */
    ST_K_EXP_SUM_LIST,  /* lo = 2^-12, cap 8192: the pipeline's candidate list */
    ST_K_KEPT_SUM,
    ST_K_SCALE_KEPT,
    ST_K_BRACKET,       /* the band between the 512th and the 256th weight, mass above */
    ST_K_BF16,          /* bf16_to_f32 over the row */
    ST_ARGMAX,
    ST_SOFTMAX,
    ST_PROBS,           /* nuc_probs with top_p 0.9 */
    ST_COUNT
} stage_kind;

typedef enum { YS_MAX, YS_EXPSUM } ys_kind;

typedef struct bench_arg {
    int what; /* 0 sample, 1 stage, 2 yardstick */
    int impl;
    int isa;
    int stage;
    gen_profile prof;
    size_t n;
    nuc_params p;
    float temperature;
} bench_arg;

/* ---- shared state, set up outside every timed loop --------------------------------------- */

static float *rows[GEN_COUNT][NSIZES];
static nuc_sampler *sampler;
static nbase_scratch *base;
static float *wbuf, *qbuf, *bsum;
static uint32_t *cand;

static void *xalloc(size_t bytes) {
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
    if (!p) {
        fprintf(stderr, "bench: out of memory\n");
        exit(2);
    }
    return p;
}

static const float *row_for(gen_profile prof, size_t n) {
    size_t k = 0;
    while (SIZES[k] != n) k++;
    if (!rows[prof][k]) {
        rows[prof][k] = xalloc(n * sizeof(float));
        gen_logits(prof, n, BENCH_SEED, rows[prof][k]);
    }
    return rows[prof][k];
}

static const char *impl_name(int impl, int isa) {
    if (impl == IMPL_NAIVE) return "naive";
    if (impl == IMPL_BUCKET) return "bucket";
    switch (isa) {
    case NUC_ISA_SCALAR: return "nucleus-scalar";
    case NUC_ISA_AVX2: return "nucleus-avx2";
    case NUC_ISA_AVX512: return "nucleus-avx512";
    default: return "nucleus-neon";
    }
}

static const char *stage_name(int st, float t) {
    switch (st) {
    case ST_K_MAX: return "k.max";
    case ST_K_FIND_NTH: return "k.find_nth";
    case ST_K_EXP_SUM: return t == 1.0f ? "k.exp_sum_T1" : "k.exp_sum_T0.05";
    case ST_K_EXP_SUM_LIST: return "k.exp_sum+list";
    case ST_K_KEPT_SUM: return "k.kept_sum";
    case ST_K_SCALE_KEPT: return "k.scale_kept";
    case ST_K_BRACKET: return "k.bracket";
    case ST_K_BF16: return "k.bf16_to_f32";
    case ST_ARGMAX: return "nuc_argmax";
    case ST_SOFTMAX: return t == 1.0f ? "nuc_softmax_T1" : "nuc_softmax_T0.05";
    case ST_PROBS: return "nuc_probs_p0.9";
    default: return "?";
    }
}

static int force(nb_state *st, int isa) {
    int rc = nuc_isa_force((nuc_isa)isa);
    if (rc != NUC_OK) nb_skip(st, nuc_strerror(rc));
    return rc;
}

/* ---- bodies ------------------------------------------------------------------------------- */

static int call_sampler(const bench_arg *a, const float *x, double u, int32_t *tok) {
    switch (a->impl) {
    case IMPL_NAIVE: return nbase_naive_sample(base, x, a->n, &a->p, u, tok);
    case IMPL_BUCKET: return nbase_bucket_sample(base, x, a->n, &a->p, u, tok);
    default: return nuc_sample_u(sampler, x, a->n, &a->p, u, tok);
    }
}

static void body_sample(nb_state *st, void *arg) {
    const bench_arg *a = arg;
    const float *x = row_for(a->prof, a->n);
    if (a->impl == IMPL_NUCLEUS && force(st, a->isa) != NUC_OK) return;
    int32_t tok = -1;
    /* The token for u = 0.5, so the report can see that every implementation agrees. */
    int rc = call_sampler(a, x, 0.5, &tok);
    if (rc != NUC_OK) {
        nb_skip(st, nuc_strerror(rc));
        return;
    }
    const double tok_half = tok;
    uint64_t step = 0;
    while (nb_keep_running(st)) {
        const double u = nuc_uniform(BENCH_SEED, 0, step++);
        rc |= call_sampler(a, x, u, &tok);
        nb_do_not_optimize(&tok);
    }
    if (rc != NUC_OK) nb_skip(st, "a sampler call failed");
    nb_set_counter(st, "vocab", (double)a->n, NB_COUNTER_DEFAULT);
    nb_set_counter(st, "tok_u0.5", tok_half, NB_COUNTER_DEFAULT);
}

static int cmp_desc(const void *pa, const void *pb) {
    const float a = *(const float *)pa, b = *(const float *)pb;
    return (a < b) - (a > b);
}

/* The weight of rank r (1-based) among w[0..n-1] (a sorted copy; outside the timed loop). */
static float weight_of_rank(const float *w, size_t n, size_t r) {
    float *c = xalloc(n * sizeof *c);
    memcpy(c, w, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_desc);
    const float v = c[r <= n ? r - 1 : n - 1];
    free(c);
    return v;
}

static void body_kernel(nb_state *st, void *arg) {
    const bench_arg *a = arg;
    const float *x = row_for(a->prof, a->n);
    const size_t n = a->n;
    const nuc_kernels *kt = nuc_kernels_for(a->isa);
    if (!kt) {
        nb_skip(st, "kernel set not available");
        return;
    }
    float m;
    if (kt->max(x, n, &m) != NUC_OK) {
        nb_skip(st, "row has no maximum");
        return;
    }
    const float inv_t = 1.0f / a->temperature;
    size_t ncand = 0, count = 0;
    (void)kt->exp_sum(x, n, m, inv_t, wbuf, bsum, 0.0f, 0, cand, &ncand); /* w for the rest */
    /* Every kernel set computes the same w (the contract), so the ranks are cached per row. */
    static float rank_cache[GEN_COUNT][NSIZES][2][2];
    static int rank_valid[GEN_COUNT][NSIZES][2];
    size_t si = 0;
    while (SIZES[si] != n) si++;
    const int ti = a->temperature == 1.0f ? 0 : 1;
    if (!rank_valid[a->prof][si][ti]) {
        rank_cache[a->prof][si][ti][0] = weight_of_rank(wbuf, n, 256);
        rank_cache[a->prof][si][ti][1] = weight_of_rank(wbuf, n, 512);
        rank_valid[a->prof][si][ti] = 1;
    }
    const float w256 = rank_cache[a->prof][si][ti][0], w512 = rank_cache[a->prof][si][ti][1];
    double acc = 0.0;
    size_t acc_n = 0;
    float fm;
    switch (a->stage) {
    case ST_K_MAX:
        while (nb_keep_running(st)) {
            acc_n += (size_t)kt->max(x, n, &fm);
            nb_do_not_optimize(&fm);
        }
        break;
    case ST_K_FIND_NTH:
        while (nb_keep_running(st)) {
            acc_n += kt->find_nth(x, n, m, 0);
            nb_do_not_optimize(&acc_n);
        }
        break;
    case ST_K_EXP_SUM:
        while (nb_keep_running(st)) {
            acc += kt->exp_sum(x, n, m, inv_t, wbuf, bsum, 0.0f, 0, cand, &ncand);
            nb_clobber_memory();
        }
        break;
    case ST_K_EXP_SUM_LIST:
        while (nb_keep_running(st)) {
            acc += kt->exp_sum(x, n, m, inv_t, wbuf, bsum, 0x1p-12f, 8192, cand, &ncand);
            nb_clobber_memory();
        }
        nb_set_counter(st, "cand", (double)ncand, NB_COUNTER_DEFAULT);
        break;
    case ST_K_KEPT_SUM:
        while (nb_keep_running(st)) {
            acc += kt->kept_sum(wbuf, n, w256, n, bsum, &count);
            nb_clobber_memory();
        }
        break;
    case ST_K_SCALE_KEPT:
        while (nb_keep_running(st)) {
            kt->scale_kept(wbuf, n, w256, n, 0.5f, qbuf);
            nb_clobber_memory();
        }
        break;
    case ST_K_BRACKET:
        while (nb_keep_running(st)) {
            acc += kt->bracket(wbuf, n, w512, w256, bsum, cand, qbuf, &count);
            nb_clobber_memory();
        }
        nb_set_counter(st, "listed", (double)count, NB_COUNTER_DEFAULT);
        break;
    case ST_K_BF16: {
        uint16_t *h = (uint16_t *)cand; /* the row in bf16 (truncated), made once here */
        for (size_t i = 0; i < n; i++) {
            uint32_t b;
            memcpy(&b, &x[i], sizeof b);
            h[i] = (uint16_t)(b >> 16);
        }
        while (nb_keep_running(st)) {
            kt->bf16_to_f32(h, n, qbuf);
            nb_clobber_memory();
        }
        break;
    }
    default:
        nb_skip(st, "unknown stage");
        return;
    }
    nb_do_not_optimize(&acc);
    nb_do_not_optimize(&acc_n);
    nb_set_counter(st, "vocab", (double)n, NB_COUNTER_DEFAULT);
}

static void body_public(nb_state *st, void *arg) {
    const bench_arg *a = arg;
    const float *x = row_for(a->prof, a->n);
    if (force(st, a->isa) != NUC_OK) return;
    int rc = NUC_OK;
    int32_t idx = 0;
    const nuc_params p09 = {1.0f, 0, 0.9f, 0.0f};
    switch (a->stage) {
    case ST_ARGMAX:
        while (nb_keep_running(st)) {
            rc |= nuc_argmax(x, a->n, &idx);
            nb_do_not_optimize(&idx);
        }
        break;
    case ST_SOFTMAX:
        while (nb_keep_running(st)) {
            rc |= nuc_softmax(x, a->n, a->temperature, qbuf);
            nb_clobber_memory();
        }
        break;
    case ST_PROBS:
        while (nb_keep_running(st)) {
            rc |= nuc_probs(sampler, x, a->n, &p09, qbuf);
            nb_clobber_memory();
        }
        break;
    default:
        nb_skip(st, "unknown stage");
        return;
    }
    if (rc != NUC_OK) nb_skip(st, "a call failed");
    nb_set_counter(st, "vocab", (double)a->n, NB_COUNTER_DEFAULT);
}

static void body_yardstick(nb_state *st, void *arg) {
    const bench_arg *a = arg;
    const float *x = row_for(a->prof, a->n);
    const size_t n = a->n;
    float (*ymax)(const float *, size_t) = ys_max_scalar;
    double (*yexp)(const float *, size_t, float) = ys_expsum_scalar;
#if defined(__x86_64__) || defined(_M_X64)
    if (a->isa == NUC_ISA_AVX2) {
        ymax = ys_max_avx2;
        yexp = ys_expsum_avx2;
    } else if (a->isa == NUC_ISA_AVX512) {
        ymax = ys_max_avx512;
        yexp = ys_expsum_avx512;
    }
#endif
    const float m = ys_max_scalar(x, n);
    if (a->stage == YS_MAX) {
        while (nb_keep_running(st)) {
            float v = ymax(x, n);
            nb_do_not_optimize(&v);
        }
    } else {
        while (nb_keep_running(st)) {
            double v = yexp(x, n, m);
            nb_do_not_optimize(&v);
        }
    }
    nb_set_counter(st, "vocab", (double)n, NB_COUNTER_DEFAULT);
}

/* ---- registration ------------------------------------------------------------------------- */

static int isas[4], nisas;

static bench_arg *new_arg(int what, int impl, int isa, int stage, gen_profile prof, size_t n) {
    bench_arg *a = calloc(1, sizeof *a);
    if (!a) exit(2);
    a->what = what;
    a->impl = impl;
    a->isa = isa;
    a->stage = stage;
    a->prof = prof;
    a->n = n;
    a->temperature = 1.0f;
    return a;
}

static void reg_sample(int impl, int isa, gen_profile prof, const pset *ps, size_t n) {
    char name[160];
    bench_arg *a = new_arg(0, impl, isa, 0, prof, n);
    a->p = ps->p;
    snprintf(name, sizeof name, "sample/%s/%s/%s/%zu", impl_name(impl, isa), gen_name(prof),
             ps->name, n);
    nb_register(name, body_sample, a);
}

static void reg_all_impls(gen_profile prof, const pset *ps, size_t n) {
    for (int k = 0; k < nisas; k++) reg_sample(IMPL_NUCLEUS, isas[k], prof, ps, n);
    reg_sample(IMPL_NAIVE, -1, prof, ps, n);
    reg_sample(IMPL_BUCKET, -1, prof, ps, n);
}

static void reg_stage(int isa, int stage, float t, gen_profile prof, size_t n) {
    char name[160];
    bench_arg *a = new_arg(1, 0, isa, stage, prof, n);
    a->temperature = t;
    snprintf(name, sizeof name, "stage/%s/%s/%s/%zu", stage_name(stage, t),
             nuc_isa_name((nuc_isa)isa), gen_name(prof), n);
    nb_register(name, stage < ST_ARGMAX ? body_kernel : body_public, a);
}

static void reg_stages(gen_profile prof, size_t n) {
    for (int k = 0; k < nisas; k++) {
        for (int s = 0; s < ST_COUNT; s++) {
            reg_stage(isas[k], s, 1.0f, prof, n);
            if (s == ST_K_EXP_SUM || s == ST_SOFTMAX) reg_stage(isas[k], s, 0.05f, prof, n);
        }
    }
}

static void reg_yardsticks(gen_profile prof, size_t n) {
    char name[160];
    for (int k = 0; k < nisas; k++) {
        if (isas[k] == NUC_ISA_NEON) continue;
        for (int y = YS_MAX; y <= YS_EXPSUM; y++) {
            bench_arg *a = new_arg(2, 0, isas[k], y, prof, n);
            snprintf(name, sizeof name, "yardstick/%s/%s/%s/%zu", y == YS_MAX ? "max" : "expsum",
                     nuc_isa_name((nuc_isa)isas[k]), gen_name(prof), n);
            nb_register(name, body_yardstick, a);
        }
    }
}

/* `make bench`: the peaked profile at every size for the two sampling parameter sets (the
 * chart), every profile and parameter set at the reference size, the stages at the reference
 * size, and the yardsticks wherever a sampling row needs them. */
static void register_quick(void) {
    for (size_t s = 0; s < NSIZES; s++) {
        for (size_t k = 0; k < NPSETS; k++) {
            if (SIZES[s] != REF_N && (k == 1 || k == 3)) continue;
            reg_all_impls(GEN_PEAKED, &PSETS[k], SIZES[s]);
        }
        reg_yardsticks(GEN_PEAKED, SIZES[s]);
    }
    for (size_t pr = 1; pr < NPROFILES; pr++) {
        for (size_t k = 0; k < NPSETS; k++) reg_all_impls(PROFILES[pr], &PSETS[k], REF_N);
        reg_yardsticks(PROFILES[pr], REF_N);
    }
    reg_stages(GEN_PEAKED, REF_N);
}

static void register_full(void) {
    for (size_t s = 0; s < NSIZES; s++) {
        for (size_t pr = 0; pr < NPROFILES; pr++) {
            for (size_t k = 0; k < NPSETS; k++) reg_all_impls(PROFILES[pr], &PSETS[k], SIZES[s]);
            reg_yardsticks(PROFILES[pr], SIZES[s]);
            reg_stages(PROFILES[pr], SIZES[s]);
        }
    }
}

int main(int argc, char **argv) {
    int quick = 0;
    int out = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--nb_quick") == 0) quick = 1;
        else if (strcmp(argv[i], "--nb_full") == 0) quick = 0;
        else argv[out++] = argv[i];
    }
    argc = out;
    argv[argc] = NULL;

    const nuc_isa order[] = {NUC_ISA_SCALAR, NUC_ISA_AVX2, NUC_ISA_AVX512, NUC_ISA_NEON};
    for (size_t k = 0; k < 4; k++)
        if (nuc_isa_supported(order[k])) isas[nisas++] = (int)order[k];

    sampler = nuc_sampler_new(MAX_N);
    base = nbase_new(MAX_N);
    wbuf = xalloc(MAX_N * sizeof *wbuf);
    qbuf = xalloc(MAX_N * sizeof *qbuf);
    cand = xalloc(MAX_N * sizeof *cand);
    bsum = xalloc(NUC_NBLOCKS(MAX_N) * sizeof *bsum);
    if (!sampler || !base) {
        fprintf(stderr, "bench: cannot allocate the samplers\n");
        return 2;
    }
    if (quick) register_quick();
    else register_full();
    const int rc = nb_run_main(argc, argv);
    nuc_sampler_free(sampler);
    nbase_free(base);
    return rc;
}
