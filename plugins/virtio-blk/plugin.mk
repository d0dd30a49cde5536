PLUGINS += virtio-blk
virtio-blk_SRCS := plugins/virtio-blk/blk.c
virtio-blk_LIBS := $(VIRTIO_LIB)
