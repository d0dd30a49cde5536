/* Integer arithmetic with x86 flags (alu.c). Internal to core/emu/. */
#ifndef HV_EMU_ALU_H
#define HV_EMU_ALU_H

#include "emu_int.h"

/* The first eight follow the ModRM reg encoding of opcodes 80-83. */
enum {
	ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP,
	ALU_TEST, ALU_INC, ALU_DEC, ALU_NEG, ALU_NOT,
};

/* The ALU group, inlined where the interpreter is hot (alu_op, INC/DEC). */
static inline uint64_t alu_inline(struct emu_cpu *cpu, int op, unsigned size,
				  uint64_t a, uint64_t b)
{
	uint64_t m = size_mask(size), r, c;

	a &= m;
	b &= m;
	switch (op) {
	case ALU_ADD:
		r = (a + b) & m;
		lf_set(cpu, LF_ADD, size, a, b, r);
		return r;
	case ALU_OR:
		r = a | b;
		break;
	case ALU_ADC:
		c = emu_cf_inline(cpu) ? 1 : 0;
		r = (a + b + c) & m;
		lf_set(cpu, LF_ADC, size, a, b, r);
		cpu->lf.c = (uint8_t)c;
		return r;
	case ALU_SBB:
		c = emu_cf_inline(cpu) ? 1 : 0;
		r = (a - b - c) & m;
		lf_set(cpu, LF_SBB, size, a, b, r);
		cpu->lf.c = (uint8_t)c;
		return r;
	case ALU_AND:
	case ALU_TEST:
		r = a & b;
		break;
	case ALU_SUB:
	case ALU_CMP:
		r = (a - b) & m;
		lf_set(cpu, LF_SUB, size, a, b, r);
		return r;
	case ALU_XOR:
		r = a ^ b;
		break;
	case ALU_INC:
		c = emu_cf_inline(cpu);
		r = (a + 1) & m;
		lf_set(cpu, LF_INC, size, a, 1, r);
		cpu->lf.c = (uint8_t)c;
		return r;
	case ALU_DEC:
		c = emu_cf_inline(cpu);
		r = (a - 1) & m;
		lf_set(cpu, LF_DEC, size, a, 1, r);
		cpu->lf.c = (uint8_t)c;
		return r;
	case ALU_NEG:
		r = (0 - a) & m;
		lf_set(cpu, LF_SUB, size, 0, a, r);
		return r;
	default: /* ALU_NOT: no flags */
		return ~a & m;
	}
	lf_set(cpu, LF_LOGIC, size, 0, 0, r);
	return r;
}

uint64_t emu_alu(struct emu_cpu *cpu, int op, unsigned size, uint64_t a,
		 uint64_t b);
void emu_flags_szp(struct emu_cpu *cpu, unsigned size, uint64_t r, int cf,
		   int of, int af);
uint64_t emu_shift(struct emu_cpu *cpu, int op, unsigned size, uint64_t v,
		   unsigned cnt);
uint64_t emu_shxd(struct emu_cpu *cpu, int left, unsigned size, uint64_t d,
		  uint64_t s, unsigned cnt);
void emu_mul(struct emu_cpu *cpu, int sgn, unsigned size, uint64_t v);
uint64_t emu_imul2(struct emu_cpu *cpu, unsigned size, uint64_t a,
		   uint64_t b);
int emu_div(struct emu_cpu *cpu, int sgn, unsigned size, uint64_t v);

#endif
