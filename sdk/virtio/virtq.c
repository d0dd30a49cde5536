/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.x, spec 2.7): mapping the rings when the
 * driver enables a queue, walking descriptor chains into hv_dma-mapped
 * elements, and the used ring with its interrupt suppression.
 *
 * Every descriptor is copied out of guest memory once and checked in the
 * copy. A fault ends the walk with a message naming it (vio_fault): the
 * device enters NEEDS_RESET and the queue pops nothing more.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "virtio_int.h"

static struct hv_ctx *vq_ctx(const struct hv_virtq *vq)
{
	return vq->vio->ctx;
}

static int event_idx(const struct hv_virtq *vq)
{
	return hv_virtio_has(vq->vio, HV_VIRTIO_F_RING_EVENT_IDX);
}

void hv_virtq_elem_init(struct hv_virtq_elem *e, struct iovec *iov,
			int max_iov)
{
	memset(e, 0, sizeof(*e));
	hv_dma_init(&e->dma, iov, max_iov);
	e->out = e->in = iov;
}

/* One ring part as one contiguous mapping (the rings are read through a
 * plain pointer, so a part split where RAM regions meet is refused). */
static int map_part(struct hv_virtq *vq, struct hv_dma *dma, struct iovec *iov,
		    uint64_t gpa, uint64_t len, unsigned flags, void **out)
{
	int rc = hv_dma_map(vq_ctx(vq), dma, gpa, len, flags, iov, 1);

	if (rc == 1) {
		*out = iov->iov_base;
		return 0;
	}
	if (rc == -ENOSPC)
		vio_fault(vq->vio, "queue %u: ring at %#llx (%llu bytes) spans two memory regions",
			  vq->index, (unsigned long long)gpa, (unsigned long long)len);
	else
		vio_fault(vq->vio, "queue %u: ring at %#llx (%llu bytes) is not guest RAM",
			  vq->index, (unsigned long long)gpa, (unsigned long long)len);
	return -EFAULT;
}

int vq_map(struct hv_virtq *vq)
{
	uint64_t n = vq->size;
	void *p;

	if (!n || (n & (n - 1)) || n > vq->vio->info.queue_size_max) {
		vio_fault(vq->vio, "queue %u: size %llu is not a power of two up to %u",
			  vq->index, (unsigned long long)n, vq->vio->info.queue_size_max);
		return -EINVAL;
	}
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3)) {
		vio_fault(vq->vio, "queue %u: misaligned rings (desc %#llx, avail %#llx, used %#llx)",
			  vq->index, (unsigned long long)vq->desc_gpa,
			  (unsigned long long)vq->avail_gpa, (unsigned long long)vq->used_gpa);
		return -EINVAL;
	}
	if (map_part(vq, &vq->dma_desc, &vq->iov_desc, vq->desc_gpa, 16 * n,
		     HV_DMA_TO_DEVICE, &p))
		goto out_fail;
	vq->desc = p;
	if (map_part(vq, &vq->dma_avail, &vq->iov_avail, vq->avail_gpa, 6 + 2 * n,
		     HV_DMA_TO_DEVICE, &p))
		goto out_desc;
	vq->avail = p;
	if (map_part(vq, &vq->dma_used, &vq->iov_used, vq->used_gpa, 6 + 8 * n,
		     HV_DMA_FROM_DEVICE, &p))
		goto out_avail;
	vq->used = p;
	vq->last_avail = vq->used_idx = vq->published = 0;
	vq->quiet = 0;
	vq->enabled = 1;
	return 0;
out_avail:
	hv_dma_unmap(vq_ctx(vq), &vq->dma_avail, 0);
out_desc:
	hv_dma_unmap(vq_ctx(vq), &vq->dma_desc, 0);
out_fail:
	vq->desc = NULL, vq->avail = vq->used = NULL;
	return -EFAULT;
}

void vq_unmap(struct hv_virtq *vq)
{
	if (!vq->enabled)
		return;
	hv_dma_unmap(vq_ctx(vq), &vq->dma_desc, 0);
	hv_dma_unmap(vq_ctx(vq), &vq->dma_avail, 0);
	/* the whole used ring counts as written: its pages are dirty */
	hv_dma_unmap(vq_ctx(vq), &vq->dma_used, 6 + 8ull * vq->size);
	vq->desc = NULL, vq->avail = vq->used = NULL;
	vq->enabled = 0;
}

/* The queue's power-on registers; stale elements stay stale. */
void vq_clear(struct hv_virtq *vq)
{
	vq_unmap(vq);
	vq->size = vq->vio->info.queue_size_max;
	vq->vector = HV_VIRTIO_NO_VECTOR;
	vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
	vq->last_avail = vq->used_idx = vq->published = 0;
	vq->quiet = 0;
	vq->gen++;
}

static uint16_t *used_idx_p(struct hv_virtq *vq)
{
	return &vq->used[1];
}

static uint16_t *avail_event_p(struct hv_virtq *vq)
{
	return &vq->used[2 + 4 * vq->size];
}

static uint16_t *used_event_p(struct hv_virtq *vq)
{
	return &vq->avail[2 + vq->size];
}

/* Return a consumed head to the driver unused (after a fault). */
static void used_add(struct hv_virtq *vq, uint16_t head, uint32_t len)
{
	uint32_t *ent = (uint32_t *)&vq->used[2] + 2 * (vq->used_idx & (vq->size - 1));

	ring_st(&ent[0], (uint32_t)head);
	ring_st(&ent[1], len);
	vq->used_idx++;
}

static int elem_add(struct hv_virtq *vq, struct hv_virtq_elem *e,
		    const struct vq_desc *d, int *writable)
{
	int w = !!(d->flags & VQ_DESC_F_WRITE), before = e->dma.iovcnt, rc;

	if (!w && *writable) {
		vio_fault(vq->vio, "queue %u: chain %u: a readable descriptor after a writable one",
			  vq->index, e->head);
		return -EINVAL;
	}
	rc = hv_dma_add(vq_ctx(vq), &e->dma, d->addr, d->len,
			w ? HV_DMA_FROM_DEVICE : HV_DMA_TO_DEVICE);
	if (rc < 0) {
		vio_fault(vq->vio, "queue %u: chain %u: buffer %#llx+%u %s", vq->index,
			  e->head, (unsigned long long)d->addr, d->len,
			  rc == -ENOSPC ? "needs more iovecs than the device takes" :
			  rc == -EFAULT ? "is not guest RAM" : "cannot be mapped");
		return rc;
	}
	if (w && !*writable) {
		*writable = 1;
		e->out_num = before;
	}
	if (w)
		e->in_len += d->len;
	else
		e->out_len += d->len;
	return 0;
}

static void desc_load(struct vq_desc *d, const struct vq_desc *src, int aligned)
{
	const volatile uint8_t *p = (const volatile uint8_t *)src;
	uint8_t b[16];

	if (aligned) {
		d->addr = ring_ld(&src->addr);
		d->len = ring_ld(&src->len);
		d->flags = ring_ld(&src->flags);
		d->next = ring_ld(&src->next);
		return;
	}
	/* an indirect table may sit at any address: bytes, each read once */
	for (int i = 0; i < 16; i++)
		b[i] = p[i];
	memcpy(d, b, sizeof(*d));
}

/* An indirect descriptor: its table, checked and mapped (valid for the
 * rest of this callback, which is all the walk needs). */
static const struct vq_desc *indirect_table(struct hv_virtq *vq, uint16_t head,
					    const struct vq_desc *d, unsigned *n)
{
	const char *why = NULL;
	const struct vq_desc *t = NULL;

	if (!hv_virtio_has(vq->vio, HV_VIRTIO_F_INDIRECT_DESC))
		why = "an indirect descriptor without VIRTIO_F_INDIRECT_DESC";
	else if (d->flags & VQ_DESC_F_NEXT)
		why = "an indirect descriptor with NEXT set";
	else if (!d->len || d->len % 16 || d->len / 16 > HV_VIRTQ_MAX_SIZE)
		why = "an indirect table whose length is not 16 to 512K bytes in 16s";
	else if (!(t = hv_mem_map(vq_ctx(vq), d->addr, d->len, 0)))
		why = "an indirect table outside guest RAM";
	if (why) {
		vio_fault(vq->vio, "queue %u: chain %u: %s (%#llx+%u)", vq->index, head,
			  why, (unsigned long long)d->addr, d->len);
		return NULL;
	}
	*n = d->len / 16;
	return t;
}

/* Walk the chain at head into e: 0, or -errno after vio_fault. */
static int walk(struct hv_virtq *vq, struct hv_virtq_elem *e, uint16_t head)
{
	const struct vq_desc *table = vq->desc;
	unsigned max = vq->size, i = head, count = 0;
	int indirect = 0, writable = 0, rc;
	struct vq_desc d;

	for (;;) {
		if (++count > max) {
			vio_fault(vq->vio, "queue %u: chain %u is longer than its %s (%u): a loop?",
				  vq->index, head, indirect ? "indirect table" : "queue", max);
			return -ELOOP;
		}
		desc_load(&d, &table[i], !indirect);
		if (d.flags & VQ_DESC_F_INDIRECT) {
			if (indirect) {
				vio_fault(vq->vio, "queue %u: chain %u: an indirect table inside an indirect table",
					  vq->index, head);
				return -EINVAL;
			}
			if (!(table = indirect_table(vq, head, &d, &max)))
				return -EINVAL;
			indirect = 1, i = 0, count = 0;
			continue;
		}
		if ((rc = elem_add(vq, e, &d, &writable)))
			return rc;
		if (!(d.flags & VQ_DESC_F_NEXT))
			break;
		if ((i = d.next) >= max) {
			vio_fault(vq->vio, "queue %u: chain %u: next index %u outside the %s of %u",
				  vq->index, head, i, indirect ? "indirect table" : "queue", max);
			return -EINVAL;
		}
	}
	if (!writable)
		e->out_num = e->dma.iovcnt;
	e->in_num = e->dma.iovcnt - e->out_num;
	e->out = e->dma.iov;
	e->in = e->dma.iov + e->out_num;
	return 0;
}

/*
 * Driver notifications (spec 2.7.7, 2.7.10) are wanted only while the
 * device waits: they are turned on when a pop finds the queue empty and
 * off by the next pop, so a driver that adds buffers while the device is
 * draining them does not notify (a VM exit each) for every one of them.
 * With EVENT_IDX "off" is simply not moving avail_event past the entry
 * that woke the device; without it, VIRTQ_USED_F_NO_NOTIFY. Every device
 * therefore pops until 0 or runs the queue again on its own (a device out
 * of request slots re-runs it when one frees), as the SDK requires.
 */
static void notify_on(struct hv_virtq *vq)
{
	if (event_idx(vq))
		ring_st(avail_event_p(vq), vq->last_avail);
	else /* always: a restored VM's rings may hold the flag */
		ring_st(&vq->used[0], 0);
	vq->quiet = 0;
}

static void notify_off(struct hv_virtq *vq)
{
	if (vq->quiet)
		return;
	if (!event_idx(vq))
		ring_st(&vq->used[0], VQ_USED_F_NO_NOTIFY);
	vq->quiet = 1;
}

/* Whether the driver made a buffer available; if not, asks it to notify
 * when it adds one (and re-checks: it may just have). */
static int avail_pending(struct hv_virtq *vq, uint16_t *idx)
{
	*idx = __atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE);
	if (*idx != vq->last_avail)
		return 1;
	notify_on(vq);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*idx = __atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE);
	return *idx != vq->last_avail;
}

int hv_virtq_pop(struct hv_virtq *vq, struct hv_virtq_elem *e)
{
	struct hv_virtio *vio = vq->vio;
	uint16_t idx, head;

	if (!vq->enabled || vio->broken || vio->reset_pending)
		return -EIO;
	if (!avail_pending(vq, &idx))
		return 0;
	if ((uint16_t)(idx - vq->last_avail) > vq->size) {
		vio_fault(vio, "queue %u: avail idx %u is more than %u ahead of %u",
			  vq->index, idx, vq->size, vq->last_avail);
		return -EIO;
	}
	head = ring_ld(&vq->avail[2 + (vq->last_avail & (vq->size - 1))]);
	vq->last_avail++;
	notify_off(vq);
	if (head >= vq->size) {
		vio_fault(vio, "queue %u: avail entry names descriptor %u of %u",
			  vq->index, head, vq->size);
		return -EIO;
	}
	hv_dma_init(&e->dma, e->dma.iov, e->dma.max_iov);
	e->out_num = e->in_num = 0;
	e->out_len = e->in_len = 0;
	e->head = head;
	e->queue = vq->index;
	e->gen = vq->gen;
	if (walk(vq, e, head)) {
		hv_dma_unmap(vq_ctx(vq), &e->dma, 0);
		used_add(vq, head, 0);
		hv_virtq_flush(vq);
		return -EIO;
	}
	vio->inflight++;
	return 1;
}

void hv_virtq_push(struct hv_virtq *vq, struct hv_virtq_elem *e,
		   uint32_t written)
{
	if (written > e->in_len)
		written = (uint32_t)e->in_len;
	hv_dma_unmap(vq_ctx(vq), &e->dma, written);
	if (e->gen == vq->gen && vq->enabled)
		used_add(vq, e->head, written);
	vio_elem_done(vq->vio);
}

void hv_virtq_unpop(struct hv_virtq *vq, struct hv_virtq_elem *e)
{
	hv_dma_unmap(vq_ctx(vq), &e->dma, 0);
	if (e->gen == vq->gen && vq->enabled)
		vq->last_avail--;
	vio_elem_done(vq->vio);
}

/* vring_need_event (spec 2.7.10): has new_idx passed event since old? */
static int need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

void hv_virtq_flush(struct hv_virtq *vq)
{
	uint16_t old = vq->published, now = vq->used_idx;
	int want;

	if (!vq->enabled || old == now)
		return;
	__atomic_store_n(used_idx_p(vq), now, __ATOMIC_RELEASE);
	vq->published = now;
	/* the driver reads used idx, then its event: so must we, the other way */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (event_idx(vq))
		want = need_event(ring_ld(used_event_p(vq)), now, old);
	else
		want = !(ring_ld(&vq->avail[0]) & VQ_AVAIL_F_NO_INTERRUPT);
	if (want)
		vio_queue_irq(vq);
}

unsigned hv_virtq_index(const struct hv_virtq *vq)
{
	return vq->index;
}

unsigned hv_virtq_size(const struct hv_virtq *vq)
{
	return vq->enabled ? vq->size : 0;
}

int hv_virtq_enabled(const struct hv_virtq *vq)
{
	return vq->enabled;
}

void hv_virtq_set_opaque(struct hv_virtq *vq, void *p)
{
	vq->opaque = p;
}

void *hv_virtq_opaque(const struct hv_virtq *vq)
{
	return vq->opaque;
}

/* ---- iovec helpers ---- */

size_t hv_iov_to_buf(const struct iovec *iov, int n, size_t off, void *buf,
		     size_t len)
{
	size_t done = 0;

	for (int i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len - done)
			l = len - done;
		memcpy((char *)buf + done, (char *)iov[i].iov_base + off, l);
		done += l, off = 0;
	}
	return done;
}

size_t hv_iov_from_buf(const struct iovec *iov, int n, size_t off,
		       const void *buf, size_t len)
{
	size_t done = 0;

	for (int i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len - done)
			l = len - done;
		memcpy((char *)iov[i].iov_base + off, (const char *)buf + done, l);
		done += l, off = 0;
	}
	return done;
}

int hv_iov_slice(const struct iovec *iov, int n, size_t off, size_t len,
		 struct iovec *dst, int max)
{
	int k = 0;

	for (int i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len)
			l = len;
		if (k == max)
			return -ENOSPC;
		dst[k].iov_base = (char *)iov[i].iov_base + off;
		dst[k++].iov_len = l;
		len -= l, off = 0;
	}
	return len ? -ERANGE : k;
}
