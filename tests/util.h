/* Small helpers shared by the Check suites: the per-ISA loop, failure collection for long
 * sweeps, tolerant comparison, hashing and suite running. */
#ifndef NUC_TESTS_UTIL_H
#define NUC_TESTS_UTIL_H
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include "nucleus.h"

#if defined(__GNUC__)
#define UT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define UT_PRINTF(f, a)
#endif

/* The statement that follows runs once per kernel set this machine supports, with that set
 * forced, so every suite checks every set (the determinism promise is per set). */
#define UT_FOR_EACH_ISA(isa)                                                                       \
    for (nuc_isa isa = NUC_ISA_SCALAR; isa <= NUC_ISA_NEON; isa = (nuc_isa)(isa + 1))              \
        if (ut_isa_enter(isa))

/* Check's ck_assert_msg reports a checkpoint to the parent process on every success (a
 * syscall); loops that test every element of a row use this instead, which calls into Check
 * only on failure. */
#define UT_CHECK(expr, ...)                                                                        \
    do {                                                                                           \
        if (!(expr))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

/* 1 if isa is supported here, after forcing it (asserted to take effect); else 0. */
int ut_isa_enter(nuc_isa isa);
/* How many kernel sets this machine supports. */
int ut_isa_count(void);

/* A long sweep keeps going after a mismatch so that one report shows the extent of a bug: the
 * first few messages go to stderr, the first is kept for the final assertion. */
typedef struct ut_fails {
    long count;
    char first[768];
} ut_fails;
void ut_fail(ut_fails *f, const char *fmt, ...) UT_PRINTF(2, 3);
#define UT_ASSERT_NO_FAILS(f)                                                                      \
    ck_assert_msg((f)->count == 0, "%ld failure(s); first: %s", (f)->count, (f)->first)

/* NUC_TEST_QUICK set (and not "0"): valgrind, sanitizers and qemu runs ask for smaller sweeps. */
int ut_quick(void);

/* |got - want| within rel * |want| or within abs. */
int ut_close(double got, double want, double rel, double abs);

/* FNV-1a, chained: feed the previous value (start from UT_HASH_INIT). */
#define UT_HASH_INIT UINT64_C(0xcbf29ce484222325)
uint64_t ut_hash(uint64_t h, const void *data, size_t len);

/* Buffers that fail the test instead of returning NULL. */
void *ut_malloc(size_t bytes);
float *ut_floats(size_t n);

/* A test case whose sweeps may take minutes on a slow machine (Check's default is 4 s). */
TCase *ut_tcase(const char *name);
/* Runs every test of s with Check's summary line; returns the process exit status. */
int ut_run(Suite *s);
#endif
