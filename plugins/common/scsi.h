/* SPDX-License-Identifier: MIT */
/*
 * A SCSI logical unit over an hv_disk, independent of the transport that
 * carries the commands (virtio-scsi, IDE's ATAPI). Compiled into each
 * plugin that uses it, like dreq.c.
 *
 * Two kinds of unit:
 *   SCSI_LUN_DISK   an SBC direct-access block device (peripheral type 0)
 *                   whose block is the disk's logical sector;
 *   SCSI_LUN_CDROM  an MMC CD/DVD-ROM (type 5, removable, read-only,
 *                   2048-byte blocks) with a tray, a lock and media events.
 *
 * Threads and locks: every call runs under the owning device's domain
 * lock, on a vCPU thread (a region access) or the main thread. Nothing
 * here takes a lock, allocates, or logs on the I/O path.
 *
 * Requests: the transport owns struct scsi_req (preallocated slots, no
 * malloc per command), fills the "in" members and calls scsi_lun_submit().
 * The unit answers through req->done, exactly once, either from inside
 * scsi_lun_submit() (commands that need no disk I/O: INQUIRY, MODE SENSE,
 * errors...) or later from the disk's completion on the main thread. The
 * transport must not touch the request or its buffer until then. A unit
 * never holds a request after done() ran.
 *
 * Errors: CHECK CONDITION with fixed-format sense data (SPC-4 4.5.3, 18
 * bytes, response code 0x70) in req->sense; the unit also keeps it for a
 * following REQUEST SENSE.
 */
#ifndef HV_PLUGINS_SCSI_H
#define HV_PLUGINS_SCSI_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <hv/hv.h>

#define SCSI_CDB_MAX 32
#define SCSI_SENSE_LEN 18  /* fixed format, what we produce */
#define SCSI_MAX_IOV 256   /* data buffer segments one request may have */

/* SAM status codes */
#define SCSI_STATUS_GOOD 0x00
#define SCSI_STATUS_CHECK_CONDITION 0x02
#define SCSI_STATUS_BUSY 0x08

/* sense keys */
#define SCSI_SK_NO_SENSE 0x0
#define SCSI_SK_NOT_READY 0x2
#define SCSI_SK_MEDIUM_ERROR 0x3
#define SCSI_SK_HARDWARE_ERROR 0x4
#define SCSI_SK_ILLEGAL_REQUEST 0x5
#define SCSI_SK_UNIT_ATTENTION 0x6
#define SCSI_SK_DATA_PROTECT 0x7
#define SCSI_SK_ABORTED_COMMAND 0xb

enum scsi_lun_type { SCSI_LUN_DISK = 0, SCSI_LUN_CDROM = 5 };

/* What the transport's data buffer is. */
enum scsi_dir { SCSI_DIR_NONE = 0, SCSI_DIR_IN, SCSI_DIR_OUT };

struct scsi_req;
typedef void (*scsi_done_fn)(struct hv_ctx *ctx, struct scsi_req *req);

/*
 * One command. The private part at the end is the unit's while the
 * request is in flight (a disk request, a trimmed copy of the iov, a
 * one-block buffer for WRITE SAME): slots are big (about 8 KiB) but
 * never allocated per command.
 */
struct scsi_req {
	/* ---- in: the transport's ---- */
	uint8_t cdb[SCSI_CDB_MAX];
	uint32_t cdb_len;        /* bytes of cdb that are valid */
	enum scsi_dir dir;       /* what iov is: data-in (device writes it),
				  * data-out (device reads it) or none */
	const struct iovec *iov; /* the data buffer, already mapped (hv_dma);
				  * host memory that stays valid until done */
	int iovcnt;
	uint32_t data_len;       /* bytes in iov: the most the initiator
				  * allows to move; may differ from what the
				  * CDB asks (allocation lengths truncate) */
	scsi_done_fn done;
	void *opaque;            /* the transport's */

	/* ---- out: valid in done() ---- */
	uint8_t status;          /* SCSI_STATUS_* */
	bool overrun;            /* the CDB asked to move more than data_len
				  * (or the wrong way): nothing moved, status
				  * is CHECK CONDITION 24/00; a transport with
				  * its own code for it (virtio-scsi's
				  * OVERRUN) may report that instead */
	uint32_t xfer;           /* bytes moved to or from iov */
	uint32_t resid;          /* data_len - xfer */
	uint8_t sense_len;       /* 0, or SCSI_SENSE_LEN with CHECK CONDITION */
	uint8_t sense[SCSI_SENSE_LEN];

	/* ---- private: the unit's while in flight ---- */
	struct {
		struct scsi_lun *lun;
		struct hv_disk_req dreq;
		uint32_t kind;      /* which state machine is running */
		uint32_t flags;
		uint64_t lba, nblocks, pos; /* progress through the command */
		struct iovec iov[SCSI_MAX_IOV];
		uint8_t blk[4096];  /* WRITE SAME's block, UNMAP's descriptors */
	} p;
};

/*
 * One logical unit: the transport embeds it (one per LUN of its table)
 * and never reads or writes its members.
 */
struct scsi_lun {
	struct hv_ctx *ctx;
	struct hv_disk *disk;  /* NULL: no medium (a CD tray left empty) */
	enum scsi_lun_type type;
	uint32_t block;        /* bytes per SCSI block: 512/4096 or 2048 */
	uint32_t phys_exp;     /* log2(physical sector / block) */
	uint64_t blocks;       /* capacity in blocks; 0 without medium */
	uint32_t disk_flags;   /* HV_DISK_F_* of the medium */
	char serial[24];       /* VPD 0x80, hv_disk_info.serial */
	char name[24];         /* the config section: VPD 0x83 vendor id */
	uint32_t inflight;     /* requests submitted, done() not yet run */
	/* the transport may lower or set these after scsi_lun_init: */
	uint32_t max_xfer;     /* blocks per command (VPD 0xB0); longer
				* READ/WRITEs get 24/00 */
	uint16_t iface;        /* GET CONFIGURATION's physical interface:
				* 1 SCSI (the default), 2 ATAPI */

	/* guest-visible state (saved by scsi_lun_save) */
	uint8_t ua_asc, ua_ascq;  /* pending unit attention; asc 0 = none */
	uint8_t sense[SCSI_SENSE_LEN]; /* for REQUEST SENSE; key 0 = none */
	bool wce;              /* write cache enabled (MODE SELECT can clear) */
	bool locked;           /* PREVENT ALLOW MEDIUM REMOVAL */
	bool tray_open;        /* CD: ejected by the guest (LoEj) */
	uint8_t media_event;   /* CD: pending GESN media event code, 0 none */
};

/*
 * Initialise `lun` over `disk` (may be NULL for an empty CD drive).
 * type SCSI_LUN_CDROM wants a disk with hv_disk_info's HV_DISK_F_CDROM;
 * scsi_lun_type_of() picks it. name: the disk's section name (VPD 0x83;
 * serial falls back to it). Starts with a power-on unit attention (29/00).
 * 0, or -EINVAL when the disk cannot back this type (a CD over a disk
 * whose sector does not divide 2048, a size that is not a whole number of
 * blocks). Main thread (device create or backend_attach).
 */
int scsi_lun_init(struct scsi_lun *lun, struct hv_ctx *ctx,
		  struct hv_disk *disk, enum scsi_lun_type type,
		  const char *name);

/* SCSI_LUN_CDROM when the disk's info has HV_DISK_F_CDROM, else DISK. */
enum scsi_lun_type scsi_lun_type_of(struct hv_ctx *ctx, struct hv_disk *disk);

/* Run one command (see the top of this file for when done() runs). */
void scsi_lun_submit(struct scsi_lun *lun, struct scsi_req *req);

/* Requests of this unit in flight (submitted, done() not yet run): a
 * transport answers a task management function (LUN reset, abort) once
 * this reaches zero, as virtio-scsi and SAM want. */
static inline uint32_t scsi_lun_busy(const struct scsi_lun *lun)
{
	return lun->inflight;
}

/* Device reset or LUN reset, no request in flight: unit attention 29/00,
 * medium unlocked, WCE back to its default, sense cleared. */
void scsi_lun_reset(struct scsi_lun *lun);

/*
 * Hot-plug of the medium (CD-ROM: backend_detach / backend_attach): disk
 * NULL empties the drive (NOT READY 3A/00 from then on, a media removal
 * event); a disk loads a new medium (unit attention 28/00, a new-media
 * event). No request may be in flight (the core drains first). 0 or
 * -EINVAL as scsi_lun_init.
 */
int scsi_lun_set_medium(struct scsi_lun *lun, struct hv_disk *disk,
			const char *name);

/*
 * Helpers for the transport, which owns the LUN table. Both complete the
 * request from inside the call.
 *   scsi_report_luns: answer REPORT LUNS (opcode 0xA0) with the sorted
 *     list `luns` (SAM single-level addressing: peripheral for < 256,
 *     flat space above).
 *   scsi_no_lun: a command for an absent LUN of a present target:
 *     INQUIRY gets peripheral qualifier 3 / type 0x1F, REQUEST SENSE gets
 *     sense data 25/00, anything else CHECK CONDITION ILLEGAL REQUEST,
 *     LOGICAL UNIT NOT SUPPORTED (25/00).
 */
void scsi_report_luns(struct hv_ctx *ctx, struct scsi_req *req,
		      const uint16_t *luns, unsigned n);
void scsi_no_lun(struct hv_ctx *ctx, struct scsi_req *req);

/* The opcode of REPORT LUNS, which a transport answers itself. */
#define SCSI_OP_REPORT_LUNS 0xa0

/* Save/restore the guest-visible state (versioned stream). Paused, no
 * request in flight. restore: 0 or -EINVAL for a stream it does not know. */
int scsi_lun_save(struct scsi_lun *lun, struct hv_state *st);
int scsi_lun_restore(struct scsi_lun *lun, struct hv_state *st);

#endif
