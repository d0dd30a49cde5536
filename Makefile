# hv: build, test, install. `make help` lists the targets.
#
# Layout: core/ builds build/hv (core objects also go into build/libhvcore.a
# for the unit tests); every plugins/*/plugin.mk adds one or more plugins,
# each built into build/plugins/NAME.so against sdk/ alone.

# the extra.mk fragments included below define targets of their own
.DEFAULT_GOAL := all

CC      ?= gcc
BUILD   ?= build
PREFIX  ?= /usr/local
SAN     ?=

ifeq ($(origin CC),default)
CC := gcc
endif

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes
CSTD    := -std=c11 -D_GNU_SOURCE
OPT     ?= -O2 -g
ifneq ($(SAN),)
BUILD   := build-san
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
endif
CFLAGS  += $(CSTD) $(WARN) $(OPT) -MMD -MP
SDK_INC := -Isdk/include
CORE_INC := -Icore $(SDK_INC)
CORE_LIBS := -ldl -linih -laio -lpthread -lz -llzma -lzstd -lpng

CORE_SRCS := $(filter-out core/main.c,$(wildcard core/*.c core/*/*.c))
CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ  := $(BUILD)/core/main.o

# libhv-virtio.a: the SDK's virtio transport (sdk/virtio), plugin-side
# code linked into each virtio device's .so (NAME_LIBS += $(VIRTIO_LIB))
VIRTIO_SRCS := $(wildcard sdk/virtio/*.c)
VIRTIO_OBJS := $(VIRTIO_SRCS:%.c=$(BUILD)/%.o)
VIRTIO_LIB := $(BUILD)/libhv-virtio.a

PLUGINS :=
include $(sort $(wildcard plugins/*/plugin.mk))
PLUGIN_SOS := $(PLUGINS:%=$(BUILD)/plugins/%.so)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FIXTURES :=
include $(wildcard tests/fixtures/fixtures.mk)
FIXTURE_SOS := $(FIXTURES:%=$(BUILD)/fixtures/%.so)

GUEST_SRCS := $(wildcard tests/guests/*.asm)
GUEST_BINS := $(GUEST_SRCS:tests/guests/%.asm=$(BUILD)/guests/%.bin)
GUEST_INC  := $(wildcard tests/guests/include/*.inc)

EXTRA_BINS :=
include $(wildcard tests/*/extra.mk bench/extra.mk)

.PHONY: all deps test test-san test-build deps-check run install clean help guests
all: $(BUILD)/hv $(PLUGIN_SOS) $(VIRTIO_LIB) $(BUILD)/hv-sdk.pc

help:
	@echo "make            build build/hv and build/plugins/*.so"
	@echo "make run        install missing Debian packages, build, boot the example VM"
	@echo "make test       run every test (also under ASan/UBSan); ends with 'N passed, N failed'"
	@echo "make test-san   only the sanitizer build's tests"
	@echo "make deps       install the Debian packages hv needs"
	@echo "make install PREFIX=... DESTDIR=..."

deps:
	@bash scripts/deps.sh

$(BUILD)/libhvcore.a: $(CORE_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# linked from the objects, not the archive: core/emu's accel_emu is only a
# weak reference from main.c and must still be pulled in
$(BUILD)/hv: $(MAIN_OBJ) $(CORE_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(CORE_LIBS)

$(BUILD)/core/%.o: core/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CORE_INC) -c -o $@ $<

# One plugin: $(1) is its name; NAME_SRCS and NAME_LIBS come from plugin.mk
# (static libraries among NAME_LIBS are dependencies too).
define plugin_rule
$(BUILD)/plugins/$(1).so: $$($(1)_SRCS:%.c=$(BUILD)/%.o) $$(filter %.a,$$($(1)_LIBS))
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) -shared -Wl,-z,defs -o $$@ $$^ $$($(1)_LIBS) $$(if $$(SAN),,)
endef
$(foreach p,$(PLUGINS),$(eval $(call plugin_rule,$(p))))

$(BUILD)/plugins/%.o: plugins/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SDK_INC) -fPIC -fvisibility=hidden -c -o $@ $<

$(BUILD)/sdk/%.o: sdk/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SDK_INC) -fPIC -fvisibility=hidden -c -o $@ $<

$(VIRTIO_LIB): $(VIRTIO_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/fixtures/%.so: tests/fixtures/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SDK_INC) -fPIC -fvisibility=hidden -shared -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(BUILD)/libhvcore.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CORE_INC) -Itests/unit -o $@ $< $(BUILD)/libhvcore.a $(CORE_LIBS)

$(BUILD)/guests/%.bin: tests/guests/%.asm $(GUEST_INC)
	@mkdir -p $(@D)
	nasm -f bin -Itests/guests/include/ -o $@ $<

guests: $(GUEST_BINS)

$(BUILD)/examples/%.bin: examples/%.asm $(GUEST_INC)
	@mkdir -p $(@D)
	nasm -f bin -Itests/guests/include/ -o $@ $<

$(BUILD)/hv-sdk.pc: sdk/hv-sdk.pc.in
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|g' $< > $@

TEST_DEPS := all $(BUILD)/examples/hello.bin $(UNIT_BINS) $(FIXTURE_SOS) $(GUEST_BINS) $(EXTRA_BINS)
test-build: $(TEST_DEPS)

# The README's test command. Builds the normal and the sanitizer trees and
# runs the whole suite; the last line is "N passed, N failed".
test: deps-check
	@$(MAKE) --no-print-directory test-build
	@$(MAKE) --no-print-directory SAN=1 test-build
	@bash tests/run.sh

test-san: deps-check
	@$(MAKE) --no-print-directory SAN=1 test-build
	@HV_TEST_ONLY_SAN=1 bash tests/run.sh

deps-check:
	@bash scripts/deps.sh --check-or-install

run: deps-check all $(BUILD)/examples/hello.bin
	@bash scripts/run-example.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/hv/plugins \
		$(DESTDIR)$(PREFIX)/include/hv $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/share/doc/hv
	install -m 755 $(BUILD)/hv $(DESTDIR)$(PREFIX)/bin/hv
	install -m 755 $(PLUGIN_SOS) $(DESTDIR)$(PREFIX)/lib/hv/plugins/
	install -m 644 sdk/include/hv/*.h $(DESTDIR)$(PREFIX)/include/hv/
	install -m 644 $(VIRTIO_LIB) $(DESTDIR)$(PREFIX)/lib/
	sed -e 's|@PREFIX@|$(PREFIX)|g' sdk/hv-sdk.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/hv-sdk.pc
	install -m 644 sdk/README.md LICENSE $(DESTDIR)$(PREFIX)/share/doc/hv/

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
