/*
 * Indexed config keys (HV_KEY_INDEXED, sdk 2.1): a pattern with '#' for a
 * number, each number range-checked by the core, listed by hv_config_each,
 * attached by hv_disk_attach through the concrete key, shown by `hv check`.
 * The indexed-dev fixture publishes "target#" and "target#.lun#".
 */
#include <errno.h>
#include <stdio.h>

#include "../fixtures/indexed_dev.h"
#include "check.h"
#include "vmharness.h"

static char buf[2048], disks[512];

/* head followed by the three disks' sections */
static void ini(const char *head)
{
	snprintf(buf, sizeof(buf), "%s%s", head, disks);
}

static const char *vm_up(struct harness *h, const char *ini)
{
	static const char *const fixtures[] = { "indexed_dev", NULL };
	const char *e;

	unit_capture_begin();
	harness_load(h, 1, fixtures);
	harness_build(h, ini, &accel_kvm);
	e = unit_capture_end();
	return e;
}

#define HEAD "[vm]\nkernel = /bin/sh\nmachine = none\n"

/* the pattern and a key: matched or not, and the numbers */
static void matching(void)
{
	struct hv_config_key k = HV_KEY_SECTION_AT2("target#.lun#", "disk", "", 0, 254, 0, 255);
	struct hv_config_key one = HV_KEY_SECTION_AT("t#", "disk", "", 0, 0);
	uint32_t idx[2] = { 9, 9 };
	char why[128] = "";

	CHECK(cfg_key_match(&k, "target0.lun1", idx, why, sizeof(why)) == 1);
	CHECK(idx[0] == 0 && idx[1] == 1);
	CHECK(cfg_key_match(&k, "target254.lun255", idx, why, sizeof(why)) == 1);
	CHECK(idx[0] == 254 && idx[1] == 255);
	CHECK(cfg_key_match(&k, "target0.lun300", idx, why, sizeof(why)) == -1);
	CHECK(!strcmp(why, "lun 300 out of range 0-255"));
	CHECK(cfg_key_match(&k, "target255.lun0", idx, why, sizeof(why)) == -1);
	CHECK(!strcmp(why, "target 255 out of range 0-254"));
	/* not the pattern at all: no number, a leading zero, junk after */
	CHECK(cfg_key_match(&k, "target.lun1", NULL, NULL, 0) == 0);
	CHECK(cfg_key_match(&k, "target01.lun1", NULL, NULL, 0) == 0);
	CHECK(cfg_key_match(&k, "target0.lun1x", NULL, NULL, 0) == 0);
	CHECK(cfg_key_match(&k, "target0", NULL, NULL, 0) == 0);
	CHECK(cfg_key_match(&k, "target99999999999999.lun0", NULL, NULL, 0) == 0);
	/* both bounds 0: any number up to INT32_MAX */
	CHECK(cfg_key_match(&one, "t2147483647", idx, NULL, 0) == 1);
	CHECK(cfg_key_match(&one, "t2147483648", NULL, why, sizeof(why)) == -1);
	/* a plain key is an exact name */
	k.flags = 0;
	CHECK(cfg_key_match(&k, "target#.lun#", NULL, NULL, 0) == 1);
	CHECK(cfg_key_match(&k, "target0.lun1", NULL, NULL, 0) == 0);
}

/* the core lists, attaches and prints them */
static void listed_and_attached(void)
{
	struct harness h;
	struct indexed_dev *s = NULL;
	struct instance *in;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	ini(HEAD "[device d]\nplugin = indexed-dev\n"
		       "target3.lun7 = c\ntarget0 = a\ntarget1.lun2 = b\n");
	vm_up(&h, buf);
	CHECK(h.ok);
	in = find(&h, "d");
	if (in)
		s = HV_STATE(&in->ctx, struct indexed_dev);
	CHECK(s && s->each_rc == 0 && s->bad_rc == -EINVAL && s->n == 3);
	if (s && s->n == 3) {
		/* target# first, then target#.lun# in file order */
		CHECK(!strcmp(s->key[0], "target0") && !strcmp(s->value[0], "a"));
		CHECK(s->idx[0][0] == 0 && s->idx[0][1] == 0);
		CHECK(!strcmp(s->key[1], "target3.lun7") && !strcmp(s->value[1], "c"));
		CHECK(s->idx[1][0] == 3 && s->idx[1][1] == 7);
		CHECK(!strcmp(s->key[2], "target1.lun2") && s->idx[2][1] == 2);
		CHECK(s->disk[0] && s->disk[1] && s->disk[2]);
		CHECK(find(&h, "a") && find(&h, "b") && find(&h, "c"));
	}
	f = open_memstream(&out, &len);
	if (f) {
		config_print(f, &h.cfg);
		fclose(f);
	}
	CHECK_CONTAINS(out, "target0 = a\n");
	CHECK_CONTAINS(out, "target3.lun7 = c\n");
	CHECK_CONTAINS(out, "queues = 1    ; default\n");
	free(out);
	vm_down(&h);
}

static void range_errors(void)
{
	struct harness h;
	const char *e;

	ini(HEAD "[device d]\nplugin = indexed-dev\n"
			   "target0 = a\ntarget0.lun300 = b\n");
	e = vm_up(&h, buf);
	CHECK(!h.ok);
	CHECK_CONTAINS(e, "t.ini:7: [device d]: target0.lun300: lun 300 out of range 0-255");
	vm_down(&h);
	ini(HEAD "[device d]\nplugin = indexed-dev\ntarget255 = a\n");
	e = vm_up(&h, buf);
	CHECK(!h.ok);
	CHECK_CONTAINS(e, "t.ini:6: [device d]: target255: target 255 out of range 0-254");
	vm_down(&h);
	ini(HEAD "[device d]\nplugin = indexed-dev\ntarget01 = a\n");
	e = vm_up(&h, buf);
	CHECK(!h.ok);
	CHECK_CONTAINS(e, "unknown key 'target01' (known: ");
	CHECK_CONTAINS(e, "target#.lun#");
	vm_down(&h);
	/* a value is checked by the key's type: the section must exist */
	ini(HEAD "[device d]\nplugin = indexed-dev\ntarget2.lun0 = nope\n");
	e = vm_up(&h, buf);
	CHECK(!h.ok);
	CHECK_CONTAINS(e, "t.ini:6: [device d]: target2.lun0 = nope: there is no [disk nope] section");
	vm_down(&h);
}

/* two indexed keys naming one disk: the core's existing refusal */
static void same_disk_twice(void)
{
	struct harness h;
	const char *e;

	ini(HEAD "[device d]\nplugin = indexed-dev\n"
			   "target0 = a\ntarget0.lun1 = a\n");
	e = vm_up(&h, buf);
	CHECK_CONTAINS(e, "t.ini:7: [device d]: target0.lun1 = a: [disk a] is already "
			  "attached to [device d]");
	vm_down(&h);
}

int main(void)
{
	char dir[] = "/tmp/hv-cfgidx-XXXXXX", cmd[64];
	size_t n = 0;

	if (!mkdtemp(dir))
		return 1;
	for (const char *d = "abc"; *d; d++) {
		char path[64];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%c.raw", dir, *d);
		f = fopen(path, "w");
		if (!f || ftruncate(fileno(f), 1 << 20))
			return 1;
		fclose(f);
		n += (size_t)snprintf(disks + n, sizeof(disks) - n,
				      "[disk %c]\nformat = raw\npath = %s\n", *d, path);
	}
	TEST(matching);
	TEST(listed_and_attached);
	TEST(range_errors);
	TEST(same_disk_twice);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd)) {
	}
	return unit_failed_total ? 1 : 0;
}
