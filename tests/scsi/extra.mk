# SCSI tests: `make fuzz-scsi`, libFuzzer over plugins/common/scsi.c on
# the core's disk layer and the raw plugin, all built with the fuzzer's
# instrumentation (as tests/disk/extra.mk builds fuzz-disk).
.PHONY: fuzz-scsi
fuzz-scsi: $(FUZZ_DIR)/fuzz-scsi
$(FUZZ_DIR)/fuzz-scsi: tests/scsi/fuzz_scsi.c plugins/common/scsi.c plugins/common/scsi.h $(FUZZ_CORE) $(raw_SRCS) $(wildcard core/*.h sdk/include/hv/*.h)
	@mkdir -p $(FUZZ_DIR)/scsi
	$(FUZZ_CC) $(FUZZ_FLAGS) $(SDK_INC) -Dhv_plugin_entry=hv_entry_raw -c -o $(FUZZ_DIR)/scsi/raw.o $(raw_SRCS)
	$(FUZZ_CC) $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined $(CORE_INC) -o $@ tests/scsi/fuzz_scsi.c $(FUZZ_CORE) $(FUZZ_DIR)/scsi/raw.o $(CORE_LIBS)
