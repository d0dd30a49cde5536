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
	/* One bit per page, set by mem_mark_dirty(); allocated while dirty
	 * logging is on (mem_dirty_start), else NULL. */
	_Atomic(uint64_t) *dirty;
};

struct mem_map {
	struct mem_region r[MEM_MAX_REGIONS];
	int n;
	uint64_t ram_bytes;
	/* called after devices write guest RAM (DMA), so emu can drop decoded
	 * code for those pages; NULL under KVM */
	void (*write_hook)(void *opaque, uint64_t gpa, uint64_t len);
	void *hook_opaque;
	int dirty_on;       /* mem_dirty_start() called: bitmaps exist */
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

/*
 * Dirty pages: the one place device DMA, the core's own copies and (later)
 * the accelerators' dirty logs record that guest memory changed, for
 * snapshots and live migration. Off by default; nothing is recorded then.
 * mem_mark_dirty may run on any thread (vCPU or main) concurrently: the
 * bits are set atomically. Start/stop/collect run on the main thread.
 */
int mem_dirty_start(struct mem_map *m);
void mem_dirty_stop(struct mem_map *m);
/* Mark every page [gpa, gpa+len) touches, in whichever RAM/ROM regions
 * hold them (bytes outside every region are ignored). */
void mem_mark_dirty(struct mem_map *m, uint64_t gpa, uint64_t len);
/* 1 when logging is on and the page holding gpa is marked. */
int mem_page_dirty(const struct mem_map *m, uint64_t gpa);
/* Copy region i's bitmap ((size/4096 + 63)/64 words) into out and clear
 * it; 0, or -ENOENT when logging is off or i is not a region. */
int mem_dirty_collect(struct mem_map *m, int i, uint64_t *out);
/* Live DMA mappings into [gpa, gpa+len): a region remover waits for 0. */
unsigned mem_dma_busy(const struct mem_map *m, uint64_t gpa, uint64_t len);

#endif
