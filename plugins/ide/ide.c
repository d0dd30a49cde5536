/* SPDX-License-Identifier: MIT */
/*
 * PIIX3 IDE (8086:7010), both channels in legacy mode: the command blocks
 * at 0x1f0/0x170, the control registers at 0x3f6/0x376, ISA IRQs 14/15,
 * and the bus master in BAR4 (bmdma.c). Up to four drives: ATA disks
 * (ata.c) and ATAPI CD-ROMs (atapi.c, over plugins/common/scsi).
 *
 * An absent drive behaves as the ATA standard and Linux's probe expect:
 * a channel with no drive floats (0xff); a selected absent slave beside
 * a master reads 0 in every register and ignores commands.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ide.h"

#define STATE_VERSION 1

static const struct {
	const char *key;
	unsigned ch, unit;
} drive_keys[4] = {
	{ "primary_master", 0, 0 },
	{ "primary_slave", 0, 1 },
	{ "secondary_master", 1, 0 },
	{ "secondary_slave", 1, 1 },
};
static const uint16_t cmd_base[2] = { 0x1f0, 0x170 };
static const uint16_t ctl_base[2] = { 0x3f6, 0x376 };
static const unsigned chan_irq[2] = { 14, 15 };

static bool chan_empty(const struct ide_chan *ch)
{
	return !ch->dr[0].kind && !ch->dr[1].kind;
}

static void irq_update(struct ide_chan *ch)
{
	hv_irq_set(ch->c->ctx, ch->irq, ch->intrq && !(ch->ctl & CTL_NIEN));
}

void ide_irq_raise(struct ide_chan *ch)
{
	ch->intrq = true;
	ch->bmis |= BMIS_INTR;
	irq_update(ch);
}

/* End the command: the selected drive's status and error, an interrupt. */
void ide_cmd_done(struct ide_chan *ch, uint8_t status, uint8_t error)
{
	struct ide_drive *d = cur(ch);

	ch->xfer = XF_NONE;
	d->tf.status = status;
	d->tf.error = error;
	ide_irq_raise(ch);
}

/* What a drive's registers hold after a reset or EXECUTE DEVICE
 * DIAGNOSTIC (ATA 01/01/00/00, ATAPI 01/01/14/EB). */
void ide_set_signature(struct ide_drive *d)
{
	d->tf.nsect = 1;
	d->tf.lbal = 1;
	d->tf.lbam = d->kind == IDE_ATAPI ? 0x14 : 0;
	d->tf.lbah = d->kind == IDE_ATAPI ? 0xeb : 0;
	d->tf.dev = 0;
	d->tf.error = 1; /* diagnostic code: no error */
	d->tf.status = d->kind == IDE_ATA ? ST_DRDY | ST_DSC : 0;
}

/* A soft or hard reset of a channel: both drives to their signatures. */
static void chan_reset(struct ide_chan *ch, bool hard)
{
	ch->sel = 0;
	ch->xfer = XF_NONE;
	ch->dma_pending = false;
	ch->intrq = false;
	for (int i = 0; i < 2; i++) {
		struct ide_drive *d = &ch->dr[i];
		ide_set_signature(d);
		if (hard) {
			d->mult = 0;
			d->xfer_mode = 0;
			d->wcache = true;
			d->smart = true;
			d->standby = false;
			d->heads = 16;
			d->spt = 63;
		}
	}
	irq_update(ch);
}

/* The request of a command a reset cut short has completed: its result
 * is dropped, and the reset it held up finishes now. */
void ide_abort_done(struct ide_chan *ch)
{
	uint8_t why = ch->aborted;

	ch->aborted = 0;
	if (why == ABORT_DEVICE_RESET) {
		ch->xfer = XF_NONE;
		ide_set_signature(cur(ch));
	} else if (!(ch->ctl & CTL_SRST)) {
		chan_reset(ch, false);
	}
}

/* A DRQ window's data; an access wider than what is left takes the rest
 * (an odd ATAPI byte count). */
static unsigned window(struct ide_chan *ch, unsigned size)
{
	return ch->end - ch->pos < size ? ch->end - ch->pos : size;
}

static uint32_t data_read(struct ide_chan *ch, unsigned size)
{
	uint32_t v = 0;

	if (ch->xfer != XF_PIO_IN || !(size = window(ch, size)))
		return 0;
	memcpy(&v, ch->buf + ch->pos, size);
	ch->pos += size;
	if (ch->pos == ch->end) {
		if (cur(ch)->kind == IDE_ATAPI)
			atapi_data_done(ch);
		else
			ata_data_done(ch);
	}
	return v;
}

static void data_write(struct ide_chan *ch, unsigned size, uint32_t v)
{
	if (ch->xfer == XF_PACKET) {
		if (ch->pos + size > sizeof(ch->cdb))
			return;
		memcpy(ch->cdb + ch->pos, &v, size);
		ch->pos += size;
		if (ch->pos == sizeof(ch->cdb))
			atapi_cdb_done(ch);
		return;
	}
	if (ch->xfer != XF_PIO_OUT || !(size = window(ch, size)))
		return;
	memcpy(ch->buf + ch->pos, &v, size);
	ch->pos += size;
	if (ch->pos == ch->end)
		ata_data_done(ch);
}

static uint64_t cmd_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			 unsigned size)
{
	struct ide_chan *ch = opaque;
	struct ide_tf *tf = &cur(ch)->tf;
	bool hob = ch->ctl & CTL_HOB;

	if (chan_empty(ch))
		return size == 1 ? 0xff : ~0u;
	if (!cur(ch)->kind)
		return 0;
	if (off == 0)
		return data_read(ch, size);
	switch (off) {
	case 1: return hob ? tf->hob_feat : tf->error;
	case 2: return hob ? tf->hob_nsect : tf->nsect;
	case 3: return hob ? tf->hob_lbal : tf->lbal;
	case 4: return hob ? tf->hob_lbam : tf->lbam;
	case 5: return hob ? tf->hob_lbah : tf->lbah;
	case 6: return tf->dev | 0xa0 | (ch->sel << 4);
	default:
		ch->intrq = false;
		irq_update(ch);
		return tf->status;
	}
}

/* Both drives latch a task file write; the previous value becomes the
 * "high order byte" LBA48 commands read. */
static void tf_write(struct ide_chan *ch, unsigned reg, uint8_t v)
{
	for (int i = 0; i < 2; i++) {
		struct ide_tf *tf = &ch->dr[i].tf;
		switch (reg) {
		case 1: tf->hob_feat = tf->feat, tf->feat = v; break;
		case 2: tf->hob_nsect = tf->nsect, tf->nsect = v; break;
		case 3: tf->hob_lbal = tf->lbal, tf->lbal = v; break;
		case 4: tf->hob_lbam = tf->lbam, tf->lbam = v; break;
		case 5: tf->hob_lbah = tf->lbah, tf->lbah = v; break;
		case 6: tf->dev = v & 0x4f; break;
		}
	}
}

static void cmd_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		      unsigned size, uint64_t val)
{
	struct ide_chan *ch = opaque;
	struct ide_drive *d;

	if (off == 0) {
		data_write(ch, size, (uint32_t)val);
		return;
	}
	ch->ctl &= ~CTL_HOB;
	if (off < 7) {
		tf_write(ch, (unsigned)off, (uint8_t)val);
		if (off == 6)
			ch->sel = (val >> 4) & 1;
		return;
	}
	d = cur(ch);
	/* commands to an absent drive, or while busy, go nowhere (DEVICE
	 * RESET is how software unsticks a busy ATAPI device) */
	if (!d->kind || ((d->tf.status & ST_BSY) && (uint8_t)val != 0x08))
		return;
	ch->intrq = false;
	irq_update(ch);
	ata_exec(ch, (uint8_t)val);
}

static const struct hv_region_ops cmd_ops = {
	.min_access = 1, .max_access = 4, .read = cmd_read, .write = cmd_write,
};

static uint64_t ctl_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			 unsigned size)
{
	struct ide_chan *ch = opaque;

	if (chan_empty(ch))
		return 0xff;
	return cur(ch)->kind ? cur(ch)->tf.status : 0;
}

static void ctl_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		      unsigned size, uint64_t val)
{
	struct ide_chan *ch = opaque;
	uint8_t was = ch->ctl;

	ch->ctl = (uint8_t)val;
	if ((val & CTL_SRST) && !(was & CTL_SRST)) {
		/* a request in flight still completes (BSY until then), and
		 * its result is dropped: ide_abort_done */
		if (ch->inflight)
			ch->aborted = ABORT_SRST;
		ch->xfer = XF_NONE;
		ch->dma_pending = false;
		for (int i = 0; i < 2; i++)
			ch->dr[i].tf.status = ch->dr[i].kind ? ST_BSY : 0;
	} else if (!(val & CTL_SRST) && (was & CTL_SRST) && !ch->inflight) {
		chan_reset(ch, false);
	}
	irq_update(ch);
}

static const struct hv_region_ops ctl_ops = {
	.min_access = 1, .max_access = 1, .read = ctl_read, .write = ctl_write,
};

/* PCI config 0x40-0x5f: IDETIM (0x40, 0x42: bit 15 enables a channel's
 * decode, which Linux's ata_piix checks), SIDETIM (0x44), UDMACTL (0x48),
 * UDMATIM (0x4a). Kept, not acted on: timings mean nothing here. */
static uint32_t cfg_read(struct hv_ctx *ctx, void *opaque, unsigned off,
			 unsigned size)
{
	struct ide_ctl *c = opaque;
	uint32_t v = 0;

	if (off < HV_PCI_CFG_LEGACY || off + size > HV_PCI_CFG_LEGACY + sizeof(c->cfg))
		return 0;
	memcpy(&v, c->cfg + (off - HV_PCI_CFG_LEGACY), size);
	return v;
}

static void cfg_write(struct hv_ctx *ctx, void *opaque, unsigned off,
		      unsigned size, uint32_t val)
{
	struct ide_ctl *c = opaque;

	if (off < HV_PCI_CFG_LEGACY || off + size > HV_PCI_CFG_LEGACY + sizeof(c->cfg))
		return;
	memcpy(c->cfg + (off - HV_PCI_CFG_LEGACY), &val, size);
}

static int drive_open(struct hv_ctx *ctx, struct ide_chan *ch, unsigned unit,
		      const char *key)
{
	struct ide_drive *d = &ch->dr[unit];
	const char *name = hv_config_get_str(ctx, key);

	if (!name || !*name)
		return 0;
	d->disk = hv_disk_attach(ctx, key);
	if (!d->disk) /* the core said why, in one line naming the key */
		return -EINVAL;
	hv_disk_info_get(ctx, d->disk, &d->info);
	snprintf(d->serial, sizeof(d->serial), "%s",
		 d->info.serial[0] ? d->info.serial : name);
	if (d->info.flags & HV_DISK_F_CDROM)
		return atapi_init(ch, d, name);
	d->kind = IDE_ATA;
	d->ss = d->info.logical_sector ? d->info.logical_sector : 512;
	d->nsec = d->info.size / d->ss;
	if (d->ss != 512 && d->ss != 4096) {
		hv_error(ctx, "%s = %s: %u-byte sectors: an ATA disk has 512 or 4096",
			 key, name, d->ss);
		return -EINVAL;
	}
	return 0;
}

static int ide_create(struct hv_ctx *ctx)
{
	struct ide_ctl *c = HV_STATE(ctx, struct ide_ctl);
	struct hv_pci_bar bars[6] = {
		[4] = { .size = 16, .flags = HV_PCI_BAR_IO, .ops = &bm_ops, .opaque = c },
	};
	struct hv_pci_info info = {
		.vendor = 0x8086, .device = 0x7010, .class_code = 0x010180,
		.bar = bars, .cfg_read = cfg_read, .cfg_write = cfg_write,
		.opaque = c,
	};
	int rc;

	c->ctx = ctx;
	for (unsigned i = 0; i < 2; i++) {
		struct ide_chan *ch = &c->ch[i];
		ch->c = c;
		ch->idx = i;
		ch->irq = chan_irq[i];
	}
	for (unsigned i = 0; i < 4; i++) {
		rc = drive_open(ctx, &c->ch[drive_keys[i].ch], drive_keys[i].unit,
				drive_keys[i].key);
		if (rc)
			return rc;
	}
	if ((rc = hv_pci_register(ctx, &info, &c->pci)))
		return rc;
	for (unsigned i = 0; i < 2; i++) {
		struct ide_chan *ch = &c->ch[i];
		ch->buf = hv_buf_alloc(ctx, IDE_BUF);
		if (!ch->buf) {
			hv_error(ctx, "no memory for the channel buffers");
			rc = -ENOMEM;
			goto out_free;
		}
		rc = hv_region_add(ctx, HV_SPACE_PIO, cmd_base[i], 8, &cmd_ops, ch, NULL);
		if (!rc)
			rc = hv_region_add(ctx, HV_SPACE_PIO, ctl_base[i], 1, &ctl_ops, ch, NULL);
		if (rc) {
			hv_error(ctx, "ports 0x%x/0x%x: %s (another IDE controller?)",
				 cmd_base[i], ctl_base[i], strerror(-rc));
			goto out_free;
		}
	}
	return 0;

out_free: /* destroy runs only after a create that succeeded */
	for (unsigned i = 0; i < 2; i++) {
		if (c->ch[i].buf)
			hv_buf_free(ctx, c->ch[i].buf);
		c->ch[i].buf = NULL;
	}
	return rc;
}

static void ide_destroy(struct hv_ctx *ctx)
{
	struct ide_ctl *c = HV_STATE(ctx, struct ide_ctl);

	for (int i = 0; i < 2; i++)
		if (c->ch[i].buf)
			hv_buf_free(ctx, c->ch[i].buf);
}

static void ide_reset(struct hv_ctx *ctx)
{
	struct ide_ctl *c = HV_STATE(ctx, struct ide_ctl);

	memset(c->cfg, 0, sizeof(c->cfg));
	/* IDETIM decode enable for both channels, as a BIOS leaves it */
	c->cfg[0x01] = 0x80;
	c->cfg[0x03] = 0x80;
	for (int i = 0; i < 2; i++) {
		struct ide_chan *ch = &c->ch[i];
		ch->ctl = 0;
		ch->bmic = 0;
		ch->bmis = 0;
		ch->prdt = 0;
		ch->inflight = false;
		ch->aborted = 0;
		chan_reset(ch, true);
		for (int u = 0; u < 2; u++)
			if (ch->dr[u].kind == IDE_ATAPI)
				scsi_lun_reset(&ch->dr[u].lun);
	}
}

/* The stream: version, config bytes, then per channel its registers and
 * the PIO buffer window, per drive its task file and settings (and the
 * SCSI unit's own stream for a CD). Saved paused: nothing in flight, a
 * command waiting for the bus master's start bit included. */
struct chan_state {
	uint8_t sel, ctl, intrq, cmd, xfer, write, dma_pending, bmic, bmis, prd_more;
	uint32_t prdt, left, blk, pos, end, fill, chunk, bcl;
	uint64_t lba;
	uint8_t cdb[12];
};
struct drive_state {
	struct ide_tf tf;
	uint8_t mult, xfer_mode, wcache, smart, standby;
	uint16_t heads, spt;
};

static void chan_pack(const struct ide_chan *ch, struct chan_state *s)
{
	memset(s, 0, sizeof(*s));
	s->sel = (uint8_t)ch->sel, s->ctl = ch->ctl, s->intrq = ch->intrq;
	s->cmd = ch->cmd, s->xfer = (uint8_t)ch->xfer, s->write = ch->write;
	s->dma_pending = ch->dma_pending, s->bmic = ch->bmic, s->bmis = ch->bmis;
	s->prd_more = ch->prd_more, s->prdt = ch->prdt, s->left = ch->left;
	s->blk = ch->blk, s->pos = ch->pos, s->end = ch->end, s->fill = ch->fill;
	s->chunk = ch->chunk, s->bcl = ch->bcl, s->lba = ch->lba;
	memcpy(s->cdb, ch->cdb, sizeof(s->cdb));
}

static int ide_save(struct hv_ctx *ctx, struct hv_state *st)
{
	struct ide_ctl *c = HV_STATE(ctx, struct ide_ctl);
	uint32_t v = STATE_VERSION;
	int rc = hv_state_write(ctx, st, &v, sizeof(v));

	rc = rc ? rc : hv_state_write(ctx, st, c->cfg, sizeof(c->cfg));
	for (int i = 0; i < 2 && !rc; i++) {
		struct ide_chan *ch = &c->ch[i];
		struct chan_state cs;
		chan_pack(ch, &cs);
		rc = hv_state_write(ctx, st, &cs, sizeof(cs));
		rc = rc ? rc : hv_state_write(ctx, st, ch->buf, ch->fill);
		for (int u = 0; u < 2 && !rc; u++) {
			struct ide_drive *d = &ch->dr[u];
			struct drive_state ds = { .tf = d->tf, .mult = d->mult,
				.xfer_mode = d->xfer_mode, .wcache = d->wcache,
				.smart = d->smart, .standby = d->standby,
				.heads = d->heads, .spt = d->spt };
			rc = hv_state_write(ctx, st, &ds, sizeof(ds));
			if (!rc && d->kind == IDE_ATAPI)
				rc = scsi_lun_save(&d->lun, st);
		}
	}
	return rc;
}

static int chan_restore(struct hv_ctx *ctx, struct ide_chan *ch,
			struct hv_state *st)
{
	struct chan_state s;
	int rc;

	if ((rc = hv_state_read(ctx, st, &s, sizeof(s))))
		return rc;
	if (s.fill > IDE_BUF || s.end > s.fill || s.pos > s.end || s.xfer > XF_PACKET ||
	    s.sel > 1 || s.bcl > 0xffff)
		return -EINVAL;
	ch->sel = s.sel, ch->ctl = s.ctl, ch->intrq = s.intrq, ch->cmd = s.cmd;
	ch->xfer = s.xfer, ch->write = s.write, ch->dma_pending = s.dma_pending;
	ch->bmic = s.bmic, ch->bmis = s.bmis, ch->prd_more = s.prd_more;
	ch->prdt = s.prdt, ch->left = s.left, ch->blk = s.blk, ch->pos = s.pos;
	ch->end = s.end, ch->fill = s.fill, ch->chunk = s.chunk, ch->bcl = s.bcl;
	ch->lba = s.lba;
	memcpy(ch->cdb, s.cdb, sizeof(s.cdb));
	if ((rc = hv_state_read(ctx, st, ch->buf, ch->fill)))
		return rc;
	for (int u = 0; u < 2; u++) {
		struct ide_drive *d = &ch->dr[u];
		struct drive_state ds;
		if ((rc = hv_state_read(ctx, st, &ds, sizeof(ds))))
			return rc;
		d->tf = ds.tf, d->mult = ds.mult, d->xfer_mode = ds.xfer_mode;
		d->wcache = ds.wcache, d->smart = ds.smart, d->standby = ds.standby;
		d->heads = ds.heads ? ds.heads : 16, d->spt = ds.spt ? ds.spt : 63;
		if (d->kind == IDE_ATAPI && (rc = scsi_lun_restore(&d->lun, st)))
			return rc;
	}
	irq_update(ch);
	return 0;
}

static int ide_restore(struct hv_ctx *ctx, struct hv_state *st)
{
	struct ide_ctl *c = HV_STATE(ctx, struct ide_ctl);
	uint32_t v;
	int rc;

	if ((rc = hv_state_read(ctx, st, &v, sizeof(v))))
		return rc;
	if (v != STATE_VERSION)
		return -EINVAL;
	if ((rc = hv_state_read(ctx, st, c->cfg, sizeof(c->cfg))))
		return rc;
	for (int i = 0; i < 2; i++)
		if ((rc = chan_restore(ctx, &c->ch[i], st)))
			return rc;
	return 0;
}

/* The drive a config key names, or NULL. */
static struct ide_drive *drive_by_key(struct ide_ctl *c, const char *key)
{
	for (unsigned i = 0; i < 4; i++)
		if (!strcmp(drive_keys[i].key, key))
			return &c->ch[drive_keys[i].ch].dr[drive_keys[i].unit];
	return NULL;
}

/*
 * Media change (hot-plug of a CD drive's [disk]): detach empties the tray
 * (NOT READY 3A/00, a media-removal event), attach loads a new medium
 * (UNIT ATTENTION 28/00, a new-media event): what the shared MMC unit does
 * for virtio-scsi's CD LUNs. The core has drained the channel first. ATA
 * disks are fixed: IDE has no hot-plug of drives.
 */
static int ide_backend_attach(struct hv_ctx *ctx, const char *key)
{
	struct ide_ctl *c = HV_STATE(ctx, struct ide_ctl);
	struct ide_drive *d = drive_by_key(c, key);
	const char *name = hv_config_get_str(ctx, key);
	struct hv_disk_info info;
	struct hv_disk *disk;

	if (!d || d->kind != IDE_ATAPI) {
		hv_error(ctx, "%s: only a CD-ROM drive configured at start changes media", key);
		return -EINVAL;
	}
	if (!(disk = hv_disk_attach(ctx, key)))
		return -ENODEV; /* the core said why */
	hv_disk_info_get(ctx, disk, &info);
	if (!(info.flags & HV_DISK_F_CDROM)) {
		hv_error(ctx, "%s = %s: not a CD/DVD medium (media = cdrom)", key, name);
		return -EINVAL;
	}
	d->disk = disk;
	d->info = info;
	return scsi_lun_set_medium(&d->lun, disk, name);
}

static void ide_backend_detach(struct hv_ctx *ctx, const char *key)
{
	struct ide_ctl *c = HV_STATE(ctx, struct ide_ctl);
	struct ide_drive *d = drive_by_key(c, key);

	if (!d || d->kind != IDE_ATAPI)
		return;
	scsi_lun_set_medium(&d->lun, NULL, NULL);
	d->disk = NULL;
}

static const struct hv_device_ops ops = {
	.create = ide_create,
	.destroy = ide_destroy,
	.reset = ide_reset,
	.save = ide_save,
	.restore = ide_restore,
	.backend_attach = ide_backend_attach,
	.backend_detach = ide_backend_detach,
};

static const struct hv_config_key keys[] = {
	HV_KEY_SECTION("primary_master", "disk", 0, "drive 0 of the primary channel (0x1f0, IRQ 14)"),
	HV_KEY_SECTION("primary_slave", "disk", 0, "drive 1 of the primary channel"),
	HV_KEY_SECTION("secondary_master", "disk", 0, "drive 0 of the secondary channel (0x170, IRQ 15)"),
	HV_KEY_SECTION("secondary_slave", "disk", 0, "drive 1 of the secondary channel"),
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(ide, device, &ops,
		 .version = "1.0",
		 .description = "PIIX3 IDE: ATA disks and ATAPI CD-ROMs, legacy ports, bus-master DMA",
		 .instance_size = sizeof(struct ide_ctl),
		 .keys = keys);
