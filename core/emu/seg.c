/*
 * Segmentation: descriptor fetch, segment register loads with the
 * protected-mode checks, far JMP/CALL/RET and IRET (real, protected,
 * virtual-8086 and long mode).
 */
#include "log.h"
#include "seg.h"

#define DESC_S 0x1000u
#define DESC_P 0x8000u

void emu_desc_to_seg(struct x86_seg *s, uint16_t sel, uint32_t lo,
		     uint32_t hi)
{
	uint32_t limit = (lo & 0xffff) | (hi & 0xf0000);

	s->sel = sel;
	s->base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u);
	s->type = (hi >> 8) & 0xf;
	s->s = !!(hi & DESC_S);
	s->dpl = (hi >> 13) & 3;
	s->present = !!(hi & DESC_P);
	s->avl = (hi >> 20) & 1;
	s->l = (hi >> 21) & 1;
	s->db = (hi >> 22) & 1;
	s->g = (hi >> 23) & 1;
	s->limit = s->g ? (limit << 12) | 0xfff : limit;
	s->unusable = 0;
}

/* 0, or -1 when the selector lies outside its table. */
int emu_read_desc(struct emu_cpu *cpu, uint16_t sel, uint32_t *lo,
		  uint32_t *hi)
{
	uint64_t base, limit, off = sel & ~7u;
	uint64_t d;

	if (sel & 4) {
		if (cpu->seg[X86_LDTR].unusable || !cpu->seg[X86_LDTR].present)
			return -1;
		base = cpu->seg[X86_LDTR].base;
		limit = cpu->seg[X86_LDTR].limit;
	} else {
		base = cpu->gdt.base;
		limit = cpu->gdt.limit;
	}
	if (off + 7 > limit)
		return -1;
	d = emu_read_sys(cpu, base + off, 8);
	*lo = (uint32_t)d;
	*hi = (uint32_t)(d >> 32);
	return 0;
}

void emu_set_accessed(struct emu_cpu *cpu, uint16_t sel, uint32_t hi)
{
	uint64_t base = (sel & 4) ? cpu->seg[X86_LDTR].base : cpu->gdt.base;

	if (hi & 0x100)
		return;
	emu_write_sys(cpu, base + (sel & ~7u) + 5, 1, ((hi >> 8) & 0xff) | 1);
}

__attribute__((noreturn)) static void fault_sel(struct emu_cpu *cpu, int vec,
						uint16_t sel)
{
	emu_raise(cpu, vec, 1, sel & 0xfffc);
}

static void load_real(struct emu_cpu *cpu, int sreg, uint16_t sel)
{
	struct x86_seg *s = &cpu->seg[sreg];

	s->sel = sel;
	s->base = (uint64_t)sel << 4;
	if (cpu->vm86) {
		s->limit = 0xffff;
		s->type = sreg == X86_CS ? 0xb : 0x3;
		s->s = 1;
		s->dpl = 3;
		s->present = 1;
		s->db = 0;
		s->g = 0;
		s->l = 0;
		s->unusable = 0;
	}
}

static void load_ss(struct emu_cpu *cpu, uint16_t sel, int cpl)
{
	struct x86_seg *s = &cpu->seg[X86_SS];
	uint32_t lo, hi;

	if ((sel & 0xfffc) == 0) {
		/* 64-bit mode allows a null SS below CPL 3 */
		if (cpu->long64 && cpl < 3 && (sel & 3) == cpl) {
			s->sel = sel;
			s->unusable = 1;
			s->dpl = cpl;
			s->base = 0;
			s->limit = 0xffffffff;
			return;
		}
		GP(0);
	}
	if (emu_read_desc(cpu, sel, &lo, &hi))
		fault_sel(cpu, EXC_GP, sel);
	if ((sel & 3) != cpl || ((hi >> 13) & 3) != (unsigned)cpl ||
	    !(hi & DESC_S) || (hi & 0x800) || !(hi & 0x200))
		fault_sel(cpu, EXC_GP, sel);
	if (!(hi & DESC_P))
		fault_sel(cpu, EXC_SS, sel);
	emu_set_accessed(cpu, sel, hi);
	emu_desc_to_seg(s, sel, lo, hi | 0x100);
}

static void load_data(struct emu_cpu *cpu, int sreg, uint16_t sel)
{
	struct x86_seg *s = &cpu->seg[sreg];
	uint32_t lo, hi;
	unsigned dpl, type;

	if ((sel & 0xfffc) == 0) {
		s->sel = sel;
		s->unusable = 1;
		s->present = 0;
		s->base = 0;
		return;
	}
	if (emu_read_desc(cpu, sel, &lo, &hi))
		fault_sel(cpu, EXC_GP, sel);
	dpl = (hi >> 13) & 3;
	type = (hi >> 8) & 0xf;
	if (!(hi & DESC_S) || (type & 0xa) == 0x8)
		fault_sel(cpu, EXC_GP, sel); /* system or execute-only */
	/* data and non-conforming code: DPL >= max(CPL, RPL) */
	if ((!(type & 8) || !(type & 4)) &&
	    (dpl < (unsigned)cpu->cpl || dpl < (sel & 3u)))
		fault_sel(cpu, EXC_GP, sel);
	if (!(hi & DESC_P))
		fault_sel(cpu, EXC_NP, sel);
	emu_set_accessed(cpu, sel, hi);
	emu_desc_to_seg(s, sel, lo, hi | 0x100);
}

void emu_load_seg(struct emu_cpu *cpu, int sreg, uint16_t sel)
{
	if (!cpu->pmode || cpu->vm86) {
		load_real(cpu, sreg, sel);
		return;
	}
	if (sreg == X86_SS)
		load_ss(cpu, sel, cpu->cpl);
	else
		load_data(cpu, sreg, sel);
}

/* After a privilege drop, data segments the new CPL may not use go null. */
static void null_outer_segs(struct emu_cpu *cpu)
{
	static const int regs[] = { X86_ES, X86_DS, X86_FS, X86_GS };
	unsigned i;

	for (i = 0; i < 4; i++) {
		struct x86_seg *s = &cpu->seg[regs[i]];
		int conforming_code = (s->type & 0xc) == 0xc;

		if (s->unusable || conforming_code)
			continue;
		if (s->dpl < cpu->cpl) {
			s->sel = 0;
			s->unusable = 1;
			s->present = 0;
		}
	}
}

/* Set CS from a checked descriptor and the new CPL. */
static void set_cs(struct emu_cpu *cpu, uint16_t sel, uint32_t lo,
		   uint32_t hi, int cpl)
{
	emu_set_accessed(cpu, sel, hi);
	emu_desc_to_seg(&cpu->seg[X86_CS], (uint16_t)((sel & ~3u) | cpl), lo,
			hi | 0x100);
	cpu->cpl = cpl;
	emu_update_mode(cpu);
}

/* Checks for a direct far JMP/CALL to a code segment. */
static void check_code(struct emu_cpu *cpu, uint16_t sel, uint32_t hi)
{
	unsigned dpl = (hi >> 13) & 3, rpl = sel & 3;

	if (!(hi & DESC_S) || !(hi & 0x800))
		fault_sel(cpu, EXC_GP, sel);
	if (hi & 0x400) { /* conforming */
		if (dpl > (unsigned)cpu->cpl)
			fault_sel(cpu, EXC_GP, sel);
	} else if (rpl > (unsigned)cpu->cpl || dpl != (unsigned)cpu->cpl) {
		fault_sel(cpu, EXC_GP, sel);
	}
	if (!(hi & DESC_P))
		fault_sel(cpu, EXC_NP, sel);
}

static uint64_t check_target(struct emu_cpu *cpu, uint64_t off,
			     unsigned osize, uint32_t lo, uint32_t hi)
{
	struct x86_seg tmp;

	emu_desc_to_seg(&tmp, 0, lo, hi);
	if ((cpu->efer & X86_EFER_LMA) && tmp.l)
		return off;
	off &= size_mask(osize);
	if (off > tmp.limit)
		GP(0);
	return off;
}

static void far_real(struct emu_cpu *cpu, uint16_t sel, uint64_t off,
		     unsigned osize)
{
	off &= size_mask(osize);
	if (off > cpu->seg[X86_CS].limit && cpu->model286 == 0 && 0)
		GP(0);
	load_real(cpu, X86_CS, sel);
	cpu->next_rip = off;
}

/* Far transfers through a call gate (same or more privilege). */
static void gate_transfer(struct emu_cpu *cpu, uint16_t gsel, uint32_t glo,
			  uint32_t ghi, int call, unsigned cur_os);

void emu_far_jump(struct emu_cpu *cpu, uint16_t sel, uint64_t off,
		  unsigned osize)
{
	uint32_t lo, hi;

	if (!cpu->pmode || cpu->vm86) {
		far_real(cpu, sel, off, osize);
		return;
	}
	if ((sel & 0xfffc) == 0)
		GP(0);
	if (emu_read_desc(cpu, sel, &lo, &hi))
		fault_sel(cpu, EXC_GP, sel);
	if (!(hi & DESC_S)) {
		gate_transfer(cpu, sel, lo, hi, 0, osize);
		return;
	}
	check_code(cpu, sel, hi);
	off = check_target(cpu, off, osize, lo, hi);
	set_cs(cpu, sel, lo, hi, cpu->cpl);
	cpu->next_rip = off;
}

void emu_far_call(struct emu_cpu *cpu, uint16_t sel, uint64_t off,
		  unsigned osize)
{
	uint64_t ret = cpu->next_rip;
	uint16_t cs = cpu->seg[X86_CS].sel;
	uint32_t lo, hi;
	struct x86_seg save;

	if (!cpu->pmode || cpu->vm86) {
		uint64_t sp = cpu->gpr[X86_RSP];

		emu_push(cpu, osize, cs);
		emu_push(cpu, osize, ret);
		(void)sp;
		far_real(cpu, sel, off, osize);
		return;
	}
	if ((sel & 0xfffc) == 0)
		GP(0);
	if (emu_read_desc(cpu, sel, &lo, &hi))
		fault_sel(cpu, EXC_GP, sel);
	if (!(hi & DESC_S)) {
		gate_transfer(cpu, sel, lo, hi, 1, osize);
		return;
	}
	check_code(cpu, sel, hi);
	off = check_target(cpu, off, osize, lo, hi);
	/* push with the old CS; undo the stack pointer if a push faults is
	 * not needed: pushes fault before RSP moves */
	{
		uint64_t sp = cpu->gpr[X86_RSP];
		uint64_t m = size_mask(stack_size(cpu));
		uint64_t a = (sp - osize) & m, b = (sp - 2 * osize) & m;

		mem_write(cpu, X86_SS, a, osize, cs);
		mem_write(cpu, X86_SS, b, osize, ret);
		cpu->gpr[X86_RSP] = (sp & ~m) | b;
	}
	save = cpu->seg[X86_CS];
	(void)save;
	set_cs(cpu, sel, lo, hi, cpu->cpl);
	cpu->next_rip = off;
}

/* Stack pointer for privilege level dpl from the current TSS. */
void emu_tss_stack(struct emu_cpu *cpu, int dpl, uint16_t *ss, uint64_t *sp)
{
	const struct x86_seg *tr = &cpu->seg[X86_TR];

	if (cpu->efer & X86_EFER_LMA) {
		if (4u + dpl * 8 + 7 > tr->limit)
			emu_raise(cpu, EXC_TS, 1, tr->sel & 0xfffc);
		*sp = emu_read_sys(cpu, tr->base + 4 + dpl * 8, 8);
		*ss = (uint16_t)dpl;
		return;
	}
	if ((tr->type & 8) == 0) { /* 16-bit TSS */
		if (2u + dpl * 4 + 3 > tr->limit)
			emu_raise(cpu, EXC_TS, 1, tr->sel & 0xfffc);
		*sp = emu_read_sys(cpu, tr->base + 2 + dpl * 4, 2);
		*ss = (uint16_t)emu_read_sys(cpu, tr->base + 4 + dpl * 4, 2);
		return;
	}
	if (4u + dpl * 8 + 5 > tr->limit)
		emu_raise(cpu, EXC_TS, 1, tr->sel & 0xfffc);
	*sp = emu_read_sys(cpu, tr->base + 4 + dpl * 8, 4);
	*ss = (uint16_t)emu_read_sys(cpu, tr->base + 8 + dpl * 8, 2);
}

static void gate_transfer(struct emu_cpu *cpu, uint16_t gsel, uint32_t glo,
			  uint32_t ghi, int call, unsigned cur_os)
{
	unsigned type = (ghi >> 8) & 0xf, gdpl = (ghi >> 13) & 3;
	unsigned gs = (type == 0xc) ? ((cpu->efer & X86_EFER_LMA) ? 8 : 4) : 2;
	uint16_t sel = (uint16_t)(glo >> 16);
	uint64_t off = (glo & 0xffff) | (ghi & 0xffff0000u);
	uint64_t ret = cpu->next_rip, osp, nsp;
	uint16_t ocs = cpu->seg[X86_CS].sel, oss = cpu->seg[X86_SS].sel, nss;
	uint32_t lo, hi;
	unsigned dpl;

	if (type != 0x4 && type != 0xc) {
		/* task gates and TSS switches are not offered */
		warn("emu: task switch through selector %#x not supported", gsel);
		fault_sel(cpu, EXC_GP, gsel);
	}
	if (gdpl < (unsigned)cpu->cpl || gdpl < (gsel & 3u))
		fault_sel(cpu, EXC_GP, gsel);
	if (!(ghi & DESC_P))
		fault_sel(cpu, EXC_NP, gsel);
	if (gs == 8) {
		uint64_t up = emu_read_sys(cpu, cpu->gdt.base + (gsel & ~7u) + 8, 4);

		off |= up << 32;
	}
	if ((sel & 0xfffc) == 0)
		GP(0);
	if (emu_read_desc(cpu, sel, &lo, &hi))
		fault_sel(cpu, EXC_GP, sel);
	dpl = (hi >> 13) & 3;
	if (!(hi & DESC_S) || !(hi & 0x800) || dpl > (unsigned)cpu->cpl)
		fault_sel(cpu, EXC_GP, sel);
	if (!(hi & DESC_P))
		fault_sel(cpu, EXC_NP, sel);
	if (!call || (hi & 0x400) || dpl == (unsigned)cpu->cpl) {
		if (!call && !(hi & 0x400) && dpl != (unsigned)cpu->cpl)
			fault_sel(cpu, EXC_GP, sel);
		if (call) {
			emu_push(cpu, gs, ocs);
			emu_push(cpu, gs, ret);
		}
		set_cs(cpu, sel, lo, hi, cpu->cpl);
		cpu->next_rip = off;
		return;
	}
	/* call to an inner level: new stack from the TSS */
	emu_tss_stack(cpu, dpl, &nss, &nsp);
	osp = cpu->gpr[X86_RSP];
	{
		struct x86_seg oldss = cpu->seg[X86_SS];
		int ocpl = cpu->cpl;
		unsigned nparam = glo >> 16 & 0; /* parameters: see below */

		(void)nparam;
		cpu->cpl = dpl;
		if (cpu->efer & X86_EFER_LMA) {
			load_ss(cpu, (uint16_t)dpl, dpl);
		} else {
			load_ss(cpu, nss, dpl);
		}
		cpu->gpr[X86_RSP] = nsp;
		emu_push(cpu, gs, oss);
		emu_push(cpu, gs, osp & size_mask(oldss.db ? 4 : 2));
		{
			unsigned n = ghi & 0x1f, i;

			for (i = n; i > 0 && !(cpu->efer & X86_EFER_LMA); i--) {
				uint64_t p = emu_read_lin(cpu,
					(uint32_t)(oldss.base + ((osp + (i - 1) * gs) &
						size_mask(oldss.db ? 4 : 2))), gs);
				emu_push(cpu, gs, p);
			}
		}
		emu_push(cpu, gs, ocs);
		emu_push(cpu, gs, ret);
		(void)ocpl;
	}
	set_cs(cpu, sel, lo, hi, dpl);
	cpu->next_rip = off;
	(void)cur_os;
}

void emu_far_ret(struct emu_cpu *cpu, unsigned osize, unsigned pop)
{
	uint64_t off, sp, m;
	uint16_t sel, nss;
	uint32_t lo, hi;
	unsigned rpl, dpl;

	if (cpu->long64 && !cpu->in.pfx66 && (cpu->in.rex & 8))
		osize = 8;
	off = emu_peek(cpu, osize, 0);
	sel = (uint16_t)emu_peek(cpu, osize == 8 ? 8 : osize, osize);
	m = size_mask(stack_size(cpu));
	if (!cpu->pmode || cpu->vm86) {
		far_real(cpu, sel, off, osize);
		cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) |
				    ((cpu->gpr[X86_RSP] + 2 * osize + pop) & m);
		return;
	}
	if ((sel & 0xfffc) == 0)
		GP(0);
	if (emu_read_desc(cpu, sel, &lo, &hi))
		fault_sel(cpu, EXC_GP, sel);
	rpl = sel & 3;
	dpl = (hi >> 13) & 3;
	if (rpl < (unsigned)cpu->cpl || !(hi & DESC_S) || !(hi & 0x800))
		fault_sel(cpu, EXC_GP, sel);
	if ((hi & 0x400) ? dpl > rpl : dpl != rpl)
		fault_sel(cpu, EXC_GP, sel);
	if (!(hi & DESC_P))
		fault_sel(cpu, EXC_NP, sel);
	if (rpl == (unsigned)cpu->cpl) {
		off = check_target(cpu, off, osize, lo, hi);
		set_cs(cpu, sel, lo, hi, rpl);
		cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) |
				    ((cpu->gpr[X86_RSP] + 2 * osize + pop) & m);
		cpu->next_rip = off;
		return;
	}
	/* return to an outer level: SS:SP follow the parameters */
	sp = emu_peek(cpu, osize, 2 * osize + pop);
	nss = (uint16_t)emu_peek(cpu, osize, 3 * osize + pop);
	off = check_target(cpu, off, osize, lo, hi);
	set_cs(cpu, sel, lo, hi, rpl);
	load_ss(cpu, nss, rpl);
	cpu->gpr[X86_RSP] = ((sp + pop) & size_mask(stack_size(cpu))) |
			    (stack_size(cpu) == 2 ? cpu->gpr[X86_RSP] & ~0xffffull : 0);
	cpu->next_rip = off;
	null_outer_segs(cpu);
}

static void iret_real(struct emu_cpu *cpu, unsigned os)
{
	uint64_t ip = emu_peek(cpu, os, 0), m = size_mask(stack_size(cpu));
	uint16_t cs = (uint16_t)emu_peek(cpu, os, os);
	uint64_t f = emu_peek(cpu, os, 2 * os);
	uint64_t mask = os == 2 ? 0x7fd5 : 0x257fd5;

	if (cpu->vm86) {
		if (((cpu->flags >> 12) & 3) < 3)
			GP(0);
		mask &= ~(uint64_t)FL_IOPL;
	}
	if (cpu->model286)
		mask &= 0x0fff;
	mask &= ~(uint64_t)(FL_VM | FL_VIF | FL_VIP);
	far_real(cpu, cs, ip, os);
	cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) |
			    ((cpu->gpr[X86_RSP] + 3 * os) & m);
	emu_set_flags(cpu, f, mask);
}

static void iret_to_vm86(struct emu_cpu *cpu, uint64_t ip, uint16_t cs,
			 uint64_t f)
{
	uint64_t sp = emu_peek(cpu, 4, 12);
	uint16_t ss = (uint16_t)emu_peek(cpu, 4, 16);
	uint16_t es = (uint16_t)emu_peek(cpu, 4, 20);
	uint16_t ds = (uint16_t)emu_peek(cpu, 4, 24);
	uint16_t fs = (uint16_t)emu_peek(cpu, 4, 28);
	uint16_t gs = (uint16_t)emu_peek(cpu, 4, 32);

	emu_set_flags(cpu, f, 0x3f7fd5);
	cpu->cpl = 3;
	emu_update_mode(cpu);
	load_real(cpu, X86_CS, cs);
	load_real(cpu, X86_SS, ss);
	load_real(cpu, X86_ES, es);
	load_real(cpu, X86_DS, ds);
	load_real(cpu, X86_FS, fs);
	load_real(cpu, X86_GS, gs);
	cpu->gpr[X86_RSP] = (uint32_t)sp;
	cpu->next_rip = ip & 0xffff;
}

void emu_iret(struct emu_cpu *cpu, unsigned os)
{
	uint64_t ip, f, sp, m, mask;
	uint16_t cs, ss;
	uint32_t lo, hi;
	unsigned rpl, dpl, iopl;
	int ocpl = cpu->cpl, lma = !!(cpu->efer & X86_EFER_LMA);

	if (!cpu->pmode || cpu->vm86) {
		iret_real(cpu, os);
		return;
	}
	if (cpu->flags & FL_NT) {
		if (lma)
			GP(0);
		warn("emu: IRET task return not supported");
		GP(0);
	}
	if (cpu->long64 && (cpu->in.rex & 8))
		os = 8;
	ip = emu_peek(cpu, os, 0);
	cs = (uint16_t)emu_peek(cpu, os, os);
	f = emu_peek(cpu, os, 2 * os);
	if (os == 2)
		f = (emu_get_flags(cpu) & ~0xffffull) | (f & 0xffff);
	if ((f & FL_VM) && ocpl == 0 && !lma && os == 4) {
		iret_to_vm86(cpu, ip, cs, f);
		return;
	}
	if ((cs & 0xfffc) == 0)
		GP(0);
	if (emu_read_desc(cpu, cs, &lo, &hi))
		fault_sel(cpu, EXC_GP, cs);
	rpl = cs & 3;
	dpl = (hi >> 13) & 3;
	if (rpl < (unsigned)ocpl || !(hi & DESC_S) || !(hi & 0x800))
		fault_sel(cpu, EXC_GP, cs);
	if ((hi & 0x400) ? dpl > rpl : dpl != rpl)
		fault_sel(cpu, EXC_GP, cs);
	if (!(hi & DESC_P))
		fault_sel(cpu, EXC_NP, cs);
	m = size_mask(stack_size(cpu));
	iopl = (cpu->flags >> 12) & 3;
	mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_RF | FL_AC | FL_ID;
	if (ocpl == 0)
		mask |= FL_IOPL | FL_VIF | FL_VIP;
	if ((unsigned)ocpl <= iopl)
		mask |= FL_IF;
	if (os == 2)
		mask &= 0xffff;
	if (rpl == (unsigned)ocpl && !cpu->long64) {
		ip = check_target(cpu, ip, os, lo, hi);
		set_cs(cpu, cs, lo, hi, rpl);
		cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) |
				    ((cpu->gpr[X86_RSP] + 3 * os) & m);
		emu_set_flags(cpu, f, mask);
		cpu->next_rip = ip;
		return;
	}
	/* outer level, or any IRET in 64-bit mode: SS:RSP follow */
	sp = emu_peek(cpu, os, 3 * os);
	ss = (uint16_t)emu_peek(cpu, os, 4 * os);
	ip = check_target(cpu, ip, os, lo, hi);
	set_cs(cpu, cs, lo, hi, rpl);
	load_ss(cpu, ss, rpl);
	if (stack_size(cpu) == 2)
		cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~0xffffull) | (sp & 0xffff);
	else
		cpu->gpr[X86_RSP] = stack_size(cpu) == 4 ? (uint32_t)sp : sp;
	emu_set_flags(cpu, f, mask);
	cpu->next_rip = ip;
	if (rpl != (unsigned)ocpl)
		null_outer_segs(cpu);
}

void emu_arpl(struct emu_cpu *cpu)
{
	uint64_t d;
	uint16_t s;

	if (!cpu->pmode || cpu->vm86)
		UD();
	d = rm_read(cpu, 2);
	s = (uint16_t)reg_get(cpu, cpu->in.reg, 2);
	if ((d & 3) < (s & 3u)) {
		rm_write(cpu, 2, (d & ~3ull) | (s & 3));
		emu_set_flags(cpu, FL_ZF, FL_ZF);
	} else {
		emu_set_flags(cpu, 0, FL_ZF);
	}
}
