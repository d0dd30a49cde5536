/*
 * The local APIC, one per vCPU, in xAPIC (MMIO) mode: ID, TPR/PPR, EOI
 * with I/O APIC EOI broadcast, logical destinations (flat and cluster),
 * IRR/ISR/TMR, IPIs (fixed, lowest priority, NMI, INIT, SIPI, shorthands),
 * LVT LINT0 as ExtINT for the PIC, and the timer (one-shot, periodic,
 * TSC-deadline) counting the guest clock at 1 GHz divided.
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

void lapic_reset(struct emu_vcpu *v, int bsp)
{
	struct lapic *a = &v->apic;
	uint32_t id = a->id;
	int i;

	memset(a, 0, sizeof(*a));
	a->id = id;
	a->dfr = 0xffffffff;
	a->svr = 0xff;
	for (i = 0; i < 7; i++)
		a->lvt[i] = LVT_MASKED;
	if (bsp) /* as KVM does: the BSP's LINT0 takes the PIC (virtual wire) */
		a->lvt[LVT_LINT0] = 0x700;
	a->hw_enabled = 1;
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

static int match(struct emu_vcpu *v, uint32_t dest, int logical)
{
	const struct lapic *a = &v->apic;
	uint32_t ldr = a->ldr >> 24;

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
}

static void deliver_one(struct emu_vcpu *v, int mode, int vector, int level)
{
	switch (mode) {
	case 0: case 1:
		accept(v, vector, level);
		break;
	case 4:
		v->cpu.nmi_pending = 1;
		emu_irq_notify(&v->cpu);
		emu_vcpu_wake(v);
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
		   int vector, int level, int shorthand, struct emu_vcpu *self)
{
	int i;

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

	if (mode == 5 && !level)
		return;
	lapic_deliver(v->evm, a->icr[1] >> 24, (lo >> 11) & 1, mode, lo & 0xff,
		      mode == 5 ? 1 : (lo >> 15) & 1, (lo >> 18) & 3, v);
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

static int timer_mode(const struct lapic *a)
{
	return (a->lvt[LVT_TIMER] >> 17) & 3;
}

static uint32_t timer_current(const struct lapic *a, uint64_t now)
{
	uint64_t t, n;

	if (!a->timer_init || timer_mode(a) == 2 || now < a->timer_start)
		return 0;
	t = (now - a->timer_start) / tdiv(a);
	if (timer_mode(a) == 1)
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

	if (timer_mode(a) == 2) {
		uint64_t tsc = now + v->cpu.tsc_offset;

		if (!a->tsc_deadline)
			return 0;
		if (tsc < a->tsc_deadline)
			return a->tsc_deadline - v->cpu.tsc_offset;
		a->tsc_deadline = 0;
		v->cpu.tsc_deadline = 0;
		if (!(l & LVT_MASKED))
			accept(v, l & 0xff, 0);
		return 0;
	}
	if (!a->timer_next || now < a->timer_next)
		return a->timer_next;
	if (!(l & LVT_MASKED) && sw_enabled(a))
		accept(v, l & 0xff, 0);
	if (timer_mode(a) == 1) {
		uint64_t p = (uint64_t)a->timer_init * tdiv(a);

		a->timer_next += p;
		if (a->timer_next <= now)
			a->timer_next = now + p;
	} else {
		a->timer_next = 0;
	}
	return a->timer_next;
}

void lapic_set_tsc_deadline(struct emu_vcpu *v, uint64_t tsc)
{
	pthread_mutex_lock(&v->evm->lock);
	v->apic.tsc_deadline = tsc;
	pthread_mutex_unlock(&v->evm->lock);
}

/* ---- registers ---- */
uint64_t lapic_read(struct emu_vcpu *v, uint32_t off)
{
	struct lapic *a = &v->apic;
	uint32_t r = 0, reg = off >> 4;

	pthread_mutex_lock(&v->evm->lock);
	switch (reg) {
	case 0x02: r = a->id; break;
	case 0x03: r = 0x50014; break; /* version 14h, 6 LVTs, EOI bcast */
	case 0x08: r = a->tpr; break;
	case 0x0a: r = (uint32_t)ppr(a); break;
	case 0x0d: r = a->ldr; break;
	case 0x0e: r = a->dfr; break;
	case 0x0f: r = a->svr; break;
	case 0x28: r = a->esr; break;
	case 0x30: r = a->icr[0] & ~(1u << 12); break;
	case 0x31: r = a->icr[1]; break;
	case 0x2f: r = a->lvt[LVT_CMCI]; break;
	case 0x32 ... 0x37: r = a->lvt[reg - 0x32 + 1]; break;
	case 0x38: r = a->timer_init; break;
	case 0x39: r = timer_current(a, vm_clock_ns(v->evm->vm)); break;
	case 0x3e: r = a->timer_div; break;
	default:
		if (reg >= 0x10 && reg < 0x18)
			r = a->isr[reg - 0x10];
		else if (reg >= 0x18 && reg < 0x20)
			r = a->tmr[reg - 0x18];
		else if (reg >= 0x20 && reg < 0x28)
			r = a->irr[reg - 0x20];
	}
	pthread_mutex_unlock(&v->evm->lock);
	return r;
}

void lapic_write(struct emu_vcpu *v, uint32_t off, uint32_t val)
{
	struct lapic *a = &v->apic;
	uint32_t reg = off >> 4;
	int i;

	pthread_mutex_lock(&v->evm->lock);
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
		a->lvt[reg - 0x32 + 1] = val;
		if (reg == 0x32 && timer_mode(a) != 2)
			a->tsc_deadline = 0;
		break;
	case 0x38:
		a->timer_init = val;
		if (timer_mode(a) != 2)
			timer_arm(a, vm_clock_ns(v->evm->vm));
		break;
	case 0x3e: a->timer_div = val & 0xb; break;
	}
	pthread_mutex_unlock(&v->evm->lock);
	emu_vcpu_wake(v);
}
