# The display tests' helpers: edid-dump (EDID bytes for tests/display/edid.t)
# and `make fuzz-vga` (libFuzzer over the VGA's registers, fuzz.t).
EXTRA_BINS += $(BUILD)/tests/display/edid-dump
$(BUILD)/tests/display/edid-dump: tests/display/edid_dump.c plugins/display/edid.c plugins/display/edid.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iplugins/display -o $@ tests/display/edid_dump.c plugins/display/edid.c

# Display tests: a stand-in device that is only the legacy VGA half
# (tests/display/vgatext_dev.c, plugin `vgatext-test` in
# $(BUILD)/tests/display/plugins) and `make fuzz-vgatext`.
VT_TEST_SO := $(BUILD)/tests/display/plugins/vgatext-test.so
EXTRA_BINS += $(VT_TEST_SO)
$(VT_TEST_SO): tests/display/vgatext_dev.c plugins/display/vgatext.c plugins/display/vgatext.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SDK_INC) -fPIC -fvisibility=hidden -shared -Wl,-z,defs \
		-o $@ tests/display/vgatext_dev.c plugins/display/vgatext.c -lz

# libFuzzer over the VGA ports and the text renderer (tests/display/fuzz.t)
.PHONY: fuzz-vgatext
fuzz-vgatext: build-fuzz/fuzz-vgatext
build-fuzz/fuzz-vgatext: tests/display/fuzz_vgatext.c plugins/display/vgatext.c $(wildcard plugins/display/*.h sdk/include/hv/*.h)
	@mkdir -p $(@D)
	clang $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(SDK_INC) -o $@ \
		tests/display/fuzz_vgatext.c plugins/display/vgatext.c -lz

# libFuzzer over the VGA's registers (tests/display/fuzz-vga.t): vga.c
# included by the harness (it checks the mode against vram after every
# access), edid.c and the real text half, under ASan/UBSan.
.PHONY: fuzz-vga
fuzz-vga: build-fuzz/fuzz-vga
build-fuzz/fuzz-vga: tests/display/fuzz_vga.c $(vga_SRCS) $(wildcard plugins/display/*.h sdk/include/hv/*.h)
	@mkdir -p $(@D)
	clang $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(SDK_INC) -o $@ \
		tests/display/fuzz_vga.c plugins/display/edid.c plugins/display/vgatext.c -lz
