/*
 * Hot-plug readiness (hotplug.h). A backend's instance records the device
 * key that attached it (attach_key), so detach finds it by that key; a
 * run-time attach re-points the key through a small per-device list that
 * config lookups consult first. In-flight I/O is counted per lock domain
 * in disk.c and aio.c (inst_io_begin/end); the drain runs the main loop
 * until the count is zero.
 */
#include "hotplug.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "instance.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"
#include "vm.h"

struct hot_override {
	char *key, *val;
	struct hot_override *next;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

int inst_drain(struct instance *dev, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	while (atomic_load(&dev->io_inflight)) {
		if (now_ms() >= end) {
			err("[%s]: %lu I/O requests still in flight after %d ms",
			    dev->sec ? dev->sec->name : dev->ctx.name,
			    (unsigned long)atomic_load(&dev->io_inflight),
			    timeout_ms);
			return -ETIMEDOUT;
		}
		if (loop_once(dev->loop, 10) < 0)
			return -EIO;
	}
	return 0;
}

static int drain_ms(const struct vm *vm)
{
	return vm->drain_ms > 0 ? vm->drain_ms : HOTPLUG_DRAIN_MS;
}

int vm_drain_devices(struct vm *vm)
{
	int rc = 0;

	for (struct instance *in = vm->instances; in; in = in->next)
		if (!in->owner && atomic_load(&in->io_inflight)) {
			int r = inst_drain(in, drain_ms(vm));
			rc = rc ? rc : r;
		}
	return rc;
}

const char *hotplug_override(const struct instance *in, const char *key)
{
	for (const struct hot_override *o = in->overrides; o; o = o->next)
		if (!strcmp(o->key, key))
			return o->val;
	return NULL;
}

static void override_del(struct instance *in, const char *key)
{
	for (struct hot_override **pp = &in->overrides; *pp; pp = &(*pp)->next) {
		struct hot_override *o = *pp;
		if (!strcmp(o->key, key)) {
			*pp = o->next;
			free(o->key);
			free(o->val);
			free(o);
			return;
		}
	}
}

static int override_set(struct instance *in, const char *key, const char *val)
{
	struct hot_override *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	o->key = strdup(key);
	o->val = strdup(val);
	if (!o->key || !o->val) {
		free(o->key);
		free(o->val);
		free(o);
		return -ENOMEM;
	}
	override_del(in, key);
	o->next = in->overrides;
	in->overrides = o;
	return 0;
}

int hotplug_override_set(struct instance *in, const char *key, const char *val)
{
	return override_set(in, key, val);
}

void hotplug_override_del(struct instance *in, const char *key)
{
	override_del(in, key);
}

void hotplug_forget(struct instance *in)
{
	while (in->overrides)
		override_del(in, in->overrides->key);
	free(in->attach_key);
	in->attach_key = NULL;
}

static struct instance *attached_by(struct instance *dev, const char *key)
{
	for (struct instance *in = dev->vm->instances; in; in = in->next)
		if (in->owner == dev && in->attach_key &&
		    !strcmp(in->attach_key, key))
			return in;
	return NULL;
}

/* Off the VM's list, then freed (it drains its own disk requests first). */
static void backend_free(struct instance *be)
{
	struct vm *vm = be->vm;

	for (struct instance **pp = &vm->instances; *pp; pp = &(*pp)->next)
		if (*pp == be) {
			*pp = be->next;
			break;
		}
	instance_free(be);
}

/* The section kind a REF key of dev's plugin names, or NULL. */
static const char *ref_kind(struct instance *dev, const char *key)
{
	const struct hv_config_key *k = plugin_key(dev->plugin, key);

	return k && k->type == HV_KEY_REF ? k->choices : NULL;
}

int hotplug_attach(struct instance *dev, const char *key, const char *id)
{
	const struct hv_device_ops *ops = &dev->plugin->ops.device;
	const char *kind = ref_kind(dev, key);
	struct instance *be;
	int rc;

	if (!dev->vm || dev->owner || dev->plugin->desc.kind != HV_KIND_DEVICE ||
	    !dev->created || !kind) {
		inst_err(dev, NULL, "hot-plug: %s is not a backend key of a running device", key);
		return -EINVAL;
	}
	if (!ops->backend_attach) {
		inst_err(dev, NULL, "hot-plug: plugin %s cannot take a backend at run time",
			 dev->plugin->desc.name);
		return -EOPNOTSUPP;
	}
	if ((be = attached_by(dev, key))) {
		inst_err(dev, NULL, "hot-plug: %s already has [%s] attached", key,
			 be->sec ? be->sec->name : be->ctx.name);
		return -EBUSY;
	}
	if (!config_section(dev->vm->cfg, kind, id)) {
		inst_err(dev, NULL, "hot-plug: %s = %s: there is no [%s %s] section",
			 key, id, kind, id);
		return -ENOENT;
	}
	if ((rc = override_set(dev, key, id)))
		return rc;
	inst_lock(dev);
	rc = ops->backend_attach(&dev->ctx, key);
	inst_unlock(dev);
	if (rc) {
		/* what the op attached before failing goes with it */
		if ((be = attached_by(dev, key))) {
			inst_drain(dev, drain_ms(dev->vm));
			backend_free(be);
		}
		override_del(dev, key);
		return rc > 0 ? -EINVAL : rc;
	}
	return 0;
}

int hotplug_detach(struct instance *dev, const char *key)
{
	const struct hv_device_ops *ops = &dev->plugin->ops.device;
	struct instance *be = dev->vm ? attached_by(dev, key) : NULL;
	int rc;

	if (!be) {
		inst_err(dev, NULL, "hot-plug: nothing is attached by %s", key);
		return -ENOENT;
	}
	if (!ops->backend_detach) {
		inst_err(dev, NULL, "hot-plug: plugin %s cannot let a backend go at run time",
			 dev->plugin->desc.name);
		return -EOPNOTSUPP;
	}
	/* the device's requests complete while it still holds the handle */
	if ((rc = inst_drain(dev, drain_ms(dev->vm))))
		return rc;
	inst_lock(dev);
	ops->backend_detach(&dev->ctx, key);
	inst_unlock(dev);
	/* what it started between the drain and the op finishes before the
	 * backend goes; on a timeout here the backend stays (freeing it under
	 * a request would be a use-after-free) until the VM goes */
	if ((rc = inst_drain(dev, drain_ms(dev->vm))))
		return rc;
	backend_free(be);
	override_del(dev, key);
	return 0;
}
