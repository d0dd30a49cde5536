#include "instance.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "dma.h"
#include "log.h"
#include "plugin.h"
#include "vm.h"

struct instance *instance_new(const struct inst_env *env, struct vm *vm,
			      struct loop *loop, const struct plugin_set *set,
			      const struct plugin *p,
			      const struct cfg_section *sec,
			      struct instance *owner)
{
	struct instance *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->env = env;
	in->ctx.host = env->host;
	in->ctx.name = sec ? sec->id : p->desc.name;
	if (p->desc.instance_size) {
		in->ctx.state = calloc(1, p->desc.instance_size);
		if (!in->ctx.state) {
			free(in);
			return NULL;
		}
	}
	in->vm = vm;
	in->loop = loop;
	in->plugins = set;
	in->plugin = p;
	in->sec = sec;
	in->owner = owner;
	pthread_mutex_init(&in->own_lock, NULL);
	in->lock = owner ? owner->lock : &in->own_lock;
	return in;
}

int instance_create(struct instance *in)
{
	int (*create)(struct hv_ctx *) = NULL;
	int rc = 0;

	switch (in->plugin->desc.kind) {
	case HV_KIND_DEVICE: create = in->plugin->ops.device.create; break;
	case HV_KIND_NET: create = in->plugin->ops.net.create; break;
	case HV_KIND_CONSOLE: create = in->plugin->ops.console.create; break;
	default: break;
	}
	inst_lock(in);
	if (create)
		rc = create(&in->ctx);
	in->created = !rc;
	inst_unlock(in);
	return rc > 0 ? -EINVAL : rc;
}

static void call_destroy(struct instance *in)
{
	const struct plugin *p = in->plugin;
	void (*destroy)(struct hv_ctx *) = NULL;

	switch (p->desc.kind) {
	case HV_KIND_DEVICE: destroy = p->ops.device.destroy; break;
	case HV_KIND_DISK: destroy = p->ops.disk.close; break;
	case HV_KIND_NET: destroy = p->ops.net.destroy; break;
	case HV_KIND_CONSOLE: destroy = p->ops.console.destroy; break;
	}
	if (destroy)
		destroy(&in->ctx);
}

void instance_free(struct instance *in)
{
	if (!in)
		return;
	if (in->unlink)
		in->unlink(in); /* disk_release: drain its requests first */
	if (in->env->gone)
		in->env->gone(in); /* post_instance_gone: refuse posts to it */
	if (in->vm) {
		/* no vCPU is inside the instance (or enters it) once these
		 * return, so destroy never races a region access */
		bus_retire_owner(&in->vm->pio, in);
		bus_retire_owner(&in->vm->mmio, in);
	}
	inst_lock(in);
	if (in->created)
		call_destroy(in);
	in->created = 0;
	if (in->vm) /* before the state holding the hv_dma storage goes */
		dma_release(in, "destroy");
	if (in->env->release)
		in->env->release(in); /* services_release */
	if (in->plugin->desc.kind == HV_KIND_CONSOLE ||
	    in->plugin->desc.kind == HV_KIND_NET)
		free(in->link); /* the core's hv_chr / hv_net for it */
	inst_unlock(in);
	if (in->vm) {
		bus_del_owner(&in->vm->pio, in);
		bus_del_owner(&in->vm->mmio, in);
	}
	if (in->env->forget)
		in->env->forget(in); /* hotplug_forget */
	pthread_mutex_destroy(&in->own_lock);
	free(in->ctx.state);
	if (in->own_sec) {
		cfg_section_free(in->own_sec);
		free(in->own_sec);
	}
	free(in);
}
