// SPDX-License-Identifier: MIT
/*
 * bare: bench/exit's peer, a KVM client with none of hv in it. It runs the
 * same guest image (exit.bin) on raw /dev/kvm ioctls and answers its exits
 * the least a VMM can: the data port and the MMIO page keep the last value
 * written, the control port gives the loop count and timestamps phase
 * markers with CLOCK_MONOTONIC (the clock behind hv_clock_ns), port 0xf4
 * ends the run. The VM is set up as hv's KVM backend sets up its own (TSS
 * and identity-map addresses, in-kernel irqchip and PIT, the supported
 * CPUID), so both pay for the same kernel-side exit.
 *
 *   bare IMAGE LOOPS ROUNDS
 * prints "exitbench: loops=N pio_ns=T mmio_ns=T" after each round, or
 * "bare: <why>" on stderr and exits 1.
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

#define MEM_SIZE    (2u << 20)
#define LOAD_GPA    0x7c00
#define DATA_PORT   0x4e0
#define CTL_PORT    (DATA_PORT + 4)
#define ROUNDS_PORT (DATA_PORT + 8)
#define EXIT_PORT   0xf4
#define MMIO_GPA    0xd0000000ull
#define MMIO_LEN    0x1000
#define PHASES	    3

struct bare {
	int kvm, vm, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
	uint32_t loops, rounds, done;
	uint64_t pio_val, mmio_val;
	uint64_t t[PHASES + 1];
};

static int die(const char *what)
{
	fprintf(stderr, "bare: %s%s%s\n", what, errno ? ": " : "",
		errno ? strerror(errno) : "");
	return 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int load_image(struct bare *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, b->mem + LOAD_GPA, MEM_SIZE - LOAD_GPA);
	close(fd);
	return n > 0 ? 0 : -1;
}

static int set_cpuid(struct bare *b)
{
	struct kvm_cpuid2 *c;
	int rc = -1;

	for (int n = 64; n <= 4096; n *= 2) {
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return -1;
		c->nent = n;
		if (!ioctl(b->kvm, KVM_GET_SUPPORTED_CPUID, c)) {
			rc = ioctl(b->vcpu, KVM_SET_CPUID2, c);
			free(c);
			return rc;
		}
		free(c);
		if (errno != E2BIG)
			break;
	}
	return rc;
}

static int setup(struct bare *b, const char *image)
{
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	struct kvm_userspace_memory_region slot = {.memory_size = MEM_SIZE};
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = LOAD_GPA, .rsp = LOAD_GPA, .rflags = 0x2};
	int sz;

	errno = 0;
	b->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (b->kvm < 0)
		return die("open /dev/kvm");
	b->vm = ioctl(b->kvm, KVM_CREATE_VM, 0);
	if (b->vm < 0)
		return die("KVM_CREATE_VM");
	if (ioctl(b->vm, KVM_SET_TSS_ADDR, 0xfffbd000ul) ||
	    ioctl(b->vm, KVM_SET_IDENTITY_MAP_ADDR,
		  &(uint64_t){0xfffbc000ul}) ||
	    ioctl(b->vm, KVM_CREATE_IRQCHIP, 0) ||
	    ioctl(b->vm, KVM_CREATE_PIT2, &pit))
		return die("VM set-up (TSS, identity map, irqchip, PIT)");
	b->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->mem == MAP_FAILED)
		return die("mmap guest memory");
	if (load_image(b, image))
		return die(image);
	slot.userspace_addr = (uintptr_t)b->mem;
	if (ioctl(b->vm, KVM_SET_USER_MEMORY_REGION, &slot))
		return die("KVM_SET_USER_MEMORY_REGION");
	b->vcpu = ioctl(b->vm, KVM_CREATE_VCPU, 0);
	if (b->vcpu < 0)
		return die("KVM_CREATE_VCPU");
	if (set_cpuid(b))
		return die("KVM_SET_CPUID2");
	sz = ioctl(b->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz <= 0)
		return die("KVM_GET_VCPU_MMAP_SIZE");
	b->run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED,
		      b->vcpu, 0);
	if (b->run == MAP_FAILED)
		return die("mmap kvm_run");
	if (ioctl(b->vcpu, KVM_GET_SREGS, &sregs))
		return die("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(b->vcpu, KVM_SET_SREGS, &sregs) ||
	    ioctl(b->vcpu, KVM_SET_REGS, &regs))
		return die("KVM_SET_SREGS/REGS");
	return 0;
}

/* 0 to go on, 1 when the guest asked to stop, -1 on an exit it should not make.
 */
static int on_io(struct bare *b)
{
	struct kvm_run *r = b->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	int out = r->io.direction == KVM_EXIT_IO_OUT;
	uint64_t v = 0;

	if (r->io.count != 1 || r->io.size > 4)
		return -1;
	if (out)
		memcpy(&v, data, r->io.size);
	switch (r->io.port) {
	case DATA_PORT:
		if (out)
			b->pio_val = v;
		else
			memcpy(data, &b->pio_val, r->io.size);
		return 0;
	case CTL_PORT:
		if (!out) {
			memcpy(data, &b->loops, r->io.size);
			return 0;
		}
		if (v < 1 || v > PHASES)
			return -1;
		b->t[v] = now_ns();
		if (v == PHASES) {
			printf("exitbench: loops=%u pio_ns=%llu mmio_ns=%llu\n",
			       b->loops,
			       (unsigned long long)(b->t[2] - b->t[1]),
			       (unsigned long long)(b->t[3] - b->t[2]));
			b->done++;
		}
		return 0;
	case ROUNDS_PORT:
		if (out)
			return -1;
		memcpy(data, &b->rounds, r->io.size);
		return 0;
	case EXIT_PORT:
		return 1;
	}
	return -1;
}

static int on_mmio(struct bare *b)
{
	struct kvm_run *r = b->run;

	if (r->mmio.phys_addr < MMIO_GPA ||
	    r->mmio.phys_addr >= MMIO_GPA + MMIO_LEN || r->mmio.len > 8)
		return -1;
	if (r->mmio.is_write)
		memcpy(&b->mmio_val, r->mmio.data, r->mmio.len);
	else
		memcpy(r->mmio.data, &b->mmio_val, r->mmio.len);
	return 0;
}

int main(int argc, char **argv)
{
	struct bare b = {.kvm = -1, .vm = -1, .vcpu = -1};
	int rc = 0;

	if (argc != 4 || atoi(argv[2]) < 1 || atoi(argv[3]) < 1) {
		fprintf(stderr, "usage: bare IMAGE LOOPS ROUNDS\n");
		return 2;
	}
	b.loops = (uint32_t)atoi(argv[2]);
	b.rounds = (uint32_t)atoi(argv[3]);
	if (setup(&b, argv[1]))
		return 1;
	while (!rc) {
		errno = 0;
		if (ioctl(b.vcpu, KVM_RUN, 0) < 0)
			return die("KVM_RUN");
		if (b.run->exit_reason == KVM_EXIT_IO)
			rc = on_io(&b);
		else if (b.run->exit_reason == KVM_EXIT_MMIO)
			rc = on_mmio(&b);
		else
			rc = -1;
	}
	if (rc < 0 || b.done != b.rounds) {
		fprintf(stderr,
			"bare: unexpected exit (reason %u, port %#x) after %u "
			"of %u rounds\n",
			b.run->exit_reason, b.run->io.port, b.done, b.rounds);
		return 1;
	}
	return 0;
}
