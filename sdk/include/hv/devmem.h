/* SPDX-License-Identifier: MIT */
/*
 * hv SDK: device memory (v2.0). Memory a device owns that the guest reads
 * and writes like RAM, without an exit per access: a framebuffer.
 *
 * - A PCI BAR with HV_PCI_BAR_RAM (hv/pci.h): the core allocates it when
 *   the device registers, maps it wherever the guest puts the BAR while
 *   memory decoding is on (RAM, another BAR or an MMIO region in the way:
 *   it decodes nothing, as for other BARs) and moves it when the guest
 *   reprograms the BAR.
 * - The legacy VGA window 0xa0000-0xbffff (machine = pc): one device
 *   claims it and switches what it decodes as a VGA's memory map select
 *   does: trapping accesses to the device's own MMIO region there (planar
 *   modes), or 128 KiB of device memory the guest addresses directly.
 *
 * Lifetime: the host pointers stay valid, at the same address, for the
 * device's whole life, wherever (and whether) the guest sees the memory.
 * Threads and locks: any of the device's callbacks, on any thread, with
 * its domain lock held as usual (the core's map lock, taken inside, is
 * never held while waiting for a vCPU). Guest writes may land at any time:
 * read the memory as a racing bus master would. Dirty pages are counted
 * from the device's registration on, for writes by guest code (both
 * accelerators) and by the core. The log never misses a written page but
 * may report more: KVM logs a page it maps writable, which it may do on a
 * guest read right after the memory was (re)mapped.
 */
#ifndef HV_DEVMEM_H
#define HV_DEVMEM_H

#include <stddef.h>
#include <stdint.h>

#include "hv/host.h"

struct hv_pci_dev;

/* hv_vga_window modes */
#define HV_VGA_SYSTEM 0 /* what the window holds unclaimed: system RAM */
#define HV_VGA_MMIO 1   /* nothing mapped: accesses go to MMIO regions
			   (the device's, added with hv_region_add) */
#define HV_VGA_RAM 2    /* the device's 128 KiB at 0xa0000 */

/* The host address of RAM BAR `bar`, or NULL (not a RAM BAR of this
 * device, or a core without device memory). */
static inline void *hv_pci_bar_ram_get(struct hv_ctx *ctx, struct hv_pci_dev *d,
				   unsigned bar)
{
	if (HV_HOST_HAS(ctx, pci_bar_ram_get))
		return ctx->host->pci_bar_ram_get(ctx, d, bar);
	return NULL;
}

/* Read and clear the pages of RAM BAR `bar` written since the last call:
 * bit n of the bitmap (bitmap[n / 64] & 1 << n % 64) is the BAR's page n
 * (4 KiB at offset n * 4096), wherever the BAR is now. bitmap_bytes is a
 * multiple of 8; pages past it stay recorded for later. 0, -EINVAL,
 * -ENOSYS (core without device memory). */
static inline int hv_pci_bar_dirty_get(struct hv_ctx *ctx, struct hv_pci_dev *d,
				   unsigned bar, uint64_t *bitmap,
				   size_t bitmap_bytes)
{
	if (HV_HOST_HAS(ctx, pci_bar_dirty_get))
		return ctx->host->pci_bar_dirty_get(ctx, d, bar, bitmap, bitmap_bytes);
	return -ENOSYS;
}

/* Claim the VGA window (the first call, from create) and set what it
 * decodes (HV_VGA_*); *ram (if not NULL) gets the device's 128 KiB. 0,
 * -EBUSY (another device has it; a first call after create), -EINVAL,
 * -ENOSYS. */
static inline int hv_vga_window_set(struct hv_ctx *ctx, int mode, void **ram)
{
	if (HV_HOST_HAS(ctx, vga_window_set))
		return ctx->host->vga_window_set(ctx, mode, ram);
	return -ENOSYS;
}

/* hv_pci_bar_dirty_get for the window's 128 KiB (32 pages: 8 bytes). */
static inline int hv_vga_dirty_get(struct hv_ctx *ctx, uint64_t *bitmap,
			       size_t bitmap_bytes)
{
	if (HV_HOST_HAS(ctx, vga_dirty_get))
		return ctx->host->vga_dirty_get(ctx, bitmap, bitmap_bytes);
	return -ENOSYS;
}

#endif
