/*
 * The machine's layout as the boot loaders see it: plain data the VM fills
 * in from the platform (pc/) before every boot_load(), so the loaders read
 * a memory map and an RSDP address instead of calling into the platform.
 */
#ifndef HV_CORE_LAYOUT_H
#define HV_CORE_LAYOUT_H

#include <stdint.h>

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
} __attribute__((packed));

/* The zero page holds 128 entries, the most any loader takes. */
#define BOOT_E820_MAX 128

struct boot_layout {
	struct e820_entry e820[BOOT_E820_MAX]; /* RAM and reserved, sorted */
	int n_e820;
	uint64_t rsdp; /* 0: no ACPI (machine = none) */
};

#endif
