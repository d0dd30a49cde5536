/* SPDX-License-Identifier: MIT */
/*
 * PIIX3 IDE (plugins/ide): the state shared by its files.
 *
 *   ide.c    the PCI function, the legacy ports, register file, reset,
 *            save/restore, the plugin descriptor
 *   ata.c    the ATA command set (IDENTIFY, PIO and DMA reads/writes...)
 *   atapi.c  the PACKET protocol over plugins/common/scsi (CD-ROM)
 *   bmdma.c  the bus master: BMIC/BMIS/PRD table, the PRD walk
 *
 * Every function runs under the device's domain lock, on a vCPU thread
 * (a register access) or on the main thread (a disk completion). A
 * channel has at most one command in flight: its disk or SCSI request
 * lives in the channel, preallocated.
 */
#ifndef HV_PLUGINS_IDE_H
#define HV_PLUGINS_IDE_H

#include <stdbool.h>
#include <stdint.h>

#include <hv/hv.h>

#include "../common/scsi.h"

/* status register */
#define ST_BSY 0x80
#define ST_DRDY 0x40
#define ST_DF 0x20
#define ST_DSC 0x10
#define ST_DRQ 0x08
#define ST_ERR 0x01
/* error register */
#define ER_UNC 0x40
#define ER_IDNF 0x10
#define ER_ABRT 0x04
/* device control */
#define CTL_NIEN 0x02
#define CTL_SRST 0x04
#define CTL_HOB 0x80
/* bus master */
#define BMIC_START 0x01
#define BMIC_READ 0x08 /* the bus master writes memory (a device read) */
#define BMIS_ACTIVE 0x01
#define BMIS_ERROR 0x02
#define BMIS_INTR 0x04
#define BMIS_DMA_CAP 0x60 /* drive 0/1 DMA capable: software's bits */
/* ATAPI interrupt reason (the sector count register) */
#define IR_COD 0x01
#define IR_IO 0x02

#define IDE_BUF (256u * 1024) /* PIO bounce buffer of a channel */
#define IDE_MAX_IOV 512       /* a DMA transfer's mapped segments */
#define IDE_MAX_PRD 8192      /* a PRD table may not cross 64 KiB */
#define IDE_ATAPI_MAX_DMA (16u << 20) /* ATAPI has no count: cap a table */

enum ide_kind { IDE_NONE = 0, IDE_ATA, IDE_ATAPI };
enum ide_xfer { XF_NONE = 0, XF_PIO_IN, XF_PIO_OUT, XF_DMA, XF_PACKET };

/* The task file: each drive latches every write, the selected one reads. */
struct ide_tf {
	uint8_t feat, nsect, lbal, lbam, lbah;
	uint8_t hob_feat, hob_nsect, hob_lbal, hob_lbam, hob_lbah;
	uint8_t dev, status, error;
};

struct ide_drive {
	enum ide_kind kind;
	struct hv_disk *disk;
	struct hv_disk_info info;
	uint32_t ss;      /* logical sector bytes */
	uint64_t nsec;    /* capacity in sectors */
	struct ide_tf tf;
	uint8_t mult;     /* READ/WRITE MULTIPLE block (0: not set) */
	uint8_t xfer_mode; /* SET FEATURES 03h value (0: default PIO) */
	bool wcache, smart, standby;
	struct scsi_lun lun; /* ATAPI */
	char serial[24];
	uint16_t heads, spt; /* INITIALIZE DEVICE PARAMETERS geometry */
};

struct ide_ctl;

struct ide_chan {
	struct ide_ctl *c;
	unsigned idx, irq;
	struct ide_drive dr[2];
	unsigned sel;
	uint8_t ctl;
	bool intrq;
	/* the command in progress */
	uint8_t cmd;
	enum ide_xfer xfer;
	bool write, inflight, dma_pending;
	uint8_t aborted; /* a reset came while a request was in flight */
	uint64_t lba;  /* next sector to or from the disk */
	uint32_t left; /* sectors not yet moved to or from the disk */
	uint32_t blk;  /* DRQ block, sectors */
	uint8_t *buf;  /* IDE_BUF, hv_buf_alloc */
	uint32_t pos, end, fill; /* DRQ window [pos, end) of fill bytes */
	uint32_t chunk;          /* sectors of the disk request in buf */
	/* bus master */
	uint8_t bmic, bmis;
	uint32_t prdt;
	bool prd_more; /* the PRD table is longer than the transfer */
	struct hv_disk_req req;
	struct hv_dma dma;
	struct iovec iov[IDE_MAX_IOV];
	/* ATAPI */
	uint8_t cdb[12];
	uint32_t bcl; /* byte count limit of the PIO data phase */
	struct scsi_req sreq;
};

struct ide_ctl {
	struct hv_ctx *ctx;
	struct hv_pci_dev *pci;
	struct ide_chan ch[2];
	uint8_t cfg[0x20]; /* PCI config 0x40-0x5f: IDETIM, SIDETIM, UDMA */
};

static inline struct ide_drive *cur(struct ide_chan *ch)
{
	return &ch->dr[ch->sel];
}

/* ide.c */
void ide_irq_raise(struct ide_chan *ch);
void ide_set_signature(struct ide_drive *d);
void ide_cmd_done(struct ide_chan *ch, uint8_t status, uint8_t error);
void ide_abort_done(struct ide_chan *ch);

#define ABORT_SRST 1
#define ABORT_DEVICE_RESET 2

/* ata.c */
void ata_exec(struct ide_chan *ch, uint8_t cmd);
void ata_data_done(struct ide_chan *ch);
void ata_dma_start(struct ide_chan *ch);
void ata_pad_string(uint16_t *w, const char *s, unsigned words);
void ata_id_checksum(uint16_t *id);

/* atapi.c */
int atapi_init(struct ide_chan *ch, struct ide_drive *d, const char *name);
void atapi_packet(struct ide_chan *ch);
void atapi_identify(struct ide_chan *ch, struct ide_drive *d);
void atapi_cdb_done(struct ide_chan *ch);
void atapi_data_done(struct ide_chan *ch);
void atapi_dma_start(struct ide_chan *ch);

/* bmdma.c */
extern const struct hv_region_ops bm_ops;
int bm_map(struct ide_chan *ch, uint64_t need, bool exact);
void bm_finish(struct ide_chan *ch, uint64_t written, bool ok);
void bm_fail(struct ide_chan *ch);
void bm_try_start(struct ide_chan *ch);

#endif
