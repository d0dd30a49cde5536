/*
 * accel=emu: hv's interpreter behind struct accel_ops. Guest memory goes
 * through the core's map (mem_find), I/O through vm_pio()/vm_mmio() after
 * the per-vCPU LAPIC page, interrupts through the chipset in this folder.
 * A vCPU thread runs the interpreter in batches, polling the timers in
 * between, and sleeps on its condition variable in HLT until an interrupt,
 * a timer deadline or a kick.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chipset.h"
#include "instance.h"
#include "log.h"
#include "vm.h"

#define BATCH 20000 /* instructions between timer polls and request checks */
#define APIC_PAGE 0xfee00000ull

static int apic_enabled(struct emu_vcpu *v)
{
	return (v->cpu.apic_base & 0x800) != 0;
}

static int on_apic_page(struct emu_vcpu *v, uint64_t gpa)
{
	return apic_enabled(v) && (gpa & ~0xfffull) == (v->cpu.apic_base & ~0xfffull);
}

/* In x2APIC mode the page is no APIC: it reads 0 and drops writes, as
 * under KVM (its LAPIC_MMIO_HOLE quirk), not RAM or a device either. */
static int x2apic_mode(struct emu_vcpu *v)
{
	return (v->cpu.apic_base & 0x400) != 0;
}

/* ---- struct emu_host for one vCPU ---- */
static uint8_t *h_page(void *o, uint64_t gpa, int *rom)
{
	struct emu_vcpu *v = o;
	const struct mem_region *r;

	if (on_apic_page(v, gpa))
		return NULL;
	r = mem_find(&v->evm->vm->mem, gpa);
	/* whole pages only: a partial page is left to MMIO (all-ones) */
	if (!r || gpa < r->gpa || gpa + 4096 > r->gpa + r->size)
		return NULL;
	*rom = r->kind == MEM_ROM ? 1 :
	       __atomic_load_n(&r->dirty, __ATOMIC_RELAXED) ? 2 : 0;
	return r->hva + (gpa - r->gpa);
}

static void h_dirty(void *o, uint64_t gpa, unsigned len)
{
	struct emu_vcpu *v = o;

	mem_mark_dirty(&v->evm->vm->mem, gpa, len);
}

static int h_mmio(void *o, uint64_t gpa, unsigned size, int w, uint64_t *val)
{
	struct emu_vcpu *v = o;

	if (on_apic_page(v, gpa)) {
		uint32_t off = gpa & 0xfff;

		if (x2apic_mode(v)) {
			if (!w)
				*val = 0;
			return 0;
		}
		/* 32-bit registers on 16-byte boundaries; others read 0 */
		if (w && !(off & 0xf))
			lapic_write(v, off, (uint32_t)*val);
		else if (!w)
			*val = (off & 0xf) ? 0 : lapic_read(v, off);
		return 0;
	}
	return vm_mmio(v->evm->vm, gpa, size, w, val);
}

static int h_pio(void *o, uint16_t port, unsigned size, int w, uint64_t *val)
{
	struct emu_vcpu *v = o;

	return vm_pio(v->evm->vm, port, size, w, val);
}

static int h_intr_ack(void *o)
{
	struct emu_vcpu *v = o;
	struct emu_vm *e = v->evm;
	int vec;

	pthread_mutex_lock(&e->lock);
	vec = lapic_ack(v);
	if (vec < 0 && lapic_accept_pic(v) && pic_output(e))
		vec = pic_ack(e);
	pthread_mutex_unlock(&e->lock);
	return vec;
}

static uint64_t h_clock(void *o)
{
	struct emu_vcpu *v = o;

	return vm_clock_ns(v->evm->vm);
}

static int h_apic_msr(void *o, uint32_t idx, int write, uint64_t *val)
{
	struct emu_vcpu *v = o;

	return lapic_msr(v, idx, write, val);
}

void emu_vcpu_wake(struct emu_vcpu *v)
{
	pthread_mutex_lock(&v->mu);
	v->wakeup = 1;
	pthread_cond_signal(&v->cond);
	pthread_mutex_unlock(&v->mu);
}

/* ---- the VM ---- */
static void write_hook(void *o, uint64_t gpa, uint64_t len)
{
	struct emu_vm *e = o;
	int i;

	for (i = 0; i < e->ncpus; i++)
		emu_mem_written(&e->cpus[i]->cpu, gpa, len);
}

struct region_def {
	int mmio;
	uint64_t base, len;
	const struct hv_region_ops *ops;
	const char *name;
};

static const struct region_def regions[] = {
	{ 0, 0x20, 2, &pic_master_ops, "PIC" },
	{ 0, 0xa0, 2, &pic_slave_ops, "PIC" },
	{ 0, 0x4d0, 2, &elcr_ops, "ELCR" },
	{ 0, 0x40, 4, &pit_ops, "PIT" },
	{ 0, 0x61, 1, &port61_ops, "port 0x61" },
	{ 1, 0xfec00000, 0x100, &ioapic_ops, "IOAPIC" },
};

/* One line on who took a chipset range: the device, when one did. */
static void placement_failed(struct vm *vm, const struct region_def *d, int rc)
{
	struct bus_region *r = bus_find(d->mmio ? &vm->mmio : &vm->pio,
					d->base, d->len);

	if (rc == -EBUSY && r && r->owner)
		inst_err(r->owner, NULL, "%s 0x%llx-0x%llx: the emu chipset's %s is there",
			 d->mmio ? "addresses" : "ports", (unsigned long long)d->base,
			 (unsigned long long)(d->base + d->len - 1), d->name);
	else
		err("emu: cannot place the chipset's %s at %#llx: %s", d->name,
		    (unsigned long long)d->base, strerror(-rc));
}

static void raw_leaf(void *opaque, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	(void)opaque;
	emu_cpuid_raw(0, leaf, sub, r);
}

static int emu_vm_create(struct vm *vm)
{
	struct emu_vm *e = calloc(1, sizeof(*e));
	const char *miss = cpumodel_missing(&vm->cpu_model, raw_leaf, NULL);
	unsigned i;
	int rc;

	if (!e)
		return -ENOMEM;
	if (miss) {
		free(e);
		return vm_cpu_missing(vm, miss);
	}
	vm->accel_priv = e;
	e->vm = vm;
	pthread_mutex_init(&e->lock, NULL);
	pic_reset(&e->pic[0]);
	pic_reset(&e->pic[1]);
	pit_reset(&e->pit, 0);
	ioapic_reset(&e->ioapic);
	for (i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
		const struct region_def *d = &regions[i];
		struct bus_region *r;

		rc = bus_add(d->mmio ? &vm->mmio : &vm->pio, d->base, d->len,
			     d->ops, e, NULL, &r);
		if (rc) {
			placement_failed(vm, d, rc);
			return rc;
		}
	}
	vm->mem.write_hook = write_hook;
	vm->mem.hook_opaque = e;
	return 0;
}

static void emu_vm_destroy(struct vm *vm)
{
	struct emu_vm *e = vm->accel_priv;

	if (!e)
		return;
	vm->mem.write_hook = NULL;
	pthread_mutex_destroy(&e->lock);
	free(e);
	vm->accel_priv = NULL;
}

/*
 * Cached host pointers (TLB entries) and write tags are per vCPU and only
 * its own thread may touch them: ask each vCPU to drop them before it runs
 * guest code again. Lookups themselves are safe meanwhile (mem.h); a vCPU
 * that is mid-batch may finish it through an old entry, whose memory stays
 * mapped.
 */
/* The vCPU this thread runs, if any: the one whose own access (a BAR
 * write) changed the map sees the change from its next instruction on. */
static _Thread_local struct emu_vcpu *self;

static void stale_all(struct emu_vm *e)
{
	for (int i = 0; i < e->ncpus; i++) {
		struct emu_vcpu *v = e->cpus[i];

		if (v == self) {
			emu_tlb_flush(&v->cpu);
			continue;
		}
		atomic_store(&v->tlb_stale, 1);
		emu_kick(&v->cpu);
	}
}

static int emu_mem_update(struct vm *vm, struct mem_region *r, int add)
{
	(void)r, (void)add;
	stale_all(vm->accel_priv);
	return 0;
}

/* Logging starts by taking write tags away: from then on each write to a
 * logged page goes through h_dirty (h_page says so with *rom = 2). */
static int emu_dirty_log_start(struct vm *vm, struct mem_region *r)
{
	(void)r;
	stale_all(vm->accel_priv);
	return 0;
}

/* The interpreter marks r->dirty itself: nothing to collect. */
static int emu_dirty_log_get(struct vm *vm, struct mem_region *r,
			     uint64_t *bitmap)
{
	(void)vm, (void)r, (void)bitmap;
	return 0;
}

static void emu_dirty_log_stop(struct vm *vm, struct mem_region *r)
{
	(void)vm, (void)r;
}

static int emu_vcpu_create(struct vcpu *cpu)
{
	struct emu_vm *e = cpu->vm->accel_priv;
	struct emu_vcpu *v = calloc(1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	if (cpu->index >= 64) {
		free(v);
		return -EINVAL;
	}
	v->vcpu = cpu;
	v->evm = e;
	v->host = (struct emu_host){
		.opaque = v, .page = h_page, .mmio = h_mmio, .pio = h_pio,
		.intr_ack = h_intr_ack, .clock_ns = h_clock,
		.apic_msr = h_apic_msr, .dirty = h_dirty,
		.model = &cpu->vm->cpu_model,
	};
	emu_cpu_init(&v->cpu, &v->host);
	v->cpu.apic_id = (uint32_t)cpu->index;
	v->sipi_vector = -1;
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->cond, NULL);
	lapic_set_mode(v, v->cpu.apic_base);
	lapic_reset(v, cpu->index == 0);
	cpu->accel = v;
	pthread_mutex_lock(&e->lock);
	e->cpus[cpu->index] = v;
	if (cpu->index + 1 > e->ncpus)
		e->ncpus = cpu->index + 1;
	pthread_mutex_unlock(&e->lock);
	return 0;
}

static void emu_vcpu_destroy(struct vcpu *cpu)
{
	struct emu_vcpu *v = cpu->accel;

	if (!v)
		return;
	emu_cpu_free(&v->cpu);
	pthread_cond_destroy(&v->cond);
	pthread_mutex_destroy(&v->mu);
	free(v);
	cpu->accel = NULL;
}

static int emu_vcpu_set_state(struct vcpu *cpu, const struct x86_state *st)
{
	struct emu_vcpu *v = cpu->accel;
	int bsp = (st->apic_base & 0x100) != 0;

	emu_set_state(&v->cpu, st);
	pthread_mutex_lock(&v->evm->lock);
	lapic_set_mode(v, st->apic_base);
	lapic_reset(v, bsp);
	if (v->vcpu->index == 0)
		pit_reset(&v->evm->pit, vm_clock_ns(v->evm->vm));
	pthread_mutex_unlock(&v->evm->lock);
	v->wait_sipi = !bsp;
	v->sipi_vector = -1;
	v->init_pending = 0;
	return 0;
}

static int emu_vcpu_get_state(struct vcpu *cpu, struct x86_state *st)
{
	struct emu_vcpu *v = cpu->accel;

	emu_get_state(&v->cpu, st);
	return 0;
}

/* ---- running ---- */
static int stop_requested(struct vcpu *cpu)
{
	return atomic_load(&cpu->request) || atomic_load(&cpu->vm->stopping);
}

/* Poll the timers; returns the earliest deadline (ns) or 0. */
static uint64_t poll_timers(struct emu_vcpu *v)
{
	struct emu_vm *e = v->evm;
	uint64_t now = vm_clock_ns(e->vm), a, b;

	pthread_mutex_lock(&e->lock);
	a = pit_poll(e, now);
	b = lapic_poll(v, now);
	if (v->vcpu->index == 0 && lapic_accept_pic(v) && pic_output(e))
		emu_irq_notify(&v->cpu);
	if (lapic_pending(v))
		emu_irq_notify(&v->cpu);
	pthread_mutex_unlock(&e->lock);
	if (!a || (b && b < a))
		a = b;
	return a;
}

/* Sleep until woken or the deadline (guest ns; 0 = none). */
static void sleep_until(struct emu_vcpu *v, uint64_t deadline)
{
	struct timespec ts;
	uint64_t now = vm_clock_ns(v->evm->vm), wait_ns;

	pthread_mutex_lock(&v->mu);
	if (!v->wakeup && !stop_requested(v->vcpu)) {
		/* bounded: the guest clock and host clock may drift (pauses) */
		wait_ns = deadline && deadline > now ? deadline - now : 50000000;
		if (!deadline || wait_ns > 50000000)
			wait_ns = 50000000;
		if (!deadline || deadline > now) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (long)(wait_ns % 1000000000);
			ts.tv_sec += (time_t)(wait_ns / 1000000000) + ts.tv_nsec / 1000000000;
			ts.tv_nsec %= 1000000000;
			pthread_cond_timedwait(&v->cond, &v->mu, &ts);
		}
	}
	v->wakeup = 0;
	pthread_mutex_unlock(&v->mu);
}

static void start_ap(struct emu_vcpu *v, int vector)
{
	struct x86_state st;

	emu_get_state(&v->cpu, &st);
	st.seg[X86_CS].sel = (uint16_t)(vector << 8);
	st.seg[X86_CS].base = (uint64_t)vector << 12;
	st.rip = 0;
	emu_set_state(&v->cpu, &st);
}

/* INIT's register state; IA32_APIC_BASE (the APIC's mode) survives it. */
static void do_init(struct emu_vcpu *v)
{
	uint64_t base = v->cpu.apic_base;
	struct x86_state st;

	memset(&st, 0, sizeof(st));
	emu_cpu_free(&v->cpu);
	emu_cpu_init(&v->cpu, &v->host); /* the power-on register state */
	v->cpu.apic_id = (uint32_t)v->vcpu->index;
	emu_get_state(&v->cpu, &st);
	st.apic_base = base;
	emu_set_state(&v->cpu, &st);
}

/*
 * A pending INIT, then the wait for a SIPI: 1 while this vCPU must not
 * run. The flags are set by other vCPUs' IPIs under the chipset lock.
 */
static int init_sipi(struct emu_vcpu *v)
{
	struct emu_vm *e = v->evm;
	int init, vector = -1, wait;

	pthread_mutex_lock(&e->lock);
	init = v->init_pending;
	v->init_pending = 0;
	pthread_mutex_unlock(&e->lock);
	if (init)
		do_init(v);
	pthread_mutex_lock(&e->lock);
	wait = v->wait_sipi;
	if (wait && v->sipi_vector >= 0) {
		vector = v->sipi_vector;
		v->sipi_vector = -1;
		v->wait_sipi = wait = 0;
	}
	pthread_mutex_unlock(&e->lock);
	if (vector >= 0)
		start_ap(v, vector);
	return wait;
}

static int run_loop(struct vcpu *cpu)
{
	struct emu_vcpu *v = cpu->accel;

	for (;;) {
		uint64_t deadline;
		int rc;

		if (stop_requested(cpu))
			return VCPU_EXIT_KICK;
		if (atomic_load_explicit(&v->tlb_stale, memory_order_relaxed) &&
		    atomic_exchange(&v->tlb_stale, 0))
			emu_tlb_flush(&v->cpu);
		if (init_sipi(v)) {
			sleep_until(v, 0);
			continue;
		}
		deadline = poll_timers(v);
		rc = emu_run(&v->cpu, BATCH);
		switch (rc) {
		case EMU_STOP_SHUTDOWN:
			return VCPU_EXIT_SHUTDOWN;
		case EMU_STOP_HALT:
			if (v->cpu.nmi_pending || v->init_pending) {
				v->cpu.halted = 0;
				break;
			}
			return VCPU_EXIT_HALT;
		case EMU_STOP_HLT_WAIT:
			deadline = poll_timers(v);
			if (!atomic_load(&v->cpu.irq_pending))
				sleep_until(v, deadline);
			break;
		case EMU_STOP_ERROR:
			return VCPU_EXIT_ERROR;
		default:
			break;
		}
	}
}

static int emu_vcpu_run(struct vcpu *cpu)
{
	int rc;

	self = cpu->accel;
	rc = run_loop(cpu);
	self = NULL;
	return rc;
}

static void emu_vcpu_kick(struct vcpu *cpu)
{
	struct emu_vcpu *v = cpu->accel;

	if (!v)
		return;
	emu_kick(&v->cpu);
	emu_vcpu_wake(v);
}

static int emu_irq_line(struct vm *vm, unsigned gsi, int level)
{
	struct emu_vm *e = vm->accel_priv;

	if (gsi >= 24)
		return -EINVAL;
	pthread_mutex_lock(&e->lock);
	if (gsi < 16)
		pic_set_irq(e, gsi, level);
	ioapic_set_irq(e, gsi, level);
	pthread_mutex_unlock(&e->lock);
	if (e->ncpus) {
		emu_irq_notify(&e->cpus[0]->cpu);
		emu_vcpu_wake(e->cpus[0]);
	}
	return 0;
}

static int emu_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct emu_vm *e = vm->accel_priv;

	if ((addr & 0xfff00000ull) != 0xfee00000ull)
		return -EINVAL;
	pthread_mutex_lock(&e->lock);
	lapic_deliver(e, (addr >> 12) & 0xff, (addr >> 2) & 1, (data >> 8) & 7,
		      data & 0xff, (data >> 15) & 1, 0, NULL, 0);
	pthread_mutex_unlock(&e->lock);
	return 0;
}

const struct accel_ops accel_emu = {
	.name = "emu",
	.vm_create = emu_vm_create,
	.vm_destroy = emu_vm_destroy,
	.mem_update = emu_mem_update,
	.dirty_log_start = emu_dirty_log_start,
	.dirty_log_get = emu_dirty_log_get,
	.dirty_log_stop = emu_dirty_log_stop,
	.vcpu_create = emu_vcpu_create,
	.vcpu_destroy = emu_vcpu_destroy,
	.vcpu_set_state = emu_vcpu_set_state,
	.vcpu_get_state = emu_vcpu_get_state,
	.vcpu_run = emu_vcpu_run,
	.vcpu_kick = emu_vcpu_kick,
	.irq_line = emu_irq_line,
	.msi = emu_msi,
	.host_free = 1,
};
