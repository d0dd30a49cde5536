/*
 * machine = pc at config time: the implicit [device] sections the file
 * does not configure itself. Config data only, no VM: config validation
 * (check.c) calls it without linking the platform.
 */
#include "pc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config.h"

static const struct { const char *section, *plugin; } implicit[] = {
	{ "device rtc", "cmos" },
	{ "device kbc", "i8042" },
};

static int uses_plugin(const struct config *c, const char *plugin)
{
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->s[i].kind, "device") &&
		    !strcmp(cfg_get(&c->s[i], "plugin") ? cfg_get(&c->s[i], "plugin") : "", plugin))
			return 1;
	return 0;
}

int pc_config_expand(struct config *c)
{
	const struct cfg_section *vm = config_section(c, "vm", "vm");
	const char *m = cfg_get(vm, "machine");
	int line = vm ? vm->line : 1;

	if (!vm || (m && strcmp(m, "pc")))
		return 0;
	for (size_t i = 0; i < sizeof(implicit) / sizeof(implicit[0]); i++) {
		struct cfg_section *s;

		if (uses_plugin(c, implicit[i].plugin))
			continue;
		for (int j = 0; j < c->n; j++) {
			if (!strcmp(c->s[j].name, implicit[i].section)) {
				fprintf(stderr, "%s:%d: [%s]: machine = pc adds a %s device by this name; rename the section or use machine = none\n",
					c->path, c->s[j].line, c->s[j].name, implicit[i].plugin);
				return -1;
			}
		}
		s = realloc(c->s, (c->n + 1) * sizeof(*s));
		if (!s)
			return -1;
		c->s = s;
		s = &c->s[c->n++];
		memset(s, 0, sizeof(*s));
		s->name = strdup(implicit[i].section);
		s->kind = strdup("device");
		s->id = strdup(strchr(implicit[i].section, ' ') + 1);
		s->line = line;
		s->implicit = CFG_IMPLICIT_PC;
		s->e = calloc(1, sizeof(*s->e));
		if (!s->name || !s->kind || !s->id || !s->e)
			return -1;
		s->e[0] = (struct cfg_entry){ strdup("plugin"), strdup(implicit[i].plugin), line };
		s->n = 1;
	}
	return 0;
}
