# Two commands do everything (each installs what is missing, configures and builds):
#   make bench   the headline benchmark (release build, build-release/)
#   make test    the whole test suite (build/, every kernel set this CPU runs, NEON via SIMDe,
#                the aarch64 build under qemu)
MESON_TEST_OPTS ?= --print-errorlogs --num-processes 2

.PHONY: all deps build test bench bench-full clean

all: build

deps:
	@bash .ci/deps.sh base

build: deps
	@[ -f build/build.ninja ] || meson setup build -Dneon_simde=true
	ninja -C build

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

clean:
	rm -rf build build-release build-aarch64 bench-results
