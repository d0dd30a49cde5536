/*
 * Straight-line blocks: up to BLK_MAX decoded instructions, looked up by
 * the linear address of the first one (with the decode mode and CS's base
 * and limit) and checked against all of their code bytes in guest memory
 * before each run, as the per-instruction cache is, so code changed by
 * any vCPU or DMA never runs stale. A block runs fast.c handlers and,
 * through emu_exec(), the instructions that cannot change what struct
 * fetch_ctx holds (blk_plain()); it goes on past a conditional branch not
 * taken and ends at a taken branch, at an unconditional one, at any other
 * instruction (run as its last), at the page's end, or after a store into
 * its own page (blk_note_write()).
 *
 * Threaded: what an instruction's position decides is resolved when the
 * block is built (the RIP after it, a Jcc's target, a RIP-relative
 * address), so the run loop is one store (blk_cur, for a fault), one
 * indirect call and one test per instruction; RIP and icount are written
 * once, when the block is left. A handler that ends the block says so in
 * blk_stop. A fault unwinds to emu_run(), which takes RIP and icount from
 * blk_cur and blk_first.
 *
 * Fused: runs of register instructions run as one handler (fuse.c), and
 * a block whose taken branch returns to its own start runs again without
 * a lookup, inside that handler when the loop is the block's first run.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "block.h"

/* 40 instructions: the inner loop of Linux's RSA (mpihelp_submul_1, 37
 * instructions, 128 bytes) is one block. 8192 slots of ~2.4 KiB: 20 MiB
 * per vCPU. */
#define BLK_MAX EMU_BLK_MAX
#define BLK_BYTES 192
#define BLK_SLOTS 8192

struct blk {
	uint64_t lin, cs_base;
	uint32_t cs_limit;
	int mode;
	uint8_t n, nbytes; /* nbytes <= BLK_BYTES < 256 */
	uint8_t spin; /* one fused run whose Jcc goes back to its start */
	/* where the next block probably starts: after the last
	 * instruction, and its target when that is a relative branch */
	uint64_t succ[2];
	uint8_t bytes[BLK_BYTES];
	struct emu_insn in[BLK_MAX];
};

static inline struct blk *slot(struct blk *b, uint64_t lin)
{
	return b + ((lin ^ (lin >> 11)) & (BLK_SLOTS - 1));
}

void emu_block_init(struct emu_cpu *cpu)
{
	struct blk *b = NULL;
	size_t sz = BLK_SLOTS * sizeof(*b);

	/* 2 MiB pages: a block lookup is a cache miss, not a TLB miss too */
	if (posix_memalign((void **)&b, 2u << 20, sz))
		b = NULL;
	else
		madvise(b, sz, MADV_HUGEPAGE);
	if (b)
		for (unsigned i = 0; i < BLK_SLOTS; i++)
			b[i].lin = ~0ull;
	cpu->blocks = b;
	cpu->blk_page = ~0ull;
}

void emu_block_free(struct emu_cpu *cpu)
{
	free(cpu->blocks);
	cpu->blocks = NULL;
}

/* The instruction is run by emu_exec() inside a block: none of these
 * touches CS, the mode, CPL, IF, TF, the interrupt shadow, a port or a
 * system register (CLI only clears IF: interrupts wait for the block's
 * end anyway). Near branches are in: a block ends when next_rip is not
 * the following instruction. */
static int blk_plain(const struct emu_insn *in)
{
	unsigned op = in->op;

	if (op < 0x40)
		return (op & 7) < 6 || op == 0x27 || op == 0x2f ||
		       op == 0x37 || op == 0x3f;
	if (op < 0x100) {
		switch (op) {
		case 0x40 ... 0x63: /* INC, DEC, PUSH, POP, PUSHA, POPA */
		case 0x68 ... 0x6b: /* PUSH imm, IMUL */
		case 0x70 ... 0x8d: /* Jcc, ALU imm, TEST, XCHG, MOV, LEA */
		case 0x8f ... 0x99: /* POP r/m, XCHG, CBW, CWD */
		case 0x9c: case 0x9e: case 0x9f: /* PUSHF, SAHF, LAHF */
		case 0xa0 ... 0xaf: /* MOV moffs, string ops, TEST */
		case 0xb0 ... 0xc3: /* MOV imm, shifts, RET near */
		case 0xc6 ... 0xc9: /* MOV imm, ENTER, LEAVE */
		case 0xd0 ... 0xd3: case 0xd7: /* shifts, XLAT */
		case 0xe0 ... 0xe3: case 0xe8 ... 0xe9: case 0xeb:
		case 0xf5: case 0xf6: case 0xf7: case 0xf8 ... 0xf9:
		case 0xfa: case 0xfc: case 0xfd: /* CLI, CLD, STD */
			return 1;
		case 0xfe:
			return (in->reg & 7) < 2;
		case 0xff: /* INC, DEC, CALL and JMP near, PUSH */
			return (in->reg & 7) != 3 && (in->reg & 7) != 5 &&
			       (in->reg & 7) != 7;
		}
		return 0;
	}
	switch (op) {
	case 0x11f: /* NOP r/m */
	case 0x131: /* RDTSC */
	case 0x140 ... 0x14f: /* CMOVcc */
	case 0x180 ... 0x18f: /* Jcc */
	case 0x190 ... 0x19f: /* SETcc */
	case 0x1a3: case 0x1a4: case 0x1a5: case 0x1ab: case 0x1ac:
	case 0x1ad: case 0x1af: /* BT, SHLD, BTS, SHRD, IMUL */
	case 0x1b0: case 0x1b1: case 0x1b3: case 0x1b6: case 0x1b7:
	case 0x1ba ... 0x1bf: case 0x1c0: case 0x1c1: case 0x1c8 ... 0x1cf:
		return 1; /* CMPXCHG, BTR, MOVZX/SX, BT*, BSF/BSR, XADD, BSWAP */
	}
	return 0;
}

/* No instruction after this one runs in its block: an unconditional
 * near branch (the bytes after it may not be code). */
static int blk_last(const struct emu_insn *in)
{
	switch (in->op) {
	case 0xc2: case 0xc3: case 0xe8: case 0xe9: case 0xeb:
		return 1;
	case 0xff:
		return (in->reg & 7) == 2 || (in->reg & 7) == 4;
	}
	return 0;
}

/* A Jcc whose target was checked against CS when the block was built */
static void jcc_blk(struct emu_cpu *cpu, const struct emu_insn *in)
{
	if (emu_cond_inline(cpu, in->op & 0xf)) {
		cpu->next_rip = in->imm2;
		cpu->blk_stop |= BLK_JUMP;
	}
}

/* A fast handler that reads RIP (CALL, RET, JMP, a Jcc the build could
 * not resolve) */
static void run_flow(struct emu_cpu *cpu, const struct emu_insn *in)
{
	cpu->rip = in->nrip - in->len;
	cpu->next_rip = in->nrip;
	in->fast(cpu, in);
	if (cpu->next_rip != in->nrip)
		cpu->blk_stop |= BLK_JUMP;
}

static void exec_at(struct emu_cpu *cpu, const struct emu_insn *in)
{
	cpu->rip = in->nrip - in->len;
	cpu->next_rip = in->nrip;
	if (in->has_modrm && in->mod != 3)
		cpu->ea = ea_of(cpu, in);
	cpu->in = *in;
	emu_exec(cpu);
}

/* blk_plain(): a string op that is not done runs again, a near branch
 * leaves */
static void run_plain(struct emu_cpu *cpu, const struct emu_insn *in)
{
	exec_at(cpu, in);
	if (cpu->next_rip != in->nrip)
		cpu->blk_stop |= BLK_JUMP;
}

/* Any other instruction, the block's last: as step() runs it */
static void run_slow(struct emu_cpu *cpu, const struct emu_insn *in)
{
	exec_at(cpu, in);
	if (cpu->shadow && !--cpu->shadow)
		cpu->shadow_ss = 0;
	cpu->exc_first = -1;
	cpu->blk_stop |= BLK_JUMP | BLK_DIRTY;
}

/* What runs in in a block, rip being the RIP before it */
static void resolve(struct emu_insn *in, uint64_t rip, uint64_t ipm,
		    uint32_t limit, int mode)
{
	uint64_t t;

	in->nrip = (rip + in->len) & ipm;
	if (in->riprel) { /* 64-bit code: RIP is the linear address */
		in->disp += (int64_t)in->nrip;
		in->riprel = 0;
	}
	in->bfn = in->fast;
	if (!in->fast) {
		in->bfn = run_slow;
		return;
	}
	if (in->fast == run_plain)
		return;
	switch (in->op) {
	case 0x70 ... 0x7f: case 0x180 ... 0x18f:
		in->bfn = run_flow;
		t = in->nrip + in->imm;
		if ((mode & 0xff) == 64) {
			if ((int64_t)(t << 16) >> 16 != (int64_t)t)
				return; /* not canonical: #GP at run time */
		} else {
			t &= size_mask(in->osize);
			if (t > limit)
				return;
		}
		in->imm2 = t;
		in->bfn = jcc_blk;
		return;
	case 0xff: /* INC, DEC do not read RIP: drop_dead_flags() sees them */
		if ((in->reg & 7) < 2)
			return;
		/* fall through */
	case 0xc2: case 0xc3: case 0xe8: case 0xe9: case 0xeb:
		in->bfn = run_flow;
	}
}

/* What a Jcc, SETcc or CMOVcc with condition cc reads */
static unsigned cc_reads(unsigned cc)
{
	switch (cc >> 1) {
	case 1: return EMU_FL_C;            /* B, AE */
	case 3: return EMU_FL_C | EMU_FL_O; /* BE, A */
	}
	return EMU_FL_O;
}

/* Neither reads nor writes flags, cannot fault, cannot leave the block */
static int blk_transparent(const struct emu_insn *in)
{
	if (in->fast == run_plain || !in->fast)
		return 0;
	switch (in->op) {
	case 0x89: case 0x8b: case 0x63: case 0x1b6: case 0x1b7: case 0x1be:
	case 0x1bf: case 0xc7:
		return in->mod == 3;
	case 0x8d: case 0x11f: case 0x90: case 0xb8 ... 0xbf:
		return 1; /* LEA only computes; NOP r/m reads nothing */
	}
	return 0;
}

/*
 * Flags a later instruction of the block sets before any reads them are
 * not computed: walking back from the block's end, where all of them are
 * live, an instruction that may fault or leave the block needs all of
 * them right before it (and a Jcc after it too, when taken); a register
 * ALU op whose flags are all dead there gets its emu_fast_flags()
 * handler that sets none. The block runs whole or not at all (emu_block_run()), so no
 * run stops between an instruction and the one that sets its flags again.
 */
static void drop_dead_flags(struct blk *b, int mode)
{
	unsigned live = EMU_FL_C | EMU_FL_O, rd, wr;
	int i;

	for (i = b->n - 1; i >= 0; i--) {
		struct emu_insn *in = &b->in[i];
		emu_fast_fn nf;

		if (in->bfn == jcc_blk) {
			live = EMU_FL_C | EMU_FL_O;
			continue;
		}
		if (blk_transparent(in))
			continue;
		if ((in->op >= 0x140 && in->op <= 0x14f && in->mod == 3) ||
		    (in->op >= 0x190 && in->op <= 0x19f && in->mod == 3)) {
			live |= cc_reads(in->op & 0xf); /* CMOVcc, SETcc */
			continue;
		}
		if (in->bfn != in->fast || in->fast == run_plain) {
			live = EMU_FL_C | EMU_FL_O;
			continue;
		}
		if (!emu_fast_flags(in, mode, &rd, &wr, &nf)) {
			live = EMU_FL_C | EMU_FL_O;
			continue;
		}
		if (nf && !(live & wr))
			in->bfn = nf;
		else
			live = (live & ~wr) | rd;
	}
}

/* Runs of two or more register instructions, a Jcc ending one, become
 * one handler (fuse.c): after drop_dead_flags(), whose choice of handler
 * says which members set flags */
static int uop_form(const struct emu_insn *in, int mode)
{
	unsigned rd, wr;
	emu_fast_fn nf;

	if (in->bfn == jcc_blk)
		return EMU_UOP_JCC;
	if (!in->fast || in->fast == run_plain)
		return -1;
	if (in->bfn == in->fast)
		return EMU_UOP_FLAGS;
	if (emu_fast_flags(in, mode, &rd, &wr, &nf) && nf && in->bfn == nf)
		return EMU_UOP_NF;
	return -1;
}

static void fuse(struct blk *b, int mode, uint64_t rip)
{
	unsigned i = 0, j, n = b->n;
	struct emu_insn *last;

	for (j = 0; j < n; j++)
		b->in[j].blk_n = 1;
	while (i < n) {
		for (j = i; j < n; j++) {
			struct emu_insn *in = &b->in[j];
			int form = uop_form(in, mode);

			if (form < 0 || !emu_uop_set(in, form))
				break;
			if (form == EMU_UOP_JCC) {
				j++;
				break;
			}
		}
		if (j - i >= 2) {
			b->in[i].bfn = emu_uop_run;
			b->in[i].blk_n = (uint8_t)(j - i);
			i = j;
		} else {
			i++;
		}
	}
	/* a loop that is the block's first run spins inside it
	 * (emu_uop_run()) */
	last = &b->in[b->in[0].blk_n - 1];
	b->spin = b->in[0].bfn == emu_uop_run && last->bfn == jcc_blk &&
		  last->imm2 == rip;
	if (b->spin)
		last->us = 1; /* a Jcc's us is free */
}

static int build(struct blk *b, uint64_t lin, const uint8_t *p,
		 const struct fetch_ctx *f, uint64_t rip)
{
	unsigned off = 0, avail = 4096 - (lin & 0xfff), n = 0;
	int mode = f->mode;

	while (n < BLK_MAX && off < avail) {
		struct emu_insn *in = &b->in[n];
		unsigned left = avail - off;

		if (emu_decode(in, p + off, left < 15 ? left : 15, mode))
			break; /* step() raises the fault, or fetches across */
		if (off + in->len > BLK_BYTES)
			break;
		/* SYSCALL/SYSRET single-step on the TF they end with: step() */
		if (in->op == 0x105 || in->op == 0x107)
			break;
		in->fast = emu_fast_pick(in, mode);
		if (!in->fast && blk_plain(in) && !(mode & EMU_DEC_286))
			in->fast = run_plain;
		resolve(in, rip + off, f->ip_mask, (uint32_t)f->cs_limit, mode);
		off += in->len;
		n++;
		/* an instruction that may change anything runs last */
		if (!in->fast || blk_last(in))
			break;
	}
	if (!n) {
		b->lin = ~0ull;
		return 0;
	}
	b->n = (uint8_t)n;
	b->nbytes = (uint8_t)off;
	drop_dead_flags(b, mode);
	fuse(b, mode, rip);
	b->succ[0] = b->succ[1] = lin + off;
	switch (b->in[n - 1].op) {
	case 0x70 ... 0x7f: case 0x180 ... 0x18f: case 0xe8: case 0xe9: case 0xeb:
		b->succ[1] = lin + off + b->in[n - 1].imm;
		if ((mode & 0xff) != 64)
			b->succ[1] &= 0xffffffffull;
	}
	memcpy(b->bytes, p, off);
	b->lin = lin;
	b->mode = mode;
	b->cs_base = f->cs_base;
	b->cs_limit = (uint32_t)f->cs_limit;
	return 1;
}

/* The block's bytes against guest memory: words while inside the page */
static int same_bytes(const struct blk *b, const uint8_t *p, uint64_t lin)
{
	unsigned n = b->nbytes, i;
	uint64_t x = 0, y;

	if ((lin & 0xfff) + ((n + 7u) & ~7u) > 4096)
		return !memcmp(b->bytes, p, n);
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&y, p + i, 8);
		memcpy(&x, b->bytes + i, 8);
		if (x != y)
			return 0;
	}
	if (i < n) {
		uint64_t m = (1ull << (8 * (n - i))) - 1;

		memcpy(&y, p + i, 8);
		memcpy(&x, b->bytes + i, 8);
		if ((x ^ y) & m)
			return 0;
	}
	return 1;
}

/* Run b, again while it branches back to its own start with left (>= 1
 * instructions, hard: a hard limit) to go and no interrupt to take:
 * chained to itself, a loop skips the lookup. How many instructions
 * retired; *stop = 1 when the run must not go on to another block. */
static unsigned run_one(struct emu_cpu *cpu, const struct blk *b,
			uint64_t left, int hard, int *dirty, int *stop)
{
	const struct emu_insn *in, *end = b->in + b->n;
	uint64_t start = cpu->rip, done = 0, spin;
	unsigned n;
	int why;

	cpu->blk_first = b->in;
	for (;;) {
		/* the instructions a spinning run may go on for (another
		 * round while more than one round's are left): as many as
		 * this loop would run, and under a hard limit no round that
		 * could not go on to the block's end */
		spin = 0;
		if (b->spin)
			spin = !hard ? left - done :
			       left - done >= b->n ? left - done - (b->n - 1u) : 0;
		cpu->blk_spin = spin;
		cpu->blk_stop = 0;
		for (in = b->in; in < end;) {
			cpu->blk_cur = in;
			in->bfn(cpu, in);
			in += in->blk_n;
			if (cpu->blk_stop)
				break;
		}
		/* the spun rounds are in icount already (a later
		 * instruction of this pass may fault) */
		n = (unsigned)(in - b->in);
		cpu->icount += n;
		done += n + (spin - cpu->blk_spin);
		why = cpu->blk_stop;
		if (why != BLK_JUMP || cpu->next_rip != start || done >= left ||
		    (hard && b->n > left - done) || emu_irq_ready(cpu))
			break;
	}
	cpu->blk_cur = NULL;
	cpu->rip = (why & BLK_JUMP) ? cpu->next_rip : in[-1].nrip;
	if (why & BLK_DIRTY)
		*dirty = 1;
	/* a taken branch goes on to the next block in the page */
	*stop = (why & (BLK_STORE | BLK_DIRTY)) != 0;
	return (unsigned)done;
}

unsigned emu_block_run(struct emu_cpu *cpu, const struct fetch_ctx *f,
		       uint64_t lin, const uint8_t *p, uint64_t budget,
		       int hard, int *dirty)
{
	uint64_t page = lin & ~0xfffull;
	const struct blk *prev = NULL;
	unsigned done = 0;
	int stop = 0;

	if (!cpu->blocks)
		return 0;
	cpu->blk_page = page;
	/* from block to block while the code stays in this page: its TLB
	 * entry and f hold until a non-fast instruction runs */
	for (;;) {
		struct blk *b = slot(cpu->blocks, lin);

		/* the block that just ran is unchanged: no store hit the page */
		if (b != prev) {
			if ((b->lin != lin || b->mode != f->mode ||
			     b->cs_base != f->cs_base ||
			     b->cs_limit != (uint32_t)f->cs_limit ||
			     !same_bytes(b, p, lin)) &&
			    !build(b, lin, p, f, cpu->rip))
				break;
			/* the next lookup is a cache miss unless started now */
			__builtin_prefetch(slot(cpu->blocks, b->succ[0]));
			__builtin_prefetch(slot(cpu->blocks, b->succ[1]));
		}
		if (cpu->rip + b->nbytes > f->rip_max)
			break;
		/* whole blocks only (drop_dead_flags()): a hard budget
		 * that ends inside this one leaves it to step() */
		if (hard && b->n > budget - done)
			break;
		done += run_one(cpu, b, budget - done, hard, dirty, &stop);
		if (stop || done >= budget || emu_irq_ready(cpu))
			break;
		lin = (f->cs_base + cpu->rip) & f->lin_mask;
		if ((lin & ~0xfffull) != page)
			break;
		p += (int64_t)(lin - b->lin);
		prev = b;
	}
	cpu->blk_page = ~0ull;
	return done;
}
