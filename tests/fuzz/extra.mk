# libFuzzer targets built with clang (not part of the gcc builds):
#   make fuzz-ini    -> $(BUILD)/fuzz/fuzz_ini
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined $(CORE_INC)
FUZZ_INI_SRCS := tests/fuzz/fuzz_ini.c $(filter-out core/main.c,$(wildcard core/*.c core/*/*.c))

$(BUILD)/fuzz/fuzz_ini: $(FUZZ_INI_SRCS) $(wildcard core/*.h)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $(FUZZ_INI_SRCS) $(CORE_LIBS)

.PHONY: fuzz-ini
fuzz-ini: $(BUILD)/fuzz/fuzz_ini
