#include "x86.h"

#include <string.h>

void x86_seg_real(struct x86_seg *s, uint16_t sel, int code)
{
	*s = (struct x86_seg){ .base = (uint64_t)sel << 4, .limit = 0xffff,
			       .sel = sel, .type = code ? 0xb : 0x3, .s = 1,
			       .present = 1 };
}

void x86_seg_flat(struct x86_seg *s, uint16_t sel, int code, int bits)
{
	*s = (struct x86_seg){ .base = 0, .limit = 0xffffffff, .sel = sel,
			       .type = code ? 0xb : 0x3, .s = 1, .present = 1,
			       .g = 1, .db = bits == 32 || (!code && bits == 64),
			       .l = code && bits == 64 };
}

void x86_state_reset(struct x86_state *st)
{
	memset(st, 0, sizeof(*st));
	for (int i = X86_ES; i <= X86_GS; i++)
		x86_seg_real(&st->seg[i], 0, 0);
	x86_seg_real(&st->seg[X86_CS], 0xf000, 1);
	st->seg[X86_CS].base = 0xffff0000;
	st->rip = 0xfff0;
	st->rflags = 0x2;
	st->gdt.limit = 0xffff;
	st->idt.limit = 0xffff;
	st->seg[X86_LDTR] = (struct x86_seg){ .limit = 0xffff, .type = 2, .present = 1 };
	st->seg[X86_TR] = (struct x86_seg){ .limit = 0xffff, .type = 11, .present = 1 };
	st->cr0 = X86_CR0_ET | 0x60000000; /* CD, NW */
	st->apic_base = 0xfee00000 | (1 << 11) | (1 << 8); /* enabled, BSP */
	st->gpr[X86_RDX] = 0x600; /* family 6 */
}
