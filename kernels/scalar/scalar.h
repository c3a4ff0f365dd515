/* The reference kernels (kernels.h documents what each computes). */
#ifndef NUC_SCALAR_H
#define NUC_SCALAR_H
#include "kernels.h"
int nuc_max_scalar(const float *x, size_t n, float *max);
size_t nuc_find_nth_scalar(const float *x, size_t n, float v, size_t j);
double nuc_exp_sum_scalar(const float *x, size_t n, float m, float inv_t, float *w, float *bsum,
                          float lo, size_t cap, uint32_t *cand, size_t *ncand);
double nuc_kept_sum_scalar(const float *w, size_t n, float thr, size_t tie_end, float *bsum,
                           size_t *count);
void nuc_scale_kept_scalar(const float *w, size_t n, float thr, size_t tie_end, float scale,
                           float *q);
double nuc_bracket_scalar(const float *w, size_t n, float lo, float hi, float *bsum,
                          uint32_t *idx, float *vals, size_t *count);
void nuc_bf16_to_f32_scalar(const uint16_t *src, size_t n, float *dst);
void nuc_f16_to_f32_scalar(const uint16_t *src, size_t n, float *dst);
#endif
