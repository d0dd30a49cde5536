/* Attaching a backend section to the device whose key names it. */
#ifndef HV_CORE_BACKEND_H
#define HV_CORE_BACKEND_H

#include <string.h>

#include "instance.h"

/* A callback table the plugin compiled at cbs_size bytes: the members both
 * sides know, the rest zero (a newer plugin's extra members are unseen). */
#define COPY_CBS(dst, src, src_size)                                          \
	memcpy(&(dst), (src), (src_size) < sizeof(dst) ? (src_size) : sizeof(dst))

/* Find, instantiate in dev's lock domain and create the backend section
 * of the given kind named by dev's config key. NULL with *err = 0 when the
 * key is unset; NULL with *err < 0 after an error message. Dev's lock
 * held, main thread. */
struct instance *backend_attach(struct instance *dev, const char *key,
				const char *kind, int *err);
/* hv_net_attach_plugin: an instance of `plugin` in dev's lock domain
 * whose section, [net OWNER.NAME] (owned by the instance), is made from
 * kv ("key", "value" pairs, NULL key last) and checked as a written one;
 * then as backend_attach. NULL with *err < 0 after one line. */
struct instance *backend_attach_plugin(struct instance *dev, const char *name,
				       const char *plugin,
				       const char *const *kv, int *err);
/* A net backend's check op (v2.2) or a console's (v2.4), in hv check and
 * before its create:
 * 0, or -errno after the plugin's line (or one naming the section). */
int backend_check(struct instance *in);

#endif
