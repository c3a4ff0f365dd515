/* A small C face for Google Benchmark (the C++ library), so the benchmark bodies are plain C.
 * bench/shim.cc is the only C++ file; it implements these functions over benchmark::State.
 *
 *   static void body(nb_state *st, void *arg) {
 *       ... set up, untimed ...
 *       while (nb_keep_running(st)) { ... timed work ...; nb_do_not_optimize(&result); }
 *       nb_set_counter(st, "n", (double)n, NB_COUNTER_DEFAULT);
 *   }
 *   nb_register("group/name/1024", body, arg);
 *   return nb_run_main(argc, argv);
 *
 * Nothing here judges speed: a benchmark never passes or fails on time. */
#ifndef NUC_BENCH_SHIM_H
#define NUC_BENCH_SHIM_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nb_state nb_state; /* a benchmark::State, opaque */
typedef void (*nb_fn)(nb_state *st, void *arg);

/* Counter flags, mirroring benchmark::Counter::Flags. */
enum {
    NB_COUNTER_DEFAULT = 0,
    NB_COUNTER_RATE = 1,                 /* divided by the elapsed time */
    NB_COUNTER_ITER_INVARIANT = 4,       /* multiplied by the iteration count */
    NB_COUNTER_ITER_INVARIANT_RATE = 5,  /* value * iterations / time: "per second" */
    NB_COUNTER_AVG_ITERATIONS = 8        /* divided by the iteration count */
};

/* Registers a benchmark; the name is copied, arg is passed to fn untouched (it must outlive the
 * run). Times are reported in microseconds. */
void nb_register(const char *name, nb_fn fn, void *arg);

/* The timed loop: true while another iteration should run. The timer starts at the first call. */
int nb_keep_running(nb_state *st);
int64_t nb_iterations(const nb_state *st);
void nb_pause_timing(nb_state *st);
void nb_resume_timing(nb_state *st);

/* A user counter: it appears in the console table and in the JSON as a field of the run. */
void nb_set_counter(nb_state *st, const char *name, double value, int flags);
void nb_set_label(nb_state *st, const char *label);

/* Reports the benchmark as skipped with a message (Google Benchmark 1.7 calls this an error);
 * the body must then return without entering (or after leaving) the keep-running loop. */
void nb_skip(nb_state *st, const char *msg);

/* Parses the --benchmark_* flags, runs the registered (and filtered) benchmarks, returns the
 * process exit status. Unknown flags are reported and give status 1. */
int nb_run_main(int argc, char **argv);

/* Keeps the compiler from discarding a value computed in the timed loop. */
#if defined(__GNUC__) || defined(__clang__)
#define nb_do_not_optimize(p) __asm__ __volatile__("" : : "g"(p) : "memory")
#define nb_clobber_memory() __asm__ __volatile__("" : : : "memory")
#else
void nb_do_not_optimize_impl(const void *p);
#define nb_do_not_optimize(p) nb_do_not_optimize_impl((const void *)(p))
#define nb_clobber_memory() ((void)0)
#endif

#ifdef __cplusplus
}
#endif
#endif
