#ifndef HV_CORE_CHECK_H
#define HV_CORE_CHECK_H

#include <stdio.h>

struct config;
struct plugin_set;

/* 0, or -1 after printing "file:line: [section]: message". */
int config_validate(struct config *c, const struct plugin_set *set);
/* One section, as config_validate checks each: its plugin bound (no such
 * plugin, wrong kind), required keys there, every key known and its value
 * valid. 0, or -1 after the line. hv_net_attach_plugin's sections too. */
struct cfg_section;
int config_section_validate(const struct config *c, struct cfg_section *s,
			    const struct plugin_set *set);
/* The effective config: every key with its value or default. */
void config_print(FILE *f, const struct config *c);

#endif
