# Two commands do everything (each installs what is missing, configures and builds):
#   make bench   the headline benchmark (release build in build-release/)
#   make test    the whole test suite (tests/run-all.sh: every kernel set this CPU runs, NEON
#                through SIMDe and under qemu, sanitizers, valgrind, a short fuzz run)
.PHONY: all deps build test bench bench-full fuzz clean

all: build

deps:
	@bash .ci/deps.sh base

build: deps
	@[ -f build/build.ninja ] || meson setup build -Dneon_simde=true
	ninja -C build -j2

test: build
	@bash tests/run-all.sh

build-release/build.ninja:
	bash .ci/deps.sh bench
	meson setup build-release -Dbuildtype=release -Dtests=false

bench: build-release/build.ninja
	ninja -C build-release
	bash bench/run.sh quick build-release

bench-full: build-release/build.ninja
	ninja -C build-release
	bash bench/run.sh full build-release

# Longer fuzzing campaigns: make fuzz FUZZ_SECONDS=3600
FUZZ_SECONDS ?= 600
fuzz:
	bash tests/fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -rf build build-release build-aarch64 build-asan build-valgrind build-tsan build-fuzz \
	       bench-results
