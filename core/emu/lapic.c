/*
 * The local APIC, one per vCPU, in xAPIC (MMIO) mode: ID, TPR/PPR, EOI
 * with I/O APIC EOI broadcast, logical destinations (flat and cluster),
 * IRR/ISR/TMR, IPIs (fixed, lowest priority, NMI, INIT, SIPI, shorthands),
 * LVT LINT0 as ExtINT for the PIC, and the timer (one-shot, periodic,
 * TSC-deadline) counting the guest clock at 1 GHz divided; x2APIC's MSR
 * interface is x2apic.c.
 */
#include <string.h>

#include "chipset.h"
#include "vm.h"

#define LVT_MASKED (1u << 16)

static int vbit(const uint32_t *r, int v) { return (r[v >> 5] >> (v & 31)) & 1; }
static void vset(uint32_t *r, int v) { r[v >> 5] |= 1u << (v & 31); }
static void vclr(uint32_t *r, int v) { r[v >> 5] &= ~(1u << (v & 31)); }

static int highest(const uint32_t *r)
{
	int i;

	for (i = 7; i >= 0; i--)
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	return -1;
}

uint32_t lapic_x2_ldr(uint32_t id)
{
	return (id >> 4) << 16 | 1u << (id & 0xf);
}

/* The power-on/INIT register state; the mode (IA32_APIC_BASE's EN and
 * EXTD, which INIT keeps) and with it the ID stay. */
void lapic_reset(struct emu_vcpu *v, int bsp)
{
	struct lapic *a = &v->apic;
	uint32_t id = a->id;
	int en = a->hw_enabled, x2 = a->x2apic;
	int i;

	memset(a, 0, sizeof(*a));
	a->id = id;
	a->hw_enabled = en;
	a->x2apic = x2;
	a->ldr = x2 ? lapic_x2_ldr(id) : 0;
	a->dfr = 0xffffffff;
	a->svr = 0xff;
	for (i = 0; i < 7; i++)
		a->lvt[i] = LVT_MASKED;
	if (bsp) /* as KVM does: the BSP's LINT0 takes the PIC (virtual wire) */
		a->lvt[LVT_LINT0] = 0x700;
}

/* The mode a new IA32_APIC_BASE says, as at power-on or a state load. */
void lapic_set_mode(struct emu_vcpu *v, uint64_t base)
{
	struct lapic *a = &v->apic;
	uint32_t id = (uint32_t)v->vcpu->index;

	a->hw_enabled = (base & 0x800) != 0;
	a->x2apic = a->hw_enabled && (base & 0x400);
	a->id = a->x2apic ? id : id << 24;
}

static int sw_enabled(const struct lapic *a)
{
	return (a->svr & 0x100) != 0;
}

static int ppr(const struct lapic *a)
{
	int isr = highest(a->isr), t = (int)(a->tpr & 0xf0);
	int ic = isr < 0 ? 0 : isr & 0xf0;

	return t >= ic ? (int)a->tpr : ic;
}

int lapic_pending(struct emu_vcpu *v)
{
	const struct lapic *a = &v->apic;
	int irr = highest(a->irr);

	if (!a->hw_enabled || irr < 0)
		return 0;
	return (irr & 0xf0) > (ppr(a) & 0xf0);
}

int lapic_accept_pic(struct emu_vcpu *v)
{
	const struct lapic *a = &v->apic;
	uint32_t l = a->lvt[LVT_LINT0];

	if (!a->hw_enabled)
		return v->cpu.apic_id == 0;
	return !(l & LVT_MASKED) && ((l >> 8) & 7) == 7;
}

int lapic_ack(struct emu_vcpu *v)
{
	struct lapic *a = &v->apic;
	int irr = highest(a->irr);

	if (!lapic_pending(v))
		return -1;
	vclr(a->irr, irr);
	vset(a->isr, irr);
	return irr;
}

/* Accept one interrupt into IRR (fixed/lowest priority). */
static void accept(struct emu_vcpu *v, int vector, int level)
{
	if (vector < 16)
		return;
	vset(v->apic.irr, vector);
	if (level)
		vset(v->apic.tmr, vector);
	else
		vclr(v->apic.tmr, vector);
	emu_irq_notify(&v->cpu);
	emu_vcpu_wake(v);
}

/* dest is 32 bits wide; 0xffffffff is the broadcast (lapic_deliver
 * widened an 8-bit one). An x2APIC's logical ID is cluster:16, bits:16. */
static int match(struct emu_vcpu *v, uint32_t dest, int logical)
{
	const struct lapic *a = &v->apic;
	uint32_t ldr = a->ldr >> 24;

	if (dest == 0xffffffff)
		return 1;
	if (a->x2apic && !logical)
		return dest == a->id;
	if (a->x2apic)
		return (dest >> 16) == (a->ldr >> 16) && (dest & a->ldr & 0xffff);
	dest &= 0xff;
	if (!logical)
		return dest == 0xff || dest == a->id >> 24;
	if (dest == 0xff)
		return 1;
	if ((a->dfr >> 28) == 0xf) /* flat */
		return (ldr & dest) != 0;
	/* cluster */
	return (ldr >> 4) == (dest >> 4) && (ldr & dest & 0xf) != 0;
}

/*
 * INIT: the APIC is back at its power-on state but for its ID, and the
 * CPU waits for a SIPI from now on, before its thread gets to reset its
 * registers (do_init), so a SIPI that follows at once is not lost.
 */
static void init_cpu(struct emu_vcpu *v)
{
	lapic_reset(v, v->vcpu->index == 0);
	v->init_pending = 1;
	v->wait_sipi = v->vcpu->index != 0;
	v->sipi_vector = -1;
	emu_kick(&v->cpu);
	emu_vcpu_wake(v);
	vm_wake_halted(v->vcpu);
}

/* A software-disabled APIC takes no fixed interrupts (KVM drops them). */
static void accept_fixed(struct emu_vcpu *v, int vector, int level)
{
	if (sw_enabled(&v->apic))
		accept(v, vector, level);
}

static void deliver_one(struct emu_vcpu *v, int mode, int vector, int level)
{
	switch (mode) {
	case 0: case 1:
		accept_fixed(v, vector, level);
		break;
	case 4:
		v->cpu.nmi_pending = 1;
		emu_irq_notify(&v->cpu);
		emu_vcpu_wake(v);
		vm_wake_halted(v->vcpu); /* ends a halt with IF=0 too */
		break;
	case 5:
		if (level) /* INIT level de-assert does nothing */
			init_cpu(v);
		break;
	case 6:
		if (v->wait_sipi) {
			v->sipi_vector = vector;
			emu_kick(&v->cpu);
			emu_vcpu_wake(v);
		}
		break;
	case 7:
		emu_irq_notify(&v->cpu);
		emu_vcpu_wake(v);
		break;
	}
}

void lapic_deliver(struct emu_vm *e, uint32_t dest, int logical, int mode,
		   int vector, int level, int shorthand, struct emu_vcpu *self,
		   int wide)
{
	int i;

	if (!wide && dest == 0xff)
		dest = 0xffffffff;

	for (i = 0; i < e->ncpus; i++) {
		struct emu_vcpu *v = e->cpus[i];
		int hit;

		switch (shorthand) {
		case 1: hit = v == self; break;
		case 2: hit = 1; break;
		case 3: hit = v != self; break;
		default: hit = match(v, dest, logical);
		}
		if (!hit || (!v->apic.hw_enabled && mode != 5 && mode != 6))
			continue;
		deliver_one(v, mode, vector, level);
		if (mode == 1 && !shorthand)
			break; /* lowest priority: the first match will do */
	}
}

static void send_ipi(struct emu_vcpu *v)
{
	struct lapic *a = &v->apic;
	uint32_t lo = a->icr[0];
	int mode = (lo >> 8) & 7, level = (lo >> 14) & 1;

	/* INIT de-assert does nothing; SMI (no SMM here), the reserved mode
	 * and ExtINT (not valid in the ICR) are dropped */
	if ((mode == 5 && !level) || mode == 2 || mode == 3 || mode == 7)
		return;
	lapic_deliver(v->evm, a->x2apic ? a->icr[1] : a->icr[1] >> 24,
		      (lo >> 11) & 1, mode, lo & 0xff,
		      mode == 5 ? 1 : (lo >> 15) & 1, (lo >> 18) & 3, v,
		      a->x2apic);
}

static void eoi(struct emu_vcpu *v)
{
	struct lapic *a = &v->apic;
	int isr = highest(a->isr);

	if (isr < 0)
		return;
	vclr(a->isr, isr);
	if (vbit(a->tmr, isr))
		ioapic_eoi(v->evm, isr);
	emu_irq_notify(&v->cpu);
}

/* ---- timer ---- */
static uint64_t tdiv(const struct lapic *a)
{
	unsigned d = (a->timer_div & 3) | ((a->timer_div >> 1) & 4);

	return d == 7 ? 1 : 2ull << d;
}

int lapic_timer_mode(const struct lapic *a)
{
	return (a->lvt[LVT_TIMER] >> 17) & 3;
}

static uint32_t timer_current(const struct lapic *a, uint64_t now)
{
	uint64_t t, n;

	if (!a->timer_init || lapic_timer_mode(a) == 2 || now < a->timer_start)
		return 0;
	t = (now - a->timer_start) / tdiv(a);
	if (lapic_timer_mode(a) == 1)
		return (uint32_t)(a->timer_init - t % a->timer_init);
	n = a->timer_init;
	return t >= n ? 0 : (uint32_t)(n - t);
}

static void timer_arm(struct lapic *a, uint64_t now)
{
	a->timer_start = now;
	a->timer_next = a->timer_init ? now + (uint64_t)a->timer_init * tdiv(a) : 0;
}

uint64_t lapic_poll(struct emu_vcpu *v, uint64_t now)
{
	struct lapic *a = &v->apic;
	uint32_t l = a->lvt[LVT_TIMER];

	if (lapic_timer_mode(a) == 2) {
		uint64_t tsc = now + v->cpu.tsc_offset;

		if (!a->tsc_deadline)
			return 0;
		if (tsc < a->tsc_deadline)
			return a->tsc_deadline - v->cpu.tsc_offset;
		a->tsc_deadline = 0;
		if (!(l & LVT_MASKED))
			accept(v, l & 0xff, 0);
		return 0;
	}
	if (!a->timer_next || now < a->timer_next)
		return a->timer_next;
	if (!(l & LVT_MASKED) && sw_enabled(a))
		accept(v, l & 0xff, 0);
	if (lapic_timer_mode(a) == 1) {
		uint64_t p = (uint64_t)a->timer_init * tdiv(a);

		a->timer_next += p;
		if (a->timer_next <= now)
			a->timer_next = now + p;
	} else {
		a->timer_next = 0;
	}
	return a->timer_next;
}

/* ---- registers (under the chipset lock) ---- */
uint32_t lapic_reg_get(struct emu_vcpu *v, uint32_t reg)
{
	struct lapic *a = &v->apic;

	switch (reg) {
	case 0x02: return a->id;
	case 0x03: return 0x50014; /* version 14h, 6 LVTs, EOI bcast */
	case 0x08: return a->tpr;
	case 0x0a: return (uint32_t)ppr(a);
	case 0x0d: return a->ldr;
	case 0x0e: return a->dfr;
	case 0x0f: return a->svr;
	case 0x28: return a->esr;
	case 0x30: return a->icr[0] & ~(1u << 12); /* delivered at once */
	case 0x31: return a->icr[1];
	case 0x2f: return a->lvt[LVT_CMCI];
	case 0x32 ... 0x37: return a->lvt[reg - 0x32 + 1];
	case 0x38: return a->timer_init;
	case 0x39: return timer_current(a, vm_clock_ns(v->evm->vm));
	case 0x3e: return a->timer_div;
	case 0x10 ... 0x17: return a->isr[reg - 0x10];
	case 0x18 ... 0x1f: return a->tmr[reg - 0x18];
	case 0x20 ... 0x27: return a->irr[reg - 0x20];
	}
	return 0;
}

/* Entering or leaving TSC-deadline mode disarms the timer (SDM 10.5.4.1,
 * and KVM): a count never fires as a deadline nor the other way round. */
static void set_lvt_timer(struct lapic *a, uint32_t val)
{
	int old = lapic_timer_mode(a);

	a->lvt[LVT_TIMER] = val;
	if ((lapic_timer_mode(a) == 2) != (old == 2)) {
		a->timer_init = 0;
		a->timer_next = 0;
		a->tsc_deadline = 0;
	}
}

void lapic_reg_set(struct emu_vcpu *v, uint32_t reg, uint32_t val)
{
	struct lapic *a = &v->apic;
	int i;

	switch (reg) {
	case 0x02: a->id = val & 0xff000000u; break;
	case 0x08: a->tpr = val & 0xff; emu_irq_notify(&v->cpu); break;
	case 0x0b: eoi(v); break;
	case 0x0d: a->ldr = val & 0xff000000u; break;
	case 0x0e: a->dfr = val | 0x0fffffff; break;
	case 0x0f:
		a->svr = val & 0x1ff;
		if (!sw_enabled(a))
			for (i = 0; i < 7; i++)
				a->lvt[i] |= LVT_MASKED;
		break;
	case 0x28: a->esr = 0; break;
	case 0x30:
		a->icr[0] = val;
		send_ipi(v);
		break;
	case 0x31: a->icr[1] = val; break;
	case 0x2f: a->lvt[LVT_CMCI] = val; break;
	case 0x32 ... 0x37:
		if (!sw_enabled(a))
			val |= LVT_MASKED;
		if (reg == 0x32)
			set_lvt_timer(a, val);
		else
			a->lvt[reg - 0x32 + 1] = val;
		break;
	case 0x38:
		if (lapic_timer_mode(a) == 2)
			break; /* TSC-deadline mode ignores the initial count */
		a->timer_init = val;
		timer_arm(a, vm_clock_ns(v->evm->vm));
		break;
	case 0x3e: a->timer_div = val & 0xb; break;
	case 0x3f: /* x2APIC SELF IPI: fixed, edge, to this CPU */
		accept_fixed(v, (int)(val & 0xff), 0);
		break;
	}
}

uint64_t lapic_read(struct emu_vcpu *v, uint32_t off)
{
	uint32_t r;

	pthread_mutex_lock(&v->evm->lock);
	r = lapic_reg_get(v, off >> 4);
	pthread_mutex_unlock(&v->evm->lock);
	return r;
}

void lapic_write(struct emu_vcpu *v, uint32_t off, uint32_t val)
{
	uint32_t reg = off >> 4;

	pthread_mutex_lock(&v->evm->lock);
	if (reg != 0x3f) /* SELF IPI is x2APIC-only */
		lapic_reg_set(v, reg, val);
	pthread_mutex_unlock(&v->evm->lock);
	emu_vcpu_wake(v);
}
