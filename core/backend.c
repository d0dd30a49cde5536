/*
 * Backends attached to a device (a console, a network backend): found by
 * the device's config key, instantiated in the device's lock domain and
 * created there. Shared by the console and network services.
 */
#include "backend.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "instcfg.h"
#include "log.h"
#include "plugin.h"
#include "vm.h"

int backend_check(struct instance *in)
{
	const struct plugin *p = in->plugin;
	int (*check)(struct hv_ctx *ctx) = NULL;
	int rc, errors = log_errors;

	if (p->desc.kind == HV_KIND_NET)
		check = p->ops.net.check;
	else if (p->desc.kind == HV_KIND_CONSOLE)
		check = p->ops.console.check;
	if (!check)
		return 0;
	rc = check(&in->ctx);
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

/* Check and create a new backend instance of dev's domain and put it in
 * the VM's list; on failure free it (and its synthesized section). */
static struct instance *backend_start(struct instance *dev,
				      struct instance *in, int *err)
{
	int rc, errors = log_errors;

	/* the domain lock is already ours: create directly */
	rc = backend_create(in);
	if (rc) {
		if (log_errors == errors) /* the plugin did not say why */
			inst_err(in, NULL, "plugin %s failed to start (%s)",
				 in->plugin->desc.name,
				 strerror(rc < 0 ? -rc : EINVAL));
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

struct instance *backend_attach(struct instance *dev, const char *key,
				const char *kind, int *err)
{
	const char *id = inst_config_str(dev, key);
	const struct config *cfg = dev->vm ? dev->vm->cfg : NULL;
	struct cfg_section *sec;
	struct instance *in;

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
	return backend_start(dev, in, err);
}

/* ---- hv_net_attach_plugin: a backend no section of the file names ---- */

static int add_entry(struct cfg_section *s, const char *key,
		     const char *value, int line)
{
	struct cfg_entry *e = realloc(s->e, (size_t)(s->n + 1) * sizeof(*e));

	if (!e)
		return -ENOMEM;
	s->e = e;
	e = &s->e[s->n];
	*e = (struct cfg_entry){ strdup(key), strdup(value), line };
	if (!e->key || !e->value) {
		free(e->key);
		free(e->value);
		return -ENOMEM;
	}
	s->n++;
	return 0;
}

/* [net OWNER.NAME] with plugin = PLUGIN and kv's pairs, at the line of
 * the caller's section (what a message about it points the user at). */
static struct cfg_section *synth_section(struct instance *dev,
					 const char *name, const char *plugin,
					 const char *const *kv, int *err)
{
	const char *owner = dev->sec ? dev->sec->id : dev->ctx.name;
	int line = dev->sec ? dev->sec->line : 1;
	struct cfg_section *s = calloc(1, sizeof(*s));

	*err = -ENOMEM;
	if (!s)
		return NULL;
	s->implicit = CFG_IMPLICIT_ATTACH;
	s->line = line;
	if (asprintf(&s->id, "%s.%s", owner, name) < 0)
		s->id = NULL;
	if (!s->id || asprintf(&s->name, "net %s", s->id) < 0 ||
	    !(s->kind = strdup("net")) || add_entry(s, "plugin", plugin, line))
		goto out_free;
	for (; kv && kv[0]; kv += 2) {
		if (!kv[1]) {
			inst_err(dev, NULL, "[%s]: key %s has no value",
				 s->name, kv[0]);
			*err = -EINVAL;
			goto out_free;
		}
		if (cfg_entry(s, kv[0])) {
			inst_err(dev, NULL, "[%s]: key %s given twice",
				 s->name, kv[0]);
			*err = -EINVAL;
			goto out_free;
		}
		if (add_entry(s, kv[0], kv[1], line))
			goto out_free;
	}
	*err = 0;
	return s;
out_free:
	cfg_section_free(s);
	free(s);
	return NULL;
}

static int valid_name(const char *s)
{
	if (!s || !*s || strlen(s) > 32)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-", *s))
			return 0;
	return 1;
}

/* Whether an instance (or a written section) is called [net ID] already. */
static int name_taken(struct instance *dev, const char *id)
{
	if (config_section(dev->vm->cfg, "net", id))
		return 1;
	for (struct instance *in = dev->vm->instances; in; in = in->next)
		if (in->sec && in->sec->implicit == CFG_IMPLICIT_ATTACH &&
		    !strcmp(in->sec->kind, "net") && !strcmp(in->sec->id, id))
			return 1;
	return 0;
}

struct instance *backend_attach_plugin(struct instance *dev, const char *name,
				       const char *plugin,
				       const char *const *kv, int *err)
{
	struct cfg_section *sec;
	struct instance *in;

	*err = -EINVAL;
	if (!dev->vm) {
		inst_err(dev, NULL, "attach %s: only inside a VM", name ? name : "?");
		return NULL;
	}
	if (!valid_name(name) || !plugin || !*plugin) {
		inst_err(dev, NULL, "attach %s: a name of 1-32 letters, digits, '_', '-' and a plugin are needed",
			 name ? name : "(null)");
		return NULL;
	}
	sec = synth_section(dev, name, plugin, kv, err);
	if (!sec)
		return NULL;
	*err = -EINVAL;
	if (name_taken(dev, sec->id)) {
		inst_err(dev, NULL, "[%s]: the name is taken (a section of the file, or attached already)",
			 sec->name);
		*err = -EBUSY;
		goto out_sec;
	}
	/* the lines a written section's keys would get: no plugin, not a
	 * net plugin, unknown keys, bad values, required keys missing */
	if (config_section_validate(dev->vm->cfg, sec, dev->plugins)) {
		log_errors++; /* check.c printed it */
		goto out_sec;
	}
	if (sec->plugin->desc.flags & HV_PLUGIN_OWN_DOMAIN) {
		inst_err(dev, NULL, "[%s]: plugin %s has a lock domain of its own: it is a section of the file, reached with hv_post, not attached",
			 sec->name, plugin);
		goto out_sec;
	}
	in = instance_new(dev->env, dev->vm, dev->loop, dev->plugins,
			  sec->plugin, sec, dev);
	*err = -ENOMEM;
	if (!in)
		goto out_sec;
	in->own_sec = sec;
	return backend_start(dev, in, err);
out_sec:
	cfg_section_free(sec);
	free(sec);
	return NULL;
}
