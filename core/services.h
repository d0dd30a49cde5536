/* The host services table (core_host) and what the core needs of it. */
#ifndef HV_CORE_SERVICES_H
#define HV_CORE_SERVICES_H

#include "instance.h"
#include "instcfg.h"

/* Free the watches and timers an instance still holds. Lock held. */
void services_release(struct instance *in);
/* The services plugins see in a VM or `hv img`, and the environment that
 * hands them to instances with the release hooks of posts, hot-plug and
 * the services' own leftovers. */
extern const struct hv_host core_host;
extern const struct inst_env core_env;
/* Find, instantiate in dev's lock domain and create the backend section
 * of the given kind named by dev's config key. NULL with *err = 0 when the
 * key is unset; NULL with *err < 0 after an error message. */
struct instance *backend_attach(struct instance *dev, const char *key,
				const char *kind, int *err);
/* A net backend's check op (v2.2), in hv check and before its create:
 * 0, or -errno after the plugin's line (or one naming the section). */
int backend_check(struct instance *in);

#endif
