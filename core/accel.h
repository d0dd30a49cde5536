/*
 * The accelerator interface: how the core runs vCPUs. Two implement it:
 * accel/kvm.c (hardware, /dev/kvm) and emu/ (hv's own x86 interpreter);
 * accel/select.c says which of them may run a VM here.
 *
 * Threads: vm_* and vcpu_create/destroy/set_state/get_state run on the main
 * thread while no vCPU runs (except vcpu_get_state from the vCPU's own
 * thread). vcpu_run runs on the vCPU's own thread. vcpu_kick, irq_line and
 * msi may be called from any thread at any time.
 */
#ifndef HV_CORE_ACCEL_H
#define HV_CORE_ACCEL_H

#include <stdint.h>

#include "x86.h"

struct vm;
struct vcpu;
struct mem_region;

enum vcpu_exit {
	VCPU_EXIT_KICK = 0,     /* kicked, or a request is pending: check it */
	VCPU_EXIT_SHUTDOWN = 1, /* triple fault or shutdown: reset the VM */
	VCPU_EXIT_HALT = 2,     /* halted with interrupts off: nothing will wake it */
	VCPU_EXIT_ERROR = 3,    /* internal error, already logged */
};

struct accel_ops {
	const char *name;
	/* After the memory map and the buses are final; creates the irqchip. */
	int (*vm_create)(struct vm *vm);
	void (*vm_destroy)(struct vm *vm);
	/* A region was placed (add) or unplaced/removed: dynamic memory, ROM,
	 * device memory moving with its BAR. May run on any thread while
	 * vCPUs run (devmem.c serializes callers): the new map must be in
	 * effect for each vCPU before it next enters the guest. */
	int (*mem_update)(struct vm *vm, struct mem_region *r, int add);
	int (*vcpu_create)(struct vcpu *cpu);
	void (*vcpu_destroy)(struct vcpu *cpu);
	int (*vcpu_set_state)(struct vcpu *cpu, const struct x86_state *st);
	int (*vcpu_get_state)(struct vcpu *cpu, struct x86_state *st);
	/* Run guest code; PIO and MMIO go to bus_pio()/bus_mmio(). Returns an
	 * enum vcpu_exit. Returns promptly after vcpu_kick(). */
	int (*vcpu_run)(struct vcpu *cpu);
	void (*vcpu_kick)(struct vcpu *cpu);
	/* GSI level (ISA IRQs are GSIs 0-15: PIC and IOAPIC) and MSIs. */
	int (*irq_line)(struct vm *vm, unsigned gsi, int level);
	int (*msi)(struct vm *vm, uint64_t addr, uint32_t data);
	/* A system reset, vCPUs paused: the accelerator's own devices (irqchip,
	 * timers) and every vCPU back to power-on state; vcpu_set_state
	 * follows. Optional. */
	int (*vm_reset)(struct vm *vm);
	/* Save/restore of the accelerator's own state (irqchip, timers, full
	 * CPU state incl. FPU/MSRs) for snapshots; optional until then. */
	int (*vm_save)(struct vm *vm, void *st);
	int (*vm_restore)(struct vm *vm, void *st);
	/* vm_create and vcpu_create need nothing from the host (no device
	 * node, no kernel object): hv check runs them too. */
	int host_free;

	/* ---- v2.0: device memory and dirty logging (core/devmem.c) ---- */
	/* Track guest writes to region r (r->dirty is allocated): from now
	 * on, each written page ends up in r->dirty once dirty_log_get has
	 * collected it. Any thread; callers serialize map changes (devmem.c).
	 * Writes by vCPUs until their next exit may be missed: call with
	 * vCPUs paused for a log complete from the first write. */
	int (*dirty_log_start)(struct vm *vm, struct mem_region *r);
	/* OR the pages written since the last call into bitmap (one bit per
	 * page of r) and restart tracking them. Any thread. */
	int (*dirty_log_get)(struct vm *vm, struct mem_region *r,
			     uint64_t *bitmap);
	void (*dirty_log_stop)(struct vm *vm, struct mem_region *r);
};

extern const struct accel_ops accel_kvm;
extern const struct accel_ops accel_emu;

#endif
