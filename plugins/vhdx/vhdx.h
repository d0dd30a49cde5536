/* SPDX-License-Identifier: MIT */
/*
 * VHDX (MS-VHDX v1.0): on-disk layout and the plugin's private state.
 * All on-disk integers are little-endian; hv runs on x86 only, so the
 * structures below are read and written in place.
 */
#ifndef HV_VHDX_H
#define HV_VHDX_H

#include <stdint.h>

#include <hv/hv.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian host");

#define KiB 1024ull
#define MiB (1024 * KiB)

#define VHDX_HEADER1	     (64 * KiB)
#define VHDX_HEADER2	     (128 * KiB)
#define VHDX_REGION1	     (192 * KiB)
#define VHDX_REGION2	     (256 * KiB)
#define VHDX_REGION_SIZE     (64 * KiB)
#define VHDX_META_TABLE_SIZE (64 * KiB)

typedef struct {
	uint8_t b[16];
} guid_t;

struct __attribute__((packed)) vhdx_header {
	uint32_t sig; /* "head" */
	uint32_t checksum;
	uint64_t seq;
	guid_t file_write_guid, data_write_guid, log_guid;
	uint16_t log_version, version;
	uint32_t log_length;
	uint64_t log_offset;
	uint8_t reserved[4016];
};

struct __attribute__((packed)) vhdx_region_hdr {
	uint32_t sig; /* "regi" */
	uint32_t checksum;
	uint32_t count;
	uint32_t reserved;
};

struct __attribute__((packed)) vhdx_region_entry {
	guid_t guid;
	uint64_t offset;
	uint32_t length;
	uint32_t required; /* bit 0 */
};

struct __attribute__((packed)) vhdx_meta_hdr {
	uint64_t sig; /* "metadata" */
	uint16_t reserved;
	uint16_t count;
	uint8_t reserved2[20];
};

struct __attribute__((packed)) vhdx_meta_entry {
	guid_t id;
	uint32_t offset, length;
	uint32_t flags; /* bit 0 user, 1 virtual disk, 2 required */
	uint32_t reserved;
};

struct __attribute__((packed)) vhdx_log_hdr {
	uint32_t sig; /* "loge" */
	uint32_t checksum;
	uint32_t entry_length;
	uint32_t tail;
	uint64_t seq;
	uint32_t desc_count;
	uint32_t reserved;
	guid_t log_guid;
	uint64_t flushed_file_offset;
	uint64_t last_file_offset;
};

struct __attribute__((packed)) vhdx_log_desc {
	uint32_t sig;	   /* "desc" or "zero" */
	uint32_t trailing; /* data: the sector's last 4 bytes */
	uint64_t leading;  /* data: first 8 bytes; zero: ZeroLength */
	uint64_t file_offset;
	uint64_t seq;
};

struct __attribute__((packed)) vhdx_log_data {
	uint32_t sig; /* "data" */
	uint32_t seq_high;
	uint8_t data[4084];
	uint32_t seq_low;
};

#define SIG4(a, b, c, d)                                            \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | \
	 (uint32_t)(d) << 24)
#define SIG_HEAD SIG4('h', 'e', 'a', 'd')
#define SIG_REGI SIG4('r', 'e', 'g', 'i')
#define SIG_LOGE SIG4('l', 'o', 'g', 'e')
#define SIG_DESC SIG4('d', 'e', 's', 'c')
#define SIG_ZERO SIG4('z', 'e', 'r', 'o')
#define SIG_DATA SIG4('d', 'a', 't', 'a')
#define SIG_META 0x617461646174656dull /* "metadata" */

/* BAT entry states (low 3 bits); the file offset in MiB is bits 20..63 */
enum {
	PB_NOT_PRESENT = 0,
	PB_UNDEFINED = 1,
	PB_ZERO = 2,
	PB_UNMAPPED = 3,
	PB_FULLY_PRESENT = 6,
	PB_PARTIALLY_PRESENT = 7,
	SB_NOT_PRESENT = 0,
	SB_PRESENT = 6,
};
#define BAT_STATE(e)	     ((unsigned)((e)&7))
#define BAT_OFF(e)	     ((e) & ~((1ull << 20) - 1))
#define BAT_MAKE(state, off) ((uint64_t)(state) | (off))

/* guid.c */
extern const guid_t GUID_BAT, GUID_METADATA, GUID_FILE_PARAMS, GUID_VSIZE,
	GUID_DISK_ID, GUID_LSS, GUID_PSS, GUID_PARENT_LOC, GUID_PARENT_LOC_OLD,
	GUID_LOC_TYPE;
void guid_random(guid_t *g);
int guid_is_zero(const guid_t *g);
int guid_parse(const char *s, guid_t *g);
void guid_format(const guid_t *g, char *buf);

/* One metadata page waiting for the next log commit. */
struct vpage {
	uint64_t off;
	uint8_t *buf; /* 4096 bytes, owned */
};

/* What a read-only open replayed from the log: one 4 KiB sector, or (a
 * zero descriptor) a range of zeroes. Applied in log order over every read
 * of the file, so the file itself is never written. */
struct vovl {
	uint64_t off, len;
	uint8_t *data; /* len bytes, owned; NULL: zeroes */
};

/* One file of a chain. */
struct vimg {
	struct hv_ctx *ctx;
	struct hv_file *f;
	char *path;
	int readonly;
	uint64_t file_size;

	struct vhdx_header hdr; /* the current one */
	int cur;		/* 0: header 1 at 64 KiB, 1: header 2 */
	int hdr_bad[2];		/* CRC or signature failed (check reports) */
	int region_mismatch;	/* region table 2 differs from 1 */
	int replayed;		/* the log was replayed at open */
	struct vovl *ovl;	/* read-only: the replay, in memory */
	size_t novl;

	uint64_t bat_off, meta_off;
	uint32_t bat_len, meta_len;
	uint32_t block_size, lsec, psec;
	int leave_allocated, has_parent;
	uint64_t vsize;
	guid_t disk_id;
	uint64_t vsize_item_off; /* file offset of the virtual size item */

	uint64_t chunk_ratio, nblocks, nchunks, nbat;
	uint64_t *bat;
	uint8_t *bat_dirty; /* one byte per 4 KiB BAT page */
	uint8_t **sb;	    /* sector bitmaps, loaded on demand, 1 MiB each */
	uint8_t *sb_dirty;  /* nchunks * 256 bytes */

	uint64_t old_loc_entry; /* file offset of a parent locator entry
				 * under GUID_PARENT_LOC_OLD, or 0 */
	guid_t parent_linkage, parent_linkage2;
	int has_linkage2;
	char *parent_path; /* resolved; the core opens and links it */

	/* writer */
	int session; /* header rewritten with a fresh LogGuid */
	uint64_t log_seq;
	uint64_t alloc_end; /* first free MiB-aligned offset */
	struct vpage *pages;
	int npages;
	int meta_dirty;
};

struct vhdx {
	struct vimg *top;
	int readonly;
	uint8_t *zero_block; /* 1 MiB of zeroes for zero-filling reused space */
};

/* vhdx.c */
int vimg_open(struct hv_ctx *ctx, const char *path, int readonly,
	      struct vimg **out);
void vimg_close(struct vimg *im);
uint64_t vimg_bat_index(const struct vimg *im, uint64_t block);
uint64_t vimg_sb_index(const struct vimg *im, uint64_t chunk);
int vimg_load_sb(struct vimg *im, uint64_t chunk);
int vimg_write_header(struct vimg *im, const guid_t *log_guid);

/* log.c */
/* Read-write: replays the log into the file and empties it. Read-only:
 * replays it into im->ovl and leaves the file alone. */
int vlog_replay(struct vimg *im);
/* hv_file_pread of the file as replayed: the overlay applied, zeroes up
 * to the replayed file size. */
int64_t vimg_pread(struct vimg *im, void *buf, size_t len, uint64_t off);
/* Does the overlay touch [off, off+len)? */
int vimg_ovl_hits(const struct vimg *im, uint64_t off, uint64_t len);
int vlog_commit(struct vimg *im);

/* io.c */
int vhdx_submit(struct hv_ctx *ctx, struct hv_disk_req *req);
int vimg_begin_write(struct vimg *im);
void vimg_mark_bat(struct vimg *im, uint64_t idx);
int vimg_add_page(struct vimg *im, uint64_t off, const void *buf);

/* create.c */
int vhdx_create(struct hv_ctx *ctx, const char *path,
		const struct hv_disk_create *o);

#endif
