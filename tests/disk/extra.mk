# Disk tests: helper binaries linked against libhvcore, and `make fuzz-disk`.
DISK_TOOLS := hvimg disktool
DISK_BINS := $(DISK_TOOLS:%=$(BUILD)/tests/disk/%)
EXTRA_BINS += $(DISK_BINS)

$(BUILD)/tests/disk/%.o: tests/disk/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CORE_INC) -c -o $@ $<

$(DISK_BINS): $(BUILD)/tests/disk/%: $(BUILD)/tests/disk/%.o $(BUILD)/libhvcore.a
	$(CC) $(CFLAGS) -rdynamic -o $@ $< $(BUILD)/libhvcore.a $(CORE_LIBS)

# libFuzzer over open/read/check of the disk plugins, fed from a memfd.
# The plugins are compiled into the fuzzer with the instrumentation; the
# core's engine and block layer come from their own sources.
FUZZ_CC ?= clang
FUZZ_DIR := build-fuzz
.PHONY: fuzz-disk
fuzz-disk: $(FUZZ_DIR)/fuzz-disk
$(FUZZ_DIR)/fuzz-disk: tests/disk/fuzz_disk.c $(wildcard plugins/vhdx/*.c plugins/vhd/*.c plugins/common/*.c core/*.c core/*.h sdk/include/hv/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined $(CORE_INC) -o $@ tests/disk/fuzz_disk.c $(filter-out core/main.c,$(wildcard core/*.c)) $(CORE_LIBS)
