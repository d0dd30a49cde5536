# The display tests' helpers: edid-dump (EDID bytes for tests/display/edid.t)
# and `make fuzz-vga` (libFuzzer over the VGA's registers, fuzz.t).
EXTRA_BINS += $(BUILD)/tests/display/edid-dump
$(BUILD)/tests/display/edid-dump: tests/display/edid_dump.c plugins/display/edid.c plugins/display/edid.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iplugins/display -o $@ tests/display/edid_dump.c plugins/display/edid.c
