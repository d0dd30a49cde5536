/* SPDX-License-Identifier: MIT */
/*
 * The PIIX bus master (SFF-8038i): per channel BMIC (command: start,
 * direction), BMIS (status: active, error, interrupt; write 1 to clear
 * the last two; the drives' DMA-capable bits are the software's) and the
 * PRD table's address, in BAR4 (16 bytes: primary at 0, secondary at 8).
 *
 * A DMA command waits for both the command and the start bit, in either
 * order. The PRD table is read from guest memory entry by entry (address,
 * byte count with 0 meaning 64 KiB, EOT in bit 31), and each entry is
 * mapped with hv_dma: an entry outside RAM, an odd address or count, a
 * table without EOT in IDE_MAX_PRD entries, a table shorter than the
 * transfer, or bus mastering off in the PCI command register all end the
 * command with BMIS's error bit and ERR/ABRT in the drive's status.
 */
#include <errno.h>

#include "ide.h"

/* Map the PRD table onto the channel's hv_dma, need bytes of it (exact:
 * the transfer must be need bytes; else up to need, ATAPI's case). The
 * direction is BMIC's. 0 or -errno; on error nothing stays mapped. */
int bm_map(struct ide_chan *ch, uint64_t need, bool exact)
{
	struct hv_ctx *ctx = ch->c->ctx;
	unsigned dir = ch->bmic & BMIC_READ ? HV_DMA_FROM_DEVICE : HV_DMA_TO_DEVICE;
	uint64_t got = 0;
	int rc = -EINVAL;

	hv_dma_init(&ch->dma, ch->iov, IDE_MAX_IOV);
	ch->prd_more = false;
	if (!(hv_pci_command_get(ctx, ch->c->pci) & HV_PCI_CMD_MASTER))
		return -EPERM;
	for (unsigned i = 0; i < IDE_MAX_PRD; i++) {
		uint32_t e[2];
		uint64_t cnt, take;

		if ((rc = hv_mem_read(ctx, (ch->prdt & ~3u) + 8ull * i, e, sizeof(e))))
			goto out_unmap;
		cnt = e[1] & 0xffff ? e[1] & 0xffff : 0x10000;
		if ((e[0] & 1) || (cnt & 1)) {
			rc = -EINVAL;
			goto out_unmap;
		}
		take = cnt < need - got ? cnt : need - got;
		if (take && (rc = hv_dma_add(ctx, &ch->dma, e[0], take, dir)) < 0)
			goto out_unmap;
		got += take;
		if (got == need) {
			ch->prd_more = !(e[1] >> 31) || take < cnt;
			return 0;
		}
		if (e[1] >> 31)
			break;
	}
	if (!exact && got)
		return 0;
	rc = -EINVAL;
out_unmap:
	hv_dma_unmap(ctx, &ch->dma, 0);
	return rc;
}

/* The transfer is over: unmap (written bytes went to memory), and BMIS
 * says so (active stays up when the table was longer than the transfer,
 * as on the PIIX). */
void bm_finish(struct ide_chan *ch, uint64_t written, bool ok)
{
	hv_dma_unmap(ch->c->ctx, &ch->dma, ch->bmic & BMIC_READ ? written : 0);
	if (!ok || !ch->prd_more)
		ch->bmis &= ~BMIS_ACTIVE;
	if (!ok)
		ch->bmis |= BMIS_ERROR;
}

/* A PRD fault or bus mastering off: nothing moved. */
void bm_fail(struct ide_chan *ch)
{
	ch->bmis = (ch->bmis & ~BMIS_ACTIVE) | BMIS_ERROR;
	ch->dma_pending = false;
	ide_cmd_done(ch, ST_DRDY | ST_ERR, ER_ABRT);
}

/* Run a pending DMA command once the guest has started the bus master. */
void bm_try_start(struct ide_chan *ch)
{
	if (!ch->dma_pending || !(ch->bmic & BMIC_START) || ch->inflight)
		return;
	ch->dma_pending = false;
	ch->bmis |= BMIS_ACTIVE;
	if (cur(ch)->kind == IDE_ATAPI)
		atapi_dma_start(ch);
	else
		ata_dma_start(ch);
}

static uint64_t bm_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			unsigned size)
{
	struct ide_ctl *c = opaque;
	struct ide_chan *ch = &c->ch[off >> 3];
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++) {
		unsigned r = (unsigned)(off + i) & 7;
		uint8_t b = 0;
		switch (r) {
		case 0: b = ch->bmic; break;
		case 2: b = ch->bmis; break;
		case 4 ... 7: b = (uint8_t)(ch->prdt >> (8 * (r - 4))); break;
		}
		v |= (uint64_t)b << (8 * i);
	}
	return v;
}

static void bm_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		     unsigned size, uint64_t val)
{
	struct ide_ctl *c = opaque;
	struct ide_chan *ch = &c->ch[off >> 3];

	for (unsigned i = 0; i < size; i++) {
		unsigned r = (unsigned)(off + i) & 7;
		uint8_t b = (uint8_t)(val >> (8 * i));
		switch (r) {
		case 0:
			/* stopping ends the bus master's part; a request in
			 * flight still completes into its mapping */
			if (!(b & BMIC_START))
				ch->bmis &= ~BMIS_ACTIVE;
			else if (!(ch->bmic & BMIC_START))
				ch->bmis |= BMIS_ACTIVE;
			/* the direction is fixed while the engine runs */
			if (ch->bmic & BMIC_START)
				b = (uint8_t)((b & BMIC_START) | (ch->bmic & BMIC_READ));
			ch->bmic = b & (BMIC_START | BMIC_READ);
			break;
		case 2:
			ch->bmis = (uint8_t)((ch->bmis & ~(b & (BMIS_ERROR | BMIS_INTR)) &
					      ~BMIS_DMA_CAP) | (b & BMIS_DMA_CAP));
			break;
		case 4 ... 7: {
			unsigned sh = 8 * (r - 4);
			ch->prdt = (ch->prdt & ~(0xffu << sh)) | (uint32_t)b << sh;
			ch->prdt &= ~3u;
			break;
		}
		}
	}
	bm_try_start(ch);
}

const struct hv_region_ops bm_ops = {
	.min_access = 1, .max_access = 4, .read = bm_read, .write = bm_write,
};
