/* SPDX-License-Identifier: MIT */
/*
 * The ATA command set of an IDE disk (ATA8-ACS): a table of opcodes, one
 * handler each. Disk I/O is asynchronous: a command that needs the disk
 * sets BSY, submits, and its completion (main thread) opens the DRQ block
 * or ends the command. PIO reads go to the disk a buffer at a time
 * (IDE_BUF) and hand it out a DRQ block at a time; PIO writes gather a
 * buffer before they submit. DMA goes straight to guest memory through
 * the PRD table (bmdma.c).
 */
#include <errno.h>
#include <string.h>

#include "ide.h"

#define F_LBA48 0x1u  /* the count and address are 48-bit */
#define F_ATAPI 0x2u  /* an ATAPI device runs it too */
#define F_WRITE 0x4u
#define F_MULT 0x8u   /* DRQ blocks of the SET MULTIPLE size */

#define MAX_MULT 16

struct ata_cmd {
	void (*fn)(struct ide_chan *ch, struct ide_drive *d, unsigned flags);
	unsigned flags;
};

static void abort_cmd(struct ide_chan *ch)
{
	ide_cmd_done(ch, ST_DRDY | ST_ERR, ER_ABRT);
}

static void ok_cmd(struct ide_chan *ch)
{
	ide_cmd_done(ch, ST_DRDY | ST_DSC, 0);
}

/* ATA strings: two characters a word, the first in the high byte. */
void ata_pad_string(uint16_t *w, const char *s, unsigned words)
{
	size_t n = strlen(s);

	for (unsigned i = 0; i < words * 2; i++) {
		uint8_t b = i < n ? (uint8_t)s[i] : ' ';
		w[i / 2] = (uint16_t)(i & 1 ? (w[i / 2] & 0xff00) | b : b << 8);
	}
}

/* Word 255: signature A5h and a checksum that makes the 512 bytes sum to 0. */
void ata_id_checksum(uint16_t *id)
{
	uint8_t sum = 0xa5;

	for (int i = 0; i < 255; i++)
		sum += (uint8_t)(id[i] + (id[i] >> 8));
	id[255] = (uint16_t)(0xa5 | (uint8_t)-sum << 8);
}

static void put32(uint16_t *w, uint32_t v)
{
	w[0] = (uint16_t)v, w[1] = (uint16_t)(v >> 16);
}

static unsigned log2u(uint32_t v)
{
	unsigned n = 0;

	while (v > 1)
		v >>= 1, n++;
	return n;
}

static void identify_words(struct ide_drive *d, uint16_t *id)
{
	uint64_t chs = d->nsec < 16383ull * 16 * 63 ? d->nsec : 16383ull * 16 * 63;
	uint32_t cyl = (uint32_t)(chs / (16 * 63));
	uint32_t lba28 = d->nsec < 0x0fffffff ? (uint32_t)d->nsec : 0x0fffffff;
	unsigned pexp = log2u(d->info.physical_sector / d->ss);

	memset(id, 0, 512);
	id[0] = 0x0040; /* fixed, not removable */
	id[1] = (uint16_t)cyl, id[3] = 16, id[6] = 63;
	ata_pad_string(&id[10], d->serial, 10);
	ata_pad_string(&id[23], "1.0", 4);
	ata_pad_string(&id[27], "hv ATA disk", 20);
	id[47] = 0x8000 | MAX_MULT;
	id[49] = 0x0f00; /* IORDY, IORDY disable, LBA, DMA */
	id[50] = 0x4000;
	id[51] = 0x0200, id[52] = 0x0200;
	id[53] = 0x0007; /* words 54-58, 64-70 and 88 valid */
	id[54] = (uint16_t)(d->nsec / ((uint64_t)d->heads * d->spt) > 16383 ?
			    16383 : d->nsec / ((uint64_t)d->heads * d->spt));
	id[55] = d->heads, id[56] = d->spt;
	put32(&id[57], (uint32_t)id[54] * id[55] * id[56]);
	id[59] = d->mult ? 0x0100 | d->mult : 0;
	put32(&id[60], lba28);
	id[63] = 0x0007 | ((d->xfer_mode >> 3) == 4 ? 0x100 << (d->xfer_mode & 7) : 0);
	id[64] = 0x0003; /* PIO 3 and 4 */
	id[65] = id[66] = id[67] = id[68] = 120;
	id[75] = 0;        /* no queueing */
	id[80] = 0x01f0;   /* ATA-4 to ATA8-ACS */
	id[82] = 0x4029;   /* NOP, write cache, power management, SMART */
	id[83] = 0x7400;   /* FLUSH CACHE EXT, FLUSH CACHE, LBA48 */
	id[84] = 0x4000;
	id[85] = (uint16_t)(0x4008 | (d->wcache ? 0x20 : 0) | (d->smart ? 1 : 0));
	id[86] = 0x3400;
	id[87] = 0x4000;
	id[88] = 0x003f | ((d->xfer_mode >> 3) == 8 ? 0x100 << (d->xfer_mode & 7) : 0);
	id[93] = 0x4000 | 0x2000 | 0x0001; /* ... 80-wire cable detected */
	put32(&id[100], (uint32_t)d->nsec);
	put32(&id[102], (uint32_t)(d->nsec >> 32));
	id[106] = (uint16_t)(0x4000 | (pexp ? 0x2000 | pexp : 0) |
			     (d->ss > 512 ? 0x1000 : 0));
	if (d->ss > 512)
		put32(&id[117], d->ss / 2);
	id[217] = 1; /* non-rotating medium: the host decides, say SSD */
	ata_id_checksum(id);
}

/* Hand out a ready buffer: the first DRQ block of [0, fill). */
static void pio_in_open(struct ide_chan *ch)
{
	uint32_t blk = ch->blk * cur(ch)->ss;

	ch->end = ch->pos + (ch->fill - ch->pos < blk ? ch->fill - ch->pos : blk);
	ch->xfer = XF_PIO_IN;
	cur(ch)->tf.status = ST_DRDY | ST_DSC | ST_DRQ;
	ide_irq_raise(ch);
}

static void identify(struct ide_chan *ch, struct ide_drive *d, unsigned flags)
{
	if (d->kind == IDE_ATAPI) {
		/* the ATAPI signature tells software what it found */
		ide_set_signature(d);
		abort_cmd(ch);
		return;
	}
	identify_words(d, (uint16_t *)ch->buf);
	ch->pos = 0, ch->fill = 512, ch->blk = 1, ch->left = 0;
	pio_in_open(ch);
}

static void identify_packet(struct ide_chan *ch, struct ide_drive *d,
			    unsigned flags)
{
	if (d->kind != IDE_ATAPI) {
		abort_cmd(ch);
		return;
	}
	atapi_identify(ch, d);
	ch->pos = 0, ch->fill = 512, ch->blk = 1, ch->left = 0;
	/* the sector size of an IDENTIFY is 512 whatever the medium */
	ch->end = 512;
	ch->xfer = XF_PIO_IN;
	d->tf.status = ST_DRDY | ST_DSC | ST_DRQ;
	ide_irq_raise(ch);
}

/* The command's address and count from the task file; false (and the
 * command ended) when they do not fit the disk. */
static bool rw_range(struct ide_chan *ch, struct ide_drive *d, unsigned flags)
{
	struct ide_tf *t = &d->tf;
	uint64_t lba;
	uint32_t n;

	if (flags & F_LBA48) {
		lba = (uint64_t)t->hob_lbah << 40 | (uint64_t)t->hob_lbam << 32 |
		      (uint64_t)t->hob_lbal << 24 | (uint32_t)t->lbah << 16 |
		      (uint32_t)t->lbam << 8 | t->lbal;
		n = (uint32_t)t->hob_nsect << 8 | t->nsect;
		n = n ? n : 65536;
	} else if (t->dev & 0x40) {
		lba = (uint32_t)(t->dev & 0xf) << 24 | (uint32_t)t->lbah << 16 |
		      (uint32_t)t->lbam << 8 | t->lbal;
		n = t->nsect ? t->nsect : 256;
	} else {
		/* CHS, on the INITIALIZE DEVICE PARAMETERS geometry */
		uint32_t cyl = (uint32_t)t->lbah << 8 | t->lbam, head = t->dev & 0xf;
		if (!t->lbal || t->lbal > d->spt || head >= d->heads) {
			ide_cmd_done(ch, ST_DRDY | ST_ERR, ER_IDNF);
			return false;
		}
		lba = ((uint64_t)cyl * d->heads + head) * d->spt + t->lbal - 1;
		n = t->nsect ? t->nsect : 256;
	}
	if (lba >= d->nsec || n > d->nsec - lba) {
		ide_cmd_done(ch, ST_DRDY | ST_ERR, ER_IDNF);
		return false;
	}
	ch->lba = lba;
	ch->left = n;
	return true;
}

static void disk_done(struct hv_ctx *ctx, struct hv_disk_req *req, int status);

static int disk_submit(struct ide_chan *ch, uint32_t op, void *buf,
		       uint64_t len)
{
	struct ide_drive *d = cur(ch);

	memset(&ch->req, 0, sizeof(ch->req));
	ch->req.op = op;
	ch->req.offset = ch->lba * d->ss;
	ch->req.len = len;
	if (buf) {
		ch->iov[0].iov_base = buf;
		ch->iov[0].iov_len = len;
		ch->req.iov = ch->iov;
		ch->req.iovcnt = 1;
	} else if (len) {
		ch->req.iov = ch->dma.iov;
		ch->req.iovcnt = ch->dma.iovcnt;
	}
	ch->req.done = disk_done;
	ch->req.opaque = ch;
	d->tf.status = ST_BSY | ST_DRDY;
	int rc = hv_disk_submit(ch->c->ctx, d->disk, &ch->req);
	if (!rc)
		ch->inflight = true;
	return rc;
}

/* The next buffer of a PIO read. */
static void pio_in_next(struct ide_chan *ch)
{
	uint32_t max = IDE_BUF / cur(ch)->ss;

	ch->chunk = ch->left < max ? ch->left : max;
	ch->xfer = XF_PIO_IN;
	if (disk_submit(ch, HV_DISK_READ, ch->buf, (uint64_t)ch->chunk * cur(ch)->ss))
		ide_cmd_done(ch, ST_DRDY | ST_ERR, ER_UNC);
}

/* The next buffer of a PIO write: DRQ for its first block. */
static void pio_out_open(struct ide_chan *ch, bool irq)
{
	struct ide_drive *d = cur(ch);
	uint32_t max = IDE_BUF / d->ss, blk = ch->blk * d->ss;

	ch->chunk = ch->left < max ? ch->left : max;
	ch->fill = ch->chunk * d->ss;
	ch->pos = 0;
	ch->end = ch->fill < blk ? ch->fill : blk;
	ch->xfer = XF_PIO_OUT;
	d->tf.status = ST_DRDY | ST_DSC | ST_DRQ;
	if (irq)
		ide_irq_raise(ch);
}

static void rw_pio(struct ide_chan *ch, struct ide_drive *d, unsigned flags)
{
	if ((flags & F_MULT) && !d->mult) {
		abort_cmd(ch);
		return;
	}
	if (!rw_range(ch, d, flags))
		return;
	ch->blk = flags & F_MULT ? d->mult : 1;
	ch->write = flags & F_WRITE;
	if (ch->write)
		pio_out_open(ch, false);
	else
		pio_in_next(ch);
}

/* The guest has read or written the whole DRQ window. */
void ata_data_done(struct ide_chan *ch)
{
	struct ide_drive *d = cur(ch);

	if (ch->xfer == XF_PIO_IN) {
		if (ch->pos < ch->fill) {
			pio_in_open(ch);
		} else if (ch->left) {
			pio_in_next(ch);
		} else {
			ch->xfer = XF_NONE;
			d->tf.status = ST_DRDY | ST_DSC;
		}
		return;
	}
	if (ch->pos < ch->fill) {
		uint32_t blk = ch->blk * d->ss;
		ch->end = ch->pos + (ch->fill - ch->pos < blk ? ch->fill - ch->pos : blk);
		ide_irq_raise(ch);
		return;
	}
	if (disk_submit(ch, HV_DISK_WRITE, ch->buf, ch->fill))
		ide_cmd_done(ch, ST_DRDY | ST_ERR, ER_ABRT);
}

static void disk_done(struct hv_ctx *ctx, struct hv_disk_req *req, int status)
{
	struct ide_chan *ch = req->opaque;
	struct ide_drive *d = cur(ch);

	ch->inflight = false;
	if (ch->aborted) {
		if (ch->dma.iovcnt)
			bm_finish(ch, status ? 0 : req->len, true);
		ide_abort_done(ch);
		return;
	}
	if (ch->xfer == XF_DMA) {
		bm_finish(ch, status ? 0 : req->len, !status);
		ide_cmd_done(ch, status ? ST_DRDY | ST_ERR : ST_DRDY | ST_DSC,
			     status ? ER_UNC : 0);
		return;
	}
	if (status) {
		ide_cmd_done(ch, ST_DRDY | ST_ERR, ch->write ? ER_ABRT : ER_UNC);
		return;
	}
	if (req->op == HV_DISK_FLUSH || ch->xfer == XF_NONE) {
		ok_cmd(ch);
		return;
	}
	ch->lba += ch->chunk;
	ch->left -= ch->chunk;
	if (ch->xfer == XF_PIO_IN) {
		ch->pos = 0;
		ch->fill = ch->chunk * d->ss;
		pio_in_open(ch);
	} else if (ch->left) {
		pio_out_open(ch, true);
	} else {
		ok_cmd(ch);
	}
}

static void rw_dma(struct ide_chan *ch, struct ide_drive *d, unsigned flags)
{
	if (!rw_range(ch, d, flags))
		return;
	ch->write = flags & F_WRITE;
	ch->xfer = XF_DMA;
	ch->dma_pending = true;
	d->tf.status = ST_BSY | ST_DRDY;
	bm_try_start(ch);
}

/* The bus master was started on a pending DMA command: map, submit. */
void ata_dma_start(struct ide_chan *ch)
{
	struct ide_drive *d = cur(ch);
	uint64_t len = (uint64_t)ch->left * d->ss;

	if (bm_map(ch, len, true)) {
		bm_fail(ch);
		return;
	}
	if (disk_submit(ch, ch->write ? HV_DISK_WRITE : HV_DISK_READ, NULL, len)) {
		bm_finish(ch, 0, false);
		ide_cmd_done(ch, ST_DRDY | ST_ERR, ER_ABRT);
	}
}

static void verify(struct ide_chan *ch, struct ide_drive *d, unsigned flags)
{
	/* the range check is the verification: the image has no bad sectors */
	if (rw_range(ch, d, flags))
		ok_cmd(ch);
}

static void flush(struct ide_chan *ch, struct ide_drive *d, unsigned flags)
{
	ch->xfer = XF_NONE;
	if (disk_submit(ch, HV_DISK_FLUSH, NULL, 0))
		ide_cmd_done(ch, ST_DRDY | ST_ERR, ER_ABRT);
}

static void set_multiple(struct ide_chan *ch, struct ide_drive *d,
			 unsigned flags)
{
	uint8_t n = d->tf.nsect;

	if (n > MAX_MULT || (n & (n - 1))) {
		abort_cmd(ch);
		return;
	}
	d->mult = n;
	ok_cmd(ch);
}

static void set_features(struct ide_chan *ch, struct ide_drive *d,
			 unsigned flags)
{
	uint8_t mode = d->tf.nsect;

	switch (d->tf.feat) {
	case 0x02: d->wcache = true; break;
	case 0x82: d->wcache = false; break;
	case 0x03: /* transfer mode: PIO default/0-4, MWDMA 0-2, UDMA 0-5 */
		if (!(mode <= 1 || (mode >= 0x08 && mode <= 0x0c) ||
		      (mode >= 0x20 && mode <= 0x22) || (mode >= 0x40 && mode <= 0x45))) {
			abort_cmd(ch);
			return;
		}
		d->xfer_mode = mode;
		break;
	case 0x55: case 0xaa: /* read look-ahead off/on: no cache of ours */
	case 0x66: case 0xcc: /* keep settings over a reset: we always do */
		break;
	default:
		abort_cmd(ch);
		return;
	}
	ok_cmd(ch);
}

static void power(struct ide_chan *ch, struct ide_drive *d, unsigned flags)
{
	switch (ch->cmd) {
	case 0xe0: case 0xe2: case 0xe6: d->standby = true; break;
	case 0xe1: case 0xe3: d->standby = false; break;
	case 0xe5: d->tf.nsect = d->standby ? 0x00 : 0xff; break;
	}
	ok_cmd(ch);
}

static void smart(struct ide_chan *ch, struct ide_drive *d, unsigned flags)
{
	uint8_t *b = ch->buf;

	if (d->tf.lbam != 0x4f || d->tf.lbah != 0xc2) {
		abort_cmd(ch);
		return;
	}
	switch (d->tf.feat) {
	case 0xd8: d->smart = true; ok_cmd(ch); return;
	case 0xd9: d->smart = false; ok_cmd(ch); return;
	case 0xda: /* RETURN STATUS: 4Fh/C2h means no threshold exceeded */
		if (!d->smart)
			break;
		ok_cmd(ch);
		return;
	case 0xd0: /* READ DATA: an empty attribute table, version 16 */
		if (!d->smart)
			break;
		memset(b, 0, 512);
		b[0] = 0x10;
		b[362] = 0x82; /* offline data collection: completed */
		b[367] = 0x01; /* SMART data saved across power cycles */
		b[368] = 0x03;
		for (int i = 0; i < 511; i++)
			b[511] -= b[i];
		ch->pos = 0, ch->fill = 512, ch->blk = 1, ch->left = 0;
		/* a 512-byte data block whatever the disk's sector size */
		ch->end = 512;
		ch->xfer = XF_PIO_IN;
		d->tf.status = ST_DRDY | ST_DSC | ST_DRQ;
		ide_irq_raise(ch);
		return;
	}
	abort_cmd(ch);
}

static void init_params(struct ide_chan *ch, struct ide_drive *d,
			unsigned flags)
{
	if (!d->tf.nsect) {
		abort_cmd(ch);
		return;
	}
	d->heads = (uint16_t)((d->tf.dev & 0xf) + 1);
	d->spt = d->tf.nsect;
	ok_cmd(ch);
}

static void nop_ok(struct ide_chan *ch, struct ide_drive *d, unsigned flags)
{
	ok_cmd(ch);
}

static void diagnose(struct ide_chan *ch, struct ide_drive *d, unsigned flags)
{
	for (int i = 0; i < 2; i++)
		if (ch->dr[i].kind)
			ide_set_signature(&ch->dr[i]);
	ch->xfer = XF_NONE;
	ide_irq_raise(ch);
}

static void device_reset(struct ide_chan *ch, struct ide_drive *d,
			 unsigned flags)
{
	if (d->kind != IDE_ATAPI) {
		abort_cmd(ch);
		return;
	}
	ch->dma_pending = false;
	if (ch->inflight) {
		/* BSY until the request completes; its result is dropped */
		ch->aborted = ABORT_DEVICE_RESET;
		return;
	}
	ch->xfer = XF_NONE;
	ide_set_signature(d);
}

static void packet(struct ide_chan *ch, struct ide_drive *d, unsigned flags)
{
	if (d->kind != IDE_ATAPI) {
		abort_cmd(ch);
		return;
	}
	atapi_packet(ch);
}

static const struct ata_cmd cmds[256] = {
	[0x08] = { device_reset, F_ATAPI },
	[0x10 ... 0x1f] = { nop_ok, 0 },          /* RECALIBRATE */
	[0x20] = { rw_pio, 0 },                   /* READ SECTORS */
	[0x21] = { rw_pio, 0 },
	[0x24] = { rw_pio, F_LBA48 },             /* READ SECTORS EXT */
	[0x25] = { rw_dma, F_LBA48 },             /* READ DMA EXT */
	[0x29] = { rw_pio, F_LBA48 | F_MULT },    /* READ MULTIPLE EXT */
	[0x30] = { rw_pio, F_WRITE },             /* WRITE SECTORS */
	[0x31] = { rw_pio, F_WRITE },
	[0x34] = { rw_pio, F_WRITE | F_LBA48 },
	[0x35] = { rw_dma, F_WRITE | F_LBA48 },
	[0x39] = { rw_pio, F_WRITE | F_LBA48 | F_MULT },
	[0x40] = { verify, 0 },                   /* READ VERIFY SECTORS */
	[0x41] = { verify, 0 },
	[0x42] = { verify, F_LBA48 },
	[0x70 ... 0x7f] = { nop_ok, 0 },          /* SEEK */
	[0x90] = { diagnose, F_ATAPI },
	[0x91] = { init_params, 0 },
	[0xa0] = { packet, F_ATAPI },
	[0xa1] = { identify_packet, F_ATAPI },
	[0xb0] = { smart, 0 },
	[0xc4] = { rw_pio, F_MULT },              /* READ MULTIPLE */
	[0xc5] = { rw_pio, F_WRITE | F_MULT },
	[0xc6] = { set_multiple, 0 },
	[0xc8] = { rw_dma, 0 },                   /* READ DMA */
	[0xc9] = { rw_dma, 0 },
	[0xca] = { rw_dma, F_WRITE },
	[0xcb] = { rw_dma, F_WRITE },
	[0xe0 ... 0xe3] = { power, F_ATAPI },     /* STANDBY/IDLE (IMMEDIATE) */
	[0xe5] = { power, F_ATAPI },              /* CHECK POWER MODE */
	[0xe6] = { power, F_ATAPI },              /* SLEEP */
	[0xe7] = { flush, 0 },                    /* FLUSH CACHE */
	[0xea] = { flush, 0 },                    /* FLUSH CACHE EXT */
	[0xec] = { identify, F_ATAPI },
	[0xef] = { set_features, F_ATAPI },
};

void ata_exec(struct ide_chan *ch, uint8_t op)
{
	struct ide_drive *d = cur(ch);
	const struct ata_cmd *c = &cmds[op];

	ch->cmd = op;
	ch->dma_pending = false;
	ch->xfer = XF_NONE;
	d->tf.error = 0;
	if (!c->fn || (d->kind == IDE_ATAPI && !(c->flags & F_ATAPI))) {
		abort_cmd(ch);
		return;
	}
	c->fn(ch, d, c->flags);
}
