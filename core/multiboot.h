/*
 * Multiboot's two halves: the image loader (multiboot.c) and the
 * placement of the modules and the info structure (mbinfo.c).
 */
#ifndef HV_CORE_MULTIBOOT_H
#define HV_CORE_MULTIBOOT_H

#include <stdint.h>

#include "boot.h"

struct config;
struct vm;

/* Guest-physical [lo, hi). */
struct mb_range {
	uint64_t lo, hi;
};

/* Where everything goes: the image as loaded, each module, the info. */
struct mb_plan {
	struct mb_range image, mod[BOOT_MODULES_MAX], info;
};

/* Read the [vm] modules, place them and the info structure clear of
 * p->image, load the modules and write the info (cmdline, memory map from
 * vm->layout): 0 with p filled in, or -errno after one line. */
int mb_place(struct vm *vm, const char *path, const char *cmdline,
	     struct mb_plan *p);
/* The same placement without a VM, on the RAM a PC with memory bytes
 * has: what mb_place() would refuse for want of room or files. */
int mb_place_check(const struct config *cfg, const char *path,
		   const char *cmdline, uint64_t memory, struct mb_plan *p);

#endif
