/*
 * The PCI host bridge of machine = pc: bus 0, configuration mechanism #1
 * (ports 0xcf8/0xcfc, with 0xcf9 the reset control register) and ECAM at
 * PC_ECAM, slot 0 the host bridge itself, and the functions device plugins
 * register through the SDK (hv/pci.h).
 *
 * Locking: a function's configuration state is guarded by its device's
 * domain lock (the core takes it around configuration accesses, as the bus
 * does around BAR accesses); INTx line counts by the bridge's irq lock,
 * taken last.
 */
#ifndef HV_CORE_PC_PCI_H
#define HV_CORE_PC_PCI_H

#include <stddef.h>
#include <stdint.h>

#include <hv/hv.h>

struct vm;
struct pci_host;
struct instance;
struct hv_state;

int pci_host_new(struct vm *vm, struct pci_host **out);
void pci_host_free(struct pci_host *h);
/* Power-on: every function's header afresh, BARs assigned firmware-style
 * (I/O from PC_PCI_IO, memory from PC_PCI_MEM32) and decoding enabled. */
void pci_host_reset(struct pci_host *h);
/* The GSI slot/pin routes to (the DSDT's _PRT says the same). */
unsigned pci_gsi(unsigned slot, unsigned pin);

/* Configuration access to bus/dev/fn/reg, as both mechanisms see it. */
uint32_t pci_cfg_read(struct pci_host *h, unsigned bdf, unsigned reg,
		      unsigned size);
void pci_cfg_write(struct pci_host *h, unsigned bdf, unsigned reg,
		   unsigned size, uint32_t val);

/* SDK services. */
int pci_register(struct hv_ctx *ctx, const struct hv_pci_info *info,
		 size_t info_size, size_t bar_size, struct hv_pci_dev **out);
void pci_intx(struct hv_ctx *ctx, struct hv_pci_dev *d, int level);
int pci_msi(struct hv_ctx *ctx, struct hv_pci_dev *d, unsigned vector);
uint16_t pci_command(struct hv_ctx *ctx, struct hv_pci_dev *d);
void *pci_bar_ram(struct hv_ctx *ctx, struct hv_pci_dev *d, unsigned bar);
int pci_bar_dirty(struct hv_ctx *ctx, struct hv_pci_dev *d, unsigned bar,
		  uint64_t *bitmap, size_t bitmap_bytes);

/* The function's configuration state into/out of a snapshot stream (the
 * core appends it to the device's own state). */
int pci_dev_save(struct hv_pci_dev *d, struct hv_state *st);
int pci_dev_restore(struct hv_pci_dev *d, struct hv_state *st);

#endif
