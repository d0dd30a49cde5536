/* SPDX-License-Identifier: MIT */
/*
 * hv SDK: disk format plugins (raw, VHD, VHDX).
 *
 * A [disk NAME] section names its file with path= and its plugin with
 * format=; without format= the core reads the file's first 64 KiB and asks
 * every disk plugin's probe for a score, taking the highest.
 *
 * probe runs on the main thread with no lock and no instance. Every other
 * op runs on the main thread with the domain lock of the device the disk
 * is attached to (its own lock for `hv img`, and for a parent layer the
 * core opened for a differencing child: a shared parent has one domain of
 * its own). File I/O goes through the hv_file_* services, whose
 * completions come back the same way. Lifetime: a parent layer lives as
 * long as the last child linking it; the core closes it after the child.
 */
#ifndef HV_DISK_H
#define HV_DISK_H

#include "hv/host.h"

#define HV_DISK_OPEN_RDONLY 0x1u

#define HV_DISK_CREATE_FIXED 0x1u /* allocate every block now */

struct hv_disk_create {
	uint64_t size;            /* virtual size, bytes */
	uint32_t logical_sector;  /* 0: the format's default */
	uint32_t physical_sector; /* 0: the format's default */
	uint32_t block_size;      /* 0: the format's default */
	uint32_t flags;           /* HV_DISK_CREATE_* */
	const char *parent;       /* differencing: the parent's path, or NULL */
};

/* Chains: filled by the child's backing op; the core zeroes the struct and
 * sets size (the members below it may grow at the end). */
#define HV_DISK_MAX_CHAIN    32  /* images in one chain, the top included */
#define HV_DISK_BACKING_ALT  0x1u /* id_alt is also acceptable */
struct hv_disk_backing {
	uint32_t size;	     /* sizeof as the core knows it */
	uint32_t flags;	     /* HV_DISK_BACKING_* */
	char path[4096];     /* resolved; "" = no parent */
	char format[32];     /* the parent's plugin, "" = probe */
	uint8_t id[16];	     /* identity the child expects */
	uint8_t id_alt[16];  /* with HV_DISK_BACKING_ALT */
	char id_name[32];    /* what the id is, for messages ("DataWriteGuid") */
};
struct hv_disk_ident {
	uint32_t size;	     /* set by the core */
	uint32_t stamp;	     /* informative (VHD: creation time) */
	uint8_t id[16];
};

struct hv_disk_check {
	uint64_t errors;   /* inconsistencies found */
	uint64_t repaired; /* of which repaired (with HV_DISK_CHECK_REPAIR) */
	uint64_t leaks;    /* allocated space nothing points at */
	char first_error[160];
};
#define HV_DISK_CHECK_REPAIR 0x1u

/* hv_disk_ops.map status bits */
#define HV_DISK_MAP_DATA 0x1u /* the range holds data in this image */
#define HV_DISK_MAP_ZERO 0x2u /* the range reads as zeroes */

struct hv_disk_ops {
	/* ---- v2.0 ---- */
	/* 0 (not mine) to 100 (certainly mine) from the file's first bytes. */
	int (*probe)(const void *head, size_t len, uint64_t file_size);
	/* Open path: read and verify all metadata now; a corrupt image is
	 * refused here with an hv_error() naming what is wrong. */
	int (*open)(struct hv_ctx *ctx, const char *path, unsigned flags);
	/* Flush and release. */
	void (*close)(struct hv_ctx *ctx);
	void (*info)(struct hv_ctx *ctx, struct hv_disk_info *info);
	/* Start a request; finish it with hv_disk_complete() (allowed inside
	 * submit: the core defers the device's done()). 0, or -errno (then no
	 * completion). The core has already checked the range against
	 * info.size, its alignment, and read-only. */
	int (*submit)(struct hv_ctx *ctx, struct hv_disk_req *req);
	/* Create a new image (ctx is fresh, unopened). Optional. */
	int (*create)(struct hv_ctx *ctx, const char *path,
		      const struct hv_disk_create *opts);
	/* The parent's path for differencing images, "" otherwise. Optional. */
	int (*parent)(struct hv_ctx *ctx, char *buf, size_t len);
	/* Verify (and with HV_DISK_CHECK_REPAIR repair) metadata. Optional. */
	int (*check)(struct hv_ctx *ctx, unsigned flags, struct hv_disk_check *res);
	/* Allocation of [offset, offset+len): *pnum bytes from offset share the
	 * *status returned. Optional. */
	int (*map)(struct hv_ctx *ctx, uint64_t offset, uint64_t len,
		   uint64_t *pnum, uint32_t *status);
	/* Change the virtual size. Optional. */
	int (*resize)(struct hv_ctx *ctx, uint64_t size);

	/* Core-owned chains (docs/disk.md). Both optional: a format without
	 * them keeps whatever chain handling it does itself.
	 *
	 * backing: called once right after a successful open. 0 with
	 * b->path[0] == 0: no parent. 0 with a path: the core opens that
	 * file as its own read-only disk instance (probing its format, or
	 * b->format when set), links it below this one and checks that its
	 * identity op returns b->id (or b->id_alt with
	 * HV_DISK_BACKING_ALT), its virtual size and logical sector equal
	 * this image's, and that the chain neither loops nor runs deeper
	 * than HV_DISK_MAX_CHAIN. -errno after an hv_error() naming what
	 * is wrong (a parent none of the stored locators finds: -ENOENT).
	 * The path is already resolved the format's way (relative to the
	 * child, Windows separators turned, the first candidate that
	 * exists). Reads of ranges this layer does not hold go to the
	 * parent with hv_disk_backing_submit().
	 *
	 * identity: what a child made from this image records as its
	 * parent's identity (VHDX: DataWriteGuid; VHD: the footer's unique
	 * id). 0 or -errno. */
	int (*backing)(struct hv_ctx *ctx, struct hv_disk_backing *b);
	int (*identity)(struct hv_ctx *ctx, struct hv_disk_ident *id);
	/* ---- v2.1 and later: new ops here, each minor's block marked ---- */
};

/* Sub-request of a layer to its parent: req's bytes are read from the
 * parent at req->offset (virtual offsets are shared by the whole chain).
 * Only HV_DISK_READ. Call from a disk op (domain lock held), on any
 * thread that may submit. The parent's op runs later on the main thread
 * under the parent's own lock (a shared parent has its own domain); done
 * runs on the main thread under the caller's domain lock, never inside
 * this call. req must stay valid until done. 0, or -errno (no done):
 * -ENXIO when no parent is linked, -ENOSYS from a core without chains. */
HV_MUST_CHECK static inline int
hv_disk_backing_submit(struct hv_ctx *ctx, struct hv_disk_req *req)
{
	if (!HV_HOST_HAS(ctx, disk_backing_submit))
		return -ENOSYS;
	req->size = sizeof(*req);
	return ctx->host->disk_backing_submit(ctx, req);
}

#endif
