/*
 * INI parsing with libinih. inih reports keys but not section headers or
 * line numbers, so the reader we hand it counts lines and notes headers:
 * that is what lets every message say file:line and what catches empty and
 * repeated sections.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parse {
	struct config *c;
	const char *text; /* remaining input */
	int line;
	int failed;
};

static const char *const kinds[] = { "vm", "device", "disk", "net", "console" };

static int valid_id(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.", *s))
			return 0;
	return 1;
}

static struct cfg_section *find_named(struct config *c, const char *name)
{
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->s[i].name, name))
			return &c->s[i];
	return NULL;
}

/* "device com1" -> kind "device", id "com1"; -1 with a message if bad. */
static int split_name(struct parse *p, const char *name, char **kind,
		      char **id)
{
	char k[64], i[128], extra[2];
	int n = sscanf(name, "%63s %127s %1s", k, i, extra);
	size_t nk;

	if (n == 1 && !strcmp(k, "vm")) {
		*kind = strdup("vm");
		*id = strdup("vm");
		return 0;
	}
	if (n != 2) {
		fprintf(stderr, "%s:%d: section [%s]: expected [vm] or [KIND NAME]\n",
			p->c->path, p->line, name);
		return -1;
	}
	nk = sizeof(kinds) / sizeof(kinds[0]);
	for (size_t j = 1; j < nk; j++) {
		if (strcmp(k, kinds[j]))
			continue;
		if (!valid_id(i)) {
			fprintf(stderr, "%s:%d: section [%s]: name '%s' may hold only letters, digits, '_', '-', '.'\n",
				p->c->path, p->line, name, i);
			return -1;
		}
		*kind = strdup(k);
		*id = strdup(i);
		return 0;
	}
	fprintf(stderr, "%s:%d: section [%s]: unknown kind '%s' (device, disk, net, console)\n",
		p->c->path, p->line, name, k);
	return -1;
}

static int add_section(struct parse *p, const char *name)
{
	struct config *c = p->c;
	struct cfg_section *s, *old;

	if ((old = find_named(c, name))) {
		fprintf(stderr, "%s:%d: section [%s] repeats the one at line %d\n",
			c->path, p->line, name, old->line);
		return -1;
	}
	s = realloc(c->s, (c->n + 1) * sizeof(*s));
	if (!s)
		return -1;
	c->s = s;
	s = &c->s[c->n];
	memset(s, 0, sizeof(*s));
	if (split_name(p, name, &s->kind, &s->id))
		return -1;
	for (int i = 0; i < c->n; i++) {
		if (!strcmp(c->s[i].kind, s->kind) && !strcmp(c->s[i].id, s->id)) {
			fprintf(stderr, "%s:%d: section [%s]: a %s named '%s' exists at line %d\n",
				c->path, p->line, name, s->kind, s->id, c->s[i].line);
			free(s->kind);
			free(s->id);
			return -1;
		}
	}
	s->name = strdup(name);
	s->line = p->line;
	c->n++;
	return 0;
}

/* The reader: one line per call, counting lines and catching headers. */
static char *reader(char *buf, int size, void *stream)
{
	struct parse *p = stream;
	const char *nl, *t = p->text;
	size_t n;
	char name[256];

	if (!*t || p->failed)
		return NULL;
	nl = strchr(t, '\n');
	n = nl ? (size_t)(nl - t + 1) : strlen(t);
	if (n >= (size_t)size)
		n = size - 1;
	memcpy(buf, t, n);
	buf[n] = 0;
	p->text = t + n;
	p->line++;
	t = buf; /* look for a header in the NUL-terminated copy */
	while (*t == ' ' || *t == '\t')
		t++;
	if (*t == '[') {
		const char *end = strchr(t, ']');
		size_t len;

		if (!end) /* inih reports it */
			return buf;
		len = end - t - 1;
		if (len >= sizeof(name))
			len = sizeof(name) - 1;
		memcpy(name, t + 1, len);
		name[len] = 0;
		/* trim */
		char *a = name, *b = name + strlen(name);
		while (*a == ' ')
			a++;
		while (b > a && b[-1] == ' ')
			*--b = 0;
		if (add_section(p, a))
			p->failed = 1;
	}
	return buf;
}

static int handler(void *user, const char *section, const char *key,
		   const char *value)
{
	struct parse *p = user;
	struct cfg_section *s;
	struct cfg_entry *e;

	if (p->failed)
		return 0;
	if (!*section) {
		fprintf(stderr, "%s:%d: '%s' is outside any section\n",
			p->c->path, p->line, key);
		p->failed = 1;
		return 0;
	}
	s = find_named(p->c, section);
	if (!s) { /* a header with odd spacing: fall back to inih's name */
		if (add_section(p, section)) {
			p->failed = 1;
			return 0;
		}
		s = find_named(p->c, section);
	}
	for (int i = 0; i < s->n; i++) {
		if (!strcmp(s->e[i].key, key)) {
			fprintf(stderr, "%s:%d: [%s] '%s' is already set at line %d\n",
				p->c->path, p->line, s->name, key, s->e[i].line);
			p->failed = 1;
			return 0;
		}
	}
	e = realloc(s->e, (s->n + 1) * sizeof(*e));
	if (!e)
		return 0;
	s->e = e;
	e[s->n].key = strdup(key);
	e[s->n].value = strdup(value);
	e[s->n].line = p->line;
	s->n++;
	return 1;
}

int config_load_string(struct config *c, const char *path, const char *text)
{
	struct parse p = { .c = c, .text = text };
	int r;

	memset(c, 0, sizeof(*c));
	c->path = strdup(path);
	r = ini_parse_stream(reader, &p, handler, &p);
	if (p.failed)
		return -1;
	if (r > 0) {
		fprintf(stderr, "%s:%d: syntax error (expected 'key = value' or '[section]')\n",
			path, r);
		return -1;
	}
	if (r < 0) {
		fprintf(stderr, "%s: cannot parse\n", path);
		return -1;
	}
	if (!config_section(c, "vm", "vm")) {
		fprintf(stderr, "%s:1: no [vm] section\n", path);
		return -1;
	}
	return 0;
}

int config_load(struct config *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	int r;

	memset(c, 0, sizeof(*c));
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	FILE *m = open_memstream(&text, &len);
	char buf[4096];
	size_t n;
	while (m && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, m);
	fclose(f);
	if (!m)
		return -1;
	fclose(m);
	if (memchr(text, 0, len)) {
		fprintf(stderr, "%s: not a text file\n", path);
		free(text);
		return -1;
	}
	r = config_load_string(c, path, text);
	free(text);
	return r;
}

void config_free(struct config *c)
{
	for (int i = 0; i < c->n; i++) {
		struct cfg_section *s = &c->s[i];

		for (int j = 0; j < s->n; j++) {
			free(s->e[j].key);
			free(s->e[j].value);
		}
		free(s->e);
		free(s->name);
		free(s->kind);
		free(s->id);
	}
	free(c->s);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

struct cfg_section *config_section(const struct config *c, const char *kind,
				   const char *id)
{
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->s[i].kind, kind) && !strcmp(c->s[i].id, id))
			return &c->s[i];
	return NULL;
}

const struct cfg_entry *cfg_entry(const struct cfg_section *s, const char *key)
{
	for (int i = 0; s && i < s->n; i++)
		if (!strcmp(s->e[i].key, key))
			return &s->e[i];
	return NULL;
}

const char *cfg_get(const struct cfg_section *s, const char *key)
{
	const struct cfg_entry *e = cfg_entry(s, key);

	return e ? e->value : NULL;
}

int cfg_parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

int cfg_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (*s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 0: break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: return -1;
	}
	if (*end) {
		end++;
		if (toupper((unsigned char)*end) == 'I' && toupper((unsigned char)end[1]) == 'B')
			end += 2;
		else if (toupper((unsigned char)*end) == 'B')
			end++;
		if (*end)
			return -1;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int cfg_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "1", "on", "yes", "true" };
	static const char *const no[] = { "0", "off", "no", "false" };

	for (int i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i]))
			return *out = 1, 0;
		if (!strcasecmp(s, no[i]))
			return *out = 0, 0;
	}
	return -1;
}

/* The index of word in a '|'-separated list, or -1. */
static int enum_index(const char *choices, const char *word)
{
	size_t wl = strlen(word);
	int idx = 0;

	for (const char *c = choices; c && *c; idx++) {
		const char *bar = strchr(c, '|');
		size_t l = bar ? (size_t)(bar - c) : strlen(c);

		if (l == wl && !strncmp(c, word, l))
			return idx;
		if (!bar)
			break;
		c = bar + 1;
	}
	return -1;
}

int cfg_value_check(const struct hv_config_key *k, const char *value,
		    int64_t *num, const char **why)
{
	uint64_t u;
	int64_t v = 0;
	int b;

	switch (k->type) {
	case HV_KEY_INT:
		if (cfg_parse_int(value, &v))
			return *why = "expected an integer", -1;
		if ((k->min || k->max) && (v < k->min || v > k->max))
			return *why = "out of range", -1;
		break;
	case HV_KEY_SIZE:
		if (cfg_parse_size(value, &u) || u > INT64_MAX)
			return *why = "expected a size such as 512M or 2G", -1;
		v = (int64_t)u;
		if ((k->min || k->max) && (v < k->min || v > k->max))
			return *why = "out of range", -1;
		break;
	case HV_KEY_BOOL:
		if (cfg_parse_bool(value, &b))
			return *why = "expected on or off", -1;
		v = b;
		break;
	case HV_KEY_ENUM:
		v = enum_index(k->choices, value);
		if (v < 0)
			return *why = "not one of the choices", -1;
		break;
	case HV_KEY_STRING:
	case HV_KEY_PATH:
	case HV_KEY_NEWPATH:
	case HV_KEY_REF:
		if (k->type != HV_KEY_STRING && !*value)
			return *why = "empty", -1;
		break;
	default:
		return *why = "key of unknown type", -1;
	}
	if (num)
		*num = v;
	return 0;
}

const struct hv_config_key vm_keys[] = {
	HV_KEY_STR("name", NULL, "the VM's name (default: the INI file's name)"),
	HV_KEY_SZ("memory", "128M", 1 << 20, 1ll << 40, "guest RAM"),
	HV_KEY_NUM("cpus", "1", 1, 64, "number of vCPUs"),
	HV_KEY_CHOICE("accel", "auto", "auto|kvm|emu",
		      "vCPU backend: auto picks kvm when /dev/kvm opens, else emu"),
	HV_KEY_FILE("kernel", HV_KEY_REQUIRED, "the boot image"),
	HV_KEY_CHOICE("kernel_format", "auto", "auto|flat|multiboot|linux|pvh",
		      "boot image format (auto: bzImage -> linux, ELF with a PVH note -> pvh)"),
	HV_KEY_FILE("initrd", 0, "linux/pvh: the initial ramdisk"),
	HV_KEY_NUM("load_addr", "0x7c00", 0, 0xffffffffll, "flat: guest-physical load address"),
	HV_KEY_CHOICE("entry", "real", "real|prot32|long64",
		      "flat: CPU mode at entry (real: cs=0, ip=load_addr)"),
	HV_KEY_STR("cmdline", "", "the kernel command line"),
	HV_KEY_CHOICE("on_reboot", "restart", "restart|exit", "what a guest reset does"),
	HV_KEY_CHOICE("machine", "pc", "pc|none",
		      "pc: PCI host bridge, ACPI tables and PM block, CMOS/RTC and i8042 (implicit); none: only the configured devices"),
	HV_KEY_STR("plugin_path", NULL, "':'-separated directories searched first for plugins"),
	HV_KEYS_END
};

static const struct hv_config_key backend_common[] = {
	{ .name = "plugin", .type = HV_KEY_STRING, .flags = HV_KEY_REQUIRED,
	  .help = "the plugin that implements this instance" },
	HV_KEYS_END
};

static const struct hv_config_key device_common[] = {
	{ .name = "plugin", .type = HV_KEY_STRING, .flags = HV_KEY_REQUIRED,
	  .help = "the plugin that implements this instance" },
	HV_KEY_NUM("pci_slot", NULL, 1, 31,
		   "PCI devices: the slot on bus 0 (default: the first free one)"),
	HV_KEYS_END
};

static const struct hv_config_key disk_common[] = {
	HV_KEY_FILE("path", HV_KEY_REQUIRED, "the image file or block device"),
	HV_KEY_STR("format", NULL, "the disk-format plugin; probed when absent"),
	HV_KEY_FLAG("readonly", "off", "refuse guest writes"),
	HV_KEYS_END
};

const struct hv_config_key *cfg_common_keys(const char *kind)
{
	if (!strcmp(kind, "vm"))
		return vm_keys;
	if (!strcmp(kind, "disk"))
		return disk_common;
	if (!strcmp(kind, "device"))
		return device_common;
	return backend_common;
}
