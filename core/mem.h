/*
 * The guest-physical memory map (the SLAT's software view): RAM regions on
 * memfd-backed shared mappings, ROM, and everything else left to MMIO.
 *
 * Guarantees: mem_ptr() and mem_read()/mem_write() never touch host memory
 * outside a region's mapping, whatever gpa and len a guest programs (sums
 * are overflow-checked). Lookups are lock-free: RAM and ROM are added
 * while the map is built; afterwards only placeable entries change, in a
 * way a racing lookup survives (below), so device memory can move while
 * vCPUs and device threads run.
 */
#ifndef HV_CORE_MEM_H
#define HV_CORE_MEM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define MEM_MAX_REGIONS 32
#define MEM_PAGE 4096ull

/* MEM_DEV: a device's memory (a RAM BAR, the VGA window): guest code reads
 * and writes it like RAM, but it is not guest RAM (no e820 entry, not in
 * ram_bytes) and device DMA (mem_write) does not reach it. */
enum mem_kind { MEM_RAM = 1, MEM_ROM = 2, MEM_DEV = 3 };

struct mem_region {
	uint64_t gpa, size;
	uint8_t *hva;
	int fd;             /* memfd: snapshots and dynamic memory share it */
	uint64_t fd_offset;
	int kind;           /* enum mem_kind */
	unsigned slot;      /* accelerator slot id */
	char name[24];
	/* Live hv_dma mappings into this region (one per iovec; core/dma.c).
	 * The region must not be removed, moved or remapped while it is not
	 * zero: whoever removes or moves memory waits for it (or refuses). */
	atomic_uint dma_maps;
	/* ---- device memory and dirty logging (core/devmem.c) ---- */
	uint64_t len;       /* bytes mapped at hva; size is 0 while unplaced */
	unsigned flags;     /* MEM_F_* */
	/* one bit per page of the region (bit n: gpa + n * 4096) while dirty
	 * logging is on, else NULL; set with atomic ORs from any thread */
	uint64_t *dirty;
	uint64_t *dirty_mem; /* the bitmap's memory: kept after logging stops
				(a racing marker may still hold it), freed
				with the map */
};

#define MEM_F_ALIAS 0x1u /* hva/fd belong to another region: not unmapped */
#define MEM_F_FIXED 0x2u /* a placeable entry: never moves in r[], so its
			    index and slot stay valid (mem_add_dev) */

struct mem_map {
	struct mem_region r[MEM_MAX_REGIONS];
	int n;
	uint64_t ram_bytes;
	/* called after devices write guest RAM (DMA), so emu can drop decoded
	 * code for those pages; NULL under KVM */
	void (*write_hook)(void *opaque, uint64_t gpa, uint64_t len);
	void *hook_opaque;
	int logging; /* regions with a dirty log: 0 skips mem_mark_dirty */
};

#define MEM_WRITE 0x1u

/* RAM and ROM are added while the map is built (they keep r[] sorted and
 * renumber slots), before any mem_add_dev. */
int mem_add_ram(struct mem_map *m, const char *name, uint64_t gpa,
		uint64_t size);
/* ROM: guest reads see data; guest writes are dropped. */
int mem_add_rom(struct mem_map *m, const char *name, uint64_t gpa,
		const void *data, uint64_t size);
void mem_destroy(struct mem_map *m);
/* The region holding gpa, or NULL (MMIO or unassigned). */
const struct mem_region *mem_find(const struct mem_map *m, uint64_t gpa);
/* Host pointer for all of [gpa, gpa+len) inside one region, else NULL;
 * MEM_WRITE also fails on ROM and calls the write hook. */
void *mem_ptr(struct mem_map *m, uint64_t gpa, uint64_t len, unsigned flags);
/* Copies that may span adjacent regions: 0 or -EFAULT (nothing copied). */
int mem_read(struct mem_map *m, uint64_t gpa, void *buf, uint64_t len);
int mem_write(struct mem_map *m, uint64_t gpa, const void *buf, uint64_t len);
/* For loaders: like mem_write but also into ROM. */
int mem_load(struct mem_map *m, uint64_t gpa, const void *buf, uint64_t len);


/*
 * Placeable entries (core/devmem.c drives them on a running VM). An entry
 * keeps its index, slot, hva and len for the map's lifetime; placing sets
 * gpa and then size, unplacing sets size to 0, so a lock-free reader that
 * races a move sees the old or the new place, and either way an offset
 * bounded by len into memory that stays mapped. Writers are serialized by
 * the caller.
 */
/* A new unplaced MEM_DEV entry of len bytes (page multiple) on its own
 * memfd: its index, or -errno. */
int mem_add_dev(struct mem_map *m, const char *name, uint64_t len);
/* An unplaced entry over [off, off+len) of entry `of`'s memory (kind as
 * given): its index, or -errno. */
int mem_add_alias(struct mem_map *m, const char *name, int of, uint64_t off,
		  uint64_t len, int kind);
/* Split RAM entry i at gpa (page aligned, inside it) into two entries that
 * share its memory; the upper part is a new MEM_F_FIXED alias, returned
 * as an index. Build time only (no accelerator VM yet). */
int mem_split(struct mem_map *m, int i, uint64_t gpa);
/* Decode entry i at gpa: 0, -EINVAL (unaligned, wraps), -EBUSY (overlaps
 * another placed entry). */
int mem_place(struct mem_map *m, int i, uint64_t gpa);
void mem_unplace(struct mem_map *m, int i);
/* Any entry overlapping [gpa, gpa+len) other than `except` (-1: none). */
int mem_overlaps(const struct mem_map *m, uint64_t gpa, uint64_t len,
		 int except);

/* Dirty logging's software side. mem_mark_dirty() records writes the core
 * makes itself (hv_mem_write, DMA unmap, the interpreter's writes) in every
 * logging region they touch; any thread. */
void mem_mark_dirty(struct mem_map *m, uint64_t gpa, uint64_t len);
/* Allocate/free entry i's bitmap (one bit per page of len). */
int mem_log_alloc(struct mem_map *m, int i);
void mem_log_free(struct mem_map *m, int i);
/* Copy entry i's bitmap out (bitmap_bytes may be shorter: the rest is not
 * reported) and, with clear, reset what was copied, word by word
 * atomically, so no mark made meanwhile is lost. 0 or -ENOENT (no log). */
int mem_log_take(struct mem_map *m, int i, uint64_t *bitmap,
		 size_t bitmap_bytes, int clear);
/* Bytes of bitmap for len bytes of memory: whole 64-bit words. */
static inline size_t mem_log_bytes(uint64_t len)
{
	return (size_t)((len / MEM_PAGE + 63) / 64 * 8);
}
/* Live DMA mappings into [gpa, gpa+len): a region remover waits for 0. */
unsigned mem_dma_busy(const struct mem_map *m, uint64_t gpa, uint64_t len);

#endif
