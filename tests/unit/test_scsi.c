/*
 * The SCSI logical unit (plugins/common/scsi.c, compiled in here) over a
 * real raw image through the core's block layer: every command scsi.h
 * promises, with the data and the fixed-format sense bytes checked
 * against what SPC-4/SBC-3/MMC-6 specify. The disk-user fixture attaches
 * the disk; the test drives the unit as a transport would and runs the
 * loop until done() fires.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "../../plugins/common/scsi.c"
#include "check.h"
#include "loop.h"
#include "vmharness.h"

static char dir[] = "/tmp/hv-scsi-XXXXXX", img[96], iso[96];
#define DISK_BYTES (4u << 20)
#define ISO_BYTES (2u << 20)

struct fx {
	struct harness h;
	struct hv_ctx *ctx;
	struct hv_disk *disk;
	struct scsi_lun lun;
};

static struct scsi_req rq;
static uint8_t data[65536];
static int done_calls;

static void on_done(struct hv_ctx *ctx, struct scsi_req *req)
{
	done_calls++;
}

static int fx_up(struct fx *f, const char *disk_keys, enum scsi_lun_type type)
{
	static const char *const fixtures[] = { "disk_user", NULL };
	char ini[512];
	struct instance *in;
	const char *e;

	memset(f, 0, sizeof(*f));
	snprintf(ini, sizeof(ini),
		 "[vm]\nkernel = /bin/sh\nmachine = none\n"
		 "[device u]\nplugin = disk-user\ndisk = d\n"
		 "[disk d]\nformat = raw\n%s\n",
		 disk_keys);
	unit_capture_begin();
	harness_load(&f->h, 1, fixtures);
	harness_build(&f->h, ini, &accel_kvm);
	e = unit_capture_end();
	in = find(&f->h, "u");
	if (!f->h.ok || !in) {
		printf("# the VM did not come up: %s\n", e);
		return -1;
	}
	f->ctx = &in->ctx;
	f->disk = *HV_STATE(f->ctx, struct hv_disk *);
	return scsi_lun_init(&f->lun, f->ctx, f->disk, type, "d");
}

static void fx_down(struct fx *f)
{
	vm_down(&f->h);
}

/* Run one command with a data buffer of len bytes (dir IN or OUT: data[]),
 * wait for done(): the status. */
static int run(struct fx *f, const uint8_t *cdb, unsigned cdb_len,
	       enum scsi_dir d, uint32_t len)
{
	static struct iovec iov[3];
	uint32_t a = len / 3, b = len / 3;

	/* three segments of odd sizes: the unit must stitch them */
	iov[0] = (struct iovec){ data, a };
	iov[1] = (struct iovec){ data + a, b };
	iov[2] = (struct iovec){ data + a + b, len - a - b };
	memset(&rq.status, 0xee, sizeof(rq) - offsetof(struct scsi_req, status));
	memset(rq.cdb, 0, sizeof(rq.cdb));
	memcpy(rq.cdb, cdb, cdb_len);
	rq.cdb_len = 16;
	rq.dir = d;
	rq.iov = iov;
	rq.iovcnt = 3;
	rq.data_len = len;
	rq.done = on_done;
	done_calls = 0;
	scsi_lun_submit(&f->lun, &rq);
	for (int i = 0; i < 5000 && !done_calls; i++)
		loop_once(f->h.vm.loop, 10);
	CHECK(done_calls == 1);
	CHECK(rq.resid == rq.data_len - rq.xfer);
	CHECK(f->lun.inflight == 0);
	return rq.status;
}

#define CDB(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

/* CHECK CONDITION with exactly this fixed-format sense (SPC-4 4.5.3). */
static int sense_is(unsigned key, unsigned asc, unsigned ascq)
{
	uint8_t want[18] = { 0x70, 0, (uint8_t)key, 0, 0, 0, 0, 10, 0, 0, 0, 0,
			     (uint8_t)asc, (uint8_t)ascq, 0, 0, 0, 0 };

	if (rq.status != SCSI_STATUS_CHECK_CONDITION || rq.sense_len != 18 ||
	    memcmp(rq.sense, want, 18)) {
		printf("# status %02x sense %02x/%02x/%02x, wanted %x/%02x/%02x\n",
		       rq.status, rq.sense[2], rq.sense[12], rq.sense[13], key, asc,
		       ascq);
		return 0;
	}
	return 1;
}

/* The power-on unit attention goes first (SPC-4 5.14: 29/00), then TUR. */
static void clear_ua(struct fx *f)
{
	CHECK(run(f, CDB(0x00, 0, 0, 0, 0, 0), SCSI_DIR_NONE, 0) == 2);
	CHECK(sense_is(6, 0x29, 0x00));
	CHECK(run(f, CDB(0x00, 0, 0, 0, 0, 0), SCSI_DIR_NONE, 0) == 0);
}

static void disk_inquiry(void)
{
	struct fx f;

	CHECK(fx_up(&f, img, SCSI_LUN_DISK) == 0);
	/* INQUIRY is answered despite the unit attention, which stays */
	CHECK(run(&f, CDB(0x12, 0, 0, 0, 96, 0), SCSI_DIR_IN, 96) == 0);
	CHECK(rq.xfer == 36 && rq.resid == 60);
	CHECK(data[0] == 0x00 && data[1] == 0x00 && data[2] == 0x05 &&
	      data[3] == 0x12 && data[4] == 31 && data[7] == 0x02);
	CHECK(!memcmp(data + 8, "HV      HARDDISK        1.0 ", 28));
	/* allocation length truncates; so does a smaller buffer */
	CHECK(run(&f, CDB(0x12, 0, 0, 0, 5, 0), SCSI_DIR_IN, 96) == 0);
	CHECK(rq.xfer == 5 && rq.resid == 91);
	CHECK(run(&f, CDB(0x12, 0, 0, 0, 96, 0), SCSI_DIR_IN, 8) == 0);
	CHECK(rq.xfer == 8 && rq.resid == 0);
	/* VPD 0x00: the pages */
	CHECK(run(&f, CDB(0x12, 1, 0x00, 0, 64, 0), SCSI_DIR_IN, 64) == 0);
	CHECK(rq.xfer == 10 && data[1] == 0 && data[3] == 6);
	CHECK(!memcmp(data + 4, "\x00\x80\x83\xb0\xb1\xb2", 6));
	/* 0x80: the serial (the section name by default) */
	CHECK(run(&f, CDB(0x12, 1, 0x80, 0, 64, 0), SCSI_DIR_IN, 64) == 0);
	CHECK(data[1] == 0x80 && data[3] == 1 && data[4] == 'd' && rq.xfer == 5);
	/* 0x83: a T10 vendor id designator, ASCII, LU */
	CHECK(run(&f, CDB(0x12, 1, 0x83, 0, 64, 0), SCSI_DIR_IN, 64) == 0);
	CHECK(data[4] == 0x02 && data[5] == 0x01 && data[7] == 9);
	CHECK(!memcmp(data + 8, "HV      d", 9));
	/* 0xB0: block limits, WSNZ, max transfer 2048 blocks */
	CHECK(run(&f, CDB(0x12, 1, 0xb0, 0, 64, 0), SCSI_DIR_IN, 64) == 0);
	CHECK(data[3] == 0x3c && data[4] == 1 && be32(data + 8) == 2048);
	CHECK(be32(data + 24) == 255); /* max unmap descriptors: raw discards */
	/* 0xB1: non-rotating */
	CHECK(run(&f, CDB(0x12, 1, 0xb1, 0, 64, 0), SCSI_DIR_IN, 64) == 0);
	CHECK(data[3] == 0x3c && be16(data + 4) == 1);
	/* 0xB2: LBPU, LBPWS, LBPWS10; thin provisioned */
	CHECK(run(&f, CDB(0x12, 1, 0xb2, 0, 64, 0), SCSI_DIR_IN, 64) == 0);
	CHECK(data[3] == 4 && data[5] == 0xe0 && data[6] == 0x02);
	/* an unknown page, CMDDT, a page without EVPD: 24/00 */
	CHECK(run(&f, CDB(0x12, 1, 0x99, 0, 64, 0), SCSI_DIR_IN, 64) == 2);
	CHECK(sense_is(5, 0x24, 0) && rq.xfer == 0);
	CHECK(run(&f, CDB(0x12, 2, 0, 0, 64, 0), SCSI_DIR_IN, 64) == 2);
	CHECK(sense_is(5, 0x24, 0));
	CHECK(run(&f, CDB(0x12, 0, 0x80, 0, 64, 0), SCSI_DIR_IN, 64) == 2);
	CHECK(sense_is(5, 0x24, 0));
	/* the unit attention is still pending for anything else */
	clear_ua(&f);
	fx_down(&f);
}

static void disk_capacity_and_errors(void)
{
	struct fx f;

	CHECK(fx_up(&f, img, SCSI_LUN_DISK) == 0);
	clear_ua(&f);
	CHECK(run(&f, CDB(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), SCSI_DIR_IN, 8) == 0);
	CHECK(rq.xfer == 8 && be32(data) == DISK_BYTES / 512 - 1 &&
	      be32(data + 4) == 512);
	CHECK(run(&f, CDB(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0),
		  SCSI_DIR_IN, 32) == 0);
	CHECK(rq.xfer == 32 && be64(data) == DISK_BYTES / 512 - 1 &&
	      be32(data + 8) == 512 && data[14] == 0x80);
	/* the physical block exponent: the disk's physical / logical sector */
	{
		struct hv_disk_info info;

		hv_disk_info_get(f.ctx, f.disk, &info);
		CHECK((512u << data[13]) == info.physical_sector);
	}
	/* an unknown opcode: 20/00; REQUEST SENSE then returns it once */
	CHECK(run(&f, CDB(0xff, 0, 0, 0, 0, 0), SCSI_DIR_NONE, 0) == 2);
	CHECK(sense_is(5, 0x20, 0));
	CHECK(run(&f, CDB(0x03, 0, 0, 0, 18, 0), SCSI_DIR_IN, 18) == 0);
	CHECK(rq.xfer == 18 && data[0] == 0x70 && data[2] == 5 && data[12] == 0x20);
	CHECK(run(&f, CDB(0x03, 0, 0, 0, 18, 0), SCSI_DIR_IN, 18) == 0);
	CHECK(data[0] == 0x70 && data[2] == 0 && data[12] == 0 && data[7] == 10);
	CHECK(run(&f, CDB(0x03, 1, 0, 0, 18, 0), SCSI_DIR_IN, 18) == 2);
	CHECK(sense_is(5, 0x24, 0)); /* descriptor format: not supported */
	/* LBA out of range: the last block is fine, one past is not */
	CHECK(run(&f, CDB(0x28, 0, 0, 0, 0x1f, 0xff, 0, 0, 1, 0), SCSI_DIR_IN, 512) == 0);
	CHECK(run(&f, CDB(0x28, 0, 0, 0, 0x1f, 0xff, 0, 0, 2, 0), SCSI_DIR_IN, 1024) == 2);
	CHECK(sense_is(5, 0x21, 0) && rq.xfer == 0 && rq.resid == 1024);
	CHECK(run(&f, CDB(0x88, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			  0, 0, 0, 1, 0, 0), SCSI_DIR_IN, 512) == 2);
	CHECK(sense_is(5, 0x21, 0)); /* LBA + count wraps: still out of range */
	/* more than the buffer holds: overrun, nothing moves */
	CHECK(run(&f, CDB(0x28, 0, 0, 0, 0, 0, 0, 0, 2, 0), SCSI_DIR_IN, 512) == 2);
	CHECK(rq.overrun && sense_is(5, 0x24, 0) && rq.xfer == 0);
	/* a write with a data-in buffer is an overrun too */
	CHECK(run(&f, CDB(0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0), SCSI_DIR_IN, 512) == 2);
	CHECK(rq.overrun);
	/* zero blocks: success, nothing moves */
	CHECK(run(&f, CDB(0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0), SCSI_DIR_IN, 512) == 0);
	CHECK(rq.xfer == 0 && rq.resid == 512);
	/* over the unit's max transfer: 24/00 */
	CHECK(run(&f, CDB(0x28, 0, 0, 0, 0, 0, 0, 0x08, 0x01, 0), SCSI_DIR_IN, 0) == 2);
	CHECK(sense_is(5, 0x24, 0) && !rq.overrun);
	/* protection information asked for: 24/00 */
	CHECK(run(&f, CDB(0x28, 0x20, 0, 0, 0, 0, 0, 0, 1, 0), SCSI_DIR_IN, 512) == 2);
	CHECK(sense_is(5, 0x24, 0));
	fx_down(&f);
}

static int file_bytes(uint64_t off, void *buf, size_t len)
{
	int fd = open(img + strlen("path = "), O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, buf, len, (off_t)off);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static void disk_read_write(void)
{
	uint8_t pat[4096], back[4096];
	struct fx f;

	CHECK(fx_up(&f, img, SCSI_LUN_DISK) == 0);
	clear_ua(&f);
	for (unsigned i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i * 7 + 3);
	/* WRITE(10) 8 blocks at LBA 16, FUA: lands in the file */
	memcpy(data, pat, 4096);
	CHECK(run(&f, CDB(0x2a, 0x08, 0, 0, 0, 16, 0, 0, 8, 0), SCSI_DIR_OUT, 4096) == 0);
	CHECK(rq.xfer == 4096 && rq.resid == 0);
	CHECK(file_bytes(16 * 512, back, 4096) == 0 && !memcmp(back, pat, 4096));
	/* READ(6), (12), (16) of it back */
	memset(data, 0, 4096);
	CHECK(run(&f, CDB(0x08, 0, 0, 16, 8, 0), SCSI_DIR_IN, 4096) == 0);
	CHECK(!memcmp(data, pat, 4096));
	memset(data, 0, 4096);
	CHECK(run(&f, CDB(0xa8, 0, 0, 0, 0, 17, 0, 0, 0, 1, 0, 0), SCSI_DIR_IN, 512) == 0);
	CHECK(!memcmp(data, pat + 512, 512));
	memset(data, 0, 4096);
	CHECK(run(&f, CDB(0x88, 0, 0, 0, 0, 0, 0, 0, 0, 18, 0, 0, 0, 2, 0, 0),
		  SCSI_DIR_IN, 1024) == 0);
	CHECK(!memcmp(data, pat + 1024, 1024));
	/* a bigger buffer than the transfer: the residual says so */
	CHECK(run(&f, CDB(0x28, 0, 0, 0, 0, 16, 0, 0, 1, 0), SCSI_DIR_IN, 4096) == 0);
	CHECK(rq.xfer == 512 && rq.resid == 3584);
	/* WRITE(6), WRITE(12), WRITE(16), WRITE AND VERIFY(10) */
	memset(data, 0x5a, 512);
	CHECK(run(&f, CDB(0x0a, 0, 0, 40, 1, 0), SCSI_DIR_OUT, 512) == 0);
	CHECK(run(&f, CDB(0xaa, 0, 0, 0, 0, 41, 0, 0, 0, 1, 0, 0), SCSI_DIR_OUT, 512) == 0);
	CHECK(run(&f, CDB(0x8a, 0, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 1, 0, 0),
		  SCSI_DIR_OUT, 512) == 0);
	CHECK(run(&f, CDB(0x2e, 0, 0, 0, 0, 43, 0, 0, 1, 0), SCSI_DIR_OUT, 512) == 0);
	CHECK(file_bytes(40 * 512, back, 2048) == 0);
	for (int i = 0; i < 2048; i++)
		if (back[i] != 0x5a) {
			CHECK(back[i] == 0x5a);
			break;
		}
	/* VERIFY(10/16) with BYTCHK 0; with BYTCHK 1 refused */
	CHECK(run(&f, CDB(0x2f, 0, 0, 0, 0, 0, 0, 0, 8, 0), SCSI_DIR_NONE, 0) == 0);
	CHECK(run(&f, CDB(0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0),
		  SCSI_DIR_NONE, 0) == 0);
	CHECK(run(&f, CDB(0x2f, 0x02, 0, 0, 0, 0, 0, 0, 8, 0), SCSI_DIR_OUT, 4096) == 2);
	CHECK(sense_is(5, 0x24, 0));
	/* SYNCHRONIZE CACHE(10/16); out of range 21/00 */
	CHECK(run(&f, CDB(0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0), SCSI_DIR_NONE, 0) == 0);
	CHECK(run(&f, CDB(0x91, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
		  SCSI_DIR_NONE, 0) == 0);
	CHECK(run(&f, CDB(0x35, 0, 0, 0, 0x20, 0, 0, 0, 1, 0), SCSI_DIR_NONE, 0) == 2);
	CHECK(sense_is(5, 0x21, 0));
	/* TEST UNIT READY, START STOP UNIT, PREVENT ALLOW on a disk: good */
	CHECK(run(&f, CDB(0x1b, 0, 0, 0, 0x01, 0), SCSI_DIR_NONE, 0) == 0);
	CHECK(run(&f, CDB(0x1e, 0, 0, 0, 0x01, 0), SCSI_DIR_NONE, 0) == 0);
	fx_down(&f);
}

static void disk_write_same_unmap(void)
{
	uint8_t back[8192], zero[8192] = { 0 };
	struct fx f;

	CHECK(fx_up(&f, img, SCSI_LUN_DISK) == 0);
	clear_ua(&f);
	/* WRITE SAME(10): one block's pattern over 16 blocks at LBA 100 */
	for (int i = 0; i < 512; i++)
		data[i] = (uint8_t)(i ^ 0xa5);
	CHECK(run(&f, CDB(0x41, 0, 0, 0, 0, 100, 0, 0, 16, 0), SCSI_DIR_OUT, 512) == 0);
	CHECK(rq.xfer == 512);
	CHECK(file_bytes(100 * 512, back, 8192) == 0);
	for (int b = 0; b < 16; b++)
		if (memcmp(back + b * 512, data, 512)) {
			CHECK(!"block differs");
			break;
		}
	/* WRITE SAME(16) NDOB: zeroes, no data-out buffer */
	CHECK(run(&f, CDB(0x93, 0x01, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 8, 0, 0),
		  SCSI_DIR_NONE, 0) == 0);
	CHECK(file_bytes(100 * 512, back, 8192) == 0 && !memcmp(back, zero, 4096) &&
	      !memcmp(back + 4096, data, 512));
	/* WRITE SAME(16) with UNMAP: a discard; reads back zeroes on raw */
	CHECK(run(&f, CDB(0x93, 0x08, 0, 0, 0, 0, 0, 0, 0, 108, 0, 0, 0, 8, 0, 0),
		  SCSI_DIR_OUT, 512) == 0);
	CHECK(file_bytes(100 * 512, back, 8192) == 0 && !memcmp(back, zero, 8192));
	/* WSNZ: zero blocks refused; ANCHOR refused */
	CHECK(run(&f, CDB(0x41, 0, 0, 0, 0, 0, 0, 0, 0, 0), SCSI_DIR_OUT, 512) == 2);
	CHECK(sense_is(5, 0x24, 0));
	CHECK(run(&f, CDB(0x41, 0x10, 0, 0, 0, 0, 0, 0, 1, 0), SCSI_DIR_OUT, 512) == 2);
	CHECK(sense_is(5, 0x24, 0));
	/* UNMAP: two descriptors */
	memset(data, 0x77, 4096);
	CHECK(run(&f, CDB(0x2a, 0, 0, 0, 0, 200, 0, 0, 8, 0), SCSI_DIR_OUT, 4096) == 0);
	memset(data, 0, 40);
	put16(data, 38);
	put16(data + 2, 32);
	put64(data + 8, 200);
	put32(data + 16, 2);
	put64(data + 24, 204);
	put32(data + 32, 4);
	CHECK(run(&f, CDB(0x42, 0, 0, 0, 0, 0, 0, 0, 40, 0), SCSI_DIR_OUT, 40) == 0);
	CHECK(file_bytes(200 * 512, back, 4096) == 0);
	CHECK(!memcmp(back, zero, 1024) && back[1024] == 0x77 && back[2047] == 0x77 &&
	      !memcmp(back + 2048, zero, 2048));
	/* a descriptor past the end: 21/00, nothing unmapped */
	put64(data + 24, DISK_BYTES / 512 - 2);
	CHECK(run(&f, CDB(0x42, 0, 0, 0, 0, 0, 0, 0, 40, 0), SCSI_DIR_OUT, 40) == 2);
	CHECK(sense_is(5, 0x21, 0));
	/* a block descriptor length not a multiple of 16: 26/00 */
	put16(data + 2, 20);
	CHECK(run(&f, CDB(0x42, 0, 0, 0, 0, 0, 0, 0, 40, 0), SCSI_DIR_OUT, 40) == 2);
	CHECK(sense_is(5, 0x26, 0));
	/* a parameter list of 1-7 bytes: 1A/00; none at all: good */
	CHECK(run(&f, CDB(0x42, 0, 0, 0, 0, 0, 0, 0, 4, 0), SCSI_DIR_OUT, 4) == 2);
	CHECK(sense_is(5, 0x1a, 0));
	CHECK(run(&f, CDB(0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0), SCSI_DIR_NONE, 0) == 0);
	/* GET LBA STATUS: a descriptor starting at the LBA asked for */
	CHECK(run(&f, CDB(0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 24, 0, 0),
		  SCSI_DIR_IN, 24) == 0);
	CHECK(rq.xfer == 24 && be32(data) == 20 && be64(data + 8) == 16 &&
	      be32(data + 16) >= 1 && data[20] <= 1);
	CHECK(run(&f, CDB(0x9e, 0x12, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 24, 0, 0),
		  SCSI_DIR_IN, 24) == 2);
	CHECK(sense_is(5, 0x21, 0));
	fx_down(&f);
}

static void disk_mode_pages(void)
{
	struct fx f;

	CHECK(fx_up(&f, img, SCSI_LUN_DISK) == 0);
	clear_ua(&f);
	/* MODE SENSE(6), all pages, with a block descriptor */
	CHECK(run(&f, CDB(0x1a, 0, 0x3f, 0, 255, 0), SCSI_DIR_IN, 255) == 0);
	CHECK(rq.xfer == 4 + 8 + 20 + 12 && data[0] == rq.xfer - 1 &&
	      data[2] == 0x10 && data[3] == 8); /* DPOFUA, not WP */
	CHECK(be32(data + 4) == DISK_BYTES / 512 && be32(data + 8) == 512);
	CHECK(data[12] == 0x08 && data[13] == 0x12 && data[14] == 0x04); /* WCE */
	CHECK(data[32] == 0x0a && data[33] == 0x0a);
	/* MODE SENSE(10), DBD, caching page only; changeable: WCE */
	CHECK(run(&f, CDB(0x5a, 0x08, 0x48, 0, 0, 0, 0, 0, 64, 0), SCSI_DIR_IN, 64) == 0);
	CHECK(rq.xfer == 28 && be16(data) == 26 && be16(data + 6) == 0 &&
	      data[8] == 0x08 && data[10] == 0x04);
	/* LLBAA: a 16-byte descriptor */
	CHECK(run(&f, CDB(0x5a, 0x10, 0x0a, 0, 0, 0, 0, 0, 64, 0), SCSI_DIR_IN, 64) == 0);
	CHECK(data[4] == 1 && be16(data + 6) == 16 && be64(data + 8) == DISK_BYTES / 512);
	/* saved values: 39/00; an unknown page or subpage: 24/00 */
	CHECK(run(&f, CDB(0x1a, 0, 0xc8, 0, 255, 0), SCSI_DIR_IN, 255) == 2);
	CHECK(sense_is(5, 0x39, 0));
	CHECK(run(&f, CDB(0x1a, 0, 0x19, 0, 255, 0), SCSI_DIR_IN, 255) == 2);
	CHECK(sense_is(5, 0x24, 0));
	CHECK(run(&f, CDB(0x1a, 0, 0x08, 1, 255, 0), SCSI_DIR_IN, 255) == 2);
	CHECK(sense_is(5, 0x24, 0));
	/* MODE SELECT(10): WCE off, as Linux's sd cache_type does */
	memset(data, 0, 28);
	data[8] = 0x08;
	data[9] = 0x12;
	CHECK(run(&f, CDB(0x55, 0x10, 0, 0, 0, 0, 0, 0, 28, 0), SCSI_DIR_OUT, 28) == 0);
	CHECK(!f.lun.wce);
	CHECK(run(&f, CDB(0x1a, 0x08, 0x08, 0, 255, 0), SCSI_DIR_IN, 255) == 0);
	CHECK(data[4] == 0x08 && data[6] == 0x00);
	/* a write now flushes (write-through) and still succeeds */
	memset(data, 1, 512);
	CHECK(run(&f, CDB(0x2a, 0, 0, 0, 0, 3, 0, 0, 1, 0), SCSI_DIR_OUT, 512) == 0);
	/* changing what is not changeable (RCD): 26/00; SP: 24/00 */
	memset(data, 0, 28);
	data[8] = 0x08;
	data[9] = 0x12;
	data[10] = 0x01;
	CHECK(run(&f, CDB(0x55, 0x10, 0, 0, 0, 0, 0, 0, 28, 0), SCSI_DIR_OUT, 28) == 2);
	CHECK(sense_is(5, 0x26, 0));
	CHECK(run(&f, CDB(0x55, 0x11, 0, 0, 0, 0, 0, 0, 28, 0), SCSI_DIR_OUT, 28) == 2);
	CHECK(sense_is(5, 0x24, 0));
	/* MODE SELECT(6) with a block descriptor restating 512 */
	memset(data, 0, 32);
	data[3] = 8;
	data[10] = 0x02; /* block length 512 */
	data[12] = 0x08;
	data[13] = 0x12;
	data[14] = 0x04;
	CHECK(run(&f, CDB(0x15, 0x10, 0, 0, 32, 0), SCSI_DIR_OUT, 32) == 0);
	CHECK(f.lun.wce);
	data[10] = 0x10; /* 4096: not ours */
	CHECK(run(&f, CDB(0x15, 0x10, 0, 0, 32, 0), SCSI_DIR_OUT, 32) == 2);
	CHECK(sense_is(5, 0x26, 0));
	/* reset: 29/00 again, WCE back on */
	f.lun.wce = false;
	scsi_lun_reset(&f.lun);
	CHECK(f.lun.wce);
	clear_ua(&f);
	fx_down(&f);
}

static void disk_readonly(void)
{
	char keys[128];
	struct fx f;

	snprintf(keys, sizeof(keys), "%s\nreadonly = on\nserial = HV-RO-1", img);
	CHECK(fx_up(&f, keys, SCSI_LUN_DISK) == 0);
	clear_ua(&f);
	memset(data, 0, 512);
	CHECK(run(&f, CDB(0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0), SCSI_DIR_OUT, 512) == 2);
	CHECK(sense_is(7, 0x27, 0) && rq.xfer == 0);
	CHECK(run(&f, CDB(0x41, 0, 0, 0, 0, 0, 0, 0, 1, 0), SCSI_DIR_OUT, 512) == 2);
	CHECK(sense_is(7, 0x27, 0));
	/* WP in the mode parameter header; no provisioning */
	CHECK(run(&f, CDB(0x1a, 0, 0x3f, 0, 255, 0), SCSI_DIR_IN, 255) == 0);
	CHECK(data[2] == 0x90);
	CHECK(run(&f, CDB(0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 255, 0), SCSI_DIR_IN, 255) == 0);
	CHECK(data[3] == 0x90);
	CHECK(run(&f, CDB(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0),
		  SCSI_DIR_IN, 32) == 0);
	CHECK(data[14] == 0);
	CHECK(run(&f, CDB(0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0), SCSI_DIR_NONE, 0) == 2);
	CHECK(sense_is(7, 0x27, 0));
	/* VPD 0x80 from [disk] serial */
	CHECK(run(&f, CDB(0x12, 1, 0x80, 0, 64, 0), SCSI_DIR_IN, 64) == 0);
	CHECK(data[3] == 7 && !memcmp(data + 4, "HV-RO-1", 7));
	fx_down(&f);
}

static void cd_commands(void)
{
	char keys[128];
	struct fx f;

	snprintf(keys, sizeof(keys), "%s\nmedia = cdrom", iso);
	CHECK(fx_up(&f, keys, SCSI_LUN_CDROM) == 0);
	CHECK(scsi_lun_type_of(f.ctx, f.disk) == SCSI_LUN_CDROM);
	CHECK(run(&f, CDB(0x12, 0, 0, 0, 36, 0), SCSI_DIR_IN, 36) == 0);
	CHECK(data[0] == 0x05 && data[1] == 0x80 && !memcmp(data + 16, "CD-ROM  ", 8));
	/* GET EVENT STATUS NOTIFICATION does not take the unit attention */
	CHECK(run(&f, CDB(0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0), SCSI_DIR_IN, 8) == 0);
	CHECK(rq.xfer == 8 && be16(data) == 6 && data[2] == 4 && data[3] == 0x10 &&
	      data[4] == 0 && data[5] == 0x02);
	CHECK(run(&f, CDB(0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8, 0), SCSI_DIR_IN, 8) == 2);
	CHECK(sense_is(5, 0x24, 0)); /* not polled */
	clear_ua(&f);
	CHECK(run(&f, CDB(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), SCSI_DIR_IN, 8) == 0);
	CHECK(be32(data) == ISO_BYTES / 2048 - 1 && be32(data + 4) == 2048);
	/* READ(10) of block 3 (2048 bytes): what the file holds */
	CHECK(run(&f, CDB(0x28, 0, 0, 0, 0, 3, 0, 0, 1, 0), SCSI_DIR_IN, 2048) == 0);
	CHECK(rq.xfer == 2048 && data[0] == 3 && data[2047] == 3);
	CHECK(run(&f, CDB(0xa8, 0, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0), SCSI_DIR_IN, 2048) == 0);
	CHECK(data[0] == 4);
	/* writes: no such command on a CD-ROM */
	CHECK(run(&f, CDB(0x2a, 0, 0, 0, 0, 3, 0, 0, 1, 0), SCSI_DIR_OUT, 2048) == 2);
	CHECK(sense_is(5, 0x20, 0));
	/* READ TOC format 0, LBA: track 1 at 0, lead-out at the end */
	CHECK(run(&f, CDB(0x43, 0, 0, 0, 0, 0, 0, 0, 100, 0), SCSI_DIR_IN, 100) == 0);
	CHECK(rq.xfer == 20 && be16(data) == 18 && data[2] == 1 && data[3] == 1);
	CHECK(data[5] == 0x14 && data[6] == 1 && be32(data + 8) == 0);
	CHECK(data[13] == 0x14 && data[14] == 0xaa && be32(data + 16) == ISO_BYTES / 2048);
	/* MSF: 00:02:00 for LBA 0; 1024 blocks + 150 = 00:15:49 */
	CHECK(run(&f, CDB(0x43, 2, 0, 0, 0, 0, 0, 0, 100, 0), SCSI_DIR_IN, 100) == 0);
	CHECK(!memcmp(data + 8, "\x00\x00\x02\x00", 4) &&
	      !memcmp(data + 16, "\x00\x00\x0f\x31", 4));
	/* format 1: one session; format 2: the raw TOC, four points */
	CHECK(run(&f, CDB(0x43, 0, 1, 0, 0, 0, 0, 0, 100, 0), SCSI_DIR_IN, 100) == 0);
	CHECK(rq.xfer == 12 && be16(data) == 10 && data[6] == 1);
	CHECK(run(&f, CDB(0x43, 2, 2, 0, 0, 0, 0, 0, 100, 0), SCSI_DIR_IN, 100) == 0);
	CHECK(rq.xfer == 48 && data[7] == 0xa0 && data[12] == 1 && data[29] == 0xa2 &&
	      !memcmp(data + 34, "\x00\x0f\x31", 3) && data[40] == 0x01);
	CHECK(run(&f, CDB(0x43, 0, 5, 0, 0, 0, 0, 0, 100, 0), SCSI_DIR_IN, 100) == 2);
	CHECK(sense_is(5, 0x24, 0));
	/* GET CONFIGURATION: CD-ROM current, the profile list first */
	CHECK(run(&f, CDB(0x46, 0, 0, 0, 0, 0, 0, 0, 128, 0), SCSI_DIR_IN, 128) == 0);
	CHECK(be16(data + 6) == 0x0008 && be16(data + 8) == 0x0000 && data[10] == 0x03 &&
	      data[11] == 8 && be16(data + 12) == 0x0010 && data[14] == 0 &&
	      be16(data + 16) == 0x0008 && data[18] == 1);
	CHECK(be32(data) + 4 == rq.xfer && be16(data + 20) == 0x0001);
	/* removable medium (0x0003): tray, Load, Eject, Lock */
	CHECK(be16(data + 40) == 0x0003 && data[44] == 0x39);
	/* RT 2: the random-readable feature alone */
	CHECK(run(&f, CDB(0x46, 2, 0, 0x10, 0, 0, 0, 0, 128, 0), SCSI_DIR_IN, 128) == 0);
	CHECK(rq.xfer == 20 && be16(data + 8) == 0x0010 && data[10] == 0x03 &&
	      be32(data + 12) == 2048);
	/* MODE SENSE(10) page 0x2A: the CD capabilities */
	CHECK(run(&f, CDB(0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64, 0), SCSI_DIR_IN, 64) == 0);
	CHECK(rq.xfer == 28 && data[8] == 0x2a && data[9] == 0x12 && data[14] == 0x29);
	/* READ DISC INFORMATION, READ TRACK INFORMATION, MECHANISM STATUS */
	CHECK(run(&f, CDB(0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0), SCSI_DIR_IN, 34) == 0);
	CHECK(rq.xfer == 34 && be16(data) == 32 && data[2] == 0x0e && data[7] == 0x20);
	CHECK(run(&f, CDB(0x52, 1, 0, 0, 0, 1, 0, 0, 36, 0), SCSI_DIR_IN, 36) == 0);
	CHECK(be16(data) == 34 && data[2] == 1 && be32(data + 24) == ISO_BYTES / 2048);
	CHECK(run(&f, CDB(0x52, 1, 0, 0, 0, 2, 0, 0, 36, 0), SCSI_DIR_IN, 36) == 2);
	CHECK(sense_is(5, 0x24, 0));
	CHECK(run(&f, CDB(0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0), SCSI_DIR_IN, 8) == 0);
	CHECK(rq.xfer == 8 && data[1] == 0);
	CHECK(run(&f, CDB(0xbb, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0), SCSI_DIR_NONE, 0) == 0);
	/* lock, eject refused (53/02), unlock, eject: tray open, 3A/02 */
	CHECK(run(&f, CDB(0x1e, 0, 0, 0, 1, 0), SCSI_DIR_NONE, 0) == 0);
	CHECK(run(&f, CDB(0x1b, 0, 0, 0, 0x02, 0), SCSI_DIR_NONE, 0) == 2);
	CHECK(sense_is(5, 0x53, 0x02));
	CHECK(run(&f, CDB(0x1e, 0, 0, 0, 0, 0), SCSI_DIR_NONE, 0) == 0);
	CHECK(run(&f, CDB(0x1b, 0, 0, 0, 0x02, 0), SCSI_DIR_NONE, 0) == 0);
	CHECK(run(&f, CDB(0x00, 0, 0, 0, 0, 0), SCSI_DIR_NONE, 0) == 2);
	CHECK(sense_is(2, 0x3a, 0x02));
	CHECK(run(&f, CDB(0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0), SCSI_DIR_IN, 8) == 0);
	CHECK(data[4] == 3 && data[5] == 0x01); /* media removal, tray open */
	CHECK(run(&f, CDB(0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0), SCSI_DIR_IN, 8) == 0);
	CHECK(data[1] == 0x10);
	CHECK(run(&f, CDB(0x46, 0, 0, 0, 0, 0, 0, 0, 128, 0), SCSI_DIR_IN, 128) == 0);
	CHECK(be16(data + 6) == 0); /* no current profile */
	/* load: new media event, unit attention 28/00 */
	CHECK(run(&f, CDB(0x1b, 0, 0, 0, 0x03, 0), SCSI_DIR_NONE, 0) == 0);
	CHECK(run(&f, CDB(0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0), SCSI_DIR_IN, 8) == 0);
	CHECK(data[4] == 2 && data[5] == 0x02);
	CHECK(run(&f, CDB(0x00, 0, 0, 0, 0, 0), SCSI_DIR_NONE, 0) == 2);
	CHECK(sense_is(6, 0x28, 0));
	CHECK(run(&f, CDB(0x00, 0, 0, 0, 0, 0), SCSI_DIR_NONE, 0) == 0);
	/* the backend goes (hot-plug detach): 3A/00; back: 28/00 */
	CHECK(scsi_lun_set_medium(&f.lun, NULL, NULL) == 0);
	CHECK(run(&f, CDB(0x00, 0, 0, 0, 0, 0), SCSI_DIR_NONE, 0) == 2);
	CHECK(sense_is(2, 0x3a, 0x00));
	CHECK(run(&f, CDB(0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0), SCSI_DIR_IN, 2048) == 2);
	CHECK(sense_is(2, 0x3a, 0x00));
	CHECK(run(&f, CDB(0x03, 0, 0, 0, 18, 0), SCSI_DIR_IN, 18) == 0);
	CHECK(data[2] == 2 && data[12] == 0x3a);
	CHECK(scsi_lun_set_medium(&f.lun, f.disk, "d") == 0);
	CHECK(run(&f, CDB(0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0), SCSI_DIR_IN, 8) == 0);
	CHECK(data[4] == 2);
	CHECK(run(&f, CDB(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), SCSI_DIR_IN, 8) == 2);
	CHECK(sense_is(6, 0x28, 0));
	/* SBC-only commands are not a CD's */
	CHECK(run(&f, CDB(0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0), SCSI_DIR_NONE, 0) == 2);
	CHECK(sense_is(5, 0x20, 0));
	fx_down(&f);
}

static void transport_helpers(void)
{
	static const uint16_t luns[] = { 0, 1, 300 };
	struct fx f;

	CHECK(fx_up(&f, img, SCSI_LUN_DISK) == 0);
	memset(&rq, 0, sizeof(rq));
	memset(data, 0xee, 64);
	rq.cdb[0] = 0xa0;
	put32(rq.cdb + 6, 64);
	rq.cdb_len = 12;
	rq.dir = SCSI_DIR_IN;
	rq.iov = &(struct iovec){ data, 64 };
	rq.iovcnt = 1;
	rq.data_len = 64;
	rq.done = on_done;
	done_calls = 0;
	scsi_report_luns(f.ctx, &rq, luns, 3);
	CHECK(done_calls == 1 && rq.status == 0 && rq.xfer == 32);
	CHECK(be32(data) == 24 && be32(data + 4) == 0);
	CHECK(!memcmp(data + 8, "\0\0\0\0\0\0\0\0\0\1\0\0\0\0\0\0\x41\x2c\0\0\0\0\0\0", 24));
	/* INQUIRY of an absent LUN: qualifier 3, type 1F */
	memset(rq.cdb, 0, sizeof(rq.cdb));
	rq.cdb[0] = 0x12;
	rq.cdb[4] = 36;
	rq.cdb_len = 6;
	done_calls = 0;
	scsi_no_lun(f.ctx, &rq);
	CHECK(done_calls == 1 && rq.status == 0 && rq.xfer == 36 && data[0] == 0x7f);
	rq.cdb[0] = 0x00;
	scsi_no_lun(f.ctx, &rq);
	CHECK(sense_is(5, 0x25, 0));
	fx_down(&f);
}

static int make_file(const char *path, size_t size, int blocks_2k)
{
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	uint8_t b[2048];
	int r = 0;

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size))
		r = -1;
	for (size_t i = 0; blocks_2k && !r && i < size / 2048; i++) {
		memset(b, (int)(i & 0xff), sizeof(b));
		if (pwrite(fd, b, sizeof(b), (off_t)(i * 2048)) != (ssize_t)sizeof(b))
			r = -1;
	}
	close(fd);
	return r;
}

int main(void)
{
	char p[64], cmd[64];

	if (!mkdtemp(dir))
		return 1;
	snprintf(p, sizeof(p), "%s/d.raw", dir);
	snprintf(img, sizeof(img), "path = %s", p);
	if (make_file(p, DISK_BYTES, 0))
		return 1;
	snprintf(p, sizeof(p), "%s/cd.iso", dir);
	snprintf(iso, sizeof(iso), "path = %s", p);
	if (make_file(p, ISO_BYTES, 1))
		return 1;
	TEST(disk_inquiry);
	TEST(disk_capacity_and_errors);
	TEST(disk_read_write);
	TEST(disk_write_same_unmap);
	TEST(disk_mode_pages);
	TEST(disk_readonly);
	TEST(cd_commands);
	TEST(transport_helpers);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd)) {
	}
	return unit_failed_total ? 1 : 0;
}
