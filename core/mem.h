/*
 * The guest-physical memory map (the SLAT's software view): RAM regions on
 * memfd-backed shared mappings, ROM, and everything else left to MMIO.
 *
 * Guarantees: mem_ptr() and mem_read()/mem_write() never touch host memory
 * outside a region's mapping, whatever gpa and len a guest programs (sums
 * are overflow-checked). Lookups are lock-free against a map that only
 * changes while vCPUs are paused.
 */
#ifndef HV_CORE_MEM_H
#define HV_CORE_MEM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define MEM_MAX_REGIONS 32
#define MEM_PAGE 4096ull

enum mem_kind { MEM_RAM = 1, MEM_ROM = 2 };

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
	/* one bit per page of the region (bit n: gpa + n * 4096) while dirty
	 * logging is on, else NULL; set with atomic ORs from any thread.
	 * (The same member and API as branch sdk-devmem's, which is the full
	 * implementation: take that one when both are merged.) */
	uint64_t *dirty;
};

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

/* Dirty logging's software side. mem_mark_dirty() records writes the core
 * makes itself (hv_mem_write, DMA unmap) in every logging region they
 * touch; any thread. */
void mem_mark_dirty(struct mem_map *m, uint64_t gpa, uint64_t len);
/* Allocate/free region i's bitmap (one bit per page). Main thread. */
int mem_log_alloc(struct mem_map *m, int i);
void mem_log_free(struct mem_map *m, int i);
/* Copy region i's bitmap out (bitmap_bytes may be shorter: the rest is not
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
