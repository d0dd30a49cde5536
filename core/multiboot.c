/*
 * Multiboot v1 (the format of the KVM project's x86 unit tests): ELF32 or
 * ELF64 program headers, or the header's a.out kludge addresses; entry in
 * 32-bit protected mode with EAX = 0x2BADB002 and EBX = the info block.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "boot.h"
#include "log.h"
#include "vm.h"
#include "x86.h"

#define MB_MAGIC 0x1BADB002u
#define MB_BOOT_MAGIC 0x2BADB002u
#define MB_AOUT_KLUDGE (1u << 16)

struct mb_header {
	uint32_t magic, flags, checksum;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
};

struct mb_mmap {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

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

static int load_segment(struct vm *vm, const char *path, uint64_t paddr,
			const uint8_t *img, size_t len, uint64_t off,
			uint64_t filesz, uint64_t memsz)
{
	static const uint8_t zero[4096];

	if (off > len || filesz > len - off || filesz > memsz) {
		err("%s: a segment lies outside the file", path);
		return -EINVAL;
	}
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
		    size_t len, uint32_t *entry)
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
		rc = load_segment(vm, path, paddr, img, len, off, filesz, memsz);
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
		     uint32_t *entry)
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
	return load_segment(vm, path, h->load_addr, img, len, start, end, bss);
}

static int write_info(struct vm *vm, const char *cmdline)
{
	uint64_t low = vm->ram_size < 0xc0000000ull ? vm->ram_size : 0xc0000000ull;
	struct mb_mmap map[3] = {
		{ 20, 0, 0x9fc00, 1 },
		{ 20, 0x100000, low - 0x100000, 1 },
		{ 20, 0x100000000ull, vm->ram_size - low, 1 },
	};
	int nmap = vm->ram_size > low ? 3 : 2;
	size_t clen = strlen(cmdline) + 1;
	struct mb_info mbi = {
		.flags = 0x1 | 0x4 | 0x40,
		.mem_lower = 639,
		.mem_upper = (uint32_t)((low - 0x100000) >> 10),
		.cmdline = BOOT_INFO + 0x100,
		.mmap_length = nmap * sizeof(map[0]),
		.mmap_addr = BOOT_INFO + 0x80,
	};

	if (clen > 0xf00)
		clen = 0xf00;
	return mem_load(&vm->mem, BOOT_INFO, &mbi, sizeof(mbi)) ||
	       mem_load(&vm->mem, BOOT_INFO + 0x80, map, nmap * sizeof(map[0])) ||
	       mem_load(&vm->mem, BOOT_INFO + 0x100, cmdline, clen) ?
		       -EFAULT : 0;
}

int boot_multiboot(struct vm *vm, const char *path, const uint8_t *img,
		   size_t len, const char *cmdline)
{
	long hoff = multiboot_find(img, len);
	struct mb_header h = { 0 };
	struct x86_state *st = &vm->cpu[0].boot;
	uint32_t entry;
	int rc;

	if (hoff < 0) {
		err("%s: not a multiboot image: no header in the first 8 KiB", path);
		return -EINVAL;
	}
	memcpy(&h, img + hoff, len - hoff < sizeof(h) ? len - hoff : sizeof(h));
	if (h.flags & MB_AOUT_KLUDGE)
		rc = load_aout(vm, path, img, len, hoff, &h, &entry);
	else
		rc = load_elf(vm, path, img, len, &entry);
	if (rc || (rc = write_info(vm, cmdline)))
		return rc;
	boot_gdt(vm);
	boot_prot32(st, entry);
	st->gpr[X86_RAX] = MB_BOOT_MAGIC;
	st->gpr[X86_RBX] = BOOT_INFO;
	st->gpr[X86_RSP] = 0x7000;
	return 0;
}
