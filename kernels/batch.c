/* Many rows in one call. Each row is nuc_sample on its own (its own draw, its own sampler
 * scratch), so a token does not depend on how rows are grouped, ordered or split over threads.
 *
 * Rows go to an OpenMP team, one sampler per thread, handed out one row at a time
 * (schedule(dynamic, 1)): rows of one batch differ in cost (a greedy row is a max pass, a wide
 * nucleus several passes), so a static split leaves threads idle (measured on 2 cores with the
 * greedy rows in one half: 1.17x static, 1.83x dynamic). A team is woken only for enough work,
 * NUC_BATCH_GRAIN logits a thread, and never with more threads than processors: a team waits
 * at its closing barrier for its last thread, and a thread the OS has not scheduled costs a
 * whole time slice (20+ ms).
 *
 * Tokens are staged, each row writing its token or its error code, and copied out only if
 * every row succeeded. On failure the code is that of the first failing row, which is well
 * defined because a row is skipped only when a row before it has already failed. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "pipeline.h"

struct nuc_batch {
    size_t cap;
    int threads;
    nuc_sampler **s; /* one per thread, kept across calls */
    int32_t *out;    /* staging: row r's token, or its (negative) error code */
    size_t out_cap;
};

typedef struct job {
    const float *logits;
    size_t n, stride;
    const nuc_params *p;
    size_t n_params;
    uint64_t seed, step;
    const uint64_t *streams; /* NULL: stream = row index */
    const nuc_draw *draws;   /* not NULL: every row's own (seed, stream, step) */
    int32_t *out;
    atomic_size_t first_bad; /* rows while none has failed */
} job;

/* About 10 us of AVX-512 work: below it, waking a thread costs more than it saves. */
#define NUC_BATCH_GRAIN ((size_t)1 << 15)

static int all_cores(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* The threads worth using for rows x n logits, at most want. */
static int team_size(int want, size_t rows, size_t n)
{
    size_t t = rows * n / NUC_BATCH_GRAIN; /* rows * n fits: check_batch bounds it */
    if (t > rows)
        t = rows;
    if (t > (size_t)want)
        t = (size_t)want;
    return t < 1 ? 1 : (int)t;
}

static void sample_row(job *j, nuc_sampler *s, size_t r)
{
    if (r > atomic_load_explicit(&j->first_bad, memory_order_relaxed))
        return;
    uint64_t seed = j->seed, stream = j->streams ? j->streams[r] : r, step = j->step;
    if (j->draws) {
        seed = j->draws[r].seed;
        stream = j->draws[r].stream;
        step = j->draws[r].step;
    }
    int32_t token;
    const int rc = nuc_sample(s, j->logits + r * j->stride, j->n,
                              &j->p[j->n_params == 1 ? 0 : r], seed, stream, step, &token);
    j->out[r] = rc == NUC_OK ? token : rc;
    if (rc != NUC_OK) {
        size_t cur = atomic_load_explicit(&j->first_bad, memory_order_relaxed);
        while (r < cur && !atomic_compare_exchange_weak(&j->first_bad, &cur, r))
            ;
    }
}

/* Everything that can be refused without reading a logit. */
static int check_batch(const float *logits, size_t rows, size_t n, size_t stride,
                       const nuc_params *p, size_t n_params, const int32_t *tokens)
{
    if (!logits || !p || !tokens || rows == 0 || n == 0 || n > (size_t)INT32_MAX ||
        stride < n || (n_params != 1 && n_params != rows))
        return NUC_EINVAL;
    /* The last row, (rows - 1) * stride + n floats from logits, must be addressable (this also
     * bounds rows * sizeof(int32_t) for the staging buffer). */
    if (rows - 1 > (SIZE_MAX / sizeof(float) - n) / stride)
        return NUC_EINVAL;
    for (size_t r = 0; r < n_params; r++)
        if (nuc_check_params(&p[r]) != NUC_OK)
            return NUC_EINVAL;
    return NUC_OK;
}

static nuc_batch *batch_create(size_t max_vocab, int threads)
{
    if (max_vocab == 0 || max_vocab > (size_t)INT32_MAX || threads < 0)
        return NULL;
#ifndef _OPENMP
    threads = 1;
#endif
    if (threads == 0)
        threads = all_cores();
#ifdef _OPENMP
    if (threads > omp_get_num_procs())
        threads = omp_get_num_procs();
#endif
    if (threads < 1)
        threads = 1;
    nuc_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->cap = max_vocab;
    b->s = calloc((size_t)threads, sizeof *b->s);
    if (!b->s) {
        free(b);
        return NULL;
    }
    b->threads = threads;
    for (int t = 0; t < threads; t++)
        if (!(b->s[t] = nuc_sampler_new(max_vocab))) {
            nuc_batch_free(b);
            return NULL;
        }
    return b;
}

static int run(nuc_batch *b, job *j, size_t rows, int32_t *tokens)
{
    if (rows > b->out_cap) {
        free(b->out);
        b->out_cap = 0;
        if (!(b->out = malloc(rows * sizeof *b->out)))
            return NUC_ENOMEM;
        b->out_cap = rows;
    }
    j->out = b->out;
    atomic_init(&j->first_bad, rows);
    const int team = team_size(b->threads, rows, j->n);
#ifdef _OPENMP
    if (team > 1) {
#pragma omp parallel num_threads(team)
        {
            /* A caller already inside a parallel region gets a team of one: thread 0. */
            nuc_sampler *s = b->s[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 1) nowait
            for (size_t r = 0; r < rows; r++)
                sample_row(j, s, r);
        }
    } else
#endif
    {
        (void)team;
        for (size_t r = 0; r < rows; r++)
            sample_row(j, b->s[0], r);
    }
    const size_t bad = atomic_load(&j->first_bad);
    if (bad < rows)
        return j->out[bad];
    memcpy(tokens, j->out, rows * sizeof *tokens);
    return NUC_OK;
}

nuc_batch *nuc_batch_new(size_t max_vocab, int threads)
{
    return batch_create(max_vocab, threads);
}

void nuc_batch_free(nuc_batch *b)
{
    if (!b)
        return;
    if (b->s)
        for (int t = 0; t < b->threads; t++)
            nuc_sampler_free(b->s[t]);
    free(b->s);
    free(b->out);
    free(b);
}

int nuc_batch_threads(const nuc_batch *b)
{
    return b ? b->threads : 0;
}

size_t nuc_batch_capacity(const nuc_batch *b)
{
    return b ? b->cap : 0;
}

int nuc_batch_sample(nuc_batch *b, const float *logits, size_t rows, size_t n,
                     size_t row_stride, const nuc_params *p, size_t n_params, uint64_t seed,
                     const uint64_t *streams, uint64_t step, int32_t *tokens)
{
    int rc = check_batch(logits, rows, n, row_stride, p, n_params, tokens);
    if (rc != NUC_OK || !b || n > b->cap)
        return rc != NUC_OK ? rc : NUC_EINVAL;
    job j = {.logits = logits, .n = n, .stride = row_stride, .p = p, .n_params = n_params,
             .seed = seed, .step = step, .streams = streams};
    return run(b, &j, rows, tokens);
}

int nuc_batch_sample_draws(nuc_batch *b, const float *logits, size_t rows, size_t n,
                           size_t row_stride, const nuc_params *p, size_t n_params,
                           const nuc_draw *draws, int32_t *tokens)
{
    int rc = check_batch(logits, rows, n, row_stride, p, n_params, tokens);
    if (rc != NUC_OK || !b || !draws || n > b->cap)
        return rc != NUC_OK ? rc : NUC_EINVAL;
    job j = {.logits = logits, .n = n, .stride = row_stride, .p = p, .n_params = n_params,
             .draws = draws};
    return run(b, &j, rows, tokens);
}

/* The one-shot form: a handle for this call only, with no more threads than it will use. */
int nuc_sample_batch(const float *logits, size_t rows, size_t n, size_t row_stride,
                     const nuc_params *p, size_t n_params, uint64_t seed,
                     const uint64_t *streams, uint64_t step, int32_t *tokens, int threads)
{
    int rc = check_batch(logits, rows, n, row_stride, p, n_params, tokens);
    if (rc != NUC_OK || threads < 0)
        return rc != NUC_OK ? rc : NUC_EINVAL;
    nuc_batch *b = batch_create(n, team_size(threads == 0 ? all_cores() : threads, rows, n));
    if (!b)
        return NUC_ENOMEM;
    rc = nuc_batch_sample(b, logits, rows, n, row_stride, p, n_params, seed, streams, step,
                          tokens);
    nuc_batch_free(b);
    return rc;
}
