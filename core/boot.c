/*
 * Flat binaries and the common pieces of every loader: the boot GDT, and
 * protected- and long-mode entry states.
 */
#include "boot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "vm.h"
#include "x86.h"

int boot_read_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f) {
		err("%s: %s", path, strerror(errno));
		return -errno;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		err("%s: cannot size the file", path);
		fclose(f);
		return -EIO;
	}
	*data = malloc(n ? n : 1);
	if (!*data || fread(*data, 1, n, f) != (size_t)n) {
		err("%s: read error", path);
		free(*data);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*len = n;
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
