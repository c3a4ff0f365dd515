/* Samples one token from a Llama-3-sized row of logits and shows what the filters kept.
 * Build: part of the meson build (build/examples/sample_row). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "nucleus.h"

enum { VOCAB = 128256 };

/* An LLM-like row: a Gaussian bulk and a few dozen strongly preferred tokens. */
static void make_row(float *x, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        double u1 = (nuc_uniform(seed, 1, i) + 1e-300), u2 = nuc_uniform(seed, 2, i);
        x[i] = (float)(1.5 * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
    }
    for (uint64_t j = 0; j < 32; j++)
        x[(size_t)(nuc_uniform(seed, 3, j) * (double)n)] += (float)(10.0 + 6.0 * nuc_uniform(seed, 4, j));
}

int main(void)
{
    float *logits = malloc(VOCAB * sizeof *logits), *q = malloc(VOCAB * sizeof *q);
    float *pi = malloc(VOCAB * sizeof *pi);
    nuc_sampler *s = nuc_sampler_new(VOCAB);
    if (!logits || !q || !pi || !s)
        return 1;
    make_row(logits, VOCAB, 42);

    nuc_params p = nuc_params_default();
    p.temperature = 0.8f;
    p.top_k = 40;
    p.top_p = 0.95f;
    p.min_p = 0.05f;
    int32_t token;
    /* seed = the request's seed, stream = the request id, step = the position in the output */
    int rc = nuc_sample(s, logits, VOCAB, &p, 1234, 7, 0, &token);
    if (rc != NUC_OK) {
        fprintf(stderr, "nuc_sample: %s\n", nuc_strerror(rc));
        return 1;
    }
    /* What the draw saw: the filtered distribution, and the softmax it was cut from. */
    if (nuc_probs(s, logits, VOCAB, &p, q) != NUC_OK ||
        nuc_softmax(logits, VOCAB, p.temperature, pi) != NUC_OK)
        return 1;
    size_t kept = 0;
    double mass = 0.0;
    for (size_t i = 0; i < VOCAB; i++)
        if (q[i] > 0.0f) {
            kept++;
            mass += pi[i];
        }
    printf("kernels %s: token %d (q = %.4f), kept %zu of %d tokens holding %.4f of the mass\n",
           nuc_isa_name(nuc_isa_active()), token, q[token], kept, VOCAB, mass);
    nuc_sampler_free(s);
    free(logits);
    free(q);
    free(pi);
    return 0;
}
