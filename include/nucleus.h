/* nucleus: exact top-k / top-p / min-p sampling of one row of float32 logits, fast, on the CPU.
 * The contract (semantics, rounding margins, determinism, RNG) is described in README.md. */
#ifndef NUCLEUS_H
#define NUCLEUS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NUC_VERSION_MAJOR 0
#define NUC_VERSION_MINOR 1
#define NUC_VERSION_PATCH 0
#define NUC_VERSION_STRING "0.1.0"
/* One number that orders releases: major * 10000 + minor * 100 + patch. */
#define NUC_VERSION (NUC_VERSION_MAJOR * 10000 + NUC_VERSION_MINOR * 100 + NUC_VERSION_PATCH)

#if defined(NUC_STATIC)
#define NUC_API
#elif defined(_WIN32)
#ifdef NUC_BUILDING
#define NUC_API __declspec(dllexport)
#else
#define NUC_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define NUC_API __attribute__((visibility("default")))
#else
#define NUC_API
#endif

/* Errors: 0 is success, every failure is negative, and a failing call writes nothing. */
enum {
    NUC_OK = 0,
    NUC_EINVAL = -1,      /* NULL pointer, bad length, bad parameter, u outside [0,1) */
    NUC_ENONFINITE = -2,  /* a logit is NaN or +inf */
    NUC_EMASKED = -3,     /* every logit is -inf: nothing can be sampled */
    NUC_ENOMEM = -4,      /* allocation failed (only the batch call allocates) */
    NUC_EUNSUPPORTED = -5 /* the requested kernel set is not built in or not supported here */
};

NUC_API const char *nuc_strerror(int code);
NUC_API const char *nuc_version(void); /* NUC_VERSION_STRING of the linked library */

typedef struct nuc_params {
    float temperature; /* <= 0: greedy (first maximum); NaN or +inf: NUC_EINVAL */
    int32_t top_k;     /* 0 (or >= the number of unmasked tokens): off */
    float top_p;       /* in [0,1]; 1: off; 0: keep exactly one token */
    float min_p;       /* in [0,1]; 0: off */
} nuc_params;

/* temperature 1, top_k 0, top_p 1, min_p 0: plain softmax sampling. */
NUC_API nuc_params nuc_params_default(void);

/* A sampler owns the aligned scratch for rows of up to max_vocab logits; use one per thread.
 * Longer rows get NUC_EINVAL. Nothing is allocated by nuc_sample, nuc_sample_u or nuc_probs. */
typedef struct nuc_sampler nuc_sampler;
NUC_API nuc_sampler *nuc_sampler_new(size_t max_vocab); /* NULL on failure or max_vocab == 0 */
NUC_API void nuc_sampler_free(nuc_sampler *s);
NUC_API size_t nuc_sampler_capacity(const nuc_sampler *s);

/* One token from logits[0..n-1], with the uniform nuc_uniform(seed, stream, step). */
NUC_API int nuc_sample(nuc_sampler *s, const float *logits, size_t n, const nuc_params *p,
                       uint64_t seed, uint64_t stream, uint64_t step, int32_t *token);
/* The same with the caller's own uniform u in [0,1). */
NUC_API int nuc_sample_u(nuc_sampler *s, const float *logits, size_t n, const nuc_params *p,
                         double u, int32_t *token);
/* The filtered distribution q[0..n-1] that nuc_sample draws from (temperature <= 0: one-hot). */
NUC_API int nuc_probs(nuc_sampler *s, const float *logits, size_t n, const nuc_params *p,
                      float *q);

/* Logits as servers hold them: bf16 and fp16 are widened to float inside the passes, a few
 * thousand at a time (never a full float copy), so the answers equal converting first. */
typedef enum { NUC_DTYPE_F32, NUC_DTYPE_BF16, NUC_DTYPE_F16 } nuc_dtype;
NUC_API int nuc_sample_typed(nuc_sampler *s, const void *logits, nuc_dtype dtype, size_t n,
                             const nuc_params *p, uint64_t seed, uint64_t stream, uint64_t step,
                             int32_t *token);
NUC_API int nuc_sample_u_typed(nuc_sampler *s, const void *logits, nuc_dtype dtype, size_t n,
                               const nuc_params *p, double u, int32_t *token);
NUC_API int nuc_probs_typed(nuc_sampler *s, const void *logits, nuc_dtype dtype, size_t n,
                            const nuc_params *p, float *q);

/* Log-probabilities as serving APIs return them: log pi of the sampled token and of the n_top
 * most likely tokens in rank order (n_top <= NUC_MAX_TOP_LOGPROBS), where pi is the softmax at
 * the request's temperature before any filter (temperature <= 0: at temperature 1). The top
 * list comes from the same candidate cut as top-k; the vocabulary is never sorted. */
#define NUC_MAX_TOP_LOGPROBS 20
typedef struct nuc_logprobs {
    float token_logprob;
    int32_t n_top;
    int32_t top_ids[NUC_MAX_TOP_LOGPROBS];
    float top_logprobs[NUC_MAX_TOP_LOGPROBS];
} nuc_logprobs;
/* The token of nuc_sample_u_typed, and its log-probabilities. */
NUC_API int nuc_sample_logprobs(nuc_sampler *s, const void *logits, nuc_dtype dtype, size_t n,
                                const nuc_params *p, double u, int n_top, int32_t *token,
                                nuc_logprobs *out);

/* rows rows of n logits, row r at logits + r * row_stride (row_stride >= n). p holds n_params
 * entries: 1 (shared) or rows (one per row). streams NULL means stream = row index. threads:
 * 0 = all cores, negative = NUC_EINVAL. Row r's token equals nuc_sample on that row alone.
 * On any error no token is written; the code is that of the first failing row. */
NUC_API int nuc_sample_batch(const float *logits, size_t rows, size_t n, size_t row_stride,
                             const nuc_params *p, size_t n_params, uint64_t seed,
                             const uint64_t *streams, uint64_t step, int32_t *tokens, int threads);

/* A batch handle owns one sampler per thread for rows of up to max_vocab logits, and reuses
 * them (and its thread team) at every call. threads: 0 = all cores (the OpenMP default team
 * size, which honours OMP_NUM_THREADS), > 0 = that many but no more than the processors this
 * process may run on; a library built without OpenMP runs every row on the calling thread.
 * A call wakes only as many threads as its work is worth (about 32k logits each), so small
 * batches run on the calling thread. NULL if max_vocab is 0 or above 2^31-1, threads is
 * negative, or memory runs out. One handle serves one calling thread at a time. */
typedef struct nuc_batch nuc_batch;
NUC_API nuc_batch *nuc_batch_new(size_t max_vocab, int threads);
NUC_API void nuc_batch_free(nuc_batch *b);
NUC_API int nuc_batch_threads(const nuc_batch *b);     /* threads it runs (1 without OpenMP) */
NUC_API size_t nuc_batch_capacity(const nuc_batch *b); /* max_vocab */

/* nuc_sample_batch on the handle's threads: n <= capacity, else NUC_EINVAL. Allocates only
 * when rows exceeds every earlier call's (a staging buffer: on any error no token is written). */
NUC_API int nuc_batch_sample(nuc_batch *b, const float *logits, size_t rows, size_t n,
                             size_t row_stride, const nuc_params *p, size_t n_params,
                             uint64_t seed, const uint64_t *streams, uint64_t step,
                             int32_t *tokens);

/* The draw of one row: nuc_uniform(seed, stream, step). In a continuous batch every request has
 * its own seed, its id as the stream and its position as the step. */
typedef struct nuc_draw {
    uint64_t seed;
    uint64_t stream;
    uint64_t step;
} nuc_draw;
/* nuc_batch_sample with one draw per row (draws has rows entries): row r's token equals
 * nuc_sample(.., draws[r].seed, draws[r].stream, draws[r].step, ..) on that row alone. */
NUC_API int nuc_batch_sample_draws(nuc_batch *b, const float *logits, size_t rows, size_t n,
                                   size_t row_stride, const nuc_params *p, size_t n_params,
                                   const nuc_draw *draws, int32_t *tokens);

/* The stages, for engines that compose their own chain. Same validation as nuc_sample. */
NUC_API int nuc_argmax(const float *x, size_t n, int32_t *index); /* smallest index of the max */
/* probs = softmax(x / temperature), summing to 1; temperature <= 0: one-hot of the first max. */
NUC_API int nuc_softmax(const float *x, size_t n, float temperature, float *probs);

/* Kernel sets. The best one this CPU and OS support is chosen at first use; NUCLEUS_ISA in the
 * environment (scalar|avx2|avx512|neon) or nuc_isa_force picks another. Every set returns the
 * same bits. */
typedef enum { NUC_ISA_SCALAR, NUC_ISA_AVX2, NUC_ISA_AVX512, NUC_ISA_NEON } nuc_isa;
NUC_API nuc_isa nuc_isa_active(void);
NUC_API const char *nuc_isa_name(nuc_isa isa); /* "scalar", "avx2", "avx512", "neon" */
NUC_API int nuc_isa_supported(nuc_isa isa);    /* 1 if built in and runnable here, else 0 */
NUC_API int nuc_isa_force(nuc_isa isa);        /* NUC_EUNSUPPORTED if not supported here */

/* Counter-based RNG: Philox4x32-10 (Salmon et al., SC'11). */
NUC_API void nuc_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
/* A double in [0,1) with 53 random bits; a pure function of (seed, stream, step). */
NUC_API double nuc_uniform(uint64_t seed, uint64_t stream, uint64_t step);

#ifdef __cplusplus
}
#endif
#endif /* NUCLEUS_H */
