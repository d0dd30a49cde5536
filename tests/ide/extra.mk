# The IDE plugin's bare-metal guests (tests/ide/ide.t runs them: they need
# disk images the script makes, so they are not in tests/guests/).
IDE_GUESTS := $(patsubst tests/ide/%.asm,$(BUILD)/tests/ide/%.bin,$(wildcard tests/ide/*.asm))
EXTRA_BINS += $(IDE_GUESTS)
$(BUILD)/tests/ide/%.bin: tests/ide/%.asm $(GUEST_INC)
	@mkdir -p $(@D)
	nasm -f bin -Itests/guests/include/ -o $@ $<

# libFuzzer over the IDE plugin's register, PRD and packet paths
# (tests/ide/fuzz.t): the plugin's sources with a host table of the SDK's
# guarantees, under ASan/UBSan.
.PHONY: fuzz-ide
fuzz-ide: build-fuzz/fuzz-ide
build-fuzz/fuzz-ide: tests/ide/fuzz_ide.c $(ide_SRCS) $(wildcard plugins/ide/*.h plugins/common/*.h sdk/include/hv/*.h)
	@mkdir -p $(@D)
	clang $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined $(SDK_INC) -o $@ tests/ide/fuzz_ide.c $(ide_SRCS)
