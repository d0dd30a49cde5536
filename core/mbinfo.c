/*
 * The Multiboot info structure (0.6.96, section 3.3) and the modules:
 * modules go page-aligned above the image, in index order; the structure
 * with its memory map, module list and strings goes where neither the
 * image nor a module lies, below 640 KiB when it fits, else above the
 * last module. `hv check` runs the same placement on the RAM the PC will
 * have.
 */
#include "multiboot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <hv/plugin.h>

#include "boot.h"
#include "config.h"
#include "log.h"
#include "vm.h"

/* info flags: mem_*, cmdline, mods_*, mmap_*, boot_loader_name */
#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER (1u << 9)

#define MB_PAGE 4096ull
#define MB_LOW_END 0xa0000ull /* 640 KiB */
#define MB_4G 0x100000000ull
#define STR_(x) #x
#define STR(x) STR_(x)
/* hv has no release number of its own: the SDK's ABI version is it */
#define MB_LOADER_NAME "hv " STR(HV_ABI_MAJOR) "." STR(HV_ABI_MINOR)

/* The whole 0.6.96 structure (88 bytes): a kernel may read any field. */
struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name;
	uint32_t apm_table, vbe_control_info, vbe_mode_info;
	uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off,
		vbe_interface_len;
};

_Static_assert(sizeof(struct mb_info) == 88, "Multiboot 0.6.96 info layout");

struct mb_module {
	uint32_t mod_start, mod_end, string, reserved;
};

struct mb_mmap {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

static uint64_t page_up(uint64_t a)
{
	return (a + MB_PAGE - 1) & ~(MB_PAGE - 1);
}

/* Whether [a, a + size) meets a range of used; if so *a moves past it. */
static int clash(const struct mb_range *used, int n, uint64_t *a,
		 uint64_t size)
{
	for (int i = 0; i < n; i++) {
		if (*a < used[i].hi && used[i].lo < *a + size) {
			*a = page_up(used[i].hi);
			return 1;
		}
	}
	return 0;
}

/*
 * The lowest page at or above from where size bytes lie below to, inside
 * one RAM entry of the (sorted) map and clear of every used range; 0 when
 * there is none (from is never 0). Each step moves past a range, so the
 * search ends.
 */
static uint64_t fit(const struct e820_entry *map, int nmap,
		    const struct mb_range *used, int nused, uint64_t from,
		    uint64_t to, uint64_t size)
{
	uint64_t a = page_up(from);

	for (int i = 0; i < nmap; i++) {
		uint64_t end = map[i].addr + map[i].size;

		if (map[i].type != E820_RAM)
			continue;
		if (end > to)
			end = to;
		if (a < map[i].addr)
			a = page_up(map[i].addr);
		while (a < end && size <= end - a)
			if (!clash(used, nused, &a, size))
				return a;
	}
	return 0;
}

static size_t info_size(const char *cmdline, const struct boot_module *m,
			int n, int nmap)
{
	size_t sz = sizeof(struct mb_info) + nmap * sizeof(struct mb_mmap) +
		    n * sizeof(struct mb_module) + strlen(cmdline) + 1 +
		    sizeof(MB_LOADER_NAME);

	for (int i = 0; i < n; i++)
		sz += strlen(m[i].string) + 1;
	return sz;
}

/* Modules in order above the image, then the info: 0, or -ENOSPC after
 * one line naming what did not fit. */
static int plan(const struct config *cfg, const char *path,
		const struct boot_module *m, int n, size_t info_len,
		const struct e820_entry *map, int nmap, struct mb_plan *p)
{
	struct mb_range used[BOOT_MODULES_MAX + 1];
	uint64_t from = p->image.hi > BOOT_LOW_FREE ? p->image.hi : BOOT_LOW_FREE;
	uint64_t a;

	used[0] = p->image;
	for (int i = 0; i < n; i++) {
		a = fit(map, nmap, used, i + 1, from, MB_4G, m[i].size);
		if (!a) {
			log_err_at("%s:%d: [vm]: %s = %s: %zu bytes do not fit in guest RAM below 4 GiB above 0x%llx (the kernel ends at 0x%llx)",
				   cfg->path, m[i].line, m[i].key, m[i].string,
				   m[i].size, (unsigned long long)page_up(from),
				   (unsigned long long)p->image.hi);
			return -ENOSPC;
		}
		p->mod[i] = used[i + 1] = (struct mb_range){ a, a + m[i].size };
		from = a + m[i].size;
	}
	a = fit(map, nmap, used, n + 1, BOOT_LOW_FREE, MB_LOW_END, info_len);
	if (!a)
		a = fit(map, nmap, used, n + 1, from, MB_4G, info_len);
	if (!a) {
		err("%s: no room in guest RAM below 4 GiB for the %zu-byte multiboot info",
		    path, info_len);
		return -ENOSPC;
	}
	p->info = (struct mb_range){ a, a + info_len };
	return 0;
}

/* mem_lower and mem_upper: the RAM at 0, and from 1 MiB to its first hole. */
static void mem_sizes(const struct e820_entry *map, int nmap,
		      struct mb_info *mbi)
{
	for (int i = 0; i < nmap; i++) {
		uint64_t end = map[i].addr + map[i].size;

		if (map[i].type != E820_RAM)
			continue;
		if (map[i].addr == 0)
			mbi->mem_lower = (uint32_t)((end < MB_LOW_END ? end : MB_LOW_END) >> 10);
		if (map[i].addr <= 0x100000 && end > 0x100000)
			mbi->mem_upper = (uint32_t)((end - 0x100000) >> 10);
	}
}

/* The info block at p->info.lo: the structure, the memory map, the
 * module list, then the strings. */
static int write_info(struct vm *vm, const char *cmdline,
		      const struct boot_module *m, int n,
		      const struct mb_plan *p)
{
	const struct e820_entry *map = vm->layout.e820;
	int nmap = vm->layout.n_e820;
	size_t len = p->info.hi - p->info.lo, at;
	uint8_t *b = calloc(1, len);
	struct mb_info mbi = { .flags = MBI_MEM | MBI_CMDLINE | MBI_MODS |
					MBI_MMAP | MBI_LOADER };
	uint32_t base = (uint32_t)p->info.lo;
	int rc;

	if (!b)
		return -ENOMEM;
	mem_sizes(map, nmap, &mbi);
	at = sizeof(mbi);
	mbi.mmap_addr = base + at;
	mbi.mmap_length = nmap * sizeof(struct mb_mmap);
	for (int i = 0; i < nmap; i++, at += sizeof(struct mb_mmap)) {
		struct mb_mmap e = { 20, map[i].addr, map[i].size, map[i].type };
		memcpy(b + at, &e, sizeof(e));
	}
	mbi.mods_count = n;
	mbi.mods_addr = base + at;
	at += n * sizeof(struct mb_module);
	mbi.cmdline = base + at;
	memcpy(b + at, cmdline, strlen(cmdline) + 1);
	at += strlen(cmdline) + 1;
	mbi.boot_loader_name = base + at;
	memcpy(b + at, MB_LOADER_NAME, sizeof(MB_LOADER_NAME));
	at += sizeof(MB_LOADER_NAME);
	for (int i = 0; i < n; i++) {
		struct mb_module mod = { (uint32_t)p->mod[i].lo,
					 (uint32_t)p->mod[i].hi, base + at, 0 };

		memcpy(b + mbi.mods_addr - base + i * sizeof(mod), &mod, sizeof(mod));
		memcpy(b + at, m[i].string, strlen(m[i].string) + 1);
		at += strlen(m[i].string) + 1;
	}
	memcpy(b, &mbi, sizeof(mbi));
	rc = mem_load(&vm->mem, p->info.lo, b, len) ? -EFAULT : 0;
	free(b);
	return rc;
}

/* Read every module (its size as read, for the plan), then, once placed,
 * copy each where the plan put it. */
static int read_modules(struct boot_module *m, int n, uint8_t **data)
{
	for (int i = 0; i < n; i++) {
		int rc = boot_read_file(m[i].path, &data[i], &m[i].size);

		if (rc)
			return rc;
	}
	return 0;
}

int mb_place(struct vm *vm, const char *path, const char *cmdline,
	     struct mb_plan *p)
{
	struct boot_module m[BOOT_MODULES_MAX];
	uint8_t *data[BOOT_MODULES_MAX] = { 0 };
	int n = boot_modules(vm->cfg, m), rc;

	if (n < 0) {
		rc = n;
		goto out_free;
	}
	if ((rc = read_modules(m, n, data)))
		goto out_free;
	rc = plan(vm->cfg, path, m, n, info_size(cmdline, m, n, vm->layout.n_e820),
		  vm->layout.e820, vm->layout.n_e820, p);
	for (int i = 0; !rc && i < n; i++) {
		if (mem_load(&vm->mem, p->mod[i].lo, data[i], m[i].size)) {
			err("%s: module at 0x%llx does not fit in guest RAM",
			    m[i].path, (unsigned long long)p->mod[i].lo);
			rc = -EFAULT;
		}
	}
	if (!rc)
		rc = write_info(vm, cmdline, m, n, p);
	for (int i = 0; !rc && i < n; i++)
		dbg("multiboot: %s at 0x%llx-0x%llx", m[i].key,
		    (unsigned long long)p->mod[i].lo,
		    (unsigned long long)p->mod[i].hi);
	if (!rc)
		dbg("multiboot: info at 0x%llx-0x%llx", (unsigned long long)p->info.lo,
		    (unsigned long long)p->info.hi);
out_free:
	for (int i = 0; i < BOOT_MODULES_MAX; i++)
		free(data[i]);
	boot_modules_free(m);
	return rc;
}

/* The RAM of a machine with memory bytes, as pc_e820() lists it. */
static int ram_map(uint64_t memory, struct e820_entry *map)
{
	uint64_t low = memory < 0xc0000000ull ? memory : 0xc0000000ull;
	int n = 0;

	map[n++] = (struct e820_entry){ 0, 0x9fc00, E820_RAM };
	if (low > 0x100000)
		map[n++] = (struct e820_entry){ 0x100000, low - 0x100000, E820_RAM };
	if (memory > low)
		map[n++] = (struct e820_entry){ MB_4G, memory - low, E820_RAM };
	return n;
}

int mb_place_check(const struct config *cfg, const char *path,
		   const char *cmdline, uint64_t memory, struct mb_plan *p)
{
	struct boot_module m[BOOT_MODULES_MAX];
	struct e820_entry map[3];
	int nmap = ram_map(memory, map), n = boot_modules(cfg, m), rc;

	rc = n < 0 ? n :
		     plan(cfg, path, m, n, info_size(cmdline, m, n, nmap), map,
			  nmap, p);
	boot_modules_free(m);
	return rc;
}
