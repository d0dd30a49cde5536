#ifndef HV_CORE_CHECK_H
#define HV_CORE_CHECK_H

#include <stdio.h>

struct config;
struct plugin_set;

/* 0, or -1 after printing "file:line: [section]: message". */
int config_validate(struct config *c, const struct plugin_set *set);
/* The effective config: every key with its value or default. */
void config_print(FILE *f, const struct config *c);

#endif
