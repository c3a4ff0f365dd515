/* What the public entry points share: the sampler and the filtered row. */
#ifndef NUC_PIPELINE_H
#define NUC_PIPELINE_H
#include <float.h>
#include "nucleus.h"
#include "kernels.h"

/* 16-bit logits are widened this many at a time: 16 KiB of floats stay in L1, and a whole
 * number of blocks keeps the block sums those of the widened row. */
#define NUC_CHUNK 4096

struct nuc_sampler {
    size_t cap;      /* longest row */
    float *w;        /* cap weights exp((x - max) / T) */
    float *bsum;     /* NUC_NBLOCKS(cap) block sums */
    uint32_t *cand;  /* cap candidate indices */
    uint32_t *work;  /* cap more: copies of lists that the radix cut may overwrite */
    float *vals;     /* cap weights side by side: samples, a list's weights */
    float *vals_out; /* cap more: a bracket pass's weights when it reads vals */
    float *chunk;    /* NUC_CHUNK 16-bit logits widened to float */
    void *mem;
};

/* 1/T for T > 0. Temperatures below FLT_MIN count as FLT_MIN: 1/T stays finite (2^126) and
 * exact, and the only rows this changes are those whose logits differ from the max by less
 * than about 1e-36. */
static inline float nuc_inv_temperature(float t)
{
    return 1.0f / (t < FLT_MIN ? FLT_MIN : t);
}

/* 0 if p holds valid parameters, else NUC_EINVAL. */
int nuc_check_params(const nuc_params *p);
#endif
