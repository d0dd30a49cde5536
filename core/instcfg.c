/*
 * An instance's config values as the plugin sees them: a run-time
 * hot-plug override first, then its section, then the key's default. Apart
 * from the host table (services.c) so the block layer, posts and PCI read
 * keys without linking every service.
 */
#include <string.h>

#include "config.h"
#include "hotplug.h"
#include "instcfg.h"
#include "plugin.h"

const struct hv_config_key *inst_config_key(struct instance *in, const char *key)
{
	const struct hv_config_key *k = plugin_key(in->plugin, key);
	const struct hv_config_key *c;

	if (k || !in->sec)
		return k;
	for (c = cfg_common_keys(in->sec->kind); c->name; c++)
		if (!strcmp(c->name, key))
			return c;
	return NULL;
}

const char *inst_config_str(struct instance *in, const char *key)
{
	const char *v = hotplug_override(in, key); /* a run-time attach */
	const struct hv_config_key *k;

	if (!v && in->sec)
		v = cfg_get(in->sec, key);
	if (v)
		return v;
	k = inst_config_key(in, key);
	return k ? k->def : NULL;
}
