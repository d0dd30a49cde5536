// SPDX-License-Identifier: MIT
/*
 * kvmprobe: prove that /dev/kvm works, without any of hv.
 *
 * The nested harness runs this inside its L1 guest before trusting hv's own
 * KVM backend there. It creates a VM with one memory slot, runs a few bytes
 * of real-mode code (mov al,'K'; out 0x3f8,al; hlt) and checks the exits:
 * first KVM_EXIT_IO carrying 'K' on port 0x3f8, then KVM_EXIT_HLT. A second
 * guest program loops on OUT to time one PIO exit round trip, reported as a
 * TAP comment.
 *
 * A second VM, with the in-kernel PIC and PIT, checks the path hv's guests
 * live on: the guest programs the PIT, halts with interrupts on, and its
 * IRQ0 handler writes 'T' to port 0x3f8; three ticks must arrive within
 * IRQ_WAIT_S seconds. A halted vCPU blocks in the nested kernel here, which
 * is where emulated SVM has been seen to hang.
 *
 * Output is TAP-lite: "ok kvm-probe" / "ok kvm-probe-irq", or "not ok NAME -
 * <reason>"; the exit status is 0 only when both are ok.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE 0x10000
#define CODE_GPA 0x1000
#define BENCH_GPA 0x2000
#define BENCH_LOOPS 1000
#define SERIAL_PORT 0x3f8
#define IRQ_GPA 0x3000
#define IRQ_HANDLER_GPA 0x3100
#define IRQ_VECTOR 8
#define IRQ_TICKS 3
#define IRQ_WAIT_S 5
#define STACK_TOP 0x8000

struct probe {
	int kvm;
	int vm;
	int vcpu;
	uint8_t *mem;
	struct kvm_run *run;
	size_t run_size;
	char why[160];
};

/* mov al,'K'; mov dx,0x3f8; out dx,al; hlt */
static const uint8_t code_k[] = { 0xb0, 'K', 0xba, 0xf8, 0x03, 0xee, 0xf4 };

/* mov cx,LOOPS; mov dx,0x3f8; mov al,'.'; 1: out dx,al; dec cx; jnz 1b; hlt */
static const uint8_t code_bench[] = {
	0xb9, BENCH_LOOPS & 0xff, BENCH_LOOPS >> 8, 0xba, 0xf8, 0x03,
	0xb0, '.', 0xee, 0x49, 0x75, 0xfc, 0xf4,
};

/*
 * cli; PIC: ICW1 0x11, ICW2 base 8, ICW3 4, ICW4 8086, mask all but IRQ0;
 * PIT channel 0 mode 2, count 11932 (100 Hz); sti; 1: hlt; jmp 1b
 */
static const uint8_t code_irq[] = {
	0xfa,
	0xb0, 0x11, 0xe6, 0x20, 0xb0, 0x08, 0xe6, 0x21,
	0xb0, 0x04, 0xe6, 0x21, 0xb0, 0x01, 0xe6, 0x21,
	0xb0, 0xfe, 0xe6, 0x21,
	0xb0, 0x34, 0xe6, 0x43, 0xb0, 0x9c, 0xe6, 0x40, 0xb0, 0x2e, 0xe6, 0x40,
	0xfb, 0xf4, 0xeb, 0xfd,
};

/* IRQ0 handler: mov al,'T'; mov dx,0x3f8; out dx,al; EOI; iret */
static const uint8_t code_irq_handler[] = {
	0xb0, 'T', 0xba, 0xf8, 0x03, 0xee, 0xb0, 0x20, 0xe6, 0x20, 0xcf,
};

static int fail(struct probe *p, const char *what, int err)
{
	snprintf(p->why, sizeof(p->why), "%s%s%s", what, err ? ": " : "",
		 err ? strerror(err) : "");
	return -1;
}

static int probe_open(struct probe *p, int irqchip)
{
	struct kvm_pit_config pit = { .flags = 0 };
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = MEM_SIZE,
	};
	int api, sz;

	p->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (p->kvm < 0)
		return fail(p, "open /dev/kvm", errno);
	api = ioctl(p->kvm, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		snprintf(p->why, sizeof(p->why), "KVM_GET_API_VERSION returned %d, want %d",
			 api, KVM_API_VERSION);
		return -1;
	}
	if (ioctl(p->kvm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0)
		return fail(p, "KVM_CAP_USER_MEMORY missing", 0);
	p->vm = ioctl(p->kvm, KVM_CREATE_VM, 0);
	if (p->vm < 0)
		return fail(p, "KVM_CREATE_VM", errno);
	if (irqchip && ioctl(p->vm, KVM_CREATE_IRQCHIP, 0) < 0)
		return fail(p, "KVM_CREATE_IRQCHIP", errno);
	if (irqchip && ioctl(p->vm, KVM_CREATE_PIT2, &pit) < 0)
		return fail(p, "KVM_CREATE_PIT2", errno);
	p->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p->mem == MAP_FAILED) {
		p->mem = NULL;
		return fail(p, "mmap guest memory", errno);
	}
	region.userspace_addr = (uintptr_t)p->mem;
	if (ioctl(p->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail(p, "KVM_SET_USER_MEMORY_REGION", errno);
	p->vcpu = ioctl(p->vm, KVM_CREATE_VCPU, 0);
	if (p->vcpu < 0)
		return fail(p, "KVM_CREATE_VCPU", errno);
	sz = ioctl(p->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run))
		return fail(p, "KVM_GET_VCPU_MMAP_SIZE", errno);
	p->run_size = (size_t)sz;
	p->run = mmap(NULL, p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->vcpu, 0);
	if (p->run == MAP_FAILED) {
		p->run = NULL;
		return fail(p, "mmap kvm_run", errno);
	}
	return 0;
}

/* Real mode, CS:IP = 0:gpa, flat segments at base 0. */
static int probe_reset(struct probe *p, uint64_t gpa)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(p->vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail(p, "KVM_GET_SREGS", errno);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(p->vcpu, KVM_SET_SREGS, &sregs) < 0)
		return fail(p, "KVM_SET_SREGS", errno);
	memset(&regs, 0, sizeof(regs));
	regs.rip = gpa;
	regs.rsp = STACK_TOP;
	regs.rflags = 0x2;
	if (ioctl(p->vcpu, KVM_SET_REGS, &regs) < 0)
		return fail(p, "KVM_SET_REGS", errno);
	return 0;
}

static int probe_run(struct probe *p)
{
	if (ioctl(p->vcpu, KVM_RUN, 0) < 0)
		return fail(p, "KVM_RUN", errno);
	return 0;
}

static int is_serial_out(const struct kvm_run *run, uint8_t *byte)
{
	if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
	    run->io.port != SERIAL_PORT || run->io.size != 1 || run->io.count != 1)
		return 0;
	*byte = *((const uint8_t *)run + run->io.data_offset);
	return 1;
}

static int probe_k(struct probe *p)
{
	uint8_t byte = 0;

	memcpy(p->mem + CODE_GPA, code_k, sizeof(code_k));
	if (probe_reset(p, CODE_GPA) || probe_run(p))
		return -1;
	if (!is_serial_out(p->run, &byte) || byte != 'K') {
		snprintf(p->why, sizeof(p->why),
			 "first exit: reason %u port %#x byte %#x, want KVM_EXIT_IO 'K' on 0x3f8",
			 p->run->exit_reason, p->run->io.port, byte);
		return -1;
	}
	if (probe_run(p))
		return -1;
	if (p->run->exit_reason != KVM_EXIT_HLT) {
		snprintf(p->why, sizeof(p->why), "second exit: reason %u, want KVM_EXIT_HLT (%u)",
			 p->run->exit_reason, KVM_EXIT_HLT);
		return -1;
	}
	return 0;
}

/* Times BENCH_LOOPS PIO exits; a diagnostic only, never a failure cause. */
static void probe_bench(struct probe *p)
{
	struct timespec t0, t1;
	uint8_t byte;
	int outs = 0;
	double us;

	memcpy(p->mem + BENCH_GPA, code_bench, sizeof(code_bench));
	if (probe_reset(p, BENCH_GPA))
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (probe_run(p))
			return;
		if (!is_serial_out(p->run, &byte))
			break;
		outs++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
	if (p->run->exit_reason == KVM_EXIT_HLT && outs == BENCH_LOOPS)
		printf("# kvm-probe: %d PIO exits, %.1f us each\n", outs, us / outs);
	else
		printf("# kvm-probe: bench stopped after %d exits (reason %u)\n", outs,
		       p->run->exit_reason);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int probe_irq(struct probe *p)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	uint16_t ivt[2] = { IRQ_HANDLER_GPA, 0 };
	struct timespec t0, t1;
	uint8_t byte = 0;
	int ticks = 0, ret = -1;

	memcpy(p->mem + IRQ_VECTOR * 4, ivt, sizeof(ivt));
	memcpy(p->mem + IRQ_GPA, code_irq, sizeof(code_irq));
	memcpy(p->mem + IRQ_HANDLER_GPA, code_irq_handler, sizeof(code_irq_handler));
	if (probe_reset(p, IRQ_GPA))
		return -1;
	/* No SA_RESTART: the alarm makes a KVM_RUN stuck in a halt return EINTR. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(IRQ_WAIT_S);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ticks < IRQ_TICKS) {
		if (ioctl(p->vcpu, KVM_RUN, 0) < 0) {
			snprintf(p->why, sizeof(p->why), "%d of %d timer ticks within %d s (KVM_RUN: %s)",
				 ticks, IRQ_TICKS, IRQ_WAIT_S, strerror(errno));
			goto out_alarm;
		}
		if (!is_serial_out(p->run, &byte) || byte != 'T') {
			snprintf(p->why, sizeof(p->why), "unexpected exit: reason %u after %d ticks",
				 p->run->exit_reason, ticks);
			goto out_alarm;
		}
		ticks++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# kvm-probe-irq: %d ticks of the 100 Hz PIT in %.1f ms\n", ticks,
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	ret = 0;
out_alarm:
	alarm(0);
	return ret;
}

static void probe_close(struct probe *p)
{
	if (p->run)
		munmap(p->run, p->run_size);
	if (p->mem)
		munmap(p->mem, MEM_SIZE);
	if (p->vcpu >= 0)
		close(p->vcpu);
	if (p->vm >= 0)
		close(p->vm);
	if (p->kvm >= 0)
		close(p->kvm);
}

int main(void)
{
	struct probe p = { .kvm = -1, .vm = -1, .vcpu = -1 };
	struct probe q = { .kvm = -1, .vm = -1, .vcpu = -1 };
	int ret = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (probe_open(&p, 0) || probe_k(&p)) {
		printf("not ok kvm-probe - %s\n", p.why);
		ret = 1;
	} else {
		printf("ok kvm-probe\n");
		probe_bench(&p);
	}
	probe_close(&p);

	if (probe_open(&q, 1) || probe_irq(&q)) {
		printf("not ok kvm-probe-irq - %s\n", q.why);
		ret = 1;
	} else {
		printf("ok kvm-probe-irq\n");
	}
	probe_close(&q);
	return ret;
}
