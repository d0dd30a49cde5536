/*
 * Hot-plug readiness: a region removed while another thread hammers it
 * (run under ASan, and TSan: docs/hotplug.md has the command), removal
 * from the owner's own callback, a bus that does not grow under add/remove
 * churn, backends attached to and detached from a running device, and
 * reset and teardown with disk I/O in flight (fixtures hot_dev, slow_disk).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "config.h"
#include "hotplug.h"
#include "instance.h"
#include "loop.h"
#include "plugin.h"
#include "unit.h"
#include "vmharness.h"
#include "vm.h"

#include "../fixtures/hot_dev.h"
#include "disk.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* the sanitizer runtime's (sanitizer/allocator_interface.h, not packaged
 * here): its allocator does not feed mallinfo */
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_bytes(void)
{
	return __sanitizer_get_current_allocated_bytes();
}
#else
static size_t heap_bytes(void)
{
	return mallinfo2().uordblks;
}
#endif

/* ---- the bus alone, an owner instance made by hand ---- */
#define MAGIC 0x600dcafeu
#define BASE 0x4000
#define HAMMERS 1 /* vCPU-like threads: the machine has 2 cores */

struct obj {
	unsigned magic;
	atomic_ulong hits;
};

static struct bus bus;
static struct instance owner;
static atomic_int stop;
static atomic_ulong misses;

static uint64_t obj_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			 unsigned size)
{
	struct obj *o = opaque;

	/* the test frees o right after removing the region: ASan says
	 * heap-use-after-free if a callback ever runs after that */
	atomic_fetch_add(&o->hits, 1);
	return o->magic;
}

static void obj_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		      unsigned size, uint64_t val)
{
	struct obj *o = opaque;

	o->magic = (unsigned)val;
}

static const struct hv_region_ops obj_ops = { .read = obj_read,
					      .write = obj_write };

static void *hammer(void *arg)
{
	while (!atomic_load(&stop)) {
		uint64_t v = 0;

		if (bus_access(&bus, BASE + 4, 4, 0, &v) == 0 &&
		    v != MAGIC && v != 0xffffffffu)
			atomic_fetch_add(&misses, 1); /* a torn or stale read */
	}
	return NULL;
}

static void owner_init(void)
{
	memset(&owner, 0, sizeof(owner));
	pthread_mutex_init(&owner.own_lock, NULL);
	owner.lock = &owner.own_lock;
}

static void removal_races_vcpu(void)
{
	pthread_t th[HAMMERS];
	unsigned long hits = 0;

	owner_init();
	bus_init(&bus, "mmio", 0);
	atomic_store(&stop, 0);
	atomic_store(&misses, 0);
	for (int i = 0; i < HAMMERS; i++)
		pthread_create(&th[i], NULL, hammer, NULL);
	for (int round = 0; round < 4000; round++) {
		struct obj *o = calloc(1, sizeof(*o));
		struct bus_region *r;

		o->magic = MAGIC;
		CHECK(bus_add(&bus, BASE, 0x100, &obj_ops, o, &owner, &r) == 0);
		for (int k = 0; k < 50 && !atomic_load(&o->hits); k++)
			sched_yield();
		if (round & 1) {
			/* as a plugin does: from code holding its domain lock */
			inst_lock(&owner);
			bus_del(&bus, r);
			inst_unlock(&owner);
		} else {
			/* as instance teardown does, without the lock */
			bus_retire_owner(&bus, &owner);
			bus_del_owner(&bus, &owner);
		}
		hits += atomic_load(&o->hits);
		free(o);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < HAMMERS; i++)
		pthread_join(th[i], NULL);
	printf("# %lu accesses reached regions that were then removed\n", hits);
	CHECK(hits > 0); /* the threads really were inside */
	CHECK(atomic_load(&misses) == 0);
	CHECK(bus.n == 0 && !bus.dead);
	bus_destroy(&bus);
	pthread_mutex_destroy(&owner.own_lock);
}

/* a BAR move's pattern: the owner removes its region from its own access */
static int self_calls;
static struct bus_region *self_r;

static uint64_t self_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			  unsigned size)
{
	self_calls++;
	if (self_r) {
		bus_del(&bus, self_r);
		self_r = NULL;
	}
	return 0x5a;
}

static const struct hv_region_ops self_ops = { .max_access = 1,
					       .read = self_read,
					       .write = obj_write };

static void removal_from_own_callback(void)
{
	uint64_t v = 0;

	owner_init();
	bus_init(&bus, "pio", 0x10000);
	self_calls = 0;
	CHECK(bus_add(&bus, 0x100, 8, &self_ops, NULL, &owner, &self_r) == 0);
	/* 4 bytes to a 1-byte region: four calls, but it is gone after one */
	CHECK(bus_access(&bus, 0x100, 4, 0, &v) == 0);
	CHECK(self_calls == 1);
	CHECK((v & 0xff) == 0x5a && (v >> 8) == 0xffffff);
	CHECK(bus_access(&bus, 0x100, 1, 0, &v) == -ENOENT && v == 0xff);
	/* the range is free again at once */
	CHECK(bus_add(&bus, 0x100, 8, &self_ops, NULL, &owner, &self_r) == 0);
	/* a destroy op cannot bring a retired region back, only remove it */
	bus_retire_owner(&bus, &owner);
	CHECK(bus_move(&bus, self_r, 0x200) == -EINVAL);
	CHECK(bus_unpark(&bus, self_r, 0x200) == -EINVAL);
	bus_park(&bus, self_r);
	CHECK(bus.n == 0 && !bus.parked && bus.dead == self_r);
	bus_del(&bus, self_r);
	self_r = NULL;
	CHECK(!bus.dead);
	bus_destroy(&bus);
	pthread_mutex_destroy(&owner.own_lock);
}

static void churn_stays_flat(void)
{
	static struct obj o = { .magic = MAGIC };
	size_t before, after;
	struct bus_region *r;
	uint64_t v;

	owner_init();
	bus_init(&bus, "mmio", 0);
	CHECK(bus_add(&bus, 0x1000, 0x10, &obj_ops, &o, &owner, &r) == 0);
	bus_del(&bus, r); /* the region array's first allocation */
	before = heap_bytes();
	for (int i = 0; i < 100000; i++) {
		CHECK(bus_add(&bus, 0x1000 + (i & 0xff) * 0x10, 0x10, &obj_ops,
			      &o, &owner, &r) == 0);
		bus_access(&bus, 0x1000, 4, 0, &v);
		bus_del(&bus, r);
		/* a BAR the guest switches on and off, then unplugs */
		CHECK(bus_add_parked(&bus, 0x10, &obj_ops, &o, &owner, &r) == 0);
		CHECK(bus_unpark(&bus, r, 0x8000) == 0);
		bus_park(&bus, r);
		bus_del(&bus, r);
	}
	after = heap_bytes();
	printf("# heap before %zu, after 200000 add/remove %zu bytes\n", before,
	       after);
	CHECK(after <= before + 4096);
	CHECK(bus.n == 0 && !bus.dead && !bus.parked);
	bus_destroy(&bus);
	pthread_mutex_destroy(&owner.own_lock);
}

/* ---- a VM without vCPUs, the fixtures loaded ---- */
static char tmpdir[64];

static const char *vm_up(struct harness *h, const char *ini)
{
	static const char *const fixtures[] = { "hot_dev", "slow_disk", "disk_user", NULL };
	const char *e;

	unit_capture_begin();
	harness_load(h, 1, fixtures);
	harness_build(h, ini, &accel_kvm);
	h->ok = h->ok && vm_reset_devices(&h->vm) == 0;
	e = unit_capture_end();
	if (!h->ok)
		printf("# the VM did not come up: %s\n", e);
	return e;
}

static struct hot_dev *st(struct instance *in)
{
	return in ? HV_STATE(&in->ctx, struct hot_dev) : NULL;
}

static void start_reads(struct harness *h, int n)
{
	uint64_t v = (uint64_t)n;

	vm_pio(&h->vm, HOT_PORT, 1, 1, &v);
}

#define HEAD "[vm]\nkernel = /bin/sh\nmachine = none\n"
#define HOT "[device hot]\nplugin = hot-dev\n"
#define SLOW(ms) "[disk d0]\nformat = slow-disk\npath = /bin/sh\ndelay_ms = " #ms "\n"

static void backend_attach_detach(void)
{
	struct harness h;
	struct instance *dev;
	struct hot_dev *s;
	const char *e;

	vm_up(&h, HEAD HOT SLOW(20) "[disk d1]\nformat = slow-disk\npath = /bin/sh\n");
	CHECK(h.ok);
	dev = find(&h, "hot");
	s = st(dev);
	if (!s)
		goto out;
	CHECK(!s->disk);
	CHECK(hotplug_attach(dev, "disk", "d0") == 0);
	CHECK(s->disk && s->attaches == 1 && find(&h, "d0"));
	unit_capture_begin();
	CHECK(hotplug_attach(dev, "disk", "d1") == -EBUSY);
	e = unit_capture_end();
	CHECK_CONTAINS(e, "[device hot]: hot-plug: disk already has [disk d0] attached");
	start_reads(&h, 4);
	CHECK(s->in_flight == 4);
	/* detach with reads in flight: they finish first, then the device
	 * hears of it, then the backend goes */
	CHECK(hotplug_detach(dev, "disk") == 0);
	CHECK(s->completed == 4 && s->errors == 0 && s->busy_at_detach == 0);
	CHECK(s->detaches == 1 && !s->disk && !find(&h, "d0"));
	CHECK(s->buf[0][0] == 0xab);
	unit_capture_begin();
	CHECK(hotplug_detach(dev, "disk") == -ENOENT);
	CHECK(hotplug_attach(dev, "disk", "nope") == -ENOENT);
	e = unit_capture_end();
	CHECK_CONTAINS(e, "hot-plug: disk = nope: there is no [disk nope] section");
	/* another one on the same key, and the first again afterwards */
	CHECK(hotplug_attach(dev, "disk", "d1") == 0 && find(&h, "d1"));
	CHECK(!strcmp(hv_config_get_str(&dev->ctx, "disk"), "d1"));
	start_reads(&h, 2);
	CHECK(hotplug_detach(dev, "disk") == 0 && s->completed == 6);
	CHECK(hotplug_attach(dev, "disk", "d0") == 0);
	/* a failing op: what it attached is released, the key unchanged */
	CHECK(hotplug_detach(dev, "disk") == 0);
	s->fail_attach = 1;
	unit_capture_begin();
	CHECK(hotplug_attach(dev, "disk", "d1") == -EIO);
	e = unit_capture_end();
	CHECK_CONTAINS(e, "refusing disk");
	CHECK(!find(&h, "d1") && !hv_config_get_str(&dev->ctx, "disk"));
out:
	vm_down(&h);
}

static void console_attach_detach(void)
{
	struct harness h;
	struct instance *dev;
	char ini[512], path[128], buf[16] = "";
	int fd;

	snprintf(path, sizeof(path), "%s/hot.log", tmpdir);
	snprintf(ini, sizeof(ini), HEAD HOT "[console c0]\nplugin = logfile\npath = %s\n",
		 path);
	vm_up(&h, ini);
	CHECK(h.ok);
	dev = find(&h, "hot");
	if (!dev)
		goto out;
	CHECK(hotplug_attach(dev, "console", "c0") == 0 && st(dev)->chr);
	for (const char *p = "hi"; *p; p++) {
		uint64_t v = (uint64_t)*p;
		vm_pio(&h.vm, HOT_PORT + 1, 1, 1, &v);
	}
	CHECK(hotplug_detach(dev, "console") == 0 && !st(dev)->chr &&
	      !find(&h, "c0"));
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf) - 1) == 2);
	CHECK(!strcmp(buf, "hi"));
	if (fd >= 0)
		close(fd);
out:
	vm_down(&h);
}

static void device_without_ops_refuses(void)
{
	struct harness h;
	struct instance *dev;
	const char *e;

	vm_up(&h, HEAD "[device u]\nplugin = disk-user\ndisk = d0\n" SLOW(5));
	CHECK(h.ok);
	dev = find(&h, "u");
	if (!dev)
		goto out;
	unit_capture_begin();
	CHECK(hotplug_detach(dev, "disk") == -EOPNOTSUPP);
	CHECK(hotplug_attach(dev, "disk", "d0") == -EOPNOTSUPP);
	e = unit_capture_end();
	CHECK_CONTAINS(e, "plugin disk-user cannot let a backend go at run time");
	CHECK(find(&h, "d0")); /* still there */
out:
	vm_down(&h);
}

static void reset_waits_for_slow_io(void)
{
	struct harness h;
	struct hot_dev *s;

	vm_up(&h, HEAD HOT "disk = d0\n" SLOW(50));
	CHECK(h.ok);
	s = st(find(&h, "hot"));
	if (!s)
		goto out;
	start_reads(&h, 8);
	CHECK(s->in_flight == 8 && s->resets == 1);
	CHECK(vm_reset_devices(&h.vm) == 0);
	CHECK(s->resets == 2 && s->busy_at_reset == 0);
	CHECK(s->completed == 8 && s->late == 0);
	/* nothing arrives later either */
	for (int i = 0; i < 5; i++)
		loop_once(h.vm.loop, 20);
	CHECK(s->completed == 8 && s->late == 0);
out:
	vm_down(&h);
}

/* real file I/O: the raw plugin's hv_file_submit, through libaio or the
 * pool, counted for the device the disk belongs to */
static void reset_waits_for_file_io(void)
{
	struct harness h;
	struct hot_dev *s;
	char ini[512], path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/raw.img", tmpdir);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
	if (fd >= 0)
		close(fd);
	snprintf(ini, sizeof(ini), HEAD HOT "disk = r\n[disk r]\nformat = raw\npath = %s\n",
		 path);
	vm_up(&h, ini);
	CHECK(h.ok);
	s = st(find(&h, "hot"));
	if (!s)
		goto out;
	for (int round = 0; round < 20; round++) {
		start_reads(&h, HOT_SLOTS);
		CHECK(s->in_flight == HOT_SLOTS);
		CHECK(vm_reset_devices(&h.vm) == 0);
		CHECK(s->in_flight == 0 && s->busy_at_reset == 0 && s->late == 0);
	}
	CHECK(s->completed == 20 * HOT_SLOTS && s->errors == 0);
out:
	vm_down(&h);
}

static void reset_drain_times_out(void)
{
	struct harness h;
	struct hot_dev *s;
	const char *e;

	vm_up(&h, HEAD HOT "disk = d0\n" SLOW(400));
	CHECK(h.ok);
	s = st(find(&h, "hot"));
	if (!s)
		goto out;
	h.vm.drain_ms = 50;
	start_reads(&h, 3);
	unit_capture_begin();
	CHECK(vm_reset_devices(&h.vm) == -ETIMEDOUT);
	e = unit_capture_end();
	CHECK_CONTAINS(e, "[device hot]: 3 I/O requests still in flight after 50 ms");
	CHECK(s->resets == 1 && s->busy_at_reset == 0); /* not reset */
	/* teardown waits for them: no completion into a freed device */
	h.vm.drain_ms = 0;
out:
	vm_down(&h);
}

static void destroy_with_io_in_flight(void)
{
	struct harness h;
	struct hot_dev *s;

	vm_up(&h, HEAD HOT "disk = d0\n" SLOW(30));
	CHECK(h.ok);
	s = st(find(&h, "hot"));
	if (s)
		start_reads(&h, HOT_SLOTS);
	CHECK(s && s->in_flight == HOT_SLOTS);
	vm_down(&h); /* ASan: a completion after the free would be caught */
}

/* A file closed with requests in flight: they still complete, once, and
 * the file goes after the last (ASan: no use after free either way). */
struct close_io {
	struct hv_file_io io;
	struct iovec iov;
	int done;
	int64_t res;
};

static void close_io_done(struct hv_ctx *ctx, struct hv_file_io *io, int64_t res)
{
	struct close_io *c = (struct close_io *)io;

	c->done++;
	c->res = res;
}

static void close_with_io_in_flight(void)
{
	struct harness h;
	struct instance *in;
	struct hv_file *f = NULL;
	static struct close_io c[8];
	static char buf[8][4096] __attribute__((aligned(4096)));
	char path[128];
	int fd, left = 200;

	snprintf(path, sizeof(path), "%s/close.img", tmpdir);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
	if (fd >= 0)
		close(fd);
	vm_up(&h, HEAD HOT);
	CHECK(h.ok);
	in = find(&h, "hot");
	CHECK(in && core_file_open(&in->ctx, path, 0, &f) == 0);
	if (!f)
		goto out;
	for (int i = 0; i < 8; i++) {
		c[i] = (struct close_io){ .iov = { buf[i], 4096 } };
		c[i].io = (struct hv_file_io){ .size = sizeof(c[i].io),
			.op = i & 1 ? HV_DISK_WRITE : HV_DISK_READ,
			.offset = (uint64_t)i * 4096, .iov = &c[i].iov, .iovcnt = 1,
			.done = close_io_done };
		CHECK(core_file_submit(&in->ctx, f, &c[i].io) == 0);
	}
	core_file_close(&in->ctx, f);
	for (int n = 0; left-- > 0 && n < 8;) {
		loop_once(h.vm.loop, 20);
		n = 0;
		for (int i = 0; i < 8; i++)
			n += c[i].done;
	}
	for (int i = 0; i < 8; i++)
		CHECK(c[i].done == 1 && c[i].res == 4096);
out:
	vm_down(&h);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hv-hotplug-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	TEST(removal_races_vcpu);
	TEST(removal_from_own_callback);
	TEST(churn_stays_flat);
	TEST(backend_attach_detach);
	TEST(console_attach_detach);
	TEST(device_without_ops_refuses);
	TEST(reset_waits_for_slow_io);
	TEST(reset_waits_for_file_io);
	TEST(reset_drain_times_out);
	TEST(destroy_with_io_in_flight);
	TEST(close_with_io_in_flight);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd)) {
	}
	return unit_failed_total ? 1 : 0;
}
