/* SPDX-License-Identifier: MIT */
/*
 * hv SDK: PCI devices (machine = pc).
 *
 * A device plugin becomes a PCI function by calling hv_pci_register() from
 * its create op with a struct hv_pci_info. The core then owns the function's
 * configuration space: the type-0 header, BAR sizing and decoding (a BAR is
 * on the bus only while the guest enables I/O or memory decoding and has
 * put it somewhere that does not collide with RAM or another region; the
 * core moves it when the guest reprograms it), the INTx pin's routing to a
 * GSI (slot and pin swizzled onto GSIs 16-23, described by the DSDT's
 * _PRT), and the MSI and MSI-X capabilities, MSI-X table and PBA included.
 * The slot comes from the section's `pci_slot =` or is the first free one.
 *
 * Threads and locks: BAR accesses (hv_pci_bar.ops) run on vCPU threads and
 * cfg_read/cfg_write on the vCPU thread of the configuration access, all
 * with the device's domain lock held, like any region. hv_pci_intx_set() and
 * hv_pci_msi_send() may be called from any of the device's callbacks.
 */
#ifndef HV_PCI_H
#define HV_PCI_H

#include <stdint.h>

#include "hv/host.h"

struct hv_pci_dev;

#define HV_PCI_BAR_IO 0x1u       /* I/O space BAR */
#define HV_PCI_BAR_MEM32 0x2u    /* memory BAR below 4 GiB */
#define HV_PCI_BAR_MEM64 0x4u    /* 64-bit memory BAR: uses the next index too */
#define HV_PCI_BAR_PREFETCH 0x8u /* memory BAR marked prefetchable */
/* v2.0, with MEM32 or MEM64: memory the core allocates (size a power of
 * two, at least 4096) and maps as guest memory, not trapped: ops unused.
 * hv_pci_bar_ram_get() gives its host address (hv/devmem.h). */
#define HV_PCI_BAR_RAM 0x10u

/* Device-specific configuration space starts here; below it the core keeps
 * the header and its MSI (0x40) and MSI-X (0x50) capabilities. */
#define HV_PCI_CFG_DEVICE 0x60u
/* A function with neither MSI nor MSI-X (msi_vectors and msix_vectors 0)
 * gets cfg_read/cfg_write from here instead: chipset functions keep
 * registers below 0x60 (the PIIX IDE's IDETIM at 0x40). */
#define HV_PCI_CFG_LEGACY 0x40u

#define HV_PCI_CMD_IO 0x1u
#define HV_PCI_CMD_MEMORY 0x2u
#define HV_PCI_CMD_MASTER 0x4u /* bus master: DMA and MSIs allowed */

struct hv_pci_bar {
	uint64_t size;  /* power of two, I/O >= 4, memory >= 16; 0: unused */
	uint32_t flags; /* HV_PCI_BAR_* */
	uint32_t reserved;
	const struct hv_region_ops *ops; /* offsets relative to the BAR */
	void *opaque;
};

struct hv_pci_info {
	uint16_t vendor, device;
	uint16_t subsystem_vendor, subsystem;
	uint32_t class_code; /* class << 16 | subclass << 8 | programming i/f */
	uint8_t revision;
	uint8_t irq_pin;       /* 0: no INTx; 1-4: INTA#-INTD# */
	uint16_t msi_vectors;  /* 0: no MSI capability; else 1, 2, 4, ... 32 */
	uint16_t msix_vectors; /* 0: no MSI-X; else up to 2048 */
	uint8_t msix_bar;      /* the BAR index the core gives MSI-X's table
				  and PBA; the device leaves that BAR unused */
	uint8_t cap_next;      /* the device's first capability at or above
				  HV_PCI_CFG_DEVICE, 0 for none */
	/* Six BARs, or NULL for none. The core copies them at registration
	 * (hv_pci_register() passes the entry size, so struct hv_pci_bar may
	 * grow), so they may live on the caller's stack. */
	const struct hv_pci_bar *bar;
	/* Configuration space from HV_PCI_CFG_DEVICE (HV_PCI_CFG_LEGACY
	 * without MSI and MSI-X) to 0xfff (0x100 and up
	 * only through ECAM). NULL: reads 0, writes are dropped. offset is
	 * aligned to size (1, 2 or 4). */
	uint32_t (*cfg_read)(struct hv_ctx *ctx, void *opaque, unsigned offset,
			     unsigned size);
	void (*cfg_write)(struct hv_ctx *ctx, void *opaque, unsigned offset,
			  unsigned size, uint32_t value);
	void *opaque;
};

/*
 * Register the calling device as a PCI function: 0, -ENODEV (machine has
 * no PCI), -EBUSY (the slot is taken or all are), -EINVAL (a bad BAR or
 * vector count; hv_error() said which). From create only.
 */
HV_MUST_CHECK static inline int hv_pci_register(struct hv_ctx *ctx,
				  const struct hv_pci_info *info,
				  struct hv_pci_dev **out)
{
	return ctx->host->pci_register(ctx, info, sizeof(*info),
				       sizeof(struct hv_pci_bar), out);
}

/* Drive the INTx pin: level 1 asserts, 0 deasserts. Shared lines are
 * OR-ed; the guest's Interrupt Disable bit masks the pin. */
static inline void hv_pci_intx_set(struct hv_ctx *ctx, struct hv_pci_dev *d,
			       int level)
{
	ctx->host->pci_intx_set(ctx, d, level);
}

/* Signal MSI-X entry or MSI vector `vector`: 0 when sent or left pending
 * (a masked MSI-X entry), -ENOENT when the guest enabled neither MSI nor
 * MSI-X (use INTx), -EPERM without bus mastering. */
static inline int hv_pci_msi_send(struct hv_ctx *ctx, struct hv_pci_dev *d,
			     unsigned vector)
{
	return ctx->host->pci_msi_send(ctx, d, vector);
}

/* The guest's command register (HV_PCI_CMD_*): check MASTER before DMA. */
static inline uint16_t hv_pci_command_get(struct hv_ctx *ctx, struct hv_pci_dev *d)
{
	return ctx->host->pci_command_get(ctx, d);
}

#endif
