.DEFAULT_GOAL := all
# core/emu's harnesses: the conformance run over the 286 vectors (tests/data),
# the differential harness against the host CPU, and (with clang) the
# decoder fuzzer.
EMU_TEST_CFLAGS = $(CFLAGS) $(CORE_INC) -Itests/emu

$(BUILD)/tests/emu-conformance: tests/emu/conformance.c tests/emu/json.c tests/emu/json.h $(BUILD)/libhvcore.a
	@mkdir -p $(@D)
	$(CC) $(EMU_TEST_CFLAGS) -o $@ tests/emu/conformance.c tests/emu/json.c $(BUILD)/libhvcore.a $(CORE_LIBS)

EXTRA_BINS += $(BUILD)/tests/emu-conformance

$(BUILD)/tests/emu-diff: tests/emu/diff.c $(BUILD)/libhvcore.a
	@mkdir -p $(@D)
	$(CC) $(EMU_TEST_CFLAGS) -o $@ tests/emu/diff.c $(BUILD)/libhvcore.a $(CORE_LIBS)

EXTRA_BINS += $(BUILD)/tests/emu-diff

# The decoder fuzzer needs clang: `make fuzz-emu` builds $(BUILD)/tests/emu-fuzz.
EMU_FUZZ_SRCS = $(filter-out core/emu/accel_emu.c core/emu/pic.c core/emu/pit.c \
	core/emu/lapic.c core/emu/x2apic.c core/emu/ioapic.c,$(wildcard core/emu/*.c)) core/log.c \
	core/cpumodel.c
.PHONY: fuzz-emu
fuzz-emu: $(BUILD)/tests/emu-fuzz
$(BUILD)/tests/emu-fuzz: tests/emu/fuzz_decode.c $(EMU_FUZZ_SRCS) $(wildcard core/emu/*.h)
	@mkdir -p $(@D)
	clang $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(CORE_INC) \
		-o $@ tests/emu/fuzz_decode.c $(EMU_FUZZ_SRCS)
