PLUGINS += virtio-net
virtio-net_SRCS := plugins/vnic/vnic.c
virtio-net_LIBS := $(VIRTIO_LIB)
