/* SPDX-License-Identifier: MIT */
/*
 * VHDX: opening and verifying a file (headers, region table, metadata,
 * BAT, parent locator), and the ops table; the core opens the parent. I/O is in io.c, the metadata log
 * in log.c, image creation in create.c.
 *
 * Every refusal is one hv_error() line "PATH: problem"; nothing the file
 * says is trusted before it has been checked against the file's size and
 * the regions it may not overlap.
 */
#include "vhdx.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/dreq.h"

#define FAIL(im, ...)                             \
	do {                                      \
		hv_error((im)->ctx, __VA_ARGS__); \
		return -EINVAL;                   \
	} while (0)

uint64_t vimg_bat_index(const struct vimg *im, uint64_t block)
{
	return block + block / im->chunk_ratio;
}

uint64_t vimg_sb_index(const struct vimg *im, uint64_t chunk)
{
	return chunk * (im->chunk_ratio + 1) + im->chunk_ratio;
}

static int rd(struct vimg *im, void *buf, size_t len, uint64_t off)
{
	int64_t n = vimg_pread(im, buf, len, off);

	if (n < 0)
		FAIL(im, "%s: read error at %llu: %s", im->path,
		     (unsigned long long)off, strerror((int)-n));
	if ((size_t)n != len)
		FAIL(im, "%s: truncated: %llu bytes, structures extend to %llu",
		     im->path, (unsigned long long)im->file_size,
		     (unsigned long long)(off + len));
	return 0;
}

static int header_ok(struct vhdx_header *h)
{
	uint32_t c = h->checksum;
	int ok;

	h->checksum = 0;
	ok = h->sig == SIG_HEAD && crc32c(0, h, sizeof(*h)) == c;
	h->checksum = c;
	return ok;
}

static int read_headers(struct vimg *im)
{
	struct vhdx_header *h = malloc(2 * sizeof(*h));
	int best = -1, r = 0;

	if (!h)
		return -ENOMEM;
	for (int i = 0; i < 2 && r == 0; i++) {
		r = rd(im, &h[i], sizeof(h[i]),
		       i ? VHDX_HEADER2 : VHDX_HEADER1);
		if (r)
			break;
		im->hdr_bad[i] = !header_ok(&h[i]) || h[i].version != 1;
		if (!im->hdr_bad[i] && (best < 0 || h[i].seq > h[best].seq))
			best = i;
	}
	if (r == 0 && best < 0) {
		hv_error(im->ctx,
			 "%s: no valid header (signature, version or CRC-32C "
			 "wrong in both copies)",
			 im->path);
		r = -EINVAL;
	}
	if (r == 0) {
		im->hdr = h[best];
		im->cur = best;
	}
	free(h);
	return r;
}

int vimg_write_header(struct vimg *im, const guid_t *log_guid)
{
	struct vhdx_header h = im->hdr;
	int next = 1 - im->cur;
	int64_t n;
	int r;

	h.seq++;
	h.log_guid = *log_guid;
	h.checksum = 0;
	h.checksum = crc32c(0, &h, sizeof(h));
	n = hv_file_pwrite(im->ctx, im->f, &h, sizeof(h),
			   next ? VHDX_HEADER2 : VHDX_HEADER1);
	if (n != (int64_t)sizeof(h))
		return n < 0 ? (int)n : -EIO;
	r = hv_file_sync(im->ctx, im->f);
	if (r)
		return r;
	im->hdr = h;
	im->cur = next;
	im->hdr_bad[next] = 0;
	return 0;
}

/* [off, off+len) lies in the file, MiB-aligned, after the first MiB. */
static int region_ok(struct vimg *im, uint64_t off, uint64_t len)
{
	return off >= MiB && !(off % MiB) && len && off + len >= off &&
	       off + len <= im->file_size;
}

static int overlaps(uint64_t a, uint64_t al, uint64_t b, uint64_t bl)
{
	return a < b + bl && b < a + al;
}

static int read_region_table(struct vimg *im)
{
	uint8_t *t[2];
	int use = -1, r = 0;

	t[0] = malloc(VHDX_REGION_SIZE);
	t[1] = malloc(VHDX_REGION_SIZE);
	if (!t[0] || !t[1]) {
		r = -ENOMEM;
		goto out;
	}
	for (int i = 1; i >= 0; i--) {
		struct vhdx_region_hdr *rh = (void *)t[i];
		r = rd(im, t[i], VHDX_REGION_SIZE,
		       i ? VHDX_REGION2 : VHDX_REGION1);
		if (r)
			goto out;
		uint32_t c = rh->checksum;
		rh->checksum = 0;
		if (rh->sig == SIG_REGI &&
		    crc32c(0, t[i], VHDX_REGION_SIZE) == c && rh->count <= 2047)
			use = i;
		rh->checksum = c;
	}
	if (use < 0) {
		hv_error(im->ctx,
			 "%s: no valid region table (signature or CRC-32C "
			 "wrong in both copies)",
			 im->path);
		r = -EINVAL;
		goto out;
	}
	im->region_mismatch = memcmp(t[0], t[1], VHDX_REGION_SIZE) != 0;
	struct vhdx_region_hdr *rh = (void *)t[use];
	struct vhdx_region_entry *e = (void *)(t[use] + sizeof(*rh));
	int have_bat = 0, have_meta = 0;
	for (uint32_t i = 0; i < rh->count; i++) {
		if (!memcmp(&e[i].guid, &GUID_BAT, 16)) {
			im->bat_off = e[i].offset;
			im->bat_len = e[i].length;
			have_bat++;
		} else if (!memcmp(&e[i].guid, &GUID_METADATA, 16)) {
			im->meta_off = e[i].offset;
			im->meta_len = e[i].length;
			have_meta++;
		} else if (e[i].required & 1) {
			hv_error(im->ctx, "%s: unknown required region %u",
				 im->path, i);
			r = -EINVAL;
			goto out;
		}
	}
	r = -EINVAL;
	if (have_bat != 1 || have_meta != 1)
		hv_error(im->ctx,
			 "%s: region table lacks the BAT or metadata region "
			 "(or repeats it)",
			 im->path);
	else if (!region_ok(im, im->bat_off, im->bat_len))
		hv_error(im->ctx,
			 "%s: BAT region [%llu, +%u) is misaligned or outside "
			 "the file",
			 im->path, (unsigned long long)im->bat_off,
			 im->bat_len);
	else if (!region_ok(im, im->meta_off, im->meta_len) ||
		 im->meta_len < VHDX_META_TABLE_SIZE)
		hv_error(im->ctx,
			 "%s: metadata region [%llu, +%u) is misaligned or "
			 "outside the file",
			 im->path, (unsigned long long)im->meta_off,
			 im->meta_len);
	else if (overlaps(im->bat_off, im->bat_len, im->meta_off, im->meta_len))
		hv_error(im->ctx, "%s: BAT and metadata regions overlap",
			 im->path);
	else if (overlaps(im->bat_off, im->bat_len, im->hdr.log_offset,
			  im->hdr.log_length) ||
		 overlaps(im->meta_off, im->meta_len, im->hdr.log_offset,
			  im->hdr.log_length))
		hv_error(im->ctx,
			 "%s: the log overlaps the BAT or metadata region",
			 im->path);
	else
		r = 0;
out:
	free(t[0]);
	free(t[1]);
	return r;
}

static char *utf16_to_utf8(const uint8_t *p, size_t len)
{
	char *out = malloc(len * 2 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i + 1 < len; i += 2) {
		unsigned c = p[i] | (unsigned)p[i + 1] << 8;
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

struct locator {
	char *linkage, *linkage2, *relative, *absolute, *volume;
};

static int parse_locator(struct vimg *im, const uint8_t *p, uint32_t len,
			 struct locator *loc)
{
	uint16_t count;

	if (len < 20 || memcmp(p, &GUID_LOC_TYPE, 16))
		FAIL(im, "%s: parent locator of an unknown type", im->path);
	memcpy(&count, p + 18, 2);
	if (20 + (uint64_t)count * 12 > len)
		FAIL(im, "%s: parent locator entries overrun the item",
		     im->path);
	for (unsigned i = 0; i < count; i++) {
		uint32_t ko, vo;
		uint16_t kl, vl;
		const uint8_t *e = p + 20 + i * 12;
		memcpy(&ko, e, 4);
		memcpy(&vo, e + 4, 4);
		memcpy(&kl, e + 8, 2);
		memcpy(&vl, e + 10, 2);
		if ((uint64_t)ko + kl > len || (uint64_t)vo + vl > len)
			FAIL(im,
			     "%s: parent locator entry %u points outside the "
			     "item",
			     im->path, i);
		char *k = utf16_to_utf8(p + ko, kl),
		     *v = utf16_to_utf8(p + vo, vl);
		char **slot = NULL;
		if (!k || !v) {
			free(k);
			free(v);
			return -ENOMEM;
		}
		if (!strcmp(k, "parent_linkage"))
			slot = &loc->linkage;
		else if (!strcmp(k, "parent_linkage2"))
			slot = &loc->linkage2;
		else if (!strcmp(k, "relative_path"))
			slot = &loc->relative;
		else if (!strcmp(k, "absolute_win32_path"))
			slot = &loc->absolute;
		else if (!strcmp(k, "volume_path"))
			slot = &loc->volume;
		free(k);
		if (slot && !*slot)
			*slot = v;
		else
			free(v);
	}
	return 0;
}

static int read_metadata(struct vimg *im, struct locator *loc)
{
	uint8_t *m = malloc(im->meta_len);
	struct vhdx_meta_hdr *mh = (void *)m;
	struct vhdx_meta_entry *e = (void *)(m + sizeof(*mh));
	int have = 0, r;

	if (!m)
		return -ENOMEM;
	r = rd(im, m, im->meta_len, im->meta_off);
	if (r)
		goto out;
	r = -EINVAL;
	if (mh->sig != SIG_META || mh->count > 2047) {
		hv_error(im->ctx, "%s: bad metadata table signature or count",
			 im->path);
		goto out;
	}
	for (unsigned i = 0; i < mh->count; i++) {
		uint32_t o = e[i].offset, l = e[i].length;
		const uint8_t *v = m + o;
		if (l && (o < VHDX_META_TABLE_SIZE ||
			  (uint64_t)o + l > im->meta_len)) {
			hv_error(im->ctx,
				 "%s: metadata item %u lies outside the "
				 "metadata region",
				 im->path, i);
			goto out;
		}
#define NEED(n)                                                               \
	if (l < (n)) {                                                        \
		hv_error(im->ctx, "%s: metadata item %u too short", im->path, \
			 i);                                                  \
		goto out;                                                     \
	}
		if (!memcmp(&e[i].id, &GUID_FILE_PARAMS, 16)) {
			NEED(8);
			uint32_t fl;
			memcpy(&im->block_size, v, 4);
			memcpy(&fl, v + 4, 4);
			im->leave_allocated = fl & 1;
			im->has_parent = !!(fl & 2);
			have |= 1;
		} else if (!memcmp(&e[i].id, &GUID_VSIZE, 16)) {
			NEED(8);
			memcpy(&im->vsize, v, 8);
			im->vsize_item_off = im->meta_off + o;
			have |= 2;
		} else if (!memcmp(&e[i].id, &GUID_DISK_ID, 16)) {
			NEED(16);
			memcpy(&im->disk_id, v, 16);
			have |= 4;
		} else if (!memcmp(&e[i].id, &GUID_LSS, 16)) {
			NEED(4);
			memcpy(&im->lsec, v, 4);
			have |= 8;
		} else if (!memcmp(&e[i].id, &GUID_PSS, 16)) {
			NEED(4);
			memcpy(&im->psec, v, 4);
			have |= 16;
		} else if (!memcmp(&e[i].id, &GUID_PARENT_LOC, 16) ||
			   !memcmp(&e[i].id, &GUID_PARENT_LOC_OLD, 16)) {
			if (have & 32) {
				hv_error(im->ctx,
					 "%s: two parent locator items",
					 im->path);
				goto out;
			}
			if (parse_locator(im, v, l, loc))
				goto out;
			if (e[i].id.b[0] == GUID_PARENT_LOC_OLD.b[0])
				im->old_loc_entry = im->meta_off + sizeof(*mh) +
						    i * sizeof(*e);
			have |= 32;
		} else if (e[i].flags & 4) {
			hv_error(im->ctx,
				 "%s: unknown required metadata item %u",
				 im->path, i);
			goto out;
		}
#undef NEED
	}
	if ((have & 31) != 31)
		hv_error(im->ctx,
			 "%s: required metadata missing (file parameters, "
			 "size, disk id or sector sizes)",
			 im->path);
	else if (im->block_size < MiB || im->block_size > 256 * MiB ||
		 (im->block_size & (im->block_size - 1)))
		hv_error(
			im->ctx,
			"%s: block size %u is not a power of two in 1..256 MiB",
			im->path, im->block_size);
	else if ((im->lsec != 512 && im->lsec != 4096) ||
		 (im->psec != 512 && im->psec != 4096))
		hv_error(im->ctx, "%s: sector sizes %u/%u are not 512 or 4096",
			 im->path, im->lsec, im->psec);
	else if (!im->vsize || im->vsize % im->lsec ||
		 im->vsize > 64ull * 1024 * 1024 * MiB)
		hv_error(im->ctx,
			 "%s: virtual size %llu is zero, unaligned or over 64 "
			 "TiB",
			 im->path, (unsigned long long)im->vsize);
	else if (im->has_parent && !(have & 32))
		hv_error(im->ctx,
			 "%s: differencing image without a parent locator",
			 im->path);
	else
		r = 0;
	if (r == 0 && im->old_loc_entry)
		hv_warn(im->ctx,
			"%s: parent locator item under the mistyped GUID "
			"A8D35F2B-B30B-454D-ABF7-D3D84834AB0C (MS-VHDX: "
			"A8D35F2D-...); other readers miss the parent; hv img "
			"check -r rewrites it",
			im->path);
out:
	free(m);
	return r;
}

struct range {
	uint64_t off, len, idx;
};

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Which fixed structure [off, +len) hits, or NULL. */
static const char *meta_hit(const struct vimg *im, uint64_t off, uint64_t len)
{
	if (off < MiB)
		return "header";
	if (overlaps(off, len, im->hdr.log_offset, im->hdr.log_length))
		return "log";
	if (overlaps(off, len, im->bat_off, im->bat_len))
		return "BAT";
	if (overlaps(off, len, im->meta_off, im->meta_len))
		return "metadata";
	return NULL;
}

static int check_bat(struct vimg *im)
{
	struct range *rg = malloc((im->nbat + 1) * sizeof(*rg));
	uint64_t n = 0, end = im->file_size;
	const char *hit;
	int r = -EINVAL;

	if (!rg)
		return -ENOMEM;
	for (uint64_t i = 0; i < im->nbat; i++) {
		uint64_t e = im->bat[i], off = BAT_OFF(e), len;
		unsigned st = BAT_STATE(e);
		int sb = (i % (im->chunk_ratio + 1)) == im->chunk_ratio;
		if (sb) {
			if (st != SB_NOT_PRESENT && st != SB_PRESENT) {
				hv_error(im->ctx,
					 "%s: BAT entry %llu: bad sector "
					 "bitmap state %u",
					 im->path, (unsigned long long)i, st);
				goto out;
			}
			if (st != SB_PRESENT)
				continue;
			len = MiB;
		} else {
			if (st == 4 || st == 5 ||
			    (st == PB_PARTIALLY_PRESENT && !im->has_parent)) {
				hv_error(im->ctx,
					 "%s: BAT entry %llu: bad block state "
					 "%u",
					 im->path, (unsigned long long)i, st);
				goto out;
			}
			if (st != PB_FULLY_PRESENT &&
			    st != PB_PARTIALLY_PRESENT && !off)
				continue;
			if (st == PB_PARTIALLY_PRESENT) {
				uint64_t c = (i / (im->chunk_ratio + 1));
				if (BAT_STATE(im->bat[vimg_sb_index(im, c)]) !=
				    SB_PRESENT) {
					hv_error(im->ctx,
						 "%s: BAT entry %llu: "
						 "partially present block "
						 "without a sector bitmap",
						 im->path,
						 (unsigned long long)i);
					goto out;
				}
			}
			len = im->block_size;
		}
		if (off < MiB || off + len > im->file_size) {
			hv_error(im->ctx,
				 "%s: BAT entry %llu points outside the file "
				 "(offset %llu, file size %llu)",
				 im->path, (unsigned long long)i,
				 (unsigned long long)off,
				 (unsigned long long)im->file_size);
			goto out;
		}
		if ((hit = meta_hit(im, off, len))) {
			hv_error(im->ctx,
				 "%s: BAT entry %llu points into the %s region",
				 im->path, (unsigned long long)i, hit);
			goto out;
		}
		rg[n++] = (struct range){off, len, i};
		if (off + len > end)
			end = off + len;
	}
	qsort(rg, n, sizeof(*rg), range_cmp);
	for (uint64_t i = 1; i < n; i++)
		if (rg[i].off < rg[i - 1].off + rg[i - 1].len) {
			hv_error(im->ctx,
				 "%s: BAT entries %llu and %llu overlap",
				 im->path, (unsigned long long)rg[i - 1].idx,
				 (unsigned long long)rg[i].idx);
			goto out;
		}
	end = (end + MiB - 1) / MiB * MiB;
	if (im->bat_off + im->bat_len > end)
		end = im->bat_off + im->bat_len;
	if (im->meta_off + im->meta_len > end)
		end = im->meta_off + im->meta_len;
	im->alloc_end = end;
	r = 0;
out:
	free(rg);
	return r;
}

static int read_bat(struct vimg *im)
{
	uint64_t bytes;

	im->chunk_ratio = ((1ull << 23) * im->lsec) / im->block_size;
	im->nblocks = (im->vsize + im->block_size - 1) / im->block_size;
	im->nchunks = (im->nblocks + im->chunk_ratio - 1) / im->chunk_ratio;
	if (im->has_parent)
		im->nbat = im->nchunks * (im->chunk_ratio + 1);
	else
		im->nbat = im->nblocks + (im->nblocks - 1) / im->chunk_ratio;
	if (im->nbat * 8 > im->bat_len)
		FAIL(im, "%s: BAT region (%u bytes) too small for %llu entries",
		     im->path, im->bat_len, (unsigned long long)im->nbat);
	/* whole 4 KiB pages: what the log writes */
	bytes = (im->nbat * 8 + 4095) / 4096 * 4096;
	im->bat = calloc(1, bytes);
	im->bat_dirty = calloc(bytes / 4096, 1);
	im->sb = calloc(im->nchunks, sizeof(*im->sb));
	im->sb_dirty = calloc(im->nchunks, 256);
	if (!im->bat || !im->bat_dirty || !im->sb || !im->sb_dirty)
		return -ENOMEM;
	if (rd(im, im->bat, bytes, im->bat_off))
		return -EINVAL;
	return check_bat(im);
}

int vimg_load_sb(struct vimg *im, uint64_t chunk)
{
	uint64_t e = im->bat[vimg_sb_index(im, chunk)];

	if (im->sb[chunk])
		return 0;
	im->sb[chunk] = calloc(1, MiB);
	if (!im->sb[chunk])
		return -ENOMEM;
	if (BAT_STATE(e) == SB_PRESENT &&
	    vimg_pread(im, im->sb[chunk], MiB, BAT_OFF(e)) < 0)
		return -EIO;
	return 0;
}

/* Absolute path of a locator entry relative to the child's directory. */
static char *resolve(const char *child, const char *p)
{
	char *c = strdup(p), *dup, *out;
	size_t n;

	for (char *q = c; *q; q++)
		if (*q == '\\')
			*q = '/';
	if (c[0] == '/') {
		return c;
	}
	if (((c[0] | 0x20) >= 'a' && (c[0] | 0x20) <= 'z') && c[1] == ':') {
		/* a Windows drive path: try the part after the drive */
		memmove(c, c + 2, strlen(c + 2) + 1);
		return c;
	}
	dup = strdup(child);
	const char *dir = dirname(dup);
	n = strlen(dir) + strlen(c) + 2;
	out = malloc(n);
	snprintf(out, n, "%s/%s", dir, c);
	free(dup);
	free(c);
	return out;
}

/* The parent's path (relative_path, then absolute_win32_path, then
 * volume_path: the first that exists) and linkage; the core opens it. */
static int find_parent(struct vimg *im, struct locator *loc)
{
	const char *cand[3] = {loc->relative, loc->absolute, loc->volume};
	char *path = NULL;

	if (!loc->linkage || guid_parse(loc->linkage, &im->parent_linkage))
		FAIL(im, "%s: parent locator has no valid parent_linkage",
		     im->path);
	im->has_linkage2 = loc->linkage2 &&
			   !guid_parse(loc->linkage2, &im->parent_linkage2);
	for (int i = 0; i < 3 && !path; i++) {
		if (!cand[i])
			continue;
		char *p = resolve(im->path, cand[i]);
		if (access(p, R_OK) == 0)
			path = p;
		else
			free(p);
	}
	if (!path)
		FAIL(im,
		     "%s: parent not found (relative_path '%s', "
		     "absolute_win32_path '%s')",
		     im->path, loc->relative ? loc->relative : "",
		     loc->absolute ? loc->absolute : "");
	im->parent_path = path;
	return 0;
}

static void free_locator(struct locator *l)
{
	free(l->linkage);
	free(l->linkage2);
	free(l->relative);
	free(l->absolute);
	free(l->volume);
}

int vimg_open(struct hv_ctx *ctx, const char *path, int readonly,
	      struct vimg **out)
{
	struct vimg *im = calloc(1, sizeof(*im));
	struct hv_file_info fi;
	struct locator loc = {0};
	char sig[8];
	int r;

	*out = im;
	if (!im)
		return -ENOMEM;
	im->ctx = ctx;
	im->path = strdup(path);
	im->readonly = readonly;
	r = hv_file_open(ctx, path, readonly ? HV_FILE_RDONLY : 0, &im->f);
	if (r) {
		im->f = NULL;
		hv_error(ctx, "%s: %s", path, hv_file_strerror(r));
		return r;
	}
	hv_file_info_get(ctx, im->f, &fi);
	im->file_size = fi.size;
	if (im->file_size < VHDX_REGION2 + VHDX_REGION_SIZE) {
		hv_error(ctx,
			 "%s: truncated: %llu bytes is too small for a VHDX "
			 "file",
			 path, (unsigned long long)im->file_size);
		return -EINVAL;
	}
	if ((r = rd(im, sig, 8, 0)))
		return r;
	if (memcmp(sig, "vhdxfile", 8))
		FAIL(im, "%s: not a VHDX file (bad file type identifier)",
		     path);
	if ((r = read_headers(im)))
		return r;
	if (im->hdr.log_offset < MiB || im->hdr.log_offset % MiB ||
	    !im->hdr.log_length || im->hdr.log_length % MiB ||
	    im->hdr.log_offset + im->hdr.log_length > im->file_size)
		FAIL(im,
		     "%s: log region [%llu, +%u) is misaligned or outside the "
		     "file",
		     path, (unsigned long long)im->hdr.log_offset,
		     im->hdr.log_length);
	if (!guid_is_zero(&im->hdr.log_guid) && (r = vlog_replay(im)))
		return r;
	if ((r = read_region_table(im)) || (r = read_metadata(im, &loc)) ||
	    (r = read_bat(im)))
		goto out;
	if (im->has_parent)
		r = find_parent(im, &loc);
out:
	free_locator(&loc);
	return r;
}

void vimg_close(struct vimg *im)
{
	if (!im)
		return;
	if (im->f)
		hv_file_close(im->ctx, im->f);
	for (uint64_t c = 0; im->sb && c < im->nchunks; c++)
		free(im->sb[c]);
	for (int i = 0; i < im->npages; i++)
		free(im->pages[i].buf);
	free(im->pages);
	for (size_t i = 0; i < im->novl; i++)
		free(im->ovl[i].data);
	free(im->ovl);
	free(im->sb);
	free(im->sb_dirty);
	free(im->bat);
	free(im->bat_dirty);
	free(im->parent_path);
	free(im->path);
	free(im);
}

/* ---- ops ---- */
static int vhdx_probe(const void *head, size_t len, uint64_t file_size)
{
	return len >= 8 && !memcmp(head, "vhdxfile", 8) ? 100 : 0;
}

static int vhdx_open(struct hv_ctx *ctx, const char *path, unsigned flags)
{
	struct vhdx *s = HV_STATE(ctx, struct vhdx);
	int r;

	s->readonly = !!(flags & HV_DISK_OPEN_RDONLY);
	r = vimg_open(ctx, path, s->readonly, &s->top);
	if (r) {
		vimg_close(s->top);
		s->top = NULL;
		return r < 0 ? r : -EINVAL;
	}
	return 0;
}

static void vhdx_close(struct hv_ctx *ctx)
{
	struct vhdx *s = HV_STATE(ctx, struct vhdx);
	struct vimg *im = s->top;
	static const guid_t zero;

	if (im && im->session) {
		/* everything durable, then mark the log empty */
		if (vlog_commit(im) == 0 && hv_file_sync(ctx, im->f) == 0)
			vimg_write_header(im, &zero);
	}
	vimg_close(im);
	free(s->zero_block);
}

static void vhdx_info(struct hv_ctx *ctx, struct hv_disk_info *info)
{
	struct vhdx *s = HV_STATE(ctx, struct vhdx);

	memset(info, 0, sizeof(*info));
	info->size = s->top->vsize;
	info->logical_sector = s->top->lsec;
	info->physical_sector = s->top->psec;
	if (s->readonly)
		info->flags |= HV_DISK_F_READONLY;
	else
		info->flags |= HV_DISK_F_DISCARD;
}

static int vhdx_parent(struct hv_ctx *ctx, char *buf, size_t len)
{
	struct vhdx *s = HV_STATE(ctx, struct vhdx);

	snprintf(buf, len, "%s",
		 s->top->parent_path ? s->top->parent_path : "");
	return 0;
}

static int vhdx_map(struct hv_ctx *ctx, uint64_t offset, uint64_t len,
		    uint64_t *pnum, uint32_t *status)
{
	struct vhdx *s = HV_STATE(ctx, struct vhdx);
	struct vimg *im = s->top;
	uint64_t b = offset / im->block_size;
	uint64_t n = im->block_size - offset % im->block_size;
	unsigned st = BAT_STATE(im->bat[vimg_bat_index(im, b)]);

	*pnum = n < len ? n : len;
	if (st == PB_FULLY_PRESENT || st == PB_PARTIALLY_PRESENT)
		*status = HV_DISK_MAP_DATA;
	else if (!im->has_parent || st == PB_ZERO || st == PB_UNMAPPED)
		*status = HV_DISK_MAP_ZERO;
	else
		*status = 0; /* the parent's */
	return 0;
}

/* Parent locator entries, identity: DataWriteGuid (docs/disk.md). */
static int vhdx_backing(struct hv_ctx *ctx, struct hv_disk_backing *b)
{
	struct vimg *im = HV_STATE(ctx, struct vhdx)->top;

	if (!im->has_parent)
		return 0;
	snprintf(b->path, sizeof(b->path), "%s", im->parent_path);
	snprintf(b->format, sizeof(b->format), "vhdx");
	snprintf(b->id_name, sizeof(b->id_name), "DataWriteGuid");
	memcpy(b->id, &im->parent_linkage, 16);
	if (im->has_linkage2) {
		memcpy(b->id_alt, &im->parent_linkage2, 16);
		b->flags |= HV_DISK_BACKING_ALT;
	}
	return 0;
}

static int vhdx_identity(struct hv_ctx *ctx, struct hv_disk_ident *id)
{
	struct vimg *im = HV_STATE(ctx, struct vhdx)->top;

	memcpy(id->id, &im->hdr.data_write_guid, 16);
	return 0;
}

static void note(struct hv_disk_check *res, const char *fmt, const char *path,
		 const char *what)
{
	res->errors++;
	if (!res->first_error[0])
		snprintf(res->first_error, sizeof(res->first_error), fmt, path,
			 what);
}

/* File the parent locator under the right GUID, through the log. */
static int fix_loc_guid(struct vimg *im)
{
	uint64_t pg = im->old_loc_entry & ~4095ull;
	uint8_t page[4096];
	int r;

	if ((r = vimg_begin_write(im)))
		return r;
	if (hv_file_pread(im->ctx, im->f, page, sizeof(page), pg) !=
	    (int64_t)sizeof(page))
		return -EIO;
	memcpy(page + (im->old_loc_entry - pg), &GUID_PARENT_LOC, 16);
	if ((r = vimg_add_page(im, pg, page)) || (r = vlog_commit(im)))
		return r;
	im->old_loc_entry = 0;
	return 0;
}

static int vhdx_check(struct hv_ctx *ctx, unsigned flags,
		      struct hv_disk_check *res)
{
	struct vhdx *s = HV_STATE(ctx, struct vhdx);
	struct vimg *im = s->top;
	int repair = (flags & HV_DISK_CHECK_REPAIR) && !s->readonly;
	/* what open refuses never gets here; these it tolerates */
	if (im->replayed && im->readonly) {
		note(res, "%s: %s", im->path,
		     "the log holds unapplied updates (read here replayed in "
		     "memory; check -r writes them)");
	} else if (im->replayed) {
		note(res, "%s: %s", im->path,
		     "the log held unapplied updates (replayed)");
		res->repaired++;
	}
	for (int i = 0; i < 2; i++) {
		if (!im->hdr_bad[i])
			continue;
		note(res, "%s: %s", im->path,
		     i ? "header 2 is invalid" : "header 1 is invalid");
		if (repair && vimg_write_header(im, &im->hdr.log_guid) == 0 &&
		    vimg_write_header(im, &im->hdr.log_guid) == 0)
			res->repaired++;
		break;
	}
	if (im->region_mismatch) {
		note(res, "%s: %s", im->path, "the two region tables differ");
		if (repair) {
			uint8_t *t = malloc(VHDX_REGION_SIZE);
			/* the valid one was used; copy table 1 over 2 if
			 * table 1 is valid, else 2 over 1 */
			if (t && hv_file_pread(ctx, im->f, t, VHDX_REGION_SIZE,
					       VHDX_REGION1) ==
					 (int64_t)VHDX_REGION_SIZE) {
				struct vhdx_region_hdr *rh = (void *)t;
				uint32_t c = rh->checksum;
				rh->checksum = 0;
				int ok1 = rh->sig == SIG_REGI &&
					  crc32c(0, t, VHDX_REGION_SIZE) == c;
				rh->checksum = c;
				if (!ok1 &&
				    hv_file_pread(ctx, im->f, t, VHDX_REGION_SIZE,
						  VHDX_REGION2) != (int64_t)VHDX_REGION_SIZE)
					ok1 = -1; /* neither copy to repair from */
				if (ok1 >= 0 && hv_file_pwrite(ctx, im->f, t,
						   VHDX_REGION_SIZE,
						   ok1 ? VHDX_REGION2
						       : VHDX_REGION1) ==
					    (int64_t)VHDX_REGION_SIZE &&
				    hv_file_sync(ctx, im->f) == 0)
					res->repaired++;
			}
			free(t);
		}
	}
	if (im->old_loc_entry) {
		note(res, "%s: %s", im->path,
		     "the parent locator item has the mistyped GUID "
		     "A8D35F2B-B30B-454D-ABF7-D3D84834AB0C");
		if (repair && fix_loc_guid(im) == 0)
			res->repaired++;
	}
	/* space past the last structure nothing refers to */
	if (im->file_size > im->alloc_end)
		res->leaks += (im->file_size - im->alloc_end + MiB - 1) / MiB;
	return 0;
}

static int vhdx_resize(struct hv_ctx *ctx, uint64_t size)
{
	struct vhdx *s = HV_STATE(ctx, struct vhdx);
	struct vimg *im = s->top;
	uint8_t page[4096];
	uint64_t nb, nbat, pg;
	int r;

	if (s->readonly)
		return -EROFS;
	if (im->has_parent || size < im->vsize || size % im->lsec)
		return -EOPNOTSUPP; /* grow only; a child follows its parent */
	nb = (size + im->block_size - 1) / im->block_size;
	nbat = nb + (nb - 1) / im->chunk_ratio;
	if (nbat * 8 > im->bat_len) {
		hv_error(ctx, "%s: BAT region too small for %llu bytes",
			 im->path, (unsigned long long)size);
		return -ENOSPC;
	}
	if ((r = vimg_begin_write(im)))
		return r;
	/* grow the in-memory BAT to the new page count */
	uint64_t oldbytes = (im->nbat * 8 + 4095) / 4096 * 4096;
	uint64_t bytes = (nbat * 8 + 4095) / 4096 * 4096;
	if (bytes > oldbytes) {
		uint64_t *nbt = realloc(im->bat, bytes);
		uint8_t *nd = realloc(im->bat_dirty, bytes / 4096);
		if (!nbt || !nd)
			return -ENOMEM;
		im->bat = nbt;
		im->bat_dirty = nd;
		memset((char *)im->bat + oldbytes, 0, bytes - oldbytes);
		memset(im->bat_dirty + oldbytes / 4096, 0,
		       (bytes - oldbytes) / 4096);
		if (hv_file_pread(ctx, im->f, (char *)im->bat + oldbytes,
				  bytes - oldbytes, im->bat_off + oldbytes) < 0)
			return -EIO;
	}
	/* entries past the old end must read NOT_PRESENT */
	for (uint64_t i = im->nbat; i < nbat; i++)
		if (im->bat[i]) {
			im->bat[i] = 0;
			vimg_mark_bat(im, i);
		}
	im->nbat = nbat;
	im->nblocks = nb;
	uint64_t nc = (nb + im->chunk_ratio - 1) / im->chunk_ratio;
	if (nc > im->nchunks) {
		uint8_t **nsb = realloc(im->sb, nc * sizeof(*nsb));
		if (nsb)
			im->sb = nsb;
		uint8_t *nsd = nsb ? realloc(im->sb_dirty, nc * 256) : NULL;
		if (!nsd)
			return -ENOMEM;
		im->sb_dirty = nsd;
		memset(im->sb + im->nchunks, 0,
		       (nc - im->nchunks) * sizeof(*nsb));
		memset(im->sb_dirty + im->nchunks * 256, 0,
		       (nc - im->nchunks) * 256);
	}
	im->nchunks = nc;
	pg = im->vsize_item_off & ~4095ull;
	if (hv_file_pread(ctx, im->f, page, 4096, pg) != 4096)
		return -EIO;
	memcpy(page + (im->vsize_item_off - pg), &size, 8);
	if ((r = vimg_add_page(im, pg, page)))
		return r;
	im->vsize = size;
	return vlog_commit(im);
}

static const struct hv_disk_ops vhdx_ops = {
	.probe = vhdx_probe,
	.open = vhdx_open,
	.close = vhdx_close,
	.info = vhdx_info,
	.submit = vhdx_submit,
	.create = vhdx_create,
	.parent = vhdx_parent,
	.backing = vhdx_backing,
	.identity = vhdx_identity,
	.check = vhdx_check,
	.map = vhdx_map,
	.resize = vhdx_resize,
};

HV_PLUGIN_DEFINE(vhdx, disk, &vhdx_ops, .version = "1.0",
		 .description = "Hyper-V VHDX: fixed, dynamic, differencing",
		 .instance_size = sizeof(struct vhdx));
