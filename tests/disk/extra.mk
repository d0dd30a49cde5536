# Disk tests: helper binaries linked against libhvcore, and `make fuzz-disk`.
# Included before the Makefile names `all`: keep `make` meaning `make all`.
DISK_TOOLS := hvimg disktool
DISK_BINS := $(DISK_TOOLS:%=$(BUILD)/tests/disk/%)
EXTRA_BINS += $(DISK_BINS)

$(BUILD)/tests/disk/%.o: tests/disk/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CORE_INC) -c -o $@ $<

$(DISK_BINS): $(BUILD)/tests/disk/%: $(BUILD)/tests/disk/%.o $(BUILD)/libhvcore.a
	$(CC) $(CFLAGS) -rdynamic -o $@ $< $(BUILD)/libhvcore.a $(CORE_LIBS)

# libFuzzer over open/read/map/check of the disk plugins, fed from a memfd.
# The plugins and the core are compiled into the fuzzer with its
# instrumentation, each plugin's hv_plugin_entry renamed.
FUZZ_CC ?= clang
FUZZ_DIR := build-fuzz
FUZZ_FLAGS := $(CSTD) -g -O1 -fsanitize=fuzzer-no-link,address,undefined -Wno-unused-command-line-argument
# Only the disk layer and what it stands on: a call from it into the
# services, the VM or PCI is a link error here.
FUZZ_DISK_CORE := disk chain aio instance instbase instcfg hotplug bus dma \
	config plugin log loop mem
FUZZ_CORE := $(FUZZ_DISK_CORE:%=core/%.c)
FUZZ_PLUGIN_SRCS := $(vhdx_SRCS) $(vhd_SRCS) $(raw_SRCS)
.PHONY: fuzz-disk
fuzz-disk: $(FUZZ_DIR)/fuzz-disk
$(FUZZ_DIR)/fuzz-disk: tests/disk/fuzz_disk.c $(FUZZ_CORE) $(sort $(FUZZ_PLUGIN_SRCS)) $(wildcard core/*.h plugins/*/*.h sdk/include/hv/*.h)
	@mkdir -p $(FUZZ_DIR)/o
	set -e; for p in vhdx vhd raw; do \
		for s in $$(echo "$(vhdx_SRCS)|$(vhd_SRCS)|$(raw_SRCS)" | cut -d'|' -f$$(case $$p in vhdx) echo 1;; vhd) echo 2;; raw) echo 3;; esac)); do \
			$(FUZZ_CC) $(FUZZ_FLAGS) $(SDK_INC) -Dhv_plugin_entry=hv_entry_$$p -Dcrc32c=crc32c_$$p -Ddreq_new=dreq_new_$$p -Ddreq_zero=dreq_zero_$$p -Ddreq_io=dreq_io_$$p -Ddreq_fail=dreq_fail_$$p -Ddreq_copy=dreq_copy_$$p -Ddreq_put=dreq_put_$$p -Ddreq_parent=dreq_parent_$$p \
				-c -o $(FUZZ_DIR)/o/$$p-$$(basename $$s .c).o $$s; \
		done; \
	done
	$(FUZZ_CC) $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined $(CORE_INC) -o $@ tests/disk/fuzz_disk.c $(FUZZ_CORE) $(FUZZ_DIR)/o/*.o $(CORE_LIBS)

# A test device plugin that attaches a disk (tests/disk/attach.t).
EXTRA_BINS += $(BUILD)/tests/disk/plugins/diskcheck.so
$(BUILD)/tests/disk/plugins/diskcheck.so: tests/disk/diskcheck.c $(wildcard sdk/include/hv/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SDK_INC) -fPIC -fvisibility=hidden -shared -o $@ $<

# The VHDX GUID unit test links the plugin's guid.c (no test hook in the .so).
$(BUILD)/tests/test_vhdx_guid: tests/unit/test_vhdx_guid.c tests/unit/unit.h $(BUILD)/plugins/vhdx/guid.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CORE_INC) -Itests/unit -o $@ $< $(BUILD)/plugins/vhdx/guid.o
