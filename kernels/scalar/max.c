/* Reference max pass and first-index search. */
#include <float.h>
#include <math.h>
#include "nucleus.h"
#include "kernels.h"
#include "scalar/scalar.h"

int nuc_max_scalar(const float *x, size_t n, float *max)
{
    float m = -INFINITY;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        bad |= (v != v) | (v > FLT_MAX); /* NaN or +inf */
        m = v > m ? v : m;
    }
    if (bad)
        return NUC_ENONFINITE;
    if (m == -INFINITY)
        return NUC_EMASKED;
    *max = m;
    return NUC_OK;
}

size_t nuc_find_nth_scalar(const float *x, size_t n, float v, size_t j)
{
    for (size_t i = 0; i < n; i++)
        if (x[i] == v && j-- == 0)
            return i;
    return n;
}
