/* The plugin loader: every refusal is one line naming the file and why. */
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "plugin.h"
#include "unit.h"

static char fixture[512];

static const char *fx(const char *name)
{
	snprintf(fixture, sizeof(fixture), "%s/fixtures/%s.so", unit_build_dir(), name);
	return fixture;
}

/* Load one file, return its stderr; *rc gets the loader's result. */
static const char *load(const char *path, int *rc)
{
	struct plugin_set set = { 0 };

	unit_capture_begin();
	*rc = plugin_load_file(&set, path);
	plugin_set_free(&set);
	return unit_capture_end();
}

static void no_such_file(void)
{
	int rc;
	const char *out = load("/nonexistent/x.so", &rc);
	CHECK(rc == -1);
	CHECK_CONTAINS(out, "/nonexistent/x.so: no such file");
}

static void not_a_shared_object(void)
{
	char path[] = "/tmp/hv-fake-XXXXXX.so";
	int fd = mkstemps(path, 3), rc;
	const char *out;

	CHECK(write(fd, "hello\n", 6) == 6);
	close(fd);
	out = load(path, &rc);
	CHECK(rc == -1);
	CHECK_CONTAINS(out, path);
	CHECK_CONTAINS(out, "not a loadable shared object");
	unlink(path);
}

static void no_entry_symbol(void)
{
	int rc;
	const char *out = load(fx("no_entry"), &rc);
	CHECK(rc == -1);
	CHECK_CONTAINS(out, "no_entry.so: no hv_plugin_entry() symbol: not an hv plugin");
}

static void abi_major_mismatch(void)
{
	int rc;
	const char *out = load(fx("bad_major"), &rc);
	CHECK(rc == -1);
	CHECK_CONTAINS(out, "bad_major.so: built for SDK major version 3, this hv speaks 2");
}

static void newer_minor_refused(void)
{
	int rc;
	char want[96];
	const char *out = load(fx("newer_minor"), &rc);

	snprintf(want, sizeof(want), "newer_minor.so: needs SDK %d.%d, this hv provides %d.%d",
		 HV_ABI_MAJOR, HV_ABI_MINOR + 1, HV_ABI_MAJOR, HV_ABI_MINOR);
	CHECK(rc == -1);
	CHECK_CONTAINS(out, want);
}

static void bad_key_default(void)
{
	int rc;
	const char *out = load(fx("bad_keys"), &rc);
	CHECK(rc == -1);
	CHECK_CONTAINS(out, "bad_keys.so: a config key's default does not fit its type");
}

/* SDK 2.2: a run-time key is a plain value of a device that hears of it. */
static void bad_runtime_keys(void)
{
	int rc;
	const char *out = load(fx("bad_runtime_ref"), &rc);

	CHECK(rc == -1);
	CHECK_CONTAINS(out, "bad_runtime_ref.so: a run-time config key must be a device's string, int, bool, size or enum key");
	out = load(fx("bad_runtime_op"), &rc);
	CHECK(rc == -1);
	CHECK_CONTAINS(out, "bad_runtime_op.so: a run-time config key needs the device op config_changed");
	out = load(fx("runtime_dev"), &rc);
	CHECK(rc == 0);
}

static void duplicate_names(void)
{
	struct plugin_set set = { 0 };
	const char *out;
	char a[512];
	int rc1, rc2;

	snprintf(a, sizeof(a), "%s", fx("dup_a"));
	unit_capture_begin();
	rc1 = plugin_load_file(&set, a);
	rc2 = plugin_load_file(&set, fx("dup_b"));
	out = unit_capture_end();
	CHECK(rc1 == 0 && rc2 == -1);
	CHECK_CONTAINS(out, "dup_b.so: plugin name 'dup' is already taken by ");
	CHECK_CONTAINS(out, "dup_a.so");
	plugin_set_free(&set);
}

/* A plugin built for SDK 1 is refused with one line that says what to do
 * (2.0 changed the ABI on purpose: sdk/README.md, "From 1.0 to 2.0"). */
static void frozen_v1_refused(void)
{
	int rc;
	const char *out = load(fx("v1_frozen"), &rc);

	CHECK(rc == -1);
	CHECK_CONTAINS(out, "v1_frozen.so: built for SDK 1; this hv needs plugins built "
			    "for SDK 2 (rebuild it against this hv's sdk/, see sdk/README.md)");
	CHECK(strchr(out, '\n') == strrchr(out, '\n')); /* one line */
}

/* The frozen 2.0 layout must load and keep its keys and ops. */
static void frozen_v2_loads(void)
{
	struct plugin_set set = { 0 };
	const struct plugin *p;

	CHECK(plugin_load_file(&set, fx("v2_frozen")) == 0);
	p = plugin_find(&set, "frozen-v2");
	CHECK(p != NULL);
	if (p) {
		CHECK(p->desc.kind == HV_KIND_DEVICE);
		CHECK(p->ops.device.create != NULL && p->ops.device.reset != NULL);
		CHECK(p->ops.device.save == NULL && p->ops.device.backend_attach == NULL);
		CHECK(p->nkeys == 1 && !strcmp(p->keys[0].name, "answer"));
		CHECK(p->keys[0].max == 100 && !strcmp(p->keys[0].def, "42"));
		CHECK(!strcmp(p->desc.description, "frozen SDK v2.0 layout"));
		/* 2.3's status op lies past its descriptor: read as NULL */
		CHECK(p->desc.size <= offsetof(struct hv_plugin_desc, status));
		CHECK(p->desc.status == NULL);
	}
	plugin_set_free(&set);
}

static void real_plugins_load(void)
{
	struct plugin_set set = { 0 };
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/plugins", unit_build_dir());
	CHECK(plugin_load_path(&set, dir) == 0);
	CHECK(plugin_find(&set, "uart16550") != NULL);
	CHECK(plugin_find(&set, "debug-exit") != NULL);
	CHECK(plugin_find(&set, "stdio") != NULL);
	plugin_set_free(&set);
}

int main(void)
{
	TEST(no_such_file);
	TEST(not_a_shared_object);
	TEST(no_entry_symbol);
	TEST(abi_major_mismatch);
	TEST(newer_minor_refused);
	TEST(bad_key_default);
	TEST(bad_runtime_keys);
	TEST(duplicate_names);
	TEST(frozen_v1_refused);
	TEST(frozen_v2_loads);
	TEST(real_plugins_load);
	return 0;
}
