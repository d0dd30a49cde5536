/*
 * hv_dma: scatter-gather mappings of guest memory that outlive a callback.
 * The first tests drive the service on a hand-built memory map (two
 * adjacent RAM regions, a hole, a ROM, RAM above it); the last ones run the
 * dma-test fixture plugin in a guestless VM, mapping in a port write and
 * using the mapping in a later timer callback.
 */
#include <errno.h>

#include "bus.h"
#include "check.h"
#include "config.h"
#include "dma.h"
#include "instance.h"
#include "loop.h"
#include "plugin.h"
#include "services.h"
#include "unit.h"
#include "vmharness.h"
#include "vm.h"

#define KB 1024ull
#define ROM_GPA 0xf0000ull
#define HIGH_GPA 0x100000ull

static struct vm vm;
static struct plugin fake = { .desc = { .name = "dmadev", .kind = HV_KIND_DEVICE } };
static struct instance *dev, *other;

static struct { int calls; uint64_t gpa, len; } hook;

static void on_write(void *o, uint64_t gpa, uint64_t len)
{
	hook.calls++;
	hook.gpa = gpa;
	hook.len = len;
}

/* Dirty logging on for every region, as a snapshot would turn it on. */
static int log_all(struct mem_map *m)
{
	for (int i = 0; i < m->n; i++)
		if (mem_log_alloc(m, i))
			return -1;
	return 0;
}

/* Whether the page holding gpa is marked (read, not cleared). */
static int page_dirty(struct mem_map *m, uint64_t gpa)
{
	const struct mem_region *r = mem_find(m, gpa);
	uint64_t bits[64] = { 0 }, p;
	size_t n;

	if (!r || (p = (gpa - r->gpa) / MEM_PAGE) >= 64 * 64)
		return 0;
	n = mem_log_bytes(r->size) < sizeof(bits) ? mem_log_bytes(r->size) : sizeof(bits);
	if (mem_log_take(m, (int)(r - m->r), bits, n, 0))
		return 0;
	return bits[p / 64] >> (p % 64) & 1;
}

/* [0, 64K) "a", [64K, 128K) "b", a hole, 4K of ROM at 0xf0000, a hole,
 * 64K "c" at 1M. */
static void setup(void)
{
	static const uint8_t rom[16] = { 0xea };

	memset(&vm, 0, sizeof(vm));
	bus_init(&vm.pio, "pio", 0x10000);
	bus_init(&vm.mmio, "mmio", ~0ull);
	CHECK(mem_add_ram(&vm.mem, "a", 0, 64 * KB) == 0);
	CHECK(mem_add_ram(&vm.mem, "b", 64 * KB, 64 * KB) == 0);
	CHECK(mem_add_rom(&vm.mem, "rom", ROM_GPA, rom, sizeof(rom)) == 0);
	CHECK(mem_add_ram(&vm.mem, "c", HIGH_GPA, 64 * KB) == 0);
	CHECK(log_all(&vm.mem) == 0);
	vm.mem.write_hook = on_write;
	memset(&hook, 0, sizeof(hook));
	dev = instance_new(&core_env, &vm, NULL, NULL, &fake, NULL, NULL);
	other = instance_new(&core_env, &vm, NULL, NULL, &fake, NULL, NULL);
	dev->ctx.name = "dev0";
	other->ctx.name = "dev1";
}

static void teardown(void)
{
	instance_free(dev);
	instance_free(other);
	mem_destroy(&vm.mem);
	bus_destroy(&vm.pio);
	bus_destroy(&vm.mmio);
}

static int any_dirty_in(struct mem_map *m, uint64_t gpa, uint64_t len)
{
	for (uint64_t p = gpa & ~(MEM_PAGE - 1); p < gpa + len; p += MEM_PAGE)
		if (page_dirty(m, p))
			return 1;
	return 0;
}

static int any_dirty(uint64_t gpa, uint64_t len)
{
	return any_dirty_in(&vm.mem, gpa, len);
}

static void splits_at_region_boundaries(void)
{
	struct hv_dma dma;
	struct iovec iov[4];
	uint8_t in[8 * KB], out[8 * KB];
	const struct mem_region *a, *b;

	setup();
	a = mem_find(&vm.mem, 0);
	b = mem_find(&vm.mem, 64 * KB);
	CHECK(hv_dma_map(&dev->ctx, &dma, 60 * KB, 8 * KB, HV_DMA_FROM_DEVICE,
			 iov, 4) == 2);
	CHECK(dma.iovcnt == 2 && dma.len == 8 * KB);
	CHECK(iov[0].iov_base == a->hva + 60 * KB && iov[0].iov_len == 4 * KB);
	CHECK(iov[1].iov_base == b->hva && iov[1].iov_len == 4 * KB);
	/* a second range appends: a descriptor chain */
	CHECK(hv_dma_add(&dev->ctx, &dma, HIGH_GPA + 8, 100, HV_DMA_FROM_DEVICE) == 1);
	CHECK(dma.iovcnt == 3 && dma.len == 8 * KB + 100);
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 13 + 5);
	memcpy(iov[0].iov_base, in, 4 * KB);
	memcpy(iov[1].iov_base, in + 4 * KB, 4 * KB);
	memcpy(iov[2].iov_base, in, 100);
	CHECK(mem_read(&vm.mem, 60 * KB, out, sizeof(out)) == 0);
	CHECK(!memcmp(in, out, sizeof(in)));
	CHECK(mem_read(&vm.mem, HIGH_GPA + 8, out, 100) == 0 && !memcmp(in, out, 100));
	hv_dma_unmap(&dev->ctx, &dma, dma.len);
	CHECK(dma.iovcnt == 0 && dev->dmas == NULL);
	teardown();
}

/* Every refusal leaves the mapping as it was. */
static void refusals(void)
{
	struct hv_dma dma;
	struct iovec iov[2];

	setup();
	hv_dma_init(&dma, iov, 2);
	CHECK(hv_dma_add(&dev->ctx, &dma, 120 * KB, 16 * KB, HV_DMA_TO_DEVICE) == -EFAULT);
	CHECK(hv_dma_add(&dev->ctx, &dma, 0x80000, 1, HV_DMA_TO_DEVICE) == -EFAULT);
	CHECK(hv_dma_add(&dev->ctx, &dma, ROM_GPA + 4 * KB - 8, 16, HV_DMA_TO_DEVICE) == -EFAULT);
	CHECK(hv_dma_add(&dev->ctx, &dma, ~0ull - 10, 100, HV_DMA_TO_DEVICE) == -EFAULT);
	CHECK(hv_dma_add(&dev->ctx, &dma, 16, ~0ull, HV_DMA_TO_DEVICE) == -EFAULT);
	CHECK(hv_dma_add(&dev->ctx, &dma, 0, 16, 0) == -EINVAL);
	CHECK(hv_dma_add(&dev->ctx, &dma, 0, 16, 0x4) == -EINVAL);
	CHECK(hv_dma_add(&dev->ctx, &dma, 0, 0, HV_DMA_TO_DEVICE) == 0);
	CHECK(dma.iovcnt == 0 && dev->dmas == NULL);
	/* ROM reads, never writes */
	CHECK(hv_dma_add(&dev->ctx, &dma, ROM_GPA, 16, HV_DMA_FROM_DEVICE) == -EFAULT);
	CHECK(hv_dma_add(&dev->ctx, &dma, ROM_GPA, 16, HV_DMA_BIDIRECTIONAL) == -EFAULT);
	CHECK(hv_dma_add(&dev->ctx, &dma, ROM_GPA, 16, HV_DMA_TO_DEVICE) == 1);
	CHECK(((uint8_t *)iov[0].iov_base)[0] == 0xea);
	/* more iovecs than are left: nothing added */
	CHECK(hv_dma_add(&dev->ctx, &dma, 60 * KB, 8 * KB, HV_DMA_FROM_DEVICE) == -ENOSPC);
	CHECK(dma.iovcnt == 1 && dma.len == 16);
	CHECK(mem_dma_busy(&vm.mem, 0, 128 * KB) == 0);
	CHECK(hv_dma_add(&dev->ctx, &dma, 8, 8, HV_DMA_FROM_DEVICE) == 1);
	/* read-only after writable breaks the chain rule */
	CHECK(hv_dma_add(&dev->ctx, &dma, 8, 8, HV_DMA_TO_DEVICE) == -EINVAL);
	/* the mapping is dev's: other may neither grow nor end it */
	CHECK(hv_dma_add(&other->ctx, &dma, 8, 8, HV_DMA_FROM_DEVICE) == -EINVAL);
	unit_capture_begin();
	hv_dma_unmap(&other->ctx, &dma, 8);
	CHECK_CONTAINS(unit_capture_end(), "dev1: hv_dma_unmap of a mapping [dev0] holds");
	CHECK(dma.iovcnt == 2 && !any_dirty(0, 4 * KB));
	hv_dma_unmap(&dev->ctx, &dma, 0);
	/* a struct the plugin did not initialise (or an older, smaller one) */
	memset(&dma, 0, sizeof(dma));
	dma.iov = iov;
	dma.max_iov = 2;
	CHECK(hv_dma_add(&dev->ctx, &dma, 0, 16, HV_DMA_TO_DEVICE) == -EINVAL);
	teardown();
}

/* Pages are dirtied and decoded code dropped at unmap, for the written
 * bytes of the writable ranges only. */
static void dirty_at_unmap_for_written_bytes(void)
{
	struct hv_dma dma;
	struct iovec iov[4];

	setup();
	hv_dma_init(&dma, iov, 4);
	CHECK(hv_dma_add(&dev->ctx, &dma, 0, 4 * KB, HV_DMA_TO_DEVICE) == 1);
	CHECK(hv_dma_add(&dev->ctx, &dma, 8 * KB, 12 * KB, HV_DMA_FROM_DEVICE) == 1);
	CHECK(hv_dma_add(&dev->ctx, &dma, 60 * KB, 8 * KB, HV_DMA_FROM_DEVICE) == 2);
	memset(iov[1].iov_base, 0x5a, 4 * KB + 1);
	CHECK(!any_dirty(0, 128 * KB) && hook.calls == 0); /* not at map */
	CHECK(mem_dma_busy(&vm.mem, 0, 64 * KB) == 3);
	CHECK(mem_dma_busy(&vm.mem, 64 * KB, 64 * KB) == 1);
	CHECK(mem_add_ram(&vm.mem, "late", 2 * HIGH_GPA, 4 * KB) == -EBUSY);
	hv_dma_unmap(&dev->ctx, &dma, 4 * KB + 1);
	CHECK(page_dirty(&vm.mem, 8 * KB) && page_dirty(&vm.mem, 12 * KB));
	CHECK(!page_dirty(&vm.mem, 0));        /* read-only range */
	CHECK(!page_dirty(&vm.mem, 16 * KB));  /* mapped, not written */
	CHECK(!any_dirty(60 * KB, 8 * KB));
	CHECK(hook.calls == 1 && hook.gpa == 8 * KB && hook.len == 4 * KB + 1);
	CHECK(mem_dma_busy(&vm.mem, 0, ~0ull) == 0);
	CHECK(mem_add_ram(&vm.mem, "late", 2 * HIGH_GPA, 4 * KB) == 0);
	/* empty again: reusable, and a second unmap does nothing */
	hv_dma_unmap(&dev->ctx, &dma, 100);
	CHECK(hook.calls == 1);
	CHECK(hv_dma_add(&dev->ctx, &dma, 60 * KB, 8 * KB, HV_DMA_FROM_DEVICE) == 2);
	hv_dma_unmap(&dev->ctx, &dma, ~0ull); /* clamped to what is mapped */
	CHECK(page_dirty(&vm.mem, 60 * KB) && page_dirty(&vm.mem, 64 * KB));
	CHECK(!page_dirty(&vm.mem, 68 * KB));
	CHECK(hook.calls == 3 && hook.gpa == 64 * KB && hook.len == 4 * KB);
	/* taking the log clears it; a read-only mapping then marks nothing */
	uint64_t bits[1];
	CHECK(mem_log_take(&vm.mem, 0, bits, sizeof(bits), 1) == 0 && bits[0]);
	CHECK(mem_log_take(&vm.mem, 0, bits, sizeof(bits), 1) == 0 && !bits[0]);
	CHECK(hv_dma_map(&dev->ctx, &dma, 0, 64 * KB, HV_DMA_TO_DEVICE, iov, 4) == 1);
	hv_dma_unmap(&dev->ctx, &dma, 64 * KB);
	CHECK(!any_dirty(0, 64 * KB) && hook.calls == 3);
	teardown();
}

/* Mappings a device leaves are ended when it goes, with a warning. */
static void leftovers_unmapped_at_free(void)
{
	struct hv_dma d1, d2;
	struct iovec iov1[2], iov2[2];
	const char *out;

	setup();
	CHECK(hv_dma_map(&dev->ctx, &d1, 4 * KB, 4 * KB, HV_DMA_FROM_DEVICE, iov1, 2) == 1);
	CHECK(hv_dma_map(&dev->ctx, &d2, 0, 1 * KB, HV_DMA_TO_DEVICE, iov2, 2) == 1);
	CHECK(mem_dma_busy(&vm.mem, 0, ~0ull) == 2);
	unit_capture_begin();
	instance_free(dev);
	out = unit_capture_end();
	dev = NULL;
	CHECK_CONTAINS(out, "dev0: 2 DMA mapping(s) still live at destroy");
	CHECK(mem_dma_busy(&vm.mem, 0, ~0ull) == 0);
	CHECK(page_dirty(&vm.mem, 4 * KB) && !page_dirty(&vm.mem, 0));
	CHECK(hook.calls == 1 && hook.gpa == 4 * KB && hook.len == 4 * KB);
	teardown();
}

/* A device that zeroes its request slots while they are mapped (a reset
 * op's memset) cannot leave a region pinned or the core's list broken. */
static void overwritten_mappings_cleaned_up(void)
{
	struct hv_dma d1, d2;
	struct iovec iov1[2], iov2[2];
	const char *out;

	setup();
	CHECK(hv_dma_map(&dev->ctx, &d1, 4 * KB, 4 * KB, HV_DMA_FROM_DEVICE, iov1, 2) == 1);
	CHECK(hv_dma_map(&dev->ctx, &d2, 60 * KB, 8 * KB, HV_DMA_TO_DEVICE, iov2, 2) == 2);
	memset(&d2, 0, sizeof(d2));
	unit_capture_begin();
	dma_release(dev, "reset");
	out = unit_capture_end();
	CHECK_CONTAINS(out, "dev0: 1 DMA mapping(s) still live at reset");
	CHECK_CONTAINS(out, "dev0: 3 DMA iovec(s) overwritten while mapped");
	CHECK(mem_dma_busy(&vm.mem, 0, ~0ull) == 0);
	CHECK(page_dirty(&vm.mem, 0) && page_dirty(&vm.mem, 64 * KB));
	/* d1 is still linked as far as d1 knows: the core ignores it */
	hv_dma_unmap(&dev->ctx, &d1, 4 * KB);
	CHECK(d1.iovcnt == 0 && dev->dmas == NULL);
	CHECK(hv_dma_add(&dev->ctx, &d1, 4 * KB, 4 * KB, HV_DMA_FROM_DEVICE) == 1);
	CHECK(dev->dmas == &d1 && mem_dma_busy(&vm.mem, 0, ~0ull) == 1);
	hv_dma_unmap(&dev->ctx, &d1, 0);
	CHECK(dev->dmas == NULL && mem_dma_busy(&vm.mem, 0, ~0ull) == 0);
	teardown();
}

/* ---- through a plugin: map in a vCPU callback, use in a timer ---- */
static void vm_up(struct harness *h)
{
	static const char *const fixtures[] = { "dma_test", NULL };

	unit_capture_begin();
	harness_load(h, 0, fixtures);
	harness_build(h, "[vm]\nkernel = /bin/sh\nmemory = 16M\nmachine = none\n"
		      "[device dma0]\nplugin = dma-test\n", &accel_kvm);
	const char *msg = unit_capture_end();

	if (*msg)
		printf("# %s", msg);
	CHECK(*msg == 0);
	CHECK(h->ok);
	h->vm.mem.write_hook = on_write;
	memset(&hook, 0, sizeof(hook));
	CHECK(log_all(&h->vm.mem) == 0);
}

static uint32_t in32(struct harness *h, uint16_t port)
{
	uint64_t v = 0;
	vm_pio(&h->vm, port, 4, 0, &v);
	return (uint32_t)v;
}

static void out32(struct harness *h, uint16_t port, uint32_t val)
{
	uint64_t v = val;
	vm_pio(&h->vm, port, 4, 1, &v);
}

static void dma_cmd(struct harness *h, uint32_t gpa, uint32_t len, uint32_t cmd)
{
	out32(h, 0x510, gpa);
	out32(h, 0x514, len);
	out32(h, 0x518, cmd);
}

/* Runs the loop until the fixture's timer has fired `runs` times. */
static int wait_runs(struct harness *h, uint32_t runs)
{
	for (int i = 0; i < 200 && in32(h, 0x514) < runs; i++)
		loop_once(h->vm.loop, 10);
	return in32(h, 0x514) == runs;
}

static void device_maps_then_writes_in_timer(void)
{
	struct harness h;
	uint8_t buf[12288];
	int good = 1;

	vm_up(&h);
	if (!h.ok)
		goto out;
	dma_cmd(&h, 0x1f00, 10000, 1);
	CHECK((int32_t)in32(&h, 0x510) == 1);
	CHECK(mem_dma_busy(&h.vm.mem, 0, ~0ull) == 1);
	CHECK(!any_dirty_in(&h.vm.mem, 0x1000, 0x4000) && hook.calls == 0);
	CHECK(wait_runs(&h, 1));
	CHECK(mem_dma_busy(&h.vm.mem, 0, ~0ull) == 0);
	CHECK(mem_read(&h.vm.mem, 0x1f00, buf, 10000) == 0);
	for (int i = 0; i < 10000; i++)
		good &= buf[i] == (uint8_t)(i * 7 + 1);
	CHECK(good);
	CHECK(hook.calls == 1 && hook.gpa == 0x1f00 && hook.len == 10000);
	CHECK(!page_dirty(&h.vm.mem, 0x0000) && page_dirty(&h.vm.mem, 0x1000) &&
	      page_dirty(&h.vm.mem, 0x4000) && !page_dirty(&h.vm.mem, 0x5000));
	/* reading back through a TO_DEVICE mapping sees the same bytes */
	dma_cmd(&h, 0x1f00, 100, 3);
	CHECK(wait_runs(&h, 2));
	uint32_t sum = 0;
	for (int i = 0; i < 100; i++)
		sum += buf[i];
	CHECK(in32(&h, 0x51c) == sum);
	/* no RAM at the IOAPIC's address, nor past the end of RAM */
	dma_cmd(&h, 0xfec00000, 16, 1);
	CHECK((int32_t)in32(&h, 0x510) == -EFAULT);
	dma_cmd(&h, (16 << 20) - 8, 16, 1);
	CHECK((int32_t)in32(&h, 0x510) == -EFAULT);
	CHECK(mem_dma_busy(&h.vm.mem, 0, ~0ull) == 0);
out:
	vm_down(&h);
}

static void device_leftovers_at_reset_and_destroy(void)
{
	struct harness h;
	const char *out;

	vm_up(&h);
	if (!h.ok)
		goto out;
	dma_cmd(&h, 0x8000, 4096, 2);
	CHECK((int32_t)in32(&h, 0x510) == 1 && mem_dma_busy(&h.vm.mem, 0, ~0ull) == 1);
	unit_capture_begin();
	vm_reset_devices(&h.vm);
	out = unit_capture_end();
	CHECK_CONTAINS(out, "dma0: 1 DMA mapping(s) still live at reset");
	CHECK(mem_dma_busy(&h.vm.mem, 0, ~0ull) == 0);
	CHECK(page_dirty(&h.vm.mem, 0x8000) && hook.calls == 1);
	dma_cmd(&h, 0x9000, 4096, 2);
	unit_capture_begin();
	vm_down(&h);
	out = unit_capture_end();
	CHECK_CONTAINS(out, "dma0: 1 DMA mapping(s) still live at destroy");
	return;
out:
	vm_down(&h);
}

int main(void)
{
	TEST(splits_at_region_boundaries);
	TEST(refusals);
	TEST(dirty_at_unmap_for_written_bytes);
	TEST(leftovers_unmapped_at_free);
	TEST(overwritten_mappings_cleaned_up);
	TEST(device_maps_then_writes_in_timer);
	TEST(device_leftovers_at_reset_and_destroy);
	return unit_failed_total ? 1 : 0;
}
