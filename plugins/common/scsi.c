/* SPDX-License-Identifier: MIT */
/*
 * A SCSI logical unit over an hv_disk (scsi.h has the contract).
 *
 * Commands are one table of {opcode, which unit types, flags, handler}
 * rows and one dispatcher that does what SPC makes common to all of them
 * (unit attentions, NOT READY without a medium, write protection). The
 * handlers either answer at once (their data comes from a small buffer on
 * the stack, truncated to the allocation length and to the initiator's
 * buffer) or start a disk request whose done() finishes the command.
 *
 * Spec references: SPC-4 (INQUIRY, MODE SENSE/SELECT, REQUEST SENSE,
 * REPORT LUNS, fixed sense 4.5.3), SBC-3 (READ/WRITE, UNMAP, WRITE SAME,
 * READ CAPACITY, GET LBA STATUS, VPD 0xB0-0xB2), MMC-6 (the CD-ROM).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scsi.h"

#define STATE_VERSION 1
#define CD_BLOCK 2048
#define CD_MAX_BLOCKS (80u * 60 * 75) /* an 80-minute CD; above: a DVD */
#define MAX_XFER_BYTES (1u << 20)
#define MAX_UNMAP_DESC 255  /* (sizeof(p.blk) - 8) / 16 */
#define MAX_WS_BLOCKS 0x400000u
#define ZERO_CHUNK 65536

/* request kinds (p.kind): what done() does next */
enum { K_RW = 1, K_FLUSH, K_UNMAP, K_WSAME };
/* p.flags */
#define PF_WRITE 0x1u
#define PF_FLUSH_AFTER 0x2u /* FUA or WCE off: flush once written */
#define PF_ZERO 0x4u        /* WRITE SAME of an all-zero block */
#define PF_DISCARD 0x8u     /* WRITE SAME with UNMAP */
#define PF_NO_WZ 0x10u      /* the core refused HV_DISK_WRITE_ZEROES */

/* row flags */
#define F_DISK 0x1u     /* valid for SCSI_LUN_DISK */
#define F_CD 0x2u       /* valid for SCSI_LUN_CDROM */
#define F_MEDIUM 0x4u   /* NOT READY without a medium */
#define F_NO_UA 0x8u    /* never reports or clears a unit attention */
#define F_WRITES 0x10u  /* DATA PROTECT on a read-only medium */
#define F_BOTH (F_DISK | F_CD)

/* additional sense codes, as (asc << 8 | ascq) */
#define ASC_NONE 0x0000
#define ASC_WRITE_ERROR 0x0c00
#define ASC_READ_ERROR 0x1100
#define ASC_PARAM_LEN 0x1a00
#define ASC_INVALID_OPCODE 0x2000
#define ASC_LBA_RANGE 0x2100
#define ASC_INVALID_CDB 0x2400
#define ASC_NO_LUN 0x2500
#define ASC_INVALID_PARAM 0x2600
#define ASC_WRITE_PROTECTED 0x2700
#define ASC_SPACE_ALLOC_WP 0x2707
#define ASC_MEDIUM_CHANGED 0x2800
#define ASC_POWER_ON 0x2900
#define ASC_NO_SAVE 0x3900
#define ASC_NO_MEDIUM 0x3a00
#define ASC_NO_MEDIUM_TRAY_OPEN 0x3a02
#define ASC_INTERNAL 0x4400
#define ASC_REMOVAL_PREVENTED 0x5302

/* GET EVENT STATUS NOTIFICATION media event codes (MMC-6 6.8.2.4) */
#define EV_EJECT_REQUEST 1
#define EV_NEW_MEDIA 2
#define EV_MEDIA_REMOVAL 3

static const uint8_t zeroes[ZERO_CHUNK];

/* ---- small helpers ---- */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* space-padded, never NUL-terminated (INQUIRY strings) */
static void pad(uint8_t *dst, const char *src, size_t n)
{
	size_t l = strlen(src);

	memset(dst, ' ', n);
	memcpy(dst, src, l < n ? l : n);
}

static void iov_copy(const struct iovec *iov, int cnt, size_t off, void *buf,
		     size_t len, int to_iov)
{
	uint8_t *b = buf;

	for (int i = 0; i < cnt && len; i++) {
		size_t l = iov[i].iov_len, n;

		if (off >= l) {
			off -= l;
			continue;
		}
		n = l - off < len ? l - off : len;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + off, b, n);
		else
			memcpy(b, (uint8_t *)iov[i].iov_base + off, n);
		b += n;
		len -= n;
		off = 0;
	}
}

static void complete(struct scsi_req *req)
{
	struct scsi_lun *lun = req->p.lun;

	req->resid = req->data_len - req->xfer;
	lun->inflight--;
	req->done(lun->ctx, req);
}

static void sense_build(uint8_t *s, unsigned key, unsigned asc)
{
	memset(s, 0, SCSI_SENSE_LEN);
	s[0] = 0x70; /* current error, fixed format */
	s[2] = (uint8_t)key;
	s[7] = SCSI_SENSE_LEN - 8; /* additional sense length */
	s[12] = (uint8_t)(asc >> 8);
	s[13] = (uint8_t)asc;
}

/* CHECK CONDITION with this sense; nothing (more) moves. */
static void fail(struct scsi_req *req, unsigned key, unsigned asc)
{
	struct scsi_lun *lun = req->p.lun;

	sense_build(req->sense, key, asc);
	req->sense_len = SCSI_SENSE_LEN;
	req->status = SCSI_STATUS_CHECK_CONDITION;
	memcpy(lun->sense, req->sense, SCSI_SENSE_LEN);
	complete(req);
}

static void bad_cdb(struct scsi_req *req)
{
	fail(req, SCSI_SK_ILLEGAL_REQUEST, ASC_INVALID_CDB);
}

static void good(struct scsi_req *req)
{
	req->status = SCSI_STATUS_GOOD;
	complete(req);
}

/* Data-in answer: at most alloc bytes of buf[len], and no more than the
 * initiator's buffer holds (SPC: allocation lengths truncate). */
static void reply(struct scsi_req *req, const void *buf, size_t len,
		  size_t alloc)
{
	size_t n = len < alloc ? len : alloc;

	if (req->dir != SCSI_DIR_IN)
		n = 0;
	if (n > req->data_len)
		n = req->data_len;
	iov_copy(req->iov, req->iovcnt, 0, (void *)buf, n, 1);
	req->xfer = (uint32_t)n;
	good(req);
}

/* The CDB wants to move `bytes` in direction `dir`: 0 when the
 * initiator's buffer allows it, else the request is finished (overrun). */
static int want(struct scsi_req *req, uint64_t bytes, enum scsi_dir dir)
{
	if (!bytes || (req->dir == dir && bytes <= req->data_len))
		return 0;
	req->overrun = true;
	bad_cdb(req);
	return -1;
}

/* A disk failure as SBC sense. */
static void fail_errno(struct scsi_req *req, int err, int writing)
{
	switch (err) {
	case -EROFS:
		fail(req, SCSI_SK_DATA_PROTECT, ASC_WRITE_PROTECTED);
		break;
	case -ENOSPC:
		fail(req, SCSI_SK_DATA_PROTECT, ASC_SPACE_ALLOC_WP);
		break;
	case -ERANGE:
		fail(req, SCSI_SK_ILLEGAL_REQUEST, ASC_LBA_RANGE);
		break;
	case -EOPNOTSUPP:
	case -EINVAL:
		fail(req, SCSI_SK_ILLEGAL_REQUEST, ASC_INVALID_CDB);
		break;
	default:
		fail(req, SCSI_SK_MEDIUM_ERROR,
		     writing ? ASC_WRITE_ERROR : ASC_READ_ERROR);
	}
}

static bool readonly(const struct scsi_lun *lun)
{
	return lun->type == SCSI_LUN_CDROM ||
	       (lun->disk_flags & HV_DISK_F_READONLY);
}

static bool can_discard(const struct scsi_lun *lun)
{
	return !readonly(lun) && (lun->disk_flags & HV_DISK_F_DISCARD);
}

/* ---- disk requests ---- */

static void disk_done(struct hv_ctx *ctx, struct hv_disk_req *dr, int status);

static int disk_start(struct scsi_req *req, uint32_t op, uint64_t offset,
		      uint64_t len, int iovcnt)
{
	struct hv_disk_req *dr = &req->p.dreq;

	memset(dr, 0, sizeof(*dr));
	dr->op = op;
	dr->offset = offset;
	dr->len = len;
	dr->iov = iovcnt ? req->p.iov : NULL;
	dr->iovcnt = iovcnt;
	dr->done = disk_done;
	dr->opaque = req;
	return hv_disk_submit(req->p.lun->ctx, req->p.lun->disk, dr);
}

/* p.iov = bytes [0, len) of the initiator's buffer; the count, or -1. */
static int trim_iov(struct scsi_req *req, uint64_t len)
{
	int n = 0;

	for (int i = 0; i < req->iovcnt && len; i++) {
		size_t l = req->iov[i].iov_len < len ? req->iov[i].iov_len : len;

		if (!l)
			continue;
		if (n == SCSI_MAX_IOV)
			return -1;
		req->p.iov[n].iov_base = req->iov[i].iov_base;
		req->p.iov[n++].iov_len = l;
		len -= l;
	}
	return n;
}

static int flush_start(struct scsi_req *req)
{
	req->p.kind = K_FLUSH;
	return disk_start(req, HV_DISK_FLUSH, 0, 0, 0);
}

/* The next WRITE SAME piece (or the one discard). */
static int wsame_step(struct scsi_req *req)
{
	struct scsi_lun *lun = req->p.lun;
	uint64_t left = req->p.nblocks - req->p.pos, n, off;
	uint64_t per = 1; /* blocks per iovec */
	const void *src = req->p.blk;
	int cnt;

	off = (req->p.lba + req->p.pos) * lun->block;
	if (req->p.flags & PF_DISCARD) {
		req->p.pos = req->p.nblocks;
		return disk_start(req, HV_DISK_DISCARD, off, left * lun->block, 0);
	}
	if ((req->p.flags & (PF_ZERO | PF_NO_WZ)) == PF_ZERO) {
		int r;

		n = left * lun->block < HV_DISK_WRITE_ZEROES_MAX
			    ? left
			    : HV_DISK_WRITE_ZEROES_MAX / lun->block;
		r = disk_start(req, HV_DISK_WRITE_ZEROES, off, n * lun->block, 0);
		if (r != -EINVAL && r != -ENOSYS) {
			req->p.pos += n;
			return r;
		}
		req->p.flags |= PF_NO_WZ; /* an older core: write zeroes */
	}
	if (req->p.flags & PF_ZERO) {
		per = ZERO_CHUNK / lun->block;
		src = zeroes;
	}
	n = left < per * SCSI_MAX_IOV ? left : per * SCSI_MAX_IOV;
	cnt = (int)((n + per - 1) / per);
	for (int i = 0; i < cnt; i++) {
		uint64_t b = n - (uint64_t)i * per < per ? n - (uint64_t)i * per : per;

		req->p.iov[i].iov_base = (void *)src;
		req->p.iov[i].iov_len = b * lun->block;
	}
	req->p.pos += n;
	return disk_start(req, HV_DISK_WRITE, off, n * lun->block, cnt);
}

/* The next UNMAP descriptor with blocks in it (p.blk holds them all,
 * checked); 1 when none is left. */
static int unmap_step(struct scsi_req *req)
{
	struct scsi_lun *lun = req->p.lun;

	while (req->p.pos < req->p.nblocks) {
		const uint8_t *d = req->p.blk + 8 + req->p.pos++ * 16;
		uint64_t lba = be64(d);
		uint32_t n = be32(d + 8);

		if (n)
			return disk_start(req, HV_DISK_DISCARD, lba * lun->block,
					  (uint64_t)n * lun->block, 0);
	}
	return 1;
}

/* Start what comes after a finished piece: 1 when the command is done. */
static int next_piece(struct scsi_req *req)
{
	switch (req->p.kind) {
	case K_RW:
		if (req->p.flags & PF_FLUSH_AFTER)
			return flush_start(req);
		return 1;
	case K_WSAME:
		if (req->p.pos < req->p.nblocks)
			return wsame_step(req);
		if (!(req->p.flags & PF_DISCARD) &&
		    (req->p.flags & PF_FLUSH_AFTER))
			return flush_start(req);
		return 1;
	case K_UNMAP:
		return unmap_step(req);
	default:
		return 1;
	}
}

static void piece_result(struct scsi_req *req, int r)
{
	bool w = (req->p.flags & PF_WRITE) || req->p.kind != K_RW;

	if (r == 1)
		good(req);
	else if (r < 0)
		fail_errno(req, r, w);
}

static void disk_done(struct hv_ctx *ctx, struct hv_disk_req *dr, int status)
{
	struct scsi_req *req = dr->opaque;

	if (status < 0) {
		piece_result(req, status);
		return;
	}
	piece_result(req, next_piece(req));
}

/* ---- SBC: the data path ---- */

struct rw {
	uint64_t lba;
	uint32_t n;
	uint8_t flags; /* cdb[1] */
};

static struct rw decode_rw(const uint8_t *c)
{
	struct rw r = { .flags = c[1] };

	switch (c[0] >> 5) {
	case 0: /* 6-byte: 21-bit LBA, 0 blocks means 256 */
		r.lba = (uint64_t)(c[1] & 0x1f) << 16 | be16(c + 2);
		r.n = c[4] ? c[4] : 256;
		r.flags = 0;
		break;
	case 1: /* 10 */
	case 2:
		r.lba = be32(c + 2);
		r.n = be16(c + 7);
		break;
	case 5: /* 12 */
		r.lba = be32(c + 2);
		r.n = be32(c + 6);
		break;
	default: /* 4: 16 */
		r.lba = be64(c + 2);
		r.n = be32(c + 10);
		break;
	}
	return r;
}

/* LBA range check shared by every command that names blocks. */
static int range_ok(struct scsi_req *req, uint64_t lba, uint64_t n)
{
	struct scsi_lun *lun = req->p.lun;

	if (lba > lun->blocks || n > lun->blocks - lba) {
		fail(req, SCSI_SK_ILLEGAL_REQUEST, ASC_LBA_RANGE);
		return 0;
	}
	return 1;
}

static void cmd_rw(struct scsi_lun *lun, struct scsi_req *req)
{
	const uint8_t *c = req->cdb;
	bool w = c[0] == 0x0a || c[0] == 0x2a || c[0] == 0xaa || c[0] == 0x8a ||
		 c[0] == 0x2e || c[0] == 0x8e;
	struct rw r = decode_rw(c);
	uint64_t bytes = (uint64_t)r.n * lun->block;
	int cnt;

	if (r.flags & 0xe0) /* RDPROTECT/WRPROTECT: no protection info */
		return bad_cdb(req);
	if (!range_ok(req, r.lba, r.n))
		return;
	if (r.n > lun->max_xfer)
		return bad_cdb(req);
	if (want(req, bytes, w ? SCSI_DIR_OUT : SCSI_DIR_IN))
		return;
	if (!r.n)
		return good(req);
	cnt = trim_iov(req, bytes);
	if (cnt < 0)
		return fail(req, SCSI_SK_HARDWARE_ERROR, ASC_INTERNAL);
	req->p.kind = K_RW;
	req->p.flags = w ? PF_WRITE : 0;
	if (w && ((r.flags & 0x08) || !lun->wce || c[0] == 0x2e || c[0] == 0x8e))
		req->p.flags |= PF_FLUSH_AFTER; /* FUA, write-through, verify */
	req->xfer = (uint32_t)bytes;
	cnt = disk_start(req, w ? HV_DISK_WRITE : HV_DISK_READ,
			 r.lba * lun->block, bytes, cnt);
	if (cnt < 0) {
		req->xfer = 0;
		fail_errno(req, cnt, w);
	}
}

static void cmd_verify(struct scsi_lun *lun, struct scsi_req *req)
{
	struct rw r = decode_rw(req->cdb);

	if (r.flags & 0xe6) /* VRPROTECT, BYTCHK: we compare nothing */
		return bad_cdb(req);
	if (range_ok(req, r.lba, r.n))
		good(req);
}

static void cmd_sync(struct scsi_lun *lun, struct scsi_req *req)
{
	const uint8_t *c = req->cdb;
	uint64_t lba = c[0] == 0x35 ? be32(c + 2) : be64(c + 2);
	uint64_t n = c[0] == 0x35 ? be16(c + 7) : be32(c + 10);
	int r;

	if (!range_ok(req, lba, n))
		return;
	r = flush_start(req);
	if (r < 0)
		fail_errno(req, r, 1);
}

static void cmd_write_same(struct scsi_lun *lun, struct scsi_req *req)
{
	const uint8_t *c = req->cdb;
	bool is16 = c[0] == 0x93;
	uint64_t lba = is16 ? be64(c + 2) : be32(c + 2);
	uint32_t n = is16 ? be32(c + 10) : be16(c + 7);
	bool ndob = is16 && (c[1] & 0x01);
	int r;

	if ((c[1] & 0xf4) || !n || n > MAX_WS_BLOCKS) /* WRPROTECT, ANCHOR; WSNZ */
		return bad_cdb(req);
	if (!range_ok(req, lba, n))
		return;
	req->p.kind = K_WSAME;
	req->p.flags = PF_WRITE | (lun->wce ? 0 : PF_FLUSH_AFTER);
	req->p.lba = lba;
	req->p.nblocks = n;
	req->p.pos = 0;
	if (ndob) {
		req->p.flags |= PF_ZERO;
	} else {
		if (want(req, lun->block, SCSI_DIR_OUT))
			return;
		iov_copy(req->iov, req->iovcnt, 0, req->p.blk, lun->block, 0);
		req->xfer = lun->block;
		if (!memcmp(req->p.blk, zeroes, lun->block))
			req->p.flags |= PF_ZERO;
	}
	if ((c[1] & 0x08) && can_discard(lun))
		req->p.flags |= PF_DISCARD;
	r = wsame_step(req);
	if (r < 0)
		fail_errno(req, r, 1);
}

static void cmd_unmap(struct scsi_lun *lun, struct scsi_req *req)
{
	const uint8_t *c = req->cdb;
	uint32_t plen = be16(c + 7), bdlen, nd;
	uint8_t *b = req->p.blk;
	int r;

	if (!can_discard(lun))
		return fail(req, SCSI_SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
	if (c[1] & 0x01) /* ANCHOR */
		return bad_cdb(req);
	if (!plen)
		return good(req);
	if (plen < 8)
		return fail(req, SCSI_SK_ILLEGAL_REQUEST, ASC_PARAM_LEN);
	if (want(req, plen, SCSI_DIR_OUT))
		return;
	if (plen > sizeof(req->p.blk))
		plen = sizeof(req->p.blk);
	iov_copy(req->iov, req->iovcnt, 0, b, plen, 0);
	req->xfer = plen;
	bdlen = be16(b + 2);
	if (bdlen > plen - 8)
		bdlen = plen - 8; /* SBC: the parameter list length truncates */
	nd = bdlen / 16;
	if (nd > MAX_UNMAP_DESC || (bdlen % 16) ||
	    be16(b) < (bdlen ? bdlen + 6 : 0))
		return fail(req, SCSI_SK_ILLEGAL_REQUEST, ASC_INVALID_PARAM);
	for (uint32_t i = 0; i < nd; i++)
		if (!range_ok(req, be64(b + 8 + i * 16), be32(b + 16 + i * 16)))
			return;
	req->p.kind = K_UNMAP;
	req->p.flags = 0;
	req->p.pos = 0;
	req->p.nblocks = nd;
	r = unmap_step(req);
	piece_result(req, r);
}

/* ---- SBC: capacity and provisioning ---- */

static void cmd_read_capacity10(struct scsi_lun *lun, struct scsi_req *req)
{
	uint8_t b[8];
	uint64_t last = lun->blocks ? lun->blocks - 1 : 0;

	put32(b, last > 0xffffffffu ? 0xffffffffu : (uint32_t)last);
	put32(b + 4, lun->block);
	reply(req, b, sizeof(b), sizeof(b));
}

static void cmd_read_capacity16(struct scsi_lun *lun, struct scsi_req *req)
{
	uint8_t b[32] = { 0 };

	put64(b, lun->blocks ? lun->blocks - 1 : 0);
	put32(b + 8, lun->block);
	b[13] = (uint8_t)lun->phys_exp;
	if (can_discard(lun))
		b[14] = 0x80; /* LBPME */
	reply(req, b, sizeof(b), be32(req->cdb + 10));
}

/* Whether [off, off+len) of the disk is allocated: the number of bytes
 * from off with the same answer in *pnum. */
static int map_status(struct scsi_lun *lun, uint64_t off, uint64_t len,
		      uint64_t *pnum, bool *mapped)
{
#ifdef HV_DISK_MAP_DATA
	uint32_t st = 0;
	int r = hv_disk_map(lun->ctx, lun->disk, off, len, pnum, &st);

	if (r == 0 && *pnum) {
		*mapped = (st & HV_DISK_MAP_DATA) != 0;
		return 0;
	}
	if (r && r != -ENOTSUP && r != -ENOSYS && r != -EOPNOTSUPP)
		return r;
#endif
	*pnum = len; /* no map: all of it mapped */
	*mapped = true;
	return 0;
}

static void cmd_lba_status(struct scsi_lun *lun, struct scsi_req *req)
{
	uint8_t b[8 + 16 * 32] = { 0 };
	uint64_t lba = be64(req->cdb + 2);
	uint32_t alloc = be32(req->cdb + 10);
	unsigned nd = 0;

	if (lba >= lun->blocks)
		return fail(req, SCSI_SK_ILLEGAL_REQUEST, ASC_LBA_RANGE);
	while (nd < 32 && lba < lun->blocks && 8 + 16 * (nd + 1) <= alloc) {
		uint64_t left = lun->blocks - lba, pnum = 0, n;
		uint8_t *d = b + 8 + 16 * nd;
		bool mapped = true;
		int r;

		if (left > 0xffffffffu)
			left = 0xffffffffu;
		r = map_status(lun, lba * lun->block, left * lun->block, &pnum,
			       &mapped);
		if (r < 0)
			return fail_errno(req, r, 0);
		n = pnum / lun->block;
		if (!n)
			n = 1;
		if (n > left)
			n = left;
		put64(d, lba);
		put32(d + 8, (uint32_t)n);
		d[12] = mapped ? 0 : 1; /* mapped / deallocated */
		lba += n;
		nd++;
	}
	put32(b, 4 + 16 * nd);
	reply(req, b, 8 + 16 * nd, alloc);
}

static void cmd_service_in(struct scsi_lun *lun, struct scsi_req *req)
{
	switch (req->cdb[1] & 0x1f) {
	case 0x10:
		return cmd_read_capacity16(lun, req);
	case 0x12:
		return cmd_lba_status(lun, req);
	default:
		return bad_cdb(req);
	}
}

/* ---- SPC: INQUIRY ---- */

static size_t vpd_serial(struct scsi_lun *lun, uint8_t *b)
{
	size_t n = strlen(lun->serial);

	b[1] = 0x80;
	memcpy(b + 4, lun->serial, n);
	return 4 + n;
}

static size_t vpd_devid(struct scsi_lun *lun, uint8_t *b)
{
	size_t n = strlen(lun->serial);

	b[1] = 0x83;
	/* one designator: T10 vendor id, ASCII, associated with the LU */
	b[4] = 0x02;
	b[5] = 0x01;
	b[7] = (uint8_t)(8 + n);
	pad(b + 8, "HV", 8);
	memcpy(b + 16, lun->serial, n);
	return 16 + n;
}

static size_t vpd_limits(struct scsi_lun *lun, uint8_t *b)
{
	b[1] = 0xb0;
	b[4] = 0x01; /* WSNZ: WRITE SAME needs a block count */
	put16(b + 6, (uint16_t)(1u << lun->phys_exp));
	put32(b + 8, lun->max_xfer);
	put32(b + 12, lun->max_xfer);
	if (can_discard(lun)) {
		put32(b + 20, 0xffffffffu); /* max unmap LBA count */
		put32(b + 24, MAX_UNMAP_DESC);
		put32(b + 28, 1u << lun->phys_exp);
	}
	put64(b + 36, MAX_WS_BLOCKS);
	return 64;
}

static size_t vpd_chars(struct scsi_lun *lun, uint8_t *b)
{
	b[1] = 0xb1;
	put16(b + 4, 1); /* non-rotating medium */
	return 64;
}

static size_t vpd_provisioning(struct scsi_lun *lun, uint8_t *b)
{
	b[1] = 0xb2;
	if (can_discard(lun)) {
		b[5] = 0xe0; /* LBPU, LBPWS, LBPWS10 */
		b[6] = 0x02; /* thin provisioned */
	}
	return 8;
}

static const struct {
	uint8_t page;
	uint8_t types; /* F_DISK/F_CD */
	size_t (*fill)(struct scsi_lun *lun, uint8_t *b);
} vpd_pages[] = {
	{ 0x80, F_BOTH, vpd_serial },
	{ 0x83, F_BOTH, vpd_devid },
	{ 0xb0, F_DISK, vpd_limits },
	{ 0xb1, F_DISK, vpd_chars },
	{ 0xb2, F_DISK, vpd_provisioning },
};

static unsigned type_bit(const struct scsi_lun *lun)
{
	return lun->type == SCSI_LUN_CDROM ? F_CD : F_DISK;
}

static void inquiry_std(struct scsi_lun *lun, struct scsi_req *req,
			unsigned alloc)
{
	uint8_t b[36] = { 0 };
	bool cd = lun->type == SCSI_LUN_CDROM;

	b[0] = (uint8_t)lun->type;
	b[1] = cd ? 0x80 : 0; /* RMB */
	b[2] = 0x05;          /* SPC-3 */
	b[3] = 0x12;          /* HiSup, response data format 2 */
	b[4] = sizeof(b) - 5;
	b[7] = 0x02; /* CmdQue */
	pad(b + 8, "HV", 8);
	pad(b + 16, cd ? "CD-ROM" : "HARDDISK", 16);
	pad(b + 32, "1.0", 4);
	reply(req, b, sizeof(b), alloc);
}

static void cmd_inquiry(struct scsi_lun *lun, struct scsi_req *req)
{
	const uint8_t *c = req->cdb;
	unsigned alloc = be16(c + 3);
	uint8_t b[128] = { 0 };
	size_t n = 0;

	if (c[1] & 0x02) /* CMDDT */
		return bad_cdb(req);
	if (!(c[1] & 0x01)) {
		if (c[2])
			return bad_cdb(req);
		return inquiry_std(lun, req, alloc);
	}
	if (c[2] == 0x00) {
		b[1] = 0x00;
		b[4 + n++] = 0x00;
		for (size_t i = 0; i < sizeof(vpd_pages) / sizeof(vpd_pages[0]); i++)
			if (vpd_pages[i].types & type_bit(lun))
				b[4 + n++] = vpd_pages[i].page;
		n += 4;
	} else {
		for (size_t i = 0; i < sizeof(vpd_pages) / sizeof(vpd_pages[0]); i++)
			if (vpd_pages[i].page == c[2] &&
			    (vpd_pages[i].types & type_bit(lun)))
				n = vpd_pages[i].fill(lun, b);
		if (!n)
			return bad_cdb(req);
	}
	b[0] = (uint8_t)lun->type;
	put16(b + 2, (uint16_t)(n - 4));
	reply(req, b, n, alloc);
}

/* ---- SPC: mode pages ---- */

enum { PC_CURRENT = 0, PC_CHANGEABLE, PC_DEFAULT, PC_SAVED };

static size_t page_caching(struct scsi_lun *lun, int pc, uint8_t *b)
{
	b[0] = 0x08;
	b[1] = 0x12;
	if (pc == PC_CHANGEABLE)
		b[2] = 0x04;
	else if (pc == PC_DEFAULT || lun->wce)
		b[2] = 0x04; /* WCE */
	return 20;
}

static size_t page_control(struct scsi_lun *lun, int pc, uint8_t *b)
{
	b[0] = 0x0a;
	b[1] = 0x0a;
	if (pc != PC_CHANGEABLE)
		b[3] = 0x10; /* unrestricted reordering */
	return 12;
}

static size_t page_cd_caps(struct scsi_lun *lun, int pc, uint8_t *b)
{
	b[0] = 0x2a;
	b[1] = 0x12;
	if (pc == PC_CHANGEABLE)
		return 20;
	b[2] = 0x3b; /* reads CD-R, CD-RW, DVD-ROM, DVD-R, DVD-RAM */
	b[4] = 0x71; /* audio play, composite, digital ports, mode 2 form 2 */
	b[5] = 0x60;
	b[6] = 0x29 | (lun->locked ? 0x02 : 0); /* tray, eject, lock */
	put16(b + 8, 706);  /* max read speed, kB/s (4x) */
	put16(b + 10, 2);   /* volume levels */
	put16(b + 12, 512); /* buffer, KiB */
	put16(b + 14, 706); /* current read speed */
	return 20;
}

static const struct {
	uint8_t page;
	uint8_t types;
	size_t (*fill)(struct scsi_lun *lun, int pc, uint8_t *b);
} mode_pages[] = {
	{ 0x08, F_DISK, page_caching },
	{ 0x0a, F_BOTH, page_control },
	{ 0x2a, F_CD, page_cd_caps },
};

#define N_MODE_PAGES (sizeof(mode_pages) / sizeof(mode_pages[0]))

/* Page `page` (0x3f: all) into b; its length, 0 when unknown. */
static size_t mode_fill(struct scsi_lun *lun, unsigned page, int pc,
			uint8_t *b)
{
	size_t n = 0;

	for (size_t i = 0; i < N_MODE_PAGES; i++)
		if ((mode_pages[i].types & type_bit(lun)) &&
		    (page == 0x3f || page == mode_pages[i].page))
			n += mode_pages[i].fill(lun, pc, b + n);
	return n;
}

static void cmd_mode_sense(struct scsi_lun *lun, struct scsi_req *req)
{
	const uint8_t *c = req->cdb;
	bool ten = c[0] == 0x5a;
	bool dbd = (c[1] & 0x08) || lun->type == SCSI_LUN_CDROM;
	bool llba = ten && (c[1] & 0x10);
	int pc = c[2] >> 6;
	unsigned page = c[2] & 0x3f, hl = ten ? 8 : 4, bdl = 0;
	unsigned alloc = ten ? be16(c + 7) : c[4];
	uint8_t b[256] = { 0 }, devspec = 0;
	size_t n;

	/* SBC 6.5.1: WP, and DPOFUA (we honour FUA) */
	if (lun->type == SCSI_LUN_DISK)
		devspec = (readonly(lun) ? 0x80 : 0) | 0x10;
	if (pc == PC_SAVED)
		return fail(req, SCSI_SK_ILLEGAL_REQUEST, ASC_NO_SAVE);
	if (c[3] && !(page == 0x3f && c[3] == 0xff)) /* subpages: none */
		return bad_cdb(req);
	if (!dbd) {
		uint8_t *d = b + hl;

		bdl = llba ? 16 : 8;
		if (llba) {
			put64(d, lun->blocks);
			put32(d + 12, lun->block);
		} else {
			put32(d, lun->blocks > 0xffffff ? 0xffffff
							: (uint32_t)lun->blocks);
			put32(d + 4, lun->block & 0xffffff);
		}
	}
	n = mode_fill(lun, page, pc, b + hl + bdl);
	if (!n)
		return bad_cdb(req);
	n += hl + bdl;
	if (ten) {
		put16(b, (uint16_t)(n - 2));
		b[3] = devspec;
		b[4] = llba ? 1 : 0;
		put16(b + 6, (uint16_t)bdl);
	} else {
		b[0] = (uint8_t)(n - 1);
		b[2] = devspec;
		b[3] = (uint8_t)bdl;
	}
	reply(req, b, n, alloc);
}

/* One page of a MODE SELECT list: only what the changeable mask allows
 * may differ from the current value. */
static int select_page(struct scsi_lun *lun, const uint8_t *p, size_t len)
{
	uint8_t cur[32] = { 0 }, mask[32] = { 0 };
	size_t n = 0;

	for (size_t i = 0; i < N_MODE_PAGES; i++)
		if ((mode_pages[i].types & type_bit(lun)) &&
		    mode_pages[i].page == (p[0] & 0x3f)) {
			n = mode_pages[i].fill(lun, PC_CURRENT, cur);
			mode_pages[i].fill(lun, PC_CHANGEABLE, mask);
		}
	if (!n || (p[0] & 0x40) || len != n || p[1] != cur[1])
		return -1;
	for (size_t i = 2; i < n; i++)
		if ((p[i] ^ cur[i]) & ~mask[i])
			return -1;
	if (cur[0] == 0x08)
		lun->wce = (p[2] & 0x04) != 0;
	return 0;
}

static void cmd_mode_select(struct scsi_lun *lun, struct scsi_req *req)
{
	const uint8_t *c = req->cdb;
	bool ten = c[0] == 0x55;
	uint32_t plen = ten ? be16(c + 7) : c[4], hl = ten ? 8 : 4, bdl, off;
	uint8_t *b = req->p.blk;

	if (!(c[1] & 0x10) || (c[1] & 0x01)) /* PF must be set; SP: no saving */
		return bad_cdb(req);
	if (!plen)
		return good(req);
	if (plen > sizeof(req->p.blk) || plen < hl)
		return fail(req, SCSI_SK_ILLEGAL_REQUEST, ASC_PARAM_LEN);
	if (want(req, plen, SCSI_DIR_OUT))
		return;
	iov_copy(req->iov, req->iovcnt, 0, b, plen, 0);
	req->xfer = plen;
	bdl = ten ? be16(b + 6) : b[3];
	if (bdl > plen - hl || (bdl && bdl != 8))
		return fail(req, SCSI_SK_ILLEGAL_REQUEST, ASC_INVALID_PARAM);
	/* a block descriptor may only restate the block length */
	if (bdl && ((uint32_t)b[hl + 5] << 16 | (uint32_t)b[hl + 6] << 8 |
		    b[hl + 7]) != lun->block)
		return fail(req, SCSI_SK_ILLEGAL_REQUEST, ASC_INVALID_PARAM);
	for (off = hl + bdl; off < plen;) {
		size_t len = off + 2 <= plen ? (size_t)b[off + 1] + 2 : 0;

		if (!len || off + len > plen || select_page(lun, b + off, len))
			return fail(req, SCSI_SK_ILLEGAL_REQUEST,
				    ASC_INVALID_PARAM);
		off += (uint32_t)len;
	}
	good(req);
}

/* ---- SPC: the rest ---- */

static void cmd_tur(struct scsi_lun *lun, struct scsi_req *req)
{
	good(req);
}

static void cmd_request_sense(struct scsi_lun *lun, struct scsi_req *req)
{
	uint8_t s[SCSI_SENSE_LEN];

	if (req->cdb[1] & 0x01) /* DESC: fixed format only */
		return bad_cdb(req);
	if (lun->sense[2] & 0x0f) {
		memcpy(s, lun->sense, sizeof(s));
	} else if (lun->ua_asc) {
		sense_build(s, SCSI_SK_UNIT_ATTENTION,
			    (unsigned)lun->ua_asc << 8 | lun->ua_ascq);
		lun->ua_asc = 0;
	} else if (lun->type == SCSI_LUN_CDROM && (!lun->disk || lun->tray_open)) {
		sense_build(s, SCSI_SK_NOT_READY,
			    lun->tray_open ? ASC_NO_MEDIUM_TRAY_OPEN : ASC_NO_MEDIUM);
	} else {
		sense_build(s, SCSI_SK_NO_SENSE, ASC_NONE);
	}
	memset(lun->sense, 0, sizeof(lun->sense));
	reply(req, s, sizeof(s), req->cdb[4]);
}

static void cmd_start_stop(struct scsi_lun *lun, struct scsi_req *req)
{
	uint8_t f = req->cdb[4];

	if (lun->type != SCSI_LUN_CDROM || !(f & 0x02) || (f & 0xf0))
		return good(req); /* no LoEj, or a power condition: nothing to do */
	if (!(f & 0x01)) { /* eject */
		if (lun->locked)
			return fail(req, SCSI_SK_ILLEGAL_REQUEST,
				    ASC_REMOVAL_PREVENTED);
		if (!lun->tray_open && lun->disk)
			lun->media_event = EV_MEDIA_REMOVAL;
		lun->tray_open = true;
	} else if (lun->tray_open) { /* load */
		lun->tray_open = false;
		if (lun->disk) {
			lun->media_event = EV_NEW_MEDIA;
			lun->ua_asc = ASC_MEDIUM_CHANGED >> 8;
			lun->ua_ascq = 0;
		}
	}
	good(req);
}

static void cmd_prevent(struct scsi_lun *lun, struct scsi_req *req)
{
	if (lun->type == SCSI_LUN_CDROM)
		lun->locked = (req->cdb[4] & 0x03) != 0;
	good(req);
}

/* ---- MMC ---- */

static void lba_to_msf(uint8_t *m, uint64_t lba)
{
	lba += 150;
	m[0] = (uint8_t)(lba / (60 * 75));
	m[1] = (uint8_t)(lba / 75 % 60);
	m[2] = (uint8_t)(lba % 75);
}

/* A 4-byte track address: LBA, or MSF (0, M, S, F). */
static void put_addr(uint8_t *p, uint64_t lba, bool msf)
{
	if (msf) {
		p[0] = 0;
		lba_to_msf(p + 1, lba);
	} else {
		put32(p, (uint32_t)lba);
	}
}

static size_t toc_tracks(struct scsi_lun *lun, uint8_t *b, bool msf,
			 unsigned start)
{
	size_t n = 4;

	b[2] = 1; /* first track */
	b[3] = 1; /* last track */
	if (start <= 1) {
		b[n + 1] = 0x14; /* ADR 1, data track */
		b[n + 2] = 1;
		put_addr(b + n + 4, 0, msf);
		n += 8;
	}
	b[n + 1] = 0x14;
	b[n + 2] = 0xaa; /* lead-out */
	put_addr(b + n + 4, lun->blocks, msf);
	return n + 8;
}

static size_t toc_session(struct scsi_lun *lun, uint8_t *b, bool msf)
{
	b[2] = 1; /* first and last complete session */
	b[3] = 1;
	b[5] = 0x14;
	b[6] = 1; /* first track of the last session */
	put_addr(b + 8, 0, msf);
	return 12;
}

/* Full TOC (format 2): the A0, A1, A2 points and track 1 (MMC-6 6.26.3.4,
 * as drives answer it). */
static size_t toc_raw(struct scsi_lun *lun, uint8_t *b, bool msf)
{
	static const uint8_t points[] = { 0xa0, 0xa1, 0xa2, 0x01 };
	size_t n = 4;

	b[2] = 1;
	b[3] = 1;
	for (size_t i = 0; i < sizeof(points); i++, n += 11) {
		uint8_t *d = b + n;

		d[0] = 1;    /* session */
		d[1] = 0x14; /* ADR 1, data track */
		d[3] = points[i];
		if (points[i] == 0xa0 || points[i] == 0xa1)
			d[8] = 1; /* first / last track; disc type 0 */
		else if (msf)
			lba_to_msf(d + 8, points[i] == 0xa2 ? lun->blocks : 0);
		else
			put32(d + 7, points[i] == 0xa2 ? (uint32_t)lun->blocks : 0);
	}
	return n;
}

static void cmd_read_toc(struct scsi_lun *lun, struct scsi_req *req)
{
	const uint8_t *c = req->cdb;
	bool msf = c[1] & 0x02;
	unsigned fmt = c[2] & 0x0f, start = c[6];
	uint8_t b[64] = { 0 };
	size_t n;

	if (!fmt)
		fmt = c[9] >> 6; /* the old ATAPI place for the format */
	switch (fmt) {
	case 0:
		if (start > 1 && start != 0xaa)
			return bad_cdb(req);
		n = toc_tracks(lun, b, msf, start);
		break;
	case 1:
		n = toc_session(lun, b, msf);
		break;
	case 2:
		n = toc_raw(lun, b, msf);
		break;
	default:
		return bad_cdb(req);
	}
	put16(b, (uint16_t)(n - 2));
	reply(req, b, n, be16(c + 7));
}

static bool is_dvd(const struct scsi_lun *lun)
{
	return lun->blocks > CD_MAX_BLOCKS;
}

static uint16_t current_profile(const struct scsi_lun *lun)
{
	if (!lun->disk || lun->tray_open)
		return 0;
	return is_dvd(lun) ? 0x0010 : 0x0008;
}

/* One feature descriptor; its length. `current` sets the Current bit. */
static size_t feature(uint8_t *d, uint16_t code, unsigned version, bool cur,
		      const uint8_t *data, size_t len)
{
	put16(d, code);
	d[2] = (uint8_t)(version << 2 | 0x02 | (cur ? 1 : 0)); /* persistent */
	d[3] = (uint8_t)len;
	memcpy(d + 4, data, len);
	return 4 + len;
}

static void cmd_get_config(struct scsi_lun *lun, struct scsi_req *req)
{
	const uint8_t *c = req->cdb;
	unsigned rt = c[1] & 0x03, start = be16(c + 2);
	uint16_t prof = current_profile(lun);
	bool medium = prof != 0;
	uint8_t b[128] = { 0 }, t[12] = { 0 };
	size_t n = 8;

	if (rt == 3)
		return bad_cdb(req);
	put16(b + 6, prof);
	/* rows in feature order; rt 1: current only, rt 2: only `start` */
#define WANT(code, cur) \
	((rt == 2 ? (code) == start : (code) >= start) && (rt != 1 || (cur)))
	if (WANT(0x0000, true)) {
		uint8_t pl[8] = { 0x00, 0x10, prof == 0x10, 0,
				  0x00, 0x08, prof == 0x08, 0 };
		n += feature(b + n, 0x0000, 0, true, pl, sizeof(pl));
	}
	if (WANT(0x0001, true)) {
		put32(t, lun->iface);
		t[4] = 0x01; /* DBE */
		n += feature(b + n, 0x0001, 2, true, t, 8);
	}
	if (WANT(0x0002, true)) {
		uint8_t m[4] = { 0x02 }; /* OCEvent: polled GESN works */
		n += feature(b + n, 0x0002, 1, true, m, 4);
	}
	if (WANT(0x0003, true)) {
		uint8_t m[4] = { 0x39 }; /* tray, load, eject, lock */
		n += feature(b + n, 0x0003, 0, true, m, 4);
	}
	if (WANT(0x0010, medium)) {
		memset(t, 0, sizeof(t));
		put32(t, CD_BLOCK);
		put16(t + 4, is_dvd(lun) ? 16 : 1);
		n += feature(b + n, 0x0010, 0, medium, t, 8);
	}
#undef WANT
	put32(b, (uint32_t)(n - 4));
	reply(req, b, n, be16(c + 7));
}

static void cmd_gesn(struct scsi_lun *lun, struct scsi_req *req)
{
	const uint8_t *c = req->cdb;
	uint8_t b[8] = { 0 };
	size_t n = 4;

	if (!(c[1] & 0x01)) /* asynchronous notification: not supported */
		return bad_cdb(req);
	b[3] = 0x10; /* supported classes: media */
	if (c[4] & 0x10) {
		b[2] = 0x04; /* media class */
		b[4] = lun->media_event;
		b[5] = (lun->tray_open ? 0x01 : 0) |
		       (lun->disk && !lun->tray_open ? 0x02 : 0);
		lun->media_event = 0;
		n = 8;
	} else {
		b[2] = 0x80; /* NEA: no event of a requested class */
	}
	put16(b, (uint16_t)(n - 2));
	reply(req, b, n, be16(c + 7));
}

static void cmd_disc_info(struct scsi_lun *lun, struct scsi_req *req)
{
	uint8_t b[34] = { 0 };

	if (req->cdb[1] & 0x07) /* data type: standard disc information only */
		return bad_cdb(req);
	put16(b, sizeof(b) - 2);
	b[2] = 0x0e; /* last session complete, disc finalized */
	b[3] = 1;    /* first track */
	b[4] = 1;    /* sessions */
	b[5] = 1;    /* first track in last session */
	b[6] = 1;    /* last track in last session */
	b[7] = 0x20; /* unrestricted use */
	reply(req, b, sizeof(b), be16(req->cdb + 7));
}

static void cmd_track_info(struct scsi_lun *lun, struct scsi_req *req)
{
	const uint8_t *c = req->cdb;
	uint32_t v = be32(c + 2);
	uint8_t b[36] = { 0 };

	switch (c[1] & 0x03) {
	case 0: /* by LBA */
		if (v >= lun->blocks)
			return bad_cdb(req);
		break;
	case 1: /* by track number */
	case 2: /* by session number */
		if (v != 1)
			return bad_cdb(req);
		break;
	default:
		return bad_cdb(req);
	}
	put16(b, sizeof(b) - 2);
	b[2] = 1;    /* track */
	b[3] = 1;    /* session */
	b[5] = 0x04; /* data track, uninterrupted */
	b[6] = 0x01; /* mode 1 */
	put32(b + 24, (uint32_t)lun->blocks); /* track size */
	reply(req, b, sizeof(b), be16(c + 7));
}

static void cmd_mechanism(struct scsi_lun *lun, struct scsi_req *req)
{
	uint8_t b[8] = { 0 };

	b[1] = lun->tray_open ? 0x10 : 0; /* door open */
	reply(req, b, sizeof(b), be16(req->cdb + 8));
}

/* ---- the command table and dispatcher ---- */

typedef void (*cmd_fn)(struct scsi_lun *lun, struct scsi_req *req);

static const struct cmd {
	uint8_t op;
	uint8_t len; /* CDB bytes */
	uint8_t flags;
	cmd_fn fn;
} cmds[] = {
	{ 0x00, 6, F_BOTH | F_MEDIUM, cmd_tur },
	{ 0x03, 6, F_BOTH | F_NO_UA, cmd_request_sense },
	{ 0x08, 6, F_DISK | F_MEDIUM, cmd_rw },
	{ 0x0a, 6, F_DISK | F_MEDIUM | F_WRITES, cmd_rw },
	{ 0x12, 6, F_BOTH | F_NO_UA, cmd_inquiry },
	{ 0x15, 6, F_BOTH, cmd_mode_select },
	{ 0x1a, 6, F_BOTH, cmd_mode_sense },
	{ 0x1b, 6, F_BOTH, cmd_start_stop },
	{ 0x1e, 6, F_BOTH, cmd_prevent },
	{ 0x25, 10, F_BOTH | F_MEDIUM, cmd_read_capacity10 },
	{ 0x28, 10, F_BOTH | F_MEDIUM, cmd_rw },
	{ 0x2a, 10, F_DISK | F_MEDIUM | F_WRITES, cmd_rw },
	{ 0x2e, 10, F_DISK | F_MEDIUM | F_WRITES, cmd_rw },
	{ 0x2f, 10, F_DISK | F_MEDIUM, cmd_verify },
	{ 0x35, 10, F_DISK | F_MEDIUM, cmd_sync },
	{ 0x41, 10, F_DISK | F_MEDIUM | F_WRITES, cmd_write_same },
	{ 0x42, 10, F_DISK | F_MEDIUM | F_WRITES, cmd_unmap },
	{ 0x43, 10, F_CD | F_MEDIUM, cmd_read_toc },
	{ 0x46, 10, F_CD, cmd_get_config },
	{ 0x4a, 10, F_CD | F_NO_UA, cmd_gesn },
	{ 0x51, 10, F_CD | F_MEDIUM, cmd_disc_info },
	{ 0x52, 10, F_CD | F_MEDIUM, cmd_track_info },
	{ 0x55, 10, F_BOTH, cmd_mode_select },
	{ 0x5a, 10, F_BOTH, cmd_mode_sense },
	{ 0x88, 16, F_DISK | F_MEDIUM, cmd_rw },
	{ 0x8a, 16, F_DISK | F_MEDIUM | F_WRITES, cmd_rw },
	{ 0x8e, 16, F_DISK | F_MEDIUM | F_WRITES, cmd_rw },
	{ 0x8f, 16, F_DISK | F_MEDIUM, cmd_verify },
	{ 0x91, 16, F_DISK | F_MEDIUM, cmd_sync },
	{ 0x93, 16, F_DISK | F_MEDIUM | F_WRITES, cmd_write_same },
	{ 0x9e, 16, F_DISK | F_MEDIUM, cmd_service_in },
	{ 0xa8, 12, F_BOTH | F_MEDIUM, cmd_rw },
	{ 0xaa, 12, F_DISK | F_MEDIUM | F_WRITES, cmd_rw },
	{ 0xbb, 12, F_CD, cmd_tur },
	{ 0xbd, 12, F_CD, cmd_mechanism },
};

static const struct cmd *cmd_find(uint8_t op)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].op == op)
			return &cmds[i];
	return NULL;
}

void scsi_lun_submit(struct scsi_lun *lun, struct scsi_req *req)
{
	const struct cmd *c;

	req->p.lun = lun;
	req->status = SCSI_STATUS_GOOD;
	req->overrun = false;
	req->xfer = 0;
	req->sense_len = 0;
	if (req->dir == SCSI_DIR_NONE || req->iovcnt < 0 || !req->iov)
		req->data_len = 0; /* no buffer: nothing may move */
	lun->inflight++;

	c = cmd_find(req->cdb[0]);
	if (c && c->op != 0x03)
		memset(lun->sense, 0, sizeof(lun->sense)); /* a new command */
	if (!c || !(c->flags & type_bit(lun)))
		return fail(req, SCSI_SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
	if (req->cdb_len < c->len)
		return bad_cdb(req);
	if (lun->ua_asc && !(c->flags & F_NO_UA)) {
		unsigned asc = (unsigned)lun->ua_asc << 8 | lun->ua_ascq;

		lun->ua_asc = 0;
		return fail(req, SCSI_SK_UNIT_ATTENTION, asc);
	}
	if ((c->flags & F_MEDIUM) && (!lun->disk || lun->tray_open))
		return fail(req, SCSI_SK_NOT_READY,
			    lun->tray_open ? ASC_NO_MEDIUM_TRAY_OPEN
					   : ASC_NO_MEDIUM);
	if ((c->flags & F_WRITES) && readonly(lun))
		return fail(req, SCSI_SK_DATA_PROTECT, ASC_WRITE_PROTECTED);
	c->fn(lun, req);
}

/* ---- transport helpers ---- */

static void helper_begin(struct hv_ctx *ctx, struct scsi_req *req,
			 struct scsi_lun *tmp)
{
	memset(tmp, 0, sizeof(*tmp));
	tmp->ctx = ctx;
	tmp->inflight = 1;
	req->p.lun = tmp;
	req->status = SCSI_STATUS_GOOD;
	req->overrun = false;
	req->xfer = 0;
	req->sense_len = 0;
	if (req->dir == SCSI_DIR_NONE || req->iovcnt < 0 || !req->iov)
		req->data_len = 0;
}

void scsi_report_luns(struct hv_ctx *ctx, struct scsi_req *req,
		      const uint16_t *luns, unsigned n)
{
	struct scsi_lun tmp;
	uint8_t b[8 + 8 * 64] = { 0 };
	unsigned k = 0;

	helper_begin(ctx, req, &tmp);
	if (req->cdb_len < 12)
		return bad_cdb(req);
	if (req->cdb[2] == 0x01) /* well-known LUNs only: we have none */
		n = 0;
	for (unsigned i = 0; i < n && k < 64; i++, k++) {
		uint8_t *e = b + 8 + 8 * k;

		if (luns[i] < 256) {
			e[1] = (uint8_t)luns[i]; /* peripheral device addressing */
		} else {
			e[0] = (uint8_t)(0x40 | luns[i] >> 8); /* flat space */
			e[1] = (uint8_t)luns[i];
		}
	}
	/* more than fit here: the list length says how many there are */
	put32(b, 8 * n);
	reply(req, b, 8 + 8 * k, be32(req->cdb + 6));
}

void scsi_no_lun(struct hv_ctx *ctx, struct scsi_req *req)
{
	struct scsi_lun tmp;
	uint8_t b[36] = { 0 };

	helper_begin(ctx, req, &tmp);
	switch (req->cdb[0]) {
	case 0x12:
		if (req->cdb_len < 6 || (req->cdb[1] & 0x03))
			break;
		b[0] = 0x7f; /* qualifier 3: no unit here; type unknown */
		b[2] = 0x05;
		b[3] = 0x12;
		b[4] = sizeof(b) - 5;
		pad(b + 8, "HV", 8);
		pad(b + 16, "", 16);
		pad(b + 32, "1.0", 4);
		return reply(req, b, sizeof(b), be16(req->cdb + 3));
	case 0x03:
		sense_build(b, SCSI_SK_ILLEGAL_REQUEST, ASC_NO_LUN);
		return reply(req, b, SCSI_SENSE_LEN, req->cdb[4]);
	}
	fail(req, SCSI_SK_ILLEGAL_REQUEST, ASC_NO_LUN);
}

/* ---- lifecycle ---- */

static int medium_load(struct scsi_lun *lun, struct hv_disk *disk)
{
	struct hv_disk_info info;
	uint32_t ls;

	lun->disk = NULL;
	lun->blocks = 0;
	lun->disk_flags = 0;
	if (!disk)
		return lun->type == SCSI_LUN_CDROM ? 0 : -EINVAL;
	memset(&info, 0, sizeof(info));
	hv_disk_info_get(lun->ctx, disk, &info);
	ls = info.logical_sector ? info.logical_sector : 512;
	if (lun->type == SCSI_LUN_CDROM) {
		if (CD_BLOCK % ls)
			return -EINVAL;
		lun->block = CD_BLOCK;
		lun->phys_exp = 0;
	} else {
		if (ls < 512 || ls > sizeof(((struct scsi_req *)0)->p.blk) ||
		    (ls & (ls - 1)))
			return -EINVAL;
		lun->block = ls;
		lun->phys_exp = 0;
		while (info.physical_sector > (ls << lun->phys_exp) &&
		       lun->phys_exp < 15)
			lun->phys_exp++;
	}
	lun->blocks = info.size / lun->block;
	lun->disk_flags = info.flags;
#ifdef HV_DISK_F_CDROM
	if (info.serial[0])
		snprintf(lun->serial, sizeof(lun->serial), "%.20s", info.serial);
#endif
	lun->disk = disk;
	return 0;
}

enum scsi_lun_type scsi_lun_type_of(struct hv_ctx *ctx, struct hv_disk *disk)
{
#ifdef HV_DISK_F_CDROM
	struct hv_disk_info info;

	memset(&info, 0, sizeof(info));
	hv_disk_info_get(ctx, disk, &info);
	if (info.flags & HV_DISK_F_CDROM)
		return SCSI_LUN_CDROM;
#endif
	return SCSI_LUN_DISK;
}

int scsi_lun_init(struct scsi_lun *lun, struct hv_ctx *ctx,
		  struct hv_disk *disk, enum scsi_lun_type type,
		  const char *name)
{
	int r;

	memset(lun, 0, sizeof(*lun));
	lun->ctx = ctx;
	lun->type = type;
	lun->block = type == SCSI_LUN_CDROM ? CD_BLOCK : 512;
	lun->iface = 1;
	snprintf(lun->name, sizeof(lun->name), "%.20s", name ? name : "");
	snprintf(lun->serial, sizeof(lun->serial), "%s", lun->name);
	r = medium_load(lun, disk);
	if (r)
		return r;
	lun->max_xfer = MAX_XFER_BYTES / lun->block;
	scsi_lun_reset(lun);
	return 0;
}

void scsi_lun_reset(struct scsi_lun *lun)
{
	lun->ua_asc = ASC_POWER_ON >> 8;
	lun->ua_ascq = 0;
	memset(lun->sense, 0, sizeof(lun->sense));
	lun->wce = true;
	lun->locked = false;
	lun->media_event = 0;
}

int scsi_lun_set_medium(struct scsi_lun *lun, struct hv_disk *disk,
			const char *name)
{
	int r;

	if (name)
		snprintf(lun->name, sizeof(lun->name), "%.20s", name);
	snprintf(lun->serial, sizeof(lun->serial), "%s", lun->name);
	r = medium_load(lun, disk);
	lun->tray_open = false;
	lun->locked = false;
	if (r)
		return r;
	lun->media_event = disk ? EV_NEW_MEDIA : EV_MEDIA_REMOVAL;
	if (disk) {
		lun->ua_asc = ASC_MEDIUM_CHANGED >> 8;
		lun->ua_ascq = 0;
	}
	return 0;
}

/* The saved state: what the guest can see that init does not rebuild. */
struct lun_state {
	uint32_t version;
	uint8_t ua_asc, ua_ascq, wce, locked, tray_open, media_event;
	uint8_t pad[2];
	uint8_t sense[SCSI_SENSE_LEN];
	uint8_t pad2[2];
};

int scsi_lun_save(struct scsi_lun *lun, struct hv_state *st)
{
	struct lun_state s = {
		.version = STATE_VERSION,
		.ua_asc = lun->ua_asc,
		.ua_ascq = lun->ua_ascq,
		.wce = lun->wce,
		.locked = lun->locked,
		.tray_open = lun->tray_open,
		.media_event = lun->media_event,
	};

	memcpy(s.sense, lun->sense, sizeof(s.sense));
	return hv_state_write(lun->ctx, st, &s, sizeof(s));
}

int scsi_lun_restore(struct scsi_lun *lun, struct hv_state *st)
{
	struct lun_state s;

	if (hv_state_read(lun->ctx, st, &s, sizeof(s)) ||
	    s.version != STATE_VERSION)
		return -EINVAL;
	lun->ua_asc = s.ua_asc;
	lun->ua_ascq = s.ua_ascq;
	lun->wce = s.wce != 0;
	lun->locked = s.locked != 0;
	lun->tray_open = s.tray_open != 0;
	lun->media_event = s.media_event;
	memcpy(lun->sense, s.sense, sizeof(s.sense));
	return 0;
}
