/* The entry points that are not the per-row pipeline: errors, version, the sampler's memory,
 * and the stand-alone argmax and softmax stages. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pipeline.h"

const char *nuc_strerror(int code)
{
    switch (code) {
    case NUC_OK: return "success";
    case NUC_EINVAL: return "invalid argument (NULL pointer, length or parameter out of range)";
    case NUC_ENONFINITE: return "a logit is NaN or +inf";
    case NUC_EMASKED: return "every logit is -inf: nothing to sample";
    case NUC_ENOMEM: return "out of memory";
    case NUC_EUNSUPPORTED: return "kernel set not built in or not supported by this CPU/OS";
    }
    return "unknown error code";
}

const char *nuc_version(void)
{
    return NUC_VERSION_STRING;
}

nuc_params nuc_params_default(void)
{
    return (nuc_params){1.0f, 0, 1.0f, 0.0f};
}

#define ALIGN 64
static size_t round_up(size_t v)
{
    return (v + ALIGN - 1) / ALIGN * ALIGN;
}

nuc_sampler *nuc_sampler_new(size_t max_vocab)
{
    if (max_vocab == 0 || max_vocab > (size_t)INT32_MAX)
        return NULL;
    nuc_sampler *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    const size_t w_bytes = round_up(max_vocab * sizeof(float));
    const size_t b_bytes = round_up(NUC_NBLOCKS(max_vocab) * sizeof(float));
    const size_t i_bytes = round_up(max_vocab * sizeof(uint32_t));
    const size_t c_bytes = NUC_CHUNK * sizeof(float);
    char *mem = aligned_alloc(ALIGN, 3 * w_bytes + b_bytes + 2 * i_bytes + c_bytes);
    if (!mem) {
        free(s);
        return NULL;
    }
    s->cap = max_vocab;
    s->mem = mem;
    s->w = (float *)mem;
    s->bsum = (float *)(mem + w_bytes);
    s->cand = (uint32_t *)(mem + w_bytes + b_bytes);
    s->work = (uint32_t *)(mem + w_bytes + b_bytes + i_bytes);
    s->chunk = (float *)(mem + w_bytes + b_bytes + 2 * i_bytes);
    s->vals = (float *)(mem + w_bytes + b_bytes + 2 * i_bytes + c_bytes);
    s->vals_out = s->vals + w_bytes / sizeof(float);
    return s;
}

void nuc_sampler_free(nuc_sampler *s)
{
    if (!s)
        return;
    free(s->mem);
    free(s);
}

size_t nuc_sampler_capacity(const nuc_sampler *s)
{
    return s ? s->cap : 0;
}

static int check_vector(const float *x, size_t n, const void *out)
{
    return (!x || !out || n == 0 || n > (size_t)INT32_MAX) ? NUC_EINVAL : NUC_OK;
}

/* No sampler here, so the weights are built in probs itself, a chunk of whole blocks at a time
 * (block sums on the stack); the running total is carried over the blocks exactly as the
 * pipeline carries it. */
#define SOFTMAX_CHUNK_BLOCKS 64
int nuc_softmax(const float *x, size_t n, float temperature, float *probs)
{
    int rc = check_vector(x, n, probs);
    if (rc != NUC_OK)
        return rc;
    if (isnan(temperature) || temperature == INFINITY)
        return NUC_EINVAL;
    const nuc_kernels *kt = nuc_active_kernels();
    float m;
    rc = kt->max(x, n, &m);
    if (rc != NUC_OK)
        return rc;
    if (temperature <= 0.0f) {
        const size_t i = kt->find_nth(x, n, m, 0);
        memset(probs, 0, n * sizeof *probs);
        probs[i] = 1.0f;
        return NUC_OK;
    }
    const float inv_t = nuc_inv_temperature(temperature);
    double total = 0.0;
    float bsum[SOFTMAX_CHUNK_BLOCKS];
    for (size_t start = 0; start < n; start += SOFTMAX_CHUNK_BLOCKS * NUC_BLOCK) {
        const size_t len = n - start < SOFTMAX_CHUNK_BLOCKS * NUC_BLOCK
                               ? n - start : SOFTMAX_CHUNK_BLOCKS * NUC_BLOCK;
        kt->exp_sum(x + start, len, m, inv_t, probs + start, bsum, 0.0f, 0, NULL, NULL);
        for (size_t b = 0; b < NUC_NBLOCKS(len); b++)
            total += bsum[b];
    }
    kt->scale_kept(probs, n, 0.0f, 0, (float)(1.0 / total), probs);
    return NUC_OK;
}
