/* SPDX-License-Identifier: MIT */
/*
 * Legacy VHD (Virtual PC / Hyper-V v1): fixed, dynamic, differencing.
 * Big-endian on disk. No journal: a block is allocated by extending the
 * file (bitmap, zeroed data, footer moved to the new end) before its BAT
 * entry is written, so a crash leaves at worst an unreferenced block.
 *
 * Virtual size: VHD carries two, the footer's current_size and the CHS
 * geometry. Like QEMU (block/vpc.c), images whose creator is Hyper-V
 * ("win "), Disk2VHD ("d2v "), XenServer ("tap\0"), XenConverter ("CTXS")
 * or QEMU with force_size ("qem2") use current_size; every other creator
 * (Virtual PC "vpc ", QEMU "qemu", and ours) uses cylinders * heads *
 * sectors, unless the geometry is the maximum 65535/16/255, where
 * current_size is used. hv creates images with creator "hv  " whose
 * current_size equals the CHS size (rounding the requested size up the way
 * qemu-img does), so every reader agrees on them.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <hv/hv.h>

#include "../common/dreq.h"

#define SEC	     512u
#define VHD_FIXED    2
#define VHD_DYNAMIC  3
#define VHD_DIFF     4
#define MAX_GEOMETRY (65535ull * 16 * 255)
#define UNALLOC	     0xffffffffu

struct __attribute__((packed)) footer {
	char cookie[8];
	uint32_t features, version;
	uint64_t data_offset;
	uint32_t timestamp;
	char creator_app[4];
	uint32_t creator_ver, creator_os;
	uint64_t orig_size, cur_size;
	uint16_t cyls;
	uint8_t heads, spt;
	uint32_t type, checksum;
	uint8_t uuid[16];
	uint8_t saved;
	uint8_t reserved[427];
};

struct __attribute__((packed)) ploc {
	uint32_t code, space, len, reserved;
	uint64_t offset;
};

struct __attribute__((packed)) dynhdr {
	char cookie[8];
	uint64_t data_offset, table_offset;
	uint32_t version, max_entries, block_size, checksum;
	uint8_t parent_uuid[16];
	uint32_t parent_ts, reserved;
	uint8_t parent_name[512];
	struct ploc loc[8];
	uint8_t reserved2[256];
};

_Static_assert(sizeof(struct footer) == 512, "footer");
_Static_assert(sizeof(struct dynhdr) == 1024, "dynamic header");

#define be16 __builtin_bswap16
#define be32 __builtin_bswap32
#define be64 __builtin_bswap64

struct img {
	struct hv_ctx *ctx;
	struct hv_file *f;
	char *path, *parent_path;
	int readonly;
	uint64_t file_size, vsize;
	struct footer ft; /* as on disk */
	uint32_t type;
	struct dynhdr dh;
	uint64_t bat_off;
	uint32_t nent, bs, bitmap_len;
	uint32_t *bat;	   /* host order */
	uint8_t **bitmaps; /* differencing: cached per block */
	uint64_t end;	   /* where the footer lives (next allocation) */
};

struct vhd {
	struct img *top;
	int readonly;
};

#define FAIL(im, ...)                             \
	do {                                      \
		hv_error((im)->ctx, __VA_ARGS__); \
		return -EINVAL;                   \
	} while (0)

static uint32_t vhd_sum(const void *p, size_t len, size_t skip)
{
	const uint8_t *b = p;
	uint32_t s = 0;

	for (size_t i = 0; i < len; i++)
		if (i < skip || i >= skip + 4)
			s += b[i];
	return ~s;
}

static int footer_ok(const struct footer *f)
{
	return !memcmp(f->cookie, "conectix", 8) &&
	       be32(f->checksum) ==
		       vhd_sum(f, 512, offsetof(struct footer, checksum));
}

static int rd(struct img *im, void *buf, size_t len, uint64_t off)
{
	int64_t n = hv_file_pread(im->ctx, im->f, buf, len, off);

	if (n != (int64_t)len)
		FAIL(im,
		     "%s: truncated: structures extend to %llu, the file has "
		     "%llu bytes",
		     im->path, (unsigned long long)(off + len),
		     (unsigned long long)im->file_size);
	return 0;
}

static uint64_t chs_size(const struct footer *f)
{
	return (uint64_t)be16(f->cyls) * f->heads * f->spt * SEC;
}

static void pick_size(struct img *im)
{
	const char *c = im->ft.creator_app;
	int use_chs = memcmp(c, "win ", 4) && memcmp(c, "qem2", 4) &&
		      memcmp(c, "d2v ", 4) && memcmp(c, "CTXS", 4) &&
		      memcmp(c, "tap", 4);
	uint64_t chs = chs_size(&im->ft);

	im->vsize = be64(im->ft.cur_size);
	if (use_chs && chs && chs / SEC != MAX_GEOMETRY)
		im->vsize = chs;
	im->vsize &= ~(uint64_t)(SEC - 1);
}

struct range {
	uint64_t off, len;
	int64_t idx;
};

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int check_bat(struct img *im)
{
	struct range *rg = malloc(((size_t)im->nent + 3) * sizeof(*rg));
	uint64_t n = 0, blk = (uint64_t)im->bitmap_len + im->bs;
	uint64_t limit = im->file_size - SEC;
	int r = -EINVAL;

	if (!rg)
		return -ENOMEM;
	rg[n++] = (struct range){0, SEC, -1};
	rg[n++] = (struct range){be64(im->ft.data_offset), 1024, -2};
	rg[n++] = (struct range){im->bat_off,
				 ((uint64_t)im->nent * 4 + SEC - 1) / SEC * SEC,
				 -3};
	im->end = limit;
	for (uint32_t i = 0; i < im->nent; i++) {
		if (im->bat[i] == UNALLOC)
			continue;
		uint64_t off = (uint64_t)im->bat[i] * SEC;
		if (off + blk > limit) {
			/* a block cut short by the footer or the file end */
			hv_error(im->ctx,
				 "%s: BAT entry %u points outside the file "
				 "(offset %llu, file size %llu)",
				 im->path, i, (unsigned long long)off,
				 (unsigned long long)im->file_size);
			goto out;
		}
		rg[n++] = (struct range){off, blk, i};
	}
	qsort(rg, n, sizeof(*rg), range_cmp);
	for (uint64_t i = 1; i < n; i++)
		if (rg[i].off < rg[i - 1].off + rg[i - 1].len) {
			int64_t a = rg[i - 1].idx, b = rg[i].idx;
			if (a < 0 || b < 0)
				hv_error(
					im->ctx,
					"%s: BAT entry %lld points into the %s",
					im->path, (long long)(a < 0 ? b : a),
					(a < 0 ? a : b) == -1 ? "footer copy"
					: (a < 0 ? a : b) == -2
						? "dynamic header"
						: "BAT");
			else
				hv_error(
					im->ctx,
					"%s: BAT entries %lld and %lld overlap",
					im->path, (long long)a, (long long)b);
			goto out;
		}
	r = 0;
out:
	free(rg);
	return r;
}

static char *utf16_to_utf8(const uint8_t *p, size_t len, int big)
{
	char *out = malloc(len * 2 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i + 1 < len; i += 2) {
		unsigned c = big ? (unsigned)p[i] << 8 | p[i + 1]
				 : p[i] | (unsigned)p[i + 1] << 8;
		if (!c)
			break;
		if (c < 0x80) {
			*o++ = (char)c;
		} else if (c < 0x800) {
			*o++ = (char)(0xc0 | c >> 6);
			*o++ = (char)(0x80 | (c & 0x3f));
		} else {
			*o++ = (char)(0xe0 | c >> 12);
			*o++ = (char)(0x80 | ((c >> 6) & 0x3f));
			*o++ = (char)(0x80 | (c & 0x3f));
		}
	}
	*o = 0;
	return out;
}

static char *resolve(const char *child, const char *p)
{
	char *c = strdup(p), *dup, *out;
	size_t n;

	for (char *q = c; *q; q++)
		if (*q == '\\')
			*q = '/';
	if (!strncmp(c, "file://", 7))
		memmove(c, c + 7, strlen(c + 7) + 1);
	if (((c[0] | 0x20) >= 'a' && (c[0] | 0x20) <= 'z') && c[1] == ':')
		memmove(c, c + 2, strlen(c + 2) + 1);
	if (c[0] == '/')
		return c;
	const char *rel = !strncmp(c, "./", 2) ? c + 2 : c;
	dup = strdup(child);
	const char *dir = dirname(dup);
	n = strlen(dir) + strlen(rel) + 2;
	out = malloc(n);
	if (!strcmp(dir, "."))
		snprintf(out, n, "%s", rel);
	else
		snprintf(out, n, "%s/%s", dir, rel);
	free(dup);
	free(c);
	return out;
}

/* The first platform locator naming a file that exists, resolved. */
static int find_parent(struct img *im)
{
	char *path = NULL;

	for (int i = 0; i < 8 && !path; i++) {
		struct ploc *l = &im->dh.loc[i];
		uint32_t code = be32(l->code), len = be32(l->len);
		uint64_t off = be64(l->offset);
		int utf16 = code == 0x57327275 /* W2ru */ ||
			    code == 0x57326b75 /* W2ku */;
		if (!code || !len || len > 65536)
			continue;
		if (!utf16 && code != 0x4d616358 /* MacX */)
			continue;
		if (off + len > im->file_size)
			FAIL(im,
			     "%s: parent locator %d points outside the file",
			     im->path, i);
		uint8_t *buf = malloc(len);
		if (!buf || hv_file_pread(im->ctx, im->f, buf, len, off) !=
				    (int64_t)len) {
			free(buf);
			return -EIO;
		}
		char *s;
		if (utf16) {
			s = utf16_to_utf8(buf, len, 0);
		} else {
			s = calloc(1, len + 1);
			if (s)
				memcpy(s, buf, len);
		}
		free(buf);
		if (!s)
			return -ENOMEM;
		char *p = resolve(im->path, s);
		free(s);
		if (access(p, R_OK) == 0)
			path = p;
		else
			free(p);
	}
	if (!path) {
		char *name = utf16_to_utf8(im->dh.parent_name, 512, 1);
		hv_error(im->ctx, "%s: parent '%s' not found", im->path,
			 name ? name : "?");
		free(name);
		return -ENOENT;
	}
	im->parent_path = path;
	return 0;
}

static int open_dynamic(struct img *im)
{
	uint64_t doff = be64(im->ft.data_offset);

	if (doff < SEC || doff + 1024 > im->file_size)
		FAIL(im, "%s: dynamic header offset %llu is outside the file",
		     im->path, (unsigned long long)doff);
	if (rd(im, &im->dh, 1024, doff))
		return -EINVAL;
	if (memcmp(im->dh.cookie, "cxsparse", 8))
		FAIL(im, "%s: bad dynamic header signature", im->path);
	if (be32(im->dh.checksum) !=
	    vhd_sum(&im->dh, 1024, offsetof(struct dynhdr, checksum)))
		FAIL(im, "%s: dynamic header checksum mismatch", im->path);
	im->bs = be32(im->dh.block_size);
	im->nent = be32(im->dh.max_entries);
	im->bat_off = be64(im->dh.table_offset);
	if (im->bs < 4096 || im->bs > (256u << 20) || (im->bs & (im->bs - 1)))
		FAIL(im,
		     "%s: block size %u is not a power of two in 4 KiB..256 "
		     "MiB",
		     im->path, im->bs);
	if ((uint64_t)im->nent * im->bs < im->vsize)
		FAIL(im,
		     "%s: the BAT (%u entries) does not cover the virtual size",
		     im->path, im->nent);
	if (im->bat_off + (uint64_t)im->nent * 4 > im->file_size)
		FAIL(im, "%s: the BAT extends past the end of the file",
		     im->path);
	im->bitmap_len = ((im->bs / SEC + 7) / 8 + SEC - 1) / SEC * SEC;
	im->bat = malloc((size_t)im->nent * 4 + 4);
	im->bitmaps = calloc(im->nent + 1, sizeof(*im->bitmaps));
	if (!im->bat || !im->bitmaps)
		return -ENOMEM;
	if (rd(im, im->bat, (size_t)im->nent * 4, im->bat_off))
		return -EINVAL;
	for (uint32_t i = 0; i < im->nent; i++)
		im->bat[i] = be32(im->bat[i]);
	if (check_bat(im))
		return -EINVAL;
	return 0;
}

/* One image, never its parent: the core opens and links that. */
static int img_open(struct hv_ctx *ctx, const char *path, int ro,
		    struct img **out)
{
	struct img *im = calloc(1, sizeof(*im));
	struct hv_file_info fi;
	struct footer head;
	int r;

	*out = im;
	if (!im)
		return -ENOMEM;
	im->ctx = ctx;
	im->path = strdup(path);
	im->readonly = ro;
	if ((r = hv_file_open(ctx, path, ro ? HV_FILE_RDONLY : 0, &im->f))) {
		im->f = NULL;
		hv_error(ctx, "%s: %s", path, hv_file_strerror(r));
		return r;
	}
	hv_file_info_get(ctx, im->f, &fi);
	im->file_size = fi.size;
	if (im->file_size < SEC)
		FAIL(im, "%s: truncated: %llu bytes is too small for a VHD",
		     path, (unsigned long long)im->file_size);
	if (rd(im, &im->ft, SEC, im->file_size - SEC))
		return -EINVAL;
	if (!footer_ok(&im->ft)) {
		/* a dynamic image keeps a copy at the start */
		if (rd(im, &head, SEC, 0))
			return -EINVAL;
		if (memcmp(im->ft.cookie, "conectix", 8) &&
		    !memcmp(head.cookie, "conectix", 8) && footer_ok(&head) &&
		    be32(head.type) != VHD_FIXED)
			FAIL(im,
			     "%s: truncated: the footer at the end of the file "
			     "is missing",
			     path);
		if (!memcmp(im->ft.cookie, "conectix", 8))
			FAIL(im, "%s: footer checksum mismatch", path);
		FAIL(im, "%s: not a VHD file (no footer signature)", path);
	}
	im->type = be32(im->ft.type);
	pick_size(im);
	if (!im->vsize)
		FAIL(im, "%s: virtual size is zero", path);
	switch (im->type) {
	case VHD_FIXED:
		if (im->vsize > im->file_size - SEC)
			FAIL(im,
			     "%s: truncated: fixed image of %llu bytes in a "
			     "%llu-byte file",
			     path, (unsigned long long)im->vsize,
			     (unsigned long long)im->file_size);
		return 0;
	case VHD_DYNAMIC:
	case VHD_DIFF:
		return open_dynamic(im);
	}
	FAIL(im, "%s: unknown disk type %u", path, im->type);
}

static void img_close(struct img *im)
{
	if (!im)
		return;
	if (im->f)
		hv_file_close(im->ctx, im->f);
	for (uint32_t i = 0; im->bitmaps && i < im->nent; i++)
		free(im->bitmaps[i]);
	free(im->bitmaps);
	free(im->bat);
	free(im->path);
	free(im->parent_path);
	free(im);
}

static int load_bitmap(struct img *im, uint32_t b)
{
	if (im->bitmaps[b])
		return 0;
	im->bitmaps[b] = malloc(im->bitmap_len);
	if (!im->bitmaps[b])
		return -ENOMEM;
	if (hv_file_pread(im->ctx, im->f, im->bitmaps[b], im->bitmap_len,
			  (uint64_t)im->bat[b] * SEC) !=
	    (int64_t)im->bitmap_len)
		return -EIO;
	return 0;
}

static int bit(const uint8_t *bm, uint64_t i)
{
	return (bm[i / 8] >> (7 - i % 8)) & 1;
}

static void read_range(struct dreq *t, struct img *im, uint64_t roff,
		       uint64_t voff, uint64_t len)
{
	if (im->type == VHD_FIXED) {
		dreq_io(t, im->f, HV_DISK_READ, roff, len, voff, NULL, NULL);
		return;
	}
	while (len) {
		uint32_t b = (uint32_t)(voff / im->bs);
		uint64_t in = voff % im->bs,
			 n = im->bs - in < len ? im->bs - in : len;
		uint64_t data = (uint64_t)im->bat[b] * SEC + im->bitmap_len;

		if (im->bat[b] == UNALLOC) {
			if (im->type == VHD_DIFF)
				dreq_parent(t, roff, n, voff);
			else
				dreq_zero(t, roff, n);
		} else if (im->type == VHD_DYNAMIC) {
			/* like QEMU, a dynamic image's bitmap is not consulted
			 */
			dreq_io(t, im->f, HV_DISK_READ, roff, n, data + in,
				NULL, NULL);
		} else if (load_bitmap(im, b)) {
			dreq_fail(t, -EIO);
		} else {
			uint64_t s = in / SEC, ns = n / SEC, done = 0;
			while (done < ns) {
				int v = bit(im->bitmaps[b], s + done);
				uint64_t k = 1;
				while (done + k < ns &&
				       bit(im->bitmaps[b], s + done + k) == v)
					k++;
				if (v)
					dreq_io(t, im->f, HV_DISK_READ,
						roff + done * SEC, k * SEC,
						data + in + done * SEC, NULL,
						NULL);
				else
					dreq_parent(t, roff + done * SEC,
						    k * SEC, voff + done * SEC);
				done += k;
			}
		}
		roff += n;
		voff += n;
		len -= n;
	}
}

static int put_bat(struct img *im, uint32_t b)
{
	uint32_t v = be32(im->bat[b]);
	return hv_file_pwrite(im->ctx, im->f, &v, 4,
			      im->bat_off + (uint64_t)b * 4) == 4
		       ? 0
		       : -EIO;
}

/* New block at the footer's place; the footer moves behind it. */
static int allocate(struct img *im, uint32_t b)
{
	uint64_t off = im->end, nend = off + im->bitmap_len + im->bs;
	uint8_t *bm = malloc(im->bitmap_len);
	int r = -EIO;

	if (!bm)
		return -ENOMEM;
	memset(bm, im->type == VHD_DIFF ? 0 : 0xff, im->bitmap_len);
	if ((r = hv_file_truncate(im->ctx, im->f, nend + SEC)))
		goto out;
	r = -EIO;
	if (hv_file_pwrite(im->ctx, im->f, &im->ft, SEC, nend) != SEC ||
	    hv_file_pwrite(im->ctx, im->f, bm, im->bitmap_len, off) !=
		    (int64_t)im->bitmap_len)
		goto out;
	im->bat[b] = (uint32_t)(off / SEC);
	im->end = nend;
	im->file_size = nend + SEC;
	if (im->type == VHD_DIFF) {
		im->bitmaps[b] = bm;
		bm = NULL;
	}
	r = put_bat(im, b);
out:
	free(bm);
	return r;
}

struct bits {
	struct img *im;
	uint32_t b;
	uint64_t first, count;
};

static void set_bits(struct hv_ctx *ctx, void *arg, int status)
{
	struct bits *bt = arg;
	struct img *im = bt->im;
	uint8_t *bm = im->bitmaps[bt->b];

	if (status == 0) {
		for (uint64_t i = bt->first; i < bt->first + bt->count; i++)
			bm[i / 8] |= (uint8_t)(0x80u >> (i % 8));
		uint64_t s0 = bt->first / 8 / SEC,
			 s1 = (bt->first + bt->count - 1) / 8 / SEC;
		int64_t n = hv_file_pwrite(ctx, im->f, bm + s0 * SEC, (s1 - s0 + 1) * SEC,
					   (uint64_t)im->bat[bt->b] * SEC + s0 * SEC);

		/* the data is written; without its bitmap it reads as the parent */
		if (n != (int64_t)((s1 - s0 + 1) * SEC))
			hv_error(ctx, "%s: block %u's sector bitmap was not written: %s",
				 im->path, bt->b, n < 0 ? strerror((int)-n) : "short write");
	}
	free(bt);
}

static int write_range(struct dreq *t, struct img *im, uint64_t roff,
		       uint64_t voff, uint64_t len)
{
	int r;

	if (im->type == VHD_FIXED) {
		dreq_io(t, im->f, HV_DISK_WRITE, roff, len, voff, NULL, NULL);
		return 0;
	}
	while (len) {
		uint32_t b = (uint32_t)(voff / im->bs);
		uint64_t in = voff % im->bs,
			 n = im->bs - in < len ? im->bs - in : len;

		if (im->bat[b] == UNALLOC && (r = allocate(im, b)))
			return r;
		uint64_t data = (uint64_t)im->bat[b] * SEC + im->bitmap_len;
		struct bits *bt = NULL;
		if (im->type == VHD_DIFF) {
			if ((r = load_bitmap(im, b)) ||
			    !(bt = malloc(sizeof(*bt))))
				return r ? r : -ENOMEM;
			*bt = (struct bits){im, b, in / SEC, n / SEC};
		}
		dreq_io(t, im->f, HV_DISK_WRITE, roff, n, data + in,
			bt ? set_bits : NULL, bt);
		roff += n;
		voff += n;
		len -= n;
	}
	return 0;
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

static int vhd_submit(struct hv_ctx *ctx, struct hv_disk_req *req)
{
	struct vhd *s = HV_STATE(ctx, struct vhd);
	struct dreq *t;
	int r = 0;

	if (req->op == HV_DISK_FLUSH) {
		struct vflush *f = calloc(1, sizeof(*f));
		if (!f)
			return -ENOMEM;
		f->req = req;
		f->io.op = HV_DISK_FLUSH;
		f->io.done = flush_done;
		r = hv_file_submit(ctx, s->top->f, &f->io);
		if (r)
			free(f);
		return r;
	}
	if (req->op != HV_DISK_READ && req->op != HV_DISK_WRITE)
		return -EOPNOTSUPP;
	if (!(t = dreq_new(ctx, req)))
		return -ENOMEM;
	if (req->op == HV_DISK_READ)
		read_range(t, s->top, 0, req->offset, req->len);
	else if ((r = write_range(t, s->top, 0, req->offset, req->len)))
		dreq_fail(t, r);
	dreq_put(t);
	return 0;
}

/* ---- ops ---- */
static int vhd_probe(const void *head, size_t len, uint64_t file_size)
{
	/* dynamic images start with a footer copy; fixed ones are only
	 * recognisable by their last sector, which probing does not see */
	return len >= 8 && !memcmp(head, "conectix", 8) ? 100 : 0;
}

static int vhd_open(struct hv_ctx *ctx, const char *path, unsigned flags)
{
	struct vhd *s = HV_STATE(ctx, struct vhd);
	int r;

	s->readonly = !!(flags & HV_DISK_OPEN_RDONLY);
	r = img_open(ctx, path, s->readonly, &s->top);
	if (r) {
		img_close(s->top);
		s->top = NULL;
	}
	return r;
}

static void vhd_close(struct hv_ctx *ctx)
{
	struct vhd *s = HV_STATE(ctx, struct vhd);

	if (s->top && !s->readonly && hv_file_sync(ctx, s->top->f))
		hv_warn(ctx, "the last flush before closing the image failed");
	img_close(s->top);
}

static void vhd_info(struct hv_ctx *ctx, struct hv_disk_info *info)
{
	struct vhd *s = HV_STATE(ctx, struct vhd);

	memset(info, 0, sizeof(*info));
	info->size = s->top->vsize;
	info->logical_sector = SEC;
	info->physical_sector = SEC;
	if (s->readonly)
		info->flags = HV_DISK_F_READONLY;
}

static int vhd_parent(struct hv_ctx *ctx, char *buf, size_t len)
{
	struct vhd *s = HV_STATE(ctx, struct vhd);

	snprintf(buf, len, "%s",
		 s->top->parent_path ? s->top->parent_path : "");
	return 0;
}

/* A differencing image names its parent by platform locators (the first
 * that finds a file wins) and expects the parent footer's unique id. */
static int vhd_backing(struct hv_ctx *ctx, struct hv_disk_backing *b)
{
	struct img *im = HV_STATE(ctx, struct vhd)->top;
	int r;

	if (im->type != VHD_DIFF)
		return 0;
	if (!im->parent_path && (r = find_parent(im)))
		return r;
	snprintf(b->path, sizeof(b->path), "%s", im->parent_path);
	snprintf(b->format, sizeof(b->format), "vhd");
	snprintf(b->id_name, sizeof(b->id_name), "unique id");
	memcpy(b->id, im->dh.parent_uuid, 16);
	return 0;
}

static int vhd_identity(struct hv_ctx *ctx, struct hv_disk_ident *id)
{
	struct img *im = HV_STATE(ctx, struct vhd)->top;

	memcpy(id->id, im->ft.uuid, 16);
	id->stamp = be32(im->ft.timestamp);
	return 0;
}

static int vhd_map(struct hv_ctx *ctx, uint64_t offset, uint64_t len,
		   uint64_t *pnum, uint32_t *status)
{
	struct img *im = HV_STATE(ctx, struct vhd)->top;

	if (im->type == VHD_FIXED) {
		*pnum = len;
		*status = HV_DISK_MAP_DATA;
		return 0;
	}
	uint64_t n = im->bs - offset % im->bs;
	*pnum = n < len ? n : len;
	if (im->bat[offset / im->bs] != UNALLOC)
		*status = HV_DISK_MAP_DATA;
	else
		*status = im->type == VHD_DIFF ? 0 : HV_DISK_MAP_ZERO;
	return 0;
}

static int vhd_check(struct hv_ctx *ctx, unsigned flags,
		     struct hv_disk_check *res)
{
	struct img *im = HV_STATE(ctx, struct vhd)->top;
	struct footer head;

	/* open refused what is inconsistent; the footer copy may differ */
	if (im->type != VHD_FIXED &&
	    (hv_file_pread(ctx, im->f, &head, SEC, 0) != SEC ||
	     memcmp(&head, &im->ft, SEC))) {
		res->errors++;
		snprintf(res->first_error, sizeof(res->first_error),
			 "%s: the footer copy at offset 0 differs from the "
			 "footer",
			 im->path);
		if ((flags & HV_DISK_CHECK_REPAIR) && !im->readonly &&
		    hv_file_pwrite(ctx, im->f, &im->ft, SEC, 0) == SEC)
			res->repaired++;
	}
	return 0;
}

/* ---- create ---- */
static void geometry(uint64_t total, uint16_t *cyls, uint8_t *heads,
		     uint8_t *spt)
{
	uint32_t cth;

	if (total > MAX_GEOMETRY)
		total = MAX_GEOMETRY;
	if (total >= 65535ull * 16 * 63) {
		*spt = 255;
		*heads = 16;
		cth = (uint32_t)(total / *spt);
	} else {
		*spt = 17;
		cth = (uint32_t)(total / *spt);
		*heads = (uint8_t)((cth + 1023) / 1024);
		if (*heads < 4)
			*heads = 4;
		if (cth >= (uint32_t)*heads * 1024 || *heads > 16) {
			*spt = 31;
			*heads = 16;
			cth = (uint32_t)(total / *spt);
		}
		if (cth >= (uint32_t)*heads * 1024) {
			*spt = 63;
			*heads = 16;
			cth = (uint32_t)(total / *spt);
		}
	}
	*cyls = (uint16_t)(cth / *heads);
}

static size_t put_utf16(uint8_t *p, const char *s, int big)
{
	size_t n = 0;
	for (; *s; s++, n += 2) {
		p[n + !big] = 0;
		p[n + big] = (uint8_t)*s;
	}
	return n;
}

static void seal(struct footer *f)
{
	f->checksum = 0;
	f->checksum = be32(vhd_sum(f, 512, offsetof(struct footer, checksum)));
}

static int vhd_create(struct hv_ctx *ctx, const char *path,
		      const struct hv_disk_create *o)
{
	struct footer ft;
	struct dynhdr dh;
	struct hv_file *f;
	struct img *par = NULL;
	uint64_t total = (o->size + SEC - 1) / SEC, bat_off = 1536, end;
	uint32_t bs = o->block_size ? o->block_size : 2u << 20, nent;
	uint16_t cyls = 0;
	uint8_t heads = 0, spt = 0;
	int diff = o->parent != NULL,
	    fixed = !!(o->flags & HV_DISK_CREATE_FIXED);
	int r;

	if ((o->logical_sector && o->logical_sector != SEC) ||
	    (diff && fixed) || bs < 4096 || bs > (256u << 20) ||
	    (bs & (bs - 1))) {
		hv_error(ctx,
			 "%s: VHD takes 512-byte sectors and power-of-two "
			 "blocks up to 256 MiB",
			 path);
		return -EINVAL;
	}
	if (diff) {
		r = img_open(ctx, o->parent, 1, &par);
		if (r) {
			img_close(par);
			return r;
		}
		total = par->vsize / SEC;
	}
	/* round up to a geometry, as qemu-img does */
	for (uint64_t i = 0;
	     total > (uint64_t)cyls * heads * spt && total <= MAX_GEOMETRY; i++)
		geometry(total + i, &cyls, &heads, &spt);
	if (total > MAX_GEOMETRY)
		geometry(total, &cyls, &heads, &spt);
	else
		total = (uint64_t)cyls * heads * spt;
	if (total > 2040ull * 1024 * 1024 * 2) {
		hv_error(ctx, "%s: VHD holds at most 2040 GiB", path);
		img_close(par);
		return -EFBIG;
	}
	memset(&ft, 0, sizeof(ft));
	memcpy(ft.cookie, "conectix", 8);
	ft.features = be32(2);
	ft.version = be32(0x00010000);
	ft.data_offset = fixed ? ~0ull : be64(512);
	ft.timestamp = be32((uint32_t)(time(NULL) - 946684800));
	memcpy(ft.creator_app, "hv  ", 4);
	ft.creator_ver = be32(0x00010000);
	memcpy(&ft.creator_os, "Wi2k", 4);
	ft.orig_size = ft.cur_size = be64(total * SEC);
	ft.cyls = be16(cyls);
	ft.heads = heads;
	ft.spt = spt;
	ft.type = be32(fixed ? VHD_FIXED : diff ? VHD_DIFF : VHD_DYNAMIC);
	if (getrandom(ft.uuid, 16, 0) != 16)
		memset(ft.uuid, 0x5a, 16);
	seal(&ft);
	if ((r = hv_file_open(ctx, path, HV_FILE_CREATE | HV_FILE_BUFFERED,
			      &f))) {
		hv_error(ctx, "%s: %s", path, strerror(-r));
		img_close(par);
		return r;
	}
	if (fixed) {
		r = hv_file_truncate(ctx, f, total * SEC + SEC);
		if (!r && hv_file_pwrite(ctx, f, &ft, SEC, total * SEC) != SEC)
			r = -EIO;
		goto out;
	}
	nent = (uint32_t)((total * SEC + bs - 1) / bs);
	end = bat_off + ((uint64_t)nent * 4 + SEC - 1) / SEC * SEC;
	memset(&dh, 0, sizeof(dh));
	memcpy(dh.cookie, "cxsparse", 8);
	dh.data_offset = ~0ull;
	dh.table_offset = be64(bat_off);
	dh.version = be32(0x00010000);
	dh.max_entries = be32(nent);
	dh.block_size = be32(bs);
	uint8_t *loc = NULL;
	if (diff) {
		char *abs = realpath(o->parent, NULL), *base,
		     *dup = strdup(o->parent);
		base = basename(dup);
		memcpy(dh.parent_uuid, par->ft.uuid, 16);
		dh.parent_ts = par->ft.timestamp;
		put_utf16(dh.parent_name, base, 1);
		/* W2ku (absolute) and W2ru (relative to the child), 4 KiB each
		 */
		loc = calloc(1, 8192);
		char rel[1024];
		snprintf(rel, sizeof(rel), ".\\%s", base);
		size_t la = put_utf16(loc, abs ? abs : o->parent, 0);
		size_t lr = put_utf16(loc + 4096, rel, 0);
		dh.loc[0] = (struct ploc){be32(0x57326b75), be32(8),
					  be32((uint32_t)la), 0, be64(end)};
		dh.loc[1] =
			(struct ploc){be32(0x57327275), be32(8),
				      be32((uint32_t)lr), 0, be64(end + 4096)};
		free(abs);
		free(dup);
	}
	dh.checksum =
		be32(vhd_sum(&dh, 1024, offsetof(struct dynhdr, checksum)));
	uint64_t data_end = end + (diff ? 8192 : 0);
	uint32_t *bat = malloc((size_t)nent * 4);
	memset(bat, 0xff, (size_t)nent * 4);
	r = hv_file_truncate(ctx, f, data_end + SEC);
	if (!r && (hv_file_pwrite(ctx, f, &ft, SEC, 0) != SEC ||
		   hv_file_pwrite(ctx, f, &dh, 1024, 512) != 1024 ||
		   hv_file_pwrite(ctx, f, bat, (size_t)nent * 4, bat_off) !=
			   (int64_t)nent * 4 ||
		   (loc && hv_file_pwrite(ctx, f, loc, 8192, end) != 8192) ||
		   hv_file_pwrite(ctx, f, &ft, SEC, data_end) != SEC))
		r = -EIO;
	free(bat);
	free(loc);
out:
	if (!r)
		r = hv_file_sync(ctx, f);
	hv_file_close(ctx, f);
	img_close(par);
	return r;
}

static const struct hv_disk_ops vhd_ops = {
	.probe = vhd_probe,
	.open = vhd_open,
	.close = vhd_close,
	.info = vhd_info,
	.submit = vhd_submit,
	.create = vhd_create,
	.parent = vhd_parent,
	.backing = vhd_backing,
	.identity = vhd_identity,
	.check = vhd_check,
	.map = vhd_map,
};

HV_PLUGIN_DEFINE(
	vhd, disk, &vhd_ops, .version = "1.0",
	.description = "legacy VHD (Virtual PC): fixed, dynamic, differencing",
	.instance_size = sizeof(struct vhd));
