# Two entry points: `make run` and `make test`. Everything else is a step of those.
# PRESET is a CMakePresets.json preset: release (default), debug, asan (ASan+UBSan), tsan.
# Each builds into its own build/<preset>/.
PRESET ?= release
BUILD := build/$(PRESET)
ARGS ?=
E2E ?= conformance protocol chat fault cluster ops web
# The protocol files run again on one io thread and on more threads than cores: requests of
# one session that reach the server on different threads must behave as on one thread.
E2E_THREADED ?= conformance protocol
E2E_THREAD_COUNTS ?= 1 4
# The files that run again with PostgreSQL as the store (e2e-pg): every server and CLI call of
# them on a fresh database of one scratch server (tests/e2e/helpers/pg.mjs).
E2E_PG ?= chat
# The files that run again across a cluster (e2e-cluster): E2E_CLUSTER `parley serve` on one
# Redis and one PostgreSQL database behind nginx round-robin per chat context, once with
# polling-only clients and once with WebSocket-only ones (tests/e2e/helpers/chat-cluster.mjs).
# `E2E_CLUSTER=` (empty) skips it.
E2E_CLUSTER ?= 3
E2E_CLUSTER_FILES ?= chat

# Sanitizer runtime options for every process the tests start (unit tests, servers, CLI runs).
# Any report stops the process with a nonzero status and a stack trace, so the unit test fails
# (ctest) or the e2e file fails (helpers/server.mjs requires exit 0 on SIGTERM and prints the
# server's output). Ignored by the runtimes of builds that are not sanitized.
export ASAN_OPTIONS = detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1
export UBSAN_OPTIONS = halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS = halt_on_error=1:second_deadlock_stack=1
# Sanitized servers run several times slower: the e2e helpers multiply their waits (never
# their assertions) by E2E_TIME_SCALE, e.g. `make test PRESET=tsan E2E_TIME_SCALE=10`.
E2E_TIME_SCALE_asan = 3
E2E_TIME_SCALE_tsan = 5
E2E_TIME_SCALE ?= $(or $(E2E_TIME_SCALE_$(PRESET)),1)

.PHONY: run run-cluster test test-asan test-tsan deps build unit e2e e2e-pg e2e-cluster e2e-threads deb test-deb bench fuzz lint format clean

run: build
	./$(BUILD)/parley serve $(ARGS)

# Three `parley serve` on a scratch Redis and PostgreSQL behind nginx (round-robin), in
# CLUSTER_DIR; it prints the URL. `scripts/cluster stop $(CLUSTER_DIR)` ends it (docs/cluster.md).
CLUSTER_DIR ?= $(BUILD)/cluster
run-cluster: build
	PARLEY_BIN=$(CURDIR)/$(BUILD)/parley scripts/cluster start $(CLUSTER_DIR)

test: build unit e2e e2e-pg e2e-cluster e2e-threads

# The whole suite on the ASan+UBSan build, or on the TSan build.
test-asan test-tsan:
	$(MAKE) test PRESET=$(@:test-%=%)

deps:
	@scripts/install-deps

build: deps
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET)

unit:
	ctest --preset $(PRESET) --output-on-failure

# Node's test runner, one file at a time, against the real binaries of this build.
e2e:
	cd tests/e2e && PARLEY_BUILD_DIR=$(CURDIR)/$(BUILD) PARLEY_E2E_TIME_SCALE=$(E2E_TIME_SCALE) node --test --test-force-exit --test-concurrency=1 --test-reporter=spec $(E2E)

# E2E_PG on PostgreSQL: a scratch server (scripts/pg-scratch) in $(BUILD)/pg-e2e for the run,
# stopped when it ends, failed or not (one left by an interrupted run is stopped first).
# `E2E_PG=` (empty) skips it.
e2e-pg:
	@set -e; [ -n "$(strip $(E2E_PG))" ] || { echo "=== e2e: nothing on PostgreSQL (E2E_PG is empty)"; exit 0; }; \
	pg=$(CURDIR)/$(BUILD)/pg-e2e; scratch=$(CURDIR)/scripts/pg-scratch; \
	$$scratch stop $$pg; \
	trap '"$$scratch" stop "$$pg"' EXIT; \
	uri=$$($$scratch start $$pg); \
	echo "=== e2e: $(E2E_PG) on PostgreSQL ($$uri)"; \
	cd tests/e2e && PARLEY_E2E_PG_DIR=$$pg PARLEY_BUILD_DIR=$(CURDIR)/$(BUILD) PARLEY_E2E_TIME_SCALE=$(E2E_TIME_SCALE) \
	  node --test --test-force-exit --test-concurrency=1 --test-reporter=spec $(E2E_PG)

# E2E_CLUSTER_FILES across clusters of E2E_CLUSTER nodes, on a scratch PostgreSQL in
# $(BUILD)/pg-cluster for the run (as e2e-pg), with polling-only then WebSocket-only clients.
# Each pass prints its wall time.
e2e-cluster:
	@set -e; [ -n "$(strip $(E2E_CLUSTER))" ] || { echo "=== e2e: no cluster passes (E2E_CLUSTER is empty)"; exit 0; }; \
	pg=$(CURDIR)/$(BUILD)/pg-cluster; scratch=$(CURDIR)/scripts/pg-scratch; \
	$$scratch stop $$pg; \
	trap '"$$scratch" stop "$$pg"' EXIT; \
	uri=$$($$scratch start $$pg); \
	for transport in polling websocket; do \
	  echo "=== e2e: $(E2E_CLUSTER_FILES) across $(E2E_CLUSTER) nodes behind nginx, $$transport clients ($$uri)"; \
	  start=$$(date +%s); \
	  (cd tests/e2e && PARLEY_E2E_CLUSTER=$(E2E_CLUSTER) PARLEY_E2E_TRANSPORT=$$transport PARLEY_E2E_PG_DIR=$$pg \
	    PARLEY_BUILD_DIR=$(CURDIR)/$(BUILD) PARLEY_E2E_TIME_SCALE=$(E2E_TIME_SCALE) \
	    node --test --test-force-exit --test-concurrency=1 --test-reporter=spec $(E2E_CLUSTER_FILES)); \
	  echo "=== e2e: the $$transport pass across $(E2E_CLUSTER) nodes took $$(( $$(date +%s) - start )) s"; \
	done

e2e-threads:
	@set -e; for t in $(E2E_THREAD_COUNTS); do \
	  echo "=== e2e: $(E2E_THREADED) with --threads $$t"; \
	  cd $(CURDIR)/tests/e2e && PARLEY_E2E_THREADS=$$t PARLEY_BUILD_DIR=$(CURDIR)/$(BUILD) PARLEY_E2E_TIME_SCALE=$(E2E_TIME_SCALE) \
	    node --test --test-force-exit --test-concurrency=1 --test-reporter=spec $(E2E_THREADED); \
	done

# The Debian package of this build, $(BUILD)/parley_<version>_amd64.deb (CPack, cmake/Packaging.cmake;
# docs/packaging.md): parley, the web client with the socket.io-client bundle that deps copies
# into web/vendor/, the systemd unit and /etc/parley/parley.toml. Meant for the release preset.
deb: build
	@test -f web/vendor/socket.io.min.js || { echo "deb: no web/vendor/socket.io.min.js (scripts/install-deps copies it)"; exit 1; }
	cmake --build --preset $(PRESET) --target package

# Installs that package on this machine, runs the server as its unit says (also where systemd
# is not PID 1), chats with it through socket.io-client, stops it and purges the package
# (tests/package/install-test.sh). It changes the machine's packages and users, so it needs root,
# which is checked before the build.
test-deb:
	@[ "$$(id -u)" -eq 0 ] || { echo "test-deb: needs root (it installs and purges the parley package): sudo make test-deb"; exit 1; }
	$(MAKE) deb
	tests/package/install-test.sh $(BUILD)

# Parley vs the Node peer under the same load (reports; never fails on a figure).
# BENCH_ARGS="--store postgres": both on a throwaway PostgreSQL 15 (docs/bench-postgres.md).
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

# The checks CI holds every change to: clang-format, clang-tidy (.clang-tidy, on this preset's
# compile_commands.json) and the house measures (scripts/lint). `make format` applies the format.
lint: build
	scripts/lint $(BUILD)

format:
	git ls-files '*.cpp' '*.hpp' '*.ipp' '*.h' | xargs clang-format-14 -i

clean:
	rm -rf build
