/*
 * hv_net_attach_plugin (SDK 2.3) through the real core: the attach-dev
 * fixture attaches kv-be (tests/fixtures/kv_be.c) with keys it builds at
 * run time, as a switch's `adapter =` attaches pcap or wifi-bridge. The
 * instance is [net OWNER.NAME] in the caller's lock domain; its keys are
 * refused exactly as a written section's would be, each with one line;
 * hv check (vm->dry) checks it and does not create it.
 */
#include <errno.h>

#include "check.h"
#include "unit.h"
#include "vmharness.h"

#include "../fixtures/attach_fixture.h"

#define VM "[vm]\nkernel = /bin/sh\nmachine = none\n"

/* Build like hv run (dry 0) or hv check (dry 1): stderr in the result. */
static const char *vm_up(struct harness *h, const char *ini, int dry)
{
	static const char *const fixtures[] = { "attach_dev", "kv_be",
						"post_dev", "post_hub", NULL };

	unit_capture_begin();
	harness_load(h, 0, fixtures);
	if (!config_load_string(&h->cfg, "t.ini", ini) &&
	    !config_validate(&h->cfg, &h->set) &&
	    !vm_init(&h->vm, &h->cfg, &h->set, &accel_kvm)) {
		h->vm.dry = dry;
		h->ok = vm_create_devices(&h->vm) == 0;
	}
	return unit_capture_end();
}

static void attached(void)
{
	struct harness h;
	const char *err = vm_up(&h, VM "[device dev]\nplugin = attach-dev\n"
				       "kv = ifname=eth9,count=3\n", 0);
	struct instance *dev = find(&h, "dev"), *be = find(&h, "dev.uplink");
	struct kb_state *kb = be ? be->ctx.state : NULL;
	struct ad_state *ad = dev ? dev->ctx.state : NULL;
	uint64_t x = 1;

	CHECK(h.ok);
	CHECK(!strcmp(err, ""));
	CHECK(be && ad && ad->net);
	if (!be || !kb || !ad || !ad->net)
		goto out;
	CHECK(!strcmp(be->sec->name, "net dev.uplink"));
	CHECK(be->sec->implicit == CFG_IMPLICIT_ATTACH);
	CHECK(be->owner == dev && be->lock == dev->lock); /* the caller's domain */
	CHECK(kb->checks == 1 && kb->creates == 1 && kb->domain_ok);
	CHECK(!strcmp(kb->ifname, "eth9") && kb->count == 3);
	CHECK(!strcmp(kb->name, "dev.uplink"));
	CHECK(be->created);
	/* the link works both ways: the backend echoes what it is sent */
	vm_pio(&h.vm, 0x300, 4, 1, &x);
	CHECK(kb->sent == 1 && ad->frames == 1);
out:
	vm_down(&h);
}

/* hv check: the keys are checked (check op included), create is not run. */
static void dry_checks_only(void)
{
	struct harness h;
	const char *err = vm_up(&h, VM "[device dev]\nplugin = attach-dev\n"
				       "kv = ifname=eth9\n", 1);
	struct instance *be = find(&h, "dev.uplink");
	struct kb_state *kb = be ? be->ctx.state : NULL;

	CHECK(h.ok);
	CHECK(!strcmp(err, ""));
	CHECK(kb && kb->checks == 1 && kb->creates == 0 && !be->created);
	vm_down(&h);
	err = vm_up(&h, VM "[device dev]\nplugin = attach-dev\n"
			   "kv = ifname=eth9,count=7\n", 1);
	CHECK(!h.ok);
	CHECK_CONTAINS(err, "t.ini:4: [net dev.uplink]: count = 7: the fixture refuses it\n");
	vm_down(&h);
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Each refusal: one line naming [net OWNER.NAME], attach NULL with errno,
 * the device's create goes on (fail_ok), no instance is left. */
static void refusals(void)
{
	static const struct { const char *keys, *want; int err; } c[] = {
		{ "use = nosuch\nkv = ifname=a\n",
		  "t.ini:4: [net dev.uplink]: no plugin named 'nosuch' (see 'hv plugins')", EINVAL },
		{ "use = post-dev\nkv = ifname=a\n",
		  "t.ini:4: [net dev.uplink]: plugin 'post-dev' is a device plugin, not a net plugin", EINVAL },
		{ "use = post-hub\n",
		  "t.ini:4: [device dev]: [net dev.uplink]: plugin post-hub has a lock domain of its own", EINVAL },
		{ "kv = count=3\n",
		  "t.ini:4: [net dev.uplink]: 'ifname' is required", EINVAL },
		{ "kv = ifname=a,count=11\n",
		  "t.ini:4: [net dev.uplink]: count = 11: out of range", EINVAL },
		{ "kv = ifname=a,bogus=1\n",
		  "t.ini:4: [net dev.uplink]: unknown key 'bogus' (known: plugin, ifname, count)", EINVAL },
		{ "kv = ifname=a,count=7\n",
		  "t.ini:4: [net dev.uplink]: count = 7: the fixture refuses it", EINVAL },
		{ "kv = ifname=a,ifname=b\n",
		  "t.ini:4: [device dev]: [net dev.uplink]: key ifname given twice", EINVAL },
		{ "kv = ifname\n",
		  "t.ini:4: [device dev]: [net dev.uplink]: key ifname has no value", EINVAL },
		{ "name = a.b\nkv = ifname=a\n",
		  "t.ini:4: [device dev]: attach a.b: a name of 1-32 letters", EINVAL },
		{ "kv = ifname=a\n[net dev.uplink]\nplugin = kv-be\nifname = x\n"
		  "[device other]\nplugin = post-dev\nport = 0x200\nnet = dev.uplink\n",
		  "t.ini:4: [device dev]: [net dev.uplink]: the name is taken", EBUSY },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct harness h;
		char ini[512];
		const char *err;
		struct instance *dev;
		struct ad_state *ad;

		snprintf(ini, sizeof(ini), VM "[device dev]\nplugin = attach-dev\nfail_ok = 1\n%s",
			 c[i].keys);
		err = vm_up(&h, ini, 0);
		dev = find(&h, "dev");
		ad = dev ? dev->ctx.state : NULL;
		if (!h.ok || !ad || ad->net || ad->err != c[i].err ||
		    !strstr(err, c[i].want) || lines(err) != 1 ||
		    (find(&h, "dev.uplink") && !strstr(c[i].keys, "[net dev.uplink]"))) {
			printf("# case %zu: ok %d err %d, stderr: %s", i, h.ok,
			       ad ? ad->err : -1, err);
			unit_case_failed = 1;
		}
		vm_down(&h);
	}
}

int main(void)
{
	TEST(attached);
	TEST(dry_checks_only);
	TEST(refusals);
	return unit_failed_total ? 1 : 0;
}
