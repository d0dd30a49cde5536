# The VNC tests' viewer (tests/console/vncclient.c) on Debian's libvncclient,
# and the VNC frontend's fuzzers (clang, not part of the gcc builds):
#   make fuzz-vnc -> $(BUILD)/fuzz/fuzz_vnc_http, $(BUILD)/fuzz/fuzz_vnc_rfb
$(BUILD)/tests/vncclient: tests/console/vncclient.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(shell pkg-config --libs libvncclient)
EXTRA_BINS += $(BUILD)/tests/vncclient

FUZZ_VNC_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined $(SDK_INC) -Iplugins/console
$(BUILD)/fuzz/fuzz_vnc_http: tests/console/fuzz_vnc_http.c plugins/console/vnchttp.c plugins/console/vnc.h
	@mkdir -p $(@D)
	clang $(FUZZ_VNC_FLAGS) -o $@ tests/console/fuzz_vnc_http.c plugins/console/vnchttp.c
$(BUILD)/fuzz/fuzz_vnc_rfb: tests/console/fuzz_vnc_rfb.c plugins/console/vnc.c plugins/console/keysym.c \
		plugins/console/vnchttp.c plugins/console/vnc.h
	@mkdir -p $(@D)
	clang $(FUZZ_VNC_FLAGS) -o $@ tests/console/fuzz_vnc_rfb.c plugins/console/keysym.c \
		plugins/console/vnchttp.c $(shell pkg-config --libs libvncserver)

.PHONY: fuzz-vnc
fuzz-vnc: $(BUILD)/fuzz/fuzz_vnc_http $(BUILD)/fuzz/fuzz_vnc_rfb

# the shadow conversion, vnc.c built in (tests/console/vnc-formats.t runs it)
$(BUILD)/tests/vnc_formats: tests/console/vnc_formats.c plugins/console/vnc.c plugins/console/keysym.c \
		plugins/console/vnchttp.c plugins/console/vnc.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SDK_INC) -Iplugins/console -o $@ tests/console/vnc_formats.c \
		plugins/console/keysym.c plugins/console/vnchttp.c $(shell pkg-config --libs libvncserver)
EXTRA_BINS += $(BUILD)/tests/vnc_formats
