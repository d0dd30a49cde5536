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

int pc_power_on(struct vm *vm)
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

/* ---- implicit devices ---- */

static const struct { const char *section, *plugin; } implicit[] = {
	{ "device rtc", "cmos" },
	{ "device kbc", "i8042" },
};

static int uses_plugin(const struct config *c, const char *plugin)
{
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->s[i].kind, "device") &&
		    !strcmp(cfg_get(&c->s[i], "plugin") ? cfg_get(&c->s[i], "plugin") : "", plugin))
			return 1;
	return 0;
}

int pc_config_expand(struct config *c)
{
	const struct cfg_section *vm = config_section(c, "vm", "vm");
	const char *m = cfg_get(vm, "machine");
	int line = vm ? vm->line : 1;

	if (!vm || (m && strcmp(m, "pc")))
		return 0;
	for (size_t i = 0; i < sizeof(implicit) / sizeof(implicit[0]); i++) {
		struct cfg_section *s;

		if (uses_plugin(c, implicit[i].plugin))
			continue;
		for (int j = 0; j < c->n; j++) {
			if (!strcmp(c->s[j].name, implicit[i].section)) {
				fprintf(stderr, "%s:%d: [%s]: machine = pc adds a %s device by this name; rename the section or use machine = none\n",
					c->path, c->s[j].line, c->s[j].name, implicit[i].plugin);
				return -1;
			}
		}
		s = realloc(c->s, (c->n + 1) * sizeof(*s));
		if (!s)
			return -1;
		c->s = s;
		s = &c->s[c->n++];
		memset(s, 0, sizeof(*s));
		s->name = strdup(implicit[i].section);
		s->kind = strdup("device");
		s->id = strdup(strchr(implicit[i].section, ' ') + 1);
		s->line = line;
		s->implicit = 1;
		s->e = calloc(1, sizeof(*s->e));
		if (!s->name || !s->kind || !s->id || !s->e)
			return -1;
		s->e[0] = (struct cfg_entry){ strdup("plugin"), strdup(implicit[i].plugin), line };
		s->n = 1;
	}
	return 0;
}
