/*
 * Backends attached to a device (a console, a network backend): found by
 * the device's config key, instantiated in the device's lock domain and
 * created there. Shared by the console and network services.
 */
#include "backend.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "instcfg.h"
#include "log.h"
#include "plugin.h"
#include "vm.h"

int backend_check(struct instance *in)
{
	const struct plugin *p = in->plugin;
	int rc, errors = log_errors;

	if (p->desc.kind != HV_KIND_NET || !p->ops.net.check)
		return 0;
	rc = p->ops.net.check(&in->ctx);
	if (rc && log_errors == errors)
		inst_err(in, NULL, "plugin %s refused its configuration",
			 p->desc.name);
	return rc ? (rc < 0 ? rc : -EINVAL) : 0;
}

/* Console and network backends run their create only in a VM that runs:
 * hv check (vm->dry) must not bind sockets, write files or take the
 * terminal, so there the instance exists, attached, but is not created. */
static int backend_create(struct instance *in)
{
	const struct plugin *p = in->plugin;
	int rc = backend_check(in);

	if (rc || in->vm->dry)
		return rc;
	if (p->desc.kind == HV_KIND_CONSOLE && p->ops.console.create)
		return p->ops.console.create(&in->ctx);
	if (p->desc.kind == HV_KIND_NET && p->ops.net.create)
		return p->ops.net.create(&in->ctx);
	return 0;
}

struct instance *backend_attach(struct instance *dev, const char *key,
				const char *kind, int *err)
{
	const char *id = inst_config_str(dev, key);
	const struct config *cfg = dev->vm ? dev->vm->cfg : NULL;
	struct cfg_section *sec;
	struct instance *in;
	int rc, errors = log_errors;

	*err = 0;
	if (!id || !*id || !cfg)
		return NULL;
	sec = config_section(cfg, kind, id);
	*err = -ENOENT;
	if (!sec || !sec->plugin) {
		inst_err(dev, key, "%s = %s: there is no [%s %s] section", key,
			 id, kind, id);
		return NULL;
	}
	if (sec->plugin->desc.flags & HV_PLUGIN_OWN_DOMAIN) {
		inst_err(dev, key, "%s = %s: plugin %s of [%s] has a lock domain of its own: it is reached with hv_post, not attached",
			 key, id, sec->plugin->desc.name, sec->name);
		*err = -EINVAL;
		return NULL;
	}
	for (in = dev->vm->instances; in; in = in->next) {
		if (in->sec == sec) {
			inst_err(dev, key, "%s = %s: [%s] is already attached to [%s]",
				 key, id, sec->name,
				 in->owner && in->owner->sec ? in->owner->sec->name : "?");
			*err = -EBUSY;
			return NULL;
		}
	}
	in = instance_new(dev->env, dev->vm, dev->loop, dev->plugins,
			  sec->plugin, sec, dev);
	*err = -ENOMEM;
	if (!in)
		return NULL;
	in->attach_key = strdup(key);
	if (!in->attach_key) {
		pthread_mutex_unlock(in->lock); /* instance_free takes it */
		instance_free(in);
		pthread_mutex_lock(dev->lock);
		return NULL;
	}
	/* the domain lock is already ours: create directly */
	rc = backend_create(in);
	if (rc) {
		if (log_errors == errors) /* the plugin did not say why */
			inst_err(in, NULL, "plugin %s failed to start (%s)",
				 sec->plugin->desc.name, strerror(rc < 0 ? -rc : EINVAL));
		in->created = 0;
		pthread_mutex_unlock(in->lock); /* instance_free takes it */
		instance_free(in);
		pthread_mutex_lock(dev->lock);
		*err = rc < 0 ? rc : -EINVAL;
		return NULL;
	}
	in->created = !dev->vm->dry;
	in->next = dev->vm->instances;
	dev->vm->instances = in;
	*err = 0;
	return in;
}
