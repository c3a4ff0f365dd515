/* The plain C yardsticks (see yardstick.h). */
#include "yardstick.h"

#include <math.h>

float ys_max_scalar(const float *x, size_t n) {
    float m = x[0];
    for (size_t i = 1; i < n; i++)
        if (x[i] > m) m = x[i];
    return m;
}

double ys_expsum_scalar(const float *x, size_t n, float m) {
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) s += expf(x[i] - m);
    return s;
}
