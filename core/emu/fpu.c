/*
 * The x87 FPU. Arithmetic, loads, stores, compares and transcendentals run
 * on the host's x87 through hostfp.c, so every result (80-bit values,
 * precision and rounding control, C0-C3, TOP, tags, exception flags) is
 * the hardware's. This file decides which forms are valid, moves memory
 * operands, implements the control instructions (FLDCW, FNSTENV, FNSAVE
 * and friends) and the exception model: a waiting instruction with an
 * unmasked exception pending raises #MF; an unmasked invalid, denormal or
 * zero-divide exception leaves the registers unchanged.
 */
#include <string.h>

#include "hostfp.h"
#include "emu_int.h"

#define FSW_ES 0x80u
#define FSW_B 0x8000u
#define FSW_TOP(s) (((s) >> 11) & 7)

void emu_fpu_reset(struct emu_cpu *cpu)
{
	memset(cpu->fx, 0, sizeof(cpu->fx));
	fx16_set(cpu->fx, FX_FCW, 0x37f);
	fx32_set(cpu->fx, FX_MXCSR, 0x1f80);
	fx32_set(cpu->fx, FX_MXCSR_MASK, 0xffff);
	memset(&cpu->fpu, 0, sizeof(cpu->fpu));
}

static void fninit(struct emu_cpu *cpu)
{
	fx16_set(cpu->fx, FX_FCW, 0x37f);
	fx16_set(cpu->fx, FX_FSW, 0);
	cpu->fx[FX_FTW] = 0;
	memset(&cpu->fpu, 0, sizeof(cpu->fpu));
}

void emu_fpu_check_pending(struct emu_cpu *cpu)
{
	if (fx16(cpu->fx, FX_FSW) & FSW_ES)
		emu_raise(cpu, EXC_MF, 0, 0);
}

/* ES and B follow the unmasked exceptions pending */
static void fsw_set(struct emu_cpu *cpu, uint16_t fsw)
{
	uint16_t fcw = fx16(cpu->fx, FX_FCW);

	fsw &= (uint16_t)~(FSW_ES | FSW_B);
	if (fsw & ~fcw & 0x3f)
		fsw |= FSW_ES | FSW_B;
	fx16_set(cpu->fx, FX_FSW, fsw);
}

/* ---- the tag word ---- */
/* 0 valid, 1 zero, 2 special, 3 empty: from the register's contents */
static unsigned tag_of(const uint8_t *r)
{
	uint16_t exp = fx16(r, 8) & 0x7fff;
	uint64_t man;

	memcpy(&man, r, 8);
	if (exp == 0x7fff)
		return 2;
	if (exp == 0)
		return man ? 2 : 1;
	return (man >> 63) ? 0 : 2;
}

static uint16_t full_tags(const struct emu_cpu *cpu)
{
	unsigned top = FSW_TOP(fx16(cpu->fx, FX_FSW)), p, t = 0;

	for (p = 0; p < 8; p++) {
		unsigned tag = 3;

		if (cpu->fx[FX_FTW] & (1u << p))
			tag = tag_of(cpu->fx + FX_ST((p - top) & 7));
		t |= tag << (2 * p);
	}
	return (uint16_t)t;
}

static uint8_t abridged_tags(uint16_t full)
{
	uint8_t t = 0;

	for (unsigned p = 0; p < 8; p++)
		if (((full >> (2 * p)) & 3) != 3)
			t |= (uint8_t)(1u << p);
	return t;
}

/* ---- FNSTENV/FLDENV/FNSAVE/FRSTOR ---- */
static uint64_t op_addr(struct emu_cpu *cpu, unsigned off)
{
	return (cpu->ea + off) & amask(cpu->in.asize);
}

static void wr(struct emu_cpu *cpu, unsigned off, unsigned size, uint64_t v)
{
	mem_write(cpu, cpu->in.seg, op_addr(cpu, off), size, v);
}

static uint64_t rd(struct emu_cpu *cpu, unsigned off, unsigned size)
{
	return mem_read(cpu, cpu->in.seg, op_addr(cpu, off), size);
}

static int env32(struct emu_cpu *cpu)
{
	return cpu->in.osize != 2;
}

/* Returns the environment's size (14 or 28 bytes). */
static unsigned store_env(struct emu_cpu *cpu)
{
	unsigned w = env32(cpu) ? 4 : 2;
	const struct emu_fpu *f = &cpu->fpu;

	/* check the whole area first: nothing is written on a fault */
	emu_seg_addr(cpu, cpu->in.seg, cpu->ea, 7 * w, 1);
	wr(cpu, 0, w, fx16(cpu->fx, FX_FCW) | (w == 4 ? 0xffff0000u : 0));
	wr(cpu, w, w, fx16(cpu->fx, FX_FSW) | (w == 4 ? 0xffff0000u : 0));
	wr(cpu, 2 * w, w, full_tags(cpu) | (w == 4 ? 0xffff0000u : 0));
	if (cpu->pmode && !cpu->vm86) {
		wr(cpu, 3 * w, w, f->fip);
		wr(cpu, 4 * w, w, f->fcs | (w == 4 ? (uint32_t)f->fop << 16 : 0));
		wr(cpu, 5 * w, w, f->fdp);
		wr(cpu, 6 * w, w, f->fds | (w == 4 ? 0xffff0000u : 0));
	} else {
		uint32_t ip = (uint32_t)(f->fcs * 16u + f->fip);
		uint32_t dp = (uint32_t)(f->fds * 16u + f->fdp);

		wr(cpu, 3 * w, w, ip & 0xffff);
		wr(cpu, 4 * w, w, ((ip >> 16) << 12 & (w == 4 ? 0xffff000u : 0xf000)) |
				  f->fop);
		wr(cpu, 5 * w, w, dp & 0xffff);
		wr(cpu, 6 * w, w, (dp >> 16) << 12 & (w == 4 ? 0xffff000u : 0xf000));
	}
	return 7 * w;
}

static unsigned load_env(struct emu_cpu *cpu)
{
	unsigned w = env32(cpu) ? 4 : 2;
	uint16_t fcw = (uint16_t)rd(cpu, 0, 2), fsw = (uint16_t)rd(cpu, w, 2);
	uint16_t ftw = (uint16_t)rd(cpu, 2 * w, 2);
	struct emu_fpu f = { 0 };

	if (cpu->pmode && !cpu->vm86) {
		f.fip = rd(cpu, 3 * w, w);
		f.fcs = (uint16_t)rd(cpu, 4 * w, 2);
		f.fop = w == 4 ? (uint16_t)(rd(cpu, 4 * w + 2, 2) & 0x7ff) : 0;
		f.fdp = rd(cpu, 5 * w, w);
		f.fds = (uint16_t)rd(cpu, 6 * w, 2);
	} else {
		uint32_t hi = (uint32_t)rd(cpu, 4 * w, w);

		f.fip = (rd(cpu, 3 * w, 2) | (uint64_t)(hi >> 12) << 16);
		f.fop = (uint16_t)(hi & 0x7ff);
		f.fdp = (rd(cpu, 5 * w, 2) |
			 (rd(cpu, 6 * w, w) >> 12) << 16);
	}
	cpu->fpu = f;
	fx16_set(cpu->fx, FX_FCW, (uint16_t)((fcw & 0x1f7f) | 0x40));
	cpu->fx[FX_FTW] = abridged_tags(ftw);
	fsw_set(cpu, fsw);
	return 7 * w;
}

static void fnsave(struct emu_cpu *cpu)
{
	unsigned n, i;

	emu_seg_addr(cpu, cpu->in.seg, cpu->ea, env32(cpu) ? 108 : 94, 1);
	n = store_env(cpu);
	for (i = 0; i < 8; i++) {
		uint64_t m;

		memcpy(&m, cpu->fx + FX_ST(i), 8);
		wr(cpu, n + 10 * i, 8, m);
		wr(cpu, n + 10 * i + 8, 2, fx16(cpu->fx, FX_ST(i) + 8));
	}
	fninit(cpu);
}

static void frstor(struct emu_cpu *cpu)
{
	unsigned n = env32(cpu) ? 28 : 14, i;
	uint8_t st[8][10];

	for (i = 0; i < 8; i++) {
		uint64_t m = rd(cpu, n + 10 * i, 8);

		memcpy(st[i], &m, 8);
		fx16_set(st[i], 8, (uint16_t)rd(cpu, n + 10 * i + 8, 2));
	}
	load_env(cpu);
	for (i = 0; i < 8; i++) {
		memset(cpu->fx + FX_ST(i), 0, 16);
		memcpy(cpu->fx + FX_ST(i), st[i], 10);
	}
}

/* ---- forms run on the host ---- */
/* memory operand size by opcode (D8..DF) and ModRM.reg; 0: not here */
static const uint8_t mem_size[8][8] = {
	{ 4, 4, 4, 4, 4, 4, 4, 4 },
	{ 4, 0, 4, 4, 0, 0, 0, 0 },
	{ 4, 4, 4, 4, 4, 4, 4, 4 },
	{ 4, 0, 4, 4, 0, 10, 0, 10 }, /* FISTTP (SSE3) is not offered */
	{ 8, 8, 8, 8, 8, 8, 8, 8 },
	{ 8, 0, 8, 8, 0, 0, 0, 0 },
	{ 2, 2, 2, 2, 2, 2, 2, 2 },
	{ 2, 0, 2, 2, 10, 8, 10, 8 },
};

static int is_store(unsigned op, unsigned reg)
{
	switch (op) {
	case 1: case 5: return reg == 2 || reg == 3;
	case 3: return reg == 2 || reg == 3 || reg == 7;
	case 7: return reg == 2 || reg == 3 || reg >= 6;
	}
	return 0;
}

/* Register forms the host runs (ModRM & 0x3f), the undocumented aliases
 * every x87 since the 387 has (FCOM2, FXCH4, FSTP1, FFREEP...) included:
 * 1 = valid. */
static int reg_form_ok(unsigned op, unsigned m)
{
	switch (op) {
	case 0: case 4: return 1;
	case 1:
		return m < 0x11 || (m >= 0x18 && m < 0x22) || m == 0x24 ||
		       m == 0x25 || (m >= 0x28 && m <= 0x2e) || m >= 0x30;
	case 2: return m < 0x20 || m == 0x29;
	case 3: return m < 0x20 || (m >= 0x28 && m < 0x38);
	case 5: return m < 0x30;
	case 6: return m < 0x18 || m == 0x19 || m >= 0x20;
	case 7: return m < 0x20 || (m >= 0x28 && m < 0x38);
	}
	return 0;
}

static void note_insn(struct emu_cpu *cpu, unsigned op, unsigned m)
{
	struct emu_fpu *f = &cpu->fpu;

	f->fop = (uint16_t)(op << 8 | m);
	f->fip = cpu->rip;
	f->fcs = cpu->seg[X86_CS].sel;
	if (cpu->in.mod != 3) {
		f->fdp = cpu->ea;
		f->fds = cpu->seg[cpu->in.seg].sel;
	}
}

static void run_host(struct emu_cpu *cpu, unsigned op, unsigned m)
{
	const struct emu_insn *in = &cpu->in;
	struct hostfp_insn hi = { .op = (uint8_t)(0xd8 + op), .mod = (uint8_t)(m >> 6),
				  .reg = (uint8_t)((m >> 3) & 7), .rm = (uint8_t)(m & 7) };
	struct hostfp_ctx ctx;
	unsigned size = in->mod == 3 ? 0 : mem_size[op][hi.reg];
	uint16_t fcw = fx16(cpu->fx, FX_FCW), fsw = fx16(cpu->fx, FX_FSW), nsw;
	unsigned raised, unmasked;
	int store = in->mod != 3 && is_store(op, hi.reg);
	uint64_t lo = 0;

	memcpy(ctx.fx, cpu->fx, sizeof(ctx.fx));
	fx16_set(ctx.fx, FX_FCW, fcw | 0x3f);
	fx16_set(ctx.fx, FX_FSW, fsw & ~(FSW_ES | FSW_B | 0x7f));
	fx32_set(ctx.fx, FX_MXCSR, 0x1f80);
	memset(ctx.mem, 0, sizeof(ctx.mem));
	ctx.rax = 0;
	ctx.flags = 2 | (emu_get_flags(cpu) & (FL_CF | FL_PF | FL_ZF));
	if (in->mod != 3) {
		uint64_t lin = emu_seg_addr(cpu, in->seg, cpu->ea, size, store);

		if (store) {
			/* fault now, before the stack changes */
			emu_probe_write(cpu, lin, size);
		} else {
			lo = emu_read_lin(cpu, lin, size > 8 ? 8 : size);
			memcpy(ctx.mem, &lo, 8);
			if (size > 8) {
				uint64_t h = emu_read_lin(cpu, lin + 8, size - 8);

				memcpy(ctx.mem + 8, &h, 8);
			}
		}
	}
	if (emu_hostfp_run(cpu, &hi, &ctx))
		emu_raise(cpu, EXC_MC, 0, 0);
	nsw = fx16(ctx.fx, FX_FSW);
	raised = nsw & 0x7f;
	unmasked = raised & ~fcw & 0x3f;
	note_insn(cpu, op, m);
	if (unmasked & 0x7) {
		/* invalid, denormal or zero divide: no result, no pop */
		fsw_set(cpu, (uint16_t)(fsw | raised));
		return;
	}
	if (store) {
		uint64_t lin = emu_seg_addr(cpu, in->seg, cpu->ea, size, 1);

		memcpy(&lo, ctx.mem, 8);
		emu_write_lin(cpu, lin, size > 8 ? 8 : size, lo);
		if (size > 8)
			emu_write_lin(cpu, lin + 8, size - 8, fx16(ctx.mem, 8));
	}
	/* the x87 part of the image only: XMM and MXCSR are untouched */
	memcpy(cpu->fx + FX_ST(0), ctx.fx + FX_ST(0), 8 * 16);
	cpu->fx[FX_FTW] = ctx.fx[FX_FTW];
	fsw_set(cpu, (uint16_t)(nsw | (fsw & 0x7f)));
	if ((op == 3 || op == 7) && in->mod == 3 && (m & 0x3f) >= 0x28 &&
	    (m & 0x3f) < 0x38) /* FCOMI, FUCOMI and their pops */
		emu_set_flags(cpu, ctx.flags & (FL_ZF | FL_PF | FL_CF),
			      FL_ARITH);
}

static int control(struct emu_cpu *cpu, unsigned op, unsigned m)
{
	unsigned reg = (m >> 3) & 7;
	int mem = cpu->in.mod != 3;

	if (mem && op == 1 && reg >= 4) {
		switch (reg) {
		case 4: emu_fpu_check_pending(cpu); load_env(cpu); break;
		case 5:
			emu_fpu_check_pending(cpu);
			fx16_set(cpu->fx, FX_FCW,
				 (uint16_t)((rd(cpu, 0, 2) & 0x1f7f) | 0x40));
			fsw_set(cpu, fx16(cpu->fx, FX_FSW));
			break;
		case 6:
			store_env(cpu);
			fx16_set(cpu->fx, FX_FCW, fx16(cpu->fx, FX_FCW) | 0x3f);
			fsw_set(cpu, fx16(cpu->fx, FX_FSW));
			break;
		case 7: wr(cpu, 0, 2, fx16(cpu->fx, FX_FCW)); break;
		}
		return 1;
	}
	if (mem && op == 5 && reg >= 4) {
		switch (reg) {
		case 4: emu_fpu_check_pending(cpu); frstor(cpu); break;
		case 5: UD();
		case 6: fnsave(cpu); break;
		case 7: wr(cpu, 0, 2, fx16(cpu->fx, FX_FSW)); break;
		}
		return 1;
	}
	if (mem)
		return 0;
	m &= 0x3f;
	if (op == 3 && m >= 0x20 && m <= 0x24) {
		if (m == 0x22)
			fx16_set(cpu->fx, FX_FSW, fx16(cpu->fx, FX_FSW) & 0x7f00);
		else if (m == 0x23)
			fninit(cpu);
		return 1; /* FENI, FDISI, FSETPM: no-ops since the 387 */
	}
	if (op == 7 && m == 0x20) {
		reg_set(cpu, X86_RAX, 2, fx16(cpu->fx, FX_FSW));
		return 1;
	}
	return 0;
}

int emu_exec_fpu(struct emu_cpu *cpu)
{
	const struct emu_insn *in = &cpu->in;
	unsigned op = in->op & 7;
	unsigned m = (unsigned)(in->mod << 6 | (in->reg & 7) << 3 | (in->rm & 7));

	if (cpu->cr0 & (CR0_EM | CR0_TS))
		emu_raise(cpu, EXC_NM, 0, 0);
	if (control(cpu, op, m))
		return 0;
	if (in->mod == 3) {
		m &= 0x3f;
		if (!reg_form_ok(op, m))
			return -1;
		m |= 0xc0;
	} else if (!mem_size[op][(m >> 3) & 7]) {
		return -1;
	}
	emu_fpu_check_pending(cpu);
	run_host(cpu, op, m);
	return 0;
}

void emu_fwait(struct emu_cpu *cpu)
{
	if ((cpu->cr0 & (CR0_MP | CR0_TS)) ==
	    (CR0_MP | CR0_TS))
		emu_raise(cpu, EXC_NM, 0, 0);
	emu_fpu_check_pending(cpu);
}
