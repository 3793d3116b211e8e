# Thin wrapper over CMake: every target below is one or two commands you could type yourself.
BUILD ?= build
JOBS ?= 2
SAMPLE ?= data/fmnist_cnn.h5
GQ = $(BUILD)/apps/gradquant
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEBS = cmake g++ make pkg-config libarmadillo-dev libopenblas-dev libhdf5-dev libcxxopts-dev catch2 \
       zlib1g-dev python3-h5py python3-numpy python3-matplotlib \
       clang-14 libclang-rt-14-dev libomp-14-dev clang-format-14 valgrind \
       pybind11-dev python3-dev python3-torch dataset-fashion-mnist
# Sanitizer, fuzzing and valgrind runs (fuzz/README.md); sanitize and fuzz share one build folder.
SAN_BUILD ?= build-asan
SAN_CTEST_ARGS ?=
FUZZ_TIME ?= 60
# fuzz_dump (whole files) runs on demand only: libhdf5 fails on mutated files itself (fuzz/README.md).
FUZZ_TARGETS = decode codes
# Any sanitizer report fails the run, with a distinct exit code so a test that expects the
# binary to fail (exit 1, 2, 3) cannot mistake a sanitizer's exit for its own.
SAN_ENV = ASAN_OPTIONS=exitcode=86:detect_leaks=1:strict_string_checks=1 \
          UBSAN_OPTIONS=halt_on_error=1:exitcode=86:print_stacktrace=1 \
          LSAN_OPTIONS=suppressions=$(CURDIR)/.ci/lsan.supp
VALGRIND = valgrind -q --trace-children=yes --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
           --errors-for-leak-kinds=definite

.PHONY: all deps build test test-fast demo docs clean format format-check sanitize fuzz valgrind

all: build

# Installs the Debian packages the build, the tests and the plotting scripts need (idempotent).
deps:
	@missing=$$(for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
	    -o DPkg::Lock::Timeout=600 $$missing; \
	fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)

# All tests, fast and slow (Monte Carlo), through ctest.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L fast

# Builds only the binary it runs (not the test suite), so a fresh clone shows results in minutes.
demo: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS) --target gradquant
	$(GQ) info $(SAMPLE)
	$(GQ) compress $(SAMPLE) -q dqsg:s=3 -o $(BUILD)/demo_dqsg.h5 --format table
	$(GQ) compress $(SAMPLE) -q qsgd:s=4 -o $(BUILD)/demo_qsgd.h5 --format table
	$(GQ) analyze $(SAMPLE) -q dqsg:s=3 -q qsgd:s=4 -q qsgd:s=7,bucket=512 --by all --format table

# Reruns every command marked <!-- gen: ... --> or <!-- gen-image: ... --> in README.md and
# docs/*.md and writes their tables and pictures anew (scripts/regenerate_docs.py).
docs: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS) --target gradquant
	/usr/bin/python3 scripts/regenerate_docs.py

# One clang-14 tree (build-asan/) instrumented with AddressSanitizer and UBSan serves both
# targets below: `make sanitize` runs the whole ctest suite in it (the test code at -O0, the
# library at -O1), `make fuzz` the libFuzzer binaries built alongside, so `make sanitize fuzz`
# compiles the code once.
SAN_CONFIGURE = cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DGRADQUANT_SANITIZE=ON -DGRADQUANT_FUZZ=ON \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1" $(CMAKE_ARGS)

sanitize: deps
	$(SAN_CONFIGURE)
	cmake --build $(SAN_BUILD) -j $(JOBS)
	cd $(SAN_BUILD) && $(SAN_ENV) ctest --output-on-failure -j $(JOBS) $(SAN_CTEST_ARGS)

# libFuzzer (clang-14, ASan + UBSan): every target for FUZZ_TIME seconds, side by side, from a seed
# corpus of real messages; a crashing input lands in fuzz/regressions/<target>/, which ctest
# replays from then on.
fuzz: deps
	$(SAN_CONFIGURE)
	cmake --build $(SAN_BUILD) -j $(JOBS) --target fuzz_seed_corpus $(FUZZ_TARGETS:%=fuzz_%)
	$(SAN_BUILD)/fuzz/fuzz_seed_corpus $(SAN_BUILD)/corpus
	@for t in $(FUZZ_TARGETS); do \
	  ( $(SAN_BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
	      -print_final_stats=1 -artifact_prefix=fuzz/regressions/$$t/ \
	      $(SAN_BUILD)/corpus/$$t fuzz/regressions/$$t 2>$(SAN_BUILD)/fuzz_$$t.log; \
	    echo $$? >$(SAN_BUILD)/fuzz_$$t.rc ) & \
	done; wait; \
	status=0; for t in $(FUZZ_TARGETS); do \
	  echo "fuzz_$$t ($(FUZZ_TIME) s):"; \
	  if [ "$$(cat $(SAN_BUILD)/fuzz_$$t.rc)" = 0 ]; then \
	    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss)' $(SAN_BUILD)/fuzz_$$t.log; \
	  else \
	    status=1; tail -n 60 $(SAN_BUILD)/fuzz_$$t.log; \
	    echo "fuzz_$$t failed: the input is in fuzz/regressions/$$t/ (commit it with the fix)"; \
	  fi; \
	done; \
	exit $$status

# The CLI tests tagged [valgrind] with every gradquant run under valgrind (memcheck, definite
# leaks), in two halves side by side: valgrind's start-up dominates and each run is serial.
valgrind: build
	@export GRADQUANT_TEST_WRAPPER="$(VALGRIND)"; \
	$(BUILD)/tests/gradquant_tests "[valgrind][hostile]" > $(BUILD)/valgrind_a.log 2>&1 & a=$$!; \
	$(BUILD)/tests/gradquant_tests "[valgrind]~[hostile]" > $(BUILD)/valgrind_b.log 2>&1; b=$$?; \
	wait $$a; a=$$?; cat $(BUILD)/valgrind_a.log $(BUILD)/valgrind_b.log; \
	[ $$a -eq 0 ] && [ $$b -eq 0 ]

format: deps
	clang-format-14 -i $$(git ls-files '*.cpp' '*.hpp')

# Fails (and names each file and line) when a tracked C++ file is not clang-format clean.
format-check: deps
	clang-format-14 --dry-run -Werror $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
