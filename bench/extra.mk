# bench/exit (not part of make test, but built by test-build so that it
# keeps compiling): the exitbench device plugin, against sdk/ alone like
# any plugin; its guest; the bare KVM peer. bench/exit/run.sh runs them.
BENCH_EXIT := $(BUILD)/bench/exit
EXTRA_BINS += $(BENCH_EXIT)/plugins/exitbench.so $(BENCH_EXIT)/exit.bin $(BENCH_EXIT)/bare

$(BENCH_EXIT)/plugins/exitbench.so: bench/exit/exitbench.c $(wildcard sdk/include/hv/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SDK_INC) -fPIC -fvisibility=hidden -shared -Wl,-z,defs -o $@ $<

$(BENCH_EXIT)/exit.bin: bench/exit/exit.asm $(GUEST_INC)
	@mkdir -p $(@D)
	nasm -f bin -Itests/guests/include/ -o $@ $<

# a peer independent of hv: no hv header, no hv object
$(BENCH_EXIT)/bare: bench/exit/bare.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) -O2 -o $@ $<

.PHONY: bench-exit
bench-exit: $(BENCH_EXIT)/plugins/exitbench.so $(BENCH_EXIT)/exit.bin $(BENCH_EXIT)/bare

# bench/net/wifi-xlate.sh's program (built by test-build so that it keeps
# compiling; not a test): the Wi-Fi bridge's per-frame translation cost,
# xlate.c compiled in, over scapy's frames.
EXTRA_BINS += $(BUILD)/bench/wifi-xlate
$(BUILD)/bench/wifi-xlate: bench/net/wifi-xlate.c plugins/wifi-bridge/xlate.c plugins/wifi-bridge/xlate.h tests/unit/wifi_vectors.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SDK_INC) -o $@ $<
