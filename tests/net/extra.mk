# core/netoff's fuzzer (clang, not part of the gcc builds):
#   make fuzz-netoff -> $(BUILD)/fuzz/fuzz_netoff
# netoff.c alone: it is pure, so it needs nothing else of the core.
$(BUILD)/fuzz/fuzz_netoff: tests/net/fuzz_netoff.c core/netoff.c core/netoff.h sdk/include/hv/net.h
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $(CORE_INC) -o $@ tests/net/fuzz_netoff.c core/netoff.c

.PHONY: fuzz-netoff
fuzz-netoff: $(BUILD)/fuzz/fuzz_netoff

# libFuzzer over the network backends' guest- and wire-facing paths, each
# plugin's source compiled into its fuzzer on a fake core
# (tests/net/fuzz_backend.c):
#   make fuzz-net-backends -> $(BUILD)/fuzz/fuzz_tap, $(BUILD)/fuzz/fuzz_pcap,
#   $(BUILD)/fuzz/fuzz_wifi-bridge (the Wi-Fi bridge's I/O and status around xlate.c)
NET_FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined $(SDK_INC)
$(BUILD)/fuzz/fuzz_tap: tests/net/fuzz_backend.c $(tap_SRCS) $(wildcard plugins/common/*.h sdk/include/hv/*.h)
	@mkdir -p $(@D)
	clang $(NET_FUZZ_FLAGS) -DFUZZ_TAP -o $@ $<
$(BUILD)/fuzz/fuzz_pcap: tests/net/fuzz_backend.c $(pcap_SRCS) $(wildcard plugins/common/*.h sdk/include/hv/*.h)
	@mkdir -p $(@D)
	clang $(NET_FUZZ_FLAGS) -DFUZZ_PCAP -o $@ $< $(pcap_LIBS)

$(BUILD)/fuzz/fuzz_wifi-bridge: tests/net/fuzz_backend.c $(wifi-bridge_SRCS) $(wildcard plugins/common/*.h plugins/wifi-bridge/*.h sdk/include/hv/*.h)
	@mkdir -p $(@D)
	clang $(NET_FUZZ_FLAGS) -DFUZZ_WIFI -o $@ $< plugins/wifi-bridge/xlate.c $(wifi-bridge_LIBS)

.PHONY: fuzz-net-backends
fuzz-net-backends: $(BUILD)/fuzz/fuzz_tap $(BUILD)/fuzz/fuzz_pcap $(BUILD)/fuzz/fuzz_wifi-bridge

# tests/fixtures/frame_dev.c: the NIC of tap.t and pcap.t (built here, not
# in fixtures.mk's list, so that list stays one line others extend)
EXTRA_BINS += $(BUILD)/fixtures/frame_dev.so

# The Wi-Fi bridge's translation fuzzer (clang, not part of the gcc builds):
#   make fuzz-wifi -> $(BUILD)/fuzz/fuzz_wifi
# xlate.c alone, compiled in: it does no I/O and needs no hv service.
$(BUILD)/fuzz/fuzz_wifi: tests/net/fuzz_wifi.c tests/net/wifi_check.h plugins/wifi-bridge/xlate.c plugins/wifi-bridge/xlate.h
	@mkdir -p $(@D)
	clang $(NET_FUZZ_FLAGS) -o $@ $<

.PHONY: fuzz-wifi
fuzz-wifi: $(BUILD)/fuzz/fuzz_wifi
