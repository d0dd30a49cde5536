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
emu_fast_fn emu_fast_pick2(const struct emu_insn *in, int mode); /* fast2.c */
int emu_fast_flags2(const struct emu_insn *in, int mode, unsigned *rd,
		    emu_fast_fn *nf);

static inline __attribute__((always_inline)) void
alu_rr(struct emu_cpu *cpu, const struct emu_insn *in, int op, unsigned sz,
       int to_reg)
{
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
	static void name(struct emu_cpu *cpu, const struct emu_insn *in) \
	{ alu_rr(cpu, in, op, sz, dir); }
#define ALU_SET(o, n) \
	ALU_RR(n##_m4, o, 4, 0) ALU_RR(n##_r4, o, 4, 1) \
	ALU_RR(n##_m8, o, 8, 0) ALU_RR(n##_r8, o, 8, 1)
ALU_SET(ALU_ADD, add)
ALU_SET(ALU_OR, or)
ALU_SET(ALU_AND, and)
ALU_SET(ALU_SUB, sub)
ALU_SET(ALU_XOR, xor)
ALU_SET(ALU_CMP, cmp)

/* ALU r, [m]: the register is the destination (CMP: none) */
static inline __attribute__((always_inline)) void
alu_rm(struct emu_cpu *cpu, const struct emu_insn *in, int op, unsigned sz)
{
	uint64_t m = size_mask(sz), a = cpu->gpr[in->reg] & m, r;
	uint64_t b = mem_read(cpu, in->seg, ea_of(cpu, in), sz);

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
		cpu->gpr[in->reg] = r;
}

#define ALU_RM(name, op, sz) \
	static void name(struct emu_cpu *cpu, const struct emu_insn *in) \
	{ alu_rm(cpu, in, op, sz); }
ALU_RM(add_l4, ALU_ADD, 4) ALU_RM(add_l8, ALU_ADD, 8)
ALU_RM(or_l4, ALU_OR, 4) ALU_RM(or_l8, ALU_OR, 8)
ALU_RM(and_l4, ALU_AND, 4) ALU_RM(and_l8, ALU_AND, 8)
ALU_RM(sub_l4, ALU_SUB, 4) ALU_RM(sub_l8, ALU_SUB, 8)
ALU_RM(xor_l4, ALU_XOR, 4) ALU_RM(xor_l8, ALU_XOR, 8)
ALU_RM(cmp_l4, ALU_CMP, 4) ALU_RM(cmp_l8, ALU_CMP, 8)

static const emu_fast_fn alu_load_tab[8][2] = {
	[ALU_ADD] = { add_l4, add_l8 }, [ALU_OR] = { or_l4, or_l8 },
	[ALU_AND] = { and_l4, and_l8 }, [ALU_SUB] = { sub_l4, sub_l8 },
	[ALU_XOR] = { xor_l4, xor_l8 }, [ALU_CMP] = { cmp_l4, cmp_l8 },
};

/* [op][dir][size 8?] */
static const emu_fast_fn alu_tab[8][2][2] = {
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

static void inc4_op(struct emu_cpu *cpu, const struct emu_insn *in) { incdec(cpu, in->op & 7, 4, 0); }
static void dec4_op(struct emu_cpu *cpu, const struct emu_insn *in) { incdec(cpu, in->op & 7, 4, 1); }
static void inc4_rm(struct emu_cpu *cpu, const struct emu_insn *in) { incdec(cpu, in->rm, 4, 0); }
static void dec4_rm(struct emu_cpu *cpu, const struct emu_insn *in) { incdec(cpu, in->rm, 4, 1); }
static void inc8_rm(struct emu_cpu *cpu, const struct emu_insn *in) { incdec(cpu, in->rm, 8, 0); }
static void dec8_rm(struct emu_cpu *cpu, const struct emu_insn *in) { incdec(cpu, in->rm, 8, 1); }

static void mov_rr4(struct emu_cpu *cpu, const struct emu_insn *in)
{
	if (in->op == 0x89)
		cpu->gpr[in->rm] = (uint32_t)cpu->gpr[in->reg];
	else
		cpu->gpr[in->reg] = (uint32_t)cpu->gpr[in->rm];
}

static void mov_rr8(struct emu_cpu *cpu, const struct emu_insn *in)
{
	if (in->op == 0x89)
		cpu->gpr[in->rm] = cpu->gpr[in->reg];
	else
		cpu->gpr[in->reg] = cpu->gpr[in->rm];
}

static void mov_load4(struct emu_cpu *cpu, const struct emu_insn *in)
{
	cpu->gpr[in->reg] = (uint32_t)mem_read(cpu, in->seg, ea_of(cpu, in), 4);
}

static void mov_load8(struct emu_cpu *cpu, const struct emu_insn *in)
{
	cpu->gpr[in->reg] = mem_read(cpu, in->seg, ea_of(cpu, in), 8);
}

static inline void store(struct emu_cpu *cpu, const struct emu_insn *in,
			 unsigned sz, uint64_t v)
{
	uint64_t lin = emu_seg_addr(cpu, in->seg, ea_of(cpu, in), sz, 1);

	write_lin(cpu, lin, sz, v); /* ends a block that stores into itself */
}

static void mov_store4(struct emu_cpu *cpu, const struct emu_insn *in)
{
	store(cpu, in, 4, (uint32_t)cpu->gpr[in->reg]);
}

static void mov_store8(struct emu_cpu *cpu, const struct emu_insn *in)
{
	store(cpu, in, 8, cpu->gpr[in->reg]);
}

static void mov_imm4(struct emu_cpu *cpu, const struct emu_insn *in)
{
	cpu->gpr[(in->op & 7) | ((in->rex & 1) << 3)] = (uint32_t)in->imm;
}

static void jcc(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t t;

	if (!emu_cond_inline(cpu, in->op & 0xf))
		return;
	t = cpu->next_rip + in->imm;
	/* emu_jump's common case: 32-bit code inside CS */
	if (!cpu->long64 && in->osize == 4) {
		t = (uint32_t)t;
		if (t <= cpu->seg[X86_CS].limit || !cpu->pmode) {
			cpu->next_rip = t;
			return;
		}
	}
	emu_jump(cpu, t, cpu->long64 ? 8 : in->osize);
}

emu_fast_fn emu_fast_pick(const struct emu_insn *in, int mode)
{
	unsigned op = in->op, sz = in->osize;
	int w8 = sz == 8;

	if (op >= 0x180 && op <= 0x18f)
		return (mode & EMU_DEC_286) ? NULL : jcc; /* no 0F on a 286 */
	if (op >= 0x70 && op <= 0x7f)
		return jcc;
	if (in->lock)
		return NULL;
	if (sz != 4 && sz != 8)
		return emu_fast_pick2(in, mode);
	/* 01, 03, 09, 0B...: ALU r/m,r and r,r/m with registers only */
	if (op < 0x40 && (op & 5) == 1 && in->mod == 3 &&
	    alu_tab[(op >> 3) & 7][0][0])
		return alu_tab[(op >> 3) & 7][(op >> 1) & 1][w8];
	/* 03, 0B, 2B...: ALU r, [m] */
	if (op < 0x40 && (op & 7) == 3 && in->mod != 3 &&
	    alu_load_tab[(op >> 3) & 7][w8])
		return alu_load_tab[(op >> 3) & 7][w8];
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
	return emu_fast_pick2(in, mode);
}

/* ---- the same without their flags, for blocks (block.c) where a later
 * instruction sets them before anything reads them or can fault ---- */
static inline __attribute__((always_inline)) void
alu_rr_nf(struct emu_cpu *cpu, const struct emu_insn *in, int op, unsigned sz,
	  int to_reg)
{
	unsigned d = to_reg ? in->reg : in->rm, s = to_reg ? in->rm : in->reg;
	uint64_t m = size_mask(sz), a = cpu->gpr[d], b = cpu->gpr[s], r;

	switch (op) {
	case ALU_ADD: r = a + b; break;
	case ALU_SUB: r = a - b; break;
	case ALU_OR: r = a | b; break;
	case ALU_AND: r = a & b; break;
	default: r = a ^ b; break;
	}
	cpu->gpr[d] = r & m;
}

#define ALU_RR_NF(name, op, sz, dir) \
	static void name(struct emu_cpu *cpu, const struct emu_insn *in) \
	{ alu_rr_nf(cpu, in, op, sz, dir); }
#define ALU_SET_NF(o, n) \
	ALU_RR_NF(n##_m4nf, o, 4, 0) ALU_RR_NF(n##_r4nf, o, 4, 1) \
	ALU_RR_NF(n##_m8nf, o, 8, 0) ALU_RR_NF(n##_r8nf, o, 8, 1)
ALU_SET_NF(ALU_ADD, add)
ALU_SET_NF(ALU_OR, or)
ALU_SET_NF(ALU_AND, and)
ALU_SET_NF(ALU_SUB, sub)
ALU_SET_NF(ALU_XOR, xor)

static void cmp_nf(struct emu_cpu *cpu, const struct emu_insn *in)
{
}

static const emu_fast_fn alu_nf_tab[8][2][2] = {
	[ALU_ADD] = { { add_m4nf, add_m8nf }, { add_r4nf, add_r8nf } },
	[ALU_OR] = { { or_m4nf, or_m8nf }, { or_r4nf, or_r8nf } },
	[ALU_AND] = { { and_m4nf, and_m8nf }, { and_r4nf, and_r8nf } },
	[ALU_SUB] = { { sub_m4nf, sub_m8nf }, { sub_r4nf, sub_r8nf } },
	[ALU_XOR] = { { xor_m4nf, xor_m8nf }, { xor_r4nf, xor_r8nf } },
	[ALU_CMP] = { { cmp_nf, cmp_nf }, { cmp_nf, cmp_nf } },
};

static inline __attribute__((always_inline)) void
incdec_nf(struct emu_cpu *cpu, unsigned r, unsigned sz, int dec)
{
	cpu->gpr[r] = (cpu->gpr[r] + (dec ? -1ull : 1)) & size_mask(sz);
}

static void inc4_op_nf(struct emu_cpu *cpu, const struct emu_insn *in) { incdec_nf(cpu, in->op & 7, 4, 0); }
static void dec4_op_nf(struct emu_cpu *cpu, const struct emu_insn *in) { incdec_nf(cpu, in->op & 7, 4, 1); }
static void inc4_rm_nf(struct emu_cpu *cpu, const struct emu_insn *in) { incdec_nf(cpu, in->rm, 4, 0); }
static void dec4_rm_nf(struct emu_cpu *cpu, const struct emu_insn *in) { incdec_nf(cpu, in->rm, 4, 1); }
static void inc8_rm_nf(struct emu_cpu *cpu, const struct emu_insn *in) { incdec_nf(cpu, in->rm, 8, 0); }
static void dec8_rm_nf(struct emu_cpu *cpu, const struct emu_insn *in) { incdec_nf(cpu, in->rm, 8, 1); }

/* 81 and 83 with a register, no ADC or SBB (they read CF) */
static inline __attribute__((always_inline)) void
grp1_nf(struct emu_cpu *cpu, const struct emu_insn *in, unsigned sz)
{
	uint64_t a = cpu->gpr[in->rm], b = in->imm, r;

	switch (in->reg & 7) {
	case ALU_ADD: r = a + b; break;
	case ALU_SUB: r = a - b; break;
	case ALU_OR: r = a | b; break;
	case ALU_AND: r = a & b; break;
	case ALU_XOR: r = a ^ b; break;
	default: return; /* CMP */
	}
	cpu->gpr[in->rm] = r & size_mask(sz);
}

static void grp1_4nf(struct emu_cpu *cpu, const struct emu_insn *in) { grp1_nf(cpu, in, 4); }
static void grp1_8nf(struct emu_cpu *cpu, const struct emu_insn *in) { grp1_nf(cpu, in, 8); }

/*
 * 1 when in is a register form that cannot fault or leave a block and sets
 * flags: *wr what it sets (EMU_FL_C for CF, EMU_FL_O for the others), *rd
 * what it reads (INC and DEC keep CF, ADC and SBB add it), *nf a handler
 * that does the same but set them, or NULL.
 */
int emu_fast_flags(const struct emu_insn *in, int mode, unsigned *rd,
		   unsigned *wr, emu_fast_fn *nf)
{
	unsigned op = in->op, sz = in->osize, alu = (op >> 3) & 7;
	int w8 = sz == 8;

	*rd = 0;
	*wr = EMU_FL_C | EMU_FL_O;
	*nf = NULL;
	if (in->lock || (in->has_modrm && in->mod != 3) || (sz != 4 && sz != 8) ||
	    !in->fast || in->fast != emu_fast_pick(in, mode))
		return 0;
	if (op < 0x40 && (op & 5) == 1 && alu != ALU_ADC && alu != ALU_SBB) {
		*nf = alu_nf_tab[alu][(op >> 1) & 1][w8];
		return 1;
	}
	switch (op) {
	case 0x40 ... 0x4f:
		if ((mode & 0xff) != 32)
			return 0;
		*rd = EMU_FL_C;
		*wr = EMU_FL_O;
		*nf = op < 0x48 ? inc4_op_nf : dec4_op_nf;
		return 1;
	case 0x81: case 0x83:
		if ((in->reg & 7) == ALU_ADC || (in->reg & 7) == ALU_SBB) {
			*rd = EMU_FL_C;
			return 1;
		}
		*nf = w8 ? grp1_8nf : grp1_4nf;
		return 1;
	case 0xff:
		if ((in->reg & 7) > 1)
			return 0;
		*rd = EMU_FL_C;
		*wr = EMU_FL_O;
		if (in->reg & 7)
			*nf = w8 ? dec8_rm_nf : dec4_rm_nf;
		else
			*nf = w8 ? inc8_rm_nf : inc4_rm_nf;
		return 1;
	}
	return emu_fast_flags2(in, mode, rd, nf);
}
