/* How an inference engine calls nucleus at every decode step of a continuous batch.
 *
 * Each request carries its own sampling parameters and its own seed; its draw at a step is keyed
 * by (seed, stream = request id, step = position in its output), so a request's tokens do not
 * depend on which other requests share the batch, on their order, or on the thread count. The
 * batch handle is made once and keeps one sampler per thread across steps.
 *
 * Here one request is greedy, one is constrained by a grammar (every logit outside the allowed
 * tokens is -inf), and one joins the batch late. The logits come from a tiny deterministic
 * stand-in for a model. Build: part of the meson build (build/examples/engine_loop). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nucleus.h"

enum {
    VOCAB = 32000,
    STRIDE = 32064, /* engines often pad each row of their logits buffer */
    STEPS = 8,
    MAX_BATCH = 4
};

typedef struct request {
    uint64_t id, seed;
    nuc_params p;
    int first_step;       /* the engine step at which it joins the batch */
    int grammar;          /* 1: only the allowed tokens may follow */
    int pos;              /* tokens generated so far: the next draw's step */
    int32_t out[STEPS];
} request;

/* Tokens 48..57 play the digits a JSON grammar allows after "count": . */
static int allowed(int32_t t)
{
    return t >= 48 && t <= 57;
}

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* The model: logits that depend on the request and its previous token only. */
static void fake_forward(const request *q, float *row)
{
    const int32_t prev = q->pos ? q->out[q->pos - 1] : 1;
    const uint64_t h = mix(q->id * 1000003u + (uint64_t)prev);
    for (int32_t i = 0; i < VOCAB; i++)
        row[i] = (float)(mix(h + (uint64_t)i) >> 40) * 0x1p-24f * 4.0f - 2.0f; /* [-2, 2) */
    for (uint64_t k = 0; k < 24; k++) /* a few tokens the context makes likely */
        row[mix(h ^ (k + 1)) % VOCAB] += 6.0f + (float)k * 0.25f;
    if (q->grammar)
        for (int32_t i = 0; i < VOCAB; i++)
            if (!allowed(i))
                row[i] = -INFINITY;
}

int main(void)
{
    nuc_params chat = nuc_params_default(), greedy = nuc_params_default(),
               json = nuc_params_default(), creative = nuc_params_default();
    chat.temperature = 0.8f, chat.top_k = 40, chat.top_p = 0.95f, chat.min_p = 0.05f;
    greedy.temperature = 0.0f;
    json.temperature = 1.0f, json.top_p = 0.9f;
    creative.temperature = 1.3f, creative.top_p = 0.98f;
    request reqs[MAX_BATCH] = {
        {.id = 101, .seed = 7, .p = chat, .first_step = 0},
        {.id = 102, .seed = 7, .p = greedy, .first_step = 0},
        {.id = 103, .seed = 2024, .p = json, .first_step = 0, .grammar = 1},
        {.id = 104, .seed = 99, .p = creative, .first_step = 3},
    };
    static const char *const what[MAX_BATCH] = {"chat", "greedy", "grammar", "late"};

    float *logits = malloc((size_t)MAX_BATCH * STRIDE * sizeof *logits);
    nuc_batch *b = nuc_batch_new(VOCAB, 0); /* 0: all cores (OMP_NUM_THREADS is honoured) */
    if (!logits || !b) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    printf("nucleus %s, kernels %s, %d thread(s)\n", nuc_version(), nuc_isa_name(nuc_isa_active()),
           nuc_batch_threads(b));
    for (int r = 0; r < MAX_BATCH; r++)
        printf("  request %llu: %-7s seed %llu, T %.1f top_k %d top_p %.2f min_p %.2f%s\n",
               (unsigned long long)reqs[r].id, what[r], (unsigned long long)reqs[r].seed,
               reqs[r].p.temperature, reqs[r].p.top_k, reqs[r].p.top_p, reqs[r].p.min_p,
               reqs[r].first_step ? ", joins at step 3" : "");

    for (int step = 0; step < STEPS; step++) {
        /* Gather this step's batch: the live requests, their rows, parameters and draws. */
        request *live[MAX_BATCH];
        nuc_params p[MAX_BATCH];
        nuc_draw draws[MAX_BATCH];
        size_t rows = 0;
        for (int r = 0; r < MAX_BATCH; r++) {
            request *q = &reqs[r];
            if (step < q->first_step || q->pos >= STEPS)
                continue;
            fake_forward(q, logits + rows * STRIDE);
            p[rows] = q->p;
            draws[rows] = (nuc_draw){q->seed, q->id, (uint64_t)q->pos};
            live[rows++] = q;
        }
        int32_t tokens[MAX_BATCH];
        int rc = nuc_batch_sample_draws(b, logits, rows, VOCAB, STRIDE, p, rows, draws, tokens);
        if (rc != NUC_OK) { /* nothing was written; rc is the first failing row's code */
            fprintf(stderr, "step %d: %s\n", step, nuc_strerror(rc));
            return 1;
        }
        printf("step %d:", step);
        for (size_t r = 0; r < rows; r++) {
            live[r]->out[live[r]->pos++] = tokens[r];
            printf("  %llu -> %5d", (unsigned long long)live[r]->id, (int)tokens[r]);
        }
        printf("\n");
    }

    /* The promise that lets an engine reschedule freely: replaying one request alone, with a
     * plain sampler, gives the tokens it got inside the batch. */
    nuc_sampler *s = nuc_sampler_new(VOCAB);
    int same = s != NULL;
    for (int r = 0; r < MAX_BATCH && same; r++) {
        request q = reqs[r];
        for (q.pos = 0; q.pos < reqs[r].pos && same; q.pos++) {
            int32_t t;
            fake_forward(&q, logits);
            same = nuc_sample(s, logits, VOCAB, &q.p, q.seed, q.id, (uint64_t)q.pos, &t) ==
                       NUC_OK &&
                   t == q.out[q.pos] && (!q.grammar || allowed(t));
        }
    }
    printf("every request replayed alone: %s\n", same ? "same tokens" : "DIFFERENT");
    nuc_sampler_free(s);
    nuc_batch_free(b);
    free(logits);
    return same ? 0 : 1;
}
