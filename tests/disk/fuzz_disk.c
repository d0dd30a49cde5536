/*
 * libFuzzer target: open, read, map and check an image with every disk
 * plugin (VHDX, VHD, raw), read-only and then read-write (log replay,
 * repair), from a memfd. The plugins are linked in, built with the
 * fuzzer's instrumentation (see tests/disk/extra.mk).
 *
 * Input: a sparse file as records [u32 LE offset in 4 KiB units][u16 LE
 * length][bytes], so a seed is a real image's non-zero pages (a VHDX is
 * at least 4 MiB, nearly all zeroes). Files are capped at 64 MiB.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "disk.h"
#include "disk_int.h"
#include "instance.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"
#include "instcfg.h"

const struct hv_plugin_desc *hv_entry_vhdx(void);
const struct hv_plugin_desc *hv_entry_vhd(void);
const struct hv_plugin_desc *hv_entry_raw(void);

/* The disk layer's part of the host table, the real functions: the fuzzer
 * links only the disk layer (tests/disk/extra.mk), not the VM's services. */
static const char *fz_config_str(struct hv_ctx *ctx, const char *key)
{
	return inst_config_str(inst_of(ctx), key);
}

static const struct hv_host fz_host = {
	.size = sizeof(struct hv_host),
	.abi_major = HV_ABI_MAJOR,
	.abi_minor = HV_ABI_MINOR,
	.log_write = inst_log_write,
	.config_get_str = fz_config_str,
	.disk_complete = core_disk_complete,
	.file_open = core_file_open,
	.file_close = core_file_close,
	.file_info_get = core_file_info,
	.file_submit = core_file_submit,
	.file_pread = core_file_pread,
	.file_pwrite = core_file_pwrite,
	.file_sync = core_file_sync,
	.file_truncate = core_file_truncate,
	.buf_alloc = core_buf_alloc,
	.buf_free = core_buf_free,
	.disk_backing_submit = chain_backing_submit,
};

static const struct inst_env fz_env = {.host = &fz_host};

static struct plugin_set set;
static struct plugin plugins[3];
static struct loop *loop;

static void setup(void)
{
	const struct hv_plugin_desc *(*entry[3])(void) = {
		hv_entry_vhdx, hv_entry_vhd, hv_entry_raw};

	log_level = -1;
	loop = loop_new();
	for (int i = 0; i < 3; i++) {
		const struct hv_plugin_desc *d = entry[i]();
		plugins[i].desc = *d;
		memcpy(&plugins[i].ops.disk, d->ops,
		       sizeof(struct hv_disk_ops));
		plugins[i].next = i < 2 ? &plugins[i + 1] : NULL;
	}
	set.head = &plugins[0];
	set.count = 3;
}

static int build(int fd, const uint8_t *data, size_t size)
{
	uint64_t end = 0;

	if (ftruncate(fd, 0))
		return -1;
	while (size >= 6) {
		uint32_t pg;
		uint16_t len;
		memcpy(&pg, data, 4);
		memcpy(&len, data + 4, 2);
		data += 6;
		size -= 6;
		if (len > size)
			len = (uint16_t)size;
		uint64_t off = (uint64_t)pg * 4096;
		if (off + len > (64u << 20))
			return -1;
		if (pwrite(fd, data, len, (off_t)off) != len)
			return -1;
		if (off + len > end)
			end = off + len;
		data += len;
		size -= len;
	}
	return end ? 0 : -1;
}

static void exercise(const char *path, unsigned flags)
{
	struct hv_disk *d = disk_open(&fz_env, loop, &set, NULL, NULL, path,
				      NULL, flags, NULL, "fuzz");
	static uint8_t buf[65536];
	struct hv_disk_check res;
	uint64_t off = 0;

	if (!d)
		return;
	const struct hv_disk_ops *ops = &d->inst->plugin->ops.disk;
	/* reads spread over the disk */
	for (int i = 0; i < 8; i++) {
		uint64_t o = d->info.size / 8 * (uint64_t)i;
		o &= ~(uint64_t)(d->info.logical_sector - 1);
		uint64_t n = d->info.size - o < sizeof(buf) ? d->info.size - o
							    : sizeof(buf);
		n &= ~(uint64_t)(d->info.logical_sector - 1);
		if (n)
			disk_rw_sync(d, HV_DISK_READ, o, buf, n);
	}
	inst_lock(d->inst);
	for (int i = 0; i < 64 && off < d->info.size && ops->map; i++) {
		uint64_t pnum = 0;
		uint32_t st;
		if (ops->map(&d->inst->ctx, off, d->info.size - off, &pnum,
			     &st) ||
		    !pnum)
			break;
		off += pnum;
	}
	memset(&res, 0, sizeof(res));
	if (ops->check)
		ops->check(&d->inst->ctx, flags ? 0 : HV_DISK_CHECK_REPAIR,
			   &res);
	inst_unlock(d->inst);
	disk_close(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	char path[64];

	if (!loop)
		setup();
	if (fd < 0)
		fd = memfd_create("fuzz-disk", 0);
	if (fd < 0 || build(fd, data, size))
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	exercise(path, HV_DISK_OPEN_RDONLY);
	exercise(path, 0);
	return 0;
}
