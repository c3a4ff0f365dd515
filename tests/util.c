#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Enough to see a pattern in a sweep without drowning the log. */
#define UT_PRINTED_FAILS 10

/* Asked once: the answer cannot change within a process, and the library re-reads CPUID on
 * every call, which costs tens of microseconds in a VM and would dominate the sweeps. */
static int isa_supported(nuc_isa isa)
{
    static int known[NUC_ISA_NEON + 1] = {-1, -1, -1, -1};
    if (known[isa] < 0)
        known[isa] = nuc_isa_supported(isa) != 0;
    return known[isa];
}

int ut_isa_enter(nuc_isa isa)
{
    if (!isa_supported(isa))
        return 0;
    int rc = nuc_isa_force(isa);
    ck_assert_msg(rc == NUC_OK, "nuc_isa_force(%s) = %d although supported", nuc_isa_name(isa), rc);
    ck_assert_msg(nuc_isa_active() == isa, "nuc_isa_force(%s) did not take effect",
                  nuc_isa_name(isa));
    return 1;
}

int ut_isa_count(void)
{
    int count = 0;
    for (nuc_isa isa = NUC_ISA_SCALAR; isa <= NUC_ISA_NEON; isa = (nuc_isa)(isa + 1))
        count += isa_supported(isa);
    return count;
}

void ut_fail(ut_fails *f, const char *fmt, ...)
{
    va_list ap;
    if (f->count == 0) {
        va_start(ap, fmt);
        vsnprintf(f->first, sizeof f->first, fmt, ap);
        va_end(ap);
    }
    if (f->count < UT_PRINTED_FAILS) {
        va_start(ap, fmt);
        fputs("FAIL: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    f->count++;
}

int ut_quick(void)
{
    const char *v = getenv("NUC_TEST_QUICK");
    return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

int ut_close(double got, double want, double rel, double abs)
{
    double d = fabs(got - want);
    return d <= abs || d <= rel * fabs(want);
}

uint64_t ut_hash(uint64_t h, const void *data, size_t len)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

void *ut_malloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    ck_assert_msg(p != NULL, "out of memory (%zu bytes)", bytes);
    return p;
}

float *ut_floats(size_t n) { return ut_malloc(n * sizeof(float)); }

TCase *ut_tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, 600);
    return tc;
}

int ut_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
