# The switch's forwarding fuzzer (clang, not part of the gcc builds):
#   make fuzz-switch -> $(BUILD)/fuzz/fuzz_switch
# plugins/switch/fwd.c alone: the decision needs no hv service.
$(BUILD)/fuzz/fuzz_switch: tests/switch/fuzz_switch.c plugins/switch/fwd.c plugins/switch/fwd.h
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o $@ tests/switch/fuzz_switch.c plugins/switch/fwd.c

.PHONY: fuzz-switch
fuzz-switch: $(BUILD)/fuzz/fuzz_switch
