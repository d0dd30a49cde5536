/* An instance's config keys (instcfg.c), below the host table. */
#ifndef HV_CORE_INSTCFG_H
#define HV_CORE_INSTCFG_H

#include "instance.h"

/* The key's description: the plugin's table, else the kind's common keys;
 * NULL when neither has it. */
const struct hv_config_key *inst_config_key(struct instance *in,
					    const char *key);
/* The config key's value or its default (plugin table or the kind's
 * common keys); NULL when neither. */
const char *inst_config_str(struct instance *in, const char *key);

#endif
