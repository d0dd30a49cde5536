/*
 * Validation of a whole config against the loaded plugins, before anything
 * runs: sections name existing plugins of the right kind, every key is one
 * the section's plugin (or the core) publishes, values fit their types,
 * required keys are there, referenced sections exist, files exist, and the
 * kernel and initrd are files the boot loaders can take (boot_check_files).
 * Relative paths are taken from the INI file's directory.
 */
#include "check.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "boot.h"
#include "cpumodel.h"
#include "config.h"
#include "pc/pc.h"
#include "plugin.h"

static const struct hv_config_key *find_key(const struct hv_config_key *t,
					    const char *name)
{
	for (; t && t->name; t++)
		if (cfg_key_match(t, name, NULL, NULL, 0) == 1)
			return t;
	return NULL;
}

static const struct hv_config_key *lookup(const struct cfg_section *s,
					  const char *name)
{
	const struct hv_config_key *k = find_key(cfg_common_keys(s->kind), name);

	if (!k && s->plugin)
		k = plugin_key(s->plugin, name);
	return k;
}

static void list_keys(const struct cfg_section *s, char *buf, size_t n)
{
	const struct hv_config_key *t = cfg_common_keys(s->kind);
	size_t used = 0;

	buf[0] = 0;
	for (int pass = 0; pass < 2; pass++) {
		int cnt = pass ? (s->plugin ? s->plugin->nkeys : 0) : INT_MAX;
		const struct hv_config_key *k = pass ? (s->plugin ? s->plugin->keys : NULL) : t;

		for (int i = 0; k && k[i].name && i < cnt && used < n; i++)
			used += snprintf(buf + used, n - used, "%s%s",
					 used ? ", " : "", k[i].name);
	}
}

/* Rewrite a relative path against the INI's directory. */
static int resolve_path(const struct config *c, struct cfg_entry *e)
{
	char dir[PATH_MAX], *slash, *abs;

	if (e->value[0] == '/')
		return 0;
	snprintf(dir, sizeof(dir), "%s", c->path);
	slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = 0;
	if (asprintf(&abs, "%s/%s", dir, e->value) < 0)
		return -1;
	free(e->value);
	e->value = abs;
	return 0;
}

/* A file hv will create: its directory must be there, and the path must not
 * name a directory. Checked here, not when the backend starts, so that
 * `hv check` (which starts no backend) refuses it with the same line. */
static const char *newpath_problem(const char *path, char *why, size_t n)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		return "is a directory";
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		return NULL; /* relative to the INI's directory: there */
	*slash = 0;
	if (!dir[0])
		return NULL;
	if (stat(dir, &st))
		snprintf(why, n, "directory %.*s: %s", PATH_MAX, dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		snprintf(why, n, "%.*s is not a directory", PATH_MAX, dir);
	else
		return NULL;
	return why;
}

/* What bind() would refuse in a control socket's path, before anything
 * runs: control.c replaces a stale socket there, never another file. */
static const char *control_path_problem(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;

	if (strlen(path) >= sizeof(sa.sun_path))
		return "too long for a unix socket address";
	if (!lstat(path, &st) && !S_ISSOCK(st.st_mode))
		return "exists and is not a socket";
	return NULL;
}

static int check_entry(const struct config *c, const struct cfg_section *s,
		       struct cfg_entry *e)
{
	const struct hv_config_key *k = lookup(s, e->key);
	const char *why = NULL;
	char keys[512], dir_why[PATH_MAX + 64];

	for (int pass = 0; !k && pass < 2; pass++) {
		const struct hv_config_key *t = pass ?
			(s->plugin ? s->plugin->keys : NULL) : cfg_common_keys(s->kind);
		int cnt = pass ? (s->plugin ? s->plugin->nkeys : 0) : INT_MAX;

		for (int i = 0; t && t[i].name && i < cnt; i++)
			if (cfg_key_match(&t[i], e->key, NULL, keys, sizeof(keys)) < 0) {
				fprintf(stderr, "%s:%d: [%s]: %s: %s\n", c->path,
					e->line, s->name, e->key, keys);
				return -1;
			}
	}
	if (!k) {
		list_keys(s, keys, sizeof(keys));
		fprintf(stderr, "%s:%d: [%s]: unknown key '%s' (known: %s)\n", c->path,
			e->line, s->name, e->key, keys);
		return -1;
	}
	if (cfg_value_check(k, e->value, NULL, &why)) {
		fprintf(stderr, "%s:%d: [%s]: %s = %s: %s%s%s\n", c->path, e->line,
			s->name, e->key, e->value, why,
			k->type == HV_KEY_ENUM ? "; choose one of " : "",
			k->type == HV_KEY_ENUM ? k->choices : "");
		return -1;
	}
	if (!strcmp(s->kind, "vm") && !strcmp(e->key, "cpu")) {
		struct cpu_model m;
		char cwhy[160];

		if (cpumodel_parse(e->value, &m, cwhy, sizeof(cwhy))) {
			fprintf(stderr, "%s:%d: [%s]: cpu = %s: %s\n", c->path,
				e->line, s->name, e->value, cwhy);
			return -1;
		}
	}
	if (k->type == HV_KEY_PATH || k->type == HV_KEY_NEWPATH)
		resolve_path(c, e);
	if (!strcmp(s->kind, "vm") && !strcmp(e->key, "control") &&
	    (why = control_path_problem(e->value))) {
		fprintf(stderr, "%s:%d: [%s]: control = %s: %s\n", c->path,
			e->line, s->name, e->value, why);
		return -1;
	}
	if (k->type == HV_KEY_PATH && access(e->value, F_OK)) {
		fprintf(stderr, "%s:%d: [%s]: %s = %s: %s\n", c->path, e->line,
			s->name, e->key, e->value, strerror(errno));
		return -1;
	}
	if (k->type == HV_KEY_NEWPATH &&
	    (why = newpath_problem(e->value, dir_why, sizeof(dir_why)))) {
		fprintf(stderr, "%s:%d: [%s]: %s = %s: %s\n", c->path, e->line,
			s->name, e->key, e->value, why);
		return -1;
	}
	if (k->type == HV_KEY_REF && k->choices &&
	    !config_section(c, k->choices, e->value)) {
		fprintf(stderr, "%s:%d: [%s]: %s = %s: there is no [%s %s] section\n",
			c->path, e->line, s->name, e->key, e->value, k->choices,
			e->value);
		return -1;
	}
	return 0;
}

static int check_required(const struct config *c, const struct cfg_section *s)
{
	for (int pass = 0; pass < 2; pass++) {
		const struct hv_config_key *k = pass ?
			(s->plugin ? s->plugin->keys : NULL) : cfg_common_keys(s->kind);

		for (; k && k->name; k++) {
			if (!(k->flags & HV_KEY_REQUIRED) || cfg_get(s, k->name))
				continue;
			fprintf(stderr, "%s:%d: [%s]: '%s' is required (%s)\n", c->path,
				s->line, s->name, k->name, k->help ? k->help : "");
			return -1;
		}
	}
	return 0;
}

/* Which plugin a section names; disks without format= are probed later. */
static int bind_plugin(const struct config *c, struct cfg_section *s,
		       const struct plugin_set *set)
{
	int is_disk = !strcmp(s->kind, "disk");
	const char *name = cfg_get(s, is_disk ? "format" : "plugin");
	const struct cfg_entry *e = cfg_entry(s, is_disk ? "format" : "plugin");
	const struct plugin *p;

	if (!strcmp(s->kind, "vm") || (is_disk && !name))
		return 0;
	if (!name) /* reported by check_required */
		return 0;
	p = plugin_find(set, name);
	if (!p) {
		fprintf(stderr, "%s:%d: [%s]: no plugin named '%s' (see 'hv plugins')\n",
			c->path, e->line, s->name, name);
		return -1;
	}
	if (strcmp(plugin_kind_name(p->desc.kind), s->kind)) {
		fprintf(stderr, "%s:%d: [%s]: plugin '%s' is a %s plugin, not a %s plugin\n",
			c->path, e->line, s->name, name,
			plugin_kind_name(p->desc.kind), s->kind);
		return -1;
	}
	s->plugin = p;
	return 0;
}

int config_section_validate(const struct config *c, struct cfg_section *s,
			    const struct plugin_set *set)
{
	if (bind_plugin(c, s, set) || check_required(c, s))
		return -1;
	for (int j = 0; j < s->n; j++)
		if (check_entry(c, s, &s->e[j]))
			return -1;
	return 0;
}

int config_validate(struct config *c, const struct plugin_set *set)
{
	if (pc_config_expand(c))
		return -1;
	for (int i = 0; i < c->n; i++) {
		if (config_section_validate(c, &c->s[i], set))
			return -1;
	}
	/* what boot_load() will read: `hv check` refuses what `hv run` would */
	return boot_check_files(c) ? -1 : 0;
}

static void print_keys(FILE *f, const struct cfg_section *s,
		       const struct hv_config_key *k, int n)
{
	for (int i = 0; k && k[i].name && i < n; i++) {
		const char *v = cfg_get(s, k[i].name);

		if (k[i].flags & HV_KEY_INDEXED) {
			for (int j = 0; j < s->n; j++)
				if (cfg_key_match(&k[i], s->e[j].key, NULL, NULL, 0) == 1)
					fprintf(f, "%s = %s\n", s->e[j].key, s->e[j].value);
			continue;
		}
		if (v)
			fprintf(f, "%s = %s\n", k[i].name, v);
		else if (k[i].def)
			fprintf(f, "%s = %s    ; default\n", k[i].name, k[i].def);
	}
}

void config_print(FILE *f, const struct config *c)
{
	for (int i = 0; i < c->n; i++) {
		const struct cfg_section *s = &c->s[i];

		fprintf(f, "%s[%s]%s\n", i ? "\n" : "", s->name,
			s->implicit == CFG_IMPLICIT_PC ? "    ; implicit: machine = pc" : "");
		print_keys(f, s, cfg_common_keys(s->kind), INT_MAX);
		if (s->plugin)
			print_keys(f, s, s->plugin->keys, s->plugin->nkeys);
	}
}
