/* SPDX-License-Identifier: MIT */
/*
 * hv SDK: scatter-gather DMA mappings of guest memory that stay valid from
 * the callback that maps them until the device unmaps them: asynchronous
 * disk I/O (hv_disk_submit) straight into guest RAM, a virtio descriptor
 * chain, an IDE PRD table.
 *
 * Usage: one struct hv_dma and one iovec array per request, both in the
 * device's preallocated request slot (no malloc per I/O):
 *
 *	hv_dma_init(&req->dma, req->iov, 16);
 *	rc = hv_dma_add(ctx, &req->dma, hdr_gpa, 16, HV_DMA_TO_DEVICE);
 *	rc = hv_dma_add(ctx, &req->dma, buf_gpa, n, HV_DMA_FROM_DEVICE);
 *	... req->dma.iov[1 .. req->dma.iovcnt) go to hv_disk_submit ...
 *	hv_dma_unmap(ctx, &req->dma, bytes_written);  (in done())
 *
 * Guarantees:
 *   - Every iovec lies wholly inside one guest RAM region (ROM too for
 *     HV_DMA_TO_DEVICE ranges); MMIO and unassigned addresses are never
 *     mapped. A range is split where regions meet.
 *   - A failed hv_dma_add changes nothing: the ranges added before stay
 *     mapped, the failed one adds no iovec.
 *   - The pointers stay valid until hv_dma_unmap: guest memory under a
 *     live mapping is not removed or remapped (the core counts live
 *     mappings per memory region; removing memory waits for zero).
 *   - Written pages are marked dirty (snapshots, migration) and the
 *     interpreter drops decoded code for them at unmap, not at map: a
 *     device writes between the two without telling the core.
 *
 * Threads and locks: hv_dma_add and hv_dma_unmap may be called from any
 * callback of the instance that owns the mapping (a vCPU thread's region
 * access or the main thread), with that instance's domain lock held as the
 * core always holds it. A mapping belongs to the instance that added its
 * first range; only that instance unmaps it. No lock is taken.
 *
 * Lifetime: the struct hv_dma and its iovec array are the device's memory
 * and must stay put (not be moved, freed or re-initialised) while mapped;
 * the core links the mapping through hv_dma.core. The device reads iov[]
 * but never changes iov[0 .. iovcnt). Mappings an instance still holds
 * when its reset op returns, or when it is destroyed, are unmapped by the
 * core with a warning naming the instance, as if every writable byte had
 * been written: a buggy device cannot leave a dangling mapping.
 */
#ifndef HV_DMA_H
#define HV_DMA_H

#include "hv/host.h"

#define HV_DMA_TO_DEVICE 0x1u   /* the device reads guest memory */
#define HV_DMA_FROM_DEVICE 0x2u /* the device writes guest memory */
#define HV_DMA_BIDIRECTIONAL (HV_DMA_TO_DEVICE | HV_DMA_FROM_DEVICE)

struct hv_dma {
	uint32_t size;     /* sizeof(struct hv_dma) in the plugin: hv_dma_init */
	uint32_t reserved;
	struct iovec *iov; /* the device's array of max_iov entries */
	int max_iov;
	int iovcnt;        /* entries filled so far (read only) */
	uint64_t len;      /* bytes mapped so far (read only) */
	void *core[6];     /* the core's while mapped */
};

/* Prepare an unmapped hv_dma over iov[max_iov]. Any thread; no core call. */
static inline void hv_dma_init(struct hv_dma *dma, struct iovec *iov,
			       int max_iov)
{
	memset(dma, 0, sizeof(*dma));
	dma->size = sizeof(*dma);
	dma->iov = iov;
	dma->max_iov = max_iov;
}

/*
 * Append [gpa, gpa+len) to the mapping. flags: HV_DMA_TO_DEVICE (the
 * device only reads it), HV_DMA_FROM_DEVICE or HV_DMA_BIDIRECTIONAL (it
 * writes it). Writable ranges come after every read-only range (the virtio
 * rule for a descriptor chain). Returns the number of iovecs added (0 for
 * len 0), or:
 *   -EFAULT  some byte is not guest RAM (or is ROM and the range is
 *            writable), or gpa + len wraps around
 *   -ENOSPC  the range needs more iovecs than are left in iov[]
 *   -EINVAL  bad flags, a read-only range after a writable one, or dma
 *            was not initialised by hv_dma_init
 *   -ENOSYS  a core without the service
 */
__attribute__((warn_unused_result)) static inline int
hv_dma_add(struct hv_ctx *ctx, struct hv_dma *dma, uint64_t gpa, uint64_t len,
	   unsigned flags)
{
	const struct hv_host *h = ctx->host;

	if (!HV_HOST_HAS(ctx, dma_add))
		return -ENOSYS;
	return h->dma_add(ctx, dma, gpa, len, flags);
}

/* One range in one step: hv_dma_init, then hv_dma_add. */
__attribute__((warn_unused_result)) static inline int
hv_dma_map(struct hv_ctx *ctx, struct hv_dma *dma, uint64_t gpa, uint64_t len,
	   unsigned flags, struct iovec *iov, int max_iov)
{
	hv_dma_init(dma, iov, max_iov);
	return hv_dma_add(ctx, dma, gpa, len, flags);
}

/*
 * End the mapping. written: how many bytes the device wrote into the
 * writable ranges, counted from the first writable iovec in order (what
 * virtio calls the used length; larger values are clamped). Those pages
 * are marked dirty and the interpreter drops decoded code for them;
 * read-only ranges mark nothing. Afterwards dma is empty (iovcnt 0, same
 * iov array) and may be reused with hv_dma_add. Unmapping an empty or
 * already unmapped hv_dma does nothing.
 */
static inline void hv_dma_unmap(struct hv_ctx *ctx, struct hv_dma *dma,
				uint64_t written)
{
	const struct hv_host *h = ctx->host;

	if (!HV_HOST_HAS(ctx, dma_unmap))
		return;
	h->dma_unmap(ctx, dma, written);
}

#endif
