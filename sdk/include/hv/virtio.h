/* SPDX-License-Identifier: MIT */
/*
 * hv SDK: the virtio 1.x transport, a static library (libhv-virtio.a,
 * `pkg-config --libs hv-sdk`) a device plugin links into its .so. It is
 * plugin-side code built on hv/pci.h, hv/dma.h and hv/host.h alone.
 *
 * What it is: virtio 1.x modern PCI only (vendor 0x1af4, device 0x1040 +
 * type, revision 1; legacy and transitional devices are not offered) with
 * split virtqueues. The library owns the PCI function, its capabilities,
 * BAR4 (common cfg 0x0000, ISR 0x1000, device cfg 0x2000, notify 0x3000,
 * notify_off_multiplier 4: queue n is notified at 0x3000 + 4n, so each
 * queue has an address of its own, ready for an ioeventfd), the MSI-X
 * table in BAR1 (one vector per queue plus the config vector), INTx with
 * the ISR's read-to-clear, feature negotiation, the status state machine
 * and the rings. The device supplies its type, features, config bytes
 * and a notify callback, pops elements, and pushes them back.
 *
 * A minimal device (a sink that consumes every buffer of queue 0):
 *
 *	static void sink_notify(struct hv_ctx *ctx, void *opaque,
 *				struct hv_virtq *vq)
 *	{
 *		struct sink *s = opaque;
 *
 *		while (hv_virtq_pop(vq, &s->elem) == 1)
 *			hv_virtq_push(vq, &s->elem, 0);
 *		hv_virtq_flush(vq);
 *	}
 *	... in create:
 *	hv_virtq_elem_init(&s->elem, s->iov, 64);
 *	struct hv_virtio_info info = {
 *		.device_type = 42, .class_code = 0xff0000, .num_queues = 1,
 *		.queue_size_max = 256, .ops = &sink_ops, .opaque = s,
 *	};
 *	rc = hv_virtio_pci_create(ctx, &info, &s->vio);
 *	... reset op: hv_virtio_reset(s->vio); destroy: hv_virtio_destroy.
 *
 * Threads and locks (the core's rules, restated for the transport):
 *   - notify runs on the vCPU thread that wrote the queue's notify
 *     address, with the device's domain lock held; hv_virtio_kick() runs
 *     it on the caller's thread (the main thread after a restore). With
 *     HV_VIRTIO_NOTIFY_MAIN it runs on the main thread instead, soon after
 *     the write (the way an ioeventfd is served): the vCPU goes back to
 *     the guest at once, notifies that arrive meanwhile collapse into one
 *     call, and submissions and completions share one thread instead of
 *     contending for the domain lock.
 *   - reset, features_ok, config_write and driver_ok run on the vCPU
 *     thread of the register write that caused them, lock held (reset
 *     also on the main thread, from hv_virtio_reset in the device's own
 *     reset op).
 *   - Every hv_virtio_* and hv_virtq_* call may be made from any callback
 *     of the owning instance (a region access on a vCPU thread, a disk
 *     completion on the main thread); the domain lock serialises them. The
 *     library takes no lock and keeps no global state.
 *
 * Guarantees (what a guest cannot do to the device or the host):
 *   - Ring addresses are checked when the driver enables a queue (aligned,
 *     inside guest RAM, each ring contiguous host memory) and mapped once,
 *     through hv_dma, for the queue's life; a queue that fails the check
 *     is not enabled and the device enters DEVICE_NEEDS_RESET.
 *   - Every element a device pops has been walked and mapped completely:
 *     head and next indices inside the table, a chain no longer than the
 *     queue (or the indirect table), indirect tables of a non-zero
 *     multiple of 16 bytes, no indirect table inside one, no readable
 *     buffer after a writable one, every buffer wholly in guest RAM and
 *     no more iovecs than the element holds. The iovecs point into guest
 *     RAM and stay valid until the element is pushed or unpopped, so a
 *     device may hand them to hv_disk_submit.
 *   - A malformed chain or ring (the faults above, or an avail index more
 *     than the queue size ahead) is never handed to the device: the
 *     transport logs one line naming the queue and the fault, puts the
 *     device in DEVICE_NEEDS_RESET (spec 2.1.2) with a config interrupt,
 *     returns the bad chain's head (when the index is valid) in the used
 *     ring with length 0 so a driver that ignores NEEDS_RESET does not wait
 *     forever, and pops nothing more until the driver resets the device.
 *   - Barriers: avail idx is read with acquire semantics before the ring
 *     entries and descriptors it covers; used entries are published with a
 *     release store of used idx; a full barrier separates publishing used
 *     idx from reading used_event (EVENT_IDX) or avail flags, and writing
 *     avail_event from re-reading avail idx.
 *   - Driver notifications are on only while the device waits: a pop
 *     that finds the queue empty turns them on (avail_event, or clears
 *     VIRTQ_USED_F_NO_NOTIFY) and re-checks, the next pop turns them off.
 *     So a device pops until hv_virtq_pop() says 0, or runs the queue
 *     again on its own (out of request slots: when one frees); it is not
 *     notified of buffers added while it drains.
 *   - Driver reset (device_status = 0): the device's reset op is called to
 *     give back the elements it holds; elements still in backend I/O keep
 *     their mappings, and device_status reads back non-zero until the last
 *     of them is pushed (spec 2.4.1: the driver waits for 0), so no buffer
 *     the driver frees is written afterwards. Pushes of elements popped
 *     before a reset only unmap them: they never reach the new rings.
 *
 * Offered always: VIRTIO_F_VERSION_1 (required of the driver: a driver
 * without it fails FEATURES_OK), VIRTIO_F_INDIRECT_DESC and
 * VIRTIO_F_RING_EVENT_IDX unless the device sets HV_VIRTIO_NO_INDIRECT or
 * HV_VIRTIO_NO_EVENT_IDX. Never offered: ACCESS_PLATFORM, RING_PACKED
 * (packed rings are not implemented), NOTIFICATION_DATA.
 */
#ifndef HV_VIRTIO_H
#define HV_VIRTIO_H

#include <stdint.h>
#include <sys/uio.h>

#include "hv/dma.h"
#include "hv/host.h"
#include "hv/pci.h"

/* ---- the spec's numbers a device needs ---- */
#define HV_VIRTIO_PCI_VENDOR 0x1af4
#define HV_VIRTIO_PCI_DEVICE_BASE 0x1040 /* + device type */

/* device types (spec 5) */
#define HV_VIRTIO_ID_NET 1
#define HV_VIRTIO_ID_BLOCK 2
#define HV_VIRTIO_ID_CONSOLE 3
#define HV_VIRTIO_ID_BALLOON 5
#define HV_VIRTIO_ID_SCSI 8
#define HV_VIRTIO_ID_GPU 16

/* transport feature bits (spec 6) */
#define HV_VIRTIO_F_INDIRECT_DESC 28
#define HV_VIRTIO_F_RING_EVENT_IDX 29
#define HV_VIRTIO_F_VERSION_1 32
#define HV_VIRTIO_F_ACCESS_PLATFORM 33
#define HV_VIRTIO_F_RING_PACKED 34
#define HV_VIRTIO_BIT(b) (1ull << (b))

/* device_status bits (spec 2.1) */
#define HV_VIRTIO_S_ACKNOWLEDGE 0x01
#define HV_VIRTIO_S_DRIVER 0x02
#define HV_VIRTIO_S_DRIVER_OK 0x04
#define HV_VIRTIO_S_FEATURES_OK 0x08
#define HV_VIRTIO_S_NEEDS_RESET 0x40
#define HV_VIRTIO_S_FAILED 0x80

#define HV_VIRTIO_NO_VECTOR 0xffff /* VIRTIO_MSI_NO_VECTOR */
#define HV_VIRTQ_MAX_SIZE 32768    /* split rings: a power of two up to it */

struct hv_virtio; /* one transport instance, the library's */
struct hv_virtq;  /* one of its queues */

/*
 * One popped descriptor chain. The device owns the struct and its iovec
 * array (a preallocated request slot: no malloc per request); the
 * library fills it. The readable part comes first in iov[] (out[0 ..
 * out_num)), the writable part after it (in[0 .. in_num)); a descriptor
 * may take more than one iovec where guest RAM regions meet. Valid from
 * a successful hv_virtq_pop() until hv_virtq_push() or hv_virtq_unpop().
 */
struct hv_virtq_elem {
	struct iovec *out; /* readable (driver -> device) */
	struct iovec *in;  /* writable (device -> driver) */
	int out_num, in_num;
	uint64_t out_len, in_len; /* bytes of each part */
	uint16_t head;            /* the chain's head descriptor index */
	uint16_t queue;           /* the queue it came from */
	uint32_t gen;             /* the library's: the queue's epoch */
	struct hv_dma dma;        /* the library's: the mapping behind iov */
};

/* Prepare an element over iov[max_iov] (once, at create). */
void hv_virtq_elem_init(struct hv_virtq_elem *e, struct iovec *iov,
			int max_iov);

struct hv_virtio_ops {
	/* The driver notified queue `vq` (or hv_virtio_kick() asked): pop and
	 * handle what is there. Required. */
	void (*notify)(struct hv_ctx *ctx, void *opaque, struct hv_virtq *vq);
	/* The driver reset the device (device_status = 0), or the device's
	 * reset op called hv_virtio_reset(). Give back every element the
	 * device holds that is not in backend I/O (hv_virtq_unpop or
	 * hv_virtq_push) and forget queue state; elements in backend I/O are
	 * pushed as usual when they complete. Optional. */
	void (*reset)(struct hv_ctx *ctx, void *opaque);
	/* The driver asks for FEATURES_OK with `features` (already checked to
	 * be a subset of the offer with VERSION_1): 0 accepts, anything else
	 * leaves FEATURES_OK clear. Optional (NULL accepts). */
	int (*features_ok)(struct hv_ctx *ctx, void *opaque, uint64_t features);
	/* The driver wrote `size` bytes (1, 2 or 4) of value at offset `off`
	 * of the device config; off + size <= config_size. The device updates
	 * its config bytes if the field is writable. Optional (NULL: the
	 * config is read-only and writes are dropped). */
	void (*config_write)(struct hv_ctx *ctx, void *opaque, unsigned off,
			     unsigned size, uint32_t value);
	/* The driver set DRIVER_OK: the device is live. Optional. */
	void (*driver_ok)(struct hv_ctx *ctx, void *opaque);
};

#define HV_VIRTIO_NO_INDIRECT 0x1u  /* do not offer VIRTIO_F_INDIRECT_DESC */
#define HV_VIRTIO_NO_EVENT_IDX 0x2u /* do not offer VIRTIO_F_RING_EVENT_IDX */
#define HV_VIRTIO_NOTIFY_MAIN 0x4u  /* notify on the main thread (see above) */

struct hv_virtio_info {
	uint16_t device_type;    /* HV_VIRTIO_ID_*: PCI device 0x1040 + it */
	uint16_t num_queues;     /* 1 .. 1024 */
	uint16_t queue_size_max; /* power of two, 1 .. HV_VIRTQ_MAX_SIZE */
	uint16_t subsystem;      /* PCI subsystem id; 0: 0x1100 (>= 0x40) */
	uint32_t class_code;     /* PCI class << 16 | subclass << 8 | prog-if */
	uint32_t flags;          /* HV_VIRTIO_NO_* */
	uint64_t features;       /* the device's own feature bits (0-23,
				    and 50+ ...); the transport adds its own */
	/* The device config (spec: little-endian fields); the library reads
	 * it for the driver and never writes it. The memory is the device's
	 * and must stay put; update it, then hv_virtio_config_changed(). */
	void *config;
	uint32_t config_size; /* <= 4096 */
	const struct hv_virtio_ops *ops;
	void *opaque; /* passed to every op */
};

/*
 * Register the calling device as a virtio PCI function (from create
 * only): 0, -EINVAL (bad info: hv_error said which), -ENOMEM, or what
 * hv_pci_register returned. *out lives until hv_virtio_destroy.
 */
HV_MUST_CHECK int hv_virtio_pci_create(struct hv_ctx *ctx,
				       const struct hv_virtio_info *info,
				       struct hv_virtio **out);
/* Free it (from the device's destroy). */
void hv_virtio_destroy(struct hv_virtio *vio);
/* Power-on state, from the device's reset op (the core has drained its
 * I/O): the device's virtio reset op runs, queues are unmapped, status,
 * features and vectors cleared, the interrupt deasserted. */
void hv_virtio_reset(struct hv_virtio *vio);

/* Queue n (0 .. num_queues-1), or NULL. */
struct hv_virtq *hv_virtio_queue(struct hv_virtio *vio, unsigned n);
/* The features the driver accepted (valid once FEATURES_OK is set). */
uint64_t hv_virtio_features(const struct hv_virtio *vio);
static inline int hv_virtio_has(const struct hv_virtio *vio, unsigned bit)
{
	return (hv_virtio_features(vio) >> bit) & 1;
}
/* The device_status register as the driver sees it. */
uint8_t hv_virtio_status(const struct hv_virtio *vio);
/* The device changed its config bytes: bump config_generation and raise
 * the config interrupt (once DRIVER_OK is set). */
void hv_virtio_config_changed(struct hv_virtio *vio);
/* A device-detected guest error (a request the spec forbids): log `why`
 * once, enter DEVICE_NEEDS_RESET, raise the config interrupt, stop
 * popping from every queue until the driver resets. */
void hv_virtio_needs_reset(struct hv_virtio *vio, const char *why);
/* Run notify for every enabled queue and raise each queue's interrupt
 * (after restore or resume: no wake-up is lost). */
void hv_virtio_kick(struct hv_virtio *vio);

/* Transport state for the device's save/restore ops: status, features,
 * vectors, every queue (addresses, size, indices). Save needs no element
 * in flight (the core pauses and drains first; a device holding elements,
 * such as rx buffers, unpops them in its pause op): -EBUSY otherwise.
 * Restore (into a created device) remaps the enabled queues; -EINVAL for
 * a stream it does not understand or a queue it cannot map. Then call
 * hv_virtio_kick() once the device's own state is back. */
HV_MUST_CHECK int hv_virtio_save(struct hv_virtio *vio, struct hv_state *st);
HV_MUST_CHECK int hv_virtio_restore(struct hv_virtio *vio, struct hv_state *st);

/* ---- queues ---- */
unsigned hv_virtq_index(const struct hv_virtq *vq);
/* The size the driver chose; 0 while the queue is not enabled. */
unsigned hv_virtq_size(const struct hv_virtq *vq);
int hv_virtq_enabled(const struct hv_virtq *vq);
/* The device's own pointer for this queue (a request pool, a backend). */
void hv_virtq_set_opaque(struct hv_virtq *vq, void *p);
void *hv_virtq_opaque(const struct hv_virtq *vq);

/*
 * Take the next available chain into *e (initialised with
 * hv_virtq_elem_init and not holding a chain): 1 popped, 0 nothing
 * available (with EVENT_IDX the driver is asked to notify on its next
 * buffer: wait for the notify), -EIO the queue is broken or not enabled
 * (see the guarantees above: the device does nothing more with it).
 */
HV_MUST_CHECK int hv_virtq_pop(struct hv_virtq *vq, struct hv_virtq_elem *e);
/*
 * Give the element back to the driver: unmap it, `written` bytes of its
 * writable part (from in[0]) marked written, and add it to the used ring.
 * Not visible to the driver until hv_virtq_flush(): push several (a
 * mergeable rx frame's buffers, a batch of completions), flush once.
 */
void hv_virtq_push(struct hv_virtq *vq, struct hv_virtq_elem *e,
		   uint32_t written);
/* Publish the pushed entries (used idx, release) and interrupt the driver
 * if it asked for one (EVENT_IDX's used_event, or no NO_INTERRUPT flag). */
void hv_virtq_flush(struct hv_virtq *vq);
/* Return an element not used: it is unmapped and will be popped again
 * (undo pops in reverse order, the last popped first). */
void hv_virtq_unpop(struct hv_virtq *vq, struct hv_virtq_elem *e);

/* ---- iovec helpers for elements ---- */
/* Copy len bytes at offset off of iov[0..n) into buf / from buf: the
 * bytes copied (short at the end of the iovecs). */
size_t hv_iov_to_buf(const struct iovec *iov, int n, size_t off, void *buf,
		     size_t len);
size_t hv_iov_from_buf(const struct iovec *iov, int n, size_t off,
		       const void *buf, size_t len);
/* dst[] = the bytes [off, off+len) of iov[0..n): the number of entries, or
 * -ENOSPC (more than max), -ERANGE (the iovecs are shorter). */
int hv_iov_slice(const struct iovec *iov, int n, size_t off, size_t len,
		 struct iovec *dst, int max);

#endif
