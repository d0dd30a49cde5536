/*
 * A test device: attaches the disk its `disk` key names through the SDK,
 * as a storage controller would, reads sector 0, writes sector 8, flushes
 * and powers the VM off with status 0 (or 3 on any error). What it saw is
 * logged at info level for tests/disk/attach.t.
 */
#include <string.h>

#include <hv/hv.h>

struct dc {
	struct hv_disk *d;
	struct hv_disk_req req;
	struct iovec iov;
	void *buf;
	int step;
};

static void next(struct hv_ctx *ctx, struct hv_disk_req *req, int status);

static void submit(struct hv_ctx *ctx, struct dc *s, int op, uint64_t off)
{
	int data = op == HV_DISK_READ || op == HV_DISK_WRITE;

	memset(&s->req, 0, sizeof(s->req));
	s->iov.iov_base = s->buf;
	s->iov.iov_len = 4096;
	s->req.op = (uint32_t)op;
	s->req.offset = off;
	/* write-zeroes at offset 0 is the empty one (step 4) */
	s->req.len = op == HV_DISK_FLUSH || (op == HV_DISK_WRITE_ZEROES && !off) ? 0 : 4096;
	s->req.iov = data ? &s->iov : NULL;
	s->req.iovcnt = data;
	s->req.done = next;
	s->req.opaque = s;
	int r = hv_disk_submit(ctx, s->d, &s->req);
	if (r) {
		hv_error(ctx, "submit refused: %d", r);
		hv_vm_request(ctx, HV_VM_POWEROFF, 3);
	}
}

static void next(struct hv_ctx *ctx, struct hv_disk_req *req, int status)
{
	struct dc *s = req->opaque;
	const unsigned char *b = s->buf;

	if (status) {
		hv_error(ctx, "step %d failed: %d", s->step, status);
		hv_vm_request(ctx, HV_VM_POWEROFF, 3);
		return;
	}
	switch (s->step++) {
	case 0:
		hv_info(ctx, "read sector 0: %02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
		memset(s->buf, 0xab, 4096);
		submit(ctx, s, HV_DISK_WRITE, 4096);
		break;
	case 1:
		submit(ctx, s, HV_DISK_FLUSH, 0);
		break;
	case 2: /* v2.1: write zeroes over sector 16, read it back */
		memset(s->buf, 0x5a, 4096);
		submit(ctx, s, HV_DISK_WRITE_ZEROES, 8192);
		break;
	case 3:
		submit(ctx, s, HV_DISK_READ, 8192);
		break;
	case 4:
		for (int i = 0; i < 4096; i++)
			if (b[i]) {
				hv_error(ctx, "write zeroes: byte %d reads %#x", i, b[i]);
				hv_vm_request(ctx, HV_VM_POWEROFF, 3);
				return;
			}
		hv_info(ctx, "zeroes read back");
		/* an empty write-zeroes completes too (and leaks nothing) */
		submit(ctx, s, HV_DISK_WRITE_ZEROES, 0);
		break;
	case 5:
		submit(ctx, s, HV_DISK_FLUSH, 0);
		break;
	default:
		hv_info(ctx, "wrote and flushed");
		hv_vm_request(ctx, HV_VM_POWEROFF, 0);
	}
}

static int dc_create(struct hv_ctx *ctx)
{
	struct dc *s = HV_STATE(ctx, struct dc);
	struct hv_disk_info info;

	s->d = hv_disk_attach(ctx, "disk");
	if (!s->d)
		return -22;
	hv_disk_info_get(ctx, s->d, &info);
	hv_info(ctx, "disk: %llu bytes, %u-byte sectors, serial '%s'%s%s",
		(unsigned long long)info.size, info.logical_sector, info.serial,
		info.flags & HV_DISK_F_CDROM ? ", cdrom" : "",
		info.flags & HV_DISK_F_READONLY ? ", read-only" : "");
	/* v2.1: the chain's allocation map, extent by extent */
	for (uint64_t off = 0, n; off < info.size; off += n) {
		uint32_t st;
		int r = hv_disk_map(ctx, s->d, off, info.size - off, &n, &st);

		if (r) {
			hv_error(ctx, "map at %llu: %d", (unsigned long long)off, r);
			return r;
		}
		hv_info(ctx, "map %llu+%llu %s%s", (unsigned long long)off,
			(unsigned long long)n, st & HV_DISK_MAP_DATA ? "data" : "",
			st & HV_DISK_MAP_ZERO ? "zero" : "");
	}
	s->buf = hv_buf_alloc(ctx, 4096);
	submit(ctx, s, HV_DISK_READ, 0);
	return 0;
}

static void dc_destroy(struct hv_ctx *ctx)
{
	struct dc *s = HV_STATE(ctx, struct dc);

	hv_buf_free(ctx, s->buf);
}

static const struct hv_config_key dc_keys[] = {
	{ .name = "disk", .type = HV_KEY_REF, .flags = HV_KEY_REQUIRED,
	  .help = "the [disk NAME] to use" },
	HV_KEYS_END,
};

static const struct hv_device_ops dc_ops = {
	.create = dc_create,
	.destroy = dc_destroy,
};

HV_PLUGIN_DEFINE(diskcheck, device, &dc_ops, .description = "disk attach test device",
		 .instance_size = sizeof(struct dc), .keys = dc_keys);
