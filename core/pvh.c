/*
 * vmlinux ELF images, and PVH entry (Xen's x86/HVM direct boot ABI, which
 * Linux implements with CONFIG_PVH): the kernel's ELF note
 * XEN_ELFNOTE_PHYS32_ENTRY names a 32-bit entry that takes EBX = a struct
 * hvm_start_info with the command line, the initrd as module 0, the memory
 * map and the RSDP. For a bzImage, hv decompresses the payload on the host
 * and loads the vmlinux inside, which spares the guest its own
 * decompression (most of its instructions before /init).
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "log.h"
#include "vm.h"
#include "x86.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578u

#define START_INFO 0x6000ull
#define START_MODS 0x6040ull
#define START_MEMMAP 0x6100ull
#define START_MEMMAP_MAX 64
#define START_CMDLINE 0x20000ull
#define START_CMDLINE_MAX 0x10000ull

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

/* The ELF64 header and program headers, checked against the file. */
static const char *elf_check(const uint8_t *img, size_t len,
			     const Elf64_Ehdr **eh, const Elf64_Phdr **ph)
{
	const Elf64_Ehdr *e = (const Elf64_Ehdr *)img;

	if (len < sizeof(*e) || memcmp(img, ELFMAG, SELFMAG))
		return "not an ELF file";
	if (img[EI_CLASS] != ELFCLASS64 || e->e_machine != EM_X86_64)
		return "not an x86-64 ELF image";
	if (e->e_phentsize != sizeof(Elf64_Phdr) || !e->e_phnum ||
	    e->e_phoff > len || e->e_phnum > (len - e->e_phoff) / sizeof(Elf64_Phdr))
		return "ELF program headers lie outside the file";
	*eh = e;
	*ph = (const Elf64_Phdr *)(img + e->e_phoff);
	return NULL;
}

/* The PVH entry from the notes, or 0. */
static uint64_t pvh_entry(const uint8_t *img, size_t len, const Elf64_Ehdr *e,
			  const Elf64_Phdr *ph)
{
	for (int i = 0; i < e->e_phnum; i++) {
		uint64_t off = ph[i].p_offset, end;

		if (ph[i].p_type != PT_NOTE || off > len || ph[i].p_filesz > len - off)
			continue;
		end = off + ph[i].p_filesz;
		while (end - off >= 12) {
			uint32_t nh[3];
			uint64_t name, desc, next;

			memcpy(nh, img + off, 12);
			name = off + 12;
			desc = name + ((nh[0] + 3ull) & ~3ull);
			next = desc + ((nh[1] + 3ull) & ~3ull);
			if (next > end)
				break;
			if (nh[2] == XEN_ELFNOTE_PHYS32_ENTRY && nh[0] == 4 &&
			    !memcmp(img + name, "Xen", 4) && (nh[1] == 4 || nh[1] == 8)) {
				uint64_t v = 0;
				memcpy(&v, img + desc, nh[1]);
				return v;
			}
			off = next;
		}
	}
	return 0;
}

int elf_has_pvh(const uint8_t *img, size_t len)
{
	const Elf64_Ehdr *e;
	const Elf64_Phdr *ph;

	return !elf_check(img, len, &e, &ph) && pvh_entry(img, len, e, ph) != 0;
}

/* PT_LOAD segments at their physical addresses; *end past the highest. */
static int elf_load(struct vm *vm, const char *path, const uint8_t *img,
		    size_t len, const Elf64_Ehdr *e, const Elf64_Phdr *ph,
		    uint64_t *end)
{
	*end = 0;
	for (int i = 0; i < e->e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];
		uint8_t *dst;

		if (p->p_type != PT_LOAD || !p->p_memsz)
			continue;
		if (p->p_offset > len || p->p_filesz > len - p->p_offset ||
		    p->p_filesz > p->p_memsz) {
			err("%s: an ELF segment lies outside the file", path);
			return -EINVAL;
		}
		dst = mem_ptr(&vm->mem, p->p_paddr, p->p_memsz, MEM_WRITE);
		if (!dst) {
			err("%s: segment at 0x%llx (%llu KiB) does not fit in guest RAM; raise memory",
			    path, (unsigned long long)p->p_paddr,
			    (unsigned long long)(p->p_memsz >> 10));
			return -ENOMEM;
		}
		memcpy(dst, img + p->p_offset, p->p_filesz);
		memset(dst + p->p_filesz, 0, p->p_memsz - p->p_filesz);
		if (p->p_paddr + p->p_memsz > *end)
			*end = p->p_paddr + p->p_memsz;
	}
	if (!*end) {
		err("%s: the ELF image has nothing to load", path);
		return -EINVAL;
	}
	*end = (*end + MEM_PAGE - 1) & ~(MEM_PAGE - 1);
	return 0;
}

static int pvh_start(struct vm *vm, uint64_t entry, uint64_t kernel_end,
		     const char *cmdline, const char *initrd)
{
	struct hvm_start_info si = { .magic = HVM_START_MAGIC, .version = 1 };
	struct hvm_memmap_entry mm[START_MEMMAP_MAX];
	struct e820_entry e820[START_MEMMAP_MAX];
	struct hvm_modlist_entry mod = { 0 };
	size_t cl = strlen(cmdline) + 1;
	struct x86_state *st = &vm->cpu[0].boot;
	int n, rc;

	if ((rc = linux_load_initrd(vm, initrd, kernel_end, 0x100000000ull,
				    &mod.paddr, &mod.size)))
		return rc;
	if (cl > START_CMDLINE_MAX) {
		err("cmdline: %zu bytes is too long", cl - 1);
		return -E2BIG;
	}
	n = vm->layout.n_e820 < START_MEMMAP_MAX ? vm->layout.n_e820 :
						   START_MEMMAP_MAX;
	memcpy(e820, vm->layout.e820, n * sizeof(e820[0]));
	for (int i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_entry){ e820[i].addr, e820[i].size,
						   e820[i].type, 0 };
	si.cmdline_paddr = START_CMDLINE;
	si.rsdp_paddr = vm->layout.rsdp;
	si.memmap_paddr = START_MEMMAP;
	si.memmap_entries = n;
	if (mod.size) {
		si.nr_modules = 1;
		si.modlist_paddr = START_MODS;
	}
	if (mem_load(&vm->mem, START_CMDLINE, cmdline, cl) ||
	    mem_load(&vm->mem, START_MEMMAP, mm, n * sizeof(mm[0])) ||
	    mem_load(&vm->mem, START_MODS, &mod, sizeof(mod)) ||
	    mem_load(&vm->mem, START_INFO, &si, sizeof(si)))
		return -EFAULT;
	boot_gdt(vm);
	boot_prot32(st, (uint32_t)entry);
	st->gpr[X86_RBX] = START_INFO;
	st->gpr[X86_RSP] = 0x8ff0;
	return 0;
}

/* An ELF vmlinux: PVH when asked (or for pvh_ok and a note), else the
 * 64-bit Linux boot protocol. */
static int boot_elf(struct vm *vm, const char *path, const uint8_t *img,
		    size_t len, const char *cmdline, const char *initrd,
		    int want_pvh)
{
	const Elf64_Ehdr *e;
	const Elf64_Phdr *ph;
	const char *why = elf_check(img, len, &e, &ph);
	uint64_t end, entry;
	int rc;

	if (why) {
		err("%s: %s", path, why);
		return -EINVAL;
	}
	entry = pvh_entry(img, len, e, ph);
	if (want_pvh && !entry) {
		err("%s: no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): the kernel lacks CONFIG_PVH; use kernel_format = linux",
		    path);
		return -EINVAL;
	}
	if ((rc = elf_load(vm, path, img, len, e, ph, &end)))
		return rc;
	if (want_pvh)
		return pvh_start(vm, entry, end, cmdline, initrd);
	return boot_vmlinux_enter(vm, e->e_entry, end, cmdline, initrd);
}

/* The vmlinux inside a bzImage, decompressed; NULL after a message. */
static uint8_t *bzimage_vmlinux(const char *path, const uint8_t *img,
				size_t len, size_t *out_len)
{
	const char *why = linux_bzimage_check(img, len, 0x208);
	uint32_t off, plen;
	size_t setup;
	uint8_t *out;

	if (why) {
		err("%s: %s", path, why);
		return NULL;
	}
	setup = ((size_t)img[0x1f1] + 1) * 512;
	memcpy(&off, img + 0x248, 4);
	memcpy(&plen, img + 0x24c, 4);
	if (setup > len || off > len - setup || plen > len - setup - off) {
		err("%s: the setup header's payload lies outside the file", path);
		return NULL;
	}
	if (unpack(img + setup + off, plen, &out, out_len, &why)) {
		err("%s: %s payload: %s", path, unpack_kind(img + setup + off, plen), why);
		return NULL;
	}
	return out;
}

int boot_pvh(struct vm *vm, const char *path, const uint8_t *img, size_t len,
	     const char *cmdline, const char *initrd, int want_pvh)
{
	uint8_t *elf = NULL;
	size_t elf_len;
	int rc;

	if (linux_is_bzimage(img, len)) {
		if (!(elf = bzimage_vmlinux(path, img, len, &elf_len)))
			return -EINVAL;
		img = elf, len = elf_len;
	}
	rc = boot_elf(vm, path, img, len, cmdline, initrd, want_pvh);
	free(elf);
	return rc;
}
