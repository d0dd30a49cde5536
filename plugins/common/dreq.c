/* SPDX-License-Identifier: MIT */
#include "dreq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct dreq {
	struct hv_ctx *ctx;
	struct hv_disk_req *req;
	int refs;
	int status;
};

struct dpiece {
	struct hv_file_io io;
	struct dreq *t;
	dreq_after_fn after;
	void *arg;
	uint64_t len;
	int iovcnt;
	struct iovec iov[];
};

struct dreq *dreq_new(struct hv_ctx *ctx, struct hv_disk_req *req)
{
	struct dreq *t = calloc(1, sizeof(*t));

	if (t) {
		t->ctx = ctx;
		t->req = req;
		t->refs = 1;
	}
	return t;
}

void dreq_fail(struct dreq *t, int status)
{
	if (!t->status)
		t->status = status;
}

void dreq_put(struct dreq *t)
{
	if (--t->refs)
		return;
	hv_disk_complete(t->ctx, t->req, t->status);
	free(t);
}

/* The iovecs covering request bytes [roff, roff+len): count, or fill. */
static int slice(const struct hv_disk_req *req, uint64_t roff, uint64_t len,
		 struct iovec *out)
{
	int n = 0;

	for (int i = 0; i < req->iovcnt && len; i++) {
		uint64_t l = req->iov[i].iov_len;
		if (roff >= l) {
			roff -= l;
			continue;
		}
		uint64_t take = l - roff < len ? l - roff : len;
		if (out) {
			out[n].iov_base = (char *)req->iov[i].iov_base + roff;
			out[n].iov_len = take;
		}
		n++;
		len -= take;
		roff = 0;
	}
	return n;
}

/* Request bytes [roff, roff+len) from src, or zeroes when src is NULL. */
static void fill(struct dreq *t, uint64_t roff, const char *src, uint64_t len)
{
	const struct hv_disk_req *req = t->req;

	for (int i = 0; i < req->iovcnt && len; i++) {
		uint64_t l = req->iov[i].iov_len;
		if (roff >= l) {
			roff -= l;
			continue;
		}
		uint64_t take = l - roff < len ? l - roff : len;
		char *dst = (char *)req->iov[i].iov_base + roff;
		if (src) {
			memcpy(dst, src, take);
			src += take;
		} else {
			memset(dst, 0, take);
		}
		len -= take;
		roff = 0;
	}
}

void dreq_zero(struct dreq *t, uint64_t roff, uint64_t len)
{
	fill(t, roff, NULL, len);
}

void dreq_copy(struct dreq *t, uint64_t roff, const void *buf, uint64_t len)
{
	fill(t, roff, buf, len);
}

static void piece_done(struct hv_ctx *ctx, struct hv_file_io *io, int64_t res)
{
	struct dpiece *p = (struct dpiece *)io;
	struct dreq *t = p->t;
	int st = 0;

	if (res < 0)
		st = (int)res;
	else if ((uint64_t)res < p->len) {
		if (io->op == HV_DISK_READ) {
			/* a block that ends past the end of the file: zeroes */
			uint64_t skip = (uint64_t)res;
			for (int i = 0; i < p->iovcnt; i++) {
				if (skip >= p->iov[i].iov_len) {
					skip -= p->iov[i].iov_len;
					continue;
				}
				memset((char *)p->iov[i].iov_base + skip, 0,
				       p->iov[i].iov_len - skip);
				skip = 0;
			}
		} else if (io->op == HV_DISK_WRITE) {
			st = -EIO;
		}
	}
	if (p->after)
		p->after(ctx, p->arg, st);
	if (st)
		dreq_fail(t, st);
	free(p);
	dreq_put(t);
}

void dreq_io(struct dreq *t, struct hv_file *f, uint32_t op, uint64_t roff,
	     uint64_t len, uint64_t foff, dreq_after_fn after, void *arg)
{
	int n = slice(t->req, roff, len, NULL);
	struct dpiece *p =
		calloc(1, sizeof(*p) + (size_t)n * sizeof(struct iovec));
	int r;

	if (!p) {
		dreq_fail(t, -ENOMEM);
		return;
	}
	slice(t->req, roff, len, p->iov);
	p->t = t;
	p->after = after;
	p->arg = arg;
	p->len = len;
	p->iovcnt = n;
	p->io.op = op;
	p->io.offset = foff;
	p->io.iov = p->iov;
	p->io.iovcnt = n;
	p->io.done = piece_done;
	t->refs++;
	r = hv_file_submit(t->ctx, f, &p->io);
	if (r) {
		t->refs--;
		if (after)
			after(t->ctx, arg, r);
		dreq_fail(t, r);
		free(p);
	}
}

/* A read of the parent layer on behalf of one request's bytes. */
struct dparent {
	struct hv_disk_req req;
	struct dreq *t;
	struct iovec iov[];
};

static void parent_done(struct hv_ctx *ctx, struct hv_disk_req *req,
			int status)
{
	struct dparent *p = (struct dparent *)req;
	struct dreq *t = p->t;

	if (status)
		dreq_fail(t, status);
	free(p);
	dreq_put(t);
}

void dreq_parent(struct dreq *t, uint64_t roff, uint64_t len, uint64_t voff)
{
	int n = slice(t->req, roff, len, NULL), r;
	struct dparent *p =
		calloc(1, sizeof(*p) + (size_t)n * sizeof(struct iovec));

	if (!p) {
		dreq_fail(t, -ENOMEM);
		return;
	}
	slice(t->req, roff, len, p->iov);
	p->t = t;
	p->req.op = HV_DISK_READ;
	p->req.offset = voff;
	p->req.len = len;
	p->req.iov = p->iov;
	p->req.iovcnt = n;
	p->req.done = parent_done;
	t->refs++;
	r = hv_disk_backing_submit(t->ctx, &p->req);
	if (r) {
		t->refs--;
		dreq_fail(t, r);
		free(p);
	}
}

static uint32_t crc_table[8][256];
static int crc_ready;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
		crc_table[0][i] = c;
	}
	for (int t = 1; t < 8; t++)
		for (int i = 0; i < 256; i++)
			crc_table[t][i] =
				(crc_table[t - 1][i] >> 8) ^
				crc_table[0][crc_table[t - 1][i] & 0xff];
	crc_ready = 1;
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	/* the table is a pure function of a constant: racing initialisers
	 * write identical values */
	if (!crc_ready)
		crc_init();
	crc = ~crc;
	while (len >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		v ^= crc;
		crc = crc_table[7][v & 0xff] ^ crc_table[6][(v >> 8) & 0xff] ^
		      crc_table[5][(v >> 16) & 0xff] ^
		      crc_table[4][(v >> 24) & 0xff] ^
		      crc_table[3][(v >> 32) & 0xff] ^
		      crc_table[2][(v >> 40) & 0xff] ^
		      crc_table[1][(v >> 48) & 0xff] ^ crc_table[0][v >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}
