/*
 * The Linux x86 boot protocol (Documentation/arch/x86/boot.rst), direct
 * kernel boot without firmware: a bzImage's protected-mode part is loaded
 * at its preferred address and entered at its 64-bit entry (protocol 2.12+
 * with XLF_KERNEL_64) or its 32-bit entry (2.06+), with RSI/ESI pointing at
 * the zero page (struct boot_params) that carries the setup header, the
 * command line, the initrd and the e820 map. A vmlinux ELF is entered at
 * its ELF entry in long mode with a zero page we fill in from scratch.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "log.h"
#include "vm.h"
#include "x86.h"

/* boot_params offsets */
#define BP_SCREEN_INFO 0x000
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_HDR 0x1f1
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
/* setup header offsets (from the start of the image / zero page) */
#define H_SETUP_SECTS 0x1f1
#define H_SYSSIZE 0x1f4
#define H_VID_MODE 0x1fa
#define H_BOOT_FLAG 0x1fe
#define H_JUMP 0x200
#define H_MAGIC 0x202
#define H_VERSION 0x206
#define H_TYPE_OF_LOADER 0x210
#define H_LOADFLAGS 0x211
#define H_CODE32_START 0x214
#define H_RAMDISK_IMAGE 0x218
#define H_RAMDISK_SIZE 0x21c
#define H_HEAP_END 0x224
#define H_CMD_LINE_PTR 0x228
#define H_INITRD_MAX 0x22c
#define H_KERNEL_ALIGN 0x230
#define H_RELOCATABLE 0x234
#define H_XLOADFLAGS 0x236
#define H_CMDLINE_SIZE 0x238
#define H_PAYLOAD_OFFSET 0x248
#define H_PAYLOAD_LENGTH 0x24c
#define H_PREF_ADDRESS 0x258
#define H_INIT_SIZE 0x260

#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01

#define ZERO_PAGE 0x7000ull
#define CMDLINE_ADDR 0x20000ull
#define CMDLINE_MAX 0x10000ull

static uint16_t rd16(const uint8_t *p, size_t off)
{
	return (uint16_t)(p[off] | p[off + 1] << 8);
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
	return rd16(p, off) | (uint32_t)rd16(p, off + 2) << 16;
}

static void wr32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

int linux_is_bzimage(const uint8_t *img, size_t len)
{
	return len >= 0x264 && !memcmp(img + H_MAGIC, "HdrS", 4) &&
	       rd16(img, H_BOOT_FLAG) == 0xaa55;
}

const char *linux_bzimage_check(const uint8_t *img, size_t len,
				uint16_t min_version)
{
	static char why[96];
	uint16_t ver;
	size_t setup;

	if (len < 0x264 || rd16(img, H_BOOT_FLAG) != 0xaa55)
		return "not a Linux kernel (no boot sector signature)";
	if (memcmp(img + H_MAGIC, "HdrS", 4))
		return "not a Linux kernel (no HdrS setup header)";
	ver = rd16(img, H_VERSION);
	if (ver < min_version) {
		snprintf(why, sizeof(why),
			 "Linux boot protocol %u.%02u is too old (hv needs %u.%02u)",
			 ver >> 8, ver & 0xff, min_version >> 8, min_version & 0xff);
		return why;
	}
	setup = ((size_t)(img[H_SETUP_SECTS] ? img[H_SETUP_SECTS] : 4) + 1) * 512;
	if (setup >= len)
		return "truncated Linux kernel (setup code runs past the file)";
	return NULL;
}

int linux_has_hdrs(const uint8_t *img, size_t len)
{
	return len >= H_MAGIC + 4 && !memcmp(img + H_MAGIC, "HdrS", 4);
}

const char *linux_bzimage_truncated(const uint8_t *img, size_t len)
{
	static char why[160];
	uint64_t setup, sys, off, plen;
	uint16_t ver;

	if (len < 0x264)
		return "truncated bzImage: the setup header runs past the file's end";
	if (rd16(img, H_BOOT_FLAG) != 0xaa55)
		return "has the bzImage magic (HdrS) but no boot sector signature";
	ver = rd16(img, H_VERSION);
	setup = ((uint64_t)(img[H_SETUP_SECTS] ? img[H_SETUP_SECTS] : 4) + 1) * 512;
	/* syssize: the protected-mode kernel in 16-byte units (16 bits
	 * before protocol 2.04) */
	sys = 16ull * (ver >= 0x204 ? rd32(img, H_SYSSIZE) : rd16(img, H_SYSSIZE));
	off = ver >= 0x208 ? rd32(img, H_PAYLOAD_OFFSET) : 0;
	plen = ver >= 0x208 ? rd32(img, H_PAYLOAD_LENGTH) : 0;
	if (setup >= len)
		snprintf(why, sizeof(why),
			 "truncated bzImage: %llu bytes of setup code, the file has %zu",
			 (unsigned long long)setup, len);
	else if (!sys || sys > len - setup)
		snprintf(why, sizeof(why),
			 "truncated bzImage: the kernel after the setup code is %llu bytes, the file holds %llu",
			 (unsigned long long)sys, (unsigned long long)(len - setup));
	else if (off + plen > len - setup)
		snprintf(why, sizeof(why),
			 "truncated bzImage: the compressed payload ends at byte %llu, past the file's end (%zu)",
			 (unsigned long long)(setup + off + plen), len);
	else
		return NULL;
	return why;
}

/* The initrd at the highest page below `limit` that clears `floor`, in
 * the RAM region the kernel ends in: with a VGA owning 0xa0000-0xbffff
 * the region at 0 ends there, and the RAM above 1 MiB is another one. */
int linux_load_initrd(struct vm *vm, const char *path, uint64_t floor,
		      uint64_t limit, uint64_t *addr, uint64_t *size)
{
	const struct mem_region *low = mem_find(&vm->mem, floor ? floor - 1 : 0);
	uint8_t *data;
	size_t len;
	uint64_t top, at;
	int rc;

	*addr = *size = 0;
	if (!path)
		return 0;
	if ((rc = boot_read_file(path, &data, &len)))
		return rc;
	top = low ? low->gpa + low->size : 0;
	if (top > limit)
		top = limit;
	at = len <= top ? (top - len) & ~(MEM_PAGE - 1) : 0;
	if (!len || at < floor || mem_load(&vm->mem, at, data, len)) {
		err("%s: the initrd (%zu KiB) does not fit in guest RAM between the kernel's end (0x%llx) and 0x%llx; raise memory",
		    path, len >> 10, (unsigned long long)floor,
		    (unsigned long long)top);
		free(data);
		return -ENOMEM;
	}
	free(data);
	*addr = at;
	*size = len;
	return 0;
}

/* struct screen_info (include/uapi/linux/screen_info.h) at BP_SCREEN_INFO */
#define SI_ORIG_X 0x00
#define SI_ORIG_Y 0x01
#define SI_VIDEO_MODE 0x06
#define SI_VIDEO_COLS 0x07
#define SI_VIDEO_EGA_BX 0x0a
#define SI_VIDEO_LINES 0x0e
#define SI_VIDEO_ISVGA 0x0f
#define SI_VIDEO_POINTS 0x10
#define VIDEO_TYPE_VGAC 0x22

/* A device owns the VGA window (a VGA in mode 3, as its reset leaves it):
 * say so as a BIOS's int 10h answers would, so that vgacon takes the
 * screen. Without one the zeros say "no video". */
static void fill_screen_info(const struct vm *vm, uint8_t *bp)
{
	uint8_t *si = bp + BP_SCREEN_INFO;

	if (!vm->vga)
		return;
	si[SI_ORIG_X] = 0, si[SI_ORIG_Y] = 0; /* the cursor after reset */
	si[SI_VIDEO_MODE] = 3;
	si[SI_VIDEO_COLS] = 80;
	si[SI_VIDEO_LINES] = 25;
	si[SI_VIDEO_ISVGA] = VIDEO_TYPE_VGAC;
	si[SI_VIDEO_POINTS] = 16, si[SI_VIDEO_POINTS + 1] = 0;
	/* int 10h AH=12h BL=10h: BH 0 colour, BL 3 for 256 KiB */
	si[SI_VIDEO_EGA_BX] = 0x03, si[SI_VIDEO_EGA_BX + 1] = 0x00;
}

/* Command line, e820, RSDP and initrd into a zero page; then write it. */
static int fill_zero_page(struct vm *vm, uint8_t *bp, const char *cmdline,
			  uint64_t initrd, uint64_t initrd_size)
{
	size_t cl = strlen(cmdline) + 1;
	uint32_t max = rd32(bp, H_CMDLINE_SIZE);
	int n;

	if (rd16(bp, H_VERSION) < 0x206)
		max = 255;
	if (cl > max + 1ull || cl > CMDLINE_MAX) {
		err("cmdline: %zu bytes; this kernel takes at most %u", cl - 1, max);
		return -E2BIG;
	}
	if (mem_load(&vm->mem, CMDLINE_ADDR, cmdline, cl))
		return -EFAULT;
	wr32(bp, H_CMD_LINE_PTR, CMDLINE_ADDR);
	wr32(bp, H_RAMDISK_IMAGE, (uint32_t)initrd);
	wr32(bp, H_RAMDISK_SIZE, (uint32_t)initrd_size);
	wr32(bp, BP_EXT_RAMDISK_IMAGE, (uint32_t)(initrd >> 32));
	wr32(bp, BP_EXT_RAMDISK_SIZE, (uint32_t)(initrd_size >> 32));
	bp[H_TYPE_OF_LOADER] = 0xff;
	bp[H_LOADFLAGS] |= CAN_USE_HEAP | LOADED_HIGH;
	bp[H_HEAP_END] = 0x00, bp[H_HEAP_END + 1] = 0xfe; /* 0xfe00 */
	bp[H_VID_MODE] = 0xff, bp[H_VID_MODE + 1] = 0xff;  /* "normal" */
	memcpy(bp + BP_ACPI_RSDP, &vm->layout.rsdp, 8);
	fill_screen_info(vm, bp);
	n = vm->layout.n_e820 < BP_E820_MAX ? vm->layout.n_e820 : BP_E820_MAX;
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	memcpy(bp + BP_E820_TABLE, vm->layout.e820, n * sizeof(struct e820_entry));
	return mem_load(&vm->mem, ZERO_PAGE, bp, 4096) ? -EFAULT : 0;
}

static int enter(struct vm *vm, uint64_t entry, int bits)
{
	struct x86_state *st = &vm->cpu[0].boot;

	boot_gdt(vm);
	if (bits == 64) {
		if (boot_long64(vm, st, entry))
			return -EFAULT;
	} else {
		boot_prot32(st, (uint32_t)entry);
	}
	st->gpr[X86_RSI] = ZERO_PAGE;
	st->gpr[X86_RSP] = 0x8ff0; /* the kernel sets up its own stack */
	return 0;
}

int boot_bzimage(struct vm *vm, const char *path, const uint8_t *img,
		 size_t len, const char *cmdline, const char *initrd)
{
	const char *why = linux_bzimage_check(img, len, 0x206);
	uint8_t *bp;
	size_t setup, hdr_end;
	uint64_t load, init_size, align, initrd_at, initrd_size, limit;
	int bits, rc;

	if (why) {
		err("%s: %s", path, why);
		return -EINVAL;
	}
	setup = ((size_t)(img[H_SETUP_SECTS] ? img[H_SETUP_SECTS] : 4) + 1) * 512;
	bits = rd16(img, H_VERSION) >= 0x20c && (rd16(img, H_XLOADFLAGS) & XLF_KERNEL_64) ? 64 : 32;
	load = 0x100000;
	align = rd32(img, H_KERNEL_ALIGN);
	if (rd16(img, H_VERSION) >= 0x20a && img[H_RELOCATABLE]) {
		uint64_t pref = 0;
		memcpy(&pref, img + H_PREF_ADDRESS, 8);
		load = pref >= 0x100000 ? pref : 0x1000000;
		if (align && (align & (align - 1)) == 0)
			load = (load + align - 1) & ~(align - 1);
	}
	init_size = rd16(img, H_VERSION) >= 0x20a ? rd32(img, H_INIT_SIZE) : 0;
	if (init_size < len - setup)
		init_size = len - setup;
	if (bits == 64 && load + init_size > (1ull << 30)) {
		err("%s: the kernel needs 0x%llx bytes from 0x%llx, past the boot page tables' first GiB",
		    path, (unsigned long long)init_size, (unsigned long long)load);
		return -EINVAL;
	}
	if (!mem_ptr(&vm->mem, load, init_size, 0) ||
	    mem_load(&vm->mem, load, img + setup, len - setup)) {
		err("%s: the kernel needs %llu MiB of RAM from 0x%llx; raise memory",
		    path, (unsigned long long)(init_size >> 20),
		    (unsigned long long)load);
		return -ENOMEM;
	}
	limit = rd32(img, H_INITRD_MAX);
	if (rd16(img, H_VERSION) < 0x203 || !limit)
		limit = 0x37ffffff;
	if ((rc = linux_load_initrd(vm, initrd, load + init_size, limit + 1ull,
				    &initrd_at, &initrd_size)))
		return rc;
	bp = calloc(1, 4096);
	if (!bp)
		return -ENOMEM;
	hdr_end = 0x202 + img[H_JUMP + 1];
	if (hdr_end > 4096 || hdr_end > len)
		hdr_end = len < 4096 ? len : 4096;
	memcpy(bp + BP_HDR, img + BP_HDR, hdr_end - BP_HDR);
	wr32(bp, H_CODE32_START, (uint32_t)load);
	rc = fill_zero_page(vm, bp, cmdline, initrd_at, initrd_size);
	free(bp);
	if (rc)
		return rc;
	return enter(vm, bits == 64 ? load + 0x200 : load, bits);
}

/* A vmlinux already in RAM (pvh.c loaded it): the 64-bit boot protocol
 * with a zero page built from scratch. */
int boot_vmlinux_enter(struct vm *vm, uint64_t entry, uint64_t kernel_end,
		       const char *cmdline, const char *initrd)
{
	uint8_t *bp;
	uint64_t initrd_at, initrd_size;
	int rc;

	if ((rc = linux_load_initrd(vm, initrd, kernel_end, 0x100000000ull,
				    &initrd_at, &initrd_size)))
		return rc;
	bp = calloc(1, 4096);
	if (!bp)
		return -ENOMEM;
	bp[H_BOOT_FLAG] = 0x55, bp[H_BOOT_FLAG + 1] = 0xaa;
	memcpy(bp + H_MAGIC, "HdrS", 4);
	bp[H_VERSION] = 0x0f, bp[H_VERSION + 1] = 0x02;
	wr32(bp, H_KERNEL_ALIGN, 0x200000);
	wr32(bp, H_CMDLINE_SIZE, CMDLINE_MAX - 1);
	wr32(bp, H_INITRD_MAX, 0xffffffff);
	rc = fill_zero_page(vm, bp, cmdline, initrd_at, initrd_size);
	free(bp);
	return rc ? rc : enter(vm, entry, 64);
}
