/* Many threads at once (SPEC section 5: safe from many threads with one sampler each; no
 * mutable global state but the one-time kernel choice). Run natively by meson and under
 * ThreadSanitizer by tests/sanitize.sh.
 *
 *   first_call_contention: 16 threads wait at a barrier and all make their first library call
 *     together, so the kernel choice is made under contention; each then samples rows with its
 *     own sampler, and every token and every nuc_probs bit equals a single-thread reference.
 *   concurrent_batches: nuc_sample_batch from many threads at once (with its own thread
 *     counts), each row equal to nuc_sample on that row alone.
 *   force_while_sampling: nuc_isa_force cycles the kernel sets while other threads sample; every
 *     set gives the same bits, so the answers may not change.
 *
 * Failures in worker threads are counted and asserted by the main thread (Check's assertions
 * are for the thread that runs the test). NUC_TEST_QUICK=1 shortens the loops. */
#define _POSIX_C_SOURCE 200809L /* pthread_barrier_t under -std=c11 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "util.h"

#define NTHREADS 16
#define NROWS 6
#define MAXN 32000

static int quick(void)
{
    const char *v = getenv("NUC_TEST_QUICK");
    return v && *v && strcmp(v, "0") != 0;
}

static int rounds(void) { return quick() ? 2 : 6; }

/* ---- the shared, read-only workload ---- */
typedef struct workload {
    float *rows[NROWS];
    size_t n[NROWS];
    nuc_params p[NROWS];
} workload;

static workload W;

static void workload_init(void)
{
    static const gen_profile prof[NROWS] = {GEN_PEAKED, GEN_FLAT,  GEN_TIES,
                                            GEN_ZIPF,   GEN_MASKED90, GEN_SPIKE};
    static const size_t lens[NROWS] = {4099, 32000, 257, 20000, 32000, 1000};
    static const nuc_params ps[NROWS] = {
        {0.7f, 40, 0.95f, 0.05f}, {1.0f, 0, 0.9f, 0.0f}, {1.0f, 5, 1.0f, 0.0f},
        {1.3f, 0, 1.0f, 0.02f},   {0.0f, 0, 1.0f, 0.0f}, {1.0f, 0, 1.0f, 0.0f},
    };
    for (int r = 0; r < NROWS; r++) {
        W.n[r] = lens[r];
        W.p[r] = ps[r];
        W.rows[r] = ut_floats(lens[r]);
        gen_logits(prof[r], lens[r], 100 + (uint64_t)r, W.rows[r]);
    }
}

static void workload_free(void)
{
    for (int r = 0; r < NROWS; r++)
        free(W.rows[r]);
}

static uint64_t probs_hash(nuc_sampler *s, int r, float *q, int *rc)
{
    *rc = nuc_probs(s, W.rows[r], W.n[r], &W.p[r], q);
    return ut_hash(UT_HASH_INIT, q, W.n[r] * sizeof *q);
}

/* ---- worker results ---- */
#define MAXROUNDS 6
typedef struct result {
    int32_t tok[MAXROUNDS][NROWS];
    uint64_t hash[NROWS];
    int rc_bad;    /* a call returned an error */
    int first_rc;  /* the code of the very first call */
} result;

typedef struct worker {
    int id;
    pthread_barrier_t *barrier;
    nuc_sampler *s;
    float *q;
    result res;
    atomic_int *stop; /* force_while_sampling: keep going until set */
} worker;

/* One thread's work: rounds of every row (stream = thread id, step = round), then nuc_probs. */
static void run_rows(worker *w)
{
    for (int k = 0; k < rounds(); k++)
        for (int r = 0; r < NROWS; r++) {
            int32_t t = -1;
            if (nuc_sample(w->s, W.rows[r], W.n[r], &W.p[r], 2024, (uint64_t)w->id,
                           (uint64_t)k, &t) != NUC_OK)
                w->res.rc_bad++;
            w->res.tok[k][r] = t;
        }
    for (int r = 0; r < NROWS; r++) {
        int rc;
        w->res.hash[r] = probs_hash(w->s, r, w->q, &rc);
        w->res.rc_bad += rc != NUC_OK;
    }
}

static void *first_call_worker(void *arg)
{
    worker *w = arg;
    pthread_barrier_wait(w->barrier);
    /* Different first calls from different threads: all of them go through the one-time
     * kernel choice. */
    int32_t t = -1;
    switch (w->id % 4) {
    case 0:
        w->res.first_rc = nuc_sample(w->s, W.rows[0], W.n[0], &W.p[0], 1, 2, 3, &t);
        break;
    case 1:
        w->res.first_rc = nuc_argmax(W.rows[1], W.n[1], &t);
        break;
    case 2:
        w->res.first_rc = nuc_probs(w->s, W.rows[2], W.n[2], &W.p[2], w->q);
        break;
    default:
        w->res.first_rc = (int)nuc_isa_active() >= 0 && nuc_isa_active() <= NUC_ISA_NEON
                              ? NUC_OK
                              : NUC_EINVAL;
        break;
    }
    run_rows(w);
    return NULL;
}

/* The single-thread answer of worker id. */
static void reference(int id, result *ref)
{
    worker w = {.id = id};
    w.s = nuc_sampler_new(MAXN);
    w.q = ut_floats(MAXN);
    ck_assert_ptr_nonnull(w.s);
    run_rows(&w);
    *ref = w.res;
    nuc_sampler_free(w.s);
    free(w.q);
}

static int compare(int id, const result *got, const result *want, const char *what)
{
    int bad = 0;
    for (int k = 0; k < rounds(); k++)
        for (int r = 0; r < NROWS; r++)
            if (got->tok[k][r] != want->tok[k][r]) {
                if (bad++ < 5)
                    fprintf(stderr, "%s: thread %d round %d row %d: token %d, alone %d\n", what,
                            id, k, r, (int)got->tok[k][r], (int)want->tok[k][r]);
            }
    for (int r = 0; r < NROWS; r++)
        if (got->hash[r] != want->hash[r] && bad++ < 5)
            fprintf(stderr, "%s: thread %d row %d: nuc_probs bits differ from the thread alone\n",
                    what, id, r);
    return bad;
}

static void start_workers(worker *ws, int nt, void *(*fn)(void *), pthread_barrier_t *b,
                          pthread_t *th)
{
    for (int i = 0; i < nt; i++) {
        ws[i].id = i;
        ws[i].barrier = b;
        ws[i].s = nuc_sampler_new(MAXN);
        ws[i].q = ut_floats(MAXN);
        ck_assert_ptr_nonnull(ws[i].s);
    }
    for (int i = 0; i < nt; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, fn, &ws[i]), 0);
}

static void join_workers(worker *ws, int nt, pthread_t *th)
{
    for (int i = 0; i < nt; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < nt; i++) {
        nuc_sampler_free(ws[i].s);
        free(ws[i].q);
    }
}

/* Must be the process's first library call (Check forks each test; without fork this test is
 * registered first). */
START_TEST(first_call_contention)
{
    workload_init();
    static worker ws[NTHREADS];
    memset(ws, 0, sizeof ws);
    pthread_t th[NTHREADS];
    pthread_barrier_t b;
    ck_assert_int_eq(pthread_barrier_init(&b, NULL, NTHREADS), 0);
    start_workers(ws, NTHREADS, first_call_worker, &b, th);
    join_workers(ws, NTHREADS, th);
    pthread_barrier_destroy(&b);

    const nuc_isa chosen = nuc_isa_active();
    int bad = 0;
    for (int i = 0; i < NTHREADS; i++) {
        if (ws[i].res.first_rc != NUC_OK || ws[i].res.rc_bad) {
            fprintf(stderr, "thread %d: first call %d, %d failing calls\n", i, ws[i].res.first_rc,
                    ws[i].res.rc_bad);
            bad++;
        }
        result ref;
        reference(i, &ref);
        bad += compare(i, &ws[i].res, &ref, "first_call_contention");
    }
    ck_assert_msg(nuc_isa_active() == chosen, "the kernel choice changed after the threads");
    workload_free();
    ck_assert_msg(bad == 0, "%d mismatches between threads and the single-thread reference",
                  bad);
}
END_TEST

/* ---- concurrent batches ---- */
#define BROWS 12
#define BN 4099
typedef struct batch_job {
    int id;
    pthread_barrier_t *barrier;
    const float *rows;
    const nuc_params *p;
    int32_t tok[MAXROUNDS][BROWS];
    int rc_bad;
} batch_job;

static void *batch_worker(void *arg)
{
    batch_job *j = arg;
    static const int tcounts[] = {0, 1, 2, 4, 16};
    uint64_t streams[BROWS];
    for (int r = 0; r < BROWS; r++)
        streams[r] = (uint64_t)j->id * 1000 + (uint64_t)r;
    pthread_barrier_wait(j->barrier);
    for (int k = 0; k < rounds(); k++) {
        const int tc = tcounts[(j->id + k) % 5];
        /* Even jobs share one parameter set, odd ones pass one per row. */
        const int rc = nuc_sample_batch(j->rows, BROWS, BN, BN + 5, j->p, j->id % 2 ? BROWS : 1,
                                        77, streams, (uint64_t)k, j->tok[k], tc);
        j->rc_bad += rc != NUC_OK;
    }
    return NULL;
}

START_TEST(concurrent_batches)
{
    enum { NJOBS = 8 };
    const size_t stride = BN + 5;
    float *rows = ut_floats(BROWS * stride);
    for (int r = 0; r < BROWS; r++) {
        gen_logits((gen_profile)(r % GEN_COUNT), BN, 500 + (uint64_t)r, rows + r * stride);
        for (size_t i = BN; i < stride; i++)
            rows[r * stride + i] = 0.0f;
        if (r % GEN_COUNT == GEN_MASKED90) /* keep one live token for sure */
            rows[r * stride] = 0.0f;
    }
    nuc_params ps[BROWS];
    for (int r = 0; r < BROWS; r++)
        ps[r] = (nuc_params){0.5f + 0.1f * (float)r, r % 3 ? 0 : 20, r % 2 ? 0.9f : 1.0f,
                             r % 4 ? 0.0f : 0.05f};
    static batch_job jobs[NJOBS];
    memset(jobs, 0, sizeof jobs);
    pthread_t th[NJOBS];
    pthread_barrier_t b;
    ck_assert_int_eq(pthread_barrier_init(&b, NULL, NJOBS), 0);
    for (int i = 0; i < NJOBS; i++) {
        jobs[i] = (batch_job){.id = i, .barrier = &b, .rows = rows, .p = ps};
        ck_assert_int_eq(pthread_create(&th[i], NULL, batch_worker, &jobs[i]), 0);
    }
    for (int i = 0; i < NJOBS; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    pthread_barrier_destroy(&b);

    nuc_sampler *s = nuc_sampler_new(BN);
    int bad = 0;
    for (int i = 0; i < NJOBS; i++) {
        bad += jobs[i].rc_bad;
        for (int k = 0; k < rounds(); k++)
            for (int r = 0; r < BROWS; r++) {
                int32_t t = -1;
                const nuc_params *p = &ps[i % 2 ? r : 0];
                ck_assert_int_eq(nuc_sample(s, rows + r * stride, BN, p, 77,
                                            (uint64_t)i * 1000 + (uint64_t)r, (uint64_t)k, &t),
                                 NUC_OK);
                if (t != jobs[i].tok[k][r] && bad++ < 5)
                    fprintf(stderr, "job %d round %d row %d: batch %d, nuc_sample %d\n", i, k, r,
                            (int)jobs[i].tok[k][r], (int)t);
            }
    }
    nuc_sampler_free(s);
    free(rows);
    ck_assert_msg(bad == 0, "%d batch rows differ from nuc_sample or failed", bad);
}
END_TEST

/* ---- kernel sets switched under running samplers ---- */
static void *sampling_worker(void *arg)
{
    worker *w = arg;
    pthread_barrier_wait(w->barrier);
    do
        run_rows(w);
    while (!atomic_load(w->stop));
    return NULL;
}

typedef struct forcer {
    pthread_barrier_t *barrier;
    atomic_int *stop;
    int forced;
} forcer;

static void *force_worker(void *arg)
{
    forcer *f = arg;
    pthread_barrier_wait(f->barrier);
    for (int k = 0; k < (quick() ? 50 : 400); k++)
        for (nuc_isa isa = NUC_ISA_SCALAR; isa <= NUC_ISA_NEON; isa = (nuc_isa)(isa + 1))
            if (nuc_isa_supported(isa) && nuc_isa_force(isa) == NUC_OK)
                f->forced++;
    atomic_store(f->stop, 1);
    return NULL;
}

START_TEST(force_while_sampling)
{
    enum { NW = 6 };
    workload_init();
    static worker ws[NW];
    memset(ws, 0, sizeof ws);
    pthread_t th[NW + 1];
    pthread_barrier_t b;
    atomic_int stop = 0;
    ck_assert_int_eq(pthread_barrier_init(&b, NULL, NW + 1), 0);
    for (int i = 0; i < NW; i++)
        ws[i].stop = &stop;
    start_workers(ws, NW, sampling_worker, &b, th);
    forcer fc = {&b, &stop, 0};
    ck_assert_int_eq(pthread_create(&th[NW], NULL, force_worker, &fc), 0);
    ck_assert_int_eq(pthread_join(th[NW], NULL), 0);
    join_workers(ws, NW, th);
    pthread_barrier_destroy(&b);

    int bad = 0;
    for (int i = 0; i < NW; i++) {
        bad += ws[i].res.rc_bad;
        result ref;
        reference(i, &ref);
        bad += compare(i, &ws[i].res, &ref, "force_while_sampling");
    }
    workload_free();
    ck_assert_msg(fc.forced > 0, "no kernel set could be forced");
    ck_assert_msg(bad == 0, "%d answers changed while the kernel set was switched", bad);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = ut_tcase("threads");
    tcase_add_test(tc, first_call_contention); /* first: see the test */
    tcase_add_test(tc, concurrent_batches);
    tcase_add_test(tc, force_while_sampling);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
