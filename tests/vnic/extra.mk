# plugins/vnic's tx/rx/control paths on the transport, a fake core
#   make fuzz-vnic -> $(BUILD)/fuzz/fuzz_vnic
$(BUILD)/fuzz/fuzz_vnic: tests/vnic/fuzz_vnic.c tests/virtio/fakehost.h $(virtio-net_SRCS) $(VIRTIO_SRCS) $(wildcard sdk/virtio/*.h sdk/include/hv/*.h)
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $(SDK_INC) -o $@ tests/vnic/fuzz_vnic.c \
		$(virtio-net_SRCS) $(VIRTIO_SRCS)

.PHONY: fuzz-vnic
fuzz-vnic: $(BUILD)/fuzz/fuzz_vnic
