/*
 * machine = pc: the PC platform the core provides itself — the guest
 * physical layout, the e820 map, the PCI host bridge (pci.c), the ACPI
 * tables (acpi.c) and the ACPI PM block with the power button (pm.c). The
 * CMOS/RTC and the i8042 are device plugins the config gains implicitly
 * (pc_config_expand), so they show in `hv check`.
 *
 * Layout (guest-physical):
 *   0x00000-0x9fbff  RAM            0x9fc00-0x9ffff reserved (EBDA)
 *   0xe0000-0xfffff  ACPI tables, reserved
 *   0x100000-        RAM up to min(memory, 3 GiB), the rest above 4 GiB
 *   0xc0000000-      32-bit PCI BARs (firmware-assigned at power-on)
 *   above RAM        the 64-bit PCI window: from 4 GiB or the end of RAM
 *                    above it, rounded up to 1 GiB, PC_PCI_MEM64_SIZE long;
 *                    64-bit BARs the 32-bit window has no room for go here
 *   0xe0000000-      ECAM, 256 buses (reserved in e820)
 *   0xfec00000       IOAPIC (KVM in-kernel)    0xfee00000 LAPICs
 *   ports 0xcf8-0xcff PCI configuration mechanism #1, 0xcf9 reset control
 *   ports 0x600-0x60b ACPI PM1a event/control blocks and PM timer; SCI IRQ 9
 */
#ifndef HV_CORE_PC_H
#define HV_CORE_PC_H

#include <stddef.h>
#include <stdint.h>

#include "../layout.h"

struct vm;
struct config;

#define PC_EBDA 0x9fc00ull
#define PC_ACPI_BASE 0xe0000ull
#define PC_ACPI_SIZE 0x20000ull
#define PC_HIGH_MEM 0x100000ull
#define PC_PCI_MEM32 0xc0000000ull
#define PC_PCI_MEM32_END 0xe0000000ull
#define PC_PCI_MEM64_SIZE (32ull << 30)
#define PC_ECAM 0xe0000000ull
#define PC_ECAM_SIZE 0x10000000ull
#define PC_IOAPIC 0xfec00000ull
#define PC_LAPIC 0xfee00000ull
#define PC_PCI_IO 0xc000u
#define PC_PCI_IO_END 0x10000u
#define PC_PM_BASE 0x600u
#define PC_SCI_IRQ 9u
#define PC_S5_TYPE 5u     /* SLP_TYP of \_S5 in the DSDT */
#define PC_GSI_PCI 16u    /* PCI INTx lines: GSIs 16-23 */


/* 1 when the VM is a PC (the default), 0 for machine = none. */
int pc_enabled(const struct vm *vm);
/* Bring up the platform: PCI host bridge, PM block. 0 or -errno. */
int pc_init(struct vm *vm);
void pc_free(struct vm *vm);
/* Power-on: PCI BARs assigned, ACPI tables written into RAM, and
 * vm->layout (the e820 map, the RSDP) filled in for boot_load(). */
int pc_power_on(struct vm *vm);
/* Where the 64-bit PCI window starts (PC_PCI_MEM64_SIZE long): above RAM. */
uint64_t pc_pci_mem64(const struct vm *vm);
/* The guest's memory map: RAM and reserved ranges, sorted; the count. */
int pc_e820(const struct vm *vm, struct e820_entry *e, int max);
/* Where the RSDP is, or 0 without ACPI (machine = none). */
uint64_t pc_rsdp(const struct vm *vm);
/* Press the ACPI power button: 0, or -ENODEV when the guest cannot see it
 * (machine = none, or the guest never enabled the event). */
int pc_power_button(struct vm *vm);
/* machine = pc: add the implicit [device] sections (CMOS/RTC, i8042) the
 * file does not configure itself. 0 or -1 after a message. */
int pc_config_expand(struct config *c);

/* acpi.c: write the tables at PC_ACPI_BASE; their total size or -errno. */
int acpi_build(struct vm *vm, uint8_t *buf, size_t size, uint64_t gpa);
/* pm.c */
struct pc_pm;
int pm_init(struct vm *vm, struct pc_pm **out);
void pm_reset(struct pc_pm *pm);
int pm_power_button(struct pc_pm *pm);
void pm_free(struct pc_pm *pm);

#endif
