/*
 * MMX, SSE and SSE2 (the 0F opcode map with its 66/F3/F2 forms), LDMXCSR,
 * STMXCSR, FXSAVE, FXRSTOR and the fences. The table below lists every
 * form offered; each runs on the host through hostfp.c, so results and
 * MXCSR flags are the hardware's. Forms of later extensions (SSE3 and up)
 * are #UD, as CPUID says.
 */
#include <string.h>

#include "hostfp.h"
#include "emu_int.h"

enum {
	V = 0x1,      /* a valid form */
	XM = 0x2,     /* touches XMM state: needs CR4.OSFXSR */
	MM = 0x4,     /* touches MMX state: x87 pending exceptions first */
	AL = 0x8,     /* a 16-byte memory operand must be aligned */
	ST = 0x10,    /* writes its r/m operand */
	MO = 0x20,    /* r/m must be memory */
	RO = 0x40,    /* r/m must be a register */
	GR = 0x80,    /* ModRM.reg is a general register (written) */
	GM = 0x100,   /* a register r/m is a general register */
	EF = 0x200,   /* sets ZF PF CF (COMISS and kin) */
	WZ = 0x400,   /* memory operand: 8 bytes with REX.W, else 4 */
	S2 = 0x1000, S4 = 0x2000, S8 = 0x3000, S16 = 0x4000, /* memory size */
};
#define SZ(f) ((f) >> 12 ? 1u << ((f) >> 12) : 0)

#define X (V | XM)
#define M (V | MM)
#define XA (X | S16 | AL)
#define MQ (M | S8)
#define INT2 { MQ, XA, 0, 0 }   /* MMX mm/m64, SSE2 66 xmm/m128 */
#define PS_ALL { XA, XA, X | S4, X | S8 } /* ps pd ss sd */
#define PS_PD { XA, XA, 0, 0 }

/* [opcode - 0x10][none, 66, F3, F2] */
static const uint16_t forms[0xf0][4] = {
	[0x10 - 0x10] = { X | S16, X | S16, X | S4, X | S8 },
	[0x11 - 0x10] = { X | S16 | ST, X | S16 | ST, X | S4 | ST, X | S8 | ST },
	[0x12 - 0x10] = { X | S8, X | S8 | MO, 0, 0 },
	[0x13 - 0x10] = { X | S8 | MO | ST, X | S8 | MO | ST, 0, 0 },
	[0x14 - 0x10] = PS_PD,
	[0x15 - 0x10] = PS_PD,
	[0x16 - 0x10] = { X | S8, X | S8 | MO, 0, 0 },
	[0x17 - 0x10] = { X | S8 | MO | ST, X | S8 | MO | ST, 0, 0 },
	[0x28 - 0x10] = PS_PD,
	[0x29 - 0x10] = { XA | ST, XA | ST, 0, 0 },
	[0x2a - 0x10] = { X | MM | S8, X | MM | S8, X | GM | WZ, X | GM | WZ },
	[0x2b - 0x10] = { XA | MO | ST, XA | MO | ST, 0, 0 },
	[0x2c - 0x10] = { X | MM | S8, XA | MM, X | GR | S4, X | GR | S8 },
	[0x2d - 0x10] = { X | MM | S8, XA | MM, X | GR | S4, X | GR | S8 },
	[0x2e - 0x10] = { X | EF | S4, X | EF | S8, 0, 0 },
	[0x2f - 0x10] = { X | EF | S4, X | EF | S8, 0, 0 },
	[0x50 - 0x10] = { X | GR | RO, X | GR | RO, 0, 0 },
	[0x51 - 0x10] = PS_ALL,
	[0x52 - 0x10] = { XA, 0, X | S4, 0 },
	[0x53 - 0x10] = { XA, 0, X | S4, 0 },
	[0x54 - 0x10] = PS_PD, [0x55 - 0x10] = PS_PD,
	[0x56 - 0x10] = PS_PD, [0x57 - 0x10] = PS_PD,
	[0x58 - 0x10] = PS_ALL, [0x59 - 0x10] = PS_ALL,
	[0x5a - 0x10] = { X | S8, XA, X | S4, X | S8 },
	[0x5b - 0x10] = { XA, XA, XA, 0 },
	[0x5c - 0x10] = PS_ALL, [0x5d - 0x10] = PS_ALL,
	[0x5e - 0x10] = PS_ALL, [0x5f - 0x10] = PS_ALL,
	[0x60 - 0x10] = { M | S4, XA, 0, 0 },
	[0x61 - 0x10] = { M | S4, XA, 0, 0 },
	[0x62 - 0x10] = { M | S4, XA, 0, 0 },
	[0x63 - 0x10] = INT2, [0x64 - 0x10] = INT2, [0x65 - 0x10] = INT2,
	[0x66 - 0x10] = INT2, [0x67 - 0x10] = INT2, [0x68 - 0x10] = INT2,
	[0x69 - 0x10] = INT2, [0x6a - 0x10] = INT2, [0x6b - 0x10] = INT2,
	[0x6c - 0x10] = { 0, XA, 0, 0 },
	[0x6d - 0x10] = { 0, XA, 0, 0 },
	[0x6e - 0x10] = { M | GM | WZ, X | GM | WZ, 0, 0 },
	[0x6f - 0x10] = { MQ, XA, X | S16, 0 },
	[0x70 - 0x10] = { MQ, XA, XA, XA },
	[0x71 - 0x10] = { M | RO, X | RO, 0, 0 },
	[0x72 - 0x10] = { M | RO, X | RO, 0, 0 },
	[0x73 - 0x10] = { M | RO, X | RO, 0, 0 },
	[0x74 - 0x10] = INT2, [0x75 - 0x10] = INT2, [0x76 - 0x10] = INT2,
	[0x7e - 0x10] = { M | GM | WZ | ST, X | GM | WZ | ST, X | S8, 0 },
	[0x7f - 0x10] = { MQ | ST, XA | ST, X | S16 | ST, 0 },
	[0xc2 - 0x10] = PS_ALL,
	[0xc4 - 0x10] = { M | GM | S2, X | GM | S2, 0, 0 },
	[0xc5 - 0x10] = { M | GR | RO, X | GR | RO, 0, 0 },
	[0xc6 - 0x10] = PS_PD,
	[0xd1 - 0x10] = INT2, [0xd2 - 0x10] = INT2, [0xd3 - 0x10] = INT2,
	[0xd4 - 0x10] = INT2, [0xd5 - 0x10] = INT2,
	[0xd6 - 0x10] = { 0, X | S8 | ST, X | MM | RO, X | MM | RO },
	[0xd7 - 0x10] = { M | GR | RO, X | GR | RO, 0, 0 },
	[0xd8 - 0x10] = INT2, [0xd9 - 0x10] = INT2, [0xda - 0x10] = INT2,
	[0xdb - 0x10] = INT2, [0xdc - 0x10] = INT2, [0xdd - 0x10] = INT2,
	[0xde - 0x10] = INT2, [0xdf - 0x10] = INT2,
	[0xe0 - 0x10] = INT2, [0xe1 - 0x10] = INT2, [0xe2 - 0x10] = INT2,
	[0xe3 - 0x10] = INT2, [0xe4 - 0x10] = INT2, [0xe5 - 0x10] = INT2,
	[0xe6 - 0x10] = { 0, XA, X | S8, XA },
	[0xe7 - 0x10] = { MQ | MO | ST, XA | MO | ST, 0, 0 },
	[0xe8 - 0x10] = INT2, [0xe9 - 0x10] = INT2, [0xea - 0x10] = INT2,
	[0xeb - 0x10] = INT2, [0xec - 0x10] = INT2, [0xed - 0x10] = INT2,
	[0xee - 0x10] = INT2, [0xef - 0x10] = INT2,
	[0xf1 - 0x10] = INT2, [0xf2 - 0x10] = INT2, [0xf3 - 0x10] = INT2,
	[0xf4 - 0x10] = INT2, [0xf5 - 0x10] = INT2, [0xf6 - 0x10] = INT2,
	[0xf7 - 0x10] = { M | RO, X | RO, 0, 0 },
	[0xf8 - 0x10] = INT2, [0xf9 - 0x10] = INT2, [0xfa - 0x10] = INT2,
	[0xfb - 0x10] = INT2, [0xfc - 0x10] = INT2, [0xfd - 0x10] = INT2,
	[0xfe - 0x10] = INT2,
};

static void check_avail(struct emu_cpu *cpu, unsigned f)
{
	if (cpu->cr0 & CR0_EM)
		UD();
	if ((f & XM) && !(cpu->cr4 & CR4_OSFXSR))
		UD();
	if (cpu->cr0 & CR0_TS)
		emu_raise(cpu, EXC_NM, 0, 0);
	if (f & MM)
		emu_fpu_check_pending(cpu);
}

/* 0F 71-73: which ModRM.reg shifts exist */
static int shift_ok(unsigned op, int xmm, unsigned r)
{
	if (r == 2 || r == 6)
		return 1;
	if (r == 4)
		return op != 0x73;
	return op == 0x73 && xmm && (r == 3 || r == 7);
}

static uint64_t mem_lin(struct emu_cpu *cpu, unsigned size, int write,
			int align)
{
	uint64_t lin = emu_seg_addr(cpu, cpu->in.seg, cpu->ea, size, write);

	if (align && (lin & 15))
		GP(0);
	return lin;
}

static void mem_in(struct emu_cpu *cpu, uint64_t lin, uint8_t *buf,
		   unsigned size)
{
	uint64_t v = emu_read_lin(cpu, lin, size > 8 ? 8 : size);

	memcpy(buf, &v, 8);
	if (size > 8) {
		v = emu_read_lin(cpu, lin + 8, size - 8);
		memcpy(buf + 8, &v, 8);
	}
}

static void mem_out(struct emu_cpu *cpu, uint64_t lin, const uint8_t *buf,
		    unsigned size)
{
	uint64_t v;

	emu_probe_write(cpu, lin, size);
	memcpy(&v, buf, 8);
	emu_write_lin(cpu, lin, size > 8 ? 8 : size, v);
	if (size > 8) {
		memcpy(&v, buf + 8, 8);
		emu_write_lin(cpu, lin + 8, size - 8, v);
	}
}

static int has_imm(unsigned op)
{
	return (op >= 0x70 && op <= 0x73) || op == 0xc2 || op == 0xc4 ||
	       op == 0xc5 || op == 0xc6;
}

/* MASKMOVQ / MASKMOVDQU: bytes whose mask byte has bit 7 go to DS:rDI */
static void maskmov(struct emu_cpu *cpu, int xmm)
{
	const struct emu_insn *in = &cpu->in;
	unsigned n = xmm ? 16 : 8, i;
	const uint8_t *src, *mask;
	uint64_t di = cpu->gpr[X86_RDI] & amask(in->asize);

	if (xmm) {
		src = cpu->fx + FX_XMM(in->reg);
		mask = cpu->fx + FX_XMM(in->rm);
	} else {
		src = cpu->fx + FX_ST(in->reg & 7);
		mask = cpu->fx + FX_ST(in->rm & 7);
		/* an MMX instruction: TOP = 0, all registers valid */
		fx16_set(cpu->fx, FX_FSW, fx16(cpu->fx, FX_FSW) & ~0x3800u);
		cpu->fx[FX_FTW] = 0xff;
	}
	for (i = 0; i < n; i++)
		if (mask[i] & 0x80)
			mem_write(cpu, in->segovr ? in->seg : X86_DS,
				  (di + i) & amask(in->asize), 1, src[i]);
}

static void run(struct emu_cpu *cpu, unsigned f, unsigned p)
{
	const struct emu_insn *in = &cpu->in;
	unsigned op = in->op & 0xff, size = SZ(f);
	struct hostfp_insn hi = {
		.pfx = (uint8_t)(p == 1 ? 0x66 : p == 2 ? 0xf3 : p == 3 ? 0xf2 : 0),
		.rex = (uint8_t)(in->rex & 0xd), .map0f = 1, .op = (uint8_t)op,
		.mod = in->mod, .reg = (uint8_t)(in->reg & 7), .rm = (uint8_t)(in->rm & 7),
		.has_imm = (uint8_t)has_imm(op), .imm = (uint8_t)in->imm,
	};
	struct hostfp_ctx ctx;
	uint32_t mx = fx32(cpu->fx, FX_MXCSR), raised;
	uint16_t fsw = fx16(cpu->fx, FX_FSW);
	uint64_t lin = 0;
	int wide = !!(in->rex & 8);

	if (f & WZ)
		size = wide ? 8 : 4;
	memcpy(ctx.fx, cpu->fx, sizeof(ctx.fx));
	fx16_set(ctx.fx, FX_FCW, fx16(cpu->fx, FX_FCW) | 0x3f);
	fx16_set(ctx.fx, FX_FSW, fsw & 0x7fff & ~0x80u);
	fx32_set(ctx.fx, FX_MXCSR, (mx & ~0x3fu) | 0x1f80);
	memset(ctx.mem, 0, sizeof(ctx.mem));
	ctx.rax = 0;
	ctx.flags = 2 | (emu_get_flags(cpu) & (FL_CF | FL_PF | FL_ZF));
	if (f & GR) {
		hi.reg = 0;
		hi.rex &= (uint8_t)~4;
	}
	if (in->mod == 3 && (f & GM)) {
		hi.rm = 0;
		hi.rex &= (uint8_t)~1;
		ctx.rax = cpu->gpr[in->rm];
	} else if (in->mod != 3) {
		lin = mem_lin(cpu, size, !!(f & ST), (f & AL) && size == 16);
		if (!(f & ST))
			mem_in(cpu, lin, ctx.mem, size);
	}
	if (emu_hostfp_run(cpu, &hi, &ctx))
		emu_raise(cpu, EXC_MC, 0, 0);
	raised = fx32(ctx.fx, FX_MXCSR) & 0x3f;
	if (raised & ~(mx >> 7) & 0x3f) {
		/* unmasked SIMD exception: flags set, nothing else changes */
		fx32_set(cpu->fx, FX_MXCSR, mx | raised);
		if (!(cpu->cr4 & CR4_OSXMMEXCPT))
			UD();
		emu_raise(cpu, EXC_XM, 0, 0);
	}
	if (in->mod != 3 && (f & ST))
		mem_out(cpu, lin, ctx.mem, size);
	if (in->mod == 3 && (f & GM) && (f & ST))
		reg_set(cpu, in->rm, wide ? 8 : 4, ctx.rax);
	if (f & GR)
		reg_set(cpu, in->reg, wide ? 8 : 4, ctx.rax);
	if (f & EF)
		emu_set_flags(cpu, ctx.flags & (FL_ZF | FL_PF | FL_CF), FL_ARITH);
	fx16_set(ctx.fx, FX_FCW, fx16(cpu->fx, FX_FCW));
	fx16_set(ctx.fx, FX_FSW, (uint16_t)(fx16(ctx.fx, FX_FSW) | (fsw & 0x8080)));
	fx32_set(ctx.fx, FX_MXCSR, mx | raised);
	memcpy(cpu->fx, ctx.fx, 464);
}

/* ---- 0F AE ---- */
static void fxsave(struct emu_cpu *cpu)
{
	const struct emu_insn *in = &cpu->in;
	uint8_t img[512];
	uint64_t lin = mem_lin(cpu, 512, 1, 1);
	const struct emu_fpu *f = &cpu->fpu;
	unsigned i;

	memcpy(img, cpu->fx, sizeof(img));
	fx16_set(img, 6, f->fop);
	if (in->rex & 8) {
		memcpy(img + 8, &f->fip, 8);
		memcpy(img + 16, &f->fdp, 8);
	} else {
		fx32_set(img, 8, (uint32_t)f->fip);
		fx32_set(img, 12, f->fcs);
		fx32_set(img, 16, (uint32_t)f->fdp);
		fx32_set(img, 20, f->fds);
	}
	emu_probe_write(cpu, lin, 416);
	for (i = 0; i < 416; i += 8) {
		uint64_t v;

		memcpy(&v, img + i, 8);
		emu_write_lin(cpu, lin + i, 8, v);
	}
}

static void fxrstor(struct emu_cpu *cpu)
{
	const struct emu_insn *in = &cpu->in;
	uint8_t img[416];
	uint64_t lin = mem_lin(cpu, 512, 0, 1);
	struct emu_fpu *f = &cpu->fpu;
	uint16_t fsw;
	unsigned i;

	for (i = 0; i < 416; i += 8) {
		uint64_t v = emu_read_lin(cpu, lin + i, 8);

		memcpy(img + i, &v, 8);
	}
	if (fx32(img, FX_MXCSR) & ~0xffffu)
		GP(0);
	f->fop = fx16(img, 6) & 0x7ff;
	if (in->rex & 8) {
		memcpy(&f->fip, img + 8, 8);
		memcpy(&f->fdp, img + 16, 8);
		f->fcs = f->fds = 0;
	} else {
		f->fip = fx32(img, 8);
		f->fcs = fx16(img, 12);
		f->fdp = fx32(img, 16);
		f->fds = fx16(img, 20);
	}
	memset(img + 6, 0, 18);
	fx32_set(img, FX_MXCSR_MASK, 0xffff);
	img[5] = 0;
	fx16_set(img, FX_FCW, (uint16_t)((fx16(img, FX_FCW) & 0x1f7f) | 0x40));
	for (i = 0; i < 8; i++) /* only 80 bits of each register exist */
		memset(img + FX_ST(i) + 10, 0, 6);
	memcpy(cpu->fx, img, sizeof(img));
	fsw = fx16(img, FX_FSW) & (uint16_t)~0x8080u;
	if (fsw & ~fx16(img, FX_FCW) & 0x3f)
		fsw |= 0x8080;
	fx16_set(cpu->fx, FX_FSW, fsw);
}

static void grp15(struct emu_cpu *cpu)
{
	const struct emu_insn *in = &cpu->in;
	unsigned r = in->reg & 7;

	if (in->rep)
		UD();
	if (in->mod == 3) {
		/* LFENCE, MFENCE, SFENCE: accesses are in order already */
		if (r < 5)
			UD();
		return;
	}
	switch (r) {
	case 0: case 1:
		if (cpu->cr0 & (CR0_EM | CR0_TS))
			emu_raise(cpu, EXC_NM, 0, 0);
		if (r == 0)
			fxsave(cpu);
		else
			fxrstor(cpu);
		return;
	case 2: case 3:
		check_avail(cpu, XM);
		if (r == 3) {
			mem_write(cpu, in->seg, cpu->ea, 4, fx32(cpu->fx, FX_MXCSR));
		} else {
			uint64_t v = mem_read(cpu, in->seg, cpu->ea, 4);

			if (v & ~0xffffull)
				GP(0);
			fx32_set(cpu->fx, FX_MXCSR, (uint32_t)v);
		}
		return;
	case 7: /* CLFLUSH: there are no caches to flush */
		if (in->pfx66)
			UD();
		emu_seg_addr(cpu, in->seg, cpu->ea, 1, 0);
		return;
	}
	UD();
}

int emu_exec_sse(struct emu_cpu *cpu)
{
	const struct emu_insn *in = &cpu->in;
	unsigned op = in->op & 0xff, p, f;

	if (in->op >= 0x200 || op < 0x10)
		return -1;
	if (op == 0xae) {
		grp15(cpu);
		return 0;
	}
	if (op == 0x77) { /* EMMS */
		if (in->rep || in->pfx66)
			return -1;
		check_avail(cpu, MM);
		cpu->fx[FX_FTW] = 0;
		return 0;
	}
	p = in->rep == 0xf3 ? 2 : in->rep == 0xf2 ? 3 : in->pfx66 ? 1 : 0;
	f = forms[op - 0x10][p];
	if (!(f & V) || in->lock)
		return -1;
	if (in->mod == 3 ? (f & MO) : (f & RO))
		return -1;
	if (op >= 0x71 && op <= 0x73 && !shift_ok(op, p == 1, in->reg & 7))
		return -1;
	check_avail(cpu, f);
	if (op == 0xf7) {
		maskmov(cpu, p == 1);
		return 0;
	}
	run(cpu, f, p);
	return 0;
}
