PLUGINS += virtio-scsi
virtio-scsi_SRCS := plugins/scsi/virtio_scsi.c plugins/common/scsi.c
virtio-scsi_LIBS := $(VIRTIO_LIB)
