/*
 * The local APIC's MSRs (SDM 10.12): IA32_APIC_BASE's mode transitions
 * between disabled, xAPIC and x2APIC, the x2APIC register interface at
 * 800h-8FFh (lapic.c's registers, with x2APIC's read-only, write-only and
 * reserved ones #GP) and IA32_TSC_DEADLINE. lapic_msr() runs on the
 * vCPU's own thread and takes emu_vm.lock.
 */
#include "chipset.h"
#include "vm.h"

#define BASE_EN (1ull << 11)
#define BASE_EXTD (1ull << 10)
/* bits 0-7 and 9, and above the 40 physical address bits CPUID reports */
#define BASE_RSVD (0x2ffull | ~0ull << 40)

/* Registers the MSR interface reads and writes (bit per 800h + reg). */
static int x2_readable(uint32_t reg)
{
	return reg == 0x02 || reg == 0x03 || reg == 0x08 || reg == 0x0a ||
	       reg == 0x0d || reg == 0x0f || (reg >= 0x10 && reg <= 0x28) ||
	       reg == 0x2f || reg == 0x30 || (reg >= 0x32 && reg <= 0x39) ||
	       reg == 0x3e;
}

static int x2_writable(uint32_t reg)
{
	return reg == 0x08 || reg == 0x0b || reg == 0x0f || reg == 0x28 ||
	       reg == 0x2f || reg == 0x30 || (reg >= 0x32 && reg <= 0x38) ||
	       reg == 0x3e || reg == 0x3f;
}

/*
 * IA32_APIC_BASE: the legal transitions between disabled, xAPIC and
 * x2APIC (SDM 10.12.5): x2APIC may only be entered from xAPIC and only
 * left to disabled; EXTD without EN is invalid. Entering x2APIC derives
 * the 32-bit ID and the read-only LDR from the initial APIC ID.
 */
static int set_base(struct emu_vcpu *v, uint64_t val)
{
	struct lapic *a = &v->apic;
	uint64_t old = v->cpu.apic_base;
	uint32_t id = (uint32_t)v->vcpu->index;
	int en = !!(val & BASE_EN), x2 = !!(val & BASE_EXTD);
	int was_en = !!(old & BASE_EN), was_x2 = !!(old & BASE_EXTD);

	if ((val & BASE_RSVD) || (x2 && !en) || (was_x2 && en && !x2) ||
	    (!was_en && x2))
		return -1;
	a->hw_enabled = en;
	if (x2 && !was_x2) {
		a->id = id;
		a->ldr = lapic_x2_ldr(id);
	} else if (!x2 && was_x2) {
		a->id = id << 24;
		a->ldr = 0;
	}
	a->x2apic = x2;
	emu_irq_notify(&v->cpu);
	return 0;
}

static int x2_access(struct emu_vcpu *v, uint32_t reg, int w, uint64_t *val)
{
	struct lapic *a = &v->apic;

	if (!a->x2apic)
		return -1;
	if (!w) {
		if (!x2_readable(reg))
			return -1;
		*val = lapic_reg_get(v, reg);
		if (reg == 0x30)
			*val |= (uint64_t)a->icr[1] << 32;
		return 0;
	}
	if (!x2_writable(reg) || (reg != 0x30 && (*val >> 32)) ||
	    ((reg == 0x0b || reg == 0x28) && *val) ||
	    (reg == 0x3f && (*val & ~0xffull)))
		return -1;
	if (reg == 0x30)
		a->icr[1] = (uint32_t)(*val >> 32);
	lapic_reg_set(v, reg, (uint32_t)*val);
	return 0;
}

static int tsc_deadline(struct emu_vcpu *v, int w, uint64_t *val)
{
	struct lapic *a = &v->apic;

	/* outside TSC-deadline mode it reads 0 and ignores writes */
	if (!w)
		*val = lapic_timer_mode(a) == 2 ? a->tsc_deadline : 0;
	else if (lapic_timer_mode(a) == 2)
		a->tsc_deadline = *val;
	return 0;
}

int lapic_msr(struct emu_vcpu *v, uint32_t idx, int w, uint64_t *val)
{
	int rc;

	pthread_mutex_lock(&v->evm->lock);
	if (idx == 0x1b)
		rc = w ? set_base(v, *val) : -1;
	else if (idx == 0x6e0)
		rc = tsc_deadline(v, w, val);
	else
		rc = x2_access(v, idx - 0x800, w, val);
	pthread_mutex_unlock(&v->evm->lock);
	if (w && !rc)
		emu_vcpu_wake(v);
	return rc;
}
