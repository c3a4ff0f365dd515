// The only C++ in bench/: the C registration API of shim.h over Google Benchmark (>= 1.7).
#include "shim.h"

#include <benchmark/benchmark.h>

#include <string>

// nb_state stays incomplete: an nb_state* is a benchmark::State* under another name.
static benchmark::State &S(nb_state *p) { return *reinterpret_cast<benchmark::State *>(p); }
static const benchmark::State &S(const nb_state *p) {
    return *reinterpret_cast<const benchmark::State *>(p);
}

extern "C" {

void nb_register(const char *name, nb_fn fn, void *arg) {
    benchmark::RegisterBenchmark(name, [fn, arg](benchmark::State &st) {
        fn(reinterpret_cast<nb_state *>(&st), arg);
    })->Unit(benchmark::kMicrosecond);
}

int nb_keep_running(nb_state *st) { return S(st).KeepRunning() ? 1 : 0; }

int64_t nb_iterations(const nb_state *st) { return static_cast<int64_t>(S(st).iterations()); }

void nb_pause_timing(nb_state *st) { S(st).PauseTiming(); }
void nb_resume_timing(nb_state *st) { S(st).ResumeTiming(); }

void nb_set_counter(nb_state *st, const char *name, double value, int flags) {
    S(st).counters[std::string(name)] =
        benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(flags));
}

void nb_set_label(nb_state *st, const char *label) { S(st).SetLabel(label); }

void nb_skip(nb_state *st, const char *msg) { S(st).SkipWithError(msg); }

void nb_do_not_optimize_impl(const void *p) { benchmark::DoNotOptimize(p); }

int nb_run_main(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

}  // extern "C"
