/*
 * INI parsing with libinih. inih reports keys but not section headers or
 * line numbers, so the reader we hand it counts lines and notes headers:
 * that is what lets every message say file:line and what catches empty and
 * repeated sections. Lines up to CFG_MAX_LINE characters are taken whole;
 * the time taken is linear in the file's size.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "boot.h"

/* The longest line taken, line end excluded: room for any kernel command
 * line (the boot protocol's own ceiling is 64 KiB). */
#define CFG_MAX_LINE 65536

/* String -> int, open addressing: keeps parsing linear in the number of
 * sections and keys (duplicate checks would otherwise rescan them all). */
struct strmap {
	struct slot {
		uint64_t hash;
		char *key; /* NULL: free */
		int val;
	} *slot;
	size_t cap, n;
};

struct parse {
	struct config *c;
	const char *text; /* remaining input */
	int line;
	int failed;
	int cur;		/* index of the section the last key went to, or -1 */
	struct strmap names;	/* section name -> index */
	struct strmap ids;	/* "kind id" -> index */
	struct strmap keys;	/* "index\nkey" -> line */
};

static const char *const kinds[] = { "vm", "device", "disk", "net", "console" };

static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	/* FNV's low bits, the ones a slot takes, barely differ between
	 * "k1000" and "k1001": mix the high bits down (murmur3's finalizer) */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static struct slot *map_slot(const struct strmap *m, const char *k,
			     uint64_t h)
{
	size_t i = h & (m->cap - 1);

	while (m->slot[i].key && (m->slot[i].hash != h || strcmp(m->slot[i].key, k)))
		i = (i + 1) & (m->cap - 1);
	return &m->slot[i];
}

/* The value under k, or -1. */
static int map_get(const struct strmap *m, const char *k)
{
	const struct slot *s;

	if (!m->cap)
		return -1;
	s = map_slot(m, k, str_hash(k));
	return s->key ? s->val : -1;
}

static int map_grow(struct strmap *m)
{
	struct strmap g = { .cap = m->cap ? 2 * m->cap : 64, .n = m->n };

	g.slot = calloc(g.cap, sizeof(*g.slot));
	if (!g.slot)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slot[i].key)
			*map_slot(&g, m->slot[i].key, m->slot[i].hash) = m->slot[i];
	free(m->slot);
	*m = g;
	return 0;
}

/* Store v under k, a key not yet in m; takes k (malloc'ed) in every case. */
static int map_put(struct strmap *m, char *k, int v)
{
	uint64_t h;

	if (!k || (2 * (m->n + 1) > m->cap && map_grow(m))) {
		free(k);
		return -ENOMEM;
	}
	h = str_hash(k);
	*map_slot(m, k, h) = (struct slot){ h, k, v };
	m->n++;
	return 0;
}

static void map_free(struct strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slot[i].key);
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

static char *key_of(int section, const char *key)
{
	char *k;

	return asprintf(&k, "%d\n%s", section, key) < 0 ? NULL : k;
}

/* The new size of an array of n elements about to take one more, or 0
 * when it has room: while parsing, arrays grow to powers of two. */
static size_t grown(int n)
{
	return n & (n - 1) ? 0 : (n ? 2 * (size_t)n : 1);
}

static int oom(struct parse *p)
{
	fprintf(stderr, "%s:%d: out of memory\n", p->c->path, p->line);
	return -1;
}

static int valid_id(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.", *s))
			return 0;
	return 1;
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
	struct cfg_section *s;
	char *kind = NULL, *id = NULL, *kid = NULL;
	size_t cap = grown(c->n);
	int old;

	if ((old = map_get(&p->names, name)) >= 0) {
		fprintf(stderr, "%s:%d: section [%s] repeats the one at line %d\n",
			c->path, p->line, name, c->s[old].line);
		return -1;
	}
	if (split_name(p, name, &kind, &id))
		return -1;
	if (!kind || !id || asprintf(&kid, "%s %s", kind, id) < 0)
		goto out_oom;
	if ((old = map_get(&p->ids, kid)) >= 0) {
		fprintf(stderr, "%s:%d: section [%s]: a %s named '%s' exists at line %d\n",
			c->path, p->line, name, kind, id, c->s[old].line);
		goto out_free;
	}
	if (cap) {
		s = realloc(c->s, cap * sizeof(*s));
		if (!s)
			goto out_oom;
		c->s = s;
	}
	s = &c->s[c->n];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->id = id;
	s->name = strdup(name);
	s->line = p->line;
	c->n++; /* config_free() owns it from here */
	if (!s->name) {
		free(kid);
		return oom(p);
	}
	if (map_put(&p->ids, kid, c->n - 1) ||
	    map_put(&p->names, strdup(name), c->n - 1))
		return oom(p);
	return 0;
out_oom:
	oom(p);
out_free:
	free(kid);
	free(kind);
	free(id);
	return -1;
}

/* A [header] in a line of the file: the section it opens (trimmed). */
static int note_header(struct parse *p, const char *t)
{
	const char *end, *a, *b;
	char *name;
	int rc;

	while (isspace((unsigned char)*t))
		t++;
	if (*t != '[' || !(end = strchr(t, ']'))) /* inih reports a bad one */
		return 0;
	for (a = t + 1, b = end; a < b && isspace((unsigned char)*a);)
		a++;
	while (b > a && isspace((unsigned char)b[-1]))
		b--;
	if (!(name = strndup(a, (size_t)(b - a))))
		return oom(p);
	rc = add_section(p, name);
	free(name);
	return rc;
}

/*
 * The reader: one whole line per call (inih's buffer is sized for the
 * longest we take, see config_load_string), counting lines and noting
 * headers. A longer line is refused here, at its own number: handing inih
 * a part would make the rest look like the next line.
 */
static char *reader(char *buf, int size, void *stream)
{
	struct parse *p = stream;
	const char *nl, *t = p->text;
	size_t n, body, max = CFG_MAX_LINE;

	if (!*t || p->failed)
		return NULL;
	nl = strchr(t, '\n');
	n = nl ? (size_t)(nl - t + 1) : strlen(t);
	p->line++;
	body = n;
	if (body && t[body - 1] == '\n')
		body--;
	if (body && t[body - 1] == '\r')
		body--;
	if ((size_t)size < max + 3) /* a libinih that kept its own limit */
		max = size > 3 ? (size_t)size - 3 : 0;
	if (body > max) {
		fprintf(stderr, "%s:%d: line too long (%zu characters, max %zu)\n",
			p->c->path, p->line, body, max);
		p->failed = 1;
		return NULL;
	}
	memcpy(buf, t, n);
	buf[n] = 0;
	p->text = t + n;
	if (note_header(p, buf))
		p->failed = 1;
	return buf;
}

/* The section a key inih reports belongs to, or -1 after a message. */
static int key_section(struct parse *p, const char *section)
{
	int i;

	if (p->cur >= 0 && !strcmp(p->c->s[p->cur].name, section))
		return p->cur;
	i = map_get(&p->names, section);
	if (i < 0) { /* a header the reader did not see as inih does */
		if (add_section(p, section))
			return -1;
		i = p->c->n - 1;
	}
	return p->cur = i;
}

static int handler(void *user, const char *section, const char *key,
		   const char *value)
{
	struct parse *p = user;
	struct cfg_section *s;
	struct cfg_entry *e;
	size_t cap;
	int si, old;
	char *k;

	if (p->failed)
		return 0;
	if (!*section) {
		fprintf(stderr, "%s:%d: '%s' is outside any section\n",
			p->c->path, p->line, key);
		goto out_failed;
	}
	if ((si = key_section(p, section)) < 0)
		goto out_failed;
	s = &p->c->s[si];
	if (!(k = key_of(si, key)))
		goto out_oom;
	if ((old = map_get(&p->keys, k)) >= 0) {
		fprintf(stderr, "%s:%d: [%s] '%s' is already set at line %d\n",
			p->c->path, p->line, s->name, key, old);
		free(k);
		goto out_failed;
	}
	if (map_put(&p->keys, k, p->line))
		goto out_oom;
	if ((cap = grown(s->n))) {
		e = realloc(s->e, cap * sizeof(*e));
		if (!e)
			goto out_oom;
		s->e = e;
	}
	e = &s->e[s->n];
	e->key = strdup(key);
	e->value = strdup(value);
	e->line = p->line;
	s->n++;
	if (!e->key || !e->value)
		goto out_oom;
	return 1;
out_oom:
	oom(p);
out_failed:
	p->failed = 1;
	return 0;
}

int config_load_string(struct config *c, const char *path, const char *text)
{
	struct parse p = { .c = c, .text = text, .cur = -1 };
	int r, rc = -1;

	memset(c, 0, sizeof(*c));
	c->path = strdup(path);
	/* Debian's libinih makes its compile-time limits variables; its
	 * default is a 200-byte line on the stack. One heap buffer that holds
	 * the longest line we take, never grown: the reader refuses longer. */
	ini_use_stack = false;
	ini_allow_realloc = false;
	ini_max_line = ini_initial_alloc = CFG_MAX_LINE + 3; /* \r \n \0 */
	r = ini_parse_stream(reader, &p, handler, &p);
	if (p.failed)
		goto out;
	if (r > 0) {
		fprintf(stderr, "%s:%d: syntax error (expected 'key = value' or '[section]')\n",
			path, r);
		goto out;
	}
	if (r < 0) {
		fprintf(stderr, "%s: cannot parse (out of memory)\n", path);
		goto out;
	}
	if (!config_section(c, "vm", "vm")) {
		fprintf(stderr, "%s:1: no [vm] section\n", path);
		goto out;
	}
	rc = 0;
out:
	map_free(&p.names);
	map_free(&p.ids);
	map_free(&p.keys);
	return rc;
}

int config_load(struct config *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	int r;

	memset(c, 0, sizeof(*c));
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!fstat(fileno(f), &st) && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: is a directory, not an INI file\n", path);
		fclose(f);
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

void cfg_section_free(struct cfg_section *s)
{
	for (int j = 0; j < s->n; j++) {
		free(s->e[j].key);
		free(s->e[j].value);
	}
	free(s->e);
	free(s->name);
	free(s->kind);
	free(s->id);
}

void config_free(struct config *c)
{
	for (int i = 0; i < c->n; i++)
		cfg_section_free(&c->s[i]);
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

/* The word before a '#' in a pattern ("lun" in "target#.lun#"), for
 * range messages. */
static int index_word(const char *pat, const char *hash, const char **w)
{
	const char *b = hash;

	while (b > pat && isalpha((unsigned char)b[-1]))
		b--;
	*w = b;
	return (int)(hash - b);
}

int cfg_key_match(const struct hv_config_key *k, const char *name,
		  uint32_t idx[2], char *why, size_t n)
{
	const char *p = k->name, *q = name;
	uint32_t num[2] = { 0, 0 };
	int i = 0, out = 0;

	if (!(k->flags & HV_KEY_INDEXED))
		return strcmp(p, q) ? 0 : 1;
	for (; *p; p++) {
		int64_t v = 0, lo, hi;
		const char *d = q, *w;
		int wl;

		if (*p != '#') {
			if (*q++ != *p)
				return 0;
			continue;
		}
		while (isdigit((unsigned char)*q) && q - d < 12)
			v = v * 10 + (*q++ - '0');
		if (q == d || (*d == '0' && q - d > 1) || isdigit((unsigned char)*q) ||
		    i == 2)
			return 0; /* no number, a leading zero, or too long */
		lo = k->index_min[i];
		hi = k->index_max[i];
		if (!lo && !hi)
			hi = INT32_MAX;
		if (!out && (v < lo || v > hi)) {
			wl = index_word(k->name, p, &w);
			if (why)
				snprintf(why, n, "%.*s %lld out of range %lld-%lld", wl, w,
					 (long long)v, (long long)lo, (long long)hi);
			out = 1;
		}
		num[i++] = (uint32_t)(v > UINT32_MAX ? UINT32_MAX : v);
	}
	if (*q)
		return 0;
	if (idx) {
		idx[0] = num[0];
		idx[1] = num[1];
	}
	return out ? -1 : 1;
}

const struct hv_config_key vm_keys[] = {
	HV_KEY_STR("name", NULL, "the VM's name (default: the INI file's name)"),
	HV_KEY_SZ("memory", "128M", 1 << 20, 1ll << 40, "guest RAM"),
	HV_KEY_NUM("cpus", "1", 1, 64, "number of vCPUs"),
	HV_KEY_CHOICE("accel", "auto", "auto|kvm|emu",
		      "vCPU backend: auto picks kvm when /dev/kvm opens, else emu"),
	HV_KEY_STR("cpu", "host",
		   "CPU model host|max|qemu64, then ,+feat or ,-feat (e.g. qemu64,+popcnt,-nx): the CPUID features the guest sees"),
	HV_KEY_FILE("kernel", HV_KEY_REQUIRED, "the boot image"),
	HV_KEY_CHOICE("kernel_format", "auto", "auto|flat|multiboot|linux|pvh",
		      "boot image format (auto: bzImage -> linux, ELF with a PVH note -> pvh)"),
	HV_KEY_FILE("initrd", 0, "linux/pvh: the initial ramdisk"),
	{ .name = "module#", .type = HV_KEY_STRING, .flags = HV_KEY_INDEXED,
	  .index_min = { 0 }, .index_max = { BOOT_MODULES_MAX - 1 },
	  .help = "multiboot: PATH [string], a module loaded page-aligned above the kernel in index order; its string is the value as written, path included (as QEMU's -initrd passes it)" },
	HV_KEY_NUM("load_addr", "0x7c00", 0, 0xffffffffll, "flat: guest-physical load address"),
	HV_KEY_CHOICE("entry", "real", "real|prot32|long64",
		      "flat: CPU mode at entry (real: cs=0, ip=load_addr)"),
	HV_KEY_STR("cmdline", "", "the kernel command line"),
	HV_KEY_CHOICE("on_reboot", "restart", "restart|exit", "what a guest reset does"),
	HV_KEY_CHOICE("machine", "pc", "pc|none",
		      "pc: PCI host bridge, ACPI tables and PM block, CMOS/RTC and i8042 (implicit); none: only the configured devices"),
	HV_KEY_STR("plugin_path", NULL, "':'-separated directories searched first for plugins"),
	HV_KEY_OUTFILE("control", 0,
		       "a unix socket the running VM takes commands on (hv ctl PATH help); made at start, removed at exit"),
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
	HV_KEY_CHOICE("media", "disk", "disk|cdrom",
		      "what devices show: a disk, or a CD/DVD drive's medium (read-only)"),
	HV_KEY_STR("serial", NULL,
		   "serial number devices report (ATA, SCSI VPD 0x80, virtio-blk): up to 20 printable ASCII characters; default: the section's name"),
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
