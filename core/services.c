/*
 * The services every plugin instance gets (struct hv_host). Each wraps a
 * core subsystem with the instance's identity: regions and watches are
 * owned by the instance, callbacks run under its domain lock.
 */
#include "services.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "config.h"
#include "devmem.h"
#include "disk.h"
#include "display.h"
#include "disk_int.h"
#include "dma.h"
#include "hotplug.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "pc/pci.h"
#include "plugin.h"
#include "post.h"
#include "state.h"
#include "vm.h"

struct hv_watch {
	struct instance *in;
	hv_fd_cb cb;
	void *opaque;
	struct loop_watch *lw;
	struct hv_watch *next;
};

struct hv_timer {
	struct instance *in;
	hv_cb cb;
	void *opaque;
	struct loop_timer *lt;
	struct hv_timer *next;
};

struct hv_chr {
	struct instance *dev, *con;
	const struct hv_chr_cbs *cbs; /* &own */
	struct hv_chr_cbs own; /* the plugin's, as far as both know them */
	void *opaque;
};

static const char *svc_config_str(struct hv_ctx *ctx, const char *key)
{
	return inst_config_str(inst_of(ctx), key);
}

static int64_t svc_config_int(struct hv_ctx *ctx, const char *key)
{
	struct instance *in = inst_of(ctx);
	const struct hv_config_key *k = inst_config_key(in, key);
	const char *v = inst_config_str(in, key), *why;
	int64_t n = 0;

	if (!k || !v || cfg_value_check(k, v, &n, &why))
		return 0;
	return n;
}

static int svc_config_each(struct hv_ctx *ctx, const char *pattern,
			   hv_config_each_fn fn, void *opaque)
{
	struct instance *in = inst_of(ctx);
	const struct hv_config_key *k = NULL;
	uint32_t idx[2];
	int r;

	for (int i = 0; in->plugin && i < in->plugin->nkeys; i++)
		if (!strcmp(in->plugin->keys[i].name, pattern))
			k = &in->plugin->keys[i];
	if (!k || !(k->flags & HV_KEY_INDEXED) || !fn)
		return -EINVAL;
	for (int i = 0; in->sec && i < in->sec->n; i++) {
		const char *key = in->sec->e[i].key, *v;

		if (cfg_key_match(k, key, idx, NULL, 0) != 1)
			continue;
		v = inst_config_str(in, key);
		if (v && (r = fn(ctx, opaque, key, v, idx)))
			return r;
	}
	return 0;
}

static int svc_mem_read(struct hv_ctx *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct vm *vm = inst_of(ctx)->vm;
	return vm ? mem_read(&vm->mem, gpa, buf, len) : -EFAULT;
}

static int svc_mem_write(struct hv_ctx *ctx, uint64_t gpa, const void *buf,
			 size_t len)
{
	struct vm *vm = inst_of(ctx)->vm;
	return vm ? mem_write(&vm->mem, gpa, buf, len) : -EFAULT;
}

static void *svc_mem_map(struct hv_ctx *ctx, uint64_t gpa, size_t len,
			 unsigned flags)
{
	struct vm *vm = inst_of(ctx)->vm;
	return vm ? mem_ptr(&vm->mem, gpa, len,
			    flags & HV_MAP_WRITE ? MEM_WRITE : 0) : NULL;
}

static struct bus *bus_of(struct vm *vm, int space)
{
	if (!vm)
		return NULL;
	return space == HV_SPACE_PIO ? &vm->pio :
	       space == HV_SPACE_MMIO ? &vm->mmio : NULL;
}

static int svc_region_add(struct hv_ctx *ctx, int space, uint64_t base,
			  uint64_t len, const struct hv_region_ops *ops,
			  void *opaque, struct hv_region **out)
{
	struct instance *in = inst_of(ctx);
	struct bus *b = bus_of(in->vm, space);
	struct bus_region *r;
	int rc;

	if (!b)
		return -EINVAL;
	rc = bus_add(b, base, len, ops, opaque, in, &r);
	if (!rc && out)
		*out = (struct hv_region *)r;
	return rc;
}

static int svc_region_move(struct hv_ctx *ctx, struct hv_region *hr,
			   uint64_t base)
{
	struct bus_region *r = (struct bus_region *)hr;
	return r->owner == inst_of(ctx) ? bus_move(r->bus, r, base) : -EPERM;
}

static void svc_region_del(struct hv_ctx *ctx, struct hv_region *hr)
{
	struct bus_region *r = (struct bus_region *)hr;
	if (r && r->owner == inst_of(ctx))
		bus_del(r->bus, r);
}

static int svc_irq_set(struct hv_ctx *ctx, unsigned line, int level)
{
	struct vm *vm = inst_of(ctx)->vm;
	return vm && vm->accel_priv ? vm->accel->irq_line(vm, line, level) : -ENODEV;
}

static int svc_msi_send(struct hv_ctx *ctx, uint64_t addr, uint32_t data)
{
	struct vm *vm = inst_of(ctx)->vm;
	return vm && vm->accel_priv ? vm->accel->msi(vm, addr, data) : -ENODEV;
}

static void watch_fired(void *opaque, unsigned events)
{
	struct hv_watch *w = opaque;
	struct instance *in = w->in; /* the callback may free w */

	inst_lock(in);
	w->cb(&in->ctx, w->opaque, events);
	inst_unlock(in);
}

static int svc_fd_watch(struct hv_ctx *ctx, int fd, unsigned events,
			hv_fd_cb cb, void *opaque, struct hv_watch **out)
{
	struct instance *in = inst_of(ctx);
	struct hv_watch *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return -ENOMEM;
	*w = (struct hv_watch){ .in = in, .cb = cb, .opaque = opaque };
	rc = loop_watch(in->loop, fd, events, watch_fired, w, &w->lw);
	if (rc) {
		free(w);
		return rc;
	}
	w->next = in->watches;
	in->watches = w;
	if (out)
		*out = w;
	return 0;
}

static void svc_fd_unwatch(struct hv_ctx *ctx, struct hv_watch *w)
{
	struct instance *in = inst_of(ctx);

	for (struct hv_watch **p = &in->watches; *p; p = &(*p)->next) {
		if (*p != w)
			continue;
		*p = w->next;
		loop_unwatch(in->loop, w->lw);
		free(w);
		return;
	}
}

static void timer_fired(void *opaque)
{
	struct hv_timer *t = opaque;
	struct instance *in = t->in; /* the callback may free t */

	inst_lock(in);
	t->cb(&in->ctx, t->opaque);
	inst_unlock(in);
}

static int svc_timer_new(struct hv_ctx *ctx, hv_cb cb, void *opaque,
			 struct hv_timer **out)
{
	struct instance *in = inst_of(ctx);
	struct hv_timer *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return -ENOMEM;
	*t = (struct hv_timer){ .in = in, .cb = cb, .opaque = opaque };
	rc = loop_timer_new(in->loop, timer_fired, t, &t->lt);
	if (rc) {
		free(t);
		return rc;
	}
	t->next = in->timers;
	in->timers = t;
	*out = t;
	return 0;
}

static void svc_timer_arm(struct hv_ctx *ctx, struct hv_timer *t,
			  uint64_t delay_ns, uint64_t period_ns)
{
	loop_timer_arm(t->lt, delay_ns, period_ns);
}

static void svc_timer_free(struct hv_ctx *ctx, struct hv_timer *t)
{
	struct instance *in = inst_of(ctx);

	for (struct hv_timer **p = &in->timers; *p; p = &(*p)->next) {
		if (*p != t)
			continue;
		*p = t->next;
		loop_timer_free(t->lt);
		free(t);
		return;
	}
}

/*
 * hv_loop_defer() calls waiting in the loop. An instance freed before its
 * calls ran cancels them (they then free themselves unrun): they would
 * lock and call into freed memory. One lock for all: defers are rare and
 * the list operations tiny.
 */
struct deferred_call {
	struct instance *in; /* NULL: cancelled */
	hv_cb cb;
	void *opaque;
	struct deferred_call *next, **pprev; /* in in->defers */
};

static pthread_mutex_t defer_lock = PTHREAD_MUTEX_INITIALIZER;

static void defer_unlink(struct deferred_call *d)
{
	if (d->next)
		d->next->pprev = d->pprev;
	*d->pprev = d->next;
	d->in = NULL;
}

void services_release(struct instance *in)
{
	display_release(in);
	input_release(in);
	net_release(in);
	while (in->watches)
		svc_fd_unwatch(&in->ctx, in->watches);
	while (in->timers)
		svc_timer_free(&in->ctx, in->timers);
	pthread_mutex_lock(&defer_lock);
	while (in->defers)
		defer_unlink(in->defers);
	pthread_mutex_unlock(&defer_lock);
}

static void deferred_run(void *opaque)
{
	struct deferred_call *d = opaque;
	struct instance *in;

	pthread_mutex_lock(&defer_lock);
	in = d->in;
	if (in)
		defer_unlink(d);
	pthread_mutex_unlock(&defer_lock);
	if (in) {
		inst_lock(in);
		d->cb(&in->ctx, d->opaque);
		inst_unlock(in);
	}
	free(d);
}

static int svc_defer(struct hv_ctx *ctx, hv_cb cb, void *opaque)
{
	struct instance *in = inst_of(ctx);
	struct deferred_call *d = malloc(sizeof(*d));
	int rc;

	if (!d)
		return -ENOMEM;
	*d = (struct deferred_call){ .in = in, .cb = cb, .opaque = opaque };
	pthread_mutex_lock(&defer_lock);
	d->next = in->defers;
	if (d->next)
		d->next->pprev = &d->next;
	d->pprev = &in->defers;
	in->defers = d;
	pthread_mutex_unlock(&defer_lock);
	rc = loop_defer(in->loop, deferred_run, d);
	if (rc) {
		pthread_mutex_lock(&defer_lock);
		defer_unlink(d);
		pthread_mutex_unlock(&defer_lock);
		free(d);
	}
	return rc;
}

static uint64_t svc_clock_ns(struct hv_ctx *ctx)
{
	struct vm *vm = inst_of(ctx)->vm;
	struct timespec ts;

	if (vm)
		return vm_clock_ns(vm);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* RAM split at 4 GiB the way the memory map has it; machine from the
 * platform the core built. */
static void svc_vm_info(struct hv_ctx *ctx, struct hv_vm_info *info,
			size_t info_size)
{
	struct vm *vm = inst_of(ctx)->vm;
	struct hv_vm_info v = { 0 };

	if (vm) {
		for (int i = 0; i < vm->mem.n; i++) {
			const struct mem_region *r = &vm->mem.r[i];
			/* RAM a VGA claim hides (devmem.c) is still the guest's */
			uint64_t sz = r->flags & MEM_F_FIXED ? r->len : r->size;
			uint64_t end = r->gpa + sz, split = 1ull << 32;

			if (r->kind != MEM_RAM)
				continue;
			if (r->gpa < split)
				v.ram_below_4g += (end < split ? end : split) - r->gpa;
			if (end > split)
				v.ram_above_4g += end - (r->gpa > split ? r->gpa : split);
		}
		v.cpus = (uint32_t)vm->ncpus;
		v.machine = vm->pci ? HV_MACHINE_PC : HV_MACHINE_NONE;
		if (vm->name)
			snprintf(v.name, sizeof(v.name), "%s", vm->name);
	}
	memcpy(info, &v, info_size < sizeof(v) ? info_size : sizeof(v));
}

static void svc_vm_request(struct hv_ctx *ctx, int request, int status)
{
	struct vm *vm = inst_of(ctx)->vm;

	if (!vm)
		return;
	switch (request) {
	case HV_VM_POWEROFF: vm_request_exit(vm, VM_EXIT_POWEROFF, status); break;
	case HV_VM_RESET: vm_request_reset(vm); break;
	case HV_VM_QUIT: vm_request_exit(vm, VM_EXIT_QUIT, status); break;
	default: break;
	}
}

static struct hv_chr *svc_chr_attach(struct hv_ctx *ctx, const char *key,
				     const struct hv_chr_cbs *cbs, size_t cbs_size,
				     void *opaque)
{
	struct instance *dev = inst_of(ctx), *con;
	struct hv_chr *c;
	int e;

	con = backend_attach(dev, key, "console", &e);
	if (!con)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	*c = (struct hv_chr){ .dev = dev, .con = con, .opaque = opaque };
	if (cbs)
		COPY_CBS(c->own, cbs, cbs_size);
	c->cbs = &c->own;
	con->link = c;
	return c;
}

static size_t svc_chr_write(struct hv_ctx *ctx, struct hv_chr *c,
			    const void *buf, size_t len)
{
	const struct hv_console_ops *ops;

	if (!c || !c->con->created)
		return len;
	ops = &c->con->plugin->ops.console;
	return ops->write ? ops->write(&c->con->ctx, buf, len) : len;
}

static void svc_chr_input_ready(struct hv_ctx *ctx, struct hv_chr *c)
{
	const struct hv_console_ops *ops;

	if (!c || !c->con->created)
		return;
	ops = &c->con->plugin->ops.console;
	if (ops->input_ready)
		ops->input_ready(&c->con->ctx);
}

static size_t svc_console_input(struct hv_ctx *ctx, const void *buf, size_t len)
{
	struct hv_chr *c = inst_of(ctx)->link;

	if (!c || !c->cbs || !c->cbs->receive)
		return len; /* nothing to type into: swallow */
	return c->cbs->receive(&c->dev->ctx, c->opaque, buf, len);
}

static int svc_vga_window(struct hv_ctx *ctx, int mode, void **ram)
{
	return vga_window(inst_of(ctx), mode, ram);
}

static int svc_vga_dirty(struct hv_ctx *ctx, uint64_t *bitmap,
			 size_t bitmap_bytes)
{
	return bitmap ? vga_dirty(inst_of(ctx), bitmap, bitmap_bytes) : -EINVAL;
}

const struct hv_host core_host = {
	.size = sizeof(struct hv_host),
	.abi_major = HV_ABI_MAJOR,
	.abi_minor = HV_ABI_MINOR,
	.log_write = inst_log_write,
	.config_get_str = svc_config_str,
	.config_get_int = svc_config_int,
	.mem_read = svc_mem_read,
	.mem_write = svc_mem_write,
	.mem_map = svc_mem_map,
	.region_add = svc_region_add,
	.region_move = svc_region_move,
	.region_del = svc_region_del,
	.irq_set = svc_irq_set,
	.msi_send = svc_msi_send,
	.fd_watch = svc_fd_watch,
	.fd_unwatch = svc_fd_unwatch,
	.timer_new = svc_timer_new,
	.timer_arm = svc_timer_arm,
	.timer_free = svc_timer_free,
	.loop_defer = svc_defer,
	.clock_now = svc_clock_ns,
	.vm_request = svc_vm_request,
	.state_write = state_write,
	.state_read = state_read,
	.chr_attach = svc_chr_attach,
	.chr_write = svc_chr_write,
	.chr_input_ready = svc_chr_input_ready,
	.console_input = svc_console_input,
	.disk_attach = core_disk_attach,
	.disk_info_get = core_disk_info,
	.disk_submit = core_disk_submit,
	.disk_complete = core_disk_complete,
	.net_attach = svc_net_attach,
	.net_send = svc_net_send,
	.net_rx_ready = svc_net_rx_ready,
	.net_deliver = svc_net_deliver,
	.file_open = core_file_open,
	.file_close = core_file_close,
	.file_info_get = core_file_info,
	.file_submit = core_file_submit,
	.file_pread = core_file_pread,
	.file_pwrite = core_file_pwrite,
	.file_sync = core_file_sync,
	.file_truncate = core_file_truncate,
	.buf_alloc = core_buf_alloc,
	.buf_free = core_buf_free,
	.pci_register = pci_register,
	.pci_intx_set = pci_intx,
	.pci_msi_send = pci_msi,
	.pci_command_get = pci_command,
	.vm_info_get = svc_vm_info,
	.peer_get = svc_peer_get,
	.post_listen = svc_post_listen,
	.post_sendv = svc_postv,
	.domain_held = svc_domain_held,
	.dma_add = dma_svc_add,
	.dma_unmap = dma_svc_unmap,
	.pci_bar_ram_get = pci_bar_ram,
	.pci_bar_dirty_get = pci_bar_dirty,
	.vga_window_set = svc_vga_window,
	.vga_dirty_get = svc_vga_dirty,
	.disk_backing_submit = chain_backing_submit,
	/* v2.1 */
	.disk_map = core_disk_map,
	.config_each = svc_config_each,
	/* v2.2 */
	.net_configure = svc_net_configure,
	/* v2.3 */
	.net_attach_plugin = svc_net_attach_plugin,
	/* v2.4 */
	.display_register = svc_display_register,
	.display_attach = svc_display_attach,
	.display_surface = svc_display_surface,
	.display_damage = svc_display_damage,
	.display_interval = svc_display_interval,
	.display_refresh_now = svc_display_refresh_now,
	.input_register = svc_input_register,
	.input_active = svc_input_active,
	.input_send = svc_input_send,
};

const struct inst_env core_env = {
	.host = &core_host,
	.gone = post_instance_gone,
	.release = services_release,
	.forget = hotplug_forget,
};
