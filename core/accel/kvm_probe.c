/*
 * Can this /dev/kvm really run a guest? Opening it is not enough: kvm-pvm
 * (a KVM without hardware virtualisation) runs guest user code natively
 * but emulates every guest kernel instruction, about 4 us each, so Linux
 * takes minutes to print a line and then stops on instructions its
 * emulator lacks. The probe times a few thousand CPL0 instructions in a
 * throwaway VM: microseconds on hardware KVM, also nested, and tens of
 * milliseconds on an emulating one.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "select.h"

#define PROBE_MEM 0x10000
#define PROBE_CODE 0x1000
#define PROBE_COUNT 0x0ff0 /* the loop count the next run reads */
#define PROBE_LOOPS 15000  /* dec cx; jnz: 2 instructions a loop */
#define PROBE_TRIES 3

/*
 * Real mode, CPL0. The loop count comes from memory, so one vCPU can time
 * a run of 1 loop (the cost of entering and leaving the guest, large when
 * KVM itself is nested) and a run of PROBE_LOOPS; the difference is the
 * cost of the instructions alone.
 */
static const unsigned char probe_code[] = {
	0xe6, 0x80,             /* out 0x80, al: warm-up exit */
	0x8b, 0x0e, 0xf0, 0x0f, /* again: mov cx, [PROBE_COUNT] */
	0x49,                   /* l: dec cx */
	0x75, 0xfd,             /* jnz l */
	0xe6, 0x81,             /* out 0x81, al */
	0xeb, 0xf5,             /* jmp again */
};

static int module_loaded(const char *name)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return stat(path, &st) == 0;
}

int kvm_is_pvm_module(void)
{
	return module_loaded("kvm_pvm") && !module_loaded("kvm_amd") &&
	       !module_loaded("kvm_intel");
}

static void alarm_handler(int sig)
{
	(void)sig;
}

/* One KVM_RUN to the next port exit: 0, or -errno (-EINTR: the alarm). */
static int run_to_port(int cpu, struct kvm_run *run, unsigned port)
{
	if (ioctl(cpu, KVM_RUN, 0) < 0)
		return -errno;
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != port)
		return -EIO;
	return 0;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int setup_vcpu(int vm, int cpu, void *mem)
{
	struct kvm_userspace_memory_region m = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = PROBE_MEM,
		.userspace_addr = (uintptr_t)mem,
	};
	struct kvm_regs regs = { .rip = PROBE_CODE, .rflags = 2 };
	struct kvm_sregs sregs;

	memcpy((char *)mem + PROBE_CODE, probe_code, sizeof(probe_code));
	if (ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ul) ||
	    ioctl(vm, KVM_SET_USER_MEMORY_REGION, &m) ||
	    ioctl(cpu, KVM_GET_SREGS, &sregs))
		return -errno;
	sregs.cs.base = 0, sregs.cs.selector = 0;
	if (ioctl(cpu, KVM_SET_SREGS, &sregs) || ioctl(cpu, KVM_SET_REGS, &regs))
		return -errno;
	return 0;
}

/* One timed run of `loops` loops: its wall time in us, or -errno. */
static double timed_run(int cpu, struct kvm_run *run, void *mem, unsigned loops)
{
	uint16_t n = loops;
	double t0;
	int rc;

	memcpy((char *)mem + PROBE_COUNT, &n, sizeof(n));
	t0 = now_us();
	rc = run_to_port(cpu, run, 0x81);
	return rc ? rc : now_us() - t0;
}

/*
 * The best of a few tries of each length, in an opened VM: *us gets the
 * instructions' own time (0 when too small to see). A slow KVM shows
 * itself on the first try.
 */
static int time_loop(int kvm, int vm, double *us)
{
	int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	double one = 1e12, many = 1e12, t;
	void *mem = MAP_FAILED;
	struct kvm_run *run = MAP_FAILED;
	int cpu, rc;

	if (size <= 0)
		return -errno;
	cpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (cpu < 0)
		return -errno;
	mem = mmap(NULL, PROBE_MEM, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (mem == MAP_FAILED || run == MAP_FAILED) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = setup_vcpu(vm, cpu, mem)) || (rc = run_to_port(cpu, run, 0x80)))
		goto out;
	for (int i = 0; i < PROBE_TRIES && (i == 0 || many <= 20000); i++) {
		if ((t = timed_run(cpu, run, mem, 1)) < 0)
			goto out_err;
		one = t < one ? t : one;
		if ((t = timed_run(cpu, run, mem, PROBE_LOOPS)) < 0)
			goto out_err;
		many = t < many ? t : many;
	}
	*us = many > one ? many - one : 0;
	goto out;
out_err:
	rc = (int)t;
out:
	if (run != MAP_FAILED)
		munmap(run, size);
	if (mem != MAP_FAILED)
		munmap(mem, PROBE_MEM);
	close(cpu);
	return rc;
}

int kvm_time_cpl0(int kvm, double *mips)
{
	struct sigaction sa = { .sa_handler = alarm_handler }, old;
	struct itimerval limit = { .it_value = { .tv_sec = 2 } }, off = { 0 };
	double us = 0;
	int vm, rc;

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return -errno;
	/* a KVM_RUN that never comes back is a KVM that cannot run guests */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	setitimer(ITIMER_REAL, &limit, NULL);
	rc = time_loop(kvm, vm, &us);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	close(vm);
	if (rc == -EINTR) {
		*mips = 0;
		return 0;
	}
	/* below a microsecond the loop ran too fast to measure: say 1000 */
	if (!rc)
		*mips = us >= 1 ? 2.0 * (PROBE_LOOPS - 1) / us : 1000;
	return rc;
}
