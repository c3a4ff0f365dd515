/* <arm_neon.h> on aarch64; elsewhere SIMDe's translation of the same intrinsics, so the NEON
 * kernels build and are tested bit for bit on x86 (never chosen there by default).
 *
 * The translation must stay exact: no SIMDE_FAST_* trade-off may be on (they relax NaN,
 * rounding and conversion semantics), and vfmaq_f32 must be a fused multiply-add. SIMDe emits
 * _mm_fmadd_ps only when the compiler targets FMA; without it SIMDe silently falls back to a
 * multiply and an add, which rounds twice and breaks the determinism promise, so that is an
 * error here rather than a quiet difference in the last bit. */
#ifndef NUC_NEON_INTRIN_H
#define NUC_NEON_INTRIN_H

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define NUC_NEON_NATIVE 1
#else
#if defined(__FAST_MATH__) || defined(SIMDE_FAST_MATH) || defined(SIMDE_FAST_NANS) ||          \
    defined(SIMDE_FAST_ROUND_MODE) || defined(SIMDE_FAST_ROUND_TIES) ||                         \
    defined(SIMDE_FAST_CONVERSION_RANGE) || defined(SIMDE_FAST_EXCEPTIONS)
#error "the SIMDe NEON kernels must be built without fast-math and without SIMDE_FAST_*"
#endif
#define SIMDE_NO_FAST_MATH
#define SIMDE_NO_FAST_NANS
#define SIMDE_NO_FAST_ROUND_MODE
#define SIMDE_NO_FAST_ROUND_TIES
#define SIMDE_NO_FAST_CONVERSION_RANGE
#define SIMDE_NO_FAST_EXCEPTIONS
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/arm/neon.h>
#if !defined(SIMDE_X86_FMA_NATIVE)
#error "SIMDe's vfmaq_f32 is fused only with FMA: build the SIMDe NEON kernels with -mfma"
#endif
#define NUC_NEON_NATIVE 0
#endif

#endif
