/*
 * Differencing chains the core owns (core/chain.c) with the real VHD and
 * VHDX plugins: a parent shared by two [disk] sections of one VM is opened
 * once, a chain deeper than HV_DISK_MAX_CHAIN is refused, commit's reopen
 * turns a parent read-write and back read-only, a parent of the wrong
 * format is refused.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>

#include "check.h"
#include "config.h"
#include "disk.h"
#include "disk_int.h"
#include "instance.h"
#include "loop.h"
#include "plugin.h"
#include "services.h"
#include "unit.h"
#include "vm.h"

#define SIZE	(16u << 20)
#define PAT_OFF (1u << 20)
#define PAT_LEN 65536u

static char dir[64];
static struct plugin_set set;
static struct loop *loop;

static const char *at(const char *name)
{
	static char buf[4][PATH_MAX];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static int create(const char *fmt, const char *name, const char *parent)
{
	const struct plugin *p = plugin_find(&set, fmt);
	struct hv_disk_create c = {.size = parent ? 0 : SIZE,
				   .parent = parent ? at(parent) : NULL};
	struct instance *in;
	int r;

	if (!p)
		return -ENOENT;
	in = instance_new(&core_env, NULL, loop, &set, p, NULL, NULL);
	if (!in)
		return -ENOMEM;
	inst_lock(in);
	r = p->ops.disk.create(&in->ctx, at(name), &c);
	inst_unlock(in);
	instance_free(in);
	return r;
}

static struct hv_disk *open_img(const char *name, unsigned flags)
{
	return disk_open(&core_env, loop, &set, NULL, NULL, at(name), NULL,
			 flags, NULL, "t");
}

/* A base image holding a pattern at PAT_OFF (written before any child is
 * made: writing changes a VHDX's DataWriteGuid). */
static int make_base(const char *fmt, const char *name)
{
	struct hv_disk *d;
	uint8_t *buf = aligned_alloc(4096, PAT_LEN);
	int r = -ENOMEM;

	if (!buf || create(fmt, name, NULL))
		goto out;
	memset(buf, 0x5a, PAT_LEN);
	d = disk_open(&core_env, loop, &set, NULL, NULL, at(name),
		      plugin_find(&set, fmt), 0, NULL, "t");
	r = d ? disk_rw_sync(d, HV_DISK_WRITE, PAT_OFF, buf, PAT_LEN) : -EIO;
	disk_close(d);
out:
	free(buf);
	return r;
}

/* Does d read the base's pattern (through its chain)? */
static int reads_pattern(struct hv_disk *d)
{
	uint8_t *buf = aligned_alloc(4096, PAT_LEN);
	int ok = buf &&
		 disk_rw_sync(d, HV_DISK_READ, PAT_OFF, buf, PAT_LEN) == 0;

	for (uint32_t i = 0; ok && i < PAT_LEN; i++)
		ok = buf[i] == 0x5a;
	free(buf);
	return ok;
}

/* This process's descriptors open on name; with access mode *mode. */
static int fds_on(const char *name, int *mode)
{
	char want[PATH_MAX], p[320], got[PATH_MAX], line[128];
	struct dirent *e;
	DIR *dp;
	int n = 0;

	if (!realpath(at(name), want) || !(dp = opendir("/proc/self/fd")))
		return -1;
	while ((e = readdir(dp))) {
		snprintf(p, sizeof(p), "/proc/self/fd/%s", e->d_name);
		ssize_t l = readlink(p, got, sizeof(got) - 1);
		if (l <= 0)
			continue;
		got[l] = 0;
		if (strcmp(got, want))
			continue;
		n++;
		snprintf(p, sizeof(p), "/proc/self/fdinfo/%s", e->d_name);
		FILE *f = fopen(p, "r");
		while (f && mode && fgets(line, sizeof(line), f))
			if (!strncmp(line, "flags:", 6))
				*mode = (int)strtol(line + 6, NULL, 8) &
					O_ACCMODE;
		if (f)
			fclose(f);
	}
	closedir(dp);
	return n;
}

static struct hv_disk *disk_of(struct vm *vm, const char *id)
{
	for (struct instance *in = vm->instances; in; in = in->next)
		if (in->plugin->desc.kind == HV_KIND_DISK &&
		    !strcmp(in->ctx.name, id))
			return in->link;
	return NULL;
}

/* Two [disk] sections of one VM, two children of one base: one parent
 * instance, one open of its file, both read through it. */
static void chain_parent_shared_in_vm(void)
{
	struct config cfg = {0};
	struct vm vm;
	char ini[1024], so[512];
	int ok = 0;

	CHECK(make_base("vhdx", "sb.vhdx") == 0);
	CHECK(create("vhdx", "sc1.vhdx", "sb.vhdx") == 0);
	CHECK(create("vhdx", "sc2.vhdx", "sb.vhdx") == 0);
	snprintf(ini, sizeof(ini),
		 "[vm]\nkernel = /bin/sh\nmachine = none\n"
		 "[device u1]\nplugin = disk-user\ndisk = a\n"
		 "[device u2]\nplugin = disk-user\ndisk = b\n"
		 "[disk a]\npath = %s\n[disk b]\npath = %s\n",
		 at("sc1.vhdx"), at("sc2.vhdx"));
	snprintf(so, sizeof(so), "%s/fixtures/disk_user.so", unit_build_dir());
	plugin_load_file(&set, so);
	memset(&vm, 0, sizeof(vm));
	unit_capture_begin();
	if (!config_load_string(&cfg, "t.ini", ini) &&
	    !config_validate(&cfg, &set) &&
	    !vm_init(&vm, &cfg, &set, &accel_kvm))
		ok = vm_create_devices(&vm) == 0;
	const char *e = unit_capture_end();
	if (!ok)
		printf("# the VM did not come up: %s\n", e);
	CHECK(ok);
	struct hv_disk *a = ok ? disk_of(&vm, "a") : NULL,
		       *b = ok ? disk_of(&vm, "b") : NULL;
	CHECK(a && b && a->backing && a->backing == b->backing);
	if (a && b && a->backing == b->backing && a->backing) {
		int one = fds_on("sc1.vhdx", NULL);
		CHECK(a->backing->refs == 2);
		CHECK(a->backing->info.flags & HV_DISK_F_READONLY);
		/* the base's file is open as often as one image's, not twice */
		CHECK(one >= 1 && fds_on("sb.vhdx", NULL) == one);
		CHECK(reads_pattern(a));
		CHECK(reads_pattern(b));
	}
	if (vm.loop)
		vm_destroy(&vm);
	config_free(&cfg);
	CHECK(fds_on("sb.vhdx", NULL) == 0); /* the last child closed it */
}

/* HV_DISK_MAX_CHAIN images open; one more layer is refused, once, by the
 * core (whatever the format). */
static void chain_depth_limit(void)
{
	char name[32], prev[32];
	struct hv_disk *d;
	const char *e;

	CHECK(make_base("vhdx", "d0.vhdx") == 0);
	for (int i = 1; i <= HV_DISK_MAX_CHAIN; i++) {
		snprintf(prev, sizeof(prev), "d%d.vhdx", i - 1);
		snprintf(name, sizeof(name), "d%d.vhdx", i);
		CHECK(create("vhdx", name, prev) == 0);
	}
	/* d31 has 31 layers below it: 32 images */
	snprintf(name, sizeof(name), "d%d.vhdx", HV_DISK_MAX_CHAIN - 1);
	d = open_img(name, HV_DISK_OPEN_RDONLY);
	CHECK(d && d->depth == HV_DISK_MAX_CHAIN - 1);
	CHECK(d && reads_pattern(d));
	disk_close(d);
	snprintf(name, sizeof(name), "d%d.vhdx", HV_DISK_MAX_CHAIN);
	unit_capture_begin();
	d = open_img(name, HV_DISK_OPEN_RDONLY);
	e = unit_capture_end();
	CHECK(!d);
	CHECK_CONTAINS(e, "parent chain deeper than 32");
	disk_close(d);
	CHECK(fds_on("d0.vhdx", NULL) == 0);
}

/* What hv img commit does: the linked parent reopened read-write (its
 * file then open O_RDWR), written, and back read-only. A parent two
 * children share is not reopened read-write. */
static void chain_commit_reopen(void)
{
	struct hv_disk *c, *c2, *p;
	uint8_t *buf = aligned_alloc(4096, 4096);
	int mode = -1;

	CHECK(make_base("vhd", "rb.vhd") == 0);
	CHECK(create("vhd", "rc.vhd", "rb.vhd") == 0);
	CHECK(create("vhd", "rc2.vhd", "rb.vhd") == 0);
	c = open_img("rc.vhd", HV_DISK_OPEN_RDONLY);
	CHECK(c && c->backing);
	if (!c || !c->backing || !buf)
		goto out;
	p = c->backing;
	CHECK(fds_on("rb.vhd", &mode) >= 1 && mode == O_RDONLY);
	memset(buf, 0x33, 4096);
	CHECK(disk_rw_sync(p, HV_DISK_WRITE, 0, buf, 4096) == -EROFS);
	CHECK(disk_reopen(p, 0) == 0);
	CHECK(!(p->info.flags & HV_DISK_F_READONLY));
	mode = -1;
	CHECK(fds_on("rb.vhd", &mode) >= 1 && mode == O_RDWR);
	CHECK(disk_rw_sync(p, HV_DISK_WRITE, 0, buf, 4096) == 0);
	CHECK(disk_reopen(p, HV_DISK_OPEN_RDONLY) == 0);
	mode = -1;
	CHECK(fds_on("rb.vhd", &mode) >= 1 && mode == O_RDONLY);
	CHECK(disk_rw_sync(p, HV_DISK_WRITE, 0, buf, 4096) == -EROFS);
	/* still linked and reading: the base's pattern, the commit's write */
	CHECK(reads_pattern(c));
	memset(buf, 0, 4096);
	CHECK(disk_rw_sync(c, HV_DISK_READ, 0, buf, 4096) == 0 &&
	      buf[4095] == 0x33);
	/* shared by a second child (outside a VM too): no read-write reopen */
	c2 = open_img("rc2.vhd", HV_DISK_OPEN_RDONLY);
	CHECK(c2 && c2->backing == p && p->refs == 2);
	CHECK(disk_reopen(p, 0) == -EBUSY);
	disk_close(c2);
	CHECK(p->refs == 1);
out:
	disk_close(c);
	free(buf);
	CHECK(fds_on("rb.vhd", NULL) == 0);
}

/* A child names its parent's format: a VHDX child whose parent file is
 * now a VHD (or a VHD child over a VHDX) is refused, not probed into a
 * mixed chain; neither format can record a parent of the other kind. */
static void chain_mixed_refused(void)
{
	struct hv_disk *d;
	const char *e;

	CHECK(make_base("vhdx", "mb.vhdx") == 0);
	CHECK(create("vhdx", "mc.vhdx", "mb.vhdx") == 0);
	CHECK(create("vhd", "mv.vhd", NULL) == 0);
	CHECK(rename(at("mv.vhd"), at("mb.vhdx")) == 0);
	unit_capture_begin();
	d = open_img("mc.vhdx", HV_DISK_OPEN_RDONLY);
	e = unit_capture_end();
	CHECK(!d);
	CHECK_CONTAINS(
		e, "mb.vhdx: truncated: 2560 bytes is too small for a VHDX");
	disk_close(d);

	CHECK(make_base("vhd", "nb.vhd") == 0);
	CHECK(create("vhd", "nc.vhd", "nb.vhd") == 0);
	CHECK(create("vhdx", "nx.vhdx", NULL) == 0);
	CHECK(rename(at("nx.vhdx"), at("nb.vhd")) == 0);
	unit_capture_begin();
	d = open_img("nc.vhd", HV_DISK_OPEN_RDONLY);
	e = unit_capture_end();
	CHECK(!d);
	CHECK_CONTAINS(e, "nb.vhd: not a VHD file");
	disk_close(d);
}

/* A format without backing/identity (a fixture built like a third party's)
 * opens unlinked and keeps its own behaviour. */
static void chain_format_without_ops(void)
{
	char so[512];
	struct hv_disk *d;
	uint8_t *buf = aligned_alloc(4096, 4096);

	snprintf(so, sizeof(so), "%s/fixtures/slow_disk.so", unit_build_dir());
	plugin_load_file(&set, so);
	const struct plugin *p = plugin_find(&set, "slow-disk");
	CHECK(p && !p->ops.disk.backing && !p->ops.disk.identity);
	d = p ? disk_open(&core_env, loop, &set, NULL, NULL, "/bin/sh", p,
			  HV_DISK_OPEN_RDONLY, NULL, "t")
	      : NULL;
	CHECK(d && !d->backing && !d->is_backing);
	CHECK(d && buf && disk_rw_sync(d, HV_DISK_READ, 0, buf, 4096) == 0);
	disk_close(d);
	free(buf);
}

int main(void)
{
	char path[512];

	snprintf(dir, sizeof(dir), "/tmp/hv-chain-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	loop = loop_new();
	snprintf(path, sizeof(path), "%s/plugins", unit_build_dir());
	unit_capture_begin();
	plugin_load_path(&set, path);
	unit_capture_end();
	TEST(chain_parent_shared_in_vm);
	TEST(chain_depth_limit);
	TEST(chain_commit_reopen);
	TEST(chain_mixed_refused);
	TEST(chain_format_without_ops);
	plugin_set_free(&set);
	loop_free(loop);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path))
		return 1;
	return unit_failed_total ? 1 : 0;
}
