/* SPDX-License-Identifier: MIT */
/*
 * ATAPI (the PACKET feature set) for an IDE CD-ROM: the 12-byte CDB goes
 * to the shared SCSI/MMC unit (plugins/common/scsi), whose answer comes
 * back in a PIO data phase cut into chunks of the byte count limit
 * (lbam/lbah), each announced by an interrupt with the interrupt reason
 * in the sector count register, or through the bus master when the
 * PACKET command's feature bit 0 asks for DMA. A CHECK CONDITION ends the
 * command with ERR and the sense key in the error register's high nibble;
 * the unit keeps the sense data for REQUEST SENSE.
 *
 * PIO data-in goes through the channel's IDE_BUF buffer, which bounds one
 * PIO command's data (the unit answers a longer one with CHECK CONDITION,
 * nothing moved). The direction is unknown before the unit parses the CDB,
 * so PIO commands are offered a data-in buffer: data-out commands (MODE
 * SELECT) are refused by the unit; a CD-ROM needs none to be read.
 */
#include <errno.h>
#include <string.h>

#include "ide.h"

static void sdone(struct hv_ctx *ctx, struct scsi_req *r);

int atapi_init(struct ide_chan *ch, struct ide_drive *d, const char *name)
{
	int rc;

	d->kind = IDE_ATAPI;
	d->ss = 2048;
	rc = scsi_lun_init(&d->lun, ch->c->ctx, d->disk, SCSI_LUN_CDROM, name);
	if (rc) {
		hv_error(ch->c->ctx, "disk %s: cannot be a CD-ROM (a size that is not a multiple of 2048?)",
			 name);
		return rc;
	}
	d->lun.iface = 2; /* ATAPI */
	/* a PIO command's data goes through the channel buffer */
	d->lun.max_xfer = IDE_BUF / 2048;
	return 0;
}

void atapi_identify(struct ide_chan *ch, struct ide_drive *d)
{
	uint16_t *id = (uint16_t *)ch->buf;

	memset(id, 0, 512);
	/* ATAPI, CD-ROM, removable, DRQ within 50 us, 12-byte packets */
	id[0] = 0x85c0;
	ata_pad_string(&id[10], d->serial, 10);
	ata_pad_string(&id[23], "1.0", 4);
	ata_pad_string(&id[27], "hv ATAPI CD-ROM", 20);
	id[49] = 0x0f00; /* IORDY, IORDY disable, LBA, DMA */
	id[50] = 0x4000;
	id[51] = 0x0200;
	id[53] = 0x0007;
	id[63] = 0x0007 | ((d->xfer_mode >> 3) == 4 ? 0x100 << (d->xfer_mode & 7) : 0);
	id[64] = 0x0003;
	id[65] = id[66] = id[67] = id[68] = 120;
	id[71] = 30, id[72] = 30;
	id[80] = 0x007e; /* ATA/ATAPI-1 to -6 */
	id[82] = 0x4210; /* NOP, DEVICE RESET, PACKET */
	id[83] = 0x4000;
	id[84] = 0x4000;
	id[85] = 0x4210;
	id[87] = 0x4000;
	id[88] = 0x003f | ((d->xfer_mode >> 3) == 8 ? 0x100 << (d->xfer_mode & 7) : 0);
	ata_id_checksum(id);
}

/* PACKET: DRQ for the CDB, no interrupt (word 0 says DRQ within 50 us). */
void atapi_packet(struct ide_chan *ch)
{
	struct ide_drive *d = cur(ch);

	ch->write = d->tf.feat & 1; /* DMA */
	ch->bcl = (uint32_t)d->tf.lbah << 8 | d->tf.lbam;
	if (!ch->bcl || ch->bcl == 0xffff)
		ch->bcl = 0xfffe;
	ch->bcl &= ~1u;
	ch->pos = 0;
	ch->xfer = XF_PACKET;
	d->tf.nsect = (d->tf.nsect & ~7u) | IR_COD;
	d->tf.status = ST_DRDY | ST_DRQ;
}

static void finish(struct ide_chan *ch, const struct scsi_req *r)
{
	struct ide_drive *d = cur(ch);
	bool good = r->status == SCSI_STATUS_GOOD;

	d->tf.nsect = (d->tf.nsect & ~7u) | IR_IO | IR_COD;
	ide_cmd_done(ch, good ? ST_DRDY | ST_DSC : ST_DRDY | ST_ERR,
		     good ? 0 : (uint8_t)((r->sense_len ? r->sense[2] & 0xf : 0) << 4 | ER_ABRT));
}

/* The next chunk of the PIO data phase: its byte count in lbam/lbah. */
static void chunk_open(struct ide_chan *ch)
{
	struct ide_drive *d = cur(ch);
	uint32_t n = ch->fill - ch->pos < ch->bcl ? ch->fill - ch->pos : ch->bcl;

	ch->end = ch->pos + n;
	d->tf.lbam = (uint8_t)n;
	d->tf.lbah = (uint8_t)(n >> 8);
	d->tf.nsect = (d->tf.nsect & ~7u) | IR_IO;
	d->tf.status = ST_DRDY | ST_DSC | ST_DRQ;
	ch->xfer = XF_PIO_IN;
	ide_irq_raise(ch);
}

static void submit(struct ide_chan *ch, const struct iovec *iov, int iovcnt,
		   uint32_t len, enum scsi_dir dir)
{
	struct scsi_req *r = &ch->sreq;

	memcpy(r->cdb, ch->cdb, sizeof(ch->cdb));
	memset(r->cdb + sizeof(ch->cdb), 0, sizeof(r->cdb) - sizeof(ch->cdb));
	r->cdb_len = sizeof(ch->cdb);
	r->dir = dir;
	r->iov = iov;
	r->iovcnt = iovcnt;
	r->data_len = len;
	r->done = sdone;
	r->opaque = ch;
	cur(ch)->tf.status = ST_BSY | ST_DRDY;
	ch->inflight = true;
	scsi_lun_submit(&cur(ch)->lun, r);
}

void atapi_cdb_done(struct ide_chan *ch)
{
	if (ch->write) {
		ch->xfer = XF_DMA;
		ch->dma_pending = true;
		cur(ch)->tf.status = ST_BSY | ST_DRDY;
		bm_try_start(ch);
		return;
	}
	ch->xfer = XF_PIO_IN;
	ch->iov[0].iov_base = ch->buf;
	ch->iov[0].iov_len = IDE_BUF;
	submit(ch, ch->iov, 1, IDE_BUF, SCSI_DIR_IN);
}

void atapi_dma_start(struct ide_chan *ch)
{
	if (bm_map(ch, IDE_ATAPI_MAX_DMA, false)) {
		bm_fail(ch);
		return;
	}
	submit(ch, ch->dma.iov, ch->dma.iovcnt, (uint32_t)ch->dma.len,
	       ch->bmic & BMIC_READ ? SCSI_DIR_IN : SCSI_DIR_OUT);
}

static void sdone(struct hv_ctx *ctx, struct scsi_req *r)
{
	struct ide_chan *ch = r->opaque;

	ch->inflight = false;
	if (ch->aborted) {
		if (ch->dma.iovcnt)
			bm_finish(ch, r->xfer, true);
		ide_abort_done(ch);
		return;
	}
	if (ch->xfer == XF_DMA) {
		if (r->xfer < ch->dma.len)
			ch->prd_more = true;
		bm_finish(ch, r->xfer, true);
		finish(ch, r);
		return;
	}
	if (r->status != SCSI_STATUS_GOOD || !r->xfer) {
		finish(ch, r);
		return;
	}
	ch->fill = r->xfer;
	ch->pos = 0;
	chunk_open(ch);
}

void atapi_data_done(struct ide_chan *ch)
{
	if (ch->pos < ch->fill)
		chunk_open(ch);
	else
		finish(ch, &ch->sreq);
}
