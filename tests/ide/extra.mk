# The IDE plugin's bare-metal guests (tests/ide/ide.t runs them: they need
# disk images the script makes, so they are not in tests/guests/).
IDE_GUESTS := $(patsubst tests/ide/%.asm,$(BUILD)/tests/ide/%.bin,$(wildcard tests/ide/*.asm))
EXTRA_BINS += $(IDE_GUESTS)
$(BUILD)/tests/ide/%.bin: tests/ide/%.asm $(GUEST_INC)
	@mkdir -p $(@D)
	nasm -f bin -Itests/guests/include/ -o $@ $<
