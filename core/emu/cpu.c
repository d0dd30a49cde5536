/*
 * The interpreter loop: fetch/decode (through the decoded-code cache),
 * execute, retire; exceptions unwind to the loop by longjmp and are
 * delivered through the IVT or IDT; external interrupts are taken at
 * instruction boundaries.
 */
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "cache.h"
#include "hostfp.h"
#include "log.h"
#include "seg.h"

void emu_update_mode(struct emu_cpu *cpu)
{
	cpu->pmode = !!(cpu->cr0 & X86_CR0_PE);
	cpu->vm86 = cpu->pmode && (cpu->flags & FL_VM) &&
		    !(cpu->efer & X86_EFER_LMA);
	if (!cpu->pmode)
		cpu->cpl = 0;
	else if (cpu->vm86)
		cpu->cpl = 3;
	cpu->long64 = (cpu->efer & X86_EFER_LMA) && cpu->seg[X86_CS].l &&
		      cpu->pmode && !cpu->vm86;
}

void emu_raise(struct emu_cpu *cpu, int vec, int has_err, uint32_t err)
{
	cpu->exc_vec = vec;
	cpu->exc_has_err = has_err;
	cpu->exc_err = err;
	longjmp(cpu->jb, 1);
}

void emu_ud(struct emu_cpu *cpu)
{
	unsigned op = cpu->in.op & 0x3ff;

	if (!(cpu->ud_logged[op / 8] & (1u << (op % 8)))) {
		cpu->ud_logged[op / 8] |= (uint8_t)(1u << (op % 8));
		if (!cpu->model286 && !cpu->quiet)
			info("emu: #UD at %#llx for opcode %s%02x (logged once)",
			     (unsigned long long)cpu->rip,
			     op >= 0x300 ? "0f3a " : op >= 0x200 ? "0f38 " :
			     op >= 0x100 ? "0f " : "", op & 0xff);
	}
	emu_raise(cpu, EXC_UD, 0, 0);
}

/* ---- interrupt and exception delivery ---- */
static uint64_t flags_for_push(struct emu_cpu *cpu)
{
	uint64_t f = emu_get_flags(cpu);

	if (cpu->model286 && !cpu->pmode)
		f &= 0x0fff;
	return f;
}

static void deliver_real(struct emu_cpu *cpu, int vec, uint64_t ret)
{
	uint64_t ent;
	uint16_t cs = cpu->seg[X86_CS].sel;

	if ((uint64_t)vec * 4 + 3 > cpu->idt.limit)
		emu_raise(cpu, EXC_GP, 1, vec * 8 + 2);
	ent = emu_read_sys(cpu, cpu->idt.base + vec * 4, 4);
	emu_push(cpu, 2, flags_for_push(cpu));
	emu_push(cpu, 2, cs);
	emu_push(cpu, 2, ret);
	cpu->flags &= ~(uint64_t)(FL_IF | FL_TF | FL_AC | FL_RF);
	cpu->seg[X86_CS].sel = (uint16_t)(ent >> 16);
	cpu->seg[X86_CS].base = (ent >> 16) << 4;
	cpu->next_rip = ent & 0xffff;
}

void emu_tss_stack(struct emu_cpu *cpu, int dpl, uint16_t *ss, uint64_t *sp);

/* Protected and long mode through the IDT. */
static void deliver_prot(struct emu_cpu *cpu, int vec, int kind, int has_err,
			 uint32_t err, uint64_t ret)
{
	int lma = !!(cpu->efer & X86_EFER_LMA);
	unsigned esz = lma ? 16 : 8, type, gdpl, dpl, gs, ist;
	uint32_t ext = kind == INT_EXT || kind == INT_EXC || kind == INT_ICEBP;
	uint32_t ierr = vec * 8 + 2 + ext, lo, hi;
	uint64_t g0, g1 = 0, off, osp = cpu->gpr[X86_RSP], nsp, fl;
	uint16_t sel, oss = cpu->seg[X86_SS].sel, ocs = cpu->seg[X86_CS].sel;
	uint16_t nss;
	int ocpl = cpu->cpl, ovm = cpu->vm86, newcpl;
	struct x86_seg sds[4];

	if ((uint64_t)vec * esz + esz - 1 > cpu->idt.limit)
		emu_raise(cpu, EXC_GP, 1, ierr);
	g0 = emu_read_sys(cpu, cpu->idt.base + vec * esz, 8);
	if (lma)
		g1 = emu_read_sys(cpu, cpu->idt.base + vec * esz + 8, 8);
	type = (g0 >> 40) & 0x1f;
	gdpl = (g0 >> 45) & 3;
	if (lma ? (type != 0xe && type != 0xf) :
		  (type != 0x6 && type != 0x7 && type != 0xe && type != 0xf)) {
		if (type == 0x5)
			warn("emu: task gate for vector %d not supported", vec);
		emu_raise(cpu, EXC_GP, 1, ierr);
	}
	if ((kind == INT_SOFT || kind == INT_ICE) && gdpl < (unsigned)ocpl)
		emu_raise(cpu, EXC_GP, 1, ierr);
	if (!(g0 & (1ull << 47)))
		emu_raise(cpu, EXC_NP, 1, ierr);
	sel = (uint16_t)(g0 >> 16);
	off = (g0 & 0xffff) | ((g0 >> 32) & 0xffff0000u) | (g1 << 32);
	gs = lma ? 8 : (type & 8) ? 4 : 2;
	ist = lma ? (g0 >> 32) & 7 : 0;
	if ((sel & 0xfffc) == 0)
		emu_raise(cpu, EXC_GP, 1, ext);
	if (emu_read_desc(cpu, sel, &lo, &hi))
		emu_raise(cpu, EXC_GP, 1, (sel & 0xfffc) + ext);
	dpl = (hi >> 13) & 3;
	if (!(hi & 0x1000) || !(hi & 0x800) || dpl > (unsigned)ocpl)
		emu_raise(cpu, EXC_GP, 1, (sel & 0xfffc) + ext);
	if (!(hi & 0x8000))
		emu_raise(cpu, EXC_NP, 1, (sel & 0xfffc) + ext);
	if (lma && (!((hi >> 21) & 1) || ((hi >> 22) & 1)))
		emu_raise(cpu, EXC_GP, 1, (sel & 0xfffc) + ext);
	newcpl = (hi & 0x400) ? ocpl : (int)dpl;
	if (ovm && newcpl != 0)
		emu_raise(cpu, EXC_GP, 1, (sel & 0xfffc) + ext);
	fl = emu_get_flags(cpu);
	memcpy(sds, &cpu->seg[X86_ES], sizeof(sds[0]));
	(void)sds;
	/* new stack */
	if (newcpl < ocpl || ist) {
		if (ist)
			nsp = emu_read_sys(cpu, cpu->seg[X86_TR].base + 0x24 + (ist - 1) * 8, 8),
			nss = (uint16_t)newcpl;
		else
			emu_tss_stack(cpu, newcpl, &nss, &nsp);
		cpu->cpl = newcpl;
		cpu->flags &= ~(uint64_t)FL_VM;
		emu_update_mode(cpu);
		if (lma) {
			if (newcpl != ocpl) {
				cpu->seg[X86_SS].sel = (uint16_t)newcpl;
				cpu->seg[X86_SS].unusable = 1;
				cpu->seg[X86_SS].dpl = newcpl;
			}
		} else {
			emu_load_seg(cpu, X86_SS, nss);
		}
		cpu->gpr[X86_RSP] = nsp;
	}
	if (lma)
		cpu->gpr[X86_RSP] &= ~0xfull;
	/* from here on the CPU runs with the handler's CS */
	{
		struct x86_seg ncs;

		emu_desc_to_seg(&ncs, (uint16_t)((sel & ~3u) | newcpl), lo, hi | 0x100);
		cpu->seg[X86_CS] = ncs;
		cpu->cpl = newcpl;
		cpu->flags &= ~(uint64_t)FL_VM;
		emu_update_mode(cpu);
	}
	if (ovm) {
		emu_push(cpu, gs, cpu->seg[X86_GS].sel);
		emu_push(cpu, gs, cpu->seg[X86_FS].sel);
		emu_push(cpu, gs, cpu->seg[X86_DS].sel);
		emu_push(cpu, gs, cpu->seg[X86_ES].sel);
		for (int i = X86_ES; i <= X86_GS; i++) {
			if (i == X86_CS || i == X86_SS)
				continue;
			cpu->seg[i].sel = 0;
			cpu->seg[i].unusable = 1;
			cpu->seg[i].base = 0;
		}
	}
	if (lma || newcpl < ocpl || ist) {
		emu_push(cpu, gs, oss);
		emu_push(cpu, gs, osp);
	}
	emu_push(cpu, gs, fl);
	emu_push(cpu, gs, ocs);
	emu_push(cpu, gs, ret);
	if (has_err)
		emu_push(cpu, gs, err);
	emu_set_accessed(cpu, sel, hi);
	cpu->flags &= ~(uint64_t)(FL_TF | FL_NT | FL_RF | FL_VM);
	if (!(type & 1))
		cpu->flags &= ~(uint64_t)FL_IF;
	if (gs == 2)
		off &= 0xffff;
	else if (gs == 4)
		off = (uint32_t)off;
	cpu->next_rip = off;
	if (newcpl != ocpl && !lma) {
		/* leaving outer data segments loaded would leak them */
		static const int regs[] = { X86_ES, X86_DS, X86_FS, X86_GS };

		for (unsigned i = 0; i < 4; i++) {
			struct x86_seg *s = &cpu->seg[regs[i]];

			if (!s->unusable && (s->type & 0xc) != 0xc &&
			    s->dpl < newcpl) {
				s->sel = 0;
				s->unusable = 1;
			}
		}
	}
}

void emu_interrupt(struct emu_cpu *cpu, int vec, int kind, int has_err,
		   uint32_t err)
{
	uint64_t ret = (kind == INT_SOFT || kind == INT_ICE ||
			kind == INT_ICEBP) ? cpu->next_rip : cpu->rip;
	int saved_cpl = cpu->cpl;
	uint64_t saved_sp = cpu->gpr[X86_RSP];
	struct x86_seg ss = cpu->seg[X86_SS], cs = cpu->seg[X86_CS];
	uint64_t saved_flags = cpu->flags;

	cpu->in_delivery++;
	cpu->halted = 0;
	if (!cpu->pmode) {
		deliver_real(cpu, vec, ret);
	} else {
		/* a fault while delivering must not leave half a switch: the
		 * registers are restored by the caller's exception path */
		cpu->save_cpl = saved_cpl;
		cpu->save_sp = saved_sp;
		cpu->save_ss = ss;
		cpu->save_cs = cs;
		cpu->save_flags = saved_flags;
		cpu->save_valid = 1;
		deliver_prot(cpu, vec, kind, has_err, err, ret);
		cpu->save_valid = 0;
	}
	cpu->in_delivery--;
}

static int contributory(int v)
{
	return v == EXC_DE || (v >= EXC_TS && v <= EXC_GP);
}

/* Fault-class exceptions push RF = 1 (SDM 17.3.1.1), so that IRET back
 * to the faulting instruction does not hit its instruction breakpoint
 * again; #DB pushes it only for a general-detect fault. */
static int pushes_rf(struct emu_cpu *cpu, int v)
{
	switch (v) {
	case EXC_DE: case EXC_BR: case EXC_UD: case EXC_NM: case EXC_TS:
	case EXC_NP: case EXC_SS: case EXC_GP: case EXC_PF: case EXC_MF:
	case EXC_AC: case EXC_XM:
		return 1;
	case EXC_DB:
		return cpu->db_fault_rf;
	}
	return 0;
}

static int exc_has_code(int v)
{
	return v == EXC_DF || (v >= EXC_TS && v <= EXC_PF) || v == EXC_AC;
}

/* Deliver cpu->exc_*, raised by the instruction at cpu->rip. Returns 0,
 * or -1 on a triple fault. */
static int deliver_exception(struct emu_cpu *cpu)
{
	int vec = cpu->exc_vec;
	int first = cpu->exc_first;

	if (cpu->save_valid) {
		/* unwind a partial delivery */
		cpu->cpl = cpu->save_cpl;
		cpu->gpr[X86_RSP] = cpu->save_sp;
		cpu->seg[X86_SS] = cpu->save_ss;
		cpu->seg[X86_CS] = cpu->save_cs;
		cpu->flags = cpu->save_flags;
		cpu->lf.op = LF_NONE;
		cpu->save_valid = 0;
		emu_update_mode(cpu);
	}
	if (cpu->in_delivery) {
		cpu->in_delivery = 0;
		if (first == EXC_DF)
			return -1;
		if ((contributory(first) && contributory(vec)) ||
		    (first == EXC_PF && (contributory(vec) || vec == EXC_PF))) {
			vec = EXC_DF;
			cpu->exc_has_err = 1;
			cpu->exc_err = 0;
		}
	}
	cpu->exc_first = vec;
	if (cpu->model286 && vec == EXC_GP && !cpu->pmode)
		cpu->exc_has_err = 0;
	if (pushes_rf(cpu, vec) && !cpu->model286)
		cpu->flags |= FL_RF;
	cpu->db_fault_rf = 0;
	emu_interrupt(cpu, vec, INT_EXC,
		      cpu->pmode && exc_has_code(vec) && cpu->exc_has_err,
		      cpu->exc_err);
	cpu->rip = cpu->next_rip;
	return 0;
}

/* ---- fetch and decode ---- */
static int code_mode(struct emu_cpu *cpu)
{
	if (cpu->long64)
		return 64;
	if (cpu->model286)
		return 16 | EMU_DEC_286;
	return cpu->seg[X86_CS].db ? 32 : 16;
}

static uint64_t code_lin(struct emu_cpu *cpu, uint64_t ip)
{
	if (cpu->long64)
		return ip;
	return (uint32_t)(cpu->seg[X86_CS].base + ip);
}

/* Byte-at-a-time fetch for instructions that cross a page, the segment
 * limit or the 64 KiB IP wrap. */
static int decode_slow(struct emu_cpu *cpu, int mode)
{
	uint8_t buf[16];
	unsigned n = 0;
	int r;

	do {
		uint64_t ip = cpu->rip + n;

		if ((mode & 0xff) == 16)
			ip &= 0xffff;
		if (!cpu->long64 && ip > cpu->seg[X86_CS].limit)
			GP(0);
		buf[n] = (uint8_t)emu_fetch_byte(cpu, code_lin(cpu, ip));
		n++;
		r = emu_decode(&cpu->in, buf, n, mode);
	} while (r == -2 && n < 15);
	return r;
}

static void fetch_decode(struct emu_cpu *cpu)
{
	int mode = code_mode(cpu), r;
	uint64_t lin = code_lin(cpu, cpu->rip);
	unsigned avail;
	const uint8_t *p;

	if (!cpu->long64 && cpu->rip + 15 > cpu->seg[X86_CS].limit + 1ull) {
		r = decode_slow(cpu, mode);
	} else {
		const struct emu_tlb_entry *te =
			&cpu->tlb[cpu->cpl == 3][(lin >> 12) % EMU_TLB_SIZE];

		/* the TLB hit inline; misses fill it in mmu.c */
		if (te->tag_x == (lin & ~0xfffull)) {
			p = (const uint8_t *)(uintptr_t)(lin + te->addend);
			avail = 4096 - (lin & 0xfff);
		} else {
			p = emu_fetch_ptr(cpu, lin, &avail);
		}
		if (p && emu_cache_lookup(cpu, lin, p, avail, mode))
			return;
		if (p && avail >= 15)
			r = emu_decode(&cpu->in, p, 15, mode);
		else
			r = p ? emu_decode(&cpu->in, p, avail, mode) : -2;
		if (r == -2) {
			r = decode_slow(cpu, mode);
		} else if (r == 0 && p) {
			cpu->in.fast = emu_fast_pick(&cpu->in, mode);
			emu_cache_store(cpu, lin, p, mode);
			return;
		}
	}
	if (r == 0)
		cpu->in.fast = emu_fast_pick(&cpu->in, mode);
	if (r == -3)
		GP(0);
	if (r < 0)
		emu_ud(cpu);
}

/* #DB as a trap after the instruction: the breakpoints it hit and BS. */
static void db_trap(struct emu_cpu *cpu, uint32_t bits)
{
	if (bits & 0xf)
		cpu->dr[6] = (cpu->dr[6] & ~0xfull) | (bits & 0xf);
	cpu->dr[6] |= bits & ~0xfu;
	emu_interrupt(cpu, EXC_DB, INT_EXC, 0, 0);
	cpu->rip = cpu->next_rip;
}

#define DR6_BS 0x4000u

static void step(struct emu_cpu *cpu)
{
	uint64_t tf = cpu->flags & FL_TF;
	uint32_t bits;

	cpu->db_hits = 0;
	cpu->db_sw_int = 0;
	/* RF suppresses instruction breakpoints for this one instruction
	 * and is cleared when it completes (IRET may set it again) */
	if (cpu->db_exec && !(cpu->flags & FL_RF))
		emu_db_fetch(cpu);
	cpu->flags &= ~(uint64_t)FL_RF;
	fetch_decode(cpu);
	cpu->next_rip = cpu->rip + cpu->in.len;
	if (!cpu->long64 && !cpu->seg[X86_CS].db)
		cpu->next_rip &= 0xffff;
	if (cpu->in.has_modrm && cpu->in.mod != 3)
		cpu->ea = ea_calc(cpu);
	if (cpu->in.fast)
		cpu->in.fast(cpu, &cpu->in);
	else
		emu_exec(cpu);
	cpu->rip = cpu->next_rip;
	cpu->icount++;
	if (cpu->shadow && !--cpu->shadow)
		cpu->shadow_ss = 0;
	/* SYSCALL and SYSRET trap on the TF they end with (SYSCALL's mask
	 * may clear it, SYSRET's R11 set it); an INT n, INT3, INTO or ICEBP
	 * enters its handler with TF clear and no single-step trap */
	if (cpu->in.op == 0x105 || cpu->in.op == 0x107)
		tf = cpu->flags & FL_TF;
	if (cpu->db_sw_int)
		tf = 0;
	bits = cpu->db_hits | (tf ? DR6_BS : 0) | cpu->db_held;
	cpu->db_held = 0;
	if (!bits)
		return;
	/* MOV SS / POP SS hold their traps until after the next instruction */
	if (cpu->shadow_ss && cpu->shadow) {
		cpu->db_held = bits;
		return;
	}
	db_trap(cpu, bits);
}

/* 0 when every instruction must take step() (TF, a shadow). */
static int fetch_ctx(struct emu_cpu *cpu, struct fetch_ctx *f)
{
	uint64_t lim;

	if ((cpu->flags & (FL_TF | FL_RF)) || cpu->shadow || !cpu->cache ||
	    cpu->db_exec || cpu->db_data || cpu->db_io || cpu->db_held)
		return 0;
	f->mode = code_mode(cpu);
	f->user = cpu->cpl == 3;
	if (cpu->long64) {
		f->cs_base = f->cs_limit = 0;
		f->lin_mask = f->ip_mask = ~0ull;
		f->rip_max = ~0ull - 16;
		return 1;
	}
	lim = cpu->seg[X86_CS].limit;
	f->cs_base = cpu->seg[X86_CS].base;
	f->cs_limit = lim;
	f->lin_mask = 0xffffffffull;
	f->ip_mask = cpu->seg[X86_CS].db ? 0xffffffffull : 0xffff;
	/* step() decodes byte by byte past limit - 14 */
	if (lim < 14)
		return 0;
	f->rip_max = lim - 14;
	return 1;
}

/* Up to n instructions; the common case (a TLB hit on a block of cached
 * decodes) runs blocks, everything else goes through step(). */
static void burst(struct emu_cpu *cpu, uint64_t n, int hard)
{
	struct fetch_ctx f;
	int ok = fetch_ctx(cpu, &f);

	do {
		uint64_t rip = cpu->rip, lin;
		const struct emu_tlb_entry *te;
		unsigned k;
		int dirty = 0;

		if (!ok)
			goto slow;
		lin = (f.cs_base + rip) & f.lin_mask;
		te = &cpu->tlb[f.user][(lin >> 12) % EMU_TLB_SIZE];
		if (rip > f.rip_max || te->tag_x != (lin & ~0xfffull))
			goto slow;
		k = emu_block_run(cpu, &f, lin,
				  (const uint8_t *)(uintptr_t)(lin + te->addend),
				  n, hard, &dirty);
		if (!k)
			goto slow;
		n = k < n ? n - k : 0;
		if (dirty)
			ok = fetch_ctx(cpu, &f);
		continue;
slow:
		step(cpu);
		cpu->exc_first = -1;
		ok = fetch_ctx(cpu, &f);
		n--;
	} while (n && !cpu->halted && !emu_irq_ready(cpu));
}

static int take_interrupt(struct emu_cpu *cpu)
{
	int vec;

	if (cpu->nmi_pending) {
		cpu->nmi_pending = 0;
		cpu->next_rip = cpu->rip;
		emu_interrupt(cpu, EXC_NMI, INT_EXT, 0, 0);
		cpu->rip = cpu->next_rip;
		return 1;
	}
	if (!(cpu->flags & FL_IF) || cpu->shadow)
		return 0;
	atomic_store(&cpu->irq_pending, 0);
	vec = cpu->host->intr_ack ? cpu->host->intr_ack(cpu->host->opaque) : -1;
	if (vec < 0)
		return 0;
	/* more may be pending: look again after this one */
	atomic_store(&cpu->irq_pending, 1);
	cpu->next_rip = cpu->rip;
	emu_interrupt(cpu, vec, INT_EXT, 0, 0);
	cpu->rip = cpu->next_rip;
	return 1;
}

#define BURST 256

int emu_run(struct emu_cpu *cpu, uint64_t max_insns)
{
	cpu->limit = max_insns ? cpu->icount + max_insns : ~0ull;
	if (setjmp(cpu->jb)) {
		/* a fault inside a block: its instructions before the
		 * faulting one retired, RIP is the faulting one's */
		if (cpu->blk_cur) {
			cpu->rip = cpu->blk_cur->nrip - cpu->blk_cur->len;
			cpu->icount += (uint64_t)(cpu->blk_cur - cpu->blk_first);
			cpu->blk_cur = NULL;
		}
		cpu->blk_page = ~0ull; /* the fault may have left a block */
		if (deliver_exception(cpu)) {
			cpu->shutdown = 1;
			return EMU_STOP_SHUTDOWN;
		}
		cpu->exc_first = -1;
		if (cpu->stop_on_exc)
			return EMU_STOP_ICOUNT;
	}
	for (;;) {
		if (atomic_load_explicit(&cpu->kick, memory_order_relaxed)) {
			atomic_store(&cpu->kick, 0);
			return EMU_STOP_KICK;
		}
		if (cpu->icount >= cpu->limit)
			return EMU_STOP_ICOUNT;
		if ((atomic_load_explicit(&cpu->irq_pending, memory_order_relaxed) ||
		     cpu->nmi_pending) && take_interrupt(cpu))
			continue;
		if (cpu->halted)
			return (cpu->flags & FL_IF) ? EMU_STOP_HLT_WAIT :
						      EMU_STOP_HALT;
		/* a burst between checks: kicks and interrupts are noticed
		 * within BURST instructions, like any asynchronous event */
		{
			uint64_t n = cpu->limit - cpu->icount;
			/* blocks may overrun a burst, not the limit */
			int hard = n < BURST + EMU_BLK_MAX;

			if (n > BURST)
				n = BURST;
			burst(cpu, n, hard);
		}
	}
}

void emu_kick(struct emu_cpu *cpu)
{
	atomic_store(&cpu->kick, 1);
}

void emu_irq_notify(struct emu_cpu *cpu)
{
	atomic_store(&cpu->irq_pending, 1);
}

/* ---- state ---- */
/* Power-on state: real mode at F000:FFF0. */
static void reset_state(struct x86_state *st)
{
	int i;

	memset(st, 0, sizeof(*st));
	st->rip = 0xfff0;
	st->rflags = 2;
	st->gpr[X86_RDX] = 0x600;
	for (i = 0; i < 6; i++) {
		st->seg[i].limit = 0xffff;
		st->seg[i].type = i == X86_CS ? 0xb : 0x3;
		st->seg[i].s = 1;
		st->seg[i].present = 1;
	}
	st->seg[X86_CS].sel = 0xf000;
	st->seg[X86_CS].base = 0xffff0000ull;
	st->seg[X86_LDTR].limit = 0xffff;
	st->seg[X86_LDTR].type = 2;
	st->seg[X86_LDTR].present = 1;
	st->seg[X86_TR].limit = 0xffff;
	st->seg[X86_TR].type = 0xb;
	st->seg[X86_TR].present = 1;
	st->gdt.limit = st->idt.limit = 0xffff;
	st->cr0 = 0x60000010;
	st->apic_base = 0xfee00900;
}

static void power_on(struct emu_cpu *cpu)
{
	struct x86_state st;

	cpu->exc_first = -1;
	cpu->blk_page = ~0ull;
	emu_tlb_flush(cpu);
	reset_state(&st);
	emu_set_state(cpu, &st);
	emu_fpu_reset(cpu);
	cpu->pat = 0x0007040600070406ull;
	cpu->misc_enable = 1;
	cpu->xcr0 = 3;
}

void emu_cpu_init(struct emu_cpu *cpu, const struct emu_host *host)
{
	memset(cpu, 0, sizeof(*cpu));
	cpu->host = host;
	emu_cache_init(cpu);
	emu_block_init(cpu);
	power_on(cpu);
}

void emu_cpu_reset(struct emu_cpu *cpu)
{
	const struct emu_host *host = cpu->host;
	void *cache = cpu->cache, *blocks = cpu->blocks, *hostfp = cpu->hostfp;

	/* cached decodes stay: they are checked against the code bytes */
	memset(cpu, 0, sizeof(*cpu));
	cpu->host = host;
	cpu->cache = cache;
	cpu->blocks = blocks;
	cpu->hostfp = hostfp;
	power_on(cpu);
}

void emu_cpu_free(struct emu_cpu *cpu)
{
	emu_cache_free(cpu);
	emu_block_free(cpu);
	emu_hostfp_free(cpu);
}

void emu_set_state(struct emu_cpu *cpu, const struct x86_state *st)
{
	memcpy(cpu->gpr, st->gpr, sizeof(cpu->gpr));
	cpu->rip = st->rip;
	cpu->flags = st->rflags | 2;
	cpu->lf.op = LF_NONE;
	memcpy(cpu->seg, st->seg, sizeof(cpu->seg));
	cpu->gdt = st->gdt;
	cpu->idt = st->idt;
	cpu->cr0 = st->cr0;
	cpu->cr2 = st->cr2;
	cpu->cr3 = st->cr3;
	cpu->cr4 = st->cr4;
	cpu->cr8 = st->cr8;
	cpu->efer = st->efer;
	cpu->apic_base = st->apic_base;
	cpu->halted = 0;
	cpu->shadow = cpu->shadow_ss = 0;
	cpu->db_held = 0;
	emu_update_mode(cpu);
	if (cpu->pmode && !cpu->vm86)
		cpu->cpl = cpu->seg[X86_SS].dpl;
	emu_set_flags(cpu, cpu->flags, ~0ull);
	emu_tlb_flush(cpu);
}

void emu_get_state(struct emu_cpu *cpu, struct x86_state *st)
{
	memcpy(st->gpr, cpu->gpr, sizeof(cpu->gpr));
	st->rip = cpu->rip;
	st->rflags = emu_get_flags(cpu);
	memcpy(st->seg, cpu->seg, sizeof(cpu->seg));
	st->gdt = cpu->gdt;
	st->idt = cpu->idt;
	st->cr0 = cpu->cr0;
	st->cr2 = cpu->cr2;
	st->cr3 = cpu->cr3;
	st->cr4 = cpu->cr4;
	st->cr8 = cpu->cr8;
	st->efer = cpu->efer;
	st->apic_base = cpu->apic_base;
}
