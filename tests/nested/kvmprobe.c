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
 * Output is TAP-lite: "ok kvm-probe" or "not ok kvm-probe - <reason>", and
 * the exit status is 0 only for "ok".
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
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

static int fail(struct probe *p, const char *what, int err)
{
	snprintf(p->why, sizeof(p->why), "%s%s%s", what, err ? ": " : "",
		 err ? strerror(err) : "");
	return -1;
}

static int probe_open(struct probe *p)
{
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
	int ret = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (probe_open(&p) || probe_k(&p)) {
		printf("not ok kvm-probe - %s\n", p.why);
		goto out_close;
	}
	printf("ok kvm-probe\n");
	probe_bench(&p);
	ret = 0;
out_close:
	probe_close(&p);
	return ret;
}
