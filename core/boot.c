/*
 * The boot dispatcher: kernel_format = auto picks a loader, and flat
 * binaries are loaded here. The loaders' shared pieces are apart: the
 * files (bootfile.c) and the CPU-mode entry states (cpumode.c).
 */
#include "boot.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "vm.h"
#include "x86.h"

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
	if ((rc = boot_image_check(path, img, len, fmt))) {
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
