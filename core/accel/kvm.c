/*
 * The KVM accelerator: one VM fd, a memory slot per region, the in-kernel
 * irqchip (PIC, IOAPIC, LAPICs) and PIT, one thread per vCPU. Port and MMIO
 * exits go to the core's buses. A kick is immediate_exit plus a signal, so
 * it works whether or not the vCPU is inside KVM_RUN at that moment.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../accel.h"
#include "../log.h"
#include "../vm.h"

#define KICK_SIGNAL SIGUSR1

struct kvm_vm {
	int kvm, fd;
	int run_size;
	struct kvm_cpuid2 *cpuid;
	int tsc_deadline; /* KVM_CAP_TSC_DEADLINE_TIMER */
};

struct kvm_cpu {
	int fd;
	struct kvm_run *run;
};

static void kick_handler(int sig)
{
	(void)sig;
}

static struct kvm_cpuid2 *supported_cpuid(int kvm)
{
	for (int n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return NULL;
		c->nent = n;
		if (!ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c))
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

/* The supported CPUID's entry for (leaf, sub), as cpumodel_missing asks. */
static void supported_leaf(void *opaque, uint32_t leaf, uint32_t sub,
			   uint32_t r[4])
{
	const struct kvm_cpuid2 *c = opaque;

	memset(r, 0, 16);
	for (unsigned i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == leaf &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == sub)) {
			r[0] = e->eax;
			r[1] = e->ebx;
			r[2] = e->ecx;
			r[3] = e->edx;
			return;
		}
	}
}

static int set_slot(struct vm *vm, struct mem_region *r, int add)
{
	struct kvm_vm *k = vm->accel_priv;
	struct kvm_userspace_memory_region m = {
		.slot = r->slot,
		.flags = (r->kind == MEM_ROM ? KVM_MEM_READONLY : 0) |
			 (r->dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0),
		.guest_phys_addr = r->gpa,
		.memory_size = add ? r->size : 0,
		.userspace_addr = (uintptr_t)r->hva,
	};

	return ioctl(k->fd, KVM_SET_USER_MEMORY_REGION, &m) ? -errno : 0;
}

/*
 * GSIs 0-15 to the 8259 pair and GSIs 0-23 to the I/O APIC, as QEMU's
 * kvm_pc_setup_irq_routing() does: GSI 0 (the 8254) reaches I/O APIC pin
 * 2, as the MADT's IRQ0 override says (KVM's own default is pin 0), and
 * GSI 2 (the cascade) has no route.
 */
static int set_gsi_routing(struct kvm_vm *k)
{
	struct {
		struct kvm_irq_routing r;
		struct kvm_irq_routing_entry e[16 + 24];
	} t;
	unsigned n = 0;

	memset(&t, 0, sizeof(t));
	for (unsigned i = 0; i < 16; i++) {
		if (i == 2)
			continue;
		t.e[n].gsi = i;
		t.e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		t.e[n].u.irqchip.irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
		t.e[n++].u.irqchip.pin = i % 8;
	}
	for (unsigned i = 0; i < 24; i++) {
		if (i == 2)
			continue;
		t.e[n].gsi = i;
		t.e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		t.e[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		t.e[n++].u.irqchip.pin = i ? i : 2;
	}
	t.r.nr = n;
	return ioctl(k->fd, KVM_SET_GSI_ROUTING, &t.r) ? -errno : 0;
}

/* The VM fd with its memory slots, irqchip (routed as above) and PIT. */
static int open_vm(struct vm *vm, struct kvm_vm *k)
{
	struct kvm_pit_config pit = { .flags = 0 };
	int rc;

	k->fd = ioctl(k->kvm, KVM_CREATE_VM, 0);
	if (k->fd < 0)
		return -errno;
	if (ioctl(k->fd, KVM_SET_TSS_ADDR, 0xfffbd000ul) ||
	    ioctl(k->fd, KVM_SET_IDENTITY_MAP_ADDR, &(uint64_t){ 0xfffbc000ul }) ||
	    ioctl(k->fd, KVM_CREATE_IRQCHIP, 0))
		return -errno;
	if ((rc = set_gsi_routing(k)))
		return rc;
	if (ioctl(k->fd, KVM_CREATE_PIT2, &pit))
		return -errno;
	for (int i = 0; i < vm->mem.n; i++)
		if (vm->mem.r[i].size && (rc = set_slot(vm, &vm->mem.r[i], 1)))
			return rc;
	return 0;
}

static int kvm_vm_create(struct vm *vm)
{
	struct kvm_vm *k = calloc(1, sizeof(*k));
	struct sigaction sa = { .sa_handler = kick_handler };
	int rc;

	if (!k)
		return -ENOMEM;
	vm->accel_priv = k;
	k->fd = -1;
	k->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->kvm < 0)
		return -errno;
	k->run_size = ioctl(k->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->run_size <= 0)
		return -errno;
	if ((rc = open_vm(vm, k)))
		return rc;
	k->tsc_deadline = ioctl(k->kvm, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	k->cpuid = supported_cpuid(k->kvm);
	if (!k->cpuid)
		return -errno ? -errno : -ENOMEM;
	{
		const char *miss = cpumodel_missing(&vm->cpu_model,
						    supported_leaf, k->cpuid);

		if (miss)
			return vm_cpu_missing(vm, miss);
	}
	sigemptyset(&sa.sa_mask);
	sigaction(KICK_SIGNAL, &sa, NULL);
	return 0;
}

static void kvm_vm_destroy(struct vm *vm)
{
	struct kvm_vm *k = vm->accel_priv;

	if (!k)
		return;
	if (k->fd >= 0)
		close(k->fd);
	if (k->kvm >= 0)
		close(k->kvm);
	free(k->cpuid);
	free(k);
	vm->accel_priv = NULL;
}

static int kvm_mem_update(struct vm *vm, struct mem_region *r, int add)
{
	return set_slot(vm, r, add);
}

/* The slot again with KVM_MEM_LOG_DIRTY_PAGES as r->dirty says (set_slot
 * reads it); an unplaced region gets the flag when it is placed. */
static int kvm_dirty_log_start(struct vm *vm, struct mem_region *r)
{
	return r->size ? set_slot(vm, r, 1) : 0;
}

static void kvm_dirty_log_stop(struct vm *vm, struct mem_region *r)
{
	if (r->size)
		set_slot(vm, r, 1);
}

/* KVM_GET_DIRTY_LOG hands over the slot's bitmap and re-protects what it
 * reported, so the next call sees only later writes. */
static int kvm_dirty_log_get(struct vm *vm, struct mem_region *r,
			     uint64_t *bitmap)
{
	struct kvm_vm *k = vm->accel_priv;
	size_t words = mem_log_bytes(r->size) / 8;
	struct kvm_dirty_log log = { .slot = r->slot };
	uint64_t *tmp;
	int rc = 0;

	if (!r->size)
		return 0;
	if (!(tmp = calloc(words, 8)))
		return -ENOMEM;
	log.dirty_bitmap = tmp;
	if (ioctl(k->fd, KVM_GET_DIRTY_LOG, &log))
		rc = -errno;
	for (size_t w = 0; !rc && w < words; w++)
		if (tmp[w])
			__atomic_fetch_or(&bitmap[w], tmp[w], __ATOMIC_SEQ_CST);
	free(tmp);
	return rc;
}

/* KVM's supported CPUID, made per-vCPU: APIC ids, and the hypervisor bit,
 * then filtered by [vm] cpu =. KVM checks the MSRs and EFER bits of
 * SPEC_CTRL, PRED_CMD, FLUSH_CMD, ARCH_CAPABILITIES, NX, LM, RDTSCP...
 * against this CPUID itself, so hidden ones #GP as on accel=emu. */
static int set_cpuid(struct vcpu *cpu, struct kvm_cpu *c, struct kvm_vm *k)
{
	size_t sz = sizeof(*k->cpuid) + k->cpuid->nent * sizeof(k->cpuid->entries[0]);
	struct kvm_cpuid2 *id = malloc(sz);
	int rc;

	if (!id)
		return -ENOMEM;
	memcpy(id, k->cpuid, sz);
	for (unsigned i = 0; i < id->nent; i++) {
		struct kvm_cpuid_entry2 *e = &id->entries[i];

		if (e->function == 1) {
			e->ebx = (e->ebx & 0x0000ffff) | ((uint32_t)cpu->index << 24) |
				 ((uint32_t)cpu->vm->ncpus << 16);
			e->ecx |= 1u << 31;
			/* KVM_GET_SUPPORTED_CPUID leaves TSC-deadline to us: the
			 * in-kernel LAPIC has it when the capability says so */
			if (k->tsc_deadline)
				e->ecx |= 1u << 24;
			if (cpu->vm->ncpus > 1)
				e->edx |= 1u << 28; /* HTT: several logical CPUs */
		} else if (e->function == 0xb || e->function == 0x1f) {
			e->edx = cpu->index;
		}
		{
			uint32_t r[4] = { e->eax, e->ebx, e->ecx, e->edx };

			cpumodel_apply(&cpu->vm->cpu_model, e->function, e->index, r);
			e->eax = r[0];
			e->ebx = r[1];
			e->ecx = r[2];
			e->edx = r[3];
		}
	}
	rc = ioctl(c->fd, KVM_SET_CPUID2, id) ? -errno : 0;
	free(id);
	return rc;
}

static int open_vcpu(struct vcpu *cpu, struct kvm_cpu *c)
{
	struct kvm_vm *k = cpu->vm->accel_priv;

	c->fd = ioctl(k->fd, KVM_CREATE_VCPU, cpu->index);
	if (c->fd < 0)
		return -errno;
	c->run = mmap(NULL, k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      c->fd, 0);
	if (c->run == MAP_FAILED) {
		c->run = NULL;
		return -errno;
	}
	return set_cpuid(cpu, c, k);
}

static int kvm_vcpu_create(struct vcpu *cpu)
{
	struct kvm_cpu *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	cpu->accel = c;
	return open_vcpu(cpu, c);
}

static void close_vcpu(struct vcpu *cpu, struct kvm_cpu *c)
{
	struct kvm_vm *k = cpu->vm->accel_priv;

	if (c->run)
		munmap(c->run, k->run_size);
	if (c->fd >= 0)
		close(c->fd);
	c->run = NULL;
	c->fd = -1;
}

static void kvm_vcpu_destroy(struct vcpu *cpu)
{
	struct kvm_cpu *c = cpu->accel;

	if (!c)
		return;
	close_vcpu(cpu, c);
	free(c);
	cpu->accel = NULL;
}

/*
 * A system reset builds the KVM VM afresh: new in-kernel PIC, IOAPIC, PIT
 * and local APICs in their power-on state, and vCPUs with nothing left of
 * the shutdown that may have caused the reset (under a nested, emulated
 * SVM a vCPU re-entered after a triple fault never ran again). Guest RAM
 * is ours, not KVM's, and simply gets mapped again.
 */
static int kvm_vm_reset(struct vm *vm)
{
	struct kvm_vm *k = vm->accel_priv;
	int rc;

	for (int i = 0; i < vm->ncpus; i++)
		close_vcpu(&vm->cpu[i], vm->cpu[i].accel);
	close(k->fd);
	if ((rc = open_vm(vm, k)))
		return rc;
	for (int i = 0; i < vm->ncpus; i++)
		if ((rc = open_vcpu(&vm->cpu[i], vm->cpu[i].accel)))
			return rc;
	return 0;
}

static void seg_to_kvm(struct kvm_segment *k, const struct x86_seg *s)
{
	*k = (struct kvm_segment){
		.base = s->base, .limit = s->limit, .selector = s->sel,
		.type = s->type, .present = s->present, .dpl = s->dpl,
		.db = s->db, .s = s->s, .l = s->l, .g = s->g, .avl = s->avl,
		.unusable = s->unusable,
	};
}

static void seg_from_kvm(struct x86_seg *s, const struct kvm_segment *k)
{
	*s = (struct x86_seg){
		.base = k->base, .limit = k->limit, .sel = k->selector,
		.type = k->type, .present = k->present, .dpl = k->dpl,
		.db = k->db, .s = k->s, .l = k->l, .g = k->g, .avl = k->avl,
		.unusable = k->unusable,
	};
}

static void lapic_set(struct kvm_lapic_state *l, unsigned reg, uint32_t v)
{
	memcpy(&l->regs[reg], &v, 4);
}

/*
 * A power-on local APIC and no event left over from before: a reset after
 * a triple fault must not re-inject the exception that caused it. The BSP's
 * LINT0 takes the PIC's ExtINT and LINT1 the NMI, as PC firmware sets them.
 */
static int reset_events(struct kvm_cpu *c, int bsp)
{
	struct kvm_vcpu_events ev = { .flags = KVM_VCPUEVENT_VALID_NMI_PENDING };
	struct kvm_lapic_state l;

	if (ioctl(c->fd, KVM_SET_VCPU_EVENTS, &ev) || ioctl(c->fd, KVM_GET_LAPIC, &l))
		return -errno;
	memset(&l.regs[0x80], 0, 0x400 - 0x80); /* TPR .. TDCR */
	lapic_set(&l, 0xe0, 0xffffffff);   /* DFR: flat */
	lapic_set(&l, 0xf0, 0xff);         /* SVR: software-disabled */
	for (unsigned r = 0x320; r <= 0x370; r += 0x10)
		lapic_set(&l, r, 0x10000); /* every LVT masked */
	if (bsp) {
		lapic_set(&l, 0x350, 0x700); /* LINT0: ExtINT */
		lapic_set(&l, 0x360, 0x400); /* LINT1: NMI */
	}
	return ioctl(c->fd, KVM_SET_LAPIC, &l) ? -errno : 0;
}

static int kvm_vcpu_set_state(struct vcpu *cpu, const struct x86_state *st)
{
	struct kvm_cpu *c = cpu->accel;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	struct kvm_mp_state mp = {
		.mp_state = st->apic_base & (1ull << 8) ? KVM_MP_STATE_RUNNABLE :
							  KVM_MP_STATE_UNINITIALIZED,
	};
	struct kvm_segment *segs[8];
	int rc;

	if (ioctl(c->fd, KVM_GET_SREGS, &sregs))
		return -errno;
	segs[X86_ES] = &sregs.es, segs[X86_CS] = &sregs.cs;
	segs[X86_SS] = &sregs.ss, segs[X86_DS] = &sregs.ds;
	segs[X86_FS] = &sregs.fs, segs[X86_GS] = &sregs.gs;
	segs[X86_LDTR] = &sregs.ldt, segs[X86_TR] = &sregs.tr;
	for (int i = 0; i < 8; i++)
		seg_to_kvm(segs[i], &st->seg[i]);
	sregs.gdt = (struct kvm_dtable){ .base = st->gdt.base, .limit = st->gdt.limit };
	sregs.idt = (struct kvm_dtable){ .base = st->idt.base, .limit = st->idt.limit };
	sregs.cr0 = st->cr0, sregs.cr2 = st->cr2, sregs.cr3 = st->cr3;
	sregs.cr4 = st->cr4, sregs.cr8 = st->cr8, sregs.efer = st->efer;
	sregs.apic_base = st->apic_base;
	memset(sregs.interrupt_bitmap, 0, sizeof(sregs.interrupt_bitmap));
	regs.rax = st->gpr[X86_RAX], regs.rbx = st->gpr[X86_RBX];
	regs.rcx = st->gpr[X86_RCX], regs.rdx = st->gpr[X86_RDX];
	regs.rsi = st->gpr[X86_RSI], regs.rdi = st->gpr[X86_RDI];
	regs.rsp = st->gpr[X86_RSP], regs.rbp = st->gpr[X86_RBP];
	regs.r8 = st->gpr[X86_R8], regs.r9 = st->gpr[X86_R9];
	regs.r10 = st->gpr[X86_R10], regs.r11 = st->gpr[X86_R11];
	regs.r12 = st->gpr[X86_R12], regs.r13 = st->gpr[X86_R13];
	regs.r14 = st->gpr[X86_R14], regs.r15 = st->gpr[X86_R15];
	regs.rip = st->rip;
	regs.rflags = st->rflags | 2;
	if (ioctl(c->fd, KVM_SET_SREGS, &sregs) || ioctl(c->fd, KVM_SET_REGS, &regs) ||
	    ioctl(c->fd, KVM_SET_FPU, &fpu))
		return -errno;
	rc = reset_events(c, mp.mp_state == KVM_MP_STATE_RUNNABLE);
	if (!rc && ioctl(c->fd, KVM_SET_MP_STATE, &mp))
		rc = -errno;
	return rc;
}

static int kvm_vcpu_get_state(struct vcpu *cpu, struct x86_state *st)
{
	struct kvm_cpu *c = cpu->accel;
	struct kvm_sregs s;
	struct kvm_regs r;

	if (ioctl(c->fd, KVM_GET_SREGS, &s) || ioctl(c->fd, KVM_GET_REGS, &r))
		return -errno;
	memset(st, 0, sizeof(*st));
	seg_from_kvm(&st->seg[X86_ES], &s.es), seg_from_kvm(&st->seg[X86_CS], &s.cs);
	seg_from_kvm(&st->seg[X86_SS], &s.ss), seg_from_kvm(&st->seg[X86_DS], &s.ds);
	seg_from_kvm(&st->seg[X86_FS], &s.fs), seg_from_kvm(&st->seg[X86_GS], &s.gs);
	seg_from_kvm(&st->seg[X86_LDTR], &s.ldt), seg_from_kvm(&st->seg[X86_TR], &s.tr);
	st->gdt = (struct x86_dtable){ s.gdt.base, s.gdt.limit };
	st->idt = (struct x86_dtable){ s.idt.base, s.idt.limit };
	st->cr0 = s.cr0, st->cr2 = s.cr2, st->cr3 = s.cr3, st->cr4 = s.cr4;
	st->cr8 = s.cr8, st->efer = s.efer, st->apic_base = s.apic_base;
	st->gpr[X86_RAX] = r.rax, st->gpr[X86_RBX] = r.rbx, st->gpr[X86_RCX] = r.rcx;
	st->gpr[X86_RDX] = r.rdx, st->gpr[X86_RSI] = r.rsi, st->gpr[X86_RDI] = r.rdi;
	st->gpr[X86_RSP] = r.rsp, st->gpr[X86_RBP] = r.rbp, st->gpr[X86_R8] = r.r8;
	st->gpr[X86_R9] = r.r9, st->gpr[X86_R10] = r.r10, st->gpr[X86_R11] = r.r11;
	st->gpr[X86_R12] = r.r12, st->gpr[X86_R13] = r.r13, st->gpr[X86_R14] = r.r14;
	st->gpr[X86_R15] = r.r15, st->rip = r.rip, st->rflags = r.rflags;
	return 0;
}

static void handle_io(struct vcpu *cpu, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned size = run->io.size;
	int write = run->io.direction == KVM_EXIT_IO_OUT;

	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		uint64_t v = 0;

		if (write)
			memcpy(&v, data, size);
		vm_pio(cpu->vm, run->io.port, size, write, &v);
		if (!write)
			memcpy(data, &v, size);
	}
}

static void handle_mmio(struct vcpu *cpu, struct kvm_run *run)
{
	uint64_t v = 0;
	unsigned len = run->mmio.len;

	if (len != 1 && len != 2 && len != 4 && len != 8)
		return;
	if (run->mmio.is_write) {
		memcpy(&v, run->mmio.data, len);
		/* writes to ROM land here too: no region, dropped */
		vm_mmio(cpu->vm, run->mmio.phys_addr, len, 1, &v);
	} else {
		vm_mmio(cpu->vm, run->mmio.phys_addr, len, 0, &v);
		memcpy(run->mmio.data, &v, len);
	}
}

static const char *internal_name(unsigned sub)
{
	switch (sub) {
	case KVM_INTERNAL_ERROR_EMULATION: return "instruction emulation failed";
	case KVM_INTERNAL_ERROR_SIMUL_EX: return "exception while delivering an exception";
	case KVM_INTERNAL_ERROR_DELIVERY_EV: return "event delivery failed";
	case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON: return "unexpected exit reason";
	default: return "unknown suberror";
	}
}

/*
 * The instruction at CS:RIP, as hex: from KVM's emulation-failure record
 * when it has one, else from guest memory through the vCPU's page tables.
 */
static void insn_bytes(struct vcpu *cpu, struct kvm_cpu *c, const struct kvm_sregs *s,
		       uint64_t rip, char *out, size_t n)
{
	struct kvm_run *run = c->run;
	struct kvm_translation tr = { 0 };
	uint8_t b[15];
	unsigned len = 0;
	size_t at = 0;

	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR &&
	    run->emulation_failure.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    run->emulation_failure.ndata >= 3 &&
	    (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		len = run->emulation_failure.insn_size;
		memcpy(b, run->emulation_failure.insn_bytes, len > 15 ? 15 : len);
	} else {
		tr.linear_address = s->cs.base + (s->cs.l ? rip : (uint32_t)rip);
		if (!ioctl(c->fd, KVM_TRANSLATE, &tr) && tr.valid)
			for (len = 0; len < sizeof(b); len++)
				if (mem_read(&cpu->vm->mem, tr.physical_address + len, &b[len], 1))
					break;
	}
	if (len > sizeof(b))
		len = sizeof(b);
	snprintf(out, n, "%s", len ? "" : "unreadable");
	for (unsigned i = 0; i < len && at + 4 < n; i++)
		at += snprintf(out + at, n - at, "%s%02x", i ? " " : "", b[i]);
}

/* One line saying where the vCPU stopped and on what. */
static void report_stop(struct vcpu *cpu, struct kvm_cpu *c, int level,
			const char *what)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char bytes[64];

	if (ioctl(c->fd, KVM_GET_REGS, &r) || ioctl(c->fd, KVM_GET_SREGS, &s)) {
		log_msg(level, "vCPU %d: %s (registers unreadable)", cpu->index, what);
		return;
	}
	insn_bytes(cpu, c, &s, r.rip, bytes, sizeof(bytes));
	log_msg(level, "vCPU %d: %s at CS:RIP %04x:%016llx (CR0 %llx, EFER %llx), "
		"instruction bytes: %s", cpu->index, what, s.cs.selector,
		(unsigned long long)r.rip, (unsigned long long)s.cr0,
		(unsigned long long)s.efer, bytes);
}

static void report_internal(struct vcpu *cpu, struct kvm_cpu *c)
{
	struct kvm_run *run = c->run;
	char what[256];
	int at;

	at = snprintf(what, sizeof(what), "KVM internal error: %s (suberror %u)",
		      internal_name(run->internal.suberror), run->internal.suberror);
	for (unsigned i = 0; i < run->internal.ndata && i < 4 && at < (int)sizeof(what); i++)
		at += snprintf(what + at, sizeof(what) - at, "%s%llx", i ? " " : ", data ",
			       (unsigned long long)run->internal.data[i]);
	report_stop(cpu, c, LOG_ERR, what);
}

static int kvm_vcpu_run(struct vcpu *cpu)
{
	struct kvm_cpu *c = cpu->accel;
	struct kvm_run *run = c->run;

	for (;;) {
		if (atomic_load(&cpu->request) || atomic_load(&cpu->vm->stopping))
			return VCPU_EXIT_KICK;
		if (ioctl(c->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				run->immediate_exit = 0;
				return VCPU_EXIT_KICK;
			}
			err("vCPU %d: KVM_RUN: %s", cpu->index, strerror(errno));
			return VCPU_EXIT_ERROR;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			handle_io(cpu, run);
			break;
		case KVM_EXIT_MMIO:
			handle_mmio(cpu, run);
			break;
		case KVM_EXIT_SHUTDOWN:
			report_stop(cpu, c, LOG_WARN, "shutdown (triple fault)");
			return VCPU_EXIT_SHUTDOWN;
		case KVM_EXIT_SYSTEM_EVENT:
			if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
				return VCPU_EXIT_SHUTDOWN;
			vm_request_exit(cpu->vm, VM_EXIT_POWEROFF, 0);
			return VCPU_EXIT_KICK;
		case KVM_EXIT_HLT:
			return VCPU_EXIT_HALT;
		case KVM_EXIT_INTR:
			return VCPU_EXIT_KICK;
		case KVM_EXIT_FAIL_ENTRY: {
			char what[96];

			snprintf(what, sizeof(what), "VM entry failed, hardware reason 0x%llx",
				 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			report_stop(cpu, c, LOG_ERR, what);
			return VCPU_EXIT_ERROR;
		}
		case KVM_EXIT_INTERNAL_ERROR:
			report_internal(cpu, c);
			return VCPU_EXIT_ERROR;
		default:
			err("vCPU %d: unhandled KVM exit %u", cpu->index, run->exit_reason);
			return VCPU_EXIT_ERROR;
		}
	}
}

static void kvm_vcpu_kick(struct vcpu *cpu)
{
	struct kvm_cpu *c = cpu->accel;

	if (!c || !c->run)
		return;
	c->run->immediate_exit = 1;
	if (cpu->started && !pthread_equal(pthread_self(), cpu->thread))
		pthread_kill(cpu->thread, KICK_SIGNAL);
}

static int kvm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	struct kvm_vm *k = vm->accel_priv;
	struct kvm_irq_level l = { .irq = gsi, .level = level };

	return ioctl(k->fd, KVM_IRQ_LINE, &l) ? -errno : 0;
}

static int kvm_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_vm *k = vm->accel_priv;
	struct kvm_msi m = { .address_lo = (uint32_t)addr,
			     .address_hi = (uint32_t)(addr >> 32), .data = data };

	return ioctl(k->fd, KVM_SIGNAL_MSI, &m) < 0 ? -errno : 0;
}

const struct accel_ops accel_kvm = {
	.name = "kvm",
	.vm_create = kvm_vm_create,
	.vm_destroy = kvm_vm_destroy,
	.mem_update = kvm_mem_update,
	.dirty_log_start = kvm_dirty_log_start,
	.dirty_log_get = kvm_dirty_log_get,
	.dirty_log_stop = kvm_dirty_log_stop,
	.vm_reset = kvm_vm_reset,
	.vcpu_create = kvm_vcpu_create,
	.vcpu_destroy = kvm_vcpu_destroy,
	.vcpu_set_state = kvm_vcpu_set_state,
	.vcpu_get_state = kvm_vcpu_get_state,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.irq_line = kvm_irq_line,
	.msi = kvm_msi,
};
