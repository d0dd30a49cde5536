/*
 * Loading plugins. Everything the descriptor says is checked before the
 * plugin is trusted with anything: the frozen head first (size, ABI), then
 * the v1 fields, then the ops and key tables, copied into zeroed structs of
 * this core's layout so that a plugin built against an older minor simply
 * has NULL for the members it does not know.
 */
#include "plugin.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define DESC_FROZEN offsetof(struct hv_plugin_desc, version)

static const char *const kind_names[] = { NULL, "device", "disk", "net", "console" };

const char *plugin_kind_name(int kind)
{
	return kind > 0 && kind <= HV_KIND_CONSOLE ? kind_names[kind] : "unknown";
}

int plugin_kind_from_name(const char *s)
{
	for (int k = HV_KIND_DEVICE; k <= HV_KIND_CONSOLE; k++)
		if (!strcmp(s, kind_names[k]))
			return k;
	return 0;
}

static size_t ops_size_of(int kind)
{
	switch (kind) {
	case HV_KIND_DEVICE: return sizeof(struct hv_device_ops);
	case HV_KIND_DISK: return sizeof(struct hv_disk_ops);
	case HV_KIND_NET: return sizeof(struct hv_net_ops);
	default: return sizeof(struct hv_console_ops);
	}
}

static int valid_name(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_'))
			return 0;
	return 1;
}

/* The head every SDK version shares; "" when it is fine. */
static const char *check_head(const struct hv_plugin_desc *d, char *why,
			      size_t n)
{
	if (d->size < DESC_FROZEN)
		return "descriptor too small";
	/* 2.0 changed the ABI on purpose (sdk/README.md, "From 1.0 to
	 * 2.0"): an SDK 1 plugin is refused, with what to do about it */
	if (d->abi_major == 1 && HV_ABI_MAJOR == 2)
		return "built for SDK 1; this hv needs plugins built for SDK 2 "
		       "(rebuild it against this hv's sdk/, see sdk/README.md)";
	if (d->abi_major != HV_ABI_MAJOR) {
		snprintf(why, n, "built for SDK major version %u, this hv speaks %u",
			 d->abi_major, HV_ABI_MAJOR);
		return why;
	}
	if (d->abi_minor > HV_ABI_MINOR) {
		snprintf(why, n, "needs SDK %u.%u, this hv provides %u.%u",
			 d->abi_major, d->abi_minor, HV_ABI_MAJOR, HV_ABI_MINOR);
		return why;
	}
	if (d->kind < HV_KIND_DEVICE || d->kind > HV_KIND_CONSOLE) {
		snprintf(why, n, "unknown plugin kind %u", d->kind);
		return why;
	}
	if (!valid_name(d->name))
		return "plugin name missing or not [a-z0-9_-]";
	return "";
}

static const char *check_body(struct plugin *p, char *why, size_t n)
{
	const struct hv_plugin_desc *d = &p->desc;

	if (!d->ops || !d->ops_size)
		return "descriptor has no ops table";
	if (d->ctx_size > sizeof(struct hv_ctx)) {
		snprintf(why, n, "expects a %u-byte hv_ctx, this hv has %zu",
			 d->ctx_size, sizeof(struct hv_ctx));
		return why;
	}
	if (d->keys && d->key_size < offsetof(struct hv_config_key, help))
		return "config key table entries too small";
	if (d->instance_size > (64u << 20))
		return "instance_size over 64 MiB";
	return "";
}

static int copy_keys(struct plugin *p)
{
	const char *src = (const char *)p->desc.keys;
	size_t ks = p->desc.key_size, n = 0;

	while (src && ((const struct hv_config_key *)(src + n * ks))->name)
		if (++n > 256)
			return -1;
	p->keys = calloc(n + 1, sizeof(*p->keys));
	if (!p->keys)
		return -1;
	for (size_t i = 0; i < n; i++)
		memcpy(&p->keys[i], src + i * ks,
		       ks < sizeof(*p->keys) ? ks : sizeof(*p->keys));
	p->nkeys = (int)n;
	return 0;
}

static int hashes(const char *name)
{
	int n = 0;

	for (; *name; name++)
		n += *name == '#';
	return n;
}

static const char *check_keys(const struct plugin *p)
{
	for (int i = 0; i < p->nkeys; i++) {
		const struct hv_config_key *k = &p->keys[i];
		const char *why = NULL;

		if (k->type < HV_KEY_STRING || k->type > HV_KEY_NEWPATH)
			return "a config key has an unknown type";
		if (k->type == HV_KEY_ENUM && !k->choices)
			return "an enum config key has no choices";
		if (k->def && k->type != HV_KEY_STRING &&
		    cfg_value_check(k, k->def, NULL, &why))
			return "a config key's default does not fit its type";
		if (!strcmp(k->name, "plugin"))
			return "a config key is named 'plugin', which the core owns";
		if ((k->flags & HV_KEY_INDEXED) &&
		    (!hashes(k->name) || hashes(k->name) > 2 ||
		     (k->flags & HV_KEY_REQUIRED)))
			return "an indexed config key needs one or two '#' and no HV_KEY_REQUIRED";
		if ((k->flags & HV_KEY_RUNTIME) &&
		    ((k->flags & HV_KEY_INDEXED) || p->desc.kind != HV_KIND_DEVICE ||
		     k->type == HV_KEY_PATH || k->type == HV_KEY_NEWPATH ||
		     k->type == HV_KEY_REF))
			return "a run-time config key must be a device's string, int, bool, size or enum key, not indexed";
	}
	return "";
}

static void plugin_free(struct plugin *p)
{
	if (p->dl)
		dlclose(p->dl);
	free(p->keys);
	free(p->path);
	free(p);
}

static int refuse(struct plugin *p, const char *why)
{
	fprintf(stderr, "%s: %s\n", p->path, why);
	plugin_free(p);
	return -1;
}

int plugin_load_file(struct plugin_set *set, const char *path)
{
	struct plugin *p = calloc(1, sizeof(*p));
	const struct hv_plugin_desc *d;
	hv_plugin_entry_fn entry;
	struct stat st;
	char why[160];
	const char *bad;

	if (!p)
		return -1;
	p->path = strdup(path);
	if (stat(path, &st))
		return refuse(p, errno == ENOENT ? "no such file" : strerror(errno));
	if (!S_ISREG(st.st_mode))
		return refuse(p, "not a regular file");
	p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl) {
		const char *e = dlerror();
		snprintf(why, sizeof(why), "not a loadable shared object (%s)",
			 strstr(e, "invalid ELF") || strstr(e, "too short") ?
				 "invalid ELF header" : e);
		return refuse(p, why);
	}
	*(void **)&entry = dlsym(p->dl, HV_PLUGIN_ENTRY_SYMBOL);
	if (!entry)
		return refuse(p, "no " HV_PLUGIN_ENTRY_SYMBOL "() symbol: not an hv plugin");
	d = entry();
	if (!d)
		return refuse(p, HV_PLUGIN_ENTRY_SYMBOL "() returned no descriptor");
	if (*(bad = check_head(d, why, sizeof(why))))
		return refuse(p, bad);
	memcpy(&p->desc, d, d->size < sizeof(p->desc) ? d->size : sizeof(p->desc));
	if (*(bad = check_body(p, why, sizeof(why))))
		return refuse(p, bad);
	memcpy(&p->ops, d->ops, d->ops_size < ops_size_of(d->kind) ?
				       d->ops_size : ops_size_of(d->kind));
	if (copy_keys(p))
		return refuse(p, "config key table has no end or is too long");
	if (*(bad = check_keys(p)))
		return refuse(p, bad);
	for (struct plugin *o = set->head; o; o = o->next) {
		if (strcmp(o->desc.name, p->desc.name))
			continue;
		snprintf(why, sizeof(why), "plugin name '%s' is already taken by %s",
			 p->desc.name, o->path);
		return refuse(p, why);
	}
	p->next = set->head;
	set->head = p;
	set->count++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Has a file of this base name come from an earlier directory? */
static int shadowed(const struct plugin_set *set, const char *base)
{
	for (const struct plugin *p = set->head; p; p = p->next) {
		const char *b = strrchr(p->path, '/');
		if (!strcmp(b ? b + 1 : p->path, base))
			return 1;
	}
	return 0;
}

static int load_dir(struct plugin_set *set, const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	int n = 0, rc = 0;

	if (!dh)
		return 0; /* a missing directory on the path is not an error */
	while ((de = readdir(dh))) {
		size_t l = strlen(de->d_name);
		if (l < 4 || strcmp(de->d_name + l - 3, ".so"))
			continue;
		char **nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn)
			break;
		names = nn;
		names[n++] = strdup(de->d_name);
	}
	closedir(dh);
	if (n) /* qsort(NULL, 0) is undefined */
		qsort(names, n, sizeof(*names), cmp_str);
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (!rc && !shadowed(set, names[i]) && plugin_load_file(set, path))
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int plugin_load_path(struct plugin_set *set, const char *dirs)
{
	char *copy = strdup(dirs), *save = NULL;
	int rc = 0;

	for (char *d = strtok_r(copy, ":", &save); d && !rc;
	     d = strtok_r(NULL, ":", &save))
		rc = load_dir(set, d);
	free(copy);
	return rc;
}

char *plugin_default_path(const char *extra)
{
	char exe[PATH_MAX], *slash, *out = NULL;
	const char *env = getenv("HV_PLUGIN_PATH");
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t len;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	if (extra && *extra)
		fprintf(f, "%s:", extra);
	if (env && *env)
		fprintf(f, "%s:", env);
	if (n > 0) {
		exe[n] = 0;
		if ((slash = strrchr(exe, '/')))
			*slash = 0;
		fprintf(f, "%s/plugins:%s/../lib/hv/plugins", exe, exe);
	}
	fclose(f);
	return out;
}

const struct plugin *plugin_find(const struct plugin_set *set, const char *name)
{
	for (const struct plugin *p = set->head; p; p = p->next)
		if (!strcmp(p->desc.name, name))
			return p;
	return NULL;
}

const struct hv_config_key *plugin_key(const struct plugin *p, const char *name)
{
	for (int i = 0; p && i < p->nkeys; i++)
		if (cfg_key_match(&p->keys[i], name, NULL, NULL, 0) == 1)
			return &p->keys[i];
	return NULL;
}

void plugin_set_free(struct plugin_set *set)
{
	struct plugin *p = set->head, *next;

	for (; p; p = next) {
		next = p->next;
		plugin_free(p);
	}
	set->head = NULL;
	set->count = 0;
}
