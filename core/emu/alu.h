/* Integer arithmetic with x86 flags (alu.c). Internal to core/emu/. */
#ifndef HV_EMU_ALU_H
#define HV_EMU_ALU_H

#include "emu_int.h"

/* The first eight follow the ModRM reg encoding of opcodes 80-83. */
enum {
	ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP,
	ALU_TEST, ALU_INC, ALU_DEC, ALU_NEG, ALU_NOT,
};

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
