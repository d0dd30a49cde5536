/*
 * Superinstructions for blocks (block.c): a run of register instructions
 * that cannot fault, touch memory or leave the block (ALU, TEST, INC,
 * DEC, MOV between registers or from an immediate, 32 and 64 bits), up
 * to and including a Jcc that ends it, runs as one handler. Each member
 * costs a jump through one switch instead of an indirect call, a store
 * of blk_cur and a test of blk_stop in the block's run loop. Each kind
 * does what the member's fast handler (fast.c, fast2.c) does, through
 * the same alu_inline(); a member whose flags drop_dead_flags() found
 * dead sets none, as its _nf handler.
 */
#include "alu.h"
#include "block.h"

enum { U_MOV = ALU_NOT + 1, U_JCC };

/* the kind: an alu.h op or U_MOV/U_JCC, an immediate source or a
 * register, 8 bytes or 4, flags dead */
#define UK(op, imm, w8, nf) ((op) << 3 | (imm) << 2 | (w8) << 1 | (nf))

static int set(struct emu_insn *in, int op, unsigned d, unsigned s, int imm,
	       int nf)
{
	in->uk = (uint8_t)UK(op, imm, in->osize == 8, nf);
	in->ud = (uint8_t)d;
	in->us = (uint8_t)s;
	return 1;
}

int emu_uop_set(struct emu_insn *in, int form)
{
	unsigned op = in->op, alu = (op >> 3) & 7;
	int nf = form == EMU_UOP_NF;

	if (form == EMU_UOP_JCC) {
		in->uk = (uint8_t)UK(U_JCC, 0, 0, 0);
		in->ud = (uint8_t)(op & 0xf);
		return 1;
	}
	if (!in->fast || in->lock || (in->osize != 4 && in->osize != 8) ||
	    (in->has_modrm && in->mod != 3))
		return 0;
	if (op < 0x40 && (op & 7) == 1 && alu != ALU_ADC && alu != ALU_SBB)
		return set(in, alu, in->rm, in->reg, 0, nf);
	if (op < 0x40 && (op & 7) == 3 && alu != ALU_ADC && alu != ALU_SBB)
		return set(in, alu, in->reg, in->rm, 0, nf);
	switch (op) {
	case 0x40 ... 0x4f: /* fast only in 32-bit code */
		return set(in, op < 0x48 ? ALU_INC : ALU_DEC, op & 7, 0, 0, nf);
	case 0x81: case 0x83:
		if ((in->reg & 7) == ALU_ADC || (in->reg & 7) == ALU_SBB)
			return 0;
		return set(in, in->reg & 7, in->rm, 0, 1, nf);
	case 0x85:
		return set(in, ALU_TEST, in->rm, in->reg, 0, nf);
	case 0x89:
		return set(in, U_MOV, in->rm, in->reg, 0, 0);
	case 0x8b:
		return set(in, U_MOV, in->reg, in->rm, 0, 0);
	case 0xb8 ... 0xbf: /* fast only with 4 bytes: imm is 32 bits */
		if (in->osize != 4)
			return 0;
		return set(in, U_MOV, (op & 7) | ((in->rex & 1u) << 3), 0, 1, 0);
	case 0xff:
		if ((in->reg & 7) > 1)
			return 0;
		return set(in, (in->reg & 7) ? ALU_DEC : ALU_INC, in->rm, 0, 0,
			   nf);
	}
	return 0;
}

static inline __attribute__((always_inline)) void
uop(struct emu_cpu *cpu, const struct emu_insn *in, int op, int imm,
    unsigned sz, int nf)
{
	uint64_t m = size_mask(sz), a = cpu->gpr[in->ud], r;
	uint64_t b = imm ? in->imm : cpu->gpr[in->us];

	if (op == U_MOV) {
		cpu->gpr[in->ud] = b & m; /* 32-bit writes zero-extend */
		return;
	}
	if (op == ALU_CMP || op == ALU_TEST) {
		if (!nf)
			alu_inline(cpu, op, sz, a, b);
		return;
	}
	if (!nf) {
		cpu->gpr[in->ud] = alu_inline(cpu, op, sz, a, b);
		return;
	}
	switch (op) {
	case ALU_ADD: r = a + b; break;
	case ALU_OR: r = a | b; break;
	case ALU_AND: r = a & b; break;
	case ALU_SUB: r = a - b; break;
	case ALU_XOR: r = a ^ b; break;
	case ALU_INC: r = a + 1; break;
	default: r = a - 1; break; /* ALU_DEC */
	}
	cpu->gpr[in->ud] = r & m;
}

/* Threaded: each member jumps to the next one's code through the table,
 * so each has its own indirect jump for the branch predictor to learn.
 * emu_uop_set() makes only the kinds the table holds. */
#define LBL(op, imm, w8, nf) l_##op##_##imm##_##w8##_##nf
#define T1(op, imm, w8, nf) [UK(op, imm, w8, nf)] = &&LBL(op, imm, w8, nf),
#define U1(op, imm, w8, nf) \
	LBL(op, imm, w8, nf): \
	uop(cpu, in, op, imm, (w8) ? 8 : 4, nf); \
	if (++in == end) \
		return; \
	goto *tab[in->uk];
#define T2(op, imm, w8) T1(op, imm, w8, 0) T1(op, imm, w8, 1)
#define U2(op, imm, w8) U1(op, imm, w8, 0) U1(op, imm, w8, 1)
#define TREG(op) T2(op, 0, 0) T2(op, 0, 1)
#define UREG(op) U2(op, 0, 0) U2(op, 0, 1)
#define TALU(op) TREG(op) T2(op, 1, 0) T2(op, 1, 1)
#define UALU(op) UREG(op) U2(op, 1, 0) U2(op, 1, 1)
#define KINDS(ALU, REG, ONE) \
	ALU(ALU_ADD) ALU(ALU_OR) ALU(ALU_AND) ALU(ALU_SUB) ALU(ALU_XOR) \
	ALU(ALU_CMP) REG(ALU_TEST) REG(ALU_INC) REG(ALU_DEC) \
	ONE(U_MOV, 0, 0, 0) ONE(U_MOV, 0, 1, 0) ONE(U_MOV, 1, 0, 0)

/* The run that starts at in: in->blk_n instructions */
void emu_uop_run(struct emu_cpu *cpu, const struct emu_insn *in)
{
	static const void *const tab[UK(U_JCC, 0, 0, 0) + 1] = {
		KINDS(TALU, TREG, T1)
		T1(U_JCC, 0, 0, 0)
	};
	const struct emu_insn *head = in, *end = in + in->blk_n;

	goto *tab[in->uk];
	KINDS(UALU, UREG, U1)
LBL(U_JCC, 0, 0, 0): /* the run's last: as jcc_blk() */
	if (!emu_cond_inline(cpu, in->ud))
		return;
	/* us: the target is the run's start, the block's first: another
	 * round while blk_spin allows more than this one */
	if (in->us && cpu->blk_spin > head->blk_n && !emu_irq_ready(cpu)) {
		cpu->blk_spin -= head->blk_n;
		cpu->icount += head->blk_n;
		in = head;
		goto *tab[in->uk];
	}
	cpu->next_rip = in->imm2;
	cpu->blk_stop |= BLK_JUMP;
}
