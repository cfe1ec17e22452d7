# Two entry points: `make run` and `make test`. Everything else is a step of those.
PRESET ?= release
BUILD := build/$(PRESET)
ARGS ?=
E2E ?= conformance protocol chat

.PHONY: run test deps build unit e2e bench fuzz clean

run: build
	./$(BUILD)/parley serve $(ARGS)

test: build unit e2e

deps:
	@scripts/install-deps

build: deps
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET)

unit:
	ctest --preset $(PRESET) --output-on-failure

# Node's test runner, one file at a time, against the real binaries of this build.
e2e:
	cd tests/e2e && PARLEY_BUILD_DIR=$(CURDIR)/$(BUILD) node --test --test-concurrency=1 --test-reporter=spec $(E2E)

# Parley vs the Node peer under the same load (reports; never fails on a figure).
BENCH_ARGS ?=
bench: build
	cd bench/peer && npm ci --no-audit --no-fund --loglevel=error
	node bench/compare.mjs $(BENCH_ARGS)

# libFuzzer targets of fuzz/ (clang, ASan+UBSan), FUZZ_SECONDS each; fails on any crash or leak.
FUZZ_SECONDS ?= 60
fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz

clean:
	rm -rf build
