/* SPDX-License-Identifier: MIT */
/*
 * libhv-virtio's insides: the transport instance and its queues, shared by
 * pci.c (registers, interrupts, status), virtq.c (the split rings) and
 * state.c (save/restore). Nothing here is part of the SDK's API.
 *
 * The rings are guest memory the guest may change at any moment: every
 * field is read once into a local (ring_ld*) and checked there, never
 * re-read after the check. x86 hosts only: the rings' little-endian fields
 * are read natively.
 */
#ifndef HV_VIRTIO_INT_H
#define HV_VIRTIO_INT_H

#include <hv/virtio.h>

#define VQ_DESC_F_NEXT 1u
#define VQ_DESC_F_WRITE 2u
#define VQ_DESC_F_INDIRECT 4u
#define VQ_AVAIL_F_NO_INTERRUPT 1u
#define VQ_USED_F_NO_NOTIFY 1u

/* struct virtq_desc, as the guest lays it out (spec 2.7.5) */
struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct hv_virtq {
	struct hv_virtio *vio;
	uint16_t index;
	uint16_t size;   /* queue_size: the driver's choice (or our max) */
	uint16_t vector; /* queue_msix_vector */
	uint8_t enabled; /* queue_enable: rings mapped */
	uint8_t kicked;  /* HV_VIRTIO_NOTIFY_MAIN: notified, not yet served */
	uint8_t quiet;   /* notifications off: popped since last found empty */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* host views of the rings while enabled */
	struct vq_desc *desc;
	uint16_t *avail; /* flags, idx, ring[size], used_event */
	uint16_t *used;  /* flags, idx, then {u32 id, u32 len}[size], avail_event */
	struct hv_dma dma_desc, dma_avail, dma_used;
	struct iovec iov_desc, iov_avail, iov_used;
	uint16_t last_avail; /* next avail entry to pop */
	uint16_t used_idx;   /* next used entry, pushed but maybe unpublished */
	uint16_t published;  /* used idx the driver can see */
	uint32_t gen;        /* bumped at every reset: older elements are stale */
	void *opaque;
};

struct hv_virtio {
	struct hv_ctx *ctx;
	struct hv_pci_dev *pci;
	struct hv_virtio_info info;
	uint64_t dev_features, drv_features;
	uint32_t dfselect, gfselect;
	uint16_t config_vector, queue_select, nvec;
	uint8_t status, config_gen, isr;
	uint8_t broken;        /* a guest fault: NEEDS_RESET, no more pops */
	uint8_t reset_pending; /* driver reset waiting for in-flight elements */
	uint8_t pcicfg_bar;    /* VIRTIO_PCI_CAP_PCI_CFG window */
	uint32_t pcicfg_off, pcicfg_len;
	uint32_t inflight; /* popped, not yet pushed or unpopped */
	int kick_fd;       /* HV_VIRTIO_NOTIFY_MAIN: eventfd, or -1 */
	struct hv_watch *kick_w;
	uint8_t kick_armed; /* kick_fd written, its callback not yet run */
	uint8_t cfg[0x60]; /* our capabilities, config space 0x60 .. 0xbf */
	struct hv_virtq *vq;
};

/* BAR4's layout (QEMU's too) */
#define VIO_BAR 4
#define VIO_BAR_SIZE 0x4000u
#define VIO_COMMON 0x0000u
#define VIO_COMMON_LEN 0x38u
#define VIO_ISR 0x1000u
#define VIO_DEVCFG 0x2000u
#define VIO_NOTIFY 0x3000u
#define VIO_NOTIFY_MULT 4u
#define VIO_MAX_QUEUES 1024u

/* guest-shared memory: single loads and stores, never torn or re-read */
#define ring_ld(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define ring_st(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* pci.c */
void vio_queue_irq(struct hv_virtq *vq);
void vio_fault(struct hv_virtio *vio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vio_elem_done(struct hv_virtio *vio);
/* virtq.c */
int vq_map(struct hv_virtq *vq);
void vq_unmap(struct hv_virtq *vq);
void vq_clear(struct hv_virtq *vq);

#endif
