/* Many rows in one call: each row is nuc_sample on its own (stream = its request), so the
 * tokens do not depend on how rows are grouped or split. */
#include <stdlib.h>
#include "pipeline.h"

int nuc_sample_batch(const float *logits, size_t rows, size_t n, size_t row_stride,
                     const nuc_params *p, size_t n_params, uint64_t seed,
                     const uint64_t *streams, uint64_t step, int32_t *tokens, int threads)
{
    if (!logits || !p || !tokens || rows == 0 || n == 0 || n > (size_t)INT32_MAX ||
        row_stride < n || (n_params != 1 && n_params != rows) || threads < 0)
        return NUC_EINVAL;
    for (size_t r = 0; r < n_params; r++)
        if (nuc_check_params(&p[r]) != NUC_OK)
            return NUC_EINVAL;
    /* Tokens go to a private buffer first: on any failing row nothing is written. */
    int32_t *out = malloc(rows * sizeof *out);
    nuc_sampler *s = nuc_sampler_new(n);
    int rc = (out && s) ? NUC_OK : NUC_ENOMEM;
    for (size_t r = 0; r < rows && rc == NUC_OK; r++)
        rc = nuc_sample(s, logits + r * row_stride, n, &p[n_params == 1 ? 0 : r], seed,
                        streams ? streams[r] : r, step, &out[r]);
    if (rc == NUC_OK)
        for (size_t r = 0; r < rows; r++)
            tokens[r] = out[r];
    nuc_sampler_free(s);
    free(out);
    return rc;
}
