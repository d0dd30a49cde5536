/*
 * More fast.c handlers, for what a Linux boot runs most after fast.c's
 * set: the ALU group with an immediate, ADC/SBB, TEST, shifts by an
 * immediate, 1 or CL, IMUL r, r/m, MOVZX/MOVSX/MOVSXD, LEA, SETcc, CMOVcc,
 * PUSH/POP of a register, CALL/RET/JMP near, MOV r/m, imm and NOP r/m.
 * Each does what exec.c/exec2.c does for that form (the operand read
 * even when CMOV's condition is false, a 32-bit destination zero-extended
 * even when a shift count is 0, ...), with the instruction passed in, not
 * cpu->in: handlers run from blocks without copying it.
 */
#include <stddef.h>

#include "alu.h"

void emu_jump(struct emu_cpu *cpu, uint64_t target, unsigned osize);
emu_fast_fn emu_fast_pick2(const struct emu_insn *in, int mode);

/* Byte registers as reg_get/reg_set see them: AH..BH without REX */
static inline uint64_t breg_get(const struct emu_cpu *cpu,
				const struct emu_insn *in, unsigned r)
{
	if (r >= 4 && r < 8 && !in->rex)
		return (cpu->gpr[r - 4] >> 8) & 0xff;
	return cpu->gpr[r] & 0xff;
}

static inline void breg_set(struct emu_cpu *cpu, const struct emu_insn *in,
			    unsigned r, uint64_t v)
{
	if (r >= 4 && r < 8 && !in->rex)
		cpu->gpr[r - 4] = (cpu->gpr[r - 4] & ~0xff00ull) | ((v & 0xff) << 8);
	else
		cpu->gpr[r] = (cpu->gpr[r] & ~0xffull) | (v & 0xff);
}

/* the r/m operand of size 4 or 8, or 1 or 2 for MOVZX's source */
static inline uint64_t rm_get(struct emu_cpu *cpu, const struct emu_insn *in,
			      unsigned sz)
{
	if (in->mod != 3)
		return mem_read(cpu, in->seg, ea_of(cpu, in), sz);
	if (sz == 1)
		return breg_get(cpu, in, in->rm);
	return cpu->gpr[in->rm] & size_mask(sz);
}

/* ---- ALU ---- */
/* 80-83 and 01/09/11/...: op r/m, src; a memory destination is a
 * read-modify-write (no LOCK: fast_pick leaves that to exec.c) */
static inline __attribute__((always_inline)) void
alu_to_rm(struct emu_cpu *cpu, const struct emu_insn *in, int op, unsigned sz,
	  uint64_t src)
{
	uint64_t lin, r;

	if (in->mod == 3) {
		r = alu_inline(cpu, op, sz, cpu->gpr[in->rm], src);
		if (op != ALU_CMP)
			cpu->gpr[in->rm] = r;
		return;
	}
	if (op == ALU_CMP) {
		alu_inline(cpu, op, sz, mem_read(cpu, in->seg, ea_of(cpu, in), sz), src);
		return;
	}
	lin = emu_seg_addr(cpu, in->seg, ea_of(cpu, in), sz, 1);
	r = alu_inline(cpu, op, sz, read_lin(cpu, lin, sz), src);
	write_lin(cpu, lin, sz, r);
}

#define GRP1(name, sz) \
	static void name(struct emu_cpu *cpu, const struct emu_insn *in) \
	{ alu_to_rm(cpu, in, in->reg & 7, sz, in->imm); }
GRP1(grp1_4, 4)
GRP1(grp1_8, 8)

#define ALU_MR(name, sz) \
	static void name(struct emu_cpu *cpu, const struct emu_insn *in) \
	{ alu_to_rm(cpu, in, (in->op >> 3) & 7, sz, cpu->gpr[in->reg]); }
ALU_MR(alu_mr4, 4)
ALU_MR(alu_mr8, 8)

/* 03/0B/13/...: op r, r/m */
#define ALU_RM(name, sz) \
	static void name(struct emu_cpu *cpu, const struct emu_insn *in) \
	{ \
		int op = (in->op >> 3) & 7; \
		uint64_t r = alu_inline(cpu, op, sz, cpu->gpr[in->reg], \
					rm_get(cpu, in, sz)); \
		if (op != ALU_CMP) \
			cpu->gpr[in->reg] = r; \
	}
ALU_RM(alu_rm4, 4)
ALU_RM(alu_rm8, 8)

static void test4(struct emu_cpu *cpu, const struct emu_insn *in)
{
	alu_inline(cpu, ALU_TEST, 4, rm_get(cpu, in, 4), cpu->gpr[in->reg]);
}

static void test8(struct emu_cpu *cpu, const struct emu_insn *in)
{
	alu_inline(cpu, ALU_TEST, 8, rm_get(cpu, in, 8), cpu->gpr[in->reg]);
}

static void test1(struct emu_cpu *cpu, const struct emu_insn *in)
{
	alu_inline(cpu, ALU_TEST, 1, rm_get(cpu, in, 1),
		   breg_get(cpu, in, in->reg));
}

/* ---- byte operands ---- */
/* op r/m8, src: 00/08/.../38 (src r8) and 80 (src imm8) */
static inline __attribute__((always_inline)) void
alu_b_to_rm(struct emu_cpu *cpu, const struct emu_insn *in, int op,
	    uint64_t src)
{
	uint64_t lin, r;

	if (in->mod == 3) {
		r = alu_inline(cpu, op, 1, breg_get(cpu, in, in->rm), src);
		if (op != ALU_CMP)
			breg_set(cpu, in, in->rm, r);
		return;
	}
	if (op == ALU_CMP) {
		alu_inline(cpu, op, 1, mem_read(cpu, in->seg, ea_of(cpu, in), 1), src);
		return;
	}
	lin = emu_seg_addr(cpu, in->seg, ea_of(cpu, in), 1, 1);
	r = alu_inline(cpu, op, 1, emu_read_lin(cpu, lin, 1), src);
	write_lin(cpu, lin, 1, r);
}

static void alu_b_mr(struct emu_cpu *cpu, const struct emu_insn *in)
{
	alu_b_to_rm(cpu, in, (in->op >> 3) & 7, breg_get(cpu, in, in->reg));
}

static void grp1_b(struct emu_cpu *cpu, const struct emu_insn *in)
{
	alu_b_to_rm(cpu, in, in->reg & 7, in->imm);
}

/* 02/0A/.../3A: op r8, r/m8 */
static void alu_b_rm(struct emu_cpu *cpu, const struct emu_insn *in)
{
	int op = (in->op >> 3) & 7;
	uint64_t r = alu_inline(cpu, op, 1, breg_get(cpu, in, in->reg),
				rm_get(cpu, in, 1));

	if (op != ALU_CMP)
		breg_set(cpu, in, in->reg, r);
}

/* 04/0C/.../3C: op AL, imm8; 05/0D/.../3D: op eAX, imm */
static void alu_acc(struct emu_cpu *cpu, const struct emu_insn *in)
{
	int op = (in->op >> 3) & 7;
	unsigned sz = (in->op & 1) ? in->osize : 1;
	uint64_t r = alu_inline(cpu, op, sz, cpu->gpr[X86_RAX], in->imm);

	if (op == ALU_CMP)
		return;
	if (sz == 1)
		cpu->gpr[X86_RAX] = (cpu->gpr[X86_RAX] & ~0xffull) | r;
	else
		cpu->gpr[X86_RAX] = r; /* 4: zero-extended */
}

/* 88, 8A, C6 /0 */
static void mov_b(struct emu_cpu *cpu, const struct emu_insn *in)
{
	switch (in->op) {
	case 0x88:
		if (in->mod == 3)
			breg_set(cpu, in, in->rm, breg_get(cpu, in, in->reg));
		else
			mem_write(cpu, in->seg, ea_of(cpu, in), 1, breg_get(cpu, in, in->reg));
		break;
	case 0x8a:
		breg_set(cpu, in, in->reg, rm_get(cpu, in, 1));
		break;
	default:
		if (in->mod == 3)
			breg_set(cpu, in, in->rm, in->imm);
		else
			mem_write(cpu, in->seg, ea_of(cpu, in), 1, in->imm);
	}
}

/* ---- shifts, register destination ---- */
static inline __attribute__((always_inline)) void
shift_r(struct emu_cpu *cpu, const struct emu_insn *in, unsigned sz,
	unsigned cnt)
{
	uint64_t r;

	cnt &= sz == 8 ? 0x3f : 0x1f;
	r = emu_shift(cpu, in->reg & 7, sz, cpu->gpr[in->rm], cnt);
	if (cnt || sz == 4)
		cpu->gpr[in->rm] = r;
}

static void shi4(struct emu_cpu *cpu, const struct emu_insn *in) { shift_r(cpu, in, 4, in->imm & 0xff); }
static void shi8(struct emu_cpu *cpu, const struct emu_insn *in) { shift_r(cpu, in, 8, in->imm & 0xff); }
static void sh1_4(struct emu_cpu *cpu, const struct emu_insn *in) { shift_r(cpu, in, 4, 1); }
static void sh1_8(struct emu_cpu *cpu, const struct emu_insn *in) { shift_r(cpu, in, 8, 1); }
static void shcl4(struct emu_cpu *cpu, const struct emu_insn *in) { shift_r(cpu, in, 4, cpu->gpr[X86_RCX] & 0xff); }
static void shcl8(struct emu_cpu *cpu, const struct emu_insn *in) { shift_r(cpu, in, 8, cpu->gpr[X86_RCX] & 0xff); }

/* ---- moves ---- */
static void imul4(struct emu_cpu *cpu, const struct emu_insn *in)
{
	cpu->gpr[in->reg] = emu_imul2(cpu, 4, cpu->gpr[in->reg] & 0xffffffffu,
				      rm_get(cpu, in, 4));
}

static void imul8(struct emu_cpu *cpu, const struct emu_insn *in)
{
	cpu->gpr[in->reg] = emu_imul2(cpu, 8, cpu->gpr[in->reg], rm_get(cpu, in, 8));
}

/* 0F B6/B7/BE/BF; the destination (4 or 8 bytes) in in->osize */
static void movx(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned from = (in->op & 1) ? 2 : 1;
	uint64_t v = rm_get(cpu, in, from);

	if (in->op & 8)
		v = (uint64_t)sext(v, from);
	cpu->gpr[in->reg] = v & size_mask(in->osize);
}

static void movsxd(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t v = rm_get(cpu, in, 4);

	cpu->gpr[in->reg] = in->osize == 8 ? (uint64_t)sext(v, 4) : v;
}

static void lea(struct emu_cpu *cpu, const struct emu_insn *in)
{
	cpu->gpr[in->reg] = ea_of(cpu, in) & size_mask(in->osize);
}

static void mov_imm(struct emu_cpu *cpu, const struct emu_insn *in)
{
	if (in->mod == 3)
		cpu->gpr[in->rm] = in->imm & size_mask(in->osize);
	else
		mem_write(cpu, in->seg, ea_of(cpu, in), in->osize, in->imm);
}

static void setcc(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t c = (uint64_t)emu_cond_inline(cpu, in->op & 0xf);

	if (in->mod == 3)
		breg_set(cpu, in, in->rm, c);
	else
		mem_write(cpu, in->seg, ea_of(cpu, in), 1, c);
}

static void cmovcc(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t v = rm_get(cpu, in, in->osize);

	if (emu_cond_inline(cpu, in->op & 0xf))
		cpu->gpr[in->reg] = v;
	else if (in->osize == 4)
		cpu->gpr[in->reg] &= 0xffffffffu;
}

static void nop(struct emu_cpu *cpu, const struct emu_insn *in)
{
}

/* ---- the stack and near branches; picked for 4- and 8-byte stack
 * operands only (no 66 prefix) ---- */
static inline unsigned sos(const struct emu_cpu *cpu, const struct emu_insn *in)
{
	return cpu->long64 ? 8 : in->osize;
}

static void push_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned s = sos(cpu, in);

	emu_push(cpu, s, cpu->gpr[(in->op & 7) | ((in->rex & 1) << 3)] & size_mask(s));
}

static void pop_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned s = sos(cpu, in);
	uint64_t v = emu_pop(cpu, s);

	cpu->gpr[(in->op & 7) | ((in->rex & 1) << 3)] = v & size_mask(s);
}

static void jmp_rel(struct emu_cpu *cpu, const struct emu_insn *in)
{
	emu_jump(cpu, cpu->next_rip + in->imm, sos(cpu, in));
}

static void call_rel(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t ret = cpu->next_rip;

	emu_jump(cpu, cpu->next_rip + in->imm, sos(cpu, in));
	emu_push(cpu, sos(cpu, in), ret);
}

static void ret_near(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned s = sos(cpu, in);
	uint64_t m = size_mask(stack_size(cpu)), t = emu_peek(cpu, s, 0);

	emu_jump(cpu, t, s);
	cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) |
			    ((cpu->gpr[X86_RSP] + s) & m);
}

/* Called by emu_fast_pick for what fast.c does not take, without LOCK */
emu_fast_fn emu_fast_pick2(const struct emu_insn *in, int mode)
{
	unsigned op = in->op, sz = in->osize;
	int w8 = sz == 8, m64 = (mode & 0xff) == 64, m32 = (mode & 0xff) == 32;

	if (mode & EMU_DEC_286)
		return NULL; /* no 0F map, 16-bit stacks */

	/* the stack: 8 bytes in 64-bit mode without 66, 4 in 32-bit code */
	if ((m64 && !in->pfx66) || (m32 && sz == 4)) {
		switch (op) {
		case 0x50 ... 0x57: return push_r;
		case 0x58 ... 0x5f: return pop_r;
		case 0xc3: return ret_near;
		case 0xe8: return call_rel;
		case 0xe9: case 0xeb: return jmp_rel;
		}
	}
	if (op == 0x84)
		return test1;
	/* byte operands, and the accumulator forms */
	if (op < 0x40 && (op & 7) == 0)
		return alu_b_mr;
	if (op < 0x40 && (op & 7) == 2)
		return alu_b_rm;
	if (op < 0x40 && (op & 7) == 4)
		return alu_acc;
	if (op < 0x40 && (op & 7) == 5 && (sz == 4 || sz == 8))
		return alu_acc;
	if (op == 0x80 || op == 0x88 || op == 0x8a ||
	    (op == 0xc6 && (in->reg & 7) == 0))
		return op == 0x80 ? grp1_b : mov_b;
	if (op == 0x11f || (op == 0x90 && !(in->rex & 1))) /* 41 90: XCHG */
		return nop;
	if (op >= 0x190 && op <= 0x19f)
		return setcc;
	if (sz != 4 && sz != 8)
		return NULL;
	/* 01, 09, 11...: op r/m, r (fast.c has the register forms but ADC
	 * and SBB); 03, 0B, 13...: op r, r/m */
	if (op < 0x40 && (op & 7) == 1)
		return w8 ? alu_mr8 : alu_mr4;
	if (op < 0x40 && (op & 7) == 3)
		return w8 ? alu_rm8 : alu_rm4;
	switch (op) {
	case 0x63:
		return m64 ? movsxd : NULL;
	case 0x81: case 0x83:
		return w8 ? grp1_8 : grp1_4;
	case 0x85:
		return w8 ? test8 : test4;
	case 0x8d:
		return in->mod == 3 ? NULL : lea;
	case 0xc1:
		return in->mod == 3 ? (w8 ? shi8 : shi4) : NULL;
	case 0xd1:
		return in->mod == 3 ? (w8 ? sh1_8 : sh1_4) : NULL;
	case 0xd3:
		return in->mod == 3 ? (w8 ? shcl8 : shcl4) : NULL;
	case 0xc7:
		return (in->reg & 7) == 0 ? mov_imm : NULL;
	case 0x140 ... 0x14f:
		return cmovcc;
	case 0x1af:
		return w8 ? imul8 : imul4;
	case 0x1b6: case 0x1b7: case 0x1be: case 0x1bf:
		return movx;
	}
	return NULL;
}

/* ---- without their flags (emu_fast_flags(), fast.c) ---- */
/* SHL, SHR, SAL, SAR with a count that is not 0 */
static inline __attribute__((always_inline)) void
shift_nf(struct emu_cpu *cpu, const struct emu_insn *in, unsigned sz,
	 unsigned cnt)
{
	uint64_t v = cpu->gpr[in->rm] & size_mask(sz);

	switch (in->reg & 7) {
	case 5: v >>= cnt; break;
	case 7: v = (uint64_t)(sext(v, sz) >> cnt); break;
	default: v <<= cnt; break;
	}
	cpu->gpr[in->rm] = v & size_mask(sz);
}

static void shi4_nf(struct emu_cpu *cpu, const struct emu_insn *in) { shift_nf(cpu, in, 4, in->imm & 0x1f); }
static void shi8_nf(struct emu_cpu *cpu, const struct emu_insn *in) { shift_nf(cpu, in, 8, in->imm & 0x3f); }
static void sh1_4_nf(struct emu_cpu *cpu, const struct emu_insn *in) { shift_nf(cpu, in, 4, 1); }
static void sh1_8_nf(struct emu_cpu *cpu, const struct emu_insn *in) { shift_nf(cpu, in, 8, 1); }

/* the low half of the product is the same signed or not */
static void imul4_nf(struct emu_cpu *cpu, const struct emu_insn *in)
{
	cpu->gpr[in->reg] = (uint32_t)(cpu->gpr[in->reg] * cpu->gpr[in->rm]);
}

static void imul8_nf(struct emu_cpu *cpu, const struct emu_insn *in)
{
	cpu->gpr[in->reg] *= cpu->gpr[in->rm];
}

static void test_nf(struct emu_cpu *cpu, const struct emu_insn *in)
{
}

/* emu_fast_flags() for fast2.c's register forms */
int emu_fast_flags2(const struct emu_insn *in, int mode, unsigned *rd,
		    emu_fast_fn *nf)
{
	unsigned op = in->op, sz = in->osize, w8 = sz == 8, cnt;

	*rd = 0;
	*nf = NULL;
	if (op < 0x40 && ((op & 7) == 1 || (op & 7) == 3)) {
		/* ADC, SBB r, r (fast.c has the others) */
		*rd = EMU_FL_C;
		return 1;
	}
	switch (op) {
	case 0x85:
		*nf = test_nf;
		return 1;
	case 0xc1: case 0xd1:
		cnt = op == 0xd1 ? 1 : (unsigned)in->imm & (w8 ? 0x3f : 0x1f);
		if ((in->reg & 7) < 4 || !cnt)
			return 0; /* rotates keep OSZAP; a count of 0 keeps all */
		if (op == 0xd1)
			*nf = w8 ? sh1_8_nf : sh1_4_nf;
		else
			*nf = w8 ? shi8_nf : shi4_nf;
		return 1;
	case 0x1af:
		*nf = w8 ? imul8_nf : imul4_nf;
		return 1;
	}
	return 0;
}
