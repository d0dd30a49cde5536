/*
 * The 0F opcode map's integer instructions: CMOV/SETcc/Jcc, bit
 * operations, SHLD/SHRD, MOVZX/MOVSX, CMPXCHG/XADD, BSWAP. System
 * instructions go to sys.c, x87/SSE to fpu.c and sse.c.
 */
#include <stddef.h>

#include "../cpumodel.h"
#include "alu.h"
#include "seg.h"

/* BT/BTS/BTR/BTC: op 0 test, 1 set, 2 reset, 3 complement */
static void bit_op(struct emu_cpu *cpu, int op, uint64_t bit, int reg_src)
{
	unsigned os = cpu->in.osize, bits = os * 8;
	uint64_t v, lin, nv, m;
	void *p;
	int cf;

	if (cpu->in.mod == 3) {
		bit &= bits - 1;
		v = reg_get(cpu, cpu->in.rm, os);
		cf = (v >> bit) & 1;
		nv = op == 1 ? v | (1ull << bit) : op == 2 ? v & ~(1ull << bit) :
		     v ^ (1ull << bit);
		if (op)
			reg_set(cpu, cpu->in.rm, os, nv);
		emu_set_flags(cpu, cf ? FL_CF : 0, FL_CF);
		return;
	}
	if (reg_src) {
		/* a register bit offset is signed and reaches past the operand */
		int64_t sb = sext(bit, os);

		cpu->ea = (cpu->ea + (uint64_t)((sb >> (os == 8 ? 6 : os == 4 ? 5 : 4)) * os)) &
			  amask(cpu->in.asize);
	}
	bit &= bits - 1;
	m = 1ull << bit;
	lin = emu_seg_addr(cpu, cpu->in.seg, cpu->ea, os, op != 0);
	p = op ? emu_lock_ptr(cpu, lin, os) : NULL;
	if (p) {
		uint64_t old;

		switch (os) {
		case 2:
			old = op == 1 ? __atomic_fetch_or((uint16_t *)p, (uint16_t)m, __ATOMIC_SEQ_CST) :
			      op == 2 ? __atomic_fetch_and((uint16_t *)p, (uint16_t)~m, __ATOMIC_SEQ_CST) :
			      __atomic_fetch_xor((uint16_t *)p, (uint16_t)m, __ATOMIC_SEQ_CST);
			break;
		case 4:
			old = op == 1 ? __atomic_fetch_or((uint32_t *)p, (uint32_t)m, __ATOMIC_SEQ_CST) :
			      op == 2 ? __atomic_fetch_and((uint32_t *)p, (uint32_t)~m, __ATOMIC_SEQ_CST) :
			      __atomic_fetch_xor((uint32_t *)p, (uint32_t)m, __ATOMIC_SEQ_CST);
			break;
		default:
			old = op == 1 ? __atomic_fetch_or((uint64_t *)p, m, __ATOMIC_SEQ_CST) :
			      op == 2 ? __atomic_fetch_and((uint64_t *)p, ~m, __ATOMIC_SEQ_CST) :
			      __atomic_fetch_xor((uint64_t *)p, m, __ATOMIC_SEQ_CST);
		}
		emu_set_flags(cpu, (old & m) ? FL_CF : 0, FL_CF);
		return;
	}
	v = emu_read_lin(cpu, lin, os);
	cf = !!(v & m);
	if (op) {
		nv = op == 1 ? v | m : op == 2 ? v & ~m : v ^ m;
		emu_write_lin(cpu, lin, os, nv);
	}
	emu_set_flags(cpu, cf ? FL_CF : 0, FL_CF);
}

static void bsf_bsr(struct emu_cpu *cpu, int rev)
{
	unsigned os = cpu->in.osize;
	uint64_t v = rm_read(cpu, os);

	if (v == 0) {
		/* destination unchanged (as AMD documents and Intel does) */
		emu_set_flags(cpu, FL_ZF, FL_ZF);
		return;
	}
	reg_set(cpu, cpu->in.reg, os,
		rev ? 63 - (unsigned)__builtin_clzll(v) : (unsigned)__builtin_ctzll(v));
	emu_set_flags(cpu, 0, FL_ZF);
}

static void popcnt(struct emu_cpu *cpu)
{
	unsigned os = cpu->in.osize;
	uint64_t v = rm_read(cpu, os);

	reg_set(cpu, cpu->in.reg, os, (uint64_t)__builtin_popcountll(v));
	emu_set_flags(cpu, v ? 0 : FL_ZF, FL_ARITH);
}

static void cmpxchg(struct emu_cpu *cpu, unsigned size)
{
	uint64_t acc = reg_get(cpu, X86_RAX, size), old;
	int ok = emu_cmpxchg(cpu, size, acc, reg_get(cpu, cpu->in.reg, size), &old);

	emu_alu(cpu, 7 /* CMP */, size, acc, old);
	if (!ok)
		reg_set(cpu, X86_RAX, size, old);
}

/* 16-byte CAS on the host (x86-64 has CMPXCHG16B; libatomic not needed) */
static int cas16(void *p, unsigned __int128 *exp, unsigned __int128 nv)
{
	uint64_t lo = (uint64_t)*exp, hi = (uint64_t)(*exp >> 64);
	unsigned char ok;

	__asm__ volatile("lock cmpxchg16b %1; sete %0"
			 : "=q"(ok), "+m"(*(unsigned __int128 *)p), "+a"(lo),
			   "+d"(hi)
			 : "b"((uint64_t)nv), "c"((uint64_t)(nv >> 64))
			 : "memory", "cc");
	*exp = lo | (unsigned __int128)hi << 64;
	return ok;
}

static void cmpxchg8b(struct emu_cpu *cpu)
{
	unsigned w = cpu->in.osize == 8 ? 8 : 4;
	uint64_t lin, lo, hi, clo, chi;
	void *p;
	int eq;

	if (cpu->in.mod == 3 || (w == 8 && !emu_has(cpu, CPUF_CX16)))
		UD();
	if (w == 8 && (cpu->ea & 15))
		GP(0);
	lin = emu_seg_addr(cpu, cpu->in.seg, cpu->ea, 2 * w, 1);
	clo = reg_get(cpu, X86_RAX, w);
	chi = reg_get(cpu, X86_RDX, w);
	p = (lin & (2 * w - 1)) ? NULL : emu_host_ptr(cpu, lin, 2 * w);
	if (p && w == 4) {
		uint64_t exp = clo | chi << 32;
		uint64_t nv = reg_get(cpu, X86_RBX, 4) | reg_get(cpu, X86_RCX, 4) << 32;

		eq = __atomic_compare_exchange_n((uint64_t *)p, &exp, nv, 0,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		lo = (uint32_t)exp;
		hi = exp >> 32;
	} else if (p) {
		unsigned __int128 exp = clo | (unsigned __int128)chi << 64;
		unsigned __int128 nv = reg_get(cpu, X86_RBX, 8) |
				       (unsigned __int128)reg_get(cpu, X86_RCX, 8) << 64;

		eq = cas16(p, &exp, nv);
		lo = (uint64_t)exp;
		hi = (uint64_t)(exp >> 64);
	} else {
		lo = emu_read_lin(cpu, lin, w);
		hi = emu_read_lin(cpu, lin + w, w);
		eq = lo == clo && hi == chi;
		if (eq) {
			emu_write_lin(cpu, lin, w, reg_get(cpu, X86_RBX, w));
			emu_write_lin(cpu, lin + w, w, reg_get(cpu, X86_RCX, w));
		} else {
			emu_write_lin(cpu, lin, w, lo);
			emu_write_lin(cpu, lin + w, w, hi);
		}
	}
	if (!eq) {
		reg_set(cpu, X86_RAX, w, lo);
		reg_set(cpu, X86_RDX, w, hi);
	}
	emu_set_flags(cpu, eq ? FL_ZF : 0, FL_ZF);
}

static void bswap(struct emu_cpu *cpu)
{
	unsigned r = (cpu->in.op & 7) | ((cpu->in.rex & 1) << 3);
	unsigned os = cpu->in.osize;

	if (os == 8)
		cpu->gpr[r] = __builtin_bswap64(cpu->gpr[r]);
	else if (os == 4)
		cpu->gpr[r] = __builtin_bswap32((uint32_t)cpu->gpr[r]);
	else
		reg_set(cpu, r, 2, 0); /* undefined; what Intel CPUs produce */
}

static void shxd(struct emu_cpu *cpu, int left, unsigned cnt)
{
	unsigned os = cpu->in.osize;
	uint64_t d = rm_read(cpu, os), r;

	cnt &= os == 8 ? 63 : 31;
	if (!cnt)
		return;
	r = emu_shxd(cpu, left, os, d, reg_get(cpu, cpu->in.reg, os), cnt);
	rm_write(cpu, os, r);
}

static void grp8(struct emu_cpu *cpu)
{
	unsigned r = cpu->in.reg & 7;

	if (r < 4)
		UD();
	bit_op(cpu, r - 4, cpu->in.imm & 0xff, 0);
}

static void movx(struct emu_cpu *cpu, unsigned from, int sgn)
{
	uint64_t v = rm_read(cpu, from);

	reg_set(cpu, cpu->in.reg, cpu->in.osize,
		sgn ? (uint64_t)sext(v, from) : v);
}

static void far_load(struct emu_cpu *cpu, int sreg)
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

void emu_exec_0f(struct emu_cpu *cpu)
{
	struct emu_insn *in = &cpu->in;
	unsigned op = in->op & 0xff, os = in->osize;
	uint64_t v;

	if (cpu->model286 || in->op >= 0x200) {
		if (in->op >= 0x200 && !emu_exec_sse(cpu))
			return;
		UD();
	}
	switch (op) {
	case 0x0b: case 0xb9: UD();
	case 0x0d: case 0x18 ... 0x1f: /* prefetch, hint NOPs */
		if (in->mod == 3 && op == 0x0d)
			UD();
		break;
	case 0x40 ... 0x4f:
		v = rm_read(cpu, os);
		if (emu_cond(cpu, op & 0xf))
			reg_set(cpu, in->reg, os, v);
		else if (os == 4)
			reg_set(cpu, in->reg, 4, reg_get(cpu, in->reg, 4));
		break;
	case 0x80 ... 0x8f:
		if (emu_cond_inline(cpu, op & 0xf))
			emu_jump(cpu, cpu->next_rip + in->imm,
				 cpu->long64 ? 8 : os);
		break;
	case 0x90 ... 0x9f:
		rm_write(cpu, 1, emu_cond(cpu, op & 0xf));
		break;
	case 0xa0: case 0xa8: {
		unsigned sos = cpu->long64 ? (in->pfx66 ? 2 : 8) : os;
		uint64_t m = size_mask(stack_size(cpu));
		uint64_t sp = (cpu->gpr[X86_RSP] - sos) & m;

		mem_write(cpu, X86_SS, sp, 2, cpu->seg[op == 0xa0 ? X86_FS : X86_GS].sel);
		cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) | sp;
		break;
	}
	case 0xa1: case 0xa9: {
		unsigned sos = cpu->long64 ? (in->pfx66 ? 2 : 8) : os;

		emu_load_seg(cpu, op == 0xa1 ? X86_FS : X86_GS, (uint16_t)emu_peek(cpu, 2, 0));
		emu_pop(cpu, sos);
		break;
	}
	case 0xa3: bit_op(cpu, 0, reg_get(cpu, in->reg, os), 1); break;
	case 0xab: bit_op(cpu, 1, reg_get(cpu, in->reg, os), 1); break;
	case 0xb3: bit_op(cpu, 2, reg_get(cpu, in->reg, os), 1); break;
	case 0xbb: bit_op(cpu, 3, reg_get(cpu, in->reg, os), 1); break;
	case 0xba: grp8(cpu); break;
	case 0xa4: shxd(cpu, 1, in->imm & 0xff); break;
	case 0xa5: shxd(cpu, 1, cpu->gpr[X86_RCX] & 0xff); break;
	case 0xac: shxd(cpu, 0, in->imm & 0xff); break;
	case 0xad: shxd(cpu, 0, cpu->gpr[X86_RCX] & 0xff); break;
	case 0xaf:
		reg_set(cpu, in->reg, os,
			emu_imul2(cpu, os, reg_get(cpu, in->reg, os), rm_read(cpu, os)));
		break;
	case 0xb0: cmpxchg(cpu, 1); break;
	case 0xb1: cmpxchg(cpu, os); break;
	case 0xb2: far_load(cpu, X86_SS); cpu->shadow = cpu->shadow_ss = 0; break;
	case 0xb4: far_load(cpu, X86_FS); break;
	case 0xb5: far_load(cpu, X86_GS); break;
	case 0xb6: movx(cpu, 1, 0); break;
	case 0xb7: movx(cpu, 2, 0); break;
	case 0xbe: movx(cpu, 1, 1); break;
	case 0xbf: movx(cpu, 2, 1); break;
	case 0xb8:
		if (in->rep != 0xf3 || !emu_has(cpu, CPUF_POPCNT))
			UD();
		popcnt(cpu);
		break;
	case 0xbc: bsf_bsr(cpu, 0); break; /* TZCNT runs as BSF: no BMI1 */
	case 0xbd: bsf_bsr(cpu, 1); break; /* LZCNT runs as BSR: no ABM */
	case 0xc0:
		emu_xadd(cpu, 1, reg_get(cpu, in->reg, 1));
		break;
	case 0xc1:
		emu_xadd(cpu, os, reg_get(cpu, in->reg, os));
		break;
	case 0xc3: /* MOVNTI */
		if (in->mod == 3)
			UD();
		mem_write(cpu, in->seg, cpu->ea, os == 2 ? 4 : os,
			  reg_get(cpu, in->reg, os == 2 ? 4 : os));
		break;
	case 0xc7:
		if ((in->reg & 7) == 1) {
			cmpxchg8b(cpu);
			break;
		}
		UD();
	case 0xc8 ... 0xcf: bswap(cpu); break;
	default:
		emu_exec_sys(cpu);
	}
}
