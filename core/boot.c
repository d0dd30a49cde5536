/*
 * Flat binaries and the common pieces of every loader: the boot GDT, and
 * protected- and long-mode entry states.
 */
#include "boot.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "vm.h"
#include "x86.h"

/* Every loader places its files below 4 GiB. */
#define BOOT_FILE_MAX (4ull << 30)

static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/*
 * Open a boot file: O_NONBLOCK so that a FIFO cannot stall the start, and
 * sized by fstat, which unlike ftell knows a directory has no size. Only a
 * regular file with at least one byte is taken.
 */
static int boot_open_file(const char *path, int *fd, size_t *size)
{
	struct stat st;
	int rc;

	*fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (*fd < 0) {
		rc = -errno;
		err("%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(*fd, &st)) {
		rc = -errno;
		err("%s: %s", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		err("%s: %s, not a file hv can boot from", path,
		    file_kind(st.st_mode));
		rc = -EINVAL;
		goto out_close;
	}
	if (!st.st_size) {
		err("%s: the file is empty", path);
		rc = -EINVAL;
		goto out_close;
	}
	if ((uint64_t)st.st_size > BOOT_FILE_MAX) { /* /proc/kcore, a sparse file */
		err("%s: %lld bytes; a kernel or initrd must fit below 4 GiB",
		    path, (long long)st.st_size);
		rc = -EFBIG;
		goto out_close;
	}
	*size = (size_t)st.st_size;
	return 0;
out_close:
	close(*fd);
	*fd = -1;
	return rc;
}

int boot_read_file(const char *path, uint8_t **data, size_t *len)
{
	size_t n, got = 0;
	ssize_t r = 0;
	int fd, rc;

	*data = NULL;
	if ((rc = boot_open_file(path, &fd, &n)))
		return rc;
	*data = malloc(n);
	if (!*data) {
		err("%s: %zu bytes: out of memory", path, n);
		rc = -ENOMEM;
		goto out_close;
	}
	while (got < n && (r = pread(fd, *data + got, n - got, (off_t)got)) > 0)
		got += (size_t)r;
	if (got < n) {
		if (r < 0)
			err("%s: %s", path, strerror(errno));
		else
			err("%s: the file shrank while it was read (%zu of %zu bytes)",
			    path, got, n);
		rc = r < 0 ? -EIO : -EINVAL;
		free(*data);
		*data = NULL;
		goto out_close;
	}
	*len = n;
	rc = 0;
out_close:
	close(fd);
	return rc;
}

/* NULL when an ELF file holds its program headers and PT_LOAD segments. */
static const char *elf_truncated(const uint8_t *img, size_t len)
{
	static char why[160];
	int is64 = img[EI_CLASS] == ELFCLASS64;
	size_t phsz = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	uint64_t phoff, phnum, phentsize;

	if (img[EI_CLASS] != ELFCLASS32 && !is64)
		return NULL; /* not ours to judge: the loaders say why */
	if (len < (is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return "truncated ELF image: the ELF header runs past the file's end";
	if (is64) {
		const Elf64_Ehdr *e = (const void *)img;
		phoff = e->e_phoff, phnum = e->e_phnum, phentsize = e->e_phentsize;
	} else {
		const Elf32_Ehdr *e = (const void *)img;
		phoff = e->e_phoff, phnum = e->e_phnum, phentsize = e->e_phentsize;
	}
	if (phentsize < phsz)
		return NULL; /* malformed, not truncated: the loaders say so */
	if (phoff > len || phnum > (len - phoff) / phentsize) {
		snprintf(why, sizeof(why),
			 "truncated ELF image: %llu program headers at byte %llu run past the file's end (%zu)",
			 (unsigned long long)phnum, (unsigned long long)phoff, len);
		return why;
	}
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + i * phentsize;
		uint64_t type, off, filesz;

		if (is64) {
			Elf64_Phdr p;
			memcpy(&p, ph, sizeof(p));
			type = p.p_type, off = p.p_offset, filesz = p.p_filesz;
		} else {
			Elf32_Phdr p;
			memcpy(&p, ph, sizeof(p));
			type = p.p_type, off = p.p_offset, filesz = p.p_filesz;
		}
		if (type != PT_LOAD || (off <= len && filesz <= len - off))
			continue;
		snprintf(why, sizeof(why),
			 "truncated ELF image: segment %llu (bytes %llu..%llu) runs past the file's end (%zu)",
			 (unsigned long long)i, (unsigned long long)off,
			 (unsigned long long)(off + filesz), len);
		return why;
	}
	return NULL;
}

/*
 * What no loader can take whole, refused before any format is chosen: with
 * the bzImage magic, the setup code, kernel and payload the header claims
 * must be in the file (a truncated bzImage is never taken for a flat
 * binary); an ELF (unless multiboot's a.out kludge places it) must hold
 * its program headers and segments. kernel_format = flat takes bytes as
 * they are.
 */
static int image_check(const char *path, const uint8_t *img, size_t len,
		       const char *fmt)
{
	const char *why = NULL;
	long mb;

	if (fmt && !strcmp(fmt, "flat"))
		return 0;
	if (linux_has_hdrs(img, len)) {
		why = linux_bzimage_truncated(img, len);
	} else if (len >= SELFMAG && !memcmp(img, ELFMAG, SELFMAG)) {
		mb = multiboot_find(img, len);
		if (mb < 0 || len - mb < 8 || !(img[mb + 6] & 1)) /* flags bit 16 */
			why = elf_truncated(img, len);
	}
	if (!why)
		return 0;
	err("%s: %s", path, why);
	return -EINVAL;
}

int boot_check_files(const struct config *cfg)
{
	const struct cfg_section *s = config_section(cfg, "vm", "vm");
	const char *kernel = cfg_get(s, "kernel");
	const char *initrd = cfg_get(s, "initrd");
	uint8_t *img;
	size_t len;
	int rc, fd;

	if (!kernel) /* config_validate reports it missing */
		return 0;
	if ((rc = boot_read_file(kernel, &img, &len)))
		return rc;
	rc = image_check(kernel, img, len, cfg_get(s, "kernel_format"));
	free(img);
	if (rc || !initrd)
		return rc;
	/* the initrd's bytes are the guest's business: only its kind and size */
	if ((rc = boot_open_file(initrd, &fd, &len)))
		return rc;
	close(fd);
	return 0;
}

/* null, code32 (0x08), data (0x10), code64 (0x18), code16 (0x20), data16 (0x28) */
void boot_gdt(struct vm *vm)
{
	static const uint64_t gdt[] = {
		0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull,
		0x00af9b000000ffffull, 0x00009b000000ffffull, 0x000093000000ffffull,
	};

	mem_load(&vm->mem, BOOT_GDT, gdt, sizeof(gdt));
}

void boot_prot32(struct x86_state *st, uint32_t eip)
{
	x86_state_reset(st);
	x86_seg_flat(&st->seg[X86_CS], 0x08, 1, 32);
	for (int s = X86_ES; s <= X86_GS; s++)
		if (s != X86_CS)
			x86_seg_flat(&st->seg[s], 0x10, 0, 32);
	st->gdt = (struct x86_dtable){ BOOT_GDT, 6 * 8 - 1 };
	st->idt = (struct x86_dtable){ 0, 0 };
	st->cr0 = X86_CR0_PE | X86_CR0_ET;
	st->rip = eip;
	st->gpr[X86_RDX] = 0;
}

/* Identity map of the first 1 GiB with 2 MiB pages, long mode on. */
int boot_long64(struct vm *vm, struct x86_state *st, uint64_t rip)
{
	uint64_t pml4 = BOOT_PDPT | 3, pdpt = BOOT_PD | 3, pd[512];

	for (int i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83; /* present, rw, 2 MiB */
	if (mem_load(&vm->mem, BOOT_PML4, &pml4, 8) ||
	    mem_load(&vm->mem, BOOT_PML4 + 8, (uint64_t[511]){ 0 }, 511 * 8) ||
	    mem_load(&vm->mem, BOOT_PDPT, &pdpt, 8) ||
	    mem_load(&vm->mem, BOOT_PDPT + 8, (uint64_t[511]){ 0 }, 511 * 8) ||
	    mem_load(&vm->mem, BOOT_PD, pd, sizeof(pd)))
		return -EFAULT;
	boot_prot32(st, 0);
	x86_seg_flat(&st->seg[X86_CS], 0x18, 1, 64);
	st->cr0 |= X86_CR0_PG;
	st->cr3 = BOOT_PML4;
	st->cr4 = X86_CR4_PAE;
	st->efer = X86_EFER_LME | X86_EFER_LMA;
	st->rip = rip;
	return 0;
}

static int boot_flat(struct vm *vm, const struct cfg_section *s,
		     const char *path, const uint8_t *img, size_t len)
{
	struct x86_state *st = &vm->cpu[0].boot;
	int64_t addr = 0x7c00;
	const char *entry = cfg_get(s, "entry");
	const char *la = cfg_get(s, "load_addr");

	if (la)
		cfg_parse_int(la, &addr);
	if (mem_load(&vm->mem, addr, img, len)) {
		err("%s: %zu bytes at 0x%llx do not fit in guest RAM", path, len,
		    (unsigned long long)addr);
		return -EFAULT;
	}
	boot_gdt(vm);
	if (!entry || !strcmp(entry, "real")) {
		x86_state_reset(st);
		uint16_t cs = addr > 0xffff ? (uint16_t)(addr >> 4) : 0;
		x86_seg_real(&st->seg[X86_CS], cs, 1);
		st->rip = addr - ((uint64_t)cs << 4);
		st->gpr[X86_RSP] = addr > 0xffff ? 0xfffe : addr;
		st->gpr[X86_RDX] = 0;
		return 0;
	}
	if (!strcmp(entry, "prot32")) {
		boot_prot32(st, addr);
		st->gpr[X86_RSP] = addr;
		return 0;
	}
	if (boot_long64(vm, st, addr))
		return -EFAULT;
	st->gpr[X86_RSP] = addr;
	return 0;
}

/* kernel_format = auto: what the image says it is. */
static const char *detect(struct vm *vm, const uint8_t *img, size_t len)
{
	if (linux_is_bzimage(img, len))
		/* the interpreter gains most from skipping decompression */
		return !strcmp(vm->accel->name, "emu") ? "pvh-auto" : "linux";
	if (multiboot_find(img, len) >= 0)
		return "multiboot";
	if (len >= 4 && !memcmp(img, "\177ELF", 4))
		return elf_has_pvh(img, len) ? "pvh" : "linux";
	return "flat";
}

int boot_load(struct vm *vm)
{
	const struct cfg_section *s = config_section(vm->cfg, "vm", "vm");
	const char *path = cfg_get(s, "kernel");
	const char *fmt = cfg_get(s, "kernel_format");
	const char *cmdline = cfg_get(s, "cmdline");
	const char *initrd = cfg_get(s, "initrd");
	uint8_t *img;
	size_t len;
	int rc;

	if ((rc = boot_read_file(path, &img, &len)))
		return rc;
	if ((rc = image_check(path, img, len, fmt))) {
		free(img);
		return rc;
	}
	if (!cmdline)
		cmdline = "";
	if (!fmt || !strcmp(fmt, "auto"))
		fmt = detect(vm, img, len);
	if (initrd && strcmp(fmt, "linux") && strncmp(fmt, "pvh", 3)) {
		err("%s: initrd = needs kernel_format = linux or pvh (the image is %s)",
		    path, fmt);
		rc = -EINVAL;
	} else if (!strcmp(fmt, "multiboot")) {
		rc = boot_multiboot(vm, path, img, len, cmdline);
	} else if (!strcmp(fmt, "linux")) {
		rc = linux_is_bzimage(img, len) ?
			     boot_bzimage(vm, path, img, len, cmdline, initrd) :
			     boot_pvh(vm, path, img, len, cmdline, initrd, 0);
	} else if (!strncmp(fmt, "pvh", 3)) {
		rc = boot_pvh(vm, path, img, len, cmdline, initrd,
			      strcmp(fmt, "pvh") ? 2 : 1);
	} else {
		rc = boot_flat(vm, s, path, img, len);
	}
	free(img);
	return rc;
}
