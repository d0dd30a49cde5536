/* SPDX-License-Identifier: MIT */
/*
 * VHDX reads, writes, flushes and discards. Payload goes straight to the
 * file engine; BAT and sector-bitmap changes stay in memory, marked dirty,
 * until the next flush commits them through the log (log.c). Allocation
 * takes fresh MiB-aligned space at the end of the file (it reads as
 * zeroes), so an allocated-but-unflushed block is harmless after a crash.
 */
#include "vhdx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/dreq.h"

int vimg_begin_write(struct vimg *im)
{
	guid_t lg;
	int r;

	if (im->session)
		return 0;
	if (im->readonly)
		return -EROFS;
	guid_random(&im->hdr.file_write_guid);
	guid_random(&im->hdr.data_write_guid);
	guid_random(&lg);
	r = vimg_write_header(im, &lg);
	if (r)
		return r;
	im->session = 1;
	im->log_seq = 0;
	return 0;
}

void vimg_mark_bat(struct vimg *im, uint64_t idx)
{
	im->bat_dirty[idx * 8 / 4096] = 1;
	im->meta_dirty = 1;
}

int vimg_add_page(struct vimg *im, uint64_t off, const void *buf)
{
	struct vpage *n;

	for (int i = 0; i < im->npages; i++)
		if (im->pages[i].off == off) {
			memcpy(im->pages[i].buf, buf, 4096);
			return 0;
		}
	n = realloc(im->pages, sizeof(*n) * (size_t)(im->npages + 1));
	if (!n)
		return -ENOMEM;
	im->pages = n;
	n[im->npages].off = off;
	n[im->npages].buf = malloc(4096);
	if (!n[im->npages].buf)
		return -ENOMEM;
	memcpy(n[im->npages].buf, buf, 4096);
	im->npages++;
	im->meta_dirty = 1;
	return 0;
}

static int sb_bit(const struct vimg *im, uint64_t chunk, uint64_t i)
{
	return (im->sb[chunk][i / 8] >> (i % 8)) & 1;
}

/* Sector index inside its chunk's bitmap. */
static uint64_t sb_index(const struct vimg *im, uint64_t voff)
{
	uint64_t b = voff / im->block_size;
	return ((b % im->chunk_ratio) * im->block_size +
		voff % im->block_size) /
	       im->lsec;
}

/* Payload bytes from the file; synchronously through the overlay when a
 * read-only open replayed the log over them. */
static void read_file(struct dreq *t, struct vimg *im, uint64_t roff,
		      uint64_t len, uint64_t foff)
{
	uint8_t *buf;

	if (!vimg_ovl_hits(im, foff, len)) {
		dreq_io(t, im->f, HV_DISK_READ, roff, len, foff, NULL, NULL);
		return;
	}
	buf = malloc(len);
	if (!buf) {
		dreq_fail(t, -ENOMEM);
		return;
	}
	int64_t n = vimg_pread(im, buf, len, foff);
	if (n < 0) {
		dreq_fail(t, (int)n);
	} else {
		/* past the end of the file: zeroes, as piece_done does */
		memset(buf + n, 0, len - (uint64_t)n);
		dreq_copy(t, roff, buf, len);
	}
	free(buf);
}

static void read_range(struct dreq *t, struct vimg *im, uint64_t roff,
		       uint64_t voff, uint64_t len)
{
	while (len) {
		uint64_t b = voff / im->block_size, in = voff % im->block_size;
		uint64_t n =
			im->block_size - in < len ? im->block_size - in : len;
		uint64_t e = im->bat[vimg_bat_index(im, b)];

		switch (BAT_STATE(e)) {
		case PB_FULLY_PRESENT:
			read_file(t, im, roff, n, BAT_OFF(e) + in);
			break;
		case PB_PARTIALLY_PRESENT: {
			uint64_t c = b / im->chunk_ratio,
				 s = sb_index(im, voff);
			uint64_t ns = n / im->lsec, done = 0;
			if (vimg_load_sb(im, c)) {
				dreq_fail(t, -EIO);
				break;
			}
			while (done < ns) {
				int bit = sb_bit(im, c, s + done);
				uint64_t k = 1;
				while (done + k < ns &&
				       sb_bit(im, c, s + done + k) == bit)
					k++;
				uint64_t ro = roff + done * im->lsec,
					 vo = voff + done * im->lsec;
				if (bit)
					read_file(t, im, ro, k * im->lsec,
						  BAT_OFF(e) + in +
							  done * im->lsec);
				else
					dreq_parent(t, ro, k * im->lsec, vo);
				done += k;
			}
			break;
		}
		case PB_NOT_PRESENT:
		case PB_UNDEFINED:
			if (im->has_parent) {
				dreq_parent(t, roff, n, voff);
				break;
			}
			/* fall through */
		default:
			dreq_zero(t, roff, n);
		}
		roff += n;
		voff += n;
		len -= n;
	}
}

static int extend(struct vimg *im, uint64_t len, uint64_t *off)
{
	int r = hv_file_truncate(im->ctx, im->f, im->alloc_end + len);

	if (r)
		return r;
	*off = im->alloc_end;
	im->alloc_end += len;
	im->file_size = im->alloc_end;
	return 0;
}

/* Zero the parts of a reused block that this write does not cover. */
static int zero_rest(struct vimg *im, uint64_t off, uint64_t in, uint64_t n)
{
	uint8_t *z = calloc(1, MiB);
	int r = 0;

	if (!z)
		return -ENOMEM;
	for (uint64_t o = 0; o < im->block_size && !r; o += MiB) {
		uint64_t a = o, e = o + MiB;
		if (a >= in && e <= in + n)
			continue; /* the write covers this MiB */
		if (hv_file_pwrite(im->ctx, im->f, z, MiB, off + a) !=
		    (int64_t)MiB)
			r = -EIO;
	}
	free(z);
	return r;
}

struct bits {
	struct vimg *im;
	uint64_t chunk, first, count;
};

static void set_bits(struct hv_ctx *ctx, void *arg, int status)
{
	struct bits *b = arg;
	struct vimg *im = b->im;

	if (status == 0) {
		for (uint64_t i = b->first; i < b->first + b->count; i++) {
			im->sb[b->chunk][i / 8] |= (uint8_t)(1u << (i % 8));
			im->sb_dirty[b->chunk * 256 + (i / 8) / 4096] = 1;
		}
		im->meta_dirty = 1;
	}
	free(b);
}

static int ensure_sb(struct vimg *im, uint64_t chunk)
{
	uint64_t idx = vimg_sb_index(im, chunk), off;
	int r;

	if (BAT_STATE(im->bat[idx]) == SB_PRESENT)
		return vimg_load_sb(im, chunk);
	if ((r = vimg_load_sb(im, chunk)) || (r = extend(im, MiB, &off)))
		return r;
	im->bat[idx] = BAT_MAKE(SB_PRESENT, off);
	vimg_mark_bat(im, idx);
	return 0;
}

static int write_block(struct dreq *t, struct vimg *im, uint64_t roff,
		       uint64_t voff, uint64_t n)
{
	uint64_t b = voff / im->block_size, in = voff % im->block_size;
	uint64_t idx = vimg_bat_index(im, b), e = im->bat[idx], off;
	unsigned st = BAT_STATE(e);
	int whole = in == 0 && n == im->block_size;
	int r;

	if (st == PB_FULLY_PRESENT) {
		dreq_io(t, im->f, HV_DISK_WRITE, roff, n, BAT_OFF(e) + in, NULL,
			NULL);
		return 0;
	}
	if (st != PB_PARTIALLY_PRESENT) {
		/* allocate: reuse an unmapped/zero block's space, zeroed */
		if (BAT_OFF(e) && st != PB_NOT_PRESENT) {
			off = BAT_OFF(e);
			if (!whole && (r = zero_rest(im, off, in, n)))
				return r;
		} else if ((r = extend(im, im->block_size, &off))) {
			return r;
		}
		/* absent sectors of a child read from the parent, unless the
		 * block was explicitly zero */
		if (!im->has_parent || whole || st == PB_ZERO ||
		    st == PB_UNMAPPED) {
			im->bat[idx] = BAT_MAKE(PB_FULLY_PRESENT, off);
			vimg_mark_bat(im, idx);
			dreq_io(t, im->f, HV_DISK_WRITE, roff, n, off + in,
				NULL, NULL);
			return 0;
		}
		if ((r = ensure_sb(im, b / im->chunk_ratio)))
			return r;
		im->bat[idx] = BAT_MAKE(PB_PARTIALLY_PRESENT, off);
		vimg_mark_bat(im, idx);
		e = im->bat[idx];
	}
	struct bits *bt = malloc(sizeof(*bt));
	if (!bt)
		return -ENOMEM;
	if ((r = vimg_load_sb(im, b / im->chunk_ratio))) {
		free(bt);
		return r;
	}
	bt->im = im;
	bt->chunk = b / im->chunk_ratio;
	bt->first = sb_index(im, voff);
	bt->count = n / im->lsec;
	dreq_io(t, im->f, HV_DISK_WRITE, roff, n, BAT_OFF(e) + in, set_bits,
		bt);
	return 0;
}

static void discard_done(struct hv_ctx *ctx, struct hv_file_io *io, int64_t res)
{
	free(io);
}

/* Whole blocks become UNMAPPED (space kept for reuse, hole punched). */
static void discard(struct vimg *im, uint64_t voff, uint64_t len)
{
	uint64_t first = (voff + im->block_size - 1) / im->block_size;
	uint64_t end = (voff + len) / im->block_size;

	if (im->has_parent)
		return; /* a child would have to hide its parent: ignore */
	for (uint64_t b = first; b < end; b++) {
		uint64_t idx = vimg_bat_index(im, b), e = im->bat[idx];
		if (BAT_STATE(e) != PB_FULLY_PRESENT)
			continue;
		im->bat[idx] = BAT_MAKE(PB_UNMAPPED, BAT_OFF(e));
		vimg_mark_bat(im, idx);
		struct {
			struct hv_file_io io;
			struct iovec iov;
		} *d = calloc(1, sizeof(*d));
		if (!d)
			continue;
		d->iov.iov_base = NULL;
		d->iov.iov_len = im->block_size;
		d->io.op = HV_DISK_DISCARD;
		d->io.offset = BAT_OFF(e);
		d->io.iov = &d->iov;
		d->io.iovcnt = 1;
		d->io.done = discard_done;
		if (hv_file_submit(im->ctx, im->f, &d->io))
			free(d);
	}
}

struct vflush {
	struct hv_file_io io;
	struct hv_disk_req *req;
};

static void flush_done(struct hv_ctx *ctx, struct hv_file_io *io, int64_t res)
{
	struct vflush *f = (struct vflush *)io;
	struct hv_disk_req *req = f->req;

	free(f);
	hv_disk_complete(ctx, req, res < 0 ? (int)res : 0);
}

int vhdx_submit(struct hv_ctx *ctx, struct hv_disk_req *req)
{
	struct vhdx *s = HV_STATE(ctx, struct vhdx);
	struct vimg *im = s->top;
	struct dreq *t;
	int r;

	switch (req->op) {
	case HV_DISK_FLUSH:
		if (im->meta_dirty) {
			/* the commit syncs payload first */
			hv_disk_complete(ctx, req, vlog_commit(im));
			return 0;
		}
		struct vflush *f = calloc(1, sizeof(*f));
		if (!f)
			return -ENOMEM;
		f->req = req;
		f->io.op = HV_DISK_FLUSH;
		f->io.done = flush_done;
		r = hv_file_submit(ctx, im->f, &f->io);
		if (r)
			free(f);
		return r;
	case HV_DISK_DISCARD:
		if ((r = vimg_begin_write(im)))
			return r;
		discard(im, req->offset, req->len);
		hv_disk_complete(ctx, req, 0);
		return 0;
	case HV_DISK_READ:
	case HV_DISK_WRITE:
		break;
	default:
		return -EINVAL;
	}
	if (req->op == HV_DISK_WRITE && (r = vimg_begin_write(im)))
		return r;
	t = dreq_new(ctx, req);
	if (!t)
		return -ENOMEM;
	if (req->op == HV_DISK_READ) {
		read_range(t, im, 0, req->offset, req->len);
	} else {
		uint64_t roff = 0, voff = req->offset, len = req->len;
		while (len) {
			uint64_t in = voff % im->block_size;
			uint64_t n = im->block_size - in < len
					     ? im->block_size - in
					     : len;
			if ((r = write_block(t, im, roff, voff, n))) {
				dreq_fail(t, r);
				break;
			}
			roff += n;
			voff += n;
			len -= n;
		}
	}
	dreq_put(t);
	return 0;
}
