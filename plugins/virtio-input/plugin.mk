PLUGINS += virtio-input
virtio-input_SRCS := plugins/virtio-input/input.c
virtio-input_LIBS := $(VIRTIO_LIB)
