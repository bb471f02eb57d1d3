# stackd - GitOps controller for Docker Swarm.
#
#   make            build build/stackd
#   make test       install missing packages, build, unit + end-to-end tests
#   make asan       the same suite under ASan + UBSan (build/asan)
#   make run        build and run stackd against a reachable or throwaway engine
#   make fuzz       libFuzzer targets under ASan + UBSan, FUZZ_TIME s each
#   make interp-fuzz  interpolation against docker stack config, N values
#   make conformance-fuzz  N generated stack files against docker stack deploy
#   make merge-fuzz  N generated file pairs against docker stack config
#   make valgrind   the end-to-end suite with stackd under valgrind
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
BUILD   ?= build
CC      ?= cc
CFLAGS  ?= -O2 -g

PKGS      := libgit2 yaml-0.1 libcjson libcurl openssl libmicrohttpd libseccomp
TEST_PKGS := cmocka zlib
# Debian packages: build and test dependencies, the engine, an sshd and a
# headless browser for the tests (their services are not started on
# install: the tests run their own, on loopback addresses).
DEBS := gcc make pkg-config libgit2-dev libyaml-dev libcjson-dev \
	libcurl4-openssl-dev libssl-dev libmicrohttpd-dev libseccomp-dev \
	libcmocka-dev zlib1g-dev \
	docker.io busybox-static openssl iproute2 ca-certificates python3 \
	git openssh-client openssh-server chromium python3-yaml \
	docker-registry apache2-utils age python3-cryptography prometheus \
	gdb

COMMIT := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
WARN   := -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Werror \
	-Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
	-Wcast-qual -Wpointer-arith
SAN    ?=

# Recursive (=) on purpose: pkg-config runs when a recipe needs the flags,
# after `deps` has had the chance to install the packages.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(TEST_PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lm -pthread
TEST_LIBS  = $(shell pkg-config --libs $(TEST_PKGS))
ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE $(WARN) -Iinclude -Iengine -Icompose -Icontroller -Isops -Istatus \
	$(PKG_CFLAGS) $(CFLAGS) $(SAN) -DSTACKD_COMMIT='"$(COMMIT)"' -DSRCDIR='"$(CURDIR)"'
LDFLAGS_ALL = $(SAN) $(LDFLAGS)

# Library code, in data-flow order; controller/ holds the commands, the
# configuration and the reconcile pass, daemon/ the `stackd run` process,
# status/ its read side (all but main.c in the library too, for the tests).
LIB_SRCS  := $(wildcard util/*.c sources/*.c sops/*.c compose/*.c images/*.c reconciler/*.c health/*.c engine/*.c sandbox/*.c) \
	$(filter-out controller/main.c,$(wildcard controller/*.c)) \
	$(wildcard daemon/*.c status/*.c)
CLI_SRCS  := controller/main.c
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
E2E_SRCS  := $(wildcard tests/e2e/test_*.c)
HELPER_SRCS := $(wildcard tests/unit/helper_*.c)

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
HELPER_OBJS := $(HELPER_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
E2E_BINS  := $(E2E_SRCS:tests/e2e/%.c=$(BUILD)/tests/e2e/%)

.PHONY: all check test asan run install clean deps bench fuzz fuzz-bins valgrind tsan \
	interp-fuzz conformance-fuzz merge-fuzz
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/stackd

$(BUILD)/%.o: %.c $(wildcard include/*.h */*_int.h tests/unit/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Tests, benchmarks and fuzz targets fill configs with string literals:
# casting const away there is no bug to find.
$(BUILD)/tests/%.o $(BUILD)/bench/%.o $(BUILD)/fuzz/%.o: ALL_CFLAGS += -Wno-cast-qual

$(BUILD)/libstackd.a: $(LIB_OBJS)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(BUILD)/stackd: $(CLI_OBJS) $(BUILD)/libstackd.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(HELPER_OBJS) $(BUILD)/libstackd.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) -lpthread

$(BUILD)/tests/e2e/%: $(BUILD)/tests/e2e/%.o $(BUILD)/libstackd.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) -lpthread

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(BUILD)/libstackd.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

# Benchmarks (not tests): load + convert the largest corpus file and a
# generated 500-service stack; the table goes to bench/RESULTS.md.
BENCH_CORPUS := tests/conformance/corpus/030__openfaas__faas__docker-compose.yml
bench: $(BUILD)/bench/bench_compose $(BUILD)/bench/bench_reconcile \
	$(BUILD)/bench/bench_sources $(BUILD)/bench/bench_images
	@bench/gen_stack.sh 500 >$(BUILD)/bench/stack-500.yml
	@mkdir -p $(BUILD)/bench/openfaas/prometheus
	@cp $(BENCH_CORPUS) $(BUILD)/bench/openfaas/
	@for f in prometheus alert.rules alertmanager; do \
	    echo "global: {}" >$(BUILD)/bench/openfaas/prometheus/$$f.yml; done
	@{ echo "# Compose loading benchmark"; echo; \
	  echo "\`make bench\` on $$(nproc) cores, $$(uname -m), $$(date -u +%Y-%m-%d);"; \
	  echo "each file is loaded, interpolated and converted for at least one second."; echo; \
	  $(BUILD)/bench/bench_compose $(BUILD)/bench/openfaas/$(notdir $(BENCH_CORPUS)) \
	    $(BUILD)/bench/stack-500.yml; echo; \
	  bench/reconcile.sh $(BUILD); echo; bench/images.sh $(BUILD); echo; \
	  bench/sources.sh $(BUILD); echo; \
	  bench/cycle.sh lists=$(BUILD)/stackd@1ms events=$(BUILD)/stackd; echo; \
	  PROGRESSING=10 bench/cycle.sh lists=$(BUILD)/stackd@1ms \
	    events=$(BUILD)/stackd; echo; \
	  bench/isolation.sh $(BUILD); echo; bench/storm.sh $(BUILD); echo; \
	  bench/scale.sh $(BUILD); echo; \
	  bench/soak.sh $(BUILD); echo; bench/failover.sh $(BUILD); } \
	  | tee bench/RESULTS.md

# Fuzzing (clang's libFuzzer): the library is rebuilt with coverage
# instrumentation under $(BUILD)/fuzz; fuzz/run.sh runs the regression
# inputs, then each target for FUZZ_TIME seconds from seeds taken from
# tests/ and examples/.  FUZZ_TARGETS= picks some.
FUZZ_TARGETS ?= yaml compose interp vars config engine events webhook status registry sops split
FUZZ_TIME    ?= 60
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/fuzz/fuzz_common.o \
    $(BUILD)/libstackd.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS_ALL) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

fuzz-bins: $(FUZZ_BINS)

fuzz: deps
	@$(MAKE) --no-print-directory deps DEBS="clang libclang-rt-dev"
	$(MAKE) BUILD=$(BUILD)/fuzz CC=clang CFLAGS="-O1 -g" \
	    SAN="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    FUZZ_TARGETS="$(FUZZ_TARGETS)" fuzz-bins
	fuzz/run.sh $(BUILD)/fuzz/fuzz $(FUZZ_TIME) $(FUZZ_TARGETS)

# Interpolation differentially fuzzed against `docker stack config`
# (offline, no engine): N random values from SEED.
N    ?= 20000
SEED ?= 1
interp-fuzz: all
	tests/conformance/interp_fuzz.py $(BUILD)/stackd $(N) $(SEED)

# Conversion differentially fuzzed against `docker stack deploy`: N
# generated stack files from SEED, each deployed both ways on an engine
# (DOCKER_HOST, or one the harness starts); about 1.5 s a file.
conformance-fuzz: all
	tests/conformance/fuzz.sh $(BUILD) $(N) $(SEED)

# Multi-file merging against `docker stack config -c a -c b` (offline):
# N generated pairs from SEED.
merge-fuzz: all
	tests/conformance/merge_fuzz.py $(BUILD)/stackd $(N) $(SEED)

# Build everything and run the whole suite (unit, then end-to-end against
# throwaway swarm engines the harness starts and stops itself).
check: all $(UNIT_BINS) $(E2E_BINS)
	tests/banned.sh
	tests/run.sh $(BUILD)

test: deps
	$(MAKE) check

asan: deps
	$(MAKE) BUILD=$(BUILD)/asan CFLAGS="-O1 -g" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    check

# The suite under ThreadSanitizer: a data race makes a stackd process exit
# 66, which the tests see (the daemon's "SIGTERM: exit 0" checks).
tsan: deps
	$(MAKE) BUILD=$(BUILD)/tsan CFLAGS="-O1 -g" \
	    SAN="-fsanitize=thread -fno-omit-frame-pointer" check

# The end-to-end suite again, every stackd process under memcheck.
valgrind: deps
	@$(MAKE) --no-print-directory deps DEBS=valgrind
	$(MAKE) all
	tests/valgrind.sh $(BUILD)

run: deps
	$(MAKE) all
	tests/harness/run.sh $(BUILD)/stackd examples

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BUILD)/stackd $(DESTDIR)$(BINDIR)/stackd
	install -d $(DESTDIR)$(MANDIR)/man5
	install -m 0644 docs/stackd.8 $(DESTDIR)$(MANDIR)/man8/stackd.8
	install -m 0644 docs/stackd.yaml.5 $(DESTDIR)$(MANDIR)/man5/stackd.yaml.5
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/bin/stackd|$(BINDIR)/stackd|' contrib/stackd.service \
	    >$(DESTDIR)$(UNITDIR)/stackd.service

clean:
	rm -rf $(BUILD)

# Install only the Debian packages that are missing (needs root).
deps:
	@missing=; for p in $(DEBS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' \
	        || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "deps: installing:$$missing"; \
	if [ "$$(id -u)" != 0 ]; then \
	    echo "deps: need root for apt-get; run: sudo apt-get install$$missing" >&2; exit 1; \
	fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	policy=; if [ ! -e /usr/sbin/policy-rc.d ]; then policy=/usr/sbin/policy-rc.d; \
	    printf '#!/bin/sh\nexit 101\n' >$$policy; chmod 755 $$policy; fi; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	rc=$$?; [ -z "$$policy" ] || rm -f $$policy; exit $$rc
