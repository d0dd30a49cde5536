/*
 * The one-byte opcode map: data movement, ALU, control flow, string
 * instructions. The 0F map is in exec2.c, system instructions in sys.c.
 *
 * An instruction either completes or raises before changing architectural
 * state that would make it non-restartable: registers are committed after
 * the last access that can fault.
 */
#include <string.h>

#include "../cpumodel.h"
#include "alu.h"
#include "seg.h"

/* ---- stack ---- */
static uint64_t sp_mask(struct emu_cpu *cpu)
{
	return size_mask(stack_size(cpu));
}

void emu_push(struct emu_cpu *cpu, unsigned size, uint64_t v)
{
	uint64_t m = sp_mask(cpu);
	uint64_t sp = (cpu->gpr[X86_RSP] - size) & m;

	mem_write(cpu, X86_SS, sp, size, v);
	cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) | sp;
}

uint64_t emu_peek(struct emu_cpu *cpu, unsigned size, unsigned skip)
{
	uint64_t sp = (cpu->gpr[X86_RSP] + skip) & sp_mask(cpu);

	return mem_read(cpu, X86_SS, sp, size);
}

uint64_t emu_pop(struct emu_cpu *cpu, unsigned size)
{
	uint64_t m = sp_mask(cpu);
	uint64_t v = emu_peek(cpu, size, 0);

	cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) |
			    ((cpu->gpr[X86_RSP] + size) & m);
	return v;
}

/* Near push/pop operand size: 64-bit mode pushes 8 bytes (or 2 with 66). */
static unsigned stack_osize(struct emu_cpu *cpu)
{
	if (cpu->long64)
		return cpu->in.pfx66 ? 2 : 8;
	return cpu->in.osize;
}

/* ---- branches ---- */
void emu_jump(struct emu_cpu *cpu, uint64_t target, unsigned osize)
{
	if (cpu->long64) {
		if (osize != 8)
			target &= size_mask(osize);
		if (sext(target, 6) != (int64_t)target &&
		    (int64_t)(target << 16) >> 16 != (int64_t)target)
			GP(0);
	} else {
		target &= size_mask(osize);
		if (target > cpu->seg[X86_CS].limit && cpu->pmode)
			GP(0);
	}
	cpu->next_rip = target;
}

static void jrel(struct emu_cpu *cpu)
{
	unsigned os = cpu->long64 ? 8 : cpu->in.osize;

	emu_jump(cpu, cpu->next_rip + cpu->in.imm, os);
}

/* ---- read-modify-write of r/m, atomic under LOCK on RAM ---- */
static int cas(void *p, unsigned size, uint64_t old, uint64_t new)
{
	switch (size) {
	case 1: {
		uint8_t o = (uint8_t)old;
		return __atomic_compare_exchange_n((uint8_t *)p, &o, (uint8_t)new,
						   0, __ATOMIC_SEQ_CST,
						   __ATOMIC_SEQ_CST);
	}
	case 2: {
		uint16_t o = (uint16_t)old;
		return __atomic_compare_exchange_n((uint16_t *)p, &o,
						   (uint16_t)new, 0,
						   __ATOMIC_SEQ_CST,
						   __ATOMIC_SEQ_CST);
	}
	case 4: {
		uint32_t o = (uint32_t)old;
		return __atomic_compare_exchange_n((uint32_t *)p, &o,
						   (uint32_t)new, 0,
						   __ATOMIC_SEQ_CST,
						   __ATOMIC_SEQ_CST);
	}
	default: {
		uint64_t o = old;
		return __atomic_compare_exchange_n((uint64_t *)p, &o, new, 0,
						   __ATOMIC_SEQ_CST,
						   __ATOMIC_SEQ_CST);
	}
	}
}

static uint64_t load_atomic(void *p, unsigned size)
{
	switch (size) {
	case 1: return __atomic_load_n((uint8_t *)p, __ATOMIC_SEQ_CST);
	case 2: return __atomic_load_n((uint16_t *)p, __ATOMIC_SEQ_CST);
	case 4: return __atomic_load_n((uint32_t *)p, __ATOMIC_SEQ_CST);
	default: return __atomic_load_n((uint64_t *)p, __ATOMIC_SEQ_CST);
	}
}

/* Host pointer for an aligned locked access to RAM, else NULL. */
void *emu_lock_ptr(struct emu_cpu *cpu, uint64_t lin, unsigned size)
{
	if (!cpu->in.lock || (lin & (size - 1)))
		return NULL;
	return emu_host_ptr(cpu, lin, size);
}

uint64_t emu_rmw(struct emu_cpu *cpu, int op, unsigned size, uint64_t src)
{
	int store = op != ALU_CMP && op != ALU_TEST;
	uint64_t lin, a, r;
	void *p;

	if (cpu->in.mod == 3) {
		a = reg_get(cpu, cpu->in.rm, size);
		r = emu_alu(cpu, op, size, a, src);
		if (store)
			reg_set(cpu, cpu->in.rm, size, r);
		return r;
	}
	lin = emu_seg_addr(cpu, cpu->in.seg, cpu->ea, size, store);
	p = store ? emu_lock_ptr(cpu, lin, size) : NULL;
	if (p) {
		struct emu_lf lf = cpu->lf;
		uint64_t fl = cpu->flags;

		for (;;) {
			a = load_atomic(p, size);
			r = emu_alu(cpu, op, size, a, src);
			if (cas(p, size, a, r))
				return r;
			cpu->lf = lf;
			cpu->flags = fl;
		}
	}
	a = emu_read_lin(cpu, lin, size);
	r = emu_alu(cpu, op, size, a, src);
	if (store)
		emu_write_lin(cpu, lin, size, r);
	return r;
}

/* XCHG/XADD/CMPXCHG on memory: atomic whether or not LOCK was given
 * (XCHG always locks). */
static uint64_t xchg_mem(struct emu_cpu *cpu, unsigned size, uint64_t v)
{
	uint64_t lin = emu_seg_addr(cpu, cpu->in.seg, cpu->ea, size, 1), old;
	void *p = (lin & (size - 1)) ? NULL : emu_host_ptr(cpu, lin, size);

	if (p) {
		switch (size) {
		case 1: return __atomic_exchange_n((uint8_t *)p, (uint8_t)v, __ATOMIC_SEQ_CST);
		case 2: return __atomic_exchange_n((uint16_t *)p, (uint16_t)v, __ATOMIC_SEQ_CST);
		case 4: return __atomic_exchange_n((uint32_t *)p, (uint32_t)v, __ATOMIC_SEQ_CST);
		default: return __atomic_exchange_n((uint64_t *)p, v, __ATOMIC_SEQ_CST);
		}
	}
	old = emu_read_lin(cpu, lin, size);
	emu_write_lin(cpu, lin, size, v);
	return old;
}

uint64_t emu_xadd(struct emu_cpu *cpu, unsigned size, uint64_t src)
{
	uint64_t lin, a;
	void *p;

	if (cpu->in.mod == 3) {
		/* SRC gets DEST, then DEST the sum: XADD r, r ends with the sum */
		uint64_t sum;

		a = reg_get(cpu, cpu->in.rm, size);
		sum = emu_alu(cpu, ALU_ADD, size, a, src);
		reg_set(cpu, cpu->in.reg, size, a);
		reg_set(cpu, cpu->in.rm, size, sum);
		return a;
	}
	lin = emu_seg_addr(cpu, cpu->in.seg, cpu->ea, size, 1);
	p = emu_lock_ptr(cpu, lin, size);
	if (p) {
		for (;;) {
			a = load_atomic(p, size);
			if (cas(p, size, a, (a + src) & size_mask(size)))
				break;
		}
		emu_alu(cpu, ALU_ADD, size, a, src);
		reg_set(cpu, cpu->in.reg, size, a);
		return a;
	}
	a = emu_read_lin(cpu, lin, size);
	emu_write_lin(cpu, lin, size, emu_alu(cpu, ALU_ADD, size, a, src));
	reg_set(cpu, cpu->in.reg, size, a);
	return a;
}

/* CMPXCHG: returns 1 when the exchange happened; *old gets the value. */
int emu_cmpxchg(struct emu_cpu *cpu, unsigned size, uint64_t cmp,
		uint64_t v, uint64_t *old)
{
	uint64_t lin, a;
	void *p;

	if (cpu->in.mod == 3) {
		a = reg_get(cpu, cpu->in.rm, size);
		*old = a;
		if (a == (cmp & size_mask(size))) {
			reg_set(cpu, cpu->in.rm, size, v);
			return 1;
		}
		return 0;
	}
	lin = emu_seg_addr(cpu, cpu->in.seg, cpu->ea, size, 1);
	p = emu_lock_ptr(cpu, lin, size);
	if (p) {
		for (;;) {
			a = load_atomic(p, size);
			*old = a;
			if (a != (cmp & size_mask(size)))
				return 0;
			if (cas(p, size, a, v))
				return 1;
		}
	}
	a = emu_read_lin(cpu, lin, size);
	*old = a;
	/* the destination is written back even on failure, as on hardware */
	emu_write_lin(cpu, lin, size, a == (cmp & size_mask(size)) ? v : a);
	return a == (cmp & size_mask(size));
}

/* ---- the ALU opcodes 00-3D ---- */
static void alu_op(struct emu_cpu *cpu)
{
	const struct emu_insn *in = &cpu->in;
	int op = (in->op >> 3) & 7;
	unsigned size = (in->op & 1) ? in->osize : 1;
	uint64_t r;

	switch (in->op & 7) {
	case 0: case 1:
		if (in->mod == 3) { /* the hot form: no memory, no LOCK */
			r = alu_inline(cpu, op, size, reg_get(cpu, in->rm, size),
				       reg_get(cpu, in->reg, size));
			if (op != ALU_CMP)
				reg_set(cpu, in->rm, size, r);
			break;
		}
		emu_rmw(cpu, op, size, reg_get(cpu, in->reg, size));
		break;
	case 2: case 3:
		r = alu_inline(cpu, op, size, reg_get(cpu, in->reg, size),
			       rm_read(cpu, size));
		if (op != ALU_CMP)
			reg_set(cpu, in->reg, size, r);
		break;
	default:
		r = emu_alu(cpu, op, size, reg_get(cpu, X86_RAX, size), in->imm);
		if (op != ALU_CMP)
			reg_set(cpu, X86_RAX, size, r);
	}
}

/* ---- BCD ---- */
static void daa_das(struct emu_cpu *cpu, int sub)
{
	uint64_t f = emu_get_flags(cpu);
	unsigned al = cpu->gpr[X86_RAX] & 0xff, old = al;
	int cf = f & FL_CF, af = 0, newcf = 0;

	if ((al & 0xf) > 9 || (f & FL_AF)) {
		al = sub ? al - 6 : al + 6;
		newcf = cf || (sub ? old < 6 : al > 0xff);
		af = 1;
	}
	if (old > 0x99 || cf) {
		al = sub ? al - 0x60 : al + 0x60;
		newcf = 1;
	}
	al &= 0xff;
	reg_set(cpu, X86_RAX, 1, al);
	emu_flags_szp(cpu, 1, al, newcf,
		      sub ? ((old & ~al) & 0x80) != 0 : ((~old & al) & 0x80) != 0,
		      af);
}

static void aaa_aas(struct emu_cpu *cpu, int sub)
{
	uint64_t f = emu_get_flags(cpu);
	unsigned ax = cpu->gpr[X86_RAX] & 0xffff;
	int adj = (ax & 0xf) > 9 || (f & FL_AF);

	if (adj) {
		if (sub && cpu->model286) {
			/* the 286 subtracts 6 from all of AX, borrowing from AH */
			ax = (ax - 6 - 0x100) & 0xffff;
		} else if (sub) {
			ax = ((ax - 6) & 0xff) | (((ax >> 8) - 1) & 0xff) << 8;
		} else {
			ax = (ax + 0x106) & 0xffff;
		}
	}
	ax &= 0xff0f;
	reg_set(cpu, X86_RAX, 2, ax);
	emu_flags_szp(cpu, 1, ax & 0xff, adj, 0, adj);
}

/* ---- string instructions ---- */
static uint64_t *rcx_p(struct emu_cpu *cpu) { return &cpu->gpr[X86_RCX]; }

static uint64_t areg(struct emu_cpu *cpu, int r)
{
	return cpu->gpr[r] & amask(cpu->in.asize);
}

static void areg_add(struct emu_cpu *cpu, int r, int64_t d)
{
	uint64_t m = amask(cpu->in.asize);

	if (cpu->in.asize == 4)
		cpu->gpr[r] = (uint32_t)(cpu->gpr[r] + d);
	else
		cpu->gpr[r] = (cpu->gpr[r] & ~m) | ((cpu->gpr[r] + d) & m);
}

void emu_io_check(struct emu_cpu *cpu, uint16_t port, unsigned size);

/*
 * 286 string instructions, in the hardware's order: each access advances
 * its index register as it happens, so one that faults (offset FFFF)
 * leaves it and the earlier ones advanced; under REP a fault also leaves
 * CX lowered by cxdec, which the vectors show depends on the access (CMPS
 * reads ES:DI first).
 */
static uint64_t q_access(struct emu_cpu *cpu, int seg, int reg, unsigned size,
			 int write, uint64_t v, int cxdec)
{
	int64_t d = (cpu->flags & FL_DF) ? -(int64_t)size : (int64_t)size;
	uint64_t c = cpu->gpr[X86_RCX];
	uint64_t off = areg(cpu, reg);

	areg_add(cpu, reg, d);
	if (cpu->in.rep)
		areg_add(cpu, X86_RCX, -cxdec);
	if (write)
		mem_write(cpu, seg, off, size, v);
	else
		v = mem_read(cpu, seg, off, size);
	cpu->gpr[X86_RCX] = c;
	return v;
}

static int str_one_286(struct emu_cpu *cpu, unsigned op, unsigned size)
{
	int s = cpu->in.seg;
	uint64_t v, w;

	switch (op) {
	case 0xa4:
		v = q_access(cpu, s, X86_RSI, size, 0, 0, 1);
		q_access(cpu, X86_ES, X86_RDI, size, 1, v, 2);
		return 1;
	case 0xa6:
		w = q_access(cpu, X86_ES, X86_RDI, size, 0, 0, 0);
		v = q_access(cpu, s, X86_RSI, size, 0, 0, 1);
		emu_alu(cpu, ALU_CMP, size, v, w);
		return 2;
	case 0xaa:
		q_access(cpu, X86_ES, X86_RDI, size, 1, reg_get(cpu, X86_RAX, size), 2);
		return 1;
	case 0xac:
		reg_set(cpu, X86_RAX, size, q_access(cpu, s, X86_RSI, size, 0, 0, 1));
		return 1;
	case 0xae:
		w = q_access(cpu, X86_ES, X86_RDI, size, 0, 0, 1);
		emu_alu(cpu, ALU_CMP, size, reg_get(cpu, X86_RAX, size), w);
		return 2;
	case 0x6c:
		v = emu_in(cpu, cpu->gpr[X86_RDX] & 0xffff, size);
		q_access(cpu, X86_ES, X86_RDI, size, 1, v, 2);
		return 1;
	default:
		v = q_access(cpu, s, X86_RSI, size, 0, 0, 1);
		emu_out(cpu, cpu->gpr[X86_RDX] & 0xffff, size, v);
		return 1;
	}
}

static int str_one(struct emu_cpu *cpu, unsigned op, unsigned size)
{
	int64_t d = (cpu->flags & FL_DF) ? -(int64_t)size : (int64_t)size;
	uint64_t v, w;

	if (cpu->model286)
		return str_one_286(cpu, op, size);

	switch (op) {
	case 0xa4: /* MOVS */
		v = mem_read(cpu, cpu->in.seg, areg(cpu, X86_RSI), size);
		mem_write(cpu, X86_ES, areg(cpu, X86_RDI), size, v);
		areg_add(cpu, X86_RSI, d);
		areg_add(cpu, X86_RDI, d);
		return 1;
	case 0xa6: /* CMPS */
		v = mem_read(cpu, cpu->in.seg, areg(cpu, X86_RSI), size);
		w = mem_read(cpu, X86_ES, areg(cpu, X86_RDI), size);
		emu_alu(cpu, ALU_CMP, size, v, w);
		areg_add(cpu, X86_RSI, d);
		areg_add(cpu, X86_RDI, d);
		return 2;
	case 0xaa: /* STOS */
		mem_write(cpu, X86_ES, areg(cpu, X86_RDI), size,
			  reg_get(cpu, X86_RAX, size));
		areg_add(cpu, X86_RDI, d);
		return 1;
	case 0xac: /* LODS */
		v = mem_read(cpu, cpu->in.seg, areg(cpu, X86_RSI), size);
		reg_set(cpu, X86_RAX, size, v);
		areg_add(cpu, X86_RSI, d);
		return 1;
	case 0xae: /* SCAS */
		w = mem_read(cpu, X86_ES, areg(cpu, X86_RDI), size);
		emu_alu(cpu, ALU_CMP, size, reg_get(cpu, X86_RAX, size), w);
		areg_add(cpu, X86_RDI, d);
		return 2;
	case 0x6c: /* INS */
		emu_io_check(cpu, cpu->gpr[X86_RDX] & 0xffff, size);
		/* probe the destination before the port read has effects */
		emu_seg_addr(cpu, X86_ES, areg(cpu, X86_RDI), size, 1);
		v = emu_in(cpu, cpu->gpr[X86_RDX] & 0xffff, size);
		mem_write(cpu, X86_ES, areg(cpu, X86_RDI), size, v);
		areg_add(cpu, X86_RDI, d);
		return 1;
	default: /* 0x6e OUTS */
		emu_io_check(cpu, cpu->gpr[X86_RDX] & 0xffff, size);
		v = mem_read(cpu, cpu->in.seg, areg(cpu, X86_RSI), size);
		emu_out(cpu, cpu->gpr[X86_RDX] & 0xffff, size, v);
		areg_add(cpu, X86_RSI, d);
		return 1;
	}
}

/* REP MOVS/STOS in page-sized host copies; 0 when the slow loop must run. */
int emu_rep_fast(struct emu_cpu *cpu, unsigned op, unsigned size)
{
	return 0;
}

/* Bounded batches keep interrupts and kicks timely: an unfinished REP
 * leaves RIP on itself and resumes on the next round. */
#define REP_BATCH 4096

static void string_op(struct emu_cpu *cpu)
{
	unsigned op = cpu->in.op & ~1u, size = (cpu->in.op & 1) ? cpu->in.osize : 1;
	int n;

	if (!cpu->in.rep) {
		str_one(cpu, op, size);
		return;
	}
	if (emu_rep_fast(cpu, op, size))
		return;
	for (n = 0; n < REP_BATCH; n++) {
		int kind;

		if (areg(cpu, X86_RCX) == 0)
			return;
		kind = str_one(cpu, op, size);
		areg_add(cpu, X86_RCX, -1);
		if (kind == 2) {
			int zf = emu_zf(cpu);

			if ((cpu->in.rep == 0xf3 && !zf) ||
			    (cpu->in.rep == 0xf2 && zf))
				return;
		}
	}
	if (areg(cpu, X86_RCX) != 0)
		cpu->next_rip = cpu->rip; /* not done: run again */
	(void)rcx_p;
}

/* ---- misc groups ---- */
static void grp3(struct emu_cpu *cpu, unsigned size)
{
	const struct emu_insn *in = &cpu->in;
	uint64_t v;

	switch (in->reg & 7) {
	case 0: case 1: /* TEST */
		emu_alu(cpu, ALU_TEST, size, rm_read(cpu, size), in->imm);
		break;
	case 2:
		emu_rmw(cpu, ALU_NOT, size, 0);
		break;
	case 3:
		emu_rmw(cpu, ALU_NEG, size, 0);
		break;
	case 4: case 5:
		emu_mul(cpu, (in->reg & 7) == 5, size, rm_read(cpu, size));
		break;
	default:
		v = rm_read(cpu, size);
		if (emu_div(cpu, (in->reg & 7) == 7, size, v))
			emu_raise(cpu, EXC_DE, 0, 0);
	}
}

static void grp2(struct emu_cpu *cpu, unsigned size, unsigned cnt)
{
	uint64_t v = rm_read(cpu, size), r;

	cnt &= size == 8 ? 0x3f : 0x1f;
	r = emu_shift(cpu, cpu->in.reg & 7, size, v, cnt);
	/* a 32-bit register destination is written (zero-extended) even
	 * when the masked count is 0 */
	if (cnt || (size == 4 && cpu->in.mod == 3))
		rm_write(cpu, size, r);
}

static void grp5(struct emu_cpu *cpu)
{
	const struct emu_insn *in = &cpu->in;
	unsigned os = in->osize, sos;
	uint64_t v, off;

	switch (in->reg & 7) {
	case 0:
		emu_rmw(cpu, ALU_INC, os, 0);
		break;
	case 1:
		emu_rmw(cpu, ALU_DEC, os, 0);
		break;
	case 2: /* CALL near */
		sos = cpu->long64 ? 8 : os;
		v = rm_read(cpu, sos);
		off = cpu->next_rip;
		emu_jump(cpu, v, sos);
		emu_push(cpu, sos, off);
		break;
	case 4: /* JMP near */
		sos = cpu->long64 ? 8 : os;
		emu_jump(cpu, rm_read(cpu, sos), sos);
		break;
	case 3: case 5: /* far CALL/JMP through memory */
		if (in->mod == 3)
			UD();
		off = mem_read(cpu, in->seg, cpu->ea, os);
		v = mem_read(cpu, in->seg, (cpu->ea + os) & amask(in->asize), 2);
		if ((in->reg & 7) == 3)
			emu_far_call(cpu, (uint16_t)v, off, os);
		else
			emu_far_jump(cpu, (uint16_t)v, off, os);
		break;
	case 6: /* PUSH */
		sos = stack_osize(cpu);
		emu_push(cpu, sos, rm_read(cpu, sos));
		break;
	default:
		UD();
	}
}

static void pusha(struct emu_cpu *cpu)
{
	unsigned os = cpu->in.osize, i;
	uint64_t sp = cpu->gpr[X86_RSP], m = sp_mask(cpu);

	for (i = 0; i < 8; i++) {
		uint64_t v = i == X86_RSP ? sp : cpu->gpr[i];

		mem_write(cpu, X86_SS, (sp - (i + 1) * os) & m, os, v);
	}
	cpu->gpr[X86_RSP] = (sp & ~m) | ((sp - 8 * os) & m);
}

static void popa(struct emu_cpu *cpu)
{
	unsigned os = cpu->in.osize, i;
	uint64_t v[8];

	for (i = 0; i < 8; i++)
		v[i] = emu_peek(cpu, os, (7 - i) * os);
	for (i = 0; i < 8; i++)
		if (i != X86_RSP)
			reg_set(cpu, i, os, v[i]);
	emu_pop(cpu, os); /* only for the SP arithmetic */
	cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~sp_mask(cpu)) |
			    ((cpu->gpr[X86_RSP] + 7 * os) & sp_mask(cpu));
}

static void enter(struct emu_cpu *cpu)
{
	unsigned os = stack_osize(cpu), lvl = cpu->in.imm2 & 31, i;
	uint64_t m = sp_mask(cpu), sp = cpu->gpr[X86_RSP], bp = cpu->gpr[X86_RBP];
	uint64_t frame;

	sp = (sp - os) & m;
	mem_write(cpu, X86_SS, sp, os, bp);
	frame = sp;
	for (i = 1; i < lvl; i++) {
		uint64_t v;

		bp = (bp - os) & size_mask(stack_size(cpu));
		v = mem_read(cpu, X86_SS, bp, os);
		sp = (sp - os) & m;
		mem_write(cpu, X86_SS, sp, os, v);
	}
	if (lvl) {
		sp = (sp - os) & m;
		mem_write(cpu, X86_SS, sp, os, frame);
	}
	sp = (sp - cpu->in.imm) & m;
	/* a 286 touches nothing at the new stack top; 386+ neither */
	reg_set(cpu, X86_RBP, stack_size(cpu) == 2 ? 2 : os, frame);
	cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) | sp;
}

static void leave(struct emu_cpu *cpu)
{
	unsigned os = stack_osize(cpu);
	uint64_t m = sp_mask(cpu), bp = cpu->gpr[X86_RBP] & m, v;

	v = mem_read(cpu, X86_SS, bp, os);
	cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) | ((bp + os) & m);
	reg_set(cpu, X86_RBP, os, v);
}

static void pop_rm(struct emu_cpu *cpu)
{
	unsigned os = stack_osize(cpu);
	uint64_t v = emu_peek(cpu, os, 0), m = sp_mask(cpu);
	uint64_t old = cpu->gpr[X86_RSP];

	if ((cpu->in.reg & 7) != 0)
		UD();
	/* the address is computed with the incremented stack pointer */
	cpu->gpr[X86_RSP] = (old & ~m) | ((old + os) & m);
	if (cpu->in.mod != 3)
		cpu->ea = ea_calc(cpu);
	if (cpu->in.mod == 3) {
		reg_set(cpu, cpu->in.rm, os, v);
		return;
	}
	/* a 286 has already moved SP when the store faults */
	if (!cpu->model286)
		cpu->gpr[X86_RSP] = old;
	mem_write(cpu, cpu->in.seg, cpu->ea, os, v);
	cpu->gpr[X86_RSP] = (old & ~m) | ((old + os) & m);
}

static void mov_sreg(struct emu_cpu *cpu, int sreg, uint16_t sel)
{
	if (sreg > (cpu->model286 ? X86_DS : X86_GS) || sreg == X86_CS)
		UD();
	emu_load_seg(cpu, sreg, sel);
	if (sreg == X86_SS) {
		cpu->shadow = 2;
		cpu->shadow_ss = 1;
	}
}

static void load_far_ptr(struct emu_cpu *cpu, int sreg)
{
	unsigned os = cpu->in.osize;
	uint64_t off;
	uint16_t sel;

	if (cpu->in.mod == 3)
		UD();
	off = mem_read(cpu, cpu->in.seg, cpu->ea, os);
	sel = (uint16_t)mem_read(cpu, cpu->in.seg,
				 (cpu->ea + os) & amask(cpu->in.asize), 2);
	emu_load_seg(cpu, sreg, sel);
	reg_set(cpu, cpu->in.reg, os, off);
}

static void popf(struct emu_cpu *cpu)
{
	unsigned os = stack_osize(cpu);
	uint64_t v = emu_peek(cpu, os, 0);
	uint64_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT;

	if (os >= 4)
		mask |= FL_AC | FL_ID;
	if (cpu->model286)
		mask &= ~(uint64_t)FL_NT;
	if (cpu->vm86 && ((cpu->flags >> 12) & 3) < 3)
		GP(0);
	if (!cpu->pmode || cpu->cpl == 0)
		mask |= FL_IOPL | FL_IF;
	else if (cpu->cpl <= (int)((cpu->flags >> 12) & 3))
		mask |= FL_IF;
	if (cpu->model286 && !cpu->pmode)
		mask &= ~(uint64_t)FL_IOPL;
	if (os == 2)
		mask &= 0xffff;
	emu_pop(cpu, os);
	emu_set_flags(cpu, v, mask);
}

static uint64_t flags_image(struct emu_cpu *cpu)
{
	uint64_t f = emu_get_flags(cpu);

	if (cpu->model286 && !cpu->pmode)
		f &= 0x0fff; /* a real-mode 286 keeps IOPL and NT zero */
	return f & ~(uint64_t)(FL_RF | FL_VM);
}

static void xchg_reg(struct emu_cpu *cpu, unsigned r, unsigned size)
{
	uint64_t a = reg_get(cpu, X86_RAX, size), b = reg_get(cpu, r, size);

	reg_set(cpu, X86_RAX, size, b);
	reg_set(cpu, r, size, a);
}

static void bound(struct emu_cpu *cpu)
{
	unsigned os = cpu->in.osize;
	int64_t lo, hi, v;

	if (cpu->in.mod == 3)
		UD();
	lo = sext(mem_read(cpu, cpu->in.seg, cpu->ea, os), os);
	hi = sext(mem_read(cpu, cpu->in.seg,
			   (cpu->ea + os) & amask(cpu->in.asize), os), os);
	v = sext(reg_get(cpu, cpu->in.reg, os), os);
	if (v < lo || v > hi)
		emu_raise(cpu, EXC_BR, 0, 0);
}

static void loop_op(struct emu_cpu *cpu)
{
	unsigned op = cpu->in.op;
	int take;

	if (op == 0xe3) {
		take = areg(cpu, X86_RCX) == 0;
	} else {
		areg_add(cpu, X86_RCX, -1);
		take = areg(cpu, X86_RCX) != 0;
		if (op == 0xe0)
			take = take && !emu_zf(cpu);
		else if (op == 0xe1)
			take = take && emu_zf(cpu);
	}
	if (take)
		jrel(cpu);
}

static void ret_near(struct emu_cpu *cpu, unsigned pop)
{
	unsigned os = cpu->long64 ? (cpu->in.pfx66 ? 2 : 8) : cpu->in.osize;
	uint64_t m = sp_mask(cpu), t = emu_peek(cpu, os, 0);

	emu_jump(cpu, t, os);
	cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) |
			    ((cpu->gpr[X86_RSP] + os + pop) & m);
}

static void io_op(struct emu_cpu *cpu)
{
	unsigned op = cpu->in.op, size = (op & 1) ? (cpu->in.osize == 2 ? 2 : 4) : 1;
	uint16_t port = (op & 8) ? cpu->gpr[X86_RDX] & 0xffff : (uint16_t)(cpu->in.imm & 0xff);

	emu_io_check(cpu, port, size);
	if (op & 2)
		emu_out(cpu, port, size, reg_get(cpu, X86_RAX, size));
	else
		reg_set(cpu, X86_RAX, size, emu_in(cpu, port, size));
}

static void cli_sti(struct emu_cpu *cpu, int sti)
{
	if ((cpu->pmode || cpu->vm86) && cpu->cpl > (int)((cpu->flags >> 12) & 3))
		GP(0);
	if (sti) {
		if (!(cpu->flags & FL_IF)) {
			/* STI's shadow holds interrupts, not #DB traps */
			cpu->shadow = 2;
			cpu->shadow_ss = 0;
		}
		cpu->flags |= FL_IF;
	} else {
		cpu->flags &= ~(uint64_t)FL_IF;
	}
}

static void mov_imm_moffs(struct emu_cpu *cpu)
{
	unsigned op = cpu->in.op, size = (op & 1) ? cpu->in.osize : 1;
	uint64_t off = cpu->in.imm & amask(cpu->in.asize);

	if (op & 2)
		mem_write(cpu, cpu->in.seg, off, size, reg_get(cpu, X86_RAX, size));
	else
		reg_set(cpu, X86_RAX, size, mem_read(cpu, cpu->in.seg, off, size));
}

static void cwd_cbw(struct emu_cpu *cpu)
{
	unsigned os = cpu->in.osize;
	uint64_t a = cpu->gpr[X86_RAX];

	if (cpu->in.op == 0x98) {
		reg_set(cpu, X86_RAX, os, (uint64_t)sext(a, os / 2));
		return;
	}
	reg_set(cpu, X86_RDX, os, (a & sign_bit(os)) ? ~0ull : 0);
}

static void aam_aad(struct emu_cpu *cpu)
{
	unsigned base = cpu->in.imm & 0xff, al = cpu->gpr[X86_RAX] & 0xff;
	unsigned ah = (cpu->gpr[X86_RAX] >> 8) & 0xff, r;

	if (cpu->in.op == 0xd4) {
		if (!base) {
			/* both 286 vectors for AAM 0 show SF=0 ZF=0 PF=1 */
			if (cpu->model286)
				emu_set_flags(cpu, FL_PF, FL_SF | FL_ZF | FL_PF);
			emu_raise(cpu, EXC_DE, 0, 0);
		}
		r = al % base;
		reg_set(cpu, X86_RAX, 2, ((al / base) << 8) | r);
		emu_flags_szp(cpu, 1, r, 0, 0, 0);
		return;
	}
	r = (al + ah * base) & 0xff;
	reg_set(cpu, X86_RAX, 2, r);
	/* flags as an 8-bit ADD of AL and AH*base */
	emu_alu(cpu, ALU_ADD, 1, al, (ah * base) & 0xff);
}

static void mov_rm_imm(struct emu_cpu *cpu, unsigned size)
{
	if ((cpu->in.reg & 7) != 0)
		UD();
	rm_write(cpu, size, cpu->in.imm);
}

static void exec_grp1(struct emu_cpu *cpu)
{
	unsigned size = (cpu->in.op & 1) ? cpu->in.osize : 1;

	emu_rmw(cpu, cpu->in.reg & 7, size, cpu->in.imm);
}

static void int_n(struct emu_cpu *cpu, int vec, int kind)
{
	if (cpu->vm86 && kind == INT_SOFT && ((cpu->flags >> 12) & 3) < 3)
		GP(0);
	emu_interrupt(cpu, vec, kind, 0, 0);
	cpu->db_sw_int = 1;
}

static void push_sreg(struct emu_cpu *cpu, int s)
{
	unsigned os = stack_osize(cpu);

	/* 32-bit pushes of a selector write only 16 bits on modern CPUs */
	if (os > 2) {
		uint64_t m = sp_mask(cpu);
		uint64_t sp = (cpu->gpr[X86_RSP] - os) & m;

		mem_write(cpu, X86_SS, sp, 2, cpu->seg[s].sel);
		cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) | sp;
		return;
	}
	emu_push(cpu, os, cpu->seg[s].sel);
}

static void pop_sreg(struct emu_cpu *cpu, int s)
{
	unsigned os = stack_osize(cpu);
	uint16_t sel = (uint16_t)emu_peek(cpu, 2, 0);

	emu_load_seg(cpu, s, sel);
	emu_pop(cpu, os);
	if (s == X86_SS) {
		cpu->shadow = 2;
		cpu->shadow_ss = 1;
	}
}

static void exec_misc(struct emu_cpu *cpu);

void emu_exec(struct emu_cpu *cpu)
{
	struct emu_insn *in = &cpu->in;
	unsigned op = in->op, os = in->osize;
	uint64_t v;

	if (op >= 0x100) {
		emu_exec_0f(cpu);
		return;
	}
	if (op < 0x40 && (op & 7) < 6) {
		alu_op(cpu);
		return;
	}
	switch (op) {
	case 0x06: case 0x0e: case 0x16: case 0x1e:
		push_sreg(cpu, op >> 3);
		break;
	case 0x07: case 0x17: case 0x1f:
		pop_sreg(cpu, op >> 3);
		break;
	case 0x0f: /* POP CS on an 8086; here only reached when invalid */
		UD();
	case 0x27: daa_das(cpu, 0); break;
	case 0x2f: daa_das(cpu, 1); break;
	case 0x37: aaa_aas(cpu, 0); break;
	case 0x3f: aaa_aas(cpu, 1); break;
	case 0x40 ... 0x47:
		reg_set(cpu, op & 7, os, alu_inline(cpu, ALU_INC, os, reg_get(cpu, op & 7, os), 0));
		break;
	case 0x48 ... 0x4f:
		reg_set(cpu, op & 7, os, alu_inline(cpu, ALU_DEC, os, reg_get(cpu, op & 7, os), 0));
		break;
	case 0x50 ... 0x57: {
		unsigned sos = stack_osize(cpu);

		emu_push(cpu, sos, reg_get(cpu, (op & 7) | ((in->rex & 1) << 3), sos));
		break;
	}
	case 0x58 ... 0x5f: {
		unsigned sos = stack_osize(cpu);

		v = emu_pop(cpu, sos);
		reg_set(cpu, (op & 7) | ((in->rex & 1) << 3), sos, v);
		break;
	}
	case 0x60: pusha(cpu); break;
	case 0x61: popa(cpu); break;
	case 0x62: bound(cpu); break;
	case 0x63:
		if (cpu->long64) { /* MOVSXD */
			v = rm_read(cpu, 4);
			reg_set(cpu, in->reg, os, os == 8 ? (uint64_t)sext(v, 4) : v);
		} else {
			emu_arpl(cpu);
		}
		break;
	case 0x68: case 0x6a:
		emu_push(cpu, stack_osize(cpu), in->imm);
		break;
	case 0x69: case 0x6b:
		reg_set(cpu, in->reg, os, emu_imul2(cpu, os, rm_read(cpu, os), in->imm));
		break;
	case 0x6c: case 0x6d: case 0x6e: case 0x6f:
	case 0xa4: case 0xa5: case 0xa6: case 0xa7:
	case 0xaa: case 0xab: case 0xac: case 0xad: case 0xae: case 0xaf:
		string_op(cpu);
		break;
	case 0x70 ... 0x7f:
		if (emu_cond_inline(cpu, op & 0xf))
			jrel(cpu);
		break;
	case 0x80: case 0x81: case 0x82: case 0x83:
		exec_grp1(cpu);
		break;
	case 0x84: case 0x85: {
		unsigned size = (op & 1) ? os : 1;

		emu_alu(cpu, ALU_TEST, size, rm_read(cpu, size), reg_get(cpu, in->reg, size));
		break;
	}
	case 0x86: case 0x87: {
		unsigned size = (op & 1) ? os : 1;

		v = reg_get(cpu, in->reg, size);
		if (in->mod == 3) {
			reg_set(cpu, in->reg, size, reg_get(cpu, in->rm, size));
			reg_set(cpu, in->rm, size, v);
		} else {
			reg_set(cpu, in->reg, size, xchg_mem(cpu, size, v));
		}
		break;
	}
	case 0x88: rm_write(cpu, 1, reg_get(cpu, in->reg, 1)); break;
	case 0x89: rm_write(cpu, os, reg_get(cpu, in->reg, os)); break;
	case 0x8a: reg_set(cpu, in->reg, 1, rm_read(cpu, 1)); break;
	case 0x8b: reg_set(cpu, in->reg, os, rm_read(cpu, os)); break;
	case 0x8c:
		if ((in->reg & 7) > (cpu->model286 ? X86_DS : X86_GS))
			UD();
		/* register destinations get the zero-extended selector */
		rm_write(cpu, in->mod == 3 ? os : 2, cpu->seg[in->reg & 7].sel);
		break;
	case 0x8d:
		if (in->mod == 3)
			UD();
		reg_set(cpu, in->reg, os, cpu->ea);
		break;
	case 0x8e:
		if ((in->reg & 7) == X86_CS || (in->reg & 7) > X86_GS)
			UD(); /* before the operand is read */
		mov_sreg(cpu, in->reg & 7, (uint16_t)rm_read(cpu, 2));
		break;
	case 0x8f: pop_rm(cpu); break;
	case 0x90:
		if (in->rex & 1)
			xchg_reg(cpu, 8, os);
		break;
	case 0x91 ... 0x97:
		xchg_reg(cpu, (op & 7) | ((in->rex & 1) << 3), os);
		break;
	case 0x98: case 0x99: cwd_cbw(cpu); break;
	case 0x9a: emu_far_call(cpu, (uint16_t)in->imm2, in->imm, os); break;
	case 0x9b: /* WAIT */
		if (cpu->model286) {
			if ((cpu->cr0 & 0xa) == 0xa)
				emu_raise(cpu, EXC_NM, 0, 0);
			break;
		}
		emu_fwait(cpu);
		break;
	case 0x9c:
		if (cpu->vm86 && ((cpu->flags >> 12) & 3) < 3)
			GP(0);
		emu_push(cpu, stack_osize(cpu), flags_image(cpu));
		break;
	case 0x9d: popf(cpu); break;
	case 0x9e:
		if (cpu->long64 && !emu_has(cpu, CPUF_LAHF_LM))
			UD();
		emu_set_flags(cpu, (cpu->gpr[X86_RAX] >> 8),
			      FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF);
		break;
	case 0x9f:
		if (cpu->long64 && !emu_has(cpu, CPUF_LAHF_LM))
			UD();
		reg_set(cpu, 4, 1, (emu_get_flags(cpu) & 0xd5) | 2);
		break;
	case 0xa0 ... 0xa3: mov_imm_moffs(cpu); break;
	case 0xa8: case 0xa9: {
		unsigned size = (op & 1) ? os : 1;

		emu_alu(cpu, ALU_TEST, size, reg_get(cpu, X86_RAX, size), in->imm);
		break;
	}
	case 0xb0 ... 0xb7:
		reg_set(cpu, (op & 7) | ((in->rex & 1) << 3), 1, in->imm);
		break;
	case 0xb8 ... 0xbf:
		reg_set(cpu, (op & 7) | ((in->rex & 1) << 3), os, in->imm);
		break;
	default:
		exec_misc(cpu);
	}
}

static void exec_misc(struct emu_cpu *cpu)
{
	struct emu_insn *in = &cpu->in;
	unsigned op = in->op, os = in->osize;

	switch (op) {
	case 0xc0: grp2(cpu, 1, in->imm & 0xff); break;
	case 0xc1: grp2(cpu, os, in->imm & 0xff); break;
	case 0xc2: ret_near(cpu, in->imm & 0xffff); break;
	case 0xc3: ret_near(cpu, 0); break;
	case 0xc4: load_far_ptr(cpu, X86_ES); break;
	case 0xc5: load_far_ptr(cpu, X86_DS); break;
	case 0xc6: mov_rm_imm(cpu, 1); break;
	case 0xc7: mov_rm_imm(cpu, os); break;
	case 0xc8: enter(cpu); break;
	case 0xc9: leave(cpu); break;
	case 0xca: emu_far_ret(cpu, os, in->imm & 0xffff); break;
	case 0xcb: emu_far_ret(cpu, os, 0); break;
	case 0xcc: int_n(cpu, 3, INT_ICE); break;
	case 0xcd: int_n(cpu, in->imm & 0xff, INT_SOFT); break;
	case 0xce:
		if (emu_of(cpu))
			int_n(cpu, 4, INT_ICE);
		break;
	case 0xcf: emu_iret(cpu, os); break;
	case 0xd0: grp2(cpu, 1, 1); break;
	case 0xd1: grp2(cpu, os, 1); break;
	case 0xd2: grp2(cpu, 1, cpu->gpr[X86_RCX] & 0xff); break;
	case 0xd3: grp2(cpu, os, cpu->gpr[X86_RCX] & 0xff); break;
	case 0xd4: case 0xd5: aam_aad(cpu); break;
	case 0xd6: /* SALC */
		reg_set(cpu, X86_RAX, 1, emu_cf(cpu) ? 0xff : 0);
		break;
	case 0xd7: /* XLAT */
		reg_set(cpu, X86_RAX, 1,
			mem_read(cpu, in->seg,
				 (cpu->gpr[X86_RBX] + (cpu->gpr[X86_RAX] & 0xff)) &
					 amask(in->asize), 1));
		break;
	case 0xd8 ... 0xdf:
		if (cpu->model286) {
			/* no 80287 attached: ESC is a no-op, but the 286 still
			 * checks the memory operand against the segment limit */
			static const uint8_t esz[8] = { 4, 2, 4, 2, 8, 8, 2, 2 };

			if (in->mod != 3)
				emu_seg_addr(cpu, in->seg, cpu->ea, esz[op & 7], 0);
			break;
		}
		if (emu_exec_fpu(cpu))
			UD();
		break;
	case 0xe0 ... 0xe3: loop_op(cpu); break;
	case 0xe4 ... 0xe7: case 0xec ... 0xef: io_op(cpu); break;
	case 0xe8: {
		uint64_t ret = cpu->next_rip;

		jrel(cpu);
		emu_push(cpu, cpu->long64 ? 8 : os, ret);
		break;
	}
	case 0xe9: case 0xeb: jrel(cpu); break;
	case 0xea: emu_far_jump(cpu, (uint16_t)in->imm2, in->imm, os); break;
	case 0xf1: int_n(cpu, 1, INT_ICEBP); break;
	case 0xf4:
		if (cpu->pmode && cpu->cpl)
			GP(0);
		cpu->halted = 1;
		break;
	case 0xf5: emu_set_flags(cpu, emu_get_flags(cpu) ^ FL_CF, FL_CF); break;
	case 0xf6: grp3(cpu, 1); break;
	case 0xf7: grp3(cpu, os); break;
	case 0xf8: emu_set_flags(cpu, 0, FL_CF); break;
	case 0xf9: emu_set_flags(cpu, FL_CF, FL_CF); break;
	case 0xfa: cli_sti(cpu, 0); break;
	case 0xfb: cli_sti(cpu, 1); break;
	case 0xfc: cpu->flags &= ~(uint64_t)FL_DF; break;
	case 0xfd: cpu->flags |= FL_DF; break;
	case 0xfe:
		if ((in->reg & 7) > 1)
			UD();
		emu_rmw(cpu, (in->reg & 7) ? ALU_DEC : ALU_INC, 1, 0);
		break;
	case 0xff: grp5(cpu); break;
	default:
		UD();
	}
}
