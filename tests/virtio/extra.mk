# The virtio transport's fuzzer (clang, not part of the gcc builds):
#   make fuzz-virtio -> $(BUILD)/fuzz/fuzz_virtq
# libhv-virtio's sources and a fake core (tests/virtio/fakehost.h), nothing
# else: the library must need no more than the SDK's services.
$(BUILD)/fuzz/fuzz_virtq: tests/virtio/fuzz_virtq.c tests/virtio/fakehost.h $(VIRTIO_SRCS) $(wildcard sdk/virtio/*.h sdk/include/hv/*.h)
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $(SDK_INC) -o $@ tests/virtio/fuzz_virtq.c $(VIRTIO_SRCS)

.PHONY: fuzz-virtio
fuzz-virtio: $(BUILD)/fuzz/fuzz_virtq

# plugins/virtio-blk's request parsing on the transport, a fake disk
#   make fuzz-virtio-blk -> $(BUILD)/fuzz/fuzz_blk
$(BUILD)/fuzz/fuzz_blk: tests/virtio/fuzz_blk.c tests/virtio/fakehost.h $(virtio-blk_SRCS) $(VIRTIO_SRCS) $(wildcard sdk/virtio/*.h sdk/include/hv/*.h)
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $(SDK_INC) -o $@ tests/virtio/fuzz_blk.c \
		$(virtio-blk_SRCS) $(VIRTIO_SRCS)

.PHONY: fuzz-virtio-blk
fuzz-virtio-blk: $(BUILD)/fuzz/fuzz_blk
