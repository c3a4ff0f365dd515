/* The AVX2 + FMA yardsticks (see yardstick.h); built with -mavx2 -mfma. */
#include "yardstick.h"

#include <immintrin.h>
#include <math.h>

float ys_max_avx2(const float *x, size_t n) {
    __m256 a = _mm256_set1_ps(-INFINITY), b = a, c = a, d = a;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a = _mm256_max_ps(a, _mm256_loadu_ps(x + i));
        b = _mm256_max_ps(b, _mm256_loadu_ps(x + i + 8));
        c = _mm256_max_ps(c, _mm256_loadu_ps(x + i + 16));
        d = _mm256_max_ps(d, _mm256_loadu_ps(x + i + 24));
    }
    for (; i + 8 <= n; i += 8) a = _mm256_max_ps(a, _mm256_loadu_ps(x + i));
    a = _mm256_max_ps(_mm256_max_ps(a, b), _mm256_max_ps(c, d));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    float m = _mm_cvtss_f32(h);
    for (; i < n; i++)
        if (x[i] > m) m = x[i];
    return m;
}

/* exp(y) for y in the float range: 2^k * p(r), r = y - k ln2, degree-5 polynomial. */
static inline __m256 exp256(__m256 y) {
    y = _mm256_max_ps(y, _mm256_set1_ps(-87.3f));
    y = _mm256_min_ps(y, _mm256_set1_ps(88.3f));
    __m256 k = _mm256_round_ps(_mm256_mul_ps(y, _mm256_set1_ps(1.44269504f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), y);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

double ys_expsum_avx2(const float *x, size_t n, float m) {
    const __m256 vm = _mm256_set1_ps(m);
    __m256 a = _mm256_setzero_ps(), b = a;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a = _mm256_add_ps(a, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm)));
        b = _mm256_add_ps(b, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vm)));
    }
    for (; i + 8 <= n; i += 8) a = _mm256_add_ps(a, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm)));
    if (i < n) {
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)), lane);
        __m256 v = _mm256_maskload_ps(x + i, mask);
        b = _mm256_add_ps(b, _mm256_and_ps(exp256(_mm256_sub_ps(v, vm)), _mm256_castsi256_ps(mask)));
    }
    a = _mm256_add_ps(a, b);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
}
