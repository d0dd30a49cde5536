/*
 * libhv-virtio and virtio-blk in a VM without a guest OS (the real core,
 * its PCI, hv_dma and disk I/O; the test is the driver): crafted rings in
 * guest RAM, register accesses through the bus, completions through the
 * event loop. Capabilities, feature refusal, several requests in flight
 * landing in the image file, ISR read-to-clear and NO_INTERRUPT, EVENT_IDX
 * suppression and avail_event, a driver reset with I/O in flight (status
 * stays non-zero until it completes; the stale completion never reaches
 * the ring), rings outside RAM refused with NEEDS_RESET, save/restore.
 */
#include <fcntl.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include <hv/hv.h>
#include "instance.h"
#include "loop.h"
#include "mem.h"
#include "pc/pc.h"
#include "pc/pci.h"
#include "plugin.h"
#include "state.h"
#include "unit.h"
#include "vmharness.h"
#include "vm.h"

#define BDF (3 << 3)
#define QS 16
#define DESC 0x100000ull
#define AVAIL 0x101000ull
#define USED 0x102000ull
#define HDR 0x103000ull  /* 16 headers, 32 bytes apart */
#define STAT 0x104000ull /* 16 status bytes */
#define BUF 0x110000ull  /* 16 buffers of 4 KiB */
#define F_EVENT_IDX (1u << 29)

static char img[64] = "/tmp/hv-test-virtio-XXXXXX";
static uint64_t bar; /* BAR4 */
static uint16_t avail_idx;

static const char *vm_up(struct harness *h)
{
	char ini[512];

	snprintf(ini, sizeof(ini),
		 "[vm]\nkernel = /bin/sh\nmemory = 64M\n[disk d]\npath = %s\nformat = raw\n"
		 "[device vb]\nplugin = virtio-blk\ndisk = d\nqueues = 1\nqueue_size = %d\n"
		 "pci_slot = 3\n", img, QS);
	unit_capture_begin();
	harness_load(h, 1, NULL);
	harness_build(h, ini, &accel_kvm);
	if (h->ok) {
		vm_reset_devices(&h->vm);
		h->ok = pc_power_on(&h->vm) == 0;
	}
	if (h->ok) {
		pci_cfg_write(h->vm.pci, BDF, 0x20, 4, 0xc2000000);
		pci_cfg_write(h->vm.pci, BDF, 0x24, 4, 0);
		pci_cfg_write(h->vm.pci, BDF, 4, 2, 6); /* memory, bus master */
		bar = 0xc2000000;
	}
	avail_idx = 0;
	return unit_capture_end();
}

static uint64_t rd(struct harness *h, uint64_t off, unsigned size)
{
	uint64_t v = 0;

	return vm_mmio(&h->vm, bar + off, size, 0, &v) ? ~0ull : v;
}

static void wr(struct harness *h, uint64_t off, unsigned size, uint64_t v)
{
	vm_mmio(&h->vm, bar + off, size, 1, &v);
}

static void put(struct harness *h, uint64_t gpa, const void *p, size_t n)
{
	CHECK(mem_write(&h->vm.mem, gpa, p, n) == 0);
}

static uint64_t get(struct harness *h, uint64_t gpa, unsigned n)
{
	uint64_t v = 0;

	CHECK(mem_read(&h->vm.mem, gpa, &v, n) == 0);
	return v;
}

/* Reset, negotiate VERSION_1 + feat, set up queue 0 at DESC/AVAIL/USED. */
static int driver_init(struct harness *h, uint32_t feat)
{
	static const uint8_t zero[3 * 4096];

	wr(h, 0x14, 1, 0);
	wr(h, 0x14, 1, 3);
	wr(h, 0x08, 4, 0);
	wr(h, 0x0c, 4, feat);
	wr(h, 0x08, 4, 1);
	wr(h, 0x0c, 4, 1);
	wr(h, 0x14, 1, 0xb);
	if (!(rd(h, 0x14, 1) & 8))
		return -1;
	put(h, DESC, zero, sizeof(zero));
	wr(h, 0x16, 2, 0);
	wr(h, 0x18, 2, QS);
	wr(h, 0x20, 4, DESC);
	wr(h, 0x28, 4, AVAIL);
	wr(h, 0x30, 4, USED);
	wr(h, 0x1c, 2, 1);
	wr(h, 0x14, 1, 0xf);
	avail_idx = 0;
	return rd(h, 0x1c, 2) == 1 ? 0 : -1;
}

static void desc(struct harness *h, unsigned i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	uint8_t d[16];

	memcpy(d, &addr, 8), memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2), memcpy(d + 14, &next, 2);
	put(h, DESC + 16 * i, d, 16);
}

/* Request r (descs 3r .. 3r+2): type, sector, 4 KiB of BUF + r*4096. */
static void request(struct harness *h, unsigned r, uint32_t type, uint64_t sector)
{
	uint32_t hd[4] = { type, 0, (uint32_t)sector, (uint32_t)(sector >> 32) };
	uint16_t head = (uint16_t)(3 * r);

	put(h, HDR + 32 * r, hd, 16);
	put(h, STAT + r, "\xee", 1);
	desc(h, head, HDR + 32 * r, 16, 1, head + 1);
	desc(h, head + 1, BUF + 4096 * r, 4096, 1 | (type == 0 ? 2 : 0), head + 2);
	desc(h, head + 2, STAT + r, 1, 2, 0);
	put(h, AVAIL + 4 + 2 * (avail_idx % QS), &head, 2);
	avail_idx++;
	put(h, AVAIL + 2, &avail_idx, 2);
}

static int wait_used(struct harness *h, uint16_t n)
{
	for (int i = 0; i < 300 && get(h, USED + 2, 2) != n; i++)
		loop_once(h->vm.loop, 10);
	return get(h, USED + 2, 2) == n;
}

static void capabilities(void)
{
	struct harness h;
	unsigned seen = 0, mult = 0;

	vm_up(&h);
	CHECK(h.ok);
	if (!h.ok)
		goto out;
	CHECK(pci_cfg_read(h.vm.pci, BDF, 0, 4) == 0x10421af4);
	CHECK((pci_cfg_read(h.vm.pci, BDF, 8, 4) & 0xff) == 1); /* revision 1 */
	for (unsigned c = pci_cfg_read(h.vm.pci, BDF, 0x34, 1), n = 0; c && n < 16; n++) {
		uint32_t w = pci_cfg_read(h.vm.pci, BDF, c, 4);

		if ((w & 0xff) == 9) {
			seen |= 1u << ((w >> 24) & 7);
			if ((w >> 24) != 5)
				CHECK(pci_cfg_read(h.vm.pci, BDF, c + 4, 1) == 4);
			if ((w >> 24) == 2)
				mult = pci_cfg_read(h.vm.pci, BDF, c + 16, 4);
		}
		c = (w >> 8) & 0xfc;
	}
	CHECK(seen == 0x3e); /* common, notify, ISR, device, PCI cfg window */
	CHECK(mult == 4);
	CHECK(rd(&h, 0x12, 2) == 1); /* num_queues */
	wr(&h, 0x04 - 4, 4, 1);
	CHECK(rd(&h, 0x04, 4) & 1); /* VERSION_1 */
	/* a driver without VERSION_1 is refused FEATURES_OK */
	unit_capture_begin();
	wr(&h, 0x14, 1, 0);
	wr(&h, 0x14, 1, 3);
	wr(&h, 0x08, 4, 1);
	wr(&h, 0x0c, 4, 0);
	wr(&h, 0x14, 1, 0xb);
	CHECK_CONTAINS(unit_capture_end(), "legacy driver");
	CHECK(rd(&h, 0x14, 1) == 3);
	CHECK(rd(&h, 0x2000, 4) == 2048); /* capacity of the 1 MiB image */
out:
	vm_down(&h);
}

static void requests_in_flight(void)
{
	struct harness h;
	uint8_t buf[4096], back[4096];
	int fd;

	vm_up(&h);
	CHECK(h.ok && driver_init(&h, 0) == 0);
	if (!h.ok)
		goto out;
	for (unsigned r = 0; r < 4; r++) {
		memset(buf, 'A' + r, sizeof(buf));
		put(&h, BUF + 4096 * r, buf, sizeof(buf));
		request(&h, r, 1, 8 * r + 8);
	}
	wr(&h, 0x3000, 2, 0); /* one notify, four requests */
	CHECK(wait_used(&h, 4));
	for (unsigned r = 0; r < 4; r++)
		CHECK(get(&h, STAT + r, 1) == 0);
	CHECK(rd(&h, 0x1000, 1) == 1); /* ISR: queue interrupt ... */
	CHECK(rd(&h, 0x1000, 1) == 0); /* ... read-to-clear */
	fd = open(img, O_RDONLY);
	for (unsigned r = 0; r < 4; r++) {
		memset(buf, 'A' + r, sizeof(buf));
		CHECK(pread(fd, back, 4096, 4096 * (r + 1)) == 4096 && !memcmp(buf, back, 4096));
	}
	close(fd);
	/* read them back in reverse slots, NO_INTERRUPT set: ISR stays 0 */
	put(&h, AVAIL, "\1\0", 2);
	for (unsigned r = 0; r < 4; r++)
		request(&h, r, 0, 8 * (3 - r) + 8);
	wr(&h, 0x3000, 2, 0);
	CHECK(wait_used(&h, 8));
	CHECK(rd(&h, 0x1000, 1) == 0);
	for (unsigned r = 0; r < 4; r++) {
		memset(buf, 'A' + 3 - r, sizeof(buf));
		CHECK(mem_read(&h.vm.mem, BUF + 4096 * r, back, 4096) == 0 &&
		      !memcmp(buf, back, 4096));
		CHECK(get(&h, USED + 4 + 8 * (4 + r) + 4, 4) == 4097); /* data + status */
	}
	/* past the end: IOERR without touching the disk */
	request(&h, 0, 0, 2048);
	wr(&h, 0x3000, 2, 0);
	CHECK(wait_used(&h, 9) && get(&h, STAT, 1) == 1);
out:
	vm_down(&h);
}

static void event_idx(void)
{
	struct harness h;
	uint16_t ev;

	vm_up(&h);
	CHECK(h.ok && driver_init(&h, F_EVENT_IDX) == 0);
	if (!h.ok)
		goto out;
	ev = 1; /* interrupt once used idx passes 1: not for the first */
	put(&h, AVAIL + 4 + 2 * QS, &ev, 2);
	request(&h, 0, 0, 0);
	wr(&h, 0x3000, 2, 0);
	CHECK(wait_used(&h, 1));
	CHECK(rd(&h, 0x1000, 1) == 0);
	CHECK(get(&h, USED + 4 + 8 * QS, 2) == 1); /* avail_event: popped 1 */
	request(&h, 1, 0, 0);
	wr(&h, 0x3000, 2, 0);
	CHECK(wait_used(&h, 2));
	CHECK(rd(&h, 0x1000, 1) == 1);
out:
	vm_down(&h);
}

static void reset_with_io_in_flight(void)
{
	struct harness h;

	vm_up(&h);
	CHECK(h.ok && driver_init(&h, 0) == 0);
	if (!h.ok)
		goto out;
	request(&h, 0, 0, 0);
	wr(&h, 0x3000, 2, 0);
	/* virtio-blk takes notifies on the main thread (HV_VIRTIO_NOTIFY_MAIN):
	 * one round serves it (the kick's eventfd is ready before epoll_wait;
	 * the completion can only be ready in a later round) */
	loop_once(h.vm.loop, 1000); /* submitted; its completion is queued */
	wr(&h, 0x14, 1, 0);
	CHECK(rd(&h, 0x14, 1) != 0); /* the driver must wait */
	for (int i = 0; i < 300 && rd(&h, 0x14, 1); i++)
		loop_once(h.vm.loop, 10);
	CHECK(rd(&h, 0x14, 1) == 0);
	CHECK(get(&h, USED + 2, 2) == 0); /* the stale push never reached it */
	CHECK(rd(&h, 0x1c, 2) == 0);      /* queue disabled */
	/* and the device works again */
	CHECK(driver_init(&h, 0) == 0);
	request(&h, 0, 0, 0);
	wr(&h, 0x3000, 2, 0);
	CHECK(wait_used(&h, 1) && get(&h, STAT, 1) == 0);
out:
	vm_down(&h);
}

static void rings_outside_ram(void)
{
	struct harness h;

	vm_up(&h);
	CHECK(h.ok);
	if (!h.ok)
		goto out;
	unit_capture_begin();
	wr(&h, 0x14, 1, 0);
	wr(&h, 0x14, 1, 3);
	wr(&h, 0x08, 4, 1);
	wr(&h, 0x0c, 4, 1);
	wr(&h, 0x14, 1, 0xb);
	wr(&h, 0x16, 2, 0);
	wr(&h, 0x18, 2, QS);
	wr(&h, 0x20, 4, 0xfff0000); /* 256 MiB: past the 64 MiB of RAM */
	wr(&h, 0x28, 4, AVAIL);
	wr(&h, 0x30, 4, USED);
	wr(&h, 0x1c, 2, 1);
	CHECK_CONTAINS(unit_capture_end(), "is not guest RAM: device needs reset");
	CHECK(rd(&h, 0x1c, 2) == 0);
	CHECK(rd(&h, 0x14, 1) & 0x40);
	wr(&h, 0x18, 2, 12); /* not a power of two */
	CHECK(rd(&h, 0x18, 2) == 12 && rd(&h, 0x1c, 2) == 0);
out:
	vm_down(&h);
}

/* Save mid-life, lose it all in a reset, restore: the queue goes on from
 * the saved indices, and the kick after restore takes a buffer the driver
 * offered before the snapshot without notifying. */
static void save_restore(void)
{
	struct harness h;
	struct hv_state st = { 0 };
	struct instance *in;

	vm_up(&h);
	CHECK(h.ok && driver_init(&h, 0) == 0);
	in = find(&h, "vb");
	CHECK(in != NULL);
	if (!h.ok || !in)
		goto out;
	request(&h, 0, 0, 0);
	request(&h, 1, 0, 8);
	wr(&h, 0x3000, 2, 0);
	CHECK(wait_used(&h, 2));
	request(&h, 2, 0, 16); /* offered, not notified */
	CHECK(instance_save(in, &st) == 0 && st.len > 0);
	in->plugin->ops.device.reset(&in->ctx);
	CHECK(rd(&h, 0x14, 1) == 0 && rd(&h, 0x1c, 2) == 0);
	CHECK(instance_restore(in, &st) == 0);
	CHECK(rd(&h, 0x14, 1) == 0xf && rd(&h, 0x1c, 2) == 1);
	CHECK(wait_used(&h, 3) && get(&h, STAT + 2, 1) == 0);
	request(&h, 3, 0, 24);
	wr(&h, 0x3000, 2, 0);
	CHECK(wait_used(&h, 4) && get(&h, STAT + 3, 1) == 0);
	st.pos = 0;
	st.len = 3;
	CHECK(instance_restore(in, &st) != 0); /* truncated */
	state_free(&st);
out:
	vm_down(&h);
}

int main(void)
{
	int fd = mkstemp(img);

	if (fd < 0 || ftruncate(fd, 1 << 20)) {
		printf("not ok virtio - cannot create %s\n", img);
		return 1;
	}
	close(fd);
	TEST(capabilities);
	TEST(requests_in_flight);
	TEST(event_idx);
	TEST(reset_with_io_in_flight);
	TEST(rings_outside_ram);
	TEST(save_restore);
	unlink(img);
	return unit_failed_total != 0;
}
