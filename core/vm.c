/*
 * The VM's life: memory and buses, devices from the config, vCPU threads,
 * and the main loop that serves device I/O until something asks the VM to
 * stop. Pause is a barrier: every vCPU thread parks before vm_pause()
 * returns, which is what reset, snapshots and storage move build on.
 */
#include "vm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "boot.h"
#include "backend.h"
#include "config.h"
#include "dma.h"
#include "hotplug.h"
#include "devmem.h"
#include "instance.h"
#include "post.h"
#include "services.h"
#include "log.h"
#include "loop.h"
#include "pc/pc.h"
#include "plugin.h"

#define VCPU_REQ_PAUSE 0x1

#define LOW_RAM_END 0xc0000000ull /* 3 GiB: the rest of 4 GiB is MMIO */
#define HIGH_RAM_BASE 0x100000000ull

static void do_reset(void *opaque);

static int setup_memory(struct vm *vm)
{
	uint64_t low = vm->ram_size < LOW_RAM_END ? vm->ram_size : LOW_RAM_END;
	int rc = mem_add_ram(&vm->mem, "ram-low", 0, low);

	if (!rc && vm->ram_size > low)
		rc = mem_add_ram(&vm->mem, "ram-high", HIGH_RAM_BASE,
				 vm->ram_size - low);
	if (rc)
		err("cannot allocate %llu MiB of guest RAM: %s",
		    (unsigned long long)(vm->ram_size >> 20), strerror(-rc));
	return rc;
}

/* A validated [vm] number, or its default. */
static int64_t vm_key_int(const struct cfg_section *s, const char *key)
{
	const struct hv_config_key *k = vm_keys;
	const char *v, *why;
	int64_t n = 0;

	while (k->name && strcmp(k->name, key))
		k++;
	v = cfg_get(s, key);
	if (k->name)
		cfg_value_check(k, v ? v : k->def, &n, &why);
	return n;
}

int vm_cpu_missing(const struct vm *vm, const char *name)
{
	const struct cfg_section *s = config_section(vm->cfg, "vm", "vm");
	const struct cfg_entry *e = s ? cfg_entry(s, "cpu") : NULL;

	err("%s:%d: [vm]: cpu = %s: accel=%s does not offer '%s'",
	    vm->cfg->path, e ? e->line : 0, e ? e->value : "host",
	    vm->accel->name, name);
	return -ENOTSUP;
}

int vm_init(struct vm *vm, const struct config *cfg,
	    const struct plugin_set *plugins, const struct accel_ops *accel)
{
	const struct cfg_section *s = config_section(cfg, "vm", "vm");
	const char *v;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->plugins = plugins;
	vm->accel = accel;
	vm->env = &core_env;
	vm->do_reset = do_reset;
	vm->name = cfg_get(s, "name");
	vm->ram_size = ((uint64_t)vm_key_int(s, "memory") + MEM_PAGE - 1) &
		       ~(MEM_PAGE - 1);
	vm->ncpus = (int)vm_key_int(s, "cpus");
	{
		char why[160];

		/* config_validate already refused a bad spec */
		if (cpumodel_parse(cfg_get(s, "cpu"), &vm->cpu_model, why,
				   sizeof(why)))
			cpumodel_parse(NULL, &vm->cpu_model, why, sizeof(why));
	}
	v = cfg_get(s, "on_reboot");
	vm->on_reboot_exit = v && !strcmp(v, "exit");
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	vm->clock_base_ns = vm_now_ns();
	vm->loop = loop_new();
	if (!vm->loop || bus_init(&vm->pio, "pio", 0x10000) ||
	    bus_init(&vm->mmio, "mmio", 0))
		return -ENOMEM;
	return setup_memory(vm) ? -ENOMEM : pc_init(vm);
}

/* Every [device] in file order; backends come up as devices attach them.
 * One line per failure: the plugin's own error, or ours when it gave none. */
/* Whether some section's reference key (HV_KEY_REF of s's kind) names s. */
static int section_named(const struct config *c, const struct cfg_section *s)
{
	for (int i = 0; i < c->n; i++) {
		const struct cfg_section *t = &c->s[i];

		for (int j = 0; t != s && t->plugin && j < t->n; j++) {
			const struct hv_config_key *k =
				plugin_key(t->plugin, t->e[j].key);

			if (k && k->type == HV_KEY_REF && k->choices &&
			    !strcmp(k->choices, s->kind) &&
			    !strcmp(t->e[j].value, s->id))
				return 1;
		}
	}
	return 0;
}

/* A net backend section named by a reference key but attached only later
 * or sometimes (a switch's uplink: not in hv check, not in a process that
 * is not the switch's hub): its check op runs here, so hv check refuses
 * what hv run would. The instance is made for the check and freed. */
static int check_named_backend(struct vm *vm, const struct cfg_section *s)
{
	const struct plugin *p = s->plugin;
	struct instance *in;
	int rc;

	if (!p || p->desc.kind != HV_KIND_NET || !p->ops.net.check ||
	    (p->desc.flags & HV_PLUGIN_OWN_DOMAIN))
		return 0;
	in = instance_new(vm->env, vm, vm->loop, vm->plugins, p,
			  (struct cfg_section *)s, NULL);
	if (!in)
		return -ENOMEM;
	inst_lock(in);
	rc = backend_check(in);
	inst_unlock(in);
	instance_free(in);
	return rc;
}

int vm_create_devices(struct vm *vm)
{
	const struct config *c = vm->cfg;
	struct instance **tail = &vm->instances;
	int rc = post_create_shared(vm); /* switches: before their ports */

	if (rc)
		return rc;
	for (int i = 0; i < c->n; i++) {
		const struct cfg_section *s = &c->s[i];
		struct instance *in;
		int errors = log_errors;

		if (strcmp(s->kind, "device"))
			continue;
		in = instance_new(vm->env, vm, vm->loop, vm->plugins, s->plugin,
				  s, NULL);
		if (!in)
			return -ENOMEM;
		while (*tail)
			tail = &(*tail)->next;
		*tail = in;
		rc = instance_create(in);
		if (rc) {
			if (log_errors == errors)
				inst_err(in, NULL, "plugin %s failed to start (%s)",
					 s->plugin->desc.name, strerror(-rc));
			return rc;
		}
		if (cfg_get(s, "pci_slot") && !in->pci) {
			inst_err(in, "pci_slot", "pci_slot = %s, but plugin %s is not a PCI device",
				 cfg_get(s, "pci_slot"), s->plugin->desc.name);
			return -EINVAL;
		}
	}
	for (int i = 0; i < c->n; i++) {
		const struct cfg_section *s = &c->s[i];
		int used = !strcmp(s->kind, "vm") || !strcmp(s->kind, "device");

		for (struct instance *in = vm->instances; in && !used; in = in->next)
			used = in->sec == s;
		/* named by a section that attaches it itself, later or only
		 * sometimes (a switch's uplink: in hv check, or in a process
		 * that is not the switch's hub) */
		if (!used && section_named(c, s)) {
			used = 1;
			rc = check_named_backend(vm, s);
			if (rc)
				return rc;
		}
		if (!used)
			warn("%s:%d: [%s] is not attached to any device", c->path,
			     s->line, s->name);
	}
	return 0;
}

int vm_reset_devices(struct vm *vm)
{
	/* a completion must never land in a device that was reset */
	int rc = vm_drain_devices(vm);

	if (rc)
		return rc;
	for (struct instance *in = vm->instances; in; in = in->next) {
		if (in->plugin->desc.kind != HV_KIND_DEVICE)
			continue;
		inst_lock(in);
		if (in->plugin->ops.device.reset)
			in->plugin->ops.device.reset(&in->ctx);
		/* a reset device has no request in flight: what it still maps
		 * is a leak that would pin guest memory forever */
		dma_release(in, "reset");
		inst_unlock(in);
	}
	return 0;
}

static void park(struct vcpu *cpu)
{
	struct vm *vm = cpu->vm;

	pthread_mutex_lock(&vm->lock);
	vm->running_cpus--;
	pthread_cond_broadcast(&vm->cond);
	while (vm->paused && !atomic_load(&vm->stopping))
		pthread_cond_wait(&vm->cond, &vm->lock);
	vm->running_cpus++;
	pthread_mutex_unlock(&vm->lock);
}

/*
 * A vCPU halted with interrupts off sits there, as on hardware, until a
 * reset or the end; but when every vCPU is in that state nothing can ever
 * run again, and the VM stops instead of hanging.
 */
static void dead_halt(struct vcpu *cpu)
{
	struct vm *vm = cpu->vm;
	int all = 0;

	/* not counted once woken (vm_wake_halted): the NMI or INIT that woke
	 * it may be all another vCPU did before halting for good itself */
	pthread_mutex_lock(&vm->lock);
	if (!(atomic_load(&cpu->request) & VCPU_REQ_WAKE)) {
		cpu->dead = 1;
		all = ++vm->dead_cpus == vm->ncpus;
	}
	pthread_mutex_unlock(&vm->lock);
	/* a guest that asked to stop (debug-exit, then cli; hlt) is not stuck */
	if (all && !atomic_load(&vm->stopping)) {
		err("every vCPU halted with interrupts disabled: the guest can never resume");
		vm_request_exit(vm, VM_EXIT_ERROR, 1);
	}
	/* an NMI or INIT (vm_wake_halted) is what may still come */
	while (!(atomic_load(&cpu->request) & (VCPU_REQ_PAUSE | VCPU_REQ_WAKE)) &&
	       !atomic_load(&vm->stopping)) {
		pthread_mutex_lock(&vm->lock);
		if (!atomic_load(&vm->stopping) &&
		    !(atomic_load(&cpu->request) & (VCPU_REQ_PAUSE | VCPU_REQ_WAKE)))
			pthread_cond_wait(&vm->cond, &vm->lock);
		pthread_mutex_unlock(&vm->lock);
	}
	pthread_mutex_lock(&vm->lock);
	if (cpu->dead) {
		cpu->dead = 0;
		vm->dead_cpus--;
	}
	pthread_mutex_unlock(&vm->lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *cpu = arg;
	struct vm *vm = cpu->vm;

	while (!atomic_load(&vm->stopping)) {
		int rc;

		if (atomic_load(&cpu->request) & VCPU_REQ_PAUSE) {
			park(cpu);
			continue;
		}
		/* a wake-up only ends a dead halt; the accelerator has the
		 * event (NMI, INIT) itself */
		atomic_fetch_and(&cpu->request, ~VCPU_REQ_WAKE);
		rc = vm->accel->vcpu_run(cpu);
		if (rc == VCPU_EXIT_SHUTDOWN) {
			info("vCPU %d: triple fault, resetting", cpu->index);
			vm_request_reset(vm);
			/* wait here for the reset's pause to collect us */
			while (!(atomic_load(&cpu->request) & VCPU_REQ_PAUSE) &&
			       !atomic_load(&vm->stopping))
				usleep(100);
		} else if (rc == VCPU_EXIT_HALT) {
			dead_halt(cpu);
		} else if (rc == VCPU_EXIT_ERROR) {
			vm_request_exit(vm, VM_EXIT_ERROR, 1);
		}
	}
	pthread_mutex_lock(&vm->lock);
	vm->running_cpus--;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

void vm_pause(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->paused++;
	for (int i = 0; i < vm->ncpus; i++)
		atomic_fetch_or(&vm->cpu[i].request, VCPU_REQ_PAUSE);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	vm_kick_all(vm);
	pthread_mutex_lock(&vm->lock);
	while (vm->running_cpus > 0 && !atomic_load(&vm->stopping))
		pthread_cond_wait(&vm->cond, &vm->lock);
	vm->paused_at_ns = vm_now_ns();
	pthread_mutex_unlock(&vm->lock);
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->paused && --vm->paused == 0) {
		vm->clock_base_ns += vm_now_ns() - vm->paused_at_ns;
		for (int i = 0; i < vm->ncpus; i++)
			atomic_fetch_and(&vm->cpu[i].request, ~VCPU_REQ_PAUSE);
		pthread_cond_broadcast(&vm->cond);
	}
	pthread_mutex_unlock(&vm->lock);
}

/* What power-on writes into guest memory: ACPI tables, the boot image. */
static int load_images(struct vm *vm)
{
	int rc = pc_power_on(vm);

	return rc ? rc : boot_load(vm);
}

/* Devices and vCPUs in their power-on state, the BSP at the image's entry. */
static int reset_cpus(struct vm *vm)
{
	int rc = vm_reset_devices(vm);

	for (int i = 0; !rc && i < vm->ncpus; i++) {
		struct x86_state st;

		if (i == 0) {
			st = vm->cpu[0].boot;
		} else {
			x86_state_reset(&st);
			st.apic_base &= ~(1ull << 8); /* not the BSP */
		}
		rc = vm->accel->vcpu_set_state(&vm->cpu[i], &st);
	}
	return rc;
}

static int power_on(struct vm *vm)
{
	int rc = load_images(vm);

	return rc ? rc : reset_cpus(vm);
}

static void do_reset(void *opaque)
{
	struct vm *vm = opaque;
	int rc = 0;

	if (atomic_load(&vm->stopping))
		return;
	vm_pause(vm);
	if (vm->accel->vm_reset)
		rc = vm->accel->vm_reset(vm);
	if (rc || power_on(vm)) {
		err("reset failed");
		vm_request_exit(vm, VM_EXIT_ERROR, 1);
	}
	vm_resume(vm);
}

static void on_signal(void *opaque, unsigned events)
{
	struct vm *vm = opaque;
	struct signalfd_siginfo si;

	if (read(vm->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGTERM && vm->sigterms++ == 0 &&
	    pc_power_button(vm) == 0) {
		info("SIGTERM: pressed the ACPI power button; another SIGTERM or SIGINT stops the VM at once");
		return;
	}
	info("signal %d: stopping the VM", (int)si.ssi_signo);
	vm_request_exit(vm, VM_EXIT_SIGNAL, 128 + (int)si.ssi_signo);
}

static int setup_signals(struct vm *vm)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	/* vCPU threads inherit the mask, so these reach only the signalfd */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	vm->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vm->signal_fd < 0)
		return -errno;
	return loop_watch(vm->loop, vm->signal_fd, HV_FD_IN, on_signal, vm,
			  &vm->signal_watch);
}

static int start_cpus(struct vm *vm)
{
	vm->running_cpus = vm->ncpus;
	for (int i = 0; i < vm->ncpus; i++) {
		int rc = pthread_create(&vm->cpu[i].thread, NULL, vcpu_thread,
					&vm->cpu[i]);
		if (rc) {
			vm->running_cpus -= vm->ncpus - i;
			return -rc;
		}
		vm->cpu[i].started = 1;
	}
	return 0;
}

/* The accelerator's VM and vCPUs; a dry build makes them only when that
 * takes nothing from the host (the interpreter's are plain memory). */
static int create_accel(struct vm *vm)
{
	int rc, errors = log_errors;

	if (vm->dry && !vm->accel->host_free)
		return 0;
	if ((rc = vm->accel->vm_create(vm))) {
		if (log_errors == errors)
			err("%s: cannot create the VM: %s", vm->accel->name,
			    strerror(-rc));
		return rc;
	}
	for (int i = 0; i < vm->ncpus; i++) {
		vm->cpu[i].vm = vm;
		vm->cpu[i].index = i;
		if ((rc = vm->accel->vcpu_create(&vm->cpu[i]))) {
			if (log_errors == errors)
				err("%s: cannot create vCPU %d: %s", vm->accel->name,
				    i, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int vm_build(struct vm *vm)
{
	int rc;

	if ((rc = vm_create_devices(vm)) || (rc = create_accel(vm)))
		return rc;
	return load_images(vm);
}

int vm_start(struct vm *vm)
{
	int rc;

	if ((rc = reset_cpus(vm)) || (rc = setup_signals(vm)))
		return rc;
	return start_cpus(vm);
}

int vm_run(struct vm *vm)
{
	int rc = loop_run(vm->loop);

	if (rc)
		vm_request_exit(vm, VM_EXIT_ERROR, 1);
	atomic_store(&vm->stopping, 1);
	pthread_mutex_lock(&vm->lock);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	vm_kick_all(vm);
	for (int i = 0; i < vm->ncpus; i++) {
		if (!vm->cpu[i].started)
			continue;
		pthread_join(vm->cpu[i].thread, NULL);
		vm->cpu[i].started = 0;
	}
	return vm->exit_status;
}

void vm_destroy(struct vm *vm)
{
	struct instance *in;

	/* no completion may reach a freed device (an error line says which
	 * still had I/O; the disks' own release then waits for theirs) */
	if (vm->loop)
		vm_drain_devices(vm);
	/* backends first: devices may still hold their handles until then */
	for (int pass = 0; pass < 2; pass++) {
		struct instance **pp = &vm->instances;

		while ((in = *pp)) {
			if (!pass && !in->owner) {
				pp = &in->next;
				continue;
			}
			*pp = in->next;
			instance_free(in);
		}
	}
	vm->instances = NULL;
	for (int i = 0; i < VM_MAX_CPUS; i++)
		if (vm->cpu[i].accel && vm->accel->vcpu_destroy)
			vm->accel->vcpu_destroy(&vm->cpu[i]);
	if (vm->accel_priv && vm->accel->vm_destroy)
		vm->accel->vm_destroy(vm);
	pc_free(vm);
	devmem_vm_free(vm);
	mem_destroy(&vm->mem);
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	if (vm->signal_watch)
		loop_unwatch(vm->loop, vm->signal_watch);
	if (vm->signal_fd > 0)
		close(vm->signal_fd);
	loop_free(vm->loop);
	post_vm_free(vm); /* after the loop's last queued drains */
	pthread_mutex_destroy(&vm->lock);
	pthread_cond_destroy(&vm->cond);
}
