/* SPDX-License-Identifier: MIT */
/*
 * raw: a plain file or a block device, byte for byte. The fallback format:
 * its probe says "maybe" (1) to anything, so every real format outranks it.
 * Discard punches holes (fallocate) in files and is off for devices.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hv/hv.h>

struct raw_io {
	struct hv_file_io io;
	struct iovec iov;
	struct hv_disk_req *req;
};

struct raw {
	struct hv_file *f;
	struct hv_file_info fi;
	int readonly;
	int map_fd; /* a regular file's holes (SEEK_DATA/SEEK_HOLE), or -1 */
};

static int raw_probe(const void *head, size_t len, uint64_t file_size)
{
	return 1;
}

static int raw_open(struct hv_ctx *ctx, const char *path, unsigned flags)
{
	struct raw *s = HV_STATE(ctx, struct raw);
	int r;

	s->readonly = !!(flags & HV_DISK_OPEN_RDONLY);
	r = hv_file_open(ctx, path, s->readonly ? HV_FILE_RDONLY : 0, &s->f);
	if (r) {
		hv_error(ctx, "%s: %s", path, hv_file_strerror(r));
		return r;
	}
	hv_file_info_get(ctx, s->f, &s->fi);
	/* the same inode's extent map; a device or a failed open maps all data */
	s->map_fd = s->fi.is_block_device ? -1 : open(path, O_RDONLY | O_CLOEXEC);
	return 0;
}

static void raw_close(struct hv_ctx *ctx)
{
	struct raw *s = HV_STATE(ctx, struct raw);

	if (s->map_fd >= 0)
		close(s->map_fd);
	if (!s->readonly && hv_file_sync(ctx, s->f))
		hv_warn(ctx, "the last flush before closing the image failed");
	hv_file_close(ctx, s->f);
}

static void raw_info(struct hv_ctx *ctx, struct hv_disk_info *info)
{
	struct raw *s = HV_STATE(ctx, struct raw);

	memset(info, 0, sizeof(*info));
	/* a trailing partial sector of a file is not addressable */
	info->size = s->fi.size & ~(uint64_t)(s->fi.logical_sector - 1);
	info->logical_sector =
		s->fi.is_block_device ? s->fi.logical_sector : 512;
	info->physical_sector = s->fi.physical_sector;
	if (s->readonly)
		info->flags |= HV_DISK_F_READONLY;
	else if (!s->fi.is_block_device)
		info->flags |= HV_DISK_F_DISCARD;
}

static void raw_done(struct hv_ctx *ctx, struct hv_file_io *io, int64_t res)
{
	struct raw_io *rio = (struct raw_io *)io;
	struct hv_disk_req *req = rio->req;
	int status = 0;

	if (res < 0)
		status = (int)res;
	else if (req->op == HV_DISK_WRITE && (uint64_t)res != req->len)
		status = -EIO;
	else if (req->op == HV_DISK_READ && (uint64_t)res < req->len) {
		/* past the end of a file that shrank: zeroes */
		uint64_t skip = (uint64_t)res;
		for (int i = 0; i < req->iovcnt; i++) {
			if (skip >= req->iov[i].iov_len) {
				skip -= req->iov[i].iov_len;
				continue;
			}
			memset((char *)req->iov[i].iov_base + skip, 0,
			       req->iov[i].iov_len - skip);
			skip = 0;
		}
	}
	free(rio);
	hv_disk_complete(ctx, req, status);
}

static int raw_submit(struct hv_ctx *ctx, struct hv_disk_req *req)
{
	struct raw *s = HV_STATE(ctx, struct raw);
	struct raw_io *rio = calloc(1, sizeof(*rio));
	int r;

	if (!rio)
		return -ENOMEM;
	rio->req = req;
	rio->io.op = req->op;
	rio->io.offset = req->offset;
	rio->io.done = raw_done;
	if (req->op == HV_DISK_DISCARD) {
		rio->iov.iov_base = NULL; /* the engine's discard convention */
		rio->iov.iov_len = req->len;
		rio->io.iov = &rio->iov;
		rio->io.iovcnt = 1;
	} else if (req->op != HV_DISK_FLUSH) {
		rio->io.iov = req->iov;
		rio->io.iovcnt = req->iovcnt;
	}
	r = hv_file_submit(ctx, s->f, &rio->io);
	if (r)
		free(rio);
	return r;
}

static int raw_create(struct hv_ctx *ctx, const char *path,
		      const struct hv_disk_create *o)
{
	struct hv_file *f;
	int r;

	if (o->parent)
		return -EOPNOTSUPP;
	r = hv_file_open(ctx, path, HV_FILE_CREATE | HV_FILE_BUFFERED, &f);
	if (r)
		return r;
	r = hv_file_truncate(ctx, f, o->size);
	hv_file_close(ctx, f);
	return r;
}

/* Holes read as zeroes: what discard (a punched hole) and a sparse file
 * leave, so GET LBA STATUS and virtio-blk see them deallocated. */
static int raw_map(struct hv_ctx *ctx, uint64_t offset, uint64_t len,
		   uint64_t *pnum, uint32_t *status)
{
	struct raw *s = HV_STATE(ctx, struct raw);
	off_t data, hole;

	*pnum = len;
	*status = HV_DISK_MAP_DATA;
	if (s->map_fd < 0 || !len)
		return 0;
	data = lseek(s->map_fd, (off_t)offset, SEEK_DATA);
	if (data < 0 && errno != ENXIO)
		return 0; /* no SEEK_DATA here: all data */
	if (data < 0 || (uint64_t)data > offset) {
		/* ENXIO: a hole to the end of the file */
		if (data >= 0 && (uint64_t)data - offset < len)
			*pnum = (uint64_t)data - offset;
		*status = HV_DISK_MAP_ZERO;
		return 0;
	}
	hole = lseek(s->map_fd, (off_t)offset, SEEK_HOLE);
	if (hole > (off_t)offset && (uint64_t)hole - offset < len)
		*pnum = (uint64_t)hole - offset;
	return 0;
}

static int raw_resize(struct hv_ctx *ctx, uint64_t size)
{
	struct raw *s = HV_STATE(ctx, struct raw);
	int r = hv_file_truncate(ctx, s->f, size);

	if (r == 0)
		hv_file_info_get(ctx, s->f, &s->fi);
	return r;
}

static const struct hv_disk_ops raw_ops = {
	.probe = raw_probe,
	.open = raw_open,
	.close = raw_close,
	.info = raw_info,
	.submit = raw_submit,
	.create = raw_create,
	.map = raw_map,
	.resize = raw_resize,
};

HV_PLUGIN_DEFINE(raw, disk, &raw_ops, .version = "1.0",
		 .description = "raw image file or block device",
		 .instance_size = sizeof(struct raw));
