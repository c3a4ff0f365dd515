/* Kernel selection: what the CPU has, what the OS saves, what was built in, what the user asked
 * for. The table is chosen once (pthread_once) and published atomically; nothing else here is
 * mutable. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "nucleus.h"
#include "kernels.h"
#include "scalar/scalar.h"
#ifdef NUC_HAVE_X86
#include "x86/x86.h"
#endif
#ifdef NUC_HAVE_NEON
#include "arm/neon.h"
#endif

/* The tables: one per kernel set, in the order of kernels.h. */
static const nuc_kernels nuc_kernels_scalar = {
    nuc_max_scalar, nuc_find_nth_scalar, nuc_exp_sum_scalar, nuc_kept_sum_scalar,
    nuc_scale_kept_scalar, nuc_bracket_scalar,
    nuc_bf16_to_f32_scalar, nuc_f16_to_f32_scalar,
};
#ifdef NUC_HAVE_X86
static const nuc_kernels nuc_kernels_avx2 = {
    nuc_max_avx2, nuc_find_nth_avx2, nuc_exp_sum_avx2, nuc_kept_sum_avx2,
    nuc_scale_kept_avx2, nuc_bracket_avx2,
    nuc_bf16_to_f32_avx2, nuc_f16_to_f32_avx2,
};
static const nuc_kernels nuc_kernels_avx512 = {
    nuc_max_avx512, nuc_find_nth_avx512, nuc_exp_sum_avx512, nuc_kept_sum_avx512,
    nuc_scale_kept_avx512, nuc_bracket_avx512,
    nuc_bf16_to_f32_avx512, nuc_f16_to_f32_avx512,
};
#endif
#ifdef NUC_HAVE_NEON
static const nuc_kernels nuc_kernels_neon = {
    nuc_max_neon, nuc_find_nth_neon, nuc_exp_sum_neon, nuc_kept_sum_neon,
    nuc_scale_kept_neon, nuc_bracket_neon,
    nuc_bf16_to_f32_neon, nuc_f16_to_f32_neon,
};
#endif

#if defined(NUC_HAVE_X86) || (defined(NUC_HAVE_NEON) && !defined(__aarch64__))
#include <cpuid.h>

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* CPUID says the units exist; XCR0 says the OS saves their registers on a context switch.
 * Without the second check a kernel can fault on a server whose OS disabled AVX-512. */
static int x86_probe(nuc_isa isa)
{
    uint32_t a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    const int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx)
        return 0;
    const uint64_t xcr0 = xgetbv0();
    const int ymm_state = (xcr0 & 0x6) == 0x6;    /* SSE + AVX state */
    const int zmm_state = (xcr0 & 0xe6) == 0xe6; /* + opmask, ZMM_Hi256, Hi16_ZMM */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    const int avx2 = (b >> 5) & 1;
    const int avx512 = ((b >> 16) & 1) /* F */ && ((b >> 17) & 1) /* DQ */ &&
                       ((b >> 30) & 1) /* BW */ && ((b >> 31) & 1) /* VL */;
    switch (isa) {
    case NUC_ISA_AVX2: return ymm_state && avx2 && fma;
    case NUC_ISA_AVX512: return zmm_state && avx2 && fma && avx512;
    default: return 0;
    }
}

/* Asked once: CPUID and XGETBV trap to the hypervisor on some VMs (~50 us a call there). */
static int x86_levels[2];
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static void probe(void)
{
    x86_levels[0] = x86_probe(NUC_ISA_AVX2);
    x86_levels[1] = x86_probe(NUC_ISA_AVX512);
}

static int x86_supports(nuc_isa isa)
{
    pthread_once(&probe_once, probe);
    return x86_levels[isa == NUC_ISA_AVX512];
}
#endif

/* NULL when the set is not built in or this machine cannot run it. */
const nuc_kernels *nuc_kernels_for(int isa)
{
    switch (isa) {
    case NUC_ISA_SCALAR: return &nuc_kernels_scalar;
#ifdef NUC_HAVE_X86
    case NUC_ISA_AVX2: return x86_supports(NUC_ISA_AVX2) ? &nuc_kernels_avx2 : NULL;
    case NUC_ISA_AVX512: return x86_supports(NUC_ISA_AVX512) ? &nuc_kernels_avx512 : NULL;
#endif
#ifdef NUC_HAVE_NEON
#ifdef __aarch64__
    case NUC_ISA_NEON: return &nuc_kernels_neon; /* Advanced SIMD is baseline on aarch64 */
#else
    /* The SIMDe translation of the same code, built with AVX2 and FMA for a true fused
     * multiply-add: runnable where those are. */
    case NUC_ISA_NEON: return x86_supports(NUC_ISA_AVX2) ? &nuc_kernels_neon : NULL;
#endif
#endif
    default: return NULL;
    }
}

static _Atomic(const nuc_kernels *) active_table;
static _Atomic int active_isa;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void publish(nuc_isa isa, const nuc_kernels *k)
{
    atomic_store(&active_isa, (int)isa);
    atomic_store(&active_table, k);
}

static void choose(void)
{
    /* Scalar first, then upgrade: the best set wins unless NUCLEUS_ISA names a runnable one. */
    publish(NUC_ISA_SCALAR, &nuc_kernels_scalar);
    static const nuc_isa order[] = {NUC_ISA_NEON, NUC_ISA_AVX2, NUC_ISA_AVX512};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
#ifndef __aarch64__
        if (order[i] == NUC_ISA_NEON)
            continue; /* the SIMDe build of NEON is for tests, never the default on x86 */
#endif
        const nuc_kernels *k = nuc_kernels_for(order[i]);
        if (k)
            publish(order[i], k);
    }
    const char *want = getenv("NUCLEUS_ISA");
    if (want && *want) {
        for (int isa = NUC_ISA_SCALAR; isa <= NUC_ISA_NEON; isa++) {
            const nuc_kernels *k = nuc_kernels_for(isa);
            if (k && strcmp(want, nuc_isa_name((nuc_isa)isa)) == 0)
                publish((nuc_isa)isa, k);
        }
    }
}

const nuc_kernels *nuc_active_kernels(void)
{
    pthread_once(&init_once, choose);
    return atomic_load(&active_table);
}

nuc_isa nuc_isa_active(void)
{
    pthread_once(&init_once, choose);
    return (nuc_isa)atomic_load(&active_isa);
}

const char *nuc_isa_name(nuc_isa isa)
{
    switch (isa) {
    case NUC_ISA_SCALAR: return "scalar";
    case NUC_ISA_AVX2: return "avx2";
    case NUC_ISA_AVX512: return "avx512";
    case NUC_ISA_NEON: return "neon";
    }
    return "unknown";
}

int nuc_isa_supported(nuc_isa isa)
{
    return nuc_kernels_for((int)isa) != NULL;
}

int nuc_isa_force(nuc_isa isa)
{
    const nuc_kernels *k = nuc_kernels_for((int)isa);
    if (!k)
        return NUC_EUNSUPPORTED;
    pthread_once(&init_once, choose);
    publish(isa, k);
    return NUC_OK;
}
