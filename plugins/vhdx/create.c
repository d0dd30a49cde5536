/* SPDX-License-Identifier: MIT */
/*
 * Creating VHDX files. Layout (what QEMU and Hyper-V also use):
 *   0       file type identifier, creator "hv"
 *   64 KiB  header 1, 128 KiB header 2, 192/256 KiB region tables
 *   1 MiB   log (1 MiB)      2 MiB metadata (1 MiB)      3 MiB BAT
 *   then payload blocks (fixed: all of them, FULLY_PRESENT).
 */
#include "vhdx.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/dreq.h"

#define LOG_OFF	   (1 * MiB)
#define META_OFF   (2 * MiB)
#define BAT_OFFSET (3 * MiB)

static size_t put_utf16(uint8_t *p, const char *s)
{
	size_t n = 0;

	for (; *s; s++, n += 2) {
		p[n] = (uint8_t)*s;
		p[n + 1] = 0;
	}
	return n;
}

/* dir-relative path of target from the directory of child, Windows style. */
static char *relative_path(const char *child, const char *target)
{
	char *c = strdup(child), *cr, *tr = realpath(target, NULL);
	char *out = NULL;

	cr = realpath(dirname(c), NULL);
	free(c);
	if (!cr || !tr)
		goto out;
	size_t common = 0, i = 0;
	while (cr[i] && cr[i] == tr[i]) {
		i++;
		if (cr[i] == '/' || (!cr[i] && tr[i] == '/'))
			common = i;
	}
	size_t ups = 0;
	for (const char *q = cr + common; *q; q++)
		if (*q == '/')
			ups++;
	if (cr[common] == 0)
		ups = 0;
	out = malloc(strlen(tr) + 3 * ups + 4);
	strcpy(out, ups ? "" : ".\\");
	for (size_t k = 0; k < ups; k++)
		strcat(out, "..\\");
	strcat(out, tr + common + 1);
	for (char *q = out; *q; q++)
		if (*q == '/')
			*q = '\\';
out:
	free(cr);
	free(tr);
	return out;
}

static size_t build_locator(uint8_t *p, const char *linkage, const char *rel,
			    const char *abs)
{
	const char *kv[3][2] = {{"parent_linkage", linkage},
				{"relative_path", rel},
				{"absolute_win32_path", abs}};
	size_t off = 20 + 3 * 12;
	uint16_t count = 3;

	memcpy(p, &GUID_LOC_TYPE, 16);
	memcpy(p + 18, &count, 2);
	for (int i = 0; i < 3; i++) {
		uint8_t *e = p + 20 + i * 12;
		uint32_t ko = (uint32_t)off;
		uint16_t kl = (uint16_t)put_utf16(p + off, kv[i][0]);
		off += kl;
		uint32_t vo = (uint32_t)off;
		uint16_t vl = (uint16_t)put_utf16(p + off, kv[i][1]);
		off += vl;
		memcpy(e, &ko, 4);
		memcpy(e + 4, &vo, 4);
		memcpy(e + 8, &kl, 2);
		memcpy(e + 10, &vl, 2);
	}
	return off;
}

struct layout {
	uint64_t vsize, nblocks, nbat, chunk_ratio, bat_len, data_off;
	uint32_t bs, lsec, psec;
	int fixed, diff;
	guid_t parent_dwg;
	char *rel, *abs;
};

static int write_meta(struct hv_ctx *ctx, struct hv_file *f,
		      const struct layout *l)
{
	uint8_t *m = calloc(1, MiB);
	struct vhdx_meta_hdr *mh = (void *)m;
	struct vhdx_meta_entry *e = (void *)(m + sizeof(*mh));
	uint32_t off = VHDX_META_TABLE_SIZE, fp[2] = {l->bs, l->diff ? 2u : 0u};
	guid_t id;
	char lk[40];
	int n = 0, r = 0;

	if (!m)
		return -ENOMEM;
	if (l->fixed)
		fp[1] |= 1; /* LeaveBlocksAllocated */
	guid_random(&id);
	mh->sig = SIG_META;
#define ITEM(g, ptr, len, fl)                  \
	do {                                   \
		e[n].id = g;                   \
		e[n].offset = off;             \
		e[n].length = (uint32_t)(len); \
		e[n].flags = (fl);             \
		memcpy(m + off, ptr, len);     \
		off += (uint32_t)(len);        \
		n++;                           \
	} while (0)
	ITEM(GUID_FILE_PARAMS, fp, 8, 4);
	ITEM(GUID_VSIZE, &l->vsize, 8, 6);
	ITEM(GUID_DISK_ID, &id, 16, 6);
	ITEM(GUID_LSS, &l->lsec, 4, 6);
	ITEM(GUID_PSS, &l->psec, 4, 6);
	if (l->diff) {
		uint8_t *loc = calloc(1, 65536);
		if (!loc) {
			free(m);
			return -ENOMEM;
		}
		guid_format(&l->parent_dwg, lk);
		size_t len = build_locator(loc, lk, l->rel, l->abs);
		ITEM(GUID_PARENT_LOC, loc, len, 4);
		free(loc);
	}
#undef ITEM
	mh->count = (uint16_t)n;
	if (hv_file_pwrite(ctx, f, m, MiB, META_OFF) != (int64_t)MiB)
		r = -EIO;
	free(m);
	return r;
}

static int write_layout(struct hv_ctx *ctx, struct hv_file *f,
			const struct layout *l)
{
	uint8_t *buf = calloc(1, VHDX_REGION_SIZE);
	struct vhdx_header h;
	int r = -EIO;

	if (!buf)
		return -ENOMEM;
	/* file type identifier */
	memcpy(buf, "vhdxfile", 8);
	put_utf16(buf + 8, "hv");
	if (hv_file_pwrite(ctx, f, buf, VHDX_REGION_SIZE, 0) !=
	    (int64_t)VHDX_REGION_SIZE)
		goto out;
	/* headers: sequence 0 and 1, identical otherwise */
	memset(&h, 0, sizeof(h));
	h.sig = SIG_HEAD;
	guid_random(&h.file_write_guid);
	guid_random(&h.data_write_guid);
	h.version = 1;
	h.log_length = (uint32_t)MiB;
	h.log_offset = LOG_OFF;
	for (int i = 0; i < 2; i++) {
		h.seq = (uint64_t)i;
		h.checksum = 0;
		h.checksum = crc32c(0, &h, sizeof(h));
		if (hv_file_pwrite(ctx, f, &h, sizeof(h),
				   i ? VHDX_HEADER2 : VHDX_HEADER1) !=
		    (int64_t)sizeof(h))
			goto out;
	}
	/* region tables */
	memset(buf, 0, VHDX_REGION_SIZE);
	struct vhdx_region_hdr *rh = (void *)buf;
	struct vhdx_region_entry *re = (void *)(buf + sizeof(*rh));
	rh->sig = SIG_REGI;
	rh->count = 2;
	re[0] = (struct vhdx_region_entry){GUID_BAT, BAT_OFFSET,
					   (uint32_t)l->bat_len, 1};
	re[1] = (struct vhdx_region_entry){GUID_METADATA, META_OFF,
					   (uint32_t)MiB, 1};
	rh->checksum = crc32c(0, buf, VHDX_REGION_SIZE);
	if (hv_file_pwrite(ctx, f, buf, VHDX_REGION_SIZE, VHDX_REGION1) !=
		    (int64_t)VHDX_REGION_SIZE ||
	    hv_file_pwrite(ctx, f, buf, VHDX_REGION_SIZE, VHDX_REGION2) !=
		    (int64_t)VHDX_REGION_SIZE)
		goto out;
	r = write_meta(ctx, f, l);
out:
	free(buf);
	return r;
}

static int write_bat(struct hv_ctx *ctx, struct hv_file *f,
		     const struct layout *l)
{
	uint64_t *bat = calloc(1, l->bat_len);
	int r = 0;

	if (!bat)
		return -ENOMEM;
	if (l->fixed)
		for (uint64_t b = 0; b < l->nblocks; b++)
			bat[b + b / l->chunk_ratio] = BAT_MAKE(
				PB_FULLY_PRESENT, l->data_off + b * l->bs);
	if (hv_file_pwrite(ctx, f, bat, l->bat_len, BAT_OFFSET) !=
	    (int64_t)l->bat_len)
		r = -EIO;
	free(bat);
	return r;
}

static int parent_info(struct hv_ctx *ctx, const char *child, const char *path,
		       struct layout *l)
{
	struct vimg *p;
	int r = vimg_open(ctx, path, 1, &p);

	if (r == 0) {
		l->parent_dwg = p->hdr.data_write_guid;
		if (l->vsize && l->vsize != p->vsize) {
			hv_error(ctx,
				 "%s: a differencing image must have its "
				 "parent's size (%llu)",
				 child, (unsigned long long)p->vsize);
			r = -EINVAL;
		}
		l->vsize = p->vsize;
		if (l->lsec && l->lsec != p->lsec) {
			hv_error(ctx, "%s: the parent's logical sector is %u",
				 child, p->lsec);
			r = -EINVAL;
		}
		l->lsec = p->lsec;
		l->abs = realpath(path, NULL);
		l->rel = relative_path(child, path);
		if (!l->abs || !l->rel)
			r = -ENOMEM;
		/* a Win32 path, as the key says: "\dir\parent.vhdx" (rooted,
		 * no drive). Readers that only look for the parent beside the
		 * child (libvhdi) take the part after the last backslash. */
		for (char *q = l->abs; q && *q; q++)
			if (*q == '/')
				*q = '\\';
	}
	vimg_close(p);
	return r;
}

int vhdx_create(struct hv_ctx *ctx, const char *path,
		const struct hv_disk_create *o)
{
	struct layout l = {0};
	struct hv_file *f;
	int r;

	l.vsize = o->size;
	l.lsec = o->logical_sector;
	l.psec = o->physical_sector ? o->physical_sector : 4096;
	l.fixed = !!(o->flags & HV_DISK_CREATE_FIXED);
	l.diff = o->parent != NULL;
	if (l.diff && l.fixed)
		return -EINVAL;
	if (l.diff && (r = parent_info(ctx, path, o->parent, &l)))
		goto out_free;
	if (!l.lsec)
		l.lsec = 512;
	l.bs = o->block_size ? o->block_size
			     : (uint32_t)((l.diff ? 2 : 32) * MiB);
	r = -EINVAL;
	if (l.bs < MiB || l.bs > 256 * MiB || (l.bs & (l.bs - 1))) {
		hv_error(ctx,
			 "%s: block size must be a power of two from 1 to 256 "
			 "MiB",
			 path);
		goto out_free;
	}
	if ((l.lsec != 512 && l.lsec != 4096) ||
	    (l.psec != 512 && l.psec != 4096)) {
		hv_error(ctx, "%s: sector sizes must be 512 or 4096", path);
		goto out_free;
	}
	l.vsize = (l.vsize + l.lsec - 1) / l.lsec * l.lsec;
	if (!l.vsize || l.vsize > 64ull * 1024 * 1024 * MiB) {
		hv_error(ctx, "%s: size must be from 1 sector to 64 TiB", path);
		goto out_free;
	}
	l.chunk_ratio = ((1ull << 23) * l.lsec) / l.bs;
	l.nblocks = (l.vsize + l.bs - 1) / l.bs;
	if (l.diff) {
		uint64_t nc = (l.nblocks + l.chunk_ratio - 1) / l.chunk_ratio;
		l.nbat = nc * (l.chunk_ratio + 1);
	} else {
		l.nbat = l.nblocks + (l.nblocks - 1) / l.chunk_ratio;
	}
	l.bat_len = (l.nbat * 8 + MiB - 1) / MiB * MiB;
	l.data_off = BAT_OFFSET + l.bat_len;
	r = hv_file_open(ctx, path, HV_FILE_CREATE | HV_FILE_BUFFERED, &f);
	if (r) {
		hv_error(ctx, "%s: %s", path, strerror(-r));
		goto out_free;
	}
	r = hv_file_truncate(ctx, f,
			     l.data_off + (l.fixed ? l.nblocks * l.bs : 0));
	if (!r)
		r = write_layout(ctx, f, &l);
	if (!r)
		r = write_bat(ctx, f, &l);
	if (!r)
		r = hv_file_sync(ctx, f);
	hv_file_close(ctx, f);
out_free:
	free(l.rel);
	free(l.abs);
	return r;
}
