/*
 * Boot images: load the [vm] kernel= file into guest memory and describe
 * the BSP's entry state in vm->cpu[0].boot. Called at power-on and on
 * every reset (the image is loaded afresh). Errors name the file.
 */
#ifndef HV_CORE_BOOT_H
#define HV_CORE_BOOT_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct x86_state;

/* Fixed guest-physical addresses the loaders use for their own tables. */
#define BOOT_GDT 0x1000ull
#define BOOT_PML4 0x2000ull
#define BOOT_PDPT 0x3000ull
#define BOOT_PD 0x4000ull
#define BOOT_INFO 0x9000ull /* multiboot info, cmdline, memory map */

int boot_load(struct vm *vm);

/* Shared by the loaders (boot.c). */
int boot_read_file(const char *path, uint8_t **data, size_t *len);
void boot_gdt(struct vm *vm);
void boot_prot32(struct x86_state *st, uint32_t eip);
int boot_long64(struct vm *vm, struct x86_state *st, uint64_t rip);
int boot_multiboot(struct vm *vm, const char *path, const uint8_t *img,
		   size_t len, const char *cmdline);
/* Offset of a multiboot header in the first 8 KiB, or -1. */
long multiboot_find(const uint8_t *img, size_t len);

#endif
