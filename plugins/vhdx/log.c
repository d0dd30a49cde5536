/* SPDX-License-Identifier: MIT */
/*
 * The VHDX metadata log: replay at open, and the writer every metadata
 * update (BAT, sector bitmaps, metadata items) goes through.
 *
 * Writer protocol, one commit per guest flush that changed metadata:
 *   1. fdatasync: payload written so far, and the previous commit's
 *      in-place updates, are durable;
 *   2. write one log entry at the start of the log (tail = itself: nothing
 *      older is needed any more), fdatasync;
 *   3. write the same pages in place, without waiting: a crash before the
 *      next commit's step 1 is repaired by replaying the entry.
 * Two fdatasyncs per flush, however many blocks were allocated. Each
 * writing session uses a fresh LogGuid, so entries of older sessions can
 * never join a sequence.
 */
#include "vhdx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/dreq.h"

#define SECTOR	       4096u
#define DESC_PER_ENTRY 126u /* what fits in one header sector */

struct entry {
	uint32_t off; /* in the log */
	uint32_t len;
	uint32_t tail;
	uint64_t seq;
	uint64_t last_file_offset;
};

static const uint8_t *lsec(const uint8_t *log, uint32_t L, uint32_t off,
			   uint32_t i)
{
	return log + ((uint64_t)off + (uint64_t)i * SECTOR) % L;
}

/* Validate the entry at off; fills e. buf: scratch of L bytes. */
static int entry_parse(const struct vimg *im, const uint8_t *log, uint32_t L,
		       uint32_t off, uint8_t *buf, struct entry *e)
{
	struct vhdx_log_hdr h;
	uint32_t nsec, hsec, ndata = 0, c;

	memcpy(&h, log + off, sizeof(h));
	if (h.sig != SIG_LOGE || !h.entry_length || h.entry_length % SECTOR ||
	    h.entry_length > L || h.tail % SECTOR || h.tail >= L || !h.seq ||
	    memcmp(&h.log_guid, &im->hdr.log_guid, 16) ||
	    h.desc_count > (h.entry_length / SECTOR) * (SECTOR / 32))
		return -1;
	nsec = h.entry_length / SECTOR;
	hsec = (64 + h.desc_count * 32 + SECTOR - 1) / SECTOR;
	if (hsec > nsec)
		return -1;
	for (uint32_t i = 0; i < nsec; i++)
		memcpy(buf + i * SECTOR, lsec(log, L, off, i), SECTOR);
	memcpy(&c, buf + 4, 4);
	memset(buf + 4, 0, 4);
	if (crc32c(0, buf, h.entry_length) != c)
		return -1;
	for (uint32_t d = 0; d < h.desc_count; d++) {
		struct vhdx_log_desc ds;
		memcpy(&ds, buf + 64 + d * 32, 32);
		if (ds.seq != h.seq || ds.file_offset % SECTOR)
			return -1;
		if (ds.sig == SIG_DESC) {
			struct vhdx_log_data dd;
			if (hsec + ndata >= nsec)
				return -1;
			memcpy(&dd, buf + (hsec + ndata) * SECTOR, SECTOR);
			if (dd.sig != SIG_DATA ||
			    dd.seq_high != (uint32_t)(h.seq >> 32) ||
			    dd.seq_low != (uint32_t)h.seq)
				return -1;
			ndata++;
		} else if (ds.sig == SIG_ZERO) {
			if (!ds.leading || ds.leading % SECTOR)
				return -1;
		} else {
			return -1;
		}
	}
	if (hsec + ndata != nsec)
		return -1;
	e->off = off;
	e->len = h.entry_length;
	e->tail = h.tail;
	e->seq = h.seq;
	e->last_file_offset = h.last_file_offset;
	return 0;
}

static int ovl_add(struct vimg *im, uint64_t off, uint64_t len,
		   const uint8_t *page)
{
	struct vovl *n = realloc(im->ovl, (im->novl + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	im->ovl = n;
	n[im->novl] = (struct vovl){off, len, NULL};
	if (page) {
		n[im->novl].data = malloc(len);
		if (!n[im->novl].data)
			return -ENOMEM;
		memcpy(n[im->novl].data, page, len);
	}
	im->novl++;
	return 0;
}

/* One replayed sector or zero range: into the file, or into memory. */
static int put(struct vimg *im, uint64_t off, uint64_t len, const uint8_t *page)
{
	static const uint8_t zero[SECTOR];

	if (im->readonly)
		return ovl_add(im, off, len, page);
	for (uint64_t o = 0; o < len; o += SECTOR)
		if (hv_file_pwrite(im->ctx, im->f, page ? page : zero, SECTOR,
				   off + o) != SECTOR)
			return -EIO;
	return 0;
}

int vimg_ovl_hits(const struct vimg *im, uint64_t off, uint64_t len)
{
	for (size_t i = 0; i < im->novl; i++)
		if (im->ovl[i].off < off + len &&
		    off < im->ovl[i].off + im->ovl[i].len)
			return 1;
	return 0;
}

int64_t vimg_pread(struct vimg *im, void *buf, size_t len, uint64_t off)
{
	int64_t n = hv_file_pread(im->ctx, im->f, buf, len, off);
	uint64_t got;

	if (n < 0 || !im->novl)
		return n;
	/* the log may have grown the file: zeroes up to its new end */
	got = off < im->file_size ? im->file_size - off : 0;
	if (got > len)
		got = len;
	if ((uint64_t)n < got)
		memset((uint8_t *)buf + n, 0, got - (uint64_t)n);
	for (size_t i = 0; i < im->novl; i++) {
		const struct vovl *v = &im->ovl[i];
		uint64_t a = v->off > off ? v->off : off;
		uint64_t b = v->off + v->len < off + got ? v->off + v->len
							 : off + got;
		if (a >= b)
			continue;
		if (v->data)
			memcpy((uint8_t *)buf + (a - off),
			       v->data + (a - v->off), b - a);
		else
			memset((uint8_t *)buf + (a - off), 0, b - a);
	}
	return (int64_t)got;
}

static int apply_entry(struct vimg *im, const uint8_t *log, uint32_t L,
		       const struct entry *e, uint8_t *buf)
{
	struct vhdx_log_hdr h;
	uint32_t nsec = e->len / SECTOR, hsec, ndata = 0;
	uint8_t page[SECTOR];
	uint64_t limit = e->last_file_offset > im->file_size
				 ? e->last_file_offset
				 : im->file_size;

	for (uint32_t i = 0; i < nsec; i++)
		memcpy(buf + i * SECTOR, lsec(log, L, e->off, i), SECTOR);
	memcpy(&h, buf, sizeof(h));
	hsec = (64 + h.desc_count * 32 + SECTOR - 1) / SECTOR;
	for (uint32_t d = 0; d < h.desc_count; d++) {
		struct vhdx_log_desc ds;
		memcpy(&ds, buf + 64 + d * 32, 32);
		uint64_t len = ds.sig == SIG_DESC ? SECTOR : ds.leading;
		/* never the file identifier or the headers; never far past
		 * what the writer said the file would be */
		if (ds.file_offset < VHDX_REGION1 ||
		    ds.file_offset + len < ds.file_offset ||
		    ds.file_offset + len > limit + MiB) {
			hv_error(im->ctx,
				 "%s: log entry %llu writes outside the file",
				 im->path, (unsigned long long)e->seq);
			return -EINVAL;
		}
		int r;
		if (ds.sig == SIG_DESC) {
			const uint8_t *ds_sec = buf + (hsec + ndata++) * SECTOR;
			memcpy(page, &ds.leading, 8);
			memcpy(page + 8, ds_sec + 8, 4084);
			memcpy(page + 4092, &ds.trailing, 4);
			r = put(im, ds.file_offset, SECTOR, page);
		} else {
			r = put(im, ds.file_offset, len, NULL);
		}
		if (r)
			return r;
	}
	return 0;
}

int vlog_replay(struct vimg *im)
{
	uint32_t L = im->hdr.log_length;
	uint8_t *log = malloc(L), *buf = malloc(L);
	struct entry *ents = NULL, best_head = {0};
	uint32_t best_start = 0;
	int found = 0, r = -ENOMEM;
	static const guid_t zero;

	if (!log || !buf)
		goto out;
	if (hv_file_pread(im->ctx, im->f, log, L, im->hdr.log_offset) != L) {
		hv_error(im->ctx, "%s: cannot read the log", im->path);
		r = -EIO;
		goto out;
	}
	/* Each valid entry may start a sequence; the active one starts at
	 * its head's tail and has the highest sequence number. */
	for (uint32_t s = 0; s < L; s += SECTOR) {
		struct entry e, head;
		uint64_t walked = 0;
		if (entry_parse(im, log, L, s, buf, &e))
			continue;
		head = e;
		walked = e.len;
		for (;;) {
			struct entry n;
			uint32_t next = (uint32_t)((head.off + head.len) % L);
			if (walked >= L ||
			    entry_parse(im, log, L, next, buf, &n) ||
			    n.seq != head.seq + 1 || walked + n.len > L)
				break;
			head = n;
			walked += n.len;
		}
		if (head.tail == s && (!found || head.seq > best_head.seq)) {
			found = 1;
			best_head = head;
			best_start = s;
		}
	}
	if (found) {
		uint32_t off = best_start;
		for (;;) {
			struct entry e;
			if (entry_parse(im, log, L, off, buf, &e)) {
				r = -EIO;
				goto out;
			}
			if ((r = apply_entry(im, log, L, &e, buf)))
				goto out;
			if (e.seq == best_head.seq)
				break;
			off = (uint32_t)((off + e.len) % L);
		}
		if (im->file_size < best_head.last_file_offset) {
			if (!im->readonly &&
			    (r = hv_file_truncate(im->ctx, im->f,
						  best_head.last_file_offset)))
				goto out;
			im->file_size = best_head.last_file_offset;
		}
	}
	/* read-only: the header keeps its LogGuid, so the next writer
	 * replays the same entries into the file */
	if (!im->readonly && ((r = hv_file_sync(im->ctx, im->f)) ||
			      (r = vimg_write_header(im, &zero))))
		goto out;
	im->replayed = 1;
	r = 0;
out:
	if (r)
		hv_error(im->ctx, "%s: log replay failed: %s", im->path,
			 strerror(-r));
	free(ents);
	free(log);
	free(buf);
	return r;
}

/* Gather the dirty pages: BAT, sector bitmaps, then extra pages. */
static int collect(struct vimg *im, struct vpage **out)
{
	uint64_t bat_pages = (im->nbat * 8 + SECTOR - 1) / SECTOR;
	int n = 0, cap = 64;
	struct vpage *v = malloc(sizeof(*v) * (size_t)cap);

	if (!v)
		return -ENOMEM;
#define ADD(o, b)                                                            \
	do {                                                                 \
		if (n == cap) {                                              \
			struct vpage *nv =                                   \
				realloc(v, sizeof(*v) * (size_t)(cap *= 2)); \
			if (!nv) {                                           \
				free(v);                                     \
				return -ENOMEM;                              \
			}                                                    \
			v = nv;                                              \
		}                                                            \
		v[n].off = (o);                                              \
		v[n].buf = (b);                                              \
		n++;                                                         \
	} while (0)
	for (uint64_t i = 0; i < bat_pages; i++)
		if (im->bat_dirty[i])
			ADD(im->bat_off + i * SECTOR,
			    (uint8_t *)im->bat + i * SECTOR);
	for (uint64_t c = 0; c < im->nchunks; c++) {
		if (!im->sb[c])
			continue;
		uint64_t base = BAT_OFF(im->bat[vimg_sb_index(im, c)]);
		for (int p = 0; p < 256; p++)
			if (im->sb_dirty[c * 256 + p])
				ADD(base + (uint64_t)p * SECTOR,
				    im->sb[c] + p * SECTOR);
	}
	for (int i = 0; i < im->npages; i++)
		ADD(im->pages[i].off, im->pages[i].buf);
#undef ADD
	*out = v;
	return n;
}

static int write_entry(struct vimg *im, const struct vpage *pg, int n)
{
	uint32_t hsec = (64 + (uint32_t)n * 32 + SECTOR - 1) / SECTOR;
	uint32_t len = (hsec + (uint32_t)n) * SECTOR;
	uint8_t *e = calloc(1, len);
	struct vhdx_log_hdr *h = (void *)e;
	struct hv_file_info fi;
	int64_t w;

	if (!e)
		return -ENOMEM;
	hv_file_info_get(im->ctx, im->f, &fi);
	h->sig = SIG_LOGE;
	h->entry_length = len;
	h->tail = 0;
	h->seq = ++im->log_seq;
	h->desc_count = (uint32_t)n;
	h->log_guid = im->hdr.log_guid;
	h->flushed_file_offset = fi.size;
	h->last_file_offset = fi.size;
	for (int i = 0; i < n; i++) {
		struct vhdx_log_desc *d = (void *)(e + 64 + i * 32);
		struct vhdx_log_data *s =
			(void *)(e + (hsec + (uint32_t)i) * SECTOR);
		d->sig = SIG_DESC;
		memcpy(&d->leading, pg[i].buf, 8);
		memcpy(&d->trailing, pg[i].buf + 4092, 4);
		d->file_offset = pg[i].off;
		d->seq = h->seq;
		s->sig = SIG_DATA;
		s->seq_high = (uint32_t)(h->seq >> 32);
		s->seq_low = (uint32_t)h->seq;
		memcpy(s->data, pg[i].buf + 8, 4084);
	}
	h->checksum = crc32c(0, e, len);
	w = hv_file_pwrite(im->ctx, im->f, e, len, im->hdr.log_offset);
	free(e);
	if (w != (int64_t)len)
		return w < 0 ? (int)w : -EIO;
	return 0;
}

int vlog_commit(struct vimg *im)
{
	struct vpage *pg;
	int n = collect(im, &pg), r = 0;
	uint32_t per = DESC_PER_ENTRY;

	if (n <= 0) {
		if (n == 0)
			free(pg);
		return n;
	}
	if (per + 1 > im->hdr.log_length / SECTOR)
		per = im->hdr.log_length / SECTOR - 1;
	/* step 1: payload and the last commit's in-place writes */
	if ((r = hv_file_sync(im->ctx, im->f)))
		goto out;
	for (int i = 0; i < n; i += (int)per) {
		int k = n - i < (int)per ? n - i : (int)per;
		if (i && (r = hv_file_sync(im->ctx, im->f)))
			goto out; /* the previous round's in-place writes */
		if ((r = write_entry(im, pg + i, k)) ||
		    (r = hv_file_sync(im->ctx, im->f)))
			goto out;
		for (int j = i; j < i + k; j++)
			if (hv_file_pwrite(im->ctx, im->f, pg[j].buf, SECTOR,
					   pg[j].off) != SECTOR) {
				r = -EIO;
				goto out;
			}
	}
	memset(im->bat_dirty, 0, (im->nbat * 8 + SECTOR - 1) / SECTOR);
	memset(im->sb_dirty, 0, im->nchunks * 256);
	for (int i = 0; i < im->npages; i++)
		free(im->pages[i].buf);
	im->npages = 0;
	im->meta_dirty = 0;
out:
	free(pg);
	return r;
}
