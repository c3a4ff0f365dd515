/* The AVX-512 yardsticks (see yardstick.h); built with -mavx512f -mavx512bw -mavx512vl
 * -mavx512dq. */
#include "yardstick.h"

#include <immintrin.h>
#include <math.h>

float ys_max_avx512(const float *x, size_t n) {
    __m512 a = _mm512_set1_ps(-INFINITY), b = a, c = a, d = a;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a = _mm512_max_ps(a, _mm512_loadu_ps(x + i));
        b = _mm512_max_ps(b, _mm512_loadu_ps(x + i + 16));
        c = _mm512_max_ps(c, _mm512_loadu_ps(x + i + 32));
        d = _mm512_max_ps(d, _mm512_loadu_ps(x + i + 48));
    }
    for (; i + 16 <= n; i += 16) a = _mm512_max_ps(a, _mm512_loadu_ps(x + i));
    if (i < n) {
        __mmask16 k = (__mmask16)((1u << (n - i)) - 1u);
        b = _mm512_max_ps(b, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), k, x + i));
    }
    a = _mm512_max_ps(_mm512_max_ps(a, b), _mm512_max_ps(c, d));
    return _mm512_reduce_max_ps(a);
}

/* exp(y) for y in the float range: 2^k * p(r), r = y - k ln2, degree-5 polynomial. */
static inline __m512 exp512(__m512 y) {
    y = _mm512_max_ps(y, _mm512_set1_ps(-87.3f));
    y = _mm512_min_ps(y, _mm512_set1_ps(88.3f));
    __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(y, _mm512_set1_ps(1.44269504f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), y);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, k);
}

double ys_expsum_avx512(const float *x, size_t n, float m) {
    const __m512 vm = _mm512_set1_ps(m);
    __m512 a = _mm512_setzero_ps(), b = a;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a = _mm512_add_ps(a, exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i), vm)));
        b = _mm512_add_ps(b, exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), vm)));
    }
    for (; i + 16 <= n; i += 16) a = _mm512_add_ps(a, exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i), vm)));
    if (i < n) {
        __mmask16 k = (__mmask16)((1u << (n - i)) - 1u);
        __m512 v = _mm512_maskz_loadu_ps(k, x + i);
        b = _mm512_mask_add_ps(b, k, b, exp512(_mm512_sub_ps(v, vm)));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a, b));
}
