/*
 * A virtual machine: memory map, buses, plugin instances, vCPUs and the
 * accelerator that runs them, driven by the main thread's event loop.
 */
#ifndef HV_CORE_VM_H
#define HV_CORE_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "accel.h"
#include "bus.h"
#include "cpumodel.h"
#include "layout.h"
#include "mem.h"
#include "x86.h"

struct config;
struct plugin_set;
struct loop;
struct loop_watch;
struct instance;
struct pci_host;
struct pc_pm;
struct post_box;
struct hv_peer;
struct vga_claim;
struct hv_display;
struct hv_input;

#define VM_MAX_CPUS 64

struct vcpu {
	struct vm *vm;
	int index;
	pthread_t thread;
	int started;
	void *accel;         /* the accelerator's per-vCPU state */
	atomic_int request;  /* VCPU_REQ_* bits, see vm.c */
	int dead;            /* halted with IF=0, in vm->dead_cpus (vm->lock) */
	struct x86_state boot; /* state applied at reset (BSP) */
};

enum vm_exit_reason {
	VM_EXIT_NONE = 0,
	VM_EXIT_POWEROFF,   /* guest powered off or wrote the debug-exit port */
	VM_EXIT_RESET,      /* guest reset and on_reboot=exit */
	VM_EXIT_QUIT,       /* the user quit from the console */
	VM_EXIT_SIGNAL,     /* SIGINT/SIGTERM */
	VM_EXIT_ERROR,      /* a vCPU hit an internal error */
};

struct vm {
	const struct config *cfg;
	const struct plugin_set *plugins;
	const struct inst_env *env; /* what its instances get (core_env) */
	const char *name;
	uint64_t ram_size;
	int ncpus;
	const struct accel_ops *accel;
	void *accel_priv;
	struct mem_map mem;
	struct bus pio, mmio;
	struct loop *loop;
	struct instance *instances; /* singly linked, creation order */
	struct vcpu cpu[VM_MAX_CPUS];
	pthread_mutex_t lock; /* exit state, pause barrier */
	pthread_cond_t cond;
	int exit_reason;     /* enum vm_exit_reason, first one wins */
	int exit_status;
	atomic_int stopping;
	int paused, running_cpus, dead_cpus;
	int on_reboot_exit;
	uint64_t clock_base_ns; /* guest clock: host monotonic minus pauses */
	/* the reset vm_request_reset() defers to the loop (vm.c's) */
	void (*do_reset)(void *vm);
	uint64_t paused_at_ns;
	int signal_fd;
	struct loop_watch *signal_watch;
	struct pci_host *pci; /* machine = pc: the host bridge, else NULL */
	struct pc_pm *pm;     /* machine = pc: the ACPI PM block */
	struct boot_layout layout; /* pc_power_on() fills it for the loaders */
	int sigterms;         /* SIGTERMs so far: the first one is polite */
	/* hv check: built as for a run, but nothing outside the process
	 * changes: disks open read-only, console and network backends are
	 * attached but not created, no accelerator VM that needs the host */
	int dry;
	/* cross-domain calls (post.c): every queue and peer handle */
	struct post_box *post_boxes;
	struct hv_peer *post_peers;
	/* how long reset, detach and teardown wait for a device's in-flight
	 * I/O (ms; 0: HOTPLUG_DRAIN_MS) */
	int drain_ms;
	struct vga_claim *vga; /* the legacy VGA window's owner (devmem.c) */
	struct cpu_model cpu_model; /* [vm] cpu =, checked by config_validate */
	/* SDK 2.4 (display.c, input.c): displays and input sinks in
	 * registration order; where the pointer is, in pixels, for turning
	 * absolute motion into a mouse's relative one */
	struct hv_display *displays;
	struct hv_input *inputs;
	int32_t ptr_x, ptr_y;
};

/* One line naming [vm] cpu = when the backend lacks a +feat it asks for
 * (name is that feature); returns -ENOTSUP for the caller to pass on. */
int vm_cpu_missing(const struct vm *vm, const char *name);

/* Set up memory and buses from the config's [vm] section. */
int vm_init(struct vm *vm, const struct config *cfg,
	    const struct plugin_set *plugins, const struct accel_ops *accel);
/* Create the devices and their backends (also used alone by the device
 * harness tests); 0, or -errno after a file:line message. */
int vm_create_devices(struct vm *vm);
/* Every device's reset op (power-on state), after every device's
 * in-flight I/O completed (vm_drain_devices): 0, or -ETIMEDOUT after an
 * error line, and then no device was reset. Main thread, vCPUs stopped. */
int vm_reset_devices(struct vm *vm);
/* Everything `hv run` does before a vCPU runs, shared with `hv check` so
 * both refuse the same files with the same line: the devices (and their
 * backends, PCI slots), the accelerator's VM and vCPUs, the ACPI tables
 * and the boot image in guest memory. 0, or -errno after one error line.
 * With vm->dry nothing outside the process changes (see struct vm). */
int vm_build(struct vm *vm);
/* After vm_build: power-on state for devices and vCPUs, signal handling,
 * and the vCPU threads. */
int vm_start(struct vm *vm);
/* Serve the main loop until the VM stops; join the vCPUs; the exit status. */
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);
/* Park every vCPU (nests); main thread only. */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);

/* Ask the VM to stop with a reason; the first reason wins. Any thread. */
void vm_request_exit(struct vm *vm, int reason, int status);
void vm_request_reset(struct vm *vm);
/* A vCPU halted with interrupts off (VCPU_EXIT_HALT) got an event that
 * ends the halt (an NMI, INIT): it runs again. Any thread, any lock but
 * vm->lock held. */
#define VCPU_REQ_WAKE 0x2
void vm_wake_halted(struct vcpu *cpu);
/* Host monotonic ns; kick every started vCPU out of the guest (vmctl.c). */
uint64_t vm_now_ns(void);
void vm_kick_all(struct vm *vm);
/* The guest's PIO/MMIO accesses, from an accelerator on a vCPU thread. */
static inline int vm_pio(struct vm *vm, uint16_t port, unsigned size,
			 int write, uint64_t *val)
{
	return bus_access(&vm->pio, port, size, write, val);
}
static inline int vm_mmio(struct vm *vm, uint64_t gpa, unsigned size,
			  int write, uint64_t *val)
{
	return bus_access(&vm->mmio, gpa, size, write, val);
}
uint64_t vm_clock_ns(struct vm *vm);

#endif
