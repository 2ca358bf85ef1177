# core: corec (compiler + linker), corerun (launcher), coreinit (guest PID 1).
# `make demo` sets up a fresh Debian machine and boots the example; `make check` runs every test.

BUILD    ?= build
CC       ?= cc
MUSL_CC  ?= musl-gcc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Werror
INCLUDES := -iquote lib -iquote compiler -iquote linker -iquote runtime
ifeq ($(SAN),1)
  BUILD    := build-san
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) $(INCLUDES) -MMD -MP
LDFLAGS  += $(SANFLAGS)

# liblzma directly: a kernel package's data.tar.xz is decoded on several threads (linker/deb_xz.c).
COREC_LIBS   := -lyaml -larchive -lzstd -lcrypto -ljansson -lelf -lcurl -lgit2 -lz -llzma
# corerun reads zstd only through libarchive's filter, so it does not link libzstd itself;
# tests/e2e/15_layers.sh holds its NEEDED list to exactly these and libc.
CORERUN_LIBS := -larchive -lcrypto -ljansson

LIB_SRCS      := $(wildcard lib/*.c)
COMPILER_SRCS := $(wildcard compiler/*.c compiler/sources/*.c)
LINKER_SRCS   := $(wildcard linker/*.c)
RUNTIME_SRCS  := $(filter-out runtime/corerun.c,$(wildcard runtime/*.c))
COREC_SRCS    := $(wildcard cmd/*.c)
INIT_SRCS     := $(wildcard runtime/init/*.c)
UNIT_SRCS     := $(wildcard tests/unit/test_*.c)
CONTAINER_SRCS := $(wildcard container/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIB_OBJS      := $(call obj,$(LIB_SRCS))
COMPILER_OBJS := $(call obj,$(COMPILER_SRCS))
LINKER_OBJS   := $(call obj,$(LINKER_SRCS))
RUNTIME_OBJS  := $(call obj,$(RUNTIME_SRCS))
UNIT_BINS     := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
CONTAINER_OBJS := $(call obj,$(CONTAINER_SRCS))
CONTAINER_MUSL_OBJS := $(patsubst %.c,$(BUILD)/musl-obj/%.o,$(CONTAINER_SRCS))
# lib/ is an archive, so each program pulls in only the members it uses: corerun gets the
# reader and verifier, not what only corec needs.
LIB_A         := $(BUILD)/libcore.a

PREFIX ?= /usr/local

.PHONY: all unit-tests deps demo check check-unit check-e2e check-san install bench clean FORCE
all: $(BUILD)/corec $(BUILD)/corerun $(BUILD)/coreinit

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# container/ is built twice: with musl, as coreinit will link it (every build proves it still
# compiles and links statically there), and with the host compiler for its unit tests.
all: $(BUILD)/container-musl.a $(BUILD)/container-musl-link

# musl's headers have no Linux UAPI ones (linux/, asm/); this directory lends it the host's,
# and nothing else from glibc's include directory.
UAPI_INCLUDE ?= /usr/include
$(BUILD)/musl-uapi/.made:
	@mkdir -p $(dir $@)
	ln -sfn $(UAPI_INCLUDE)/linux $(dir $@)linux
	ln -sfn $(UAPI_INCLUDE)/asm-generic $(dir $@)asm-generic
	ln -sfn $(UAPI_INCLUDE)/$(shell $(CC) -print-multiarch)/asm $(dir $@)asm
	touch $@

$(BUILD)/musl-obj/container/%.o: container/%.c $(BUILD)/musl-uapi/.made
	@mkdir -p $(dir $@)
	$(MUSL_CC) -std=c11 -D_GNU_SOURCE $(WARN) -Os -isystem $(BUILD)/musl-uapi -MMD -MP -c $< -o $@

$(BUILD)/container-musl.a: $(CONTAINER_MUSL_OBJS)
	rm -f $@
	ar rcs $@ $^

# A static musl program calling ctr_spawn: links every member the way coreinit will.
$(BUILD)/container-musl-link: tests/unit/container_musl_link.c $(BUILD)/container-musl.a
	$(MUSL_CC) -std=c11 -D_GNU_SOURCE $(WARN) -Os -static -iquote container -o $@ $^

$(BUILD)/obj/tests/unit/test_container%.o: ALL_CFLAGS += -iquote container

# Kept between builds (make would delete them as intermediates of the pattern rule below).
.SECONDARY: $(CONTAINER_OBJS) $(call obj,$(wildcard tests/unit/test_container*.c))

# The container tests link the library alone (it depends on nothing else of the tree).
$(BUILD)/tests/test_container%: $(BUILD)/obj/tests/unit/test_container%.o $(CONTAINER_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka

# coreinit is a static musl binary: it is PID 1 in guests that may have no libc at all.
$(BUILD)/coreinit: $(INIT_SRCS) $(wildcard runtime/init/*.h) lib/initconf_keys.h
	@mkdir -p $(dir $@)
	$(MUSL_CC) -std=c11 -D_GNU_SOURCE $(WARN) -Os -static -s -o $@ $(INIT_SRCS)

# corec carries coreinit inside itself, so one corec version always links the same init.
$(BUILD)/obj/embed_coreinit.o: linker/embed_coreinit.S $(BUILD)/coreinit
	@mkdir -p $(dir $@)
	$(CC) -c -DCOREINIT_PATH='"$(BUILD)/coreinit"' $< -o $@

# Where `stdlib:NAME` templates are read from when CORE_STDLIB_DIR is not set: this tree's.
$(BUILD)/obj/compiler/templates.o: ALL_CFLAGS += -DCORE_STDLIB_DIR_BUILTIN='"$(CURDIR)/stdlib-templates"'

# The member list is a prerequisite too: a file moved out of lib/ must leave the archive,
# though no remaining object is newer than it.
$(BUILD)/libcore.members: FORCE
	@mkdir -p $(dir $@)
	@echo '$(LIB_OBJS)' | cmp -s - $@ || echo '$(LIB_OBJS)' >$@

$(LIB_A): $(LIB_OBJS) $(BUILD)/libcore.members
	rm -f $@
	ar rcs $@ $(LIB_OBJS)

# The archive comes last on each link line: members are pulled in by the objects before it.
# corec verify and corec sign check artifacts with corerun's own verifier.
COREC_VERIFIER_OBJS := $(call obj,runtime/tim_verify.c runtime/disk_verify.c runtime/trust.c runtime/decrypt.c)
$(BUILD)/corec: $(call obj,$(COREC_SRCS)) $(COMPILER_OBJS) $(LINKER_OBJS) $(COREC_VERIFIER_OBJS) $(BUILD)/obj/embed_coreinit.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(COREC_LIBS)

$(BUILD)/corerun: $(call obj,runtime/corerun.c) $(RUNTIME_OBJS) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(CORERUN_LIBS)

$(BUILD)/tests/%: $(call obj,tests/unit/%.c) $(COMPILER_OBJS) $(LINKER_OBJS) $(RUNTIME_OBJS) $(BUILD)/obj/embed_coreinit.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(COREC_LIBS) -lcmocka

# The caches corec build uses live in cmd/ (they use the content store, which the linker may
# not); their unit tests take them and cmd/'s headers too.
CACHE_TESTS := $(BUILD)/tests/test_link_cache $(BUILD)/tests/test_kernel_cache
$(CACHE_TESTS): $(BUILD)/tests/%: $(call obj,tests/unit/%.c) $(call obj,cmd/corec_link_cache.c cmd/corec_kernel_cache.c) \
    $(COMPILER_OBJS) $(LINKER_OBJS) $(RUNTIME_OBJS) $(BUILD)/obj/embed_coreinit.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(COREC_LIBS) -lcmocka
$(patsubst $(BUILD)/tests/%,$(BUILD)/obj/tests/unit/%.o,$(CACHE_TESTS)): ALL_CFLAGS += -iquote cmd

# Installs every package the build, the example and the tests need, and fetches the
# Debian packages the example is linked from. Safe to run again.
deps:
	tests/setup-deps.sh

demo: deps all
	$(BUILD)/corec build examples/hello/app.yml -o $(BUILD)/hello.tim
	$(BUILD)/corerun $(BUILD)/hello.tim

unit-tests: $(UNIT_BINS)

# Builds for the suite compile on every CPU; -O keeps each command's output (and its errors)
# in one piece. tests/run-all.sh runs as many tests at once (CORE_TEST_JOBS overrides it).
NPROC    := $(shell nproc 2>/dev/null || echo 1)
PAR      := -j$(NPROC) -O

# The whole suite, twice: as built for use, and built with AddressSanitizer and
# UndefinedBehaviorSanitizer (leaks fail it too). One total at the end.
check: deps
	$(MAKE) $(PAR) all unit-tests
	$(MAKE) $(PAR) SAN=1 all unit-tests
	tests/run-all.sh build build-san

check-unit: all unit-tests
	tests/run-all.sh --unit-only $(BUILD)

check-e2e: all
	tests/run-all.sh --e2e-only $(BUILD)

# Only the sanitizer build of the suite.
check-san: deps
	$(MAKE) $(PAR) SAN=1 all unit-tests
	tests/run-all.sh build-san

# Fuzzing: each tests/fuzz/*.c is a libFuzzer target, built with clang and the sanitizers
# against the library code (an archive, so a target pulls in only what it uses), then run
# for a bounded time from the seeds in tests/fuzz/corpus/NAME/. Crashes land in $(FUZZ_BUILD).
FUZZ_CC      ?= clang
FUZZ_BUILD   := build-fuzz
FUZZ_RUNS    ?= 20000
FUZZ_TIME    ?= 30
FUZZ_FLAGS   := -std=c11 -D_GNU_SOURCE $(WARN) -O1 -g $(INCLUDES) -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SRCS    := $(wildcard tests/fuzz/*.c)
# The artifact verifier and trust store are corerun's (runtime/), so fuzz_tim needs them too.
FUZZ_LIBOBJS := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(LIB_SRCS) $(COMPILER_SRCS) $(RUNTIME_SRCS))

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/obj/compiler/templates.o: FUZZ_FLAGS += -DCORE_STDLIB_DIR_BUILTIN='"$(CURDIR)/stdlib-templates"'

$(FUZZ_BUILD)/libcore.members: FORCE
	@mkdir -p $(dir $@)
	@echo '$(FUZZ_LIBOBJS)' | cmp -s - $@ || echo '$(FUZZ_LIBOBJS)' >$@

$(FUZZ_BUILD)/libcore.a: $(FUZZ_LIBOBJS) $(FUZZ_BUILD)/libcore.members
	rm -f $@
	ar rcs $@ $(FUZZ_LIBOBJS)

$(FUZZ_BUILD)/%: tests/fuzz/%.c $(FUZZ_BUILD)/libcore.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $< $(FUZZ_BUILD)/libcore.a $(COREC_LIBS) -o $@

.PHONY: fuzz-smoke
# Each target has its seeds in tests/fuzz/corpus/NAME/ and, optionally, tests/fuzz/NAME.dict.
# One make target per fuzzer, so `make -j N -O fuzz-smoke` builds and runs them side by side,
# each run's output in one piece; each run stops at FUZZ_RUNS inputs or FUZZ_TIME seconds.
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRCS))
fuzz-smoke: $(addprefix fuzz-run-,$(FUZZ_NAMES))
.PHONY: $(addprefix fuzz-run-,$(FUZZ_NAMES))
$(addprefix fuzz-run-,$(FUZZ_NAMES)): fuzz-run-%: $(FUZZ_BUILD)/%
	@mkdir -p $(FUZZ_BUILD)/corpus/$*
	@echo "fuzz: $* ($(FUZZ_RUNS) runs, at most $(FUZZ_TIME)s)"
	@$< -runs=$(FUZZ_RUNS) -max_total_time=$(FUZZ_TIME) -max_len=8192 -artifact_prefix=$(FUZZ_BUILD)/ \
	    $(if $(wildcard tests/fuzz/$*.dict),-dict=tests/fuzz/$*.dict) $(FUZZ_BUILD)/corpus/$* tests/fuzz/corpus/$*

install: all
	install -D -m 0755 $(BUILD)/corec $(DESTDIR)$(PREFIX)/bin/corec
	install -D -m 0755 $(BUILD)/corerun $(DESTDIR)$(PREFIX)/bin/corerun

bench: all
	bench/run.sh

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD)/obj $(BUILD)/musl-obj -name '*.d' 2>/dev/null)
