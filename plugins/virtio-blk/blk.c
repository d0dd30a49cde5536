/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk: a virtio 1.x block device (PCI 1af4:1042, Linux virtio_blk)
 * over one hv_disk, on the SDK's virtio transport (hv/virtio.h).
 *
 * Requests are preallocated slots, queue_size per queue, each holding its
 * element, its data iovecs and its disk request: no malloc per I/O. A
 * notify pops chains into free slots and submits; done() writes the
 * status byte and pushes. Both run on the main thread
 * (HV_VIRTIO_NOTIFY_MAIN: the vCPU that kicked goes straight back to the
 * guest; each completion flushes at once: deferring the flush to the end
 * of the loop round cost more than it saved, bench/storage). When every
 * slot of a queue is busy the queue is marked starved and done() pops
 * again, so a notify is never lost. Discard and write-zeroes run their segments one
 * disk request after the other in the same slot; write-zeroes is the
 * core's HV_DISK_WRITE_ZEROES (it writes zeroes itself for formats
 * without their own), so VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP is accepted
 * and zeroes are always written (write_zeroes_may_unmap = 0).
 *
 * Errors: a range past the end of the disk, misaligned to its logical
 * sector, or a write to a read-only disk gets VIRTIO_BLK_S_IOERR without
 * touching the disk; an unknown type VIRTIO_BLK_S_UNSUPP; a chain without
 * room for the status byte is a driver bug the device cannot answer: the
 * transport's NEEDS_RESET.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hv/hv.h>
#include <hv/virtio.h>

/* feature bits (spec 5.2.3) */
#define BLK_F_SIZE_MAX 1
#define BLK_F_SEG_MAX 2
#define BLK_F_RO 5
#define BLK_F_BLK_SIZE 6
#define BLK_F_FLUSH 9
#define BLK_F_TOPOLOGY 10
#define BLK_F_MQ 12
#define BLK_F_DISCARD 13
#define BLK_F_WRITE_ZEROES 14

#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WRITE_ZEROES 13
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2
#define WZ_FLAG_UNMAP 1u
#define SUBMITTED (-1) /* req_start: done() will finish it */

#define SEG_MAX 126u          /* data descriptors per request */
#define SIZE_MAX_SEG (1u << 20)
#define REQ_MAX ((uint64_t)SEG_MAX * SIZE_MAX_SEG) /* what the limits allow */
#define ELEM_IOV (SEG_MAX + 8) /* + header, status, region splits */
#define DZ_SEGS 16u            /* discard / write-zeroes segments */
#define DZ_MAX_SECTORS (1u << 22)
#define STATE_VERSION 1

/* struct virtio_blk_config (spec 5.2.4), up to write_zeroes_may_unmap */
struct blk_config {
	uint64_t capacity;
	uint32_t size_max, seg_max;
	uint16_t cylinders;
	uint8_t heads, sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp, alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback, unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap, unused1[3];
} __attribute__((packed));

struct blk_seg {
	uint64_t sector;
	uint32_t num, flags;
};

struct vblk;

struct req {
	struct vblk *b;
	struct hv_virtq *vq;
	struct req *next_free;
	struct hv_virtq_elem elem;
	struct hv_disk_req dreq;
	uint32_t type, written;
	/* discard / write-zeroes: segments and where the current one is */
	struct blk_seg seg[DZ_SEGS];
	unsigned nseg, cur;
	uint64_t done_bytes;
	struct iovec iov[ELEM_IOV];
	struct iovec data[ELEM_IOV];
};

struct blkq {
	struct req *free;
	int starved;
};

struct vblk {
	struct hv_ctx *ctx;
	struct hv_virtio *vio;
	struct hv_disk *disk;
	struct hv_disk_info di;
	struct blk_config cfg;
	char serial[24]; /* GET_ID: up to 20 bytes, NUL-padded */
	unsigned nq, qsize;
	int paused;
	struct blkq *q;
	struct req *reqs;
};

static void queue_run(struct vblk *b, struct hv_virtq *vq);

static void req_free(struct req *r)
{
	struct blkq *q = &r->b->q[hv_virtq_index(r->vq)];

	r->next_free = q->free;
	q->free = r;
}

/* Write the status byte (the chain's last writable byte) and push. */
static void req_finish(struct req *r, uint8_t status)
{
	struct vblk *b = r->b;
	struct hv_virtq *vq = r->vq;
	struct hv_virtq_elem *e = &r->elem;

	hv_iov_from_buf(e->in, e->in_num, e->in_len - 1, &status, 1);
	hv_virtq_push(vq, e, r->written + 1);
	req_free(r);
	if (b->q[hv_virtq_index(vq)].starved && !b->paused)
		queue_run(b, vq);
}

static int range_ok(struct vblk *b, uint64_t sector, uint64_t len)
{
	uint64_t ls = b->di.logical_sector;

	return sector <= b->di.size / 512 && len <= b->di.size - sector * 512 &&
	       (sector * 512) % ls == 0 && len % ls == 0;
}

static void disk_done(struct hv_ctx *ctx, struct hv_disk_req *dr, int status);

static int submit(struct req *r, uint32_t op, uint64_t off, uint64_t len,
		  const struct iovec *iov, int iovcnt)
{
	r->dreq = (struct hv_disk_req){
		.op = op, .offset = off, .len = len, .iov = iov, .iovcnt = iovcnt,
		.done = disk_done, .opaque = r,
	};
	return hv_disk_submit(r->b->ctx, r->b->disk, &r->dreq);
}

/* The next piece of a discard or write-zeroes: 0 submitted, 1 all done,
 * -errno failed. */
static int dz_next(struct req *r)
{
	while (r->cur < r->nseg) {
		struct blk_seg *s = &r->seg[r->cur];
		uint64_t total = (uint64_t)s->num * 512, left = total - r->done_bytes;
		uint64_t off = s->sector * 512 + r->done_bytes, n;

		if (!left) {
			r->cur++, r->done_bytes = 0;
			continue;
		}
		if (r->type == T_DISCARD) {
			r->done_bytes = total;
			return submit(r, HV_DISK_DISCARD, off, left, NULL, 0);
		}
		/* the core writes the zeroes for formats without their own */
		n = left < HV_DISK_WRITE_ZEROES_MAX ? left : HV_DISK_WRITE_ZEROES_MAX;
		r->done_bytes += n;
		return submit(r, HV_DISK_WRITE_ZEROES, off, n, NULL, 0);
	}
	return 1;
}

static void disk_done(struct hv_ctx *ctx, struct hv_disk_req *dr, int status)
{
	struct req *r = dr->opaque;
	struct hv_virtq *vq = r->vq;
	int rc = 1;

	if (!status && (r->type == T_DISCARD || r->type == T_WRITE_ZEROES) &&
	    !(rc = dz_next(r)))
		return; /* the next segment is on its way */
	req_finish(r, status || rc < 0 ? S_IOERR : S_OK);
	hv_virtq_flush(vq);
}

/* Parse discard / write-zeroes segments from the data after the header. */
static uint8_t dz_parse(struct req *r, struct hv_virtq_elem *e)
{
	struct vblk *b = r->b;
	uint64_t bytes = e->out_len - 16;
	uint32_t bad_flags = r->type == T_DISCARD ? ~0u : ~WZ_FLAG_UNMAP;

	if (!bytes || bytes % 16 || bytes / 16 > DZ_SEGS)
		return S_IOERR;
	r->nseg = (unsigned)(bytes / 16), r->cur = 0, r->done_bytes = 0;
	hv_iov_to_buf(e->out, e->out_num, 16, r->seg, bytes);
	for (unsigned i = 0; i < r->nseg; i++) {
		struct blk_seg *s = &r->seg[i];

		if (s->flags & bad_flags)
			return S_UNSUPP;
		if (s->num > DZ_MAX_SECTORS || !range_ok(b, s->sector, (uint64_t)s->num * 512))
			return S_IOERR;
	}
	return S_OK;
}

/* Start one request: SUBMITTED (done() finishes it), or the status to
 * finish it with now. */
static int req_start(struct req *r)
{
	struct vblk *b = r->b;
	struct hv_virtq_elem *e = &r->elem;
	struct { uint32_t type, reserved; uint64_t sector; } hdr;
	uint64_t len;
	int n;

	if (hv_iov_to_buf(e->out, e->out_num, 0, &hdr, 16) < 16)
		return S_IOERR;
	r->type = hdr.type;
	switch (hdr.type) {
	case T_IN:
		len = e->in_len - 1;
		if (len > REQ_MAX || !range_ok(b, hdr.sector, len))
			return S_IOERR;
		if ((n = hv_iov_slice(e->in, e->in_num, 0, len, r->data, ELEM_IOV)) < 0)
			return S_IOERR;
		r->written = (uint32_t)len;
		break;
	case T_OUT:
		len = e->out_len - 16;
		if ((b->di.flags & HV_DISK_F_READONLY) || len > REQ_MAX ||
		    !range_ok(b, hdr.sector, len))
			return S_IOERR;
		if ((n = hv_iov_slice(e->out, e->out_num, 16, len, r->data, ELEM_IOV)) < 0)
			return S_IOERR;
		break;
	case T_FLUSH:
		if (b->di.flags & HV_DISK_F_READONLY)
			return S_OK; /* nothing was written */
		return submit(r, HV_DISK_FLUSH, 0, 0, NULL, 0) ? S_IOERR : SUBMITTED;
	case T_GET_ID:
		len = e->in_len - 1 < 20 ? e->in_len - 1 : 20;
		r->written = (uint32_t)hv_iov_from_buf(e->in, e->in_num, 0, b->serial, len);
		return S_OK;
	case T_DISCARD:
	case T_WRITE_ZEROES:
		if (r->type == T_DISCARD ? !(b->di.flags & HV_DISK_F_DISCARD) :
					   !!(b->di.flags & HV_DISK_F_READONLY))
			return S_UNSUPP;
		if ((n = dz_parse(r, e)) != S_OK)
			return n;
		n = dz_next(r);
		return n < 0 ? S_IOERR : n > 0 ? S_OK : SUBMITTED;
	default:
		return S_UNSUPP;
	}
	if (!len)
		return S_OK;
	return submit(r, hdr.type == T_IN ? HV_DISK_READ : HV_DISK_WRITE,
		      hdr.sector * 512, len, r->data, n) ? S_IOERR : SUBMITTED;
}

/* Pop and start requests until the queue is empty or the slots run out. */
static void queue_run(struct vblk *b, struct hv_virtq *vq)
{
	struct blkq *q = &b->q[hv_virtq_index(vq)];
	int rc;

	q->starved = 0;
	for (;;) {
		struct req *r = q->free;

		if (!r) {
			q->starved = 1;
			break;
		}
		q->free = r->next_free;
		r->vq = vq;
		r->written = 0;
		if ((rc = hv_virtq_pop(vq, &r->elem)) != 1) {
			req_free(r);
			break;
		}
		if (!r->elem.in_len) {
			hv_virtq_push(vq, &r->elem, 0);
			req_free(r);
			hv_virtio_needs_reset(b->vio, "virtio-blk: a request without a status byte");
			break;
		}
		if ((rc = req_start(r)) != SUBMITTED)
			req_finish(r, (uint8_t)rc);
	}
	hv_virtq_flush(vq);
}

static void blk_notify(struct hv_ctx *ctx, void *opaque, struct hv_virtq *vq)
{
	struct vblk *b = opaque;

	if (b->paused)
		b->q[hv_virtq_index(vq)].starved = 1;
	else
		queue_run(b, vq);
}

static const struct hv_virtio_ops vops = {
	.notify = blk_notify,
};

static void config_fill(struct vblk *b)
{
	struct blk_config *c = &b->cfg;
	unsigned exp = 0;

	while ((b->di.logical_sector << (exp + 1)) <= b->di.physical_sector)
		exp++;
	c->capacity = b->di.size / 512;
	c->size_max = SIZE_MAX_SEG;
	c->seg_max = SEG_MAX;
	c->blk_size = b->di.logical_sector;
	c->physical_block_exp = (uint8_t)exp;
	c->min_io_size = 1;
	c->num_queues = (uint16_t)b->nq;
	c->max_discard_sectors = DZ_MAX_SECTORS;
	c->max_discard_seg = DZ_SEGS;
	c->discard_sector_alignment = b->di.physical_sector / 512;
	c->max_write_zeroes_sectors = DZ_MAX_SECTORS;
	c->max_write_zeroes_seg = DZ_SEGS;
	c->write_zeroes_may_unmap = 0; /* zeroes are always written */
}

static uint64_t features(struct vblk *b)
{
	uint64_t f = HV_VIRTIO_BIT(BLK_F_SIZE_MAX) | HV_VIRTIO_BIT(BLK_F_SEG_MAX) |
		     HV_VIRTIO_BIT(BLK_F_BLK_SIZE) | HV_VIRTIO_BIT(BLK_F_TOPOLOGY) |
		     HV_VIRTIO_BIT(BLK_F_FLUSH) | HV_VIRTIO_BIT(BLK_F_MQ);

	if (b->di.flags & HV_DISK_F_READONLY)
		f |= HV_VIRTIO_BIT(BLK_F_RO);
	else
		f |= HV_VIRTIO_BIT(BLK_F_WRITE_ZEROES);
	if ((b->di.flags & HV_DISK_F_DISCARD) && !(b->di.flags & HV_DISK_F_READONLY))
		f |= HV_VIRTIO_BIT(BLK_F_DISCARD);
	return f;
}

static int slots_alloc(struct vblk *b)
{
	size_t n = (size_t)b->nq * b->qsize;

	if (!(b->q = calloc(b->nq, sizeof(*b->q))) || !(b->reqs = calloc(n, sizeof(*b->reqs))))
		return -ENOMEM;
	return 0;
}

/* Every slot free, each on its queue's list. */
static void slots_reset(struct vblk *b)
{
	for (unsigned qi = 0; qi < b->nq; qi++) {
		b->q[qi].free = NULL;
		b->q[qi].starved = 0;
		for (unsigned i = 0; i < b->qsize; i++) {
			struct req *r = &b->reqs[(size_t)qi * b->qsize + i];

			r->b = b;
			r->vq = hv_virtio_queue(b->vio, qi);
			hv_virtq_elem_init(&r->elem, r->iov, ELEM_IOV);
			req_free(r);
		}
	}
}

static int blk_create(struct hv_ctx *ctx)
{
	struct vblk *b = HV_STATE(ctx, struct vblk);
	struct hv_vm_info vm;
	int64_t nq = hv_config_get_int(ctx, "queues");
	int rc;

	b->ctx = ctx;
	b->qsize = (unsigned)hv_config_get_int(ctx, "queue_size");
	if (b->qsize & (b->qsize - 1)) {
		hv_error(ctx, "queue_size = %u: a power of two from 1 to 32768", b->qsize);
		return -EINVAL;
	}
	if (!nq && !hv_vm_info_get(ctx, &vm))
		nq = vm.cpus;
	b->nq = nq > 0 ? (unsigned)nq : 1;
	if (!(b->disk = hv_disk_attach(ctx, "disk")))
		return -ENODEV; /* the core said why, in one line naming the key */
	hv_disk_info_get(ctx, b->disk, &b->di);
	/* [disk] serial= (2.1), else the section's name */
	snprintf(b->serial, sizeof(b->serial), "%s",
		 b->di.serial[0] ? b->di.serial : hv_config_get_str(ctx, "disk"));
	config_fill(b);
	if ((rc = slots_alloc(b)))
		goto out_free;
	struct hv_virtio_info info = {
		.device_type = HV_VIRTIO_ID_BLOCK, .num_queues = (uint16_t)b->nq,
		.queue_size_max = (uint16_t)b->qsize, .class_code = 0x010000,
		.flags = HV_VIRTIO_NOTIFY_MAIN, .features = features(b),
		.config = &b->cfg, .config_size = sizeof(b->cfg),
		.ops = &vops, .opaque = b,
	};
	if ((rc = hv_virtio_pci_create(ctx, &info, &b->vio)))
		goto out_free;
	slots_reset(b);
	return 0;
out_free:
	free(b->reqs);
	free(b->q);
	return rc;
}

static void blk_destroy(struct hv_ctx *ctx)
{
	struct vblk *b = HV_STATE(ctx, struct vblk);

	hv_virtio_destroy(b->vio);
	free(b->reqs);
	free(b->q);
}

static void blk_reset(struct hv_ctx *ctx)
{
	struct vblk *b = HV_STATE(ctx, struct vblk);

	hv_virtio_reset(b->vio);
	slots_reset(b);
	b->paused = 0;
}

static void blk_pause(struct hv_ctx *ctx)
{
	HV_STATE(ctx, struct vblk)->paused = 1;
}

static void blk_resume(struct hv_ctx *ctx)
{
	struct vblk *b = HV_STATE(ctx, struct vblk);

	b->paused = 0;
	hv_virtio_kick(b->vio);
}

static int blk_save(struct hv_ctx *ctx, struct hv_state *st)
{
	struct vblk *b = HV_STATE(ctx, struct vblk);
	uint32_t v = STATE_VERSION;
	int rc;

	if ((rc = hv_state_write(ctx, st, &v, sizeof(v))))
		return rc;
	return hv_virtio_save(b->vio, st);
}

static int blk_restore(struct hv_ctx *ctx, struct hv_state *st)
{
	struct vblk *b = HV_STATE(ctx, struct vblk);
	uint32_t v;
	int rc;

	if ((rc = hv_state_read(ctx, st, &v, sizeof(v))))
		return rc;
	if (v != STATE_VERSION)
		return -EINVAL;
	slots_reset(b);
	if ((rc = hv_virtio_restore(b->vio, st)))
		return rc;
	hv_virtio_kick(b->vio);
	return 0;
}

static const struct hv_device_ops ops = {
	.create = blk_create,
	.destroy = blk_destroy,
	.reset = blk_reset,
	.pause = blk_pause,
	.resume = blk_resume,
	.save = blk_save,
	.restore = blk_restore,
};

static const struct hv_config_key keys[] = {
	HV_KEY_SECTION("disk", "disk", HV_KEY_REQUIRED, "the [disk NAME] section to serve"),
	HV_KEY_NUM("queues", "0", 0, 64, "request queues (VIRTIO_BLK_F_MQ); 0: the VM's cpus"),
	HV_KEY_NUM("queue_size", "256", 1, 32768, "descriptors per queue, a power of two"),
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(virtio-blk, device, &ops,
		 .version = "1.0",
		 .description = "virtio 1.x block device (PCI 1af4:1042) over a disk",
		 .instance_size = sizeof(struct vblk),
		 .keys = keys);
