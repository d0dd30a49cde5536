# core/netoff's fuzzer (clang, not part of the gcc builds):
#   make fuzz-netoff -> $(BUILD)/fuzz/fuzz_netoff
# netoff.c alone: it is pure, so it needs nothing else of the core.
$(BUILD)/fuzz/fuzz_netoff: tests/net/fuzz_netoff.c core/netoff.c core/netoff.h sdk/include/hv/net.h
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $(CORE_INC) -o $@ tests/net/fuzz_netoff.c core/netoff.c

.PHONY: fuzz-netoff
fuzz-netoff: $(BUILD)/fuzz/fuzz_netoff
