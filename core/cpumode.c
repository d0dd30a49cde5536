/*
 * CPU-mode entry states every loader shares: the boot GDT, flat 32-bit
 * protected mode and long mode with an identity map of the first 1 GiB.
 */
#include "boot.h"

#include <errno.h>
#include <stdint.h>

#include "vm.h"
#include "x86.h"

/* null, code32 (0x08), data (0x10), code64 (0x18), code16 (0x20), data16 (0x28) */
void boot_gdt(struct vm *vm)
{
	static const uint64_t gdt[] = {
		0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull,
		0x00af9b000000ffffull, 0x00009b000000ffffull, 0x000093000000ffffull,
	};

	mem_load(&vm->mem, BOOT_GDT, gdt, sizeof(gdt));
}

void boot_prot32(struct x86_state *st, uint32_t eip)
{
	x86_state_reset(st);
	x86_seg_flat(&st->seg[X86_CS], 0x08, 1, 32);
	for (int s = X86_ES; s <= X86_GS; s++)
		if (s != X86_CS)
			x86_seg_flat(&st->seg[s], 0x10, 0, 32);
	st->gdt = (struct x86_dtable){ BOOT_GDT, 6 * 8 - 1 };
	st->idt = (struct x86_dtable){ 0, 0 };
	st->cr0 = X86_CR0_PE | X86_CR0_ET;
	st->rip = eip;
	st->gpr[X86_RDX] = 0;
}

/* Identity map of the first 1 GiB with 2 MiB pages, long mode on. */
int boot_long64(struct vm *vm, struct x86_state *st, uint64_t rip)
{
	uint64_t pml4 = BOOT_PDPT | 3, pdpt = BOOT_PD | 3, pd[512];

	for (int i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83; /* present, rw, 2 MiB */
	if (mem_load(&vm->mem, BOOT_PML4, &pml4, 8) ||
	    mem_load(&vm->mem, BOOT_PML4 + 8, (uint64_t[511]){ 0 }, 511 * 8) ||
	    mem_load(&vm->mem, BOOT_PDPT, &pdpt, 8) ||
	    mem_load(&vm->mem, BOOT_PDPT + 8, (uint64_t[511]){ 0 }, 511 * 8) ||
	    mem_load(&vm->mem, BOOT_PD, pd, sizeof(pd)))
		return -EFAULT;
	boot_prot32(st, 0);
	x86_seg_flat(&st->seg[X86_CS], 0x18, 1, 64);
	st->cr0 |= X86_CR0_PG;
	st->cr3 = BOOT_PML4;
	st->cr4 = X86_CR4_PAE;
	st->efer = X86_EFER_LME | X86_EFER_LMA;
	st->rip = rip;
	return 0;
}
