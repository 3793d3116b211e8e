# Thin wrapper over CMake: every target below is one or two commands you could type yourself.
BUILD ?= build
JOBS ?= 2
SAMPLE ?= data/fmnist_cnn.h5
GQ = $(BUILD)/apps/gradquant
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEBS = cmake g++ make pkg-config libarmadillo-dev libopenblas-dev libhdf5-dev libcxxopts-dev catch2 \
       zlib1g-dev python3-h5py python3-numpy python3-matplotlib

.PHONY: all deps build test test-fast demo clean format

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

demo: build
	$(GQ) info $(SAMPLE)
	$(GQ) compress $(SAMPLE) -q dqsg:s=3 -o $(BUILD)/demo_dqsg.h5 --format table
	$(GQ) compress $(SAMPLE) -q qsgd:s=4 -o $(BUILD)/demo_qsgd.h5 --format table
	$(GQ) analyze $(SAMPLE) -q dqsg:s=3 -q qsgd:s=4 -q qsgd:s=7,bucket=512 --by all --format table

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD)
