# The control protocol's fuzzer (clang, not part of the gcc builds):
#   make fuzz-ctl -> $(BUILD)/fuzz/fuzz_ctl
# core/ctlproto.c alone: framing, words and the command table, no VM.
$(BUILD)/fuzz/fuzz_ctl: tests/control/fuzz_ctl.c core/ctlproto.c core/ctlproto.h
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $(CORE_INC) -o $@ tests/control/fuzz_ctl.c core/ctlproto.c

.PHONY: fuzz-ctl
fuzz-ctl: $(BUILD)/fuzz/fuzz_ctl
