/*
 * Differential test of the interpreter against the host CPU (x86-64).
 *
 *   emu-diff [CASES] [SEED]
 *
 * Each case is a random sequence of user-mode instructions (ALU, shifts
 * and rotates, MUL/DIV with guarded divisors, bit operations, CMOV/SETcc/Jcc,
 * counted loops of register instructions,
 * MOVZX/MOVSX, XADD/CMPXCHG/XCHG, BSWAP, string instructions with REP on a
 * scratch buffer), and in every other case SSE/SSE2/MMX and x87 ones
 * (EMU_DIFF_FP=sse or x87 narrows those to one kind), each case between
 * an FXRSTOR of a random all-masked FP state and an FXSAVE into the buffer) run twice from the same registers and buffer: natively
 * in a forked child (code at a fixed address, registers loaded and saved
 * by a small trampoline), and in the interpreter in 64-bit mode with the
 * same addresses identity-mapped. Registers, the flags the instructions
 * define, and the buffer must match. One line per batch of cases.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emu/emu.h"

#define CODE 0x40000000ull      /* test code, then the trampoline */
#define EPI (CODE + 0x3000)     /* where test code jumps when done */
#define TRAMP (CODE + 0x3800)
#define DATA 0x40200000ull      /* scratch buffer (RBX points here) */
#define STATE 0x40400000ull     /* register images for the trampoline */
#define GRAM (8u << 20)         /* guest RAM for the interpreter: 0-8 MiB */
#define GBASE 0x40000000ull     /* guest-physical = host address - this */


struct regs {
	uint64_t g[16];
	uint64_t flags;
};

/* ---- code generation ---- */
struct gen {
	uint8_t *p;
	unsigned n;
	uint64_t undef;  /* flags undefined at this point */
	uint64_t rng;
	int fp;          /* this case: SSE/MMX/x87 instructions */
};

static uint64_t rnd(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

static unsigned pick(struct gen *g, unsigned n)
{
	return (unsigned)(rnd(g) % n);
}

static void emit(struct gen *g, uint8_t b)
{
	g->p[g->n++] = b;
}

/* registers the random code may write: not RSP (4), not RBX (3, the
 * buffer base) */
static unsigned reg(struct gen *g)
{
	static const uint8_t r[] = { 0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

	return r[pick(g, sizeof(r))];
}

/* prefix for operand size s (1, 2, 4, 8) with ModRM reg r and rm b */
static void pfx(struct gen *g, unsigned s, unsigned r, unsigned b)
{
	if (s == 2)
		emit(g, 0x66);
	emit(g, (uint8_t)(0x40 | (s == 8) << 3 | ((r >> 3) & 1) << 2 | ((b >> 3) & 1)));
}

static void rr(struct gen *g, unsigned r, unsigned b)
{
	emit(g, (uint8_t)(0xc0 | (r & 7) << 3 | (b & 7)));
}

/* [rbx + disp8], inside the first 128 bytes of the buffer */
static void mem(struct gen *g, unsigned r)
{
	emit(g, (uint8_t)(0x40 | (r & 7) << 3 | 3));
	emit(g, (uint8_t)pick(g, 120));
}

static unsigned size(struct gen *g)
{
	static const uint8_t s[] = { 1, 2, 4, 8, 8, 4 };

	return s[pick(g, sizeof(s))];
}

#define OSZAPC 0x8d5ull
#define CF 1ull
#define AF 0x10ull
#define OF 0x800ull

static void flags_set(struct gen *g, uint64_t defined, uint64_t undefined)
{
	g->undef = (g->undef & ~defined & ~undefined) | undefined;
}

/* Before an instruction that reads flags: make them all defined. */
static void need_flags(struct gen *g)
{
	if (!(g->undef & (OSZAPC & ~AF)))
		return;
	{
		unsigned a = reg(g), b = reg(g);

		pfx(g, 8, b, a);
		emit(g, 0x39); /* CMP r/m64, r64 */
		rr(g, b, a);
	}
	flags_set(g, OSZAPC, 0);
}

static void g_alu(struct gen *g)
{
	unsigned op = pick(g, 8), s = size(g), a = reg(g), b = reg(g);

	if (op == 2 || op == 3)
		need_flags(g);
	switch (pick(g, 4)) {
	case 0:
		pfx(g, s, b, a);
		emit(g, (uint8_t)(op << 3 | (s == 1 ? 0 : 1)));
		rr(g, b, a);
		break;
	case 1:
		pfx(g, s, b, 3);
		emit(g, (uint8_t)(op << 3 | (s == 1 ? 2 : 3)));
		mem(g, b);
		break;
	case 2:
		pfx(g, s, b, 3);
		emit(g, (uint8_t)(op << 3 | (s == 1 ? 0 : 1)));
		mem(g, b);
		break;
	default:
		pfx(g, s, b, a);
		emit(g, s == 1 ? 0x80 : 0x83);
		rr(g, op, a);
		emit(g, (uint8_t)rnd(g));
	}
	flags_set(g, OSZAPC, 0);
}

static void g_unary(struct gen *g)
{
	unsigned s = size(g), a = reg(g), k = pick(g, 4);

	pfx(g, s, 0, a);
	if (k < 2) { /* INC/DEC */
		emit(g, s == 1 ? 0xfe : 0xff);
		rr(g, k, a);
		flags_set(g, OSZAPC & ~CF, 0);
	} else { /* NOT/NEG */
		emit(g, s == 1 ? 0xf6 : 0xf7);
		rr(g, k, a);
		if (k == 3)
			flags_set(g, OSZAPC, 0);
	}
}

static void g_shift(struct gen *g)
{
	unsigned s = size(g), a = reg(g), op = pick(g, 8), form = pick(g, 3);
	unsigned cnt = 0;

	if (op == 6)
		op = 4;
	if (op == 2 || op == 3)
		need_flags(g);
	pfx(g, s, 0, a);
	if (form == 0) {
		emit(g, s == 1 ? 0xd0 : 0xd1);
		rr(g, op, a);
		cnt = 1;
	} else if (form == 1) {
		emit(g, s == 1 ? 0xc0 : 0xc1);
		rr(g, op, a);
		cnt = (unsigned)pick(g, 70);
		emit(g, (uint8_t)cnt);
	} else {
		emit(g, s == 1 ? 0xd2 : 0xd3);
		rr(g, op, a);
		cnt = 2; /* unknown count: treat as not 1 */
	}
	cnt &= s == 8 ? 63 : 31;
	if (cnt == 0)
		return;
	/* OF is defined only for 1-bit shifts; AF never (rotates keep it) */
	if (op < 4)
		flags_set(g, cnt == 1 ? CF | OF : CF, cnt == 1 ? 0 : OF);
	else
		flags_set(g, OSZAPC, (cnt == 1 ? 0 : OF) | AF);
	if (form == 2)
		flags_set(g, 0, op < 4 ? CF | OF : OSZAPC);
}

static void g_muldiv(struct gen *g)
{
	unsigned s = pick(g, 2) ? 8 : 4, d = reg(g), k = pick(g, 5);

	if (d == 0 || d == 2)
		d = 9;
	switch (k) {
	case 0: case 1: /* MUL/IMUL rAX by d */
		pfx(g, s, 0, d);
		emit(g, 0xf7);
		rr(g, 4 + k, d);
		flags_set(g, CF | OF, OSZAPC & ~(CF | OF));
		return;
	case 2: /* IMUL r, r/m */
		{
			unsigned b = reg(g);

			pfx(g, s, d, b);
			emit(g, 0x0f);
			emit(g, 0xaf);
			rr(g, d, b);
		}
		flags_set(g, CF | OF, OSZAPC & ~(CF | OF));
		return;
	}
	/* DIV/IDIV with divisor d in 2..32767 and a dividend that fits */
	pfx(g, s, 4, d);                           /* and d, 0x7fff */
	emit(g, 0x81);
	rr(g, 4, d);
	emit(g, 0xff); emit(g, 0x7f); emit(g, 0); emit(g, 0);
	pfx(g, s, 1, d);                           /* or d, 2 */
	emit(g, 0x83);
	rr(g, 1, d);
	emit(g, 2);
	if (k == 3) {
		pfx(g, 4, 2, 2);                   /* xor edx, edx */
		emit(g, 0x31);
		rr(g, 2, 2);
	} else {
		if (s == 8)
			emit(g, 0x48);
		emit(g, 0x99);                     /* cdq / cqo */
	}
	pfx(g, s, 0, d);
	emit(g, 0xf7);
	rr(g, k == 3 ? 6 : 7, d);
	flags_set(g, 0, OSZAPC);
}

static void g_bits(struct gen *g)
{
	unsigned s = pick(g, 2) ? 8 : 4, a = reg(g), b = reg(g), k = pick(g, 6);

	if (s == 4 && pick(g, 3) == 0)
		s = 2;
	pfx(g, s, b, a);
	emit(g, 0x0f);
	switch (k) {
	case 0: case 1: case 2: case 3: /* BT/BTS/BTR/BTC r, r */
		emit(g, (uint8_t)(0xa3 + 8 * k));
		rr(g, b, a);
		flags_set(g, CF, OSZAPC & ~(CF | 0x40ull));
		break;
	case 4: /* BT* r, imm8 */
		emit(g, 0xba);
		rr(g, 4 + pick(g, 4), a);
		emit(g, (uint8_t)rnd(g));
		flags_set(g, CF, OSZAPC & ~(CF | 0x40ull));
		break;
	default: /* BSF/BSR: ModRM reg is the destination */
		g->n -= 2;
		pfx(g, s, a, b);
		emit(g, 0x0f);
		emit(g, (uint8_t)(0xbc + pick(g, 2)));
		rr(g, a, b);
		flags_set(g, 0, OSZAPC & ~0x40ull);
		break;
	}
}

static void g_cond(struct gen *g)
{
	unsigned cc = pick(g, 16), a = reg(g), b = reg(g), s = pick(g, 2) ? 8 : 4;

	need_flags(g);
	if (!pick(g, 3)) {
		/* Jcc over an ADD r64, imm8: a block's fused run of register
		 * instructions (core/emu/fuse.c) ends at one. Both paths
		 * leave OSZPC defined; AF stays as it was when taken. */
		emit(g, (uint8_t)(0x70 | cc));
		emit(g, 4);
		pfx(g, 8, 0, a);
		emit(g, 0x83);
		rr(g, 0, a);
		emit(g, (uint8_t)rnd(g));
	} else if (pick(g, 2)) { /* CMOVcc */
		pfx(g, s, a, b);
		emit(g, 0x0f);
		emit(g, (uint8_t)(0x40 | cc));
		rr(g, a, b);
	} else { /* SETcc */
		pfx(g, 1, 0, a);
		emit(g, 0x0f);
		emit(g, (uint8_t)(0x90 | cc));
		rr(g, 0, a);
	}
}

/*
 * A counted loop of register ALU and INC/DEC instructions (not on RCX),
 * DEC ECX, JNZ back: the interpreter runs it as one fused run spinning on
 * itself (core/emu/fuse.c), and run_emu() stops it at random instruction
 * counts. CF comes into the loop defined, and every member defines it or
 * keeps it.
 */
static void g_loop(struct gen *g)
{
	unsigned k, n = 1 + pick(g, 4), top;

	need_flags(g);
	emit(g, 0xb9); /* mov ecx, 1-200 */
	emit(g, (uint8_t)(1 + pick(g, 200)));
	emit(g, 0); emit(g, 0); emit(g, 0);
	top = g->n;
	for (k = 0; k < n; k++) {
		unsigned a, b, s = pick(g, 2) ? 8 : 4;

		do
			a = reg(g);
		while (a == 1);
		b = reg(g);
		pfx(g, s, b, a);
		if (pick(g, 4)) { /* ADD OR AND SUB XOR CMP r/m, r */
			static const uint8_t op[] = { 0, 1, 4, 5, 6, 7 };

			emit(g, (uint8_t)(op[pick(g, 6)] << 3 | 1));
			rr(g, b, a);
		} else { /* INC, DEC */
			emit(g, 0xff);
			rr(g, pick(g, 2), a);
		}
	}
	emit(g, 0xff); /* dec ecx */
	emit(g, 0xc9);
	emit(g, 0x75); /* jnz top */
	emit(g, (uint8_t)(top - (g->n + 1)));
	flags_set(g, OSZAPC & ~CF, 0);
}

static void g_move(struct gen *g)
{
	unsigned a = reg(g), b = reg(g), s = size(g);
	int m = pick(g, 2); /* memory form for XCHG/XADD/CMPXCHG */

	if (m)
		b = 3;

	switch (pick(g, 9)) {
	case 0: /* MOVZX/MOVSX r, r8/r16 */
		pfx(g, pick(g, 2) ? 8 : 4, a, b);
		emit(g, 0x0f);
		emit(g, (uint8_t)(0xb6 + pick(g, 2) + 8 * pick(g, 2)));
		rr(g, a, b);
		break;
	case 1: /* MOVSXD */
		pfx(g, 8, a, b);
		emit(g, 0x63);
		rr(g, a, b);
		break;
	case 2: /* XCHG */
		pfx(g, s, a, b);
		emit(g, s == 1 ? 0x86 : 0x87);
		if (!m)
			rr(g, a, b);
		else
			mem(g, a);
		break;
	case 3: /* XADD */
		pfx(g, s, a, b);
		emit(g, 0x0f);
		emit(g, s == 1 ? 0xc0 : 0xc1);
		if (!m)
			rr(g, a, b);
		else
			mem(g, a);
		flags_set(g, OSZAPC, 0);
		break;
	case 4: /* CMPXCHG */
		pfx(g, s, a, b);
		emit(g, 0x0f);
		emit(g, s == 1 ? 0xb0 : 0xb1);
		if (!m)
			rr(g, a, b);
		else
			mem(g, a);
		flags_set(g, OSZAPC, 0);
		break;
	case 5: /* BSWAP */
		pfx(g, pick(g, 2) ? 8 : 4, 0, a);
		emit(g, 0x0f);
		emit(g, (uint8_t)(0xc8 | (a & 7)));
		break;
	case 6: /* MOV r, [rbx+d] / MOV [rbx+d], r */
		pfx(g, s, a, 3);
		emit(g, (uint8_t)((s == 1 ? 0x88 : 0x89) + 2 * pick(g, 2)));
		mem(g, a);
		break;
	case 7: /* LEA with SIB: lea a, [b + c*scale + disp8] */
		{
			unsigned c = reg(g);

			emit(g, (uint8_t)(0x48 | ((a >> 3) & 1) << 2 | ((c >> 3) & 1) << 1 | ((b >> 3) & 1)));
			emit(g, 0x8d);
			emit(g, (uint8_t)(0x44 | (a & 7) << 3));
			emit(g, (uint8_t)(pick(g, 4) << 6 | (c & 7) << 3 | (b & 7)));
			emit(g, (uint8_t)rnd(g));
		}
		break;
	default: /* CBW/CWDE/CDQE, CWD/CDQ/CQO */
		if (s == 2)
			emit(g, 0x66);
		else if (s == 8)
			emit(g, 0x48);
		emit(g, (uint8_t)(0x98 + pick(g, 2)));
		break;
	}
}

static void g_shxd(struct gen *g)
{
	unsigned a = reg(g), b = reg(g), s = pick(g, 2) ? 8 : 4, cnt;

	pfx(g, s, b, a);
	emit(g, 0x0f);
	emit(g, (uint8_t)(pick(g, 2) ? 0xa4 : 0xac));
	rr(g, b, a);
	cnt = 1 + pick(g, s == 8 ? 63 : 31);
	emit(g, (uint8_t)cnt);
	flags_set(g, OSZAPC & ~(OF | AF), (cnt == 1 ? 0 : OF) | AF);
}

/* REP string ops inside the buffer: RSI/RDI/RCX set up first, DF clear. */
static void g_string(struct gen *g)
{
	static const uint8_t ops[] = { 0xa4, 0xa5, 0xaa, 0xab, 0xac, 0xa6, 0xae };
	unsigned op = ops[pick(g, sizeof(ops))], w = pick(g, 3);
	unsigned n = pick(g, 40);

	emit(g, 0xfc); /* cld */
	emit(g, 0x48); emit(g, 0x8d); emit(g, 0x73); emit(g, (uint8_t)(64 + pick(g, 60))); /* lea rsi,[rbx+d] */
	emit(g, 0x48); emit(g, 0x8d); emit(g, 0x7b); emit(g, (uint8_t)pick(g, 64));        /* lea rdi,[rbx+d] */
	emit(g, 0xb9); emit(g, (uint8_t)n); emit(g, 0); emit(g, 0); emit(g, 0);            /* mov ecx, n */
	if (op == 0xa6 || op == 0xae)
		emit(g, pick(g, 2) ? 0xf3 : 0xf2);
	else if (pick(g, 4))
		emit(g, 0xf3);
	if (op & 1 && w == 2)
		emit(g, 0x48);
	emit(g, (uint8_t)op);
	/* with a zero count the flags stay as they were */
	if ((op == 0xa6 || op == 0xae) && n)
		flags_set(g, OSZAPC, 0);
}


/* ---- SSE/SSE2/MMX and x87 ----
 * Every case starts with FXRSTOR64 [rbx+0x400] (an image set up per case:
 * all exceptions masked, random rounding/precision, TOP, tags, registers)
 * and ends with FXSAVE64 [rbx+0x200], so the buffer comparison covers the
 * whole FP state. */
#define FXIN 0x400
#define FXOUT 0x200

static void rex_emit(struct gen *g, unsigned w, unsigned r, unsigned b)
{
	if (w || (r & 8) || (b & 8))
		emit(g, (uint8_t)(0x40 | w << 3 | ((r >> 3) & 1) << 2 | ((b >> 3) & 1)));
}

/* [pfx] [REX] 0F op ModRM(reg, rm register) */
static void sse_rr(struct gen *g, uint8_t p, uint8_t op, unsigned w,
		   unsigned r, unsigned b)
{
	if (p)
		emit(g, p);
	rex_emit(g, w, r, b);
	emit(g, 0x0f);
	emit(g, op);
	rr(g, r, b);
}

/* memory operand [rbx+disp8]; aligned: a multiple of 16 below 128 */
static void sse_rm(struct gen *g, uint8_t p, uint8_t op, unsigned w,
		   unsigned r, int aligned)
{
	if (p)
		emit(g, p);
	rex_emit(g, w, r, 0);
	emit(g, 0x0f);
	emit(g, op);
	emit(g, (uint8_t)(0x40 | (r & 7) << 3 | 3));
	emit(g, (uint8_t)(aligned ? 16 * pick(g, 8) : pick(g, 112)));
}

static void sse_any(struct gen *g, uint8_t p, uint8_t op, int aligned)
{
	unsigned r = pick(g, 16);

	if (pick(g, 3))
		sse_rr(g, p, op, 0, r, pick(g, 16));
	else
		sse_rm(g, p, op, 0, r, aligned);
}

static void g_sse(struct gen *g)
{
	static const uint8_t pint[] = {
		0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
		0x6a, 0x6b, 0x6c, 0x6d, 0x74, 0x75, 0x76, 0xd1, 0xd2, 0xd3,
		0xd4, 0xd5, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
		0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe8, 0xe9, 0xea, 0xeb,
		0xec, 0xed, 0xee, 0xef, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6,
		0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0x6f, 0x28, 0x5b,
		0xe6,
	};
	static const uint8_t pfp[] = {
		0x14, 0x15, 0x28, 0x51, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59,
		0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x5a,
	};
	static const uint8_t sfp[] = { 0x10, 0x51, 0x58, 0x59, 0x5a, 0x5c,
				       0x5d, 0x5e, 0x5f, 0x6f, 0x7e, 0xe6 };
	unsigned k = pick(g, 14), r = pick(g, 16), gp = reg(g);

	switch (k) {
	case 0: case 1: case 2:
		sse_any(g, 0x66, pint[pick(g, sizeof(pint))], 1);
		break;
	case 3: case 4:
		sse_any(g, pick(g, 2) ? 0x66 : 0, pfp[pick(g, sizeof(pfp))], 1);
		break;
	case 5: {
		uint8_t op = sfp[pick(g, sizeof(sfp))], p = pick(g, 2) ? 0xf3 : 0xf2;

		if (op == 0x6f || op == 0x7e)
			p = 0xf3;
		if (op == 0xe6)
			p = pick(g, 2) ? 0xf3 : 0xf2;
		sse_any(g, p, op, op == 0xe6 && p == 0xf2);
		break;
	}
	case 6: { /* shuffles and compares with imm8 */
		static const uint8_t pp[] = { 0x66, 0xf3, 0xf2 };

		switch (pick(g, 3)) {
		case 0: sse_any(g, pp[pick(g, 3)], 0x70, 1); break;
		case 1: sse_any(g, pick(g, 2) ? 0x66 : 0, 0xc6, 1); break;
		default: {
			static const uint8_t cp[] = { 0, 0x66, 0xf3, 0xf2 };
			uint8_t p = cp[pick(g, 4)];

			sse_any(g, p, 0xc2, p == 0 || p == 0x66);
			emit(g, (uint8_t)pick(g, 8));
			return;
		}
		}
		emit(g, (uint8_t)rnd(g));
		break;
	}
	case 7: { /* shifts by imm8 */
		static const uint8_t sh[][2] = { { 0x71, 2 }, { 0x71, 4 }, { 0x71, 6 },
			{ 0x72, 2 }, { 0x72, 4 }, { 0x72, 6 }, { 0x73, 2 }, { 0x73, 3 },
			{ 0x73, 6 }, { 0x73, 7 } };
		unsigned i = pick(g, 10);

		sse_rr(g, 0x66, sh[i][0], 0, sh[i][1], r);
		emit(g, (uint8_t)pick(g, 70));
		break;
	}
	case 8: /* to and from general registers */
		switch (pick(g, 7)) {
		case 0: sse_rr(g, 0x66, 0xd7, 0, gp, r); break;
		case 1: sse_rr(g, pick(g, 2) ? 0x66 : 0, 0x50, 0, gp, r); break;
		case 2: sse_rr(g, 0x66, 0x6e, pick(g, 2), r, gp); break;
		case 3: sse_rr(g, 0x66, 0x7e, pick(g, 2), r, gp); break;
		case 4:
			sse_rr(g, pick(g, 2) ? 0xf2 : 0xf3, (uint8_t)(0x2c + pick(g, 2)),
			       pick(g, 2), gp, r);
			break;
		case 5:
			sse_rr(g, pick(g, 2) ? 0xf2 : 0xf3, 0x2a, pick(g, 2), r, gp);
			break;
		default:
			sse_rr(g, 0x66, 0xc5, 0, gp, r);
			emit(g, (uint8_t)pick(g, 8));
		}
		break;
	case 9: /* COMISS/UCOMISS/COMISD/UCOMISD */
		sse_any(g, pick(g, 2) ? 0x66 : 0, (uint8_t)(0x2e + pick(g, 2)), 0);
		flags_set(g, OSZAPC, 0);
		break;
	case 10: { /* stores */
		static const uint8_t st[][3] = { { 0x66, 0x7f, 1 }, { 0xf3, 0x7f, 0 },
			{ 0, 0x11, 0 }, { 0xf2, 0x11, 0 }, { 0xf3, 0x11, 0 },
			{ 0x66, 0xd6, 0 }, { 0, 0x13, 0 }, { 0, 0x17, 0 }, { 0, 0x29, 1 },
			{ 0x66, 0xe7, 1 } };
		unsigned i = pick(g, 10);

		sse_rm(g, st[i][0], st[i][1], 0, r, st[i][2]);
		break;
	}
	case 11: /* movlps/movhps loads, movhlps/movlhps */
		if (pick(g, 2))
			sse_rm(g, pick(g, 2) ? 0x66 : 0, (uint8_t)(0x12 + 4 * pick(g, 2)), 0, r, 0);
		else
			sse_rr(g, 0, (uint8_t)(0x12 + 4 * pick(g, 2)), 0, r, pick(g, 16));
		break;
	case 12: { /* MMX */
		static const uint8_t mo[] = { 0xfc, 0xef, 0x6f, 0xd5, 0xe5, 0x74,
					      0x63, 0xd8, 0xf4, 0xda };
		unsigned a = pick(g, 8), b = pick(g, 8);

		switch (pick(g, 5)) {
		case 0: sse_rr(g, 0, 0x6e, pick(g, 2), a, gp); break;
		case 1: sse_rr(g, 0, 0x7e, pick(g, 2), a, gp); break;
		case 2: sse_rr(g, 0, 0x71, 0, 6, a); emit(g, (uint8_t)pick(g, 20)); break;
		case 3: sse_rr(g, 0, 0xd7, 0, gp, a); break;
		default:
			if (pick(g, 2))
				sse_rr(g, 0, mo[pick(g, sizeof(mo))], 0, a, b);
			else
				sse_rm(g, 0, mo[pick(g, sizeof(mo))], 0, a, 0);
		}
		if (!pick(g, 3)) {
			emit(g, 0x0f);
			emit(g, 0x77); /* EMMS */
		}
		break;
	}
	default: { /* LDMXCSR of a masked value via [rbx+120] */
		uint32_t v = 0x1f80 | (uint32_t)pick(g, 4) << 13 |
			     (uint32_t)pick(g, 2) << 15 | (uint32_t)pick(g, 2) << 6;

		emit(g, 0xc7); emit(g, 0x43); emit(g, 120);
		emit(g, (uint8_t)v); emit(g, (uint8_t)(v >> 8)); emit(g, 0); emit(g, 0);
		emit(g, 0x0f); emit(g, 0xae); emit(g, 0x53); emit(g, 120);
	}
	}
}

static void x87_mem(struct gen *g, uint8_t op, unsigned r)
{
	emit(g, op);
	emit(g, (uint8_t)(0x40 | r << 3 | 3));
	emit(g, (uint8_t)pick(g, 112));
}

static void g_x87(struct gen *g)
{
	/* valid memory forms: bit r set in the mask of opcode D8+i */
	static const uint8_t memok[8] = { 0xff, 0x0d, 0xff, 0xad, 0xff, 0x0d,
					  0xff, 0xfd };
	unsigned k = pick(g, 10), op, m;

	if (k < 3) {
		unsigned r;

		do {
			op = pick(g, 8);
			r = pick(g, 8);
		} while (!(memok[op] & (1u << r)));
		x87_mem(g, (uint8_t)(0xd8 + op), r);
		return;
	}
	if (k == 3) { /* FLDCW of a masked value via [rbx+124] */
		uint16_t v = (uint16_t)(0x7f | pick(g, 4) << 8 | pick(g, 4) << 10);

		emit(g, 0x66); emit(g, 0xc7); emit(g, 0x43); emit(g, 124);
		emit(g, (uint8_t)v); emit(g, (uint8_t)(v >> 8));
		emit(g, 0xd9); emit(g, 0x6b); emit(g, 124);
		return;
	}
	for (;;) {
		op = pick(g, 8);
		m = pick(g, 64);
		switch (op) {
		case 0: case 4: goto ok;
		case 1:
			if (m < 0x10 || m == 0x20 || m == 0x21 || m == 0x24 || m == 0x25 ||
			    (m >= 0x28 && m <= 0x2e) || m >= 0x30 || (m >= 0x18 && m < 0x20))
				goto ok;
			break;
		case 2: if (m < 0x20 || m == 0x29) goto ok; break;
		case 3:
			if (m < 0x20 || (m >= 0x28 && m < 0x38) || m == 0x22) {
				if (m >= 0x28)
					flags_set(g, OSZAPC, 0);
				goto ok;
			}
			break;
		case 5: if (m < 0x30) goto ok; break;
		case 6: if (m != 0x18 && (m < 0x1a || m >= 0x20)) goto ok; break;
		case 7:
			if (m < 0x20 || m == 0x20 || (m >= 0x28 && m < 0x38)) {
				if (m >= 0x28)
					flags_set(g, OSZAPC, 0);
				goto ok;
			}
			break;
		}
	}
ok:
	emit(g, (uint8_t)(0xd8 + op));
	emit(g, (uint8_t)(0xc0 | m));
}

static void gen_case(struct gen *g, unsigned len)
{
	unsigned i;
	int32_t rel;

	g->n = 0;
	g->undef = 0;
	/* fxrstor64 [rbx+FXIN] */
	emit(g, 0x48); emit(g, 0x0f); emit(g, 0xae); emit(g, 0x8b);
	emit(g, FXIN & 0xff); emit(g, FXIN >> 8); emit(g, 0); emit(g, 0);
	for (i = 0; i < len; i++) {
		if (g->fp) {
			if (g->fp == 2 || (g->fp == 1 && pick(g, 2)))
				g_sse(g);
			else
				g_x87(g);
			continue;
		}
		switch (pick(g, 10)) {
		case 0: case 1: g_alu(g); break;
		case 2: g_unary(g); break;
		case 3: g_shift(g); break;
		case 4: g_muldiv(g); break;
		case 5: g_bits(g); break;
		case 6: g_cond(g); break;
		case 7: g_move(g); break;
		case 8: pick(g, 2) ? g_shxd(g) : g_loop(g); break;
		default: g_string(g); break;
		}
	}
	/* fxsave64 [rbx+FXOUT] */
	emit(g, 0x48); emit(g, 0x0f); emit(g, 0xae); emit(g, 0x83);
	emit(g, FXOUT & 0xff); emit(g, FXOUT >> 8); emit(g, 0); emit(g, 0);
	/* jmp EPI */
	rel = (int32_t)(EPI - (CODE + g->n + 5));
	emit(g, 0xe9);
	memcpy(g->p + g->n, &rel, 4);
	g->n += 4;
}


/* an FXSAVE64 image with every exception masked */
static void fp_value(struct gen *g, uint8_t *r)
{
	static const double nice[] = { 0.0, -0.0, 1.0, -1.0, 0.5, 3.0, 1e308, -1e-308,
				       4.9e-324, 1.0 / 3.0, 2.5, -7.0, 65536.0, 1e20 };
	long double v;

	memset(r, 0, 16);
	switch (pick(g, 6)) {
	case 0: v = nice[pick(g, sizeof(nice) / sizeof(nice[0]))]; break;
	case 1: v = (long double)(int64_t)rnd(g) / (long double)(1 + pick(g, 1000)); break;
	case 2: v = (long double)(int32_t)pick(g, 200) - 100; break;
	case 3: v = __builtin_infl() * (pick(g, 2) ? 1 : -1); break;
	case 4: v = __builtin_nanl(""); break;
	default: {
		uint64_t m = rnd(g);
		uint16_t e = (uint16_t)rnd(g);

		memcpy(r, &m, 8);
		memcpy(r + 8, &e, 2);
		return;
	}
	}
	memcpy(r, &v, 10);
}

static void make_fx(struct gen *g, uint8_t *fx)
{
	uint16_t fcw = (uint16_t)(0x7f | pick(g, 4) << 8 | pick(g, 4) << 10);
	uint16_t fsw = (uint16_t)(pick(g, 8) << 11 | (pick(g, 8) << 8) | pick(g, 2) << 14);
	uint32_t mx = 0x1f80 | (uint32_t)pick(g, 4) << 13 | (uint32_t)pick(g, 2) << 15 |
		      (uint32_t)pick(g, 2) << 6;
	unsigned i, j;

	memset(fx, 0, 512);
	memcpy(fx, &fcw, 2);
	memcpy(fx + 2, &fsw, 2);
	fx[4] = (uint8_t)rnd(g);
	memcpy(fx + 24, &mx, 4);
	for (i = 0; i < 8; i++)
		fp_value(g, fx + 32 + 16 * i);
	for (i = 0; i < 16; i++) {
		uint8_t *x = fx + 160 + 16 * i;

		switch (pick(g, 4)) {
		case 0:
			for (j = 0; j < 16; j++)
				x[j] = (uint8_t)rnd(g);
			break;
		case 1:
			for (j = 0; j < 4; j++) {
				float f = (float)((int32_t)pick(g, 2000) - 1000) / (float)(1 + pick(g, 7));

				if (!pick(g, 8))
					f = pick(g, 2) ? __builtin_inff() : __builtin_nanf("");
				memcpy(x + 4 * j, &f, 4);
			}
			break;
		case 2:
			for (j = 0; j < 2; j++) {
				double d = (double)(int64_t)rnd(g) / (double)(1 + pick(g, 99));

				memcpy(x + 8 * j, &d, 8);
			}
			break;
		default:
			for (j = 0; j < 16; j++)
				x[j] = (uint8_t)pick(g, 4) ? (uint8_t)pick(g, 128) : 0;
		}
	}
}

/* FXSAVE fields that differ by design: FOP/FIP/FDP (AMD stores them only
 * with an exception pending) and MXCSR_MASK (the host may have more) */
static void mask_fx(uint8_t *buf)
{
	memset(buf + FXOUT + 6, 0, 18);
	memset(buf + FXOUT + 28, 0, 4);
}

/* ---- native run ---- */
/*
 * The trampoline, called as void f(void): saves the callee-saved
 * registers and RSP, loads RAX..R15 and RFLAGS from STATE (RSP is set to a
 * stack in the buffer page's second half), jumps to CODE. At EPI the test
 * code's registers go to STATE+0x100 and the host's come back.
 */
static void build_tramp(uint8_t *code)
{
	uint8_t *t = code + (TRAMP - CODE), *e = code + (EPI - CODE);
	unsigned n = 0, i;
	static const uint8_t saves[] = { 0x53, 0x55, 0x41, 0x54, 0x41, 0x55,
					 0x41, 0x56, 0x41, 0x57 };
	uint64_t a;

#define B(x) (t[n++] = (uint8_t)(x))
#define Q(x) do { a = (x); memcpy(t + n, &a, 8); n += 8; } while (0)
	for (i = 0; i < sizeof(saves); i++)
		B(saves[i]);
	B(0x48); B(0xb8); Q(STATE + 0x200);     /* mov rax, STATE+0x200 */
	B(0x48); B(0x89); B(0x20);              /* mov [rax], rsp */
	B(0x48); B(0xbc); Q(STATE);             /* mov rsp, STATE */
	/* pop r15..r8, rdi, rsi, rbp, (skip rsp), rbx, rdx, rcx, rax */
	for (i = 15; i >= 8; i--) {
		B(0x41);
		B(0x58 + (i - 8));
	}
	B(0x5f); B(0x5e); B(0x5d);
	B(0x48); B(0x83); B(0xc4); B(0x08);     /* add rsp, 8 (rsp slot) */
	B(0x5b); B(0x5a); B(0x59); B(0x58);
	B(0x9d);                                /* popfq */
	B(0x48); B(0xbc); Q(DATA + 0xf00);      /* mov rsp, DATA+0xf00 */
	B(0xe9);                                /* jmp CODE */
	{
		int32_t rel = (int32_t)(CODE - (TRAMP + n + 4));

		memcpy(t + n, &rel, 4);
		n += 4;
	}
	/* epilogue */
	t = e;
	n = 0;
	B(0x48); B(0xbc); Q(STATE + 0x100 + 17 * 8); /* mov rsp, end of out */
	B(0x9c);                                /* pushfq */
	B(0x50); B(0x51); B(0x52); B(0x53);     /* rax rcx rdx rbx */
	B(0x48); B(0x83); B(0xec); B(0x08);     /* sub rsp, 8 (rsp slot) */
	B(0x55); B(0x56); B(0x57);
	for (i = 8; i <= 15; i++) {
		B(0x41);
		B(0x50 + (i - 8));
	}
	B(0x48); B(0xb8); Q(STATE + 0x200);     /* mov rax, STATE+0x200 */
	B(0x48); B(0x8b); B(0x20);              /* mov rsp, [rax] */
	B(0x41); B(0x5f); B(0x41); B(0x5e); B(0x41); B(0x5d); B(0x41); B(0x5c);
	B(0x5d); B(0x5b);
	B(0xc3);
#undef B
#undef Q
}

/* State images: pop order r15..r8, rdi, rsi, rbp, rsp, rbx, rdx, rcx, rax, flags */
static void to_image(const struct regs *r, uint64_t *img)
{
	int i;

	for (i = 0; i < 16; i++)
		img[15 - i] = r->g[i];
	img[16] = r->flags;
}

static void from_image(const uint64_t *img, struct regs *r)
{
	int i;

	for (i = 0; i < 16; i++)
		r->g[i] = img[15 - i];
	r->flags = img[16];
}

static uint8_t *code, *data, *state;

static int run_native(const struct regs *in, struct regs *out, uint8_t *buf)
{
	pid_t pid;
	int st;

	to_image(in, (uint64_t *)(void *)state);
	pid = fork();
	if (pid == 0) {
		memcpy(data, buf, 4096);
		((void (*)(void))(uintptr_t)TRAMP)();
		memcpy(state + 0x400, data, 4096);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		if (getenv("EMU_VERBOSE"))
			fprintf(stderr, "native run died: signal %d\n",
				WIFSIGNALED(st) ? WTERMSIG(st) : -1);
		return -1;
	}
	from_image((uint64_t *)(void *)(state + 0x100), out);
	memcpy(buf, state + 0x400, 4096);
	return 0;
}

/* ---- interpreter run ---- */
static uint8_t *gram;

static uint8_t *t_page(void *o, uint64_t gpa, int *rom)
{
	*rom = 0;
	return gpa < GRAM ? gram + (gpa & ~0xfffull) : NULL;
}

static int t_mmio(void *o, uint64_t gpa, unsigned size, int w, uint64_t *v)
{
	return -ENOENT;
}

static int t_pio(void *o, uint16_t port, unsigned size, int w, uint64_t *v)
{
	return -ENOENT;
}

static uint64_t t_clock(void *o)
{
	return 0;
}

static const struct emu_host host = {
	.page = t_page, .mmio = t_mmio, .pio = t_pio, .clock_ns = t_clock,
};

/* Identity map of the test window (linear GBASE+x -> physical x) with
 * 2 MiB pages; page tables at guest-physical 0x600000. */
static void build_tables(void)
{
	uint64_t *pml4 = (uint64_t *)(void *)(gram + 0x600000);
	uint64_t *pdpt = (uint64_t *)(void *)(gram + 0x601000);
	uint64_t *pd = (uint64_t *)(void *)(gram + 0x602000);
	int i;

	pml4[0] = 0x601000 | 7;
	pdpt[1] = 0x602000 | 7; /* 1 GiB: GBASE */
	for (i = 0; i < 3; i++)
		pd[i] = (uint64_t)i << 21 | 0x87;
}

static void seg64(struct x86_seg *s, uint16_t sel, int code_seg)
{
	memset(s, 0, sizeof(*s));
	s->sel = sel;
	s->limit = 0xffffffff;
	s->type = code_seg ? 0xb : 0x3;
	s->s = 1;
	s->present = 1;
	s->l = code_seg;
	s->db = !code_seg;
	s->g = 1;
}

static int run_emu(struct emu_cpu *cpu, const struct regs *in, struct regs *out,
		   uint8_t *buf, const uint8_t *c, unsigned clen)
{
	static unsigned nth;
	struct x86_state st;
	unsigned slice;
	int i, k;

	memset(&st, 0, sizeof(st));
	memcpy(st.gpr, in->g, sizeof(st.gpr));
	st.gpr[4] = DATA + 0xf00;
	st.rip = CODE;
	st.rflags = in->flags;
	seg64(&st.seg[X86_CS], 8, 1);
	for (i = X86_ES; i <= X86_GS; i++)
		if (i != X86_CS)
			seg64(&st.seg[i], 16, 0);
	st.seg[X86_TR].type = 0xb;
	st.seg[X86_TR].present = 1;
	st.seg[X86_TR].limit = 0x67;
	st.cr0 = 0x80000033; /* PG NE ET MP PE */
	st.cr3 = 0x600000;
	st.cr4 = 0x620;      /* OSXMMEXCPT OSFXSR PAE */
	st.efer = 0x500;
	memcpy(gram + (CODE - GBASE), c, clen);
	gram[EPI - GBASE] = 0xf4; /* HLT */
	memcpy(gram + (DATA - GBASE), buf, 4096);
	emu_set_state(cpu, &st);
	/* every other pair of cases (an integer one, an FP one) in slices
	 * of 1-61 instructions: blocks and spinning loops stopped by
	 * emu_run()'s limit anywhere, which they must never overrun */
	slice = (nth++ & 2) ? 1 + nth % 61 : 100000;
	for (k = 0; k < 100000 && !cpu->halted && k * slice < 10000000; k++) {
		uint64_t before = cpu->icount;

		emu_run(cpu, slice);
		if (!cpu->halted && cpu->icount - before != slice)
			return -1;
	}
	if (!cpu->halted || cpu->rip != EPI + 1)
		return -1;
	emu_get_state(cpu, &st);
	memcpy(out->g, st.gpr, sizeof(out->g));
	out->flags = st.rflags;
	memcpy(buf, gram + (DATA - GBASE), 4096);
	return 0;
}

static void dump(const char *what, const struct regs *a, const struct regs *b)
{
	int i;

	for (i = 0; i < 16; i++)
		if (a->g[i] != b->g[i])
			fprintf(stderr, "  %s r%d native %016llx emu %016llx\n", what, i,
				(unsigned long long)a->g[i], (unsigned long long)b->g[i]);
	fprintf(stderr, "  flags native %llx emu %llx\n",
		(unsigned long long)a->flags, (unsigned long long)b->flags);
}

int main(int argc, char **argv)
{
	static struct emu_cpu cpu;
	unsigned cases = argc > 1 ? (unsigned)atoi(argv[1]) : 2000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x9e3779b97f4a7c15ull;
	unsigned i, bad = 0, skipped = 0, batch = 250, bfail = 0;
	static uint8_t buf0[4096], bn[4096], be[4096];
	struct gen g = { .rng = seed };
	int verbose = getenv("EMU_VERBOSE") != NULL;
	/* EMU_DIFF_FP=sse or x87: only that kind in the FP cases */
	const char *fpenv = getenv("EMU_DIFF_FP");
	int fpmode = !fpenv ? 1 : !strcmp(fpenv, "sse") ? 2 : 3;

	code = mmap((void *)CODE, 0x4000, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	data = mmap((void *)DATA, 0x1000, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	state = mmap((void *)STATE, 0x2000, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (code != (void *)CODE || data != (void *)DATA || state != (void *)STATE) {
		printf("ok emu-diff # SKIP cannot map the fixed test window\n");
		return 0;
	}
	gram = calloc(1, GRAM);
	build_tables();
	build_tramp(code);
	memcpy(gram + (EPI - GBASE), code + (EPI - CODE), 0x1000);
	emu_cpu_init(&cpu, &host);
	cpu.quiet = 1;
	g.p = code;
	for (i = 0; i < cases; i++) {
		struct regs in, on, oe;
		uint64_t mask;
		unsigned j;

		g.fp = (i & 1) ? fpmode : 0;
		gen_case(&g, 4 + pick(&g, 12));
		for (j = 0; j < 16; j++)
			in.g[j] = pick(&g, 4) ? rnd(&g) : rnd(&g) & 0xff;
		in.g[3] = DATA;
		in.g[4] = DATA + 0xf00;
		in.flags = (rnd(&g) & 0x8d5) | 2;
		for (j = 0; j < 4096; j++)
			buf0[j] = (uint8_t)rnd(&g);
		make_fx(&g, buf0 + FXIN);
		memcpy(bn, buf0, 4096);
		memcpy(be, buf0, 4096);
		if (run_native(&in, &on, bn)) {
			if (verbose) {
				FILE *f = fopen("/tmp/emu-diff-crash.bin", "wb");

				fwrite(code, 1, g.n, f);
				fclose(f);
			}
			skipped++;
			continue;
		}
		if (run_emu(&cpu, &in, &oe, be, code, g.n)) {
			bad++;
			bfail++;
			if (verbose)
				fprintf(stderr, "case %u: interpreter did not reach the end or overran a limit (rip %llx)\n",
					i, (unsigned long long)cpu.rip);
			continue;
		}
		mask = (OSZAPC & ~g.undef) | 0x400;
		mask_fx(bn);
		mask_fx(be);
		on.g[4] = oe.g[4] = 0;
		if (memcmp(on.g, oe.g, sizeof(on.g)) ||
		    ((on.flags ^ oe.flags) & mask) || memcmp(bn, be, 4096)) {
			bad++;
			bfail++;
			if (verbose) {
				fprintf(stderr, "case %u mismatch (flag mask %llx), code:", i,
					(unsigned long long)mask);
				for (j = 0; j < g.n; j++)
					fprintf(stderr, " %02x", code[j]);
				fprintf(stderr, "\n");
				dump("", &on, &oe);
				for (j = 0; j < 4096; j++)
					if (bn[j] != be[j])
						fprintf(stderr, "  buf[%#x] native %02x emu %02x\n",
							j, bn[j], be[j]);
			}
		}
		if ((i + 1) % batch == 0 || i + 1 == cases) {
			if (bfail)
				printf("not ok emu-diff-%u - %u/%u cases differ from the host CPU\n",
				       i / batch, bfail, batch);
			else
				printf("ok emu-diff-%u\n", i / batch);
			bfail = 0;
		}
	}
	printf("# emu-diff: %u cases (%u SSE/MMX/x87), %u differ, %u skipped (native fault), seed %#llx\n",
	       cases, cases / 2, bad, skipped, (unsigned long long)seed);
	emu_cpu_free(&cpu);
	free(gram);
	return 0;
}
