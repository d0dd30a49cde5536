# libFuzzer targets built with clang (not part of the gcc builds):
#   make fuzz-ini    -> $(BUILD)/fuzz/fuzz_ini
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined $(CORE_INC)
# Only the config layer (docs/architecture.md): the INI reader, [vm]
# validation (with [vm] cpu = and its model table), the plugin loader (plugins publish the key tables validation
# checks), the implicit PC devices, and the boot-file checks behind
# boot_check_files() with the loaders' image probes they use. Listed, not
# globbed: a call from here into the VM, PCI or the accelerators is a link
# error, which is how a new cycle shows.
FUZZ_INI_CORE := config check cpumodel plugin pc/implicit bootcheck bootfile linux \
	multiboot mbinfo cpumode mem x86 log
FUZZ_INI_SRCS := tests/fuzz/fuzz_ini.c $(FUZZ_INI_CORE:%=core/%.c)

$(BUILD)/fuzz/fuzz_ini: $(FUZZ_INI_SRCS) $(wildcard core/*.h)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $(FUZZ_INI_SRCS) $(CORE_LIBS)

.PHONY: fuzz-ini
fuzz-ini: $(BUILD)/fuzz/fuzz_ini
