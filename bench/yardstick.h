/* Yardsticks: the plainest passes over a row, one per ISA, against which the library's stages
 * are compared. max: the largest element. expsum: sum of exp(x[i] - m) (scalar: libm expf;
 * AVX2 / AVX-512: one short Cephes-style polynomial, clamped to the float range, two
 * accumulators). They make no determinism promise and do no validation. */
#ifndef NUC_BENCH_YARDSTICK_H
#define NUC_BENCH_YARDSTICK_H
#include <stddef.h>

float ys_max_scalar(const float *x, size_t n);
double ys_expsum_scalar(const float *x, size_t n, float m);
#if defined(__x86_64__) || defined(_M_X64)
float ys_max_avx2(const float *x, size_t n);
double ys_expsum_avx2(const float *x, size_t n, float m);
float ys_max_avx512(const float *x, size_t n);
double ys_expsum_avx512(const float *x, size_t n, float m);
#endif
#endif
