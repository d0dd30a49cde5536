/*
 * Asking the VM to stop or reset, and the guest clock: what the platform
 * (PCI's reset register, the PM block) and the interpreter's timers need
 * of the VM, apart from vm.c so they do not link the VM's construction.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "accel.h"
#include "loop.h"
#include "vm.h"

uint64_t vm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t vm_clock_ns(struct vm *vm)
{
	return vm_now_ns() - vm->clock_base_ns;
}

void vm_kick_all(struct vm *vm)
{
	for (int i = 0; i < vm->ncpus; i++)
		if (vm->cpu[i].started)
			vm->accel->vcpu_kick(&vm->cpu[i]);
}

void vm_wake_halted(struct vcpu *cpu)
{
	struct vm *vm = cpu->vm;

	atomic_fetch_or(&cpu->request, VCPU_REQ_WAKE);
	pthread_mutex_lock(&vm->lock);
	if (cpu->dead) { /* live from now on: see dead_halt() */
		cpu->dead = 0;
		vm->dead_cpus--;
	}
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

void vm_request_exit(struct vm *vm, int reason, int status)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->exit_reason) {
		vm->exit_reason = reason;
		vm->exit_status = status;
	}
	atomic_store(&vm->stopping, 1);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	vm_kick_all(vm);
	loop_stop(vm->loop);
}

void vm_request_reset(struct vm *vm)
{
	if (vm->on_reboot_exit)
		vm_request_exit(vm, VM_EXIT_RESET, 0);
	else
		loop_defer(vm->loop, vm->do_reset, vm);
}
