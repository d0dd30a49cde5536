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

#endif
