PLUGINS += pci-testdev
pci-testdev_SRCS := plugins/pci-testdev/testdev.c
