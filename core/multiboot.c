/*
 * Multiboot v1 (the format of the KVM project's x86 unit tests, and what
 * GRUB's `multiboot`/`module` commands and QEMU's -kernel/-initrd load):
 * ELF32 or ELF64 program headers, or the header's a.out kludge addresses;
 * entry in 32-bit protected mode with EAX = 0x2BADB002 and EBX = the info
 * structure, which mbinfo.c places with the modules.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "boot.h"
#include "config.h"
#include "log.h"
#include "multiboot.h"
#include "vm.h"
#include "x86.h"

#define MB_MAGIC 0x1BADB002u
#define MB_BOOT_MAGIC 0x2BADB002u
#define MB_AOUT_KLUDGE (1u << 16)

struct mb_header {
	uint32_t magic, flags, checksum;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

long multiboot_find(const uint8_t *img, size_t len)
{
	for (size_t off = 0; off + 12 <= len && off < 8192; off += 4) {
		uint32_t h[3];
		memcpy(h, img + off, 12);
		if (h[0] == MB_MAGIC && h[0] + h[1] + h[2] == 0)
			return (long)off;
	}
	return -1;
}

int multiboot_wanted(const char *fmt, const uint8_t *img, size_t len)
{
	if (fmt && strcmp(fmt, "auto"))
		return !strcmp(fmt, "multiboot");
	return !linux_is_bzimage(img, len) && multiboot_find(img, len) >= 0;
}

/* Load one segment (vm NULL: only check it) and widen *r to cover it. */
static int load_segment(struct vm *vm, const char *path, uint64_t paddr,
			const uint8_t *img, size_t len, uint64_t off,
			uint64_t filesz, uint64_t memsz, struct mb_range *r)
{
	static const uint8_t zero[4096];

	if (off > len || filesz > len - off || filesz > memsz) {
		err("%s: a segment lies outside the file", path);
		return -EINVAL;
	}
	if (memsz > UINT64_MAX - paddr) {
		err("%s: a segment at 0x%llx runs past the end of the address space",
		    path, (unsigned long long)paddr);
		return -EINVAL;
	}
	if (memsz && paddr < r->lo)
		r->lo = paddr;
	if (memsz && paddr + memsz > r->hi)
		r->hi = paddr + memsz;
	if (!vm)
		return 0;
	if (mem_load(&vm->mem, paddr, img + off, filesz)) {
		err("%s: segment at 0x%llx (%llu bytes) does not fit in guest RAM",
		    path, (unsigned long long)paddr, (unsigned long long)memsz);
		return -EFAULT;
	}
	for (uint64_t z = filesz; z < memsz; z += sizeof(zero)) {
		uint64_t n = memsz - z < sizeof(zero) ? memsz - z : sizeof(zero);
		if (mem_load(&vm->mem, paddr + z, zero, n)) {
			err("%s: bss at 0x%llx does not fit in guest RAM", path,
			    (unsigned long long)(paddr + z));
			return -EFAULT;
		}
	}
	return 0;
}

/* ELF32 and ELF64 differ only in field widths: read both into one shape. */
static int load_elf(struct vm *vm, const char *path, const uint8_t *img,
		    size_t len, uint32_t *entry, struct mb_range *r)
{
	int is64 = len > EI_CLASS && img[EI_CLASS] == ELFCLASS64;
	size_t ehsz = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	uint64_t phoff, phnum, phentsize, e_entry;

	if (len < ehsz || memcmp(img, ELFMAG, SELFMAG)) {
		err("%s: multiboot header without the a.out kludge, and not an ELF file",
		    path);
		return -EINVAL;
	}
	if (is64) {
		const Elf64_Ehdr *eh = (const void *)img;
		phoff = eh->e_phoff, phnum = eh->e_phnum;
		phentsize = eh->e_phentsize, e_entry = eh->e_entry;
	} else {
		const Elf32_Ehdr *eh = (const void *)img;
		phoff = eh->e_phoff, phnum = eh->e_phnum;
		phentsize = eh->e_phentsize, e_entry = eh->e_entry;
	}
	if (phentsize < (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) ||
	    phoff > len || phnum > (len - phoff) / phentsize) {
		err("%s: program headers lie outside the file", path);
		return -EINVAL;
	}
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + i * phentsize;
		uint64_t type, off, paddr, filesz, memsz;
		int rc;

		if (is64) {
			Elf64_Phdr p;
			memcpy(&p, ph, sizeof(p));
			type = p.p_type, off = p.p_offset, paddr = p.p_paddr;
			filesz = p.p_filesz, memsz = p.p_memsz;
		} else {
			Elf32_Phdr p;
			memcpy(&p, ph, sizeof(p));
			type = p.p_type, off = p.p_offset, paddr = p.p_paddr;
			filesz = p.p_filesz, memsz = p.p_memsz;
		}
		if (type != PT_LOAD)
			continue;
		rc = load_segment(vm, path, paddr, img, len, off, filesz, memsz, r);
		if (rc)
			return rc;
	}
	if (e_entry > 0xffffffffull) {
		err("%s: entry point 0x%llx is above 4 GiB", path,
		    (unsigned long long)e_entry);
		return -EINVAL;
	}
	*entry = (uint32_t)e_entry;
	return 0;
}

static int load_aout(struct vm *vm, const char *path, const uint8_t *img,
		     size_t len, long hoff, const struct mb_header *h,
		     uint32_t *entry, struct mb_range *r)
{
	uint64_t start = hoff - (uint64_t)(h->header_addr - h->load_addr);
	uint64_t end = h->load_end_addr ? h->load_end_addr - h->load_addr :
					  len - start;
	uint64_t bss = h->bss_end_addr > h->load_addr ?
			       h->bss_end_addr - h->load_addr : end;

	if (h->header_addr < h->load_addr || start > (uint64_t)hoff || bss < end) {
		err("%s: inconsistent multiboot a.out addresses", path);
		return -EINVAL;
	}
	*entry = h->entry_addr;
	return load_segment(vm, path, h->load_addr, img, len, start, end, bss,
			    r);
}


/* The image through its header (vm NULL: only checked): entry and extent. */
static int load_image(struct vm *vm, const char *path, const uint8_t *img,
		      size_t len, uint32_t *entry, struct mb_range *r)
{
	long hoff = multiboot_find(img, len);
	struct mb_header h = { 0 };

	if (hoff < 0) {
		err("%s: not a multiboot image: no header in the first 8 KiB", path);
		return -EINVAL;
	}
	memcpy(&h, img + hoff, len - hoff < sizeof(h) ? len - hoff : sizeof(h));
	*r = (struct mb_range){ UINT64_MAX, 0 };
	if (h.flags & MB_AOUT_KLUDGE)
		return load_aout(vm, path, img, len, hoff, &h, entry, r);
	return load_elf(vm, path, img, len, entry, r);
}

int boot_multiboot(struct vm *vm, const char *path, const uint8_t *img,
		   size_t len, const char *cmdline)
{
	struct x86_state *st = &vm->cpu[0].boot;
	struct mb_plan p;
	uint32_t entry;
	int rc;

	if ((rc = load_image(vm, path, img, len, &entry, &p.image)) ||
	    (rc = mb_place(vm, path, cmdline, &p)))
		return rc;
	boot_gdt(vm);
	boot_prot32(st, entry);
	st->gpr[X86_RAX] = MB_BOOT_MAGIC;
	st->gpr[X86_RBX] = p.info.lo;
	st->gpr[X86_RSP] = BOOT_STACK;
	return 0;
}

int multiboot_check(const struct config *cfg, const char *path,
		    const uint8_t *img, size_t len, uint64_t memory)
{
	const char *cmdline = cfg_get(config_section(cfg, "vm", "vm"), "cmdline");
	struct mb_plan p;
	uint32_t entry;
	int rc;

	if ((rc = load_image(NULL, path, img, len, &entry, &p.image)))
		return rc;
	return mb_place_check(cfg, path, cmdline ? cmdline : "", memory, &p);
}
