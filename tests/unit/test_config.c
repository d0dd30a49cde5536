/* INI errors: each is one "file:line: message" and stops before a guest. */
#include <stdio.h>

#include "check.h"
#include "config.h"
#include "plugin.h"
#include "unit.h"

static struct plugin_set plugins;

/* Parse and validate; returns stderr, *rc the result. */
static const char *try_ini(const char *text, int *rc)
{
	struct config c;

	unit_capture_begin();
	*rc = config_load_string(&c, "t.ini", text);
	if (!*rc)
		*rc = config_validate(&c, &plugins);
	config_free(&c);
	return unit_capture_end();
}

#define VM "[vm]\nkernel = /bin/sh\n"

#define EXPECT_ERROR(text, msg)                       \
	do {                                          \
		int rc_;                              \
		const char *o_ = try_ini(text, &rc_); \
		CHECK(rc_ == -1);                     \
		CHECK_CONTAINS(o_, msg);              \
	} while (0)

static void valid_config(void)
{
	int rc;
	const char *out = try_ini(VM "memory = 2G\ncpus = 2\n"
				  "[device com1]\nplugin = uart16550\nconsole = c\n"
				  "[console c]\nplugin = stdio\n", &rc);
	CHECK(rc == 0);
	CHECK(*out == 0);
}

static void syntax_errors(void)
{
	EXPECT_ERROR(VM "this line has no equals\n", "t.ini:3: syntax error");
	EXPECT_ERROR("memory = 1G\n[vm]\n", "t.ini:1: 'memory' is outside any section");
	EXPECT_ERROR("[device com1]\nplugin = uart16550\n", "t.ini:1: no [vm] section");
}

static void section_errors(void)
{
	EXPECT_ERROR(VM "[gadget x]\n", "t.ini:3: section [gadget x]: unknown kind 'gadget'");
	EXPECT_ERROR(VM "[device]\n", "t.ini:3: section [device]: expected [vm] or [KIND NAME]");
	EXPECT_ERROR(VM "[device a/b]\nplugin = uart16550\n", "name 'a/b' may hold only");
	EXPECT_ERROR(VM "[device a]\nplugin = uart16550\n[device a]\n",
		     "t.ini:5: section [device a] repeats the one at line 3");
	EXPECT_ERROR(VM "kernel = /bin/ls\n", "t.ini:3: [vm] 'kernel' is already set at line 2");
}

static void key_errors(void)
{
	EXPECT_ERROR(VM "colour = blue\n", "t.ini:3: [vm]: unknown key 'colour' (known: name, memory,");
	EXPECT_ERROR(VM "[device com1]\nplugin = uart16550\nbaud = 9600\n",
		     "t.ini:5: [device com1]: unknown key 'baud' (known: plugin, pci_slot, port, irq, console)");
	EXPECT_ERROR(VM "memory = lots\n", "t.ini:3: [vm]: memory = lots: expected a size such as 512M or 2G");
	EXPECT_ERROR(VM "memory = 16Q\n", "memory = 16Q: expected a size");
	EXPECT_ERROR(VM "cpus = 0\n", "t.ini:3: [vm]: cpus = 0: out of range");
	EXPECT_ERROR(VM "cpus = two\n", "cpus = two: expected an integer");
	EXPECT_ERROR(VM "accel = fast\n", "accel = fast: not one of the choices; choose one of auto|kvm|emu");
	EXPECT_ERROR("[vm]\nmemory = 1G\n", "t.ini:1: [vm]: 'kernel' is required");
	EXPECT_ERROR("[vm]\nkernel = /no/such/kernel\n",
		     "t.ini:2: [vm]: kernel = /no/such/kernel: No such file or directory");
	EXPECT_ERROR(VM "[device com1]\nplugin = uart16550\nport = 0x10000\n", "port = 0x10000: out of range");
}

static void plugin_errors(void)
{
	EXPECT_ERROR(VM "[device x]\nplugin = warp-drive\n",
		     "t.ini:4: [device x]: no plugin named 'warp-drive' (see 'hv plugins')");
	EXPECT_ERROR(VM "[device x]\nport = 1\n", "t.ini:3: [device x]: 'plugin' is required");
	EXPECT_ERROR(VM "[device x]\nplugin = stdio\n",
		     "t.ini:4: [device x]: plugin 'stdio' is a console plugin, not a device plugin");
	EXPECT_ERROR(VM "[device com1]\nplugin = uart16550\nconsole = nowhere\n",
		     "t.ini:5: [device com1]: console = nowhere: there is no [console nowhere] section");
}

static void relative_paths_follow_the_ini(void)
{
	struct config c;
	int rc;

	unit_capture_begin();
	rc = config_load_string(&c, "/bin/vm.ini", "[vm]\nkernel = sh\n");
	if (!rc)
		rc = config_validate(&c, &plugins);
	unit_capture_end();
	CHECK(rc == 0);
	if (!rc)
		CHECK(!strcmp(cfg_get(config_section(&c, "vm", "vm"), "kernel"), "/bin/sh"));
	config_free(&c);
}

static void size_parsing(void)
{
	uint64_t v;

	CHECK(cfg_parse_size("512M", &v) == 0 && v == 512ull << 20);
	CHECK(cfg_parse_size("2G", &v) == 0 && v == 2ull << 30);
	CHECK(cfg_parse_size("2GiB", &v) == 0 && v == 2ull << 30);
	CHECK(cfg_parse_size("4096", &v) == 0 && v == 4096);
	CHECK(cfg_parse_size("0x1000", &v) == 0 && v == 4096);
	CHECK(cfg_parse_size("-1", &v) == -1);
	CHECK(cfg_parse_size("99999999999T", &v) == -1);
	CHECK(cfg_parse_size("1X", &v) == -1);
}

/* VM + "cmdline = " + n characters + eol + tail */
static char *long_line_ini(size_t n, const char *eol, const char *tail)
{
	static const char head[] = VM "cmdline = ";
	size_t hl = strlen(head), el = strlen(eol), tl = strlen(tail);
	char *t = malloc(hl + n + el + tl + 1);

	memcpy(t, head, hl);
	for (size_t i = 0; i < n; i++) /* a kernel command line's look */
		t[hl + i] = i % 9 == 8 ? ' ' : "console="[i % 8];
	memcpy(t + hl + n, eol, el);
	memcpy(t + hl + n + el, tail, tl + 1);
	return t;
}

static void long_cmdline_read_back_whole(void)
{
	char *text = long_line_ini(4000, "\n", "memory = 1G\n");
	const struct cfg_section *vm;
	const struct cfg_entry *e;
	struct config c;
	int rc;

	unit_capture_begin();
	rc = config_load_string(&c, "t.ini", text);
	if (!rc)
		rc = config_validate(&c, &plugins);
	unit_capture_end();
	CHECK(rc == 0);
	vm = config_section(&c, "vm", "vm");
	CHECK(cfg_get(vm, "cmdline") && strlen(cfg_get(vm, "cmdline")) == 4000);
	CHECK(cfg_get(vm, "cmdline") && !strncmp(cfg_get(vm, "cmdline"), text + strlen(VM "cmdline = "), 4000));
	e = cfg_entry(vm, "memory");
	CHECK(e && e->line == 4 && !strcmp(e->value, "1G"));
	config_free(&c);
	free(text);
	/* the longest line taken, with a CRLF end */
	text = long_line_ini(65536 - strlen("cmdline = "), "\r\n", "memory = 1G\r\n");
	{
		const char *out = try_ini(text, &rc);

		CHECK(rc == 0);
		CHECK(*out == 0);
	}
	free(text);
}

static void overlong_line_reported_at_its_number(void)
{
	char *text = long_line_ini(65536 - strlen("cmdline = ") + 1, "\r\n", "bad line\n");

	EXPECT_ERROR(text, "t.ini:3: line too long (65537 characters, max 65536)\n");
	free(text);
	text = long_line_ini(4 << 20, "", "");
	EXPECT_ERROR(text, "t.ini:3: line too long (4194314 characters, max 65536)\n");
	free(text);
}

static void errors_after_a_long_line_keep_their_numbers(void)
{
	char *text = long_line_ini(3000, "\n", "memory = 1G\nthis line has no equals\n");

	EXPECT_ERROR(text, "t.ini:5: syntax error");
	free(text);
	text = long_line_ini(20000, "\n", "\n[device a]\nplugin = uart16550\nplugin = stdio\n");
	EXPECT_ERROR(text, "t.ini:7: [device a] 'plugin' is already set at line 6");
	free(text);
	text = long_line_ini(20000, "\n", "cmdline = again\n");
	EXPECT_ERROR(text, "t.ini:4: [vm] 'cmdline' is already set at line 3");
	free(text);
}

/* 100,000 keys and 20,000 sections: the duplicate checks stay right at the
 * far end (and the whole file parses in a blink; see the report). */
static void long_file(void)
{
	size_t cap = 8 << 20, n = 0;
	char *t = malloc(cap);
	struct config c;
	const struct cfg_section *s;
	int rc, line = 2;

	n += snprintf(t + n, cap - n, "[vm]\n");
	for (int i = 0; i < 100000; i++, line++)
		n += snprintf(t + n, cap - n, "k%d = %d\n", i, i);
	for (int i = 0; i < 20000; i++, line += 2)
		n += snprintf(t + n, cap - n, "[device d%d]\nplugin = p%d\n", i, i);
	unit_capture_begin();
	rc = config_load_string(&c, "t.ini", t);
	unit_capture_end();
	CHECK(rc == 0);
	CHECK(c.n == 20001);
	s = config_section(&c, "vm", "vm");
	CHECK(s && s->n == 100000 && s->e[99999].line == 100001 &&
	      !strcmp(cfg_get(s, "k99999"), "99999"));
	s = config_section(&c, "device", "d19999");
	CHECK(s && s->line == line - 2 && !strcmp(cfg_get(s, "plugin"), "p19999"));
	config_free(&c);
	snprintf(t + n, cap - n, "[device d7]\n");
	{
		char want[96];

		snprintf(want, sizeof(want), "t.ini:%d: section [device d7] repeats the one at line %d\n",
			 line, 100002 + 2 * 7);
		EXPECT_ERROR(t, want);
	}
	snprintf(t + n, cap - n, "[vm]\nk5 = again\n");
	{
		char want[96];

		snprintf(want, sizeof(want), "t.ini:%d: section [vm] repeats the one at line 1\n", line);
		EXPECT_ERROR(t, want);
	}
	snprintf(t + n, cap - n, "[device   d3 ]\n");
	{
		char want[96];

		snprintf(want, sizeof(want), "t.ini:%d: section [device   d3]: a device named 'd3' exists at line %d\n",
			 line, 100002 + 2 * 3);
		EXPECT_ERROR(t, want);
	}
	free(t);
}

int main(void)
{
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/plugins", unit_build_dir());
	if (plugin_load_path(&plugins, dir)) {
		printf("not ok load-plugins - %s\n", dir);
		return 0;
	}
	TEST(valid_config);
	TEST(syntax_errors);
	TEST(section_errors);
	TEST(key_errors);
	TEST(plugin_errors);
	TEST(relative_paths_follow_the_ini);
	TEST(size_parsing);
	TEST(long_cmdline_read_back_whole);
	TEST(overlong_line_reported_at_its_number);
	TEST(errors_after_a_long_line_keep_their_numbers);
	TEST(long_file);
	plugin_set_free(&plugins);
	return 0;
}
