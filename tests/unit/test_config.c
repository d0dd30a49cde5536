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
	plugin_set_free(&plugins);
	return 0;
}
