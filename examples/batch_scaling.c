/* How the batch call scales with threads: a batch of Llama-3-sized rows (16 x 128256 by
 * default), sampled at 1, 2, ... max_threads threads through a batch handle (samplers kept
 * across calls) and through the one-shot nuc_sample_batch (which sets them up at every call).
 *
 *   batch_scaling [max_threads [rows [n [calls]]]]   (max_threads 0 or absent: all cores)
 *
 * On a 16-core machine: batch_scaling 16 (OMP_PROC_BIND=close OMP_PLACES=cores pins threads).
 *
 * Three workloads: "uniform" (every row T 0.8, top-p 0.95), "mixed" (an engine's batch: chat,
 * greedy, top-p and min-p rows in turn) and "skewed" (the greedy rows, which cost a third of a
 * sampled row, all in the first half: a static split of the rows would leave a thread idle).
 * Times are the median over calls, on rows that stay in cache between calls. */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "nucleus.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* LLM-like rows: a Gaussian bulk and a few dozen strongly preferred tokens. */
static void make_rows(float *x, size_t rows, size_t n)
{
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * n;
        for (size_t i = 0; i + 1 < n; i += 2) {
            const double u1 = nuc_uniform(r, 1, i) + 1e-300, u2 = nuc_uniform(r, 2, i);
            const double rad = 1.5 * sqrt(-2.0 * log(u1));
            row[i] = (float)(rad * cos(6.283185307179586 * u2));
            row[i + 1] = (float)(rad * sin(6.283185307179586 * u2));
        }
        row[n - 1] = 0.0f;
        for (uint64_t j = 0; j < 32; j++)
            row[(size_t)(nuc_uniform(r, 3, j) * (double)n)] +=
                (float)(10.0 + 6.0 * nuc_uniform(r, 4, j));
    }
}

typedef struct result {
    double handle_ms, oneshot_ms;
} result;

static double median_ms(double *t, int k)
{
    qsort(t, (size_t)k, sizeof *t, cmp_double);
    return 1e3 * t[k / 2];
}

static int measure(const float *x, size_t rows, size_t n, const nuc_params *p, size_t n_params,
                   int threads, int calls, int32_t *tokens, result *res)
{
    double *t = malloc((size_t)calls * sizeof *t);
    nuc_batch *b = nuc_batch_new(n, threads);
    if (!t || !b)
        return NUC_ENOMEM;
    int rc = nuc_batch_sample(b, x, rows, n, n, p, n_params, 1, NULL, 0, tokens); /* warm-up */
    for (int c = 0; c < calls && rc == NUC_OK; c++) {
        const double t0 = now();
        rc = nuc_batch_sample(b, x, rows, n, n, p, n_params, 1, NULL, 0, tokens);
        t[c] = now() - t0;
    }
    res->handle_ms = median_ms(t, calls);
    for (int c = 0; c < calls && rc == NUC_OK; c++) {
        const double t0 = now();
        rc = nuc_sample_batch(x, rows, n, n, p, n_params, 1, NULL, 0, tokens, threads);
        t[c] = now() - t0;
    }
    res->oneshot_ms = median_ms(t, calls);
    nuc_batch_free(b);
    free(t);
    return rc;
}

int main(int argc, char **argv)
{
    int max_threads = argc > 1 ? atoi(argv[1]) : 0;
    const size_t rows = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 16;
    const size_t n = argc > 3 ? (size_t)strtoull(argv[3], NULL, 10) : 128256;
    const int calls = argc > 4 ? atoi(argv[4]) : 41;
    if (max_threads <= 0) {
        nuc_batch *all = nuc_batch_new(1, 0);
        max_threads = nuc_batch_threads(all);
        nuc_batch_free(all);
    }
    if (max_threads <= 0 || rows == 0 || n == 0 || calls <= 0) {
        fprintf(stderr, "usage: %s [max_threads [rows [n [calls]]]]\n", argv[0]);
        return 2;
    }
    float *x = malloc(rows * n * sizeof *x);
    nuc_params *mixed = malloc(rows * sizeof *mixed), *skewed = malloc(rows * sizeof *skewed);
    int32_t *tokens = malloc(rows * sizeof *tokens), *first = malloc(rows * sizeof *first);
    if (!x || !mixed || !skewed || !tokens || !first)
        return 1;
    make_rows(x, rows, n);
    const nuc_params settings[4] = {
        {0.8f, 40, 0.95f, 0.05f}, {0.0f, 0, 1.0f, 0.0f}, {1.0f, 0, 0.9f, 0.0f},
        {0.7f, 0, 1.0f, 0.1f}};
    for (size_t r = 0; r < rows; r++) {
        mixed[r] = settings[r % 4];
        skewed[r] = settings[r < rows / 2 ? 1 : 2];
    }
    const nuc_params uniform = {0.8f, 0, 0.95f, 0.0f};

    /* A handle runs no more threads than there are processors (and 1 without OpenMP). */
    nuc_batch *probe = nuc_batch_new(1, max_threads);
    const int threads_here = probe ? nuc_batch_threads(probe) : 1;
    nuc_batch_free(probe);
    probe = nuc_batch_new(1, 2);
    const int threaded = probe && nuc_batch_threads(probe) == 2;
    nuc_batch_free(probe);
    if (threaded && threads_here < max_threads)
        printf("(%d threads asked, %d processors here: the curve stops at %d)\n", max_threads,
               threads_here, threads_here);
    max_threads = threads_here;
    printf("nucleus %s, kernels %s, %s; %zu rows x %zu, median of %d calls\n", nuc_version(),
           nuc_isa_name(nuc_isa_active()), threaded ? "OpenMP" : "built without OpenMP", rows, n,
           calls);
    int identical = 1;
    static const char *const names[3] = {"uniform (T 0.8, top-p 0.95)",
                                         "mixed (chat, greedy, top-p, min-p in turn)",
                                         "skewed (greedy rows first, then top-p rows)"};
    for (int w = 0; w < 3; w++) {
        const nuc_params *p = w == 0 ? &uniform : w == 1 ? mixed : skewed;
        const size_t n_params = w == 0 ? 1 : rows;
        printf("\n%s\nthreads  handle ms  rows/s    speed-up  efficiency  one-shot ms\n",
               names[w]);
        double base = 0.0;
        for (int t = 1; t <= max_threads; t++) {
            result res;
            int rc = measure(x, rows, n, p, n_params, t, calls, tokens, &res);
            if (rc != NUC_OK) {
                fprintf(stderr, "threads %d: %s\n", t, nuc_strerror(rc));
                return 1;
            }
            if (t == 1) {
                base = res.handle_ms;
                memcpy(first, tokens, rows * sizeof *tokens);
            } else if (memcmp(first, tokens, rows * sizeof *tokens) != 0) {
                identical = 0;
            }
            printf("%7d  %9.3f  %8.0f  %7.2fx  %9.0f%%  %11.3f\n", t, res.handle_ms,
                   (double)rows / (res.handle_ms * 1e-3), base / res.handle_ms,
                   100.0 * base / res.handle_ms / t, res.oneshot_ms);
        }
    }
    printf("\ntokens identical at every thread count: %s\n", identical ? "yes" : "NO");
    free(x);
    free(mixed);
    free(skewed);
    free(tokens);
    free(first);
    return identical ? 0 : 1;
}
