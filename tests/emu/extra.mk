# core/emu's harnesses: the conformance run over the shared 286 vectors,
# the differential harness against the host CPU, and (with clang) the
# decoder fuzzer.
EMU_TEST_CFLAGS = $(CFLAGS) $(CORE_INC) -Itests/emu

$(BUILD)/tests/emu-conformance: tests/emu/conformance.c tests/emu/json.c tests/emu/json.h $(BUILD)/libhvcore.a
	@mkdir -p $(@D)
	$(CC) $(EMU_TEST_CFLAGS) -o $@ tests/emu/conformance.c tests/emu/json.c $(BUILD)/libhvcore.a $(CORE_LIBS)

EXTRA_BINS += $(BUILD)/tests/emu-conformance
