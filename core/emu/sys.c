/*
 * System instructions: control/debug registers, descriptor tables,
 * LAR/LSL/VERR/VERW, CPUID, MSRs, TSC, SYSCALL/SYSRET, SYSENTER/SYSEXIT,
 * SWAPGS, INVLPG.
 */
#include <string.h>

#include "../cpumodel.h"
#include "alu.h"
#include "seg.h"

#define CPL0() do { if (cpu->pmode && cpu->cpl) GP(0); } while (0)

/* ---- CPUID: advertise exactly what the interpreter implements ---- */
/* FPU PSE TSC MSR PAE CX8 APIC SEP PGE CMOV PAT CLFSH MMX FXSR SSE SSE2 */
#define CPUID1_EDX (1u << 0 | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 6 | \
		    1u << 8 | 1u << 9 | 1u << 11 | 1u << 13 | 1u << 15 | \
		    1u << 16 | 1u << 19 | 1u << 23 | 1u << 24 | 1u << 25 | \
		    1u << 26)
/* CX16 x2APIC POPCNT TSC-deadline HV */
#define CPUID1_ECX (1u << 13 | 1u << 21 | 1u << 23 | 1u << 24 | 1u << 31)
#define CPUID81_EDX (1u << 11 | 1u << 20 | 1u << 26 | 1u << 27 | 1u << 29)
#define CPUID81_ECX (1u << 0) /* LAHF/SAHF in 64-bit mode */

void emu_cpuid(struct emu_cpu *cpu, uint32_t leaf, uint32_t sub,
	       uint32_t out[4])
{
	emu_cpuid_raw(cpu->apic_id, leaf, sub, out);
	if (cpu->host->model)
		cpumodel_apply(cpu->host->model, leaf, sub, out);
}

/*
 * What a hidden feature takes away on accel=emu: POPCNT, CMPXCHG16B
 * (cx16), RDTSCP, SYSENTER/SYSEXIT (sep), LAHF/SAHF in 64-bit mode
 * (lahf-lm) raise #UD; EFER.NXE (nx) and EFER.LME (lm) cannot be set.
 */
int emu_has(struct emu_cpu *cpu, unsigned f)
{
	return !cpu->host->model || cpumodel_allows(cpu->host->model, f);
}

void emu_cpuid_raw(uint32_t apic, uint32_t leaf, uint32_t sub,
		   uint32_t out[4])
{
	static const char brand[48] = "hv emu x86-64 interpreter";
	uint32_t apic_id = apic & 0xff;

	memset(out, 0, 16);
	switch (leaf) {
	case 0:
		out[0] = 0x16;
		memcpy(&out[1], "Genu", 4);
		memcpy(&out[3], "ineI", 4);
		memcpy(&out[2], "ntel", 4);
		break;
	case 1:
		out[0] = 0x000106a5; /* family 6 */
		out[1] = apic_id << 24 | 1u << 16 | 8u << 8;
		out[2] = CPUID1_ECX;
		out[3] = CPUID1_EDX;
		break;
	case 0x15:
		/* The TSC and the crystal the local APIC timer counts are the
		 * guest clock, 1 GHz: Linux takes the TSC's frequency (and the
		 * APIC timer's) from here, known, instead of calibrating it
		 * against the PIT and refining it a second later */
		out[0] = 1;
		out[1] = 1;
		out[2] = 1000000000;
		break;
	case 0x16: /* base, maximum and bus frequency in MHz */
		out[0] = out[1] = out[2] = 1000;
		break;
	case 0x40000000:
		/* KVM's signature, as on accel=kvm: VMCALL/VMMCALL answer as
		 * KVM does (hypercall()); 0x40000001 offers no PV feature */
		memcpy(&out[1], "KVMKVMKVM\0\0\0", 12);
		out[0] = 0x40000001;
		break;
	case 0x80000000:
		out[0] = 0x80000008;
		break;
	case 0x80000001:
		out[2] = CPUID81_ECX;
		out[3] = CPUID81_EDX;
		break;
	case 0x80000002: case 0x80000003: case 0x80000004:
		memcpy(out, brand + (leaf - 0x80000002) * 16, 16);
		break;
	case 0x80000008:
		out[0] = 0x3028; /* 40 physical, 48 linear address bits */
		break;
	}
	(void)sub;
}

/* ---- MSRs ---- */
static uint64_t tsc_now(struct emu_cpu *cpu)
{
	/* 1 GHz: the guest clock in ns is the TSC */
	return cpu->host->clock_ns(cpu->host->opaque) + cpu->tsc_offset;
}

static int apic_msr(struct emu_cpu *cpu, uint32_t idx, int w, uint64_t *v)
{
	if (!cpu->host->apic_msr)
		return idx == 0x1b && w ? 0 : -1;
	return cpu->host->apic_msr(cpu->host->opaque, idx, w, v);
}

int emu_rdmsr(struct emu_cpu *cpu, uint32_t idx, uint64_t *v)
{
	if (idx == 0x6e0 || (idx >= 0x800 && idx < 0x900))
		return apic_msr(cpu, idx, 0, v);
	switch (idx) {
	case 0x10: *v = tsc_now(cpu); break;
	case 0x1b: *v = cpu->apic_base; break;
	case 0x3a: *v = cpu->feat_ctl; break;
	case 0x8b: case 0x179: case 0x17a: case 0x1d9:
	case 0xfe:
		*v = 0;
		break;
	case 0x3b: /* IA32_TSC_ADJUST: CPUID.7.EBX[1], which emu_cpuid lacks */
		return -1;
	case 0x174: *v = cpu->sysenter_cs; break;
	case 0x175: *v = cpu->sysenter_esp; break;
	case 0x176: *v = cpu->sysenter_eip; break;
	case 0x1a0: *v = cpu->misc_enable; break;
	case 0x277: *v = cpu->pat; break;
	case 0x2ff: *v = cpu->mtrr_def; break;
	case 0xc0000080: *v = cpu->efer; break;
	case 0xc0000081: *v = cpu->star; break;
	case 0xc0000082: *v = cpu->lstar; break;
	case 0xc0000083: *v = cpu->cstar; break;
	case 0xc0000084: *v = cpu->sfmask; break;
	case 0xc0000100: *v = cpu->seg[X86_FS].base; break;
	case 0xc0000101: *v = cpu->seg[X86_GS].base; break;
	case 0xc0000102: *v = cpu->kgs_base; break;
	case 0xc0000103:
		if (!emu_has(cpu, CPUF_RDTSCP))
			return -1;
		*v = cpu->tsc_aux;
		break;
	default:
		if (idx >= 0x200 && idx < 0x270) {
			*v = 0;
			break;
		}
		return -1;
	}
	return 0;
}

static int canon(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static int wr_efer(struct emu_cpu *cpu, uint64_t v)
{
	uint64_t ok = X86_EFER_SCE | X86_EFER_LME | X86_EFER_NXE;

	if (!emu_has(cpu, CPUF_NX))
		ok &= ~(uint64_t)X86_EFER_NXE;
	if (!emu_has(cpu, CPUF_LM))
		ok &= ~(uint64_t)X86_EFER_LME;

	if (v & ~(ok | X86_EFER_LMA))
		return -1;
	if ((cpu->cr0 & X86_CR0_PG) &&
	    ((v ^ cpu->efer) & X86_EFER_LME))
		return -1;
	cpu->efer = (v & ok) | (cpu->efer & X86_EFER_LMA);
	emu_tlb_flush(cpu);
	return 0;
}

int emu_wrmsr(struct emu_cpu *cpu, uint32_t idx, uint64_t v)
{
	if (idx == 0x6e0 || (idx >= 0x800 && idx < 0x900))
		return apic_msr(cpu, idx, 1, &v);
	switch (idx) {
	case 0x10: cpu->tsc_offset = v - (tsc_now(cpu) - cpu->tsc_offset); break;
	case 0x1b:
		if (apic_msr(cpu, idx, 1, &v))
			return -1;
		cpu->apic_base = (v & ~0x100ull) | (cpu->apic_base & 0x100);
		emu_tlb_flush(cpu);
		break;
	case 0x3a: /* IA32_FEATURE_CONTROL: lock it, enable nothing */
		if ((cpu->feat_ctl & 1) || (v & ~1ull))
			return -1;
		cpu->feat_ctl = v;
		break;
	case 0x3b: return -1;
	case 0x8b: case 0x179: case 0x17a: case 0x1d9: break;
	case 0x174: cpu->sysenter_cs = v & 0xffff; break;
	case 0x175: if (!canon(v)) return -1; cpu->sysenter_esp = v; break;
	case 0x176: if (!canon(v)) return -1; cpu->sysenter_eip = v; break;
	case 0x1a0: cpu->misc_enable = v; break;
	case 0x277: cpu->pat = v; break;
	case 0x2ff: cpu->mtrr_def = v; break;
	case 0xc0000080: return wr_efer(cpu, v);
	case 0xc0000081: cpu->star = v; break;
	case 0xc0000082: if (!canon(v)) return -1; cpu->lstar = v; break;
	case 0xc0000083: if (!canon(v)) return -1; cpu->cstar = v; break;
	case 0xc0000084: cpu->sfmask = (uint32_t)v; break;
	case 0xc0000100: if (!canon(v)) return -1; cpu->seg[X86_FS].base = v; break;
	case 0xc0000101: if (!canon(v)) return -1; cpu->seg[X86_GS].base = v; break;
	case 0xc0000102: if (!canon(v)) return -1; cpu->kgs_base = v; break;
	case 0xc0000103:
		/* TSC_AUX exists with RDTSCP (the interpreter has no RDPID) */
		if (!emu_has(cpu, CPUF_RDTSCP))
			return -1;
		cpu->tsc_aux = (uint32_t)v;
		break;
	default:
		if (idx >= 0x200 && idx < 0x270)
			break;
		return -1;
	}
	return 0;
}

/* ---- control registers ---- */
static void set_cr0(struct emu_cpu *cpu, uint64_t v)
{
	uint64_t old = cpu->cr0;

	v |= X86_CR0_ET;
	if ((v >> 32) || ((v & X86_CR0_PG) && !(v & X86_CR0_PE)) ||
	    ((v & 0x20000000) && !(v & 0x40000000)))
		GP(0);
	if ((v & X86_CR0_PG) && !(old & X86_CR0_PG) &&
	    (cpu->efer & X86_EFER_LME)) {
		if (!(cpu->cr4 & X86_CR4_PAE) || cpu->seg[X86_CS].l)
			GP(0);
		cpu->efer |= X86_EFER_LMA;
	}
	if (!(v & X86_CR0_PG) && (old & X86_CR0_PG) &&
	    (cpu->efer & X86_EFER_LMA)) {
		if (cpu->long64)
			GP(0);
		cpu->efer &= ~X86_EFER_LMA;
	}
	cpu->cr0 = v;
	emu_update_mode(cpu);
	emu_tlb_flush(cpu);
}

#define CR4_OK (0x1ull | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x80 | 0x100 | \
		0x200 | 0x400)

static void set_cr4(struct emu_cpu *cpu, uint64_t v)
{
	if (v & ~CR4_OK)
		GP(0);
	if ((cpu->efer & X86_EFER_LMA) && !(v & X86_CR4_PAE))
		GP(0);
	cpu->cr4 = v;
	emu_db_update(cpu); /* CR4.DE arms or disarms I/O breakpoints */
}

static void mov_cr(struct emu_cpu *cpu)
{
	struct emu_insn *in = &cpu->in;
	unsigned n = in->reg, sz = cpu->long64 ? 8 : 4;
	int to = in->op == 0x122;
	uint64_t v;

	CPL0();
	if (in->lock && n == 0)
		n = 8; /* AMD's LOCK MOV CR0 alias for CR8 */
	if (!to) {
		switch (n) {
		case 0: v = cpu->cr0; break;
		case 2: v = cpu->cr2; break;
		case 3: v = cpu->cr3; break;
		case 4: v = cpu->cr4; break;
		case 8: v = cpu->cr8; break;
		default: UD();
		}
		reg_set(cpu, in->rm, sz, v);
		return;
	}
	v = reg_get(cpu, in->rm, sz);
	switch (n) {
	case 0: set_cr0(cpu, v); break;
	case 2: cpu->cr2 = v; break;
	case 3: cpu->cr3 = v; emu_tlb_flush(cpu); break;
	case 4: set_cr4(cpu, v); break;
	case 8: cpu->cr8 = v & 15; break;
	default: UD();
	}
}

/* ---- descriptor tables ---- */
static void lgdt_lidt(struct emu_cpu *cpu, struct x86_dtable *t)
{
	unsigned bsz = cpu->long64 ? 8 : 4;
	uint64_t base;
	uint16_t lim;

	CPL0();
	if (cpu->in.mod == 3)
		UD();
	lim = (uint16_t)mem_read(cpu, cpu->in.seg, cpu->ea, 2);
	base = mem_read(cpu, cpu->in.seg, (cpu->ea + 2) & amask(cpu->in.asize), bsz);
	if (!cpu->long64 && cpu->in.osize == 2)
		base &= 0xffffff;
	if (cpu->long64 && !canon(base))
		GP(0);
	t->base = base;
	t->limit = lim;
}

static void sgdt_sidt(struct emu_cpu *cpu, const struct x86_dtable *t)
{
	unsigned bsz = cpu->long64 ? 8 : 4;

	if (cpu->in.mod == 3)
		UD();
	mem_write(cpu, cpu->in.seg, cpu->ea, 2, t->limit);
	mem_write(cpu, cpu->in.seg, (cpu->ea + 2) & amask(cpu->in.asize), bsz,
		  t->base);
}

static void lldt_ltr(struct emu_cpu *cpu, int tr)
{
	uint16_t sel = (uint16_t)rm_read(cpu, 2);
	struct x86_seg *s = &cpu->seg[tr ? X86_TR : X86_LDTR], tmp;
	uint32_t lo, hi;
	unsigned type;

	if (!cpu->pmode || cpu->vm86)
		UD();
	CPL0();
	if ((sel & 0xfffc) == 0) {
		if (tr)
			GP(0);
		s->sel = sel;
		s->unusable = 1;
		s->present = 0;
		return;
	}
	if ((sel & 4) || emu_read_desc(cpu, sel, &lo, &hi))
		emu_raise(cpu, EXC_GP, 1, sel & 0xfffc);
	type = (hi >> 8) & 0x1f;
	/* long mode has no 16-bit TSS */
	if (tr ? (type != 0x09 && (type != 0x01 || (cpu->efer & X86_EFER_LMA))) :
		 type != 0x02)
		emu_raise(cpu, EXC_GP, 1, sel & 0xfffc);
	if (!(hi & 0x8000))
		emu_raise(cpu, EXC_NP, 1, sel & 0xfffc);
	emu_desc_to_seg(&tmp, sel, lo, hi);
	if (cpu->efer & X86_EFER_LMA) {
		/* a 16-byte descriptor: its upper half must fit the GDT,
		 * have a zero type field, and the base be canonical */
		uint64_t up;

		if ((sel & ~7u) + 15u > cpu->gdt.limit)
			emu_raise(cpu, EXC_GP, 1, sel & 0xfffc);
		up = emu_read_sys(cpu, cpu->gdt.base + (sel & ~7u) + 8, 8);
		tmp.base |= (up & 0xffffffffull) << 32;
		if (((up >> 40) & 0x1f) || !canon(tmp.base))
			emu_raise(cpu, EXC_GP, 1, sel & 0xfffc);
	}
	*s = tmp;
	if (tr) {
		/* mark busy */
		emu_write_sys(cpu, cpu->gdt.base + (sel & ~7u) + 5, 1,
			      ((hi >> 8) & 0xff) | 2);
		s->type |= 2;
	}
}

/* LAR/LSL/VERR/VERW: ZF says whether the selector qualifies. */
static int sel_visible(struct emu_cpu *cpu, uint16_t sel, uint32_t *lo,
		       uint32_t *hi)
{
	unsigned dpl, type;

	if ((sel & 0xfffc) == 0 || emu_read_desc(cpu, sel, lo, hi))
		return 0;
	dpl = (*hi >> 13) & 3;
	type = (*hi >> 8) & 0x1f;
	/* conforming code is visible from any level */
	if ((type & 0x1c) == 0x1c)
		return 1;
	return dpl >= (unsigned)cpu->cpl && dpl >= (sel & 3u);
}

static void lar_lsl(struct emu_cpu *cpu, int lsl)
{
	uint16_t sel = (uint16_t)rm_read(cpu, 2);
	uint32_t lo, hi;
	unsigned type;
	int ok;

	if (!cpu->pmode || cpu->vm86)
		UD();
	ok = sel_visible(cpu, sel, &lo, &hi);
	type = (hi >> 8) & 0x1f;
	if (ok && !(type & 0x10)) {
		static const uint32_t lar_ok = 0x3e, lsl_ok = 0x0e; /* 1,2,3,9,b ... */
		unsigned t = type & 0xf;

		(void)lar_ok;
		(void)lsl_ok;
		ok = t == 1 || t == 2 || t == 3 || t == 9 || t == 0xb ||
		     (!lsl && (t == 4 || t == 5 || t == 0xc));
		if (cpu->efer & X86_EFER_LMA)
			ok = t == 2 || t == 9 || t == 0xb || (!lsl && t == 0xc);
	}
	if (!ok) {
		emu_set_flags(cpu, 0, FL_ZF);
		return;
	}
	if (lsl) {
		uint32_t lim = (lo & 0xffff) | (hi & 0xf0000);

		if (hi & 0x800000)
			lim = lim << 12 | 0xfff;
		reg_set(cpu, cpu->in.reg, cpu->in.osize, lim);
	} else {
		reg_set(cpu, cpu->in.reg, cpu->in.osize, hi & 0x00f0ff00);
	}
	emu_set_flags(cpu, FL_ZF, FL_ZF);
}

static void verr_verw(struct emu_cpu *cpu, int w)
{
	uint16_t sel = (uint16_t)rm_read(cpu, 2);
	uint32_t lo, hi;
	unsigned type;
	int ok;

	if (!cpu->pmode || cpu->vm86)
		UD();
	ok = sel_visible(cpu, sel, &lo, &hi) && (hi & 0x1000);
	type = (hi >> 8) & 0xf;
	if (ok)
		ok = w ? !(type & 8) && (type & 2) : !(type & 8) || (type & 2);
	emu_set_flags(cpu, ok ? FL_ZF : 0, FL_ZF);
}

static void grp6(struct emu_cpu *cpu)
{
	unsigned r = cpu->in.reg & 7;

	if (!cpu->pmode || cpu->vm86)
		UD();
	switch (r) {
	case 0: rm_write(cpu, cpu->in.mod == 3 ? cpu->in.osize : 2, cpu->seg[X86_LDTR].sel); break;
	case 1: rm_write(cpu, cpu->in.mod == 3 ? cpu->in.osize : 2, cpu->seg[X86_TR].sel); break;
	case 2: lldt_ltr(cpu, 0); break;
	case 3: lldt_ltr(cpu, 1); break;
	case 4: verr_verw(cpu, 0); break;
	case 5: verr_verw(cpu, 1); break;
	default: UD();
	}
}

static void swapgs(struct emu_cpu *cpu)
{
	uint64_t t;

	if (!cpu->long64)
		UD();
	CPL0();
	t = cpu->seg[X86_GS].base;
	cpu->seg[X86_GS].base = cpu->kgs_base;
	cpu->kgs_base = t;
}

static void rdtsc(struct emu_cpu *cpu, int p)
{
	uint64_t t;

	if ((cpu->cr4 & 4) && cpu->pmode && cpu->cpl)
		GP(0);
	t = tsc_now(cpu);
	reg_set(cpu, X86_RAX, 4, (uint32_t)t);
	reg_set(cpu, X86_RDX, 4, t >> 32);
	if (p)
		reg_set(cpu, X86_RCX, 4, cpu->tsc_aux);
}

/*
 * VMCALL and VMMCALL as KVM answers them (CPUID 0x40000000 says KVM on
 * both backends): RAX = the result, -KVM_EPERM above CPL 0, 0 for
 * KVM_HC_VAPIC_POLL_IRQ, -KVM_ENOSYS for every other number (hv offers
 * no PV features in 0x40000001). Outside 64-bit mode the number and the
 * result are 32-bit, as in KVM's kvm_emulate_hypercall().
 */
#define KVM_HC_VAPIC_POLL_IRQ 1
#define KVM_ENOSYS 1000
#define KVM_EPERM 1

static void hypercall(struct emu_cpu *cpu)
{
	uint64_t nr = cpu->gpr[X86_RAX], ret;

	if (!cpu->long64)
		nr = (uint32_t)nr;
	if ((cpu->pmode && cpu->cpl) || cpu->vm86)
		ret = (uint64_t)-KVM_EPERM;
	else if (nr == KVM_HC_VAPIC_POLL_IRQ)
		ret = 0;
	else
		ret = (uint64_t)-KVM_ENOSYS;
	cpu->gpr[X86_RAX] = cpu->long64 ? ret : (uint32_t)ret;
}

static void grp7(struct emu_cpu *cpu)
{
	struct emu_insn *in = &cpu->in;
	unsigned r = in->reg & 7;

	if (in->mod == 3) {
		unsigned sub = (r << 3) | (in->rm & 7);

		switch (sub) {
		case 0x01: hypercall(cpu); return; /* 0F 01 C1 VMCALL */
		case 0x19: hypercall(cpu); return; /* 0F 01 D9 VMMCALL */
		case 0x38: swapgs(cpu); return;   /* 0F 01 F8 */
		case 0x39: /* 0F 01 F9 RDTSCP */
			if (!emu_has(cpu, CPUF_RDTSCP))
				UD();
			rdtsc(cpu, 1);
			return;
		}
		if (r == 4) { /* SMSW reg */
			reg_set(cpu, in->rm, in->osize, cpu->cr0);
			return;
		}
		if (r == 6)
			goto lmsw;
		UD();
	}
	switch (r) {
	case 0: sgdt_sidt(cpu, &cpu->gdt); break;
	case 1: sgdt_sidt(cpu, &cpu->idt); break;
	case 2: lgdt_lidt(cpu, &cpu->gdt); break;
	case 3: lgdt_lidt(cpu, &cpu->idt); break;
	case 4: mem_write(cpu, in->seg, cpu->ea, 2, cpu->cr0); break;
	case 6:
lmsw: {
		uint64_t v = rm_read(cpu, 2) & 0xf;

		CPL0();
		/* LMSW sets PE but never clears it */
		set_cr0(cpu, (cpu->cr0 & ~0xeull) | v | (cpu->cr0 & 1));
		break;
	}
	case 7: /* INVLPG */
		CPL0();
		emu_invlpg(cpu, emu_seg_addr(cpu, in->seg, cpu->ea, 1, 0));
		break;
	default:
		UD();
	}
}

/* ---- fast system calls ---- */
static void flat_seg(struct x86_seg *s, uint16_t sel, int code, int dpl,
		     int l)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffff;
	s->type = code ? 0xb : 0x3;
	s->s = 1;
	s->dpl = (uint8_t)dpl;
	s->present = 1;
	s->l = (uint8_t)l;
	s->db = !l;
	s->g = 1;
	s->unusable = 0;
}

/*
 * SYSCALL (SDM Vol. 2B): CS = STAR[47:32] with RPL forced to 0, SS =
 * STAR[47:32] + 8 as it stands (its RPL bits are not cleared), both with
 * fixed flat descriptors that are not read from the GDT. A later MOV SS
 * from the GDT therefore sees whatever the GDT holds, as on hardware.
 */
static void syscall(struct emu_cpu *cpu)
{
	uint16_t star = (uint16_t)(cpu->star >> 32);
	uint64_t f = emu_get_flags(cpu);

	if (!(cpu->efer & X86_EFER_SCE) || !cpu->pmode)
		UD();
	flat_seg(&cpu->seg[X86_SS], (uint16_t)(star + 8), 0, 0, 0);
	if (cpu->efer & X86_EFER_LMA) {
		cpu->gpr[X86_RCX] = cpu->next_rip;
		cpu->gpr[X86_R11] = f & ~(uint64_t)FL_RF;
		/* LSTAR from 64-bit code, CSTAR from compatibility mode; both
		 * enter 64-bit code */
		cpu->next_rip = cpu->long64 ? cpu->lstar : cpu->cstar;
		flat_seg(&cpu->seg[X86_CS], star & 0xfffc, 1, 0, 1);
		cpu->cpl = 0;
		emu_update_mode(cpu);
		emu_set_flags(cpu, f & ~cpu->sfmask & ~(uint64_t)FL_RF, ~0ull);
		return;
	}
	cpu->gpr[X86_RCX] = (uint32_t)cpu->next_rip;
	flat_seg(&cpu->seg[X86_CS], star & 0xfffc, 1, 0, 0);
	cpu->cpl = 0;
	emu_update_mode(cpu);
	emu_set_flags(cpu, f & ~(uint64_t)(FL_VM | FL_IF | FL_RF), ~0ull);
	cpu->next_rip = (uint32_t)cpu->star;
}

static void sysret(struct emu_cpu *cpu)
{
	uint16_t sel = (uint16_t)(cpu->star >> 48);
	int w = !!(cpu->in.rex & 8);

	if (!(cpu->efer & X86_EFER_SCE) || !cpu->pmode)
		UD();
	CPL0();
	if (cpu->efer & X86_EFER_LMA) {
		/* Intel's rule (the vendor emu_cpuid shows): #GP(0) in ring 0
		 * before anything changes. AMD CPUs complete SYSRET and fault
		 * on the fetch in ring 3 instead. */
		if (w && !canon(cpu->gpr[X86_RCX]))
			GP(0);
		if (w)
			flat_seg(&cpu->seg[X86_CS], (sel + 16) | 3, 1, 3, 1);
		else
			flat_seg(&cpu->seg[X86_CS], sel | 3, 1, 3, 0);
		cpu->next_rip = w ? cpu->gpr[X86_RCX] : (uint32_t)cpu->gpr[X86_RCX];
		emu_set_flags(cpu, (cpu->gpr[X86_R11] & 0x3c7fd7) | 2, ~0ull);
	} else {
		flat_seg(&cpu->seg[X86_CS], sel | 3, 1, 3, 0);
		cpu->next_rip = (uint32_t)cpu->gpr[X86_RCX];
		cpu->flags |= FL_IF;
	}
	/* SS keeps its cached flat attributes with the new selector */
	cpu->seg[X86_SS].sel = (sel + 8) | 3;
	cpu->seg[X86_SS].dpl = 3;
	cpu->seg[X86_SS].unusable = 0;
	cpu->seg[X86_SS].present = 1;
	cpu->seg[X86_SS].type = 3;
	cpu->seg[X86_SS].s = 1;
	cpu->seg[X86_SS].db = 1;
	cpu->seg[X86_SS].g = 1;
	cpu->seg[X86_SS].base = 0;
	cpu->seg[X86_SS].limit = 0xffffffff;
	cpu->cpl = 3;
	emu_update_mode(cpu);
}

static void sysenter(struct emu_cpu *cpu)
{
	uint16_t cs = (uint16_t)cpu->sysenter_cs & 0xfffc;
	int lma = !!(cpu->efer & X86_EFER_LMA);

	if (!cpu->pmode || cs == 0)
		GP(0);
	cpu->flags &= ~(uint64_t)(FL_VM | FL_IF | FL_RF);
	flat_seg(&cpu->seg[X86_CS], cs, 1, 0, lma);
	flat_seg(&cpu->seg[X86_SS], cs + 8, 0, 0, 0);
	cpu->cpl = 0;
	emu_update_mode(cpu);
	cpu->gpr[X86_RSP] = lma ? cpu->sysenter_esp : (uint32_t)cpu->sysenter_esp;
	cpu->next_rip = lma ? cpu->sysenter_eip : (uint32_t)cpu->sysenter_eip;
}

static void sysexit(struct emu_cpu *cpu)
{
	uint16_t cs = (uint16_t)cpu->sysenter_cs & 0xfffc;
	int w = !!(cpu->in.rex & 8);

	if (!cpu->pmode || cpu->cpl || cs == 0)
		GP(0);
	if (w) {
		flat_seg(&cpu->seg[X86_CS], (cs + 32) | 3, 1, 3, 1);
		flat_seg(&cpu->seg[X86_SS], (cs + 40) | 3, 0, 3, 0);
		cpu->gpr[X86_RSP] = cpu->gpr[X86_RCX];
		cpu->next_rip = cpu->gpr[X86_RDX];
	} else {
		flat_seg(&cpu->seg[X86_CS], (cs + 16) | 3, 1, 3, 0);
		flat_seg(&cpu->seg[X86_SS], (cs + 24) | 3, 0, 3, 0);
		cpu->gpr[X86_RSP] = (uint32_t)cpu->gpr[X86_RCX];
		cpu->next_rip = (uint32_t)cpu->gpr[X86_RDX];
	}
	cpu->cpl = 3;
	emu_update_mode(cpu);
}

static void msr_op(struct emu_cpu *cpu, int wr)
{
	uint32_t idx = (uint32_t)cpu->gpr[X86_RCX];
	uint64_t v;

	CPL0();
	if (wr) {
		v = (cpu->gpr[X86_RAX] & 0xffffffff) | cpu->gpr[X86_RDX] << 32;
		if (emu_wrmsr(cpu, idx, v))
			GP(0);
		return;
	}
	if (emu_rdmsr(cpu, idx, &v))
		GP(0);
	reg_set(cpu, X86_RAX, 4, (uint32_t)v);
	reg_set(cpu, X86_RDX, 4, v >> 32);
}

static void cpuid_op(struct emu_cpu *cpu)
{
	uint32_t r[4];

	emu_cpuid(cpu, (uint32_t)cpu->gpr[X86_RAX], (uint32_t)cpu->gpr[X86_RCX], r);
	reg_set(cpu, X86_RAX, 4, r[0]);
	reg_set(cpu, X86_RBX, 4, r[1]);
	reg_set(cpu, X86_RCX, 4, r[2]);
	reg_set(cpu, X86_RDX, 4, r[3]);
}

void emu_exec_sys(struct emu_cpu *cpu)
{
	unsigned op = cpu->in.op & 0xff;

	switch (op) {
	case 0x00: grp6(cpu); break;
	case 0x01: grp7(cpu); break;
	case 0x02: case 0x03:
		lar_lsl(cpu, op == 3);
		break;
	case 0x05: syscall(cpu); break;
	case 0x06: CPL0(); cpu->cr0 &= ~8ull; break; /* CLTS */
	case 0x07: sysret(cpu); break;
	case 0x08: case 0x09: CPL0(); break; /* INVD, WBINVD */
	case 0x20: case 0x22: mov_cr(cpu); break;
	case 0x21: case 0x23: emu_mov_dr(cpu); break;
	case 0x30: msr_op(cpu, 1); break;
	case 0x31: rdtsc(cpu, 0); break;
	case 0x32: msr_op(cpu, 0); break;
	case 0x34: case 0x35:
		if (!emu_has(cpu, CPUF_SEP))
			UD();
		if (op == 0x34)
			sysenter(cpu);
		else
			sysexit(cpu);
		break;
	case 0xa2: cpuid_op(cpu); break;
	default:
		if (emu_exec_sse(cpu))
			UD();
	}
}
