/*
 * machine = pc: assembling the platform (pc.h has the layout) and the
 * pieces the loaders and the VM lifecycle ask of it.
 */
#include "pc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config.h"
#include "../log.h"
#include "../vm.h"
#include "pci.h"

int pc_enabled(const struct vm *vm)
{
	const char *m = cfg_get(config_section(vm->cfg, "vm", "vm"), "machine");

	return !m || !strcmp(m, "pc");
}

int pc_init(struct vm *vm)
{
	int rc;

	if (!pc_enabled(vm))
		return 0;
	if ((rc = pci_host_new(vm, &vm->pci)) || (rc = pm_init(vm, &vm->pm)))
		return rc;
	return 0;
}

void pc_free(struct vm *vm)
{
	pci_host_free(vm->pci);
	pm_free(vm->pm);
	vm->pci = NULL;
	vm->pm = NULL;
}

static int tables_on(struct vm *vm)
{
	uint8_t *t;
	int n;

	if (!vm->pci)
		return 0;
	pci_host_reset(vm->pci);
	pm_reset(vm->pm);
	t = mem_ptr(&vm->mem, PC_ACPI_BASE, PC_ACPI_SIZE, MEM_WRITE);
	if (!t) {
		err("machine = pc: no RAM at 0x%llx for the ACPI tables",
		    PC_ACPI_BASE);
		return -ENOMEM;
	}
	n = acpi_build(vm, t, PC_ACPI_SIZE, PC_ACPI_BASE);
	if (n < 0) {
		err("machine = pc: the ACPI tables do not fit in %llu KiB",
		    PC_ACPI_SIZE >> 10);
		return n;
	}
	return 0;
}

int pc_power_on(struct vm *vm)
{
	int rc = tables_on(vm);

	if (rc)
		return rc;
	/* last, once BARs are placed: the loaders read it as data (layout.h) */
	vm->layout.n_e820 = pc_e820(vm, vm->layout.e820, BOOT_E820_MAX);
	vm->layout.rsdp = pc_rsdp(vm);
	return 0;
}

uint64_t pc_rsdp(const struct vm *vm)
{
	return vm->pci ? PC_ACPI_BASE : 0;
}

int pc_power_button(struct vm *vm)
{
	return vm->pm ? pm_power_button(vm->pm) : -ENODEV;
}

uint64_t pc_pci_mem64(const struct vm *vm)
{
	uint64_t top = 1ull << 32;

	for (int i = 0; i < vm->mem.n; i++)
		if (vm->mem.r[i].gpa + vm->mem.r[i].size > top)
			top = vm->mem.r[i].gpa + vm->mem.r[i].size;
	return (top + (1ull << 30) - 1) & ~((1ull << 30) - 1);
}

static int add(struct e820_entry *e, int n, int max, uint64_t a, uint64_t end,
	       uint32_t type)
{
	if (end <= a || n >= max)
		return n;
	e[n] = (struct e820_entry){ a, end - a, type };
	return n + 1;
}

/* Where the RAM that starts at 0 ends: a device claiming the VGA window
 * splits it into pieces (devmem.c), which e820 still reports as one. */
static uint64_t low_end(const struct vm *vm)
{
	uint64_t end = 0;

	for (int i = 0; i < vm->mem.n; i++) {
		const struct mem_region *r = &vm->mem.r[i];

		if (r->kind == MEM_RAM && r->size && r->gpa < PC_HIGH_MEM &&
		    r->gpa + r->size > end)
			end = r->gpa + r->size;
	}
	return end;
}

/* RAM from the memory map, less the PC's holes below 1 MiB; ECAM
 * reserved. Sorted, because the map's RAM regions are (the pieces below
 * 1 MiB count as the region at 0). */
int pc_e820(const struct vm *vm, struct e820_entry *e, int max)
{
	int n = 0, pc = vm->pci != NULL, ecam = !pc;

	for (int i = 0; i < vm->mem.n; i++) {
		const struct mem_region *r = &vm->mem.r[i];
		uint64_t a = r->gpa, end = r->gpa + r->size;

		if (r->kind != MEM_RAM || (a && a < PC_HIGH_MEM))
			continue;
		if (a == 0)
			end = low_end(vm);
		if (!ecam && a > PC_ECAM) {
			n = add(e, n, max, PC_ECAM, PC_ECAM + PC_ECAM_SIZE, E820_RESERVED);
			ecam = 1;
		}
		if (a == 0) {
			n = add(e, n, max, 0, end < PC_EBDA ? end : PC_EBDA, E820_RAM);
			n = add(e, n, max, PC_EBDA, end < 0xa0000 ? end : 0xa0000,
				E820_RESERVED);
			if (pc)
				n = add(e, n, max, PC_ACPI_BASE,
					end < PC_HIGH_MEM ? end : PC_HIGH_MEM, E820_RESERVED);
			a = PC_HIGH_MEM;
		}
		n = add(e, n, max, a, end, E820_RAM);
	}
	if (!ecam)
		n = add(e, n, max, PC_ECAM, PC_ECAM + PC_ECAM_SIZE, E820_RESERVED);
	return n;
}
