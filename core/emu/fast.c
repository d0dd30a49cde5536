/*
 * Specialized handlers for the instructions that dominate real code: the
 * ALU group and MOV between 32/64-bit registers, MOV to and from memory,
 * INC/DEC, Jcc. emu_fast_pick() chooses one when an instruction is
 * decoded and the decoded-instruction cache keeps it, so the hot path
 * skips the generic dispatch and has the operand size folded in. Every
 * handler does exactly what the generic path (exec.c) does for that form.
 */
#include <stddef.h>

#include "alu.h"

void emu_jump(struct emu_cpu *cpu, uint64_t target, unsigned osize);

static inline __attribute__((always_inline)) void
alu_rr(struct emu_cpu *cpu, int op, unsigned sz, int to_reg)
{
	const struct emu_insn *in = &cpu->in;
	unsigned d = to_reg ? in->reg : in->rm, s = to_reg ? in->rm : in->reg;
	uint64_t m = size_mask(sz), a = cpu->gpr[d] & m, b = cpu->gpr[s] & m, r;

	switch (op) {
	case ALU_ADD:
		r = (a + b) & m;
		lf_set(cpu, LF_ADD, sz, a, b, r);
		break;
	case ALU_SUB: case ALU_CMP:
		r = (a - b) & m;
		lf_set(cpu, LF_SUB, sz, a, b, r);
		break;
	case ALU_OR: r = a | b; lf_set(cpu, LF_LOGIC, sz, 0, 0, r); break;
	case ALU_AND: r = a & b; lf_set(cpu, LF_LOGIC, sz, 0, 0, r); break;
	default: r = a ^ b; lf_set(cpu, LF_LOGIC, sz, 0, 0, r); break;
	}
	if (op != ALU_CMP)
		cpu->gpr[d] = r; /* 32-bit results zero-extend */
}

#define ALU_RR(name, op, sz, dir) \
	static void name(struct emu_cpu *cpu) { alu_rr(cpu, op, sz, dir); }
#define ALU_SET(o, n) \
	ALU_RR(n##_m4, o, 4, 0) ALU_RR(n##_r4, o, 4, 1) \
	ALU_RR(n##_m8, o, 8, 0) ALU_RR(n##_r8, o, 8, 1)
ALU_SET(ALU_ADD, add)
ALU_SET(ALU_OR, or)
ALU_SET(ALU_AND, and)
ALU_SET(ALU_SUB, sub)
ALU_SET(ALU_XOR, xor)
ALU_SET(ALU_CMP, cmp)

/* [op][dir][size 8?] */
static void (*const alu_tab[8][2][2])(struct emu_cpu *) = {
	[ALU_ADD] = { { add_m4, add_m8 }, { add_r4, add_r8 } },
	[ALU_OR] = { { or_m4, or_m8 }, { or_r4, or_r8 } },
	[ALU_AND] = { { and_m4, and_m8 }, { and_r4, and_r8 } },
	[ALU_SUB] = { { sub_m4, sub_m8 }, { sub_r4, sub_r8 } },
	[ALU_XOR] = { { xor_m4, xor_m8 }, { xor_r4, xor_r8 } },
	[ALU_CMP] = { { cmp_m4, cmp_m8 }, { cmp_r4, cmp_r8 } },
};

static inline __attribute__((always_inline)) void
incdec(struct emu_cpu *cpu, unsigned r, unsigned sz, int dec)
{
	uint64_t m = size_mask(sz), a = cpu->gpr[r] & m, res;
	int c = emu_cf_inline(cpu);

	res = (dec ? a - 1 : a + 1) & m;
	lf_set(cpu, dec ? LF_DEC : LF_INC, sz, a, 1, res);
	cpu->lf.c = (uint8_t)c;
	cpu->gpr[r] = res;
}

static void inc4_op(struct emu_cpu *cpu) { incdec(cpu, cpu->in.op & 7, 4, 0); }
static void dec4_op(struct emu_cpu *cpu) { incdec(cpu, cpu->in.op & 7, 4, 1); }
static void inc4_rm(struct emu_cpu *cpu) { incdec(cpu, cpu->in.rm, 4, 0); }
static void dec4_rm(struct emu_cpu *cpu) { incdec(cpu, cpu->in.rm, 4, 1); }
static void inc8_rm(struct emu_cpu *cpu) { incdec(cpu, cpu->in.rm, 8, 0); }
static void dec8_rm(struct emu_cpu *cpu) { incdec(cpu, cpu->in.rm, 8, 1); }

static void mov_rr4(struct emu_cpu *cpu)
{
	const struct emu_insn *in = &cpu->in;

	if (in->op == 0x89)
		cpu->gpr[in->rm] = (uint32_t)cpu->gpr[in->reg];
	else
		cpu->gpr[in->reg] = (uint32_t)cpu->gpr[in->rm];
}

static void mov_rr8(struct emu_cpu *cpu)
{
	const struct emu_insn *in = &cpu->in;

	if (in->op == 0x89)
		cpu->gpr[in->rm] = cpu->gpr[in->reg];
	else
		cpu->gpr[in->reg] = cpu->gpr[in->rm];
}

static void mov_load4(struct emu_cpu *cpu)
{
	cpu->gpr[cpu->in.reg] = (uint32_t)mem_read(cpu, cpu->in.seg, cpu->ea, 4);
}

static void mov_load8(struct emu_cpu *cpu)
{
	cpu->gpr[cpu->in.reg] = mem_read(cpu, cpu->in.seg, cpu->ea, 8);
}

static void mov_store4(struct emu_cpu *cpu)
{
	mem_write(cpu, cpu->in.seg, cpu->ea, 4, (uint32_t)cpu->gpr[cpu->in.reg]);
}

static void mov_store8(struct emu_cpu *cpu)
{
	mem_write(cpu, cpu->in.seg, cpu->ea, 8, cpu->gpr[cpu->in.reg]);
}

static void mov_imm4(struct emu_cpu *cpu)
{
	cpu->gpr[(cpu->in.op & 7) | ((cpu->in.rex & 1) << 3)] = (uint32_t)cpu->in.imm;
}

static void jcc(struct emu_cpu *cpu)
{
	const struct emu_insn *in = &cpu->in;

	if (emu_cond_inline(cpu, in->op & 0xf))
		emu_jump(cpu, cpu->next_rip + in->imm,
			 cpu->long64 ? 8 : in->osize);
}

void (*emu_fast_pick(const struct emu_insn *in, int mode))(struct emu_cpu *)
{
	unsigned op = in->op, sz = in->osize;
	int w8 = sz == 8;

	if (op >= 0x180 && op <= 0x18f)
		return (mode & EMU_DEC_286) ? NULL : jcc; /* no 0F on a 286 */
	if (op >= 0x70 && op <= 0x7f)
		return jcc;
	if (in->lock || (sz != 4 && sz != 8))
		return NULL;
	/* 01, 03, 09, 0B...: ALU r/m,r and r,r/m with registers only */
	if (op < 0x40 && (op & 5) == 1 && in->mod == 3) {
		unsigned a = (op >> 3) & 7;

		if (alu_tab[a][0][0])
			return alu_tab[a][(op >> 1) & 1][w8];
		return NULL;
	}
	switch (op) {
	case 0x40 ... 0x47:
		return (mode & 0xff) == 32 ? inc4_op : NULL;
	case 0x48 ... 0x4f:
		return (mode & 0xff) == 32 ? dec4_op : NULL;
	case 0x89: case 0x8b:
		if (in->mod == 3)
			return w8 ? mov_rr8 : mov_rr4;
		if (op == 0x8b)
			return w8 ? mov_load8 : mov_load4;
		return w8 ? mov_store8 : mov_store4;
	case 0xb8 ... 0xbf:
		return w8 ? NULL : mov_imm4;
	case 0xff:
		if (in->mod != 3 || (in->reg & 7) > 1)
			return NULL;
		if (in->reg & 7)
			return w8 ? dec8_rm : dec4_rm;
		return w8 ? inc8_rm : inc4_rm;
	}
	return NULL;
}
