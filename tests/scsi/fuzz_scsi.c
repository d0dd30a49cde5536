/*
 * libFuzzer target: the SCSI command path (plugins/common/scsi.c) over a
 * 1 MiB raw disk on a memfd, through the core's real block layer and the
 * raw plugin (both built with the fuzzer's instrumentation; see
 * tests/scsi/extra.mk).
 *
 * Input: byte 0 picks the unit (bit 0: an MMC CD-ROM, else an SBC disk),
 * then records of
 *   [u8 flags][16 CDB bytes][u16 LE buffer length][data-out bytes]
 * flags bits 0-1: the buffer's direction (none, in, out, in), bit 2: a
 * reset before the command, bit 3: the medium removed (CD) or put back,
 * bits 4-7: how many segments (1-16) the buffer is cut into. Buffers are
 * capped at 64 KiB; a data-out buffer takes what the input has left.
 * After each command the unit's answer is checked against the contract:
 * done() exactly once, xfer <= data_len, resid = data_len - xfer, sense
 * only with CHECK CONDITION, nothing in flight.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../plugins/common/scsi.c"
#include "disk.h"
#include "disk_int.h"
#include "instance.h"
#include "instcfg.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"

const struct hv_plugin_desc *hv_entry_raw(void);

static const char *fz_config_str(struct hv_ctx *ctx, const char *key)
{
	return inst_config_str(inst_of(ctx), key);
}

/* The disk layer's part of the host table, the real functions. */
static const struct hv_host fz_host = {
	.size = sizeof(struct hv_host),
	.abi_major = HV_ABI_MAJOR,
	.abi_minor = HV_ABI_MINOR,
	.log_write = inst_log_write,
	.config_get_str = fz_config_str,
	.disk_info_get = core_disk_info,
	.disk_submit = core_disk_submit,
	.disk_complete = core_disk_complete,
	.disk_map = core_disk_map,
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

static const struct inst_env fz_env = { .host = &fz_host };
static struct plugin_set set;
static struct plugin raw;
static struct loop *loop;
static struct scsi_req rq;
static uint8_t buf[65536];
static int calls;

static void setup(void)
{
	const struct hv_plugin_desc *d = hv_entry_raw();

	log_level = -1;
	loop = loop_new();
	raw.desc = *d;
	memcpy(&raw.ops.disk, d->ops, sizeof(struct hv_disk_ops));
	set.head = &raw;
	set.count = 1;
}

static void on_done(struct hv_ctx *ctx, struct scsi_req *req)
{
	calls++;
}

/* One command; aborts on a broken contract. */
static void one(struct hv_disk *d, struct scsi_lun *lun, uint8_t flags,
		const uint8_t *cdb, uint32_t len, int segs)
{
	static const enum scsi_dir dirs[4] = { SCSI_DIR_NONE, SCSI_DIR_IN,
					       SCSI_DIR_OUT, SCSI_DIR_IN };
	struct iovec iov[16];
	uint32_t per = len / (uint32_t)segs, off = 0;

	for (int i = 0; i < segs; i++) {
		uint32_t n = i == segs - 1 ? len - off : per;

		iov[i] = (struct iovec){ buf + off, n };
		off += n;
	}
	memset(&rq, 0, sizeof(rq));
	memcpy(rq.cdb, cdb, 16);
	rq.cdb_len = 16;
	rq.dir = dirs[flags & 3];
	rq.iov = iov;
	rq.iovcnt = segs;
	rq.data_len = len;
	rq.done = on_done;
	calls = 0;
	inst_lock(d->inst);
	scsi_lun_submit(lun, &rq);
	inst_unlock(d->inst);
	for (int i = 0; i < 100000 && !calls; i++)
		loop_once(loop, 1);
	if (calls != 1 || rq.xfer > rq.data_len || rq.resid != rq.data_len - rq.xfer ||
	    (rq.sense_len && rq.status != SCSI_STATUS_CHECK_CONDITION) ||
	    lun->inflight)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static struct hv_disk *d;
	struct scsi_lun lun;
	char path[64];
	bool cd;

	if (!loop)
		setup();
	if (fd < 0) {
		fd = memfd_create("fuzz-scsi", 0);
		if (fd < 0 || ftruncate(fd, 1 << 20))
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		/* opened once (an open costs more than a run): each run
		 * starts from zeroes again, same size */
		d = disk_open(&fz_env, loop, &set, NULL, NULL, path, &raw, 0, NULL, "fz");
		if (!d)
			abort();
	}
	if (size < 1 || ftruncate(fd, 0) || ftruncate(fd, 1 << 20))
		return 0;
	cd = data[0] & 1;
	data++, size--;
	if (scsi_lun_init(&lun, &d->inst->ctx, d, cd ? SCSI_LUN_CDROM : SCSI_LUN_DISK,
			  "fz"))
		abort();
	for (int n = 0; n < 64 && size >= 19; n++) {
		uint8_t flags = data[0];
		uint32_t len = (uint32_t)data[17] | (uint32_t)data[18] << 8;
		const uint8_t *cdb = data + 1;

		data += 19, size -= 19;
		if (flags & 4)
			scsi_lun_reset(&lun);
		if ((flags & 8) && cd)
			scsi_lun_set_medium(&lun, lun.disk ? NULL : d, "fz");
		memset(buf, 0xa5, len);
		if ((flags & 3) == 2) {
			size_t take = len < size ? len : size;

			memcpy(buf, data, take);
			data += take, size -= take;
		}
		one(d, &lun, flags, cdb, len, 1 + (flags >> 4));
	}
	return 0;
}
