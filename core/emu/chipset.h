/*
 * The interrupt controllers and timers accel=emu provides itself (under
 * KVM they live in the kernel): 8259A pair, 8254 PIT with the port-61h
 * gate, I/O APIC, one local APIC per vCPU. The CMOS/RTC is the cmos
 * plugin (plugins/pc/cmos.c) on both backends.
 *
 * Locking: every model below is driven under emu_vm.lock (the bus takes
 * no lock for core-internal regions), except lapic_* on a vCPU's own
 * LAPIC page, which also take it: IPIs touch other vCPUs' LAPICs.
 * Time is the guest clock in ns; timers are polled by the vCPU threads
 * between instruction batches and bound their HLT sleeps.
 */
#ifndef HV_EMU_CHIPSET_H
#define HV_EMU_CHIPSET_H

#include <pthread.h>
#include <stdint.h>

#include <hv/host.h>

#include "emu.h"

struct vm;
struct emu_vm;

struct pic8259 {
	uint8_t irr, imr, isr, elcr, icw_step, icw4, rsel, vbase;
	uint8_t level; /* input line levels, for edge detection */
	uint8_t auto_eoi, special_mask, poll, init;
};

struct pit_chan {
	uint16_t reload;
	uint8_t mode, rw, latched, lsb_next_read, lsb_next_write, bcd;
	uint16_t latch, wlow;
	uint8_t gate, armed, null_count;
	uint64_t start_ns;  /* when counting began with reload */
	uint64_t next_irq;  /* channel 0: next output edge, 0 = none */
};

struct pit8254 {
	struct pit_chan ch[3];
	uint8_t port61;
};

struct ioapic {
	uint32_t id, sel;
	uint64_t redir[24];
	uint32_t level; /* input levels */
};

struct lapic {
	uint32_t id, tpr, ldr, dfr, svr, lvt[7], icr[2], esr;
	uint32_t timer_init, timer_div;
	uint32_t irr[8], isr[8], tmr[8];
	uint64_t timer_start, timer_next; /* ns; 0 = not armed */
	uint64_t tsc_deadline;
	int hw_enabled;
	int x2apic; /* EXTD: the MSR interface, 32-bit IDs */
};

enum { LVT_CMCI, LVT_TIMER, LVT_THERM, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERR };

struct emu_vcpu {
	struct emu_cpu cpu;
	struct emu_host host;
	struct vcpu *vcpu;
	struct emu_vm *evm;
	struct lapic apic;
	pthread_mutex_t mu;   /* sleep/wake */
	pthread_cond_t cond;
	int wakeup;
	int wait_sipi;        /* AP before its SIPI */
	int sipi_vector;      /* >= 0: a SIPI arrived */
	int init_pending;
	atomic_int tlb_stale; /* the memory map changed: flush before running */
};

struct emu_vm {
	struct vm *vm;
	pthread_mutex_t lock;
	struct pic8259 pic[2];
	struct pit8254 pit;
	struct ioapic ioapic;
	struct emu_vcpu *cpus[64];
	int ncpus;
};

/* pic.c */
void pic_reset(struct pic8259 *p);
void pic_set_irq(struct emu_vm *e, unsigned irq, int level);
int pic_output(struct emu_vm *e);     /* 1: INTR asserted */
int pic_ack(struct emu_vm *e);        /* the vector, as INTA cycles */
extern const struct hv_region_ops pic_master_ops, pic_slave_ops, elcr_ops;

/* pit.c */
void pit_reset(struct pit8254 *p, uint64_t now);
uint64_t pit_poll(struct emu_vm *e, uint64_t now); /* next deadline or 0 */
extern const struct hv_region_ops pit_ops, port61_ops;

/* ioapic.c */
void ioapic_reset(struct ioapic *io);
void ioapic_set_irq(struct emu_vm *e, unsigned gsi, int level);
void ioapic_eoi(struct emu_vm *e, int vector);
extern const struct hv_region_ops ioapic_ops;

/* lapic.c */
void lapic_reset(struct emu_vcpu *v, int bsp);
void lapic_set_mode(struct emu_vcpu *v, uint64_t apic_base);
uint64_t lapic_read(struct emu_vcpu *v, uint32_t off);
void lapic_write(struct emu_vcpu *v, uint32_t off, uint32_t val);
/* Deliver an interrupt message (IOAPIC, MSI, IPI). mode: 0 fixed,
 * 1 lowest, 4 NMI, 5 INIT, 6 SIPI, 7 ExtINT. wide: dest is an x2APIC
 * ICR's 32 bits (else 8 bits, FFh the broadcast). */
void lapic_deliver(struct emu_vm *e, uint32_t dest, int logical, int mode,
		   int vector, int level_trig, int shorthand,
		   struct emu_vcpu *self, int wide);
int lapic_ack(struct emu_vcpu *v);     /* vector or -1 */
int lapic_pending(struct emu_vcpu *v); /* deliverable interrupt */
int lapic_accept_pic(struct emu_vcpu *v);
uint64_t lapic_poll(struct emu_vcpu *v, uint64_t now);
/* register `reg` (offset >> 4), under the lock: for x2apic.c */
uint32_t lapic_reg_get(struct emu_vcpu *v, uint32_t reg);
void lapic_reg_set(struct emu_vcpu *v, uint32_t reg, uint32_t val);
int lapic_timer_mode(const struct lapic *a); /* 0 one-shot, 1 periodic, 2 TSC */
uint32_t lapic_x2_ldr(uint32_t x2apic_id);

/* x2apic.c: IA32_APIC_BASE (write), IA32_TSC_DEADLINE, the x2APIC MSRs:
 * 0 or -1 (#GP). The vCPU's own thread. */
int lapic_msr(struct emu_vcpu *v, uint32_t idx, int write, uint64_t *val);
void emu_vcpu_wake(struct emu_vcpu *v);

#endif
