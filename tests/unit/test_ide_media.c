/*
 * The IDE controller's ATAPI drive changing media at run time, driven the
 * way a guest driver does (PACKET commands through the secondary channel's
 * task file) around the core's hot-plug calls: the medium goes (NOT READY,
 * 3A/00), a disk that is not a CD is refused, a new one comes (UNIT
 * ATTENTION 28/00, then ready with the new capacity).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "check.h"
#include "hotplug.h"
#include "pc/pc.h"
#include "unit.h"
#include "vmharness.h"

#define CMD 0x170 /* secondary channel: data, error/feature ... command */
#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_BSY 0x80

static char tmpdir[64];

static uint8_t inb(struct harness *h, uint16_t port)
{
	uint64_t v = 0;

	vm_pio(&h->vm, port, 1, 0, &v);
	return (uint8_t)v;
}

static void outb(struct harness *h, uint16_t port, uint8_t val)
{
	uint64_t v = val;

	vm_pio(&h->vm, port, 1, 1, &v);
}

/*
 * One PACKET command with no disk I/O (the MMC unit answers those inside
 * the call): returns the final status, the error register in *err and up
 * to len bytes of data-in in buf.
 */
static uint8_t packet(struct harness *h, const uint8_t cdb[12], uint8_t *err,
		      uint8_t *buf, unsigned len)
{
	uint8_t st;
	unsigned got = 0;

	outb(h, CMD + 6, 0xa0); /* master */
	outb(h, CMD + 1, 0);    /* PIO */
	outb(h, CMD + 4, 0x00); /* byte count limit 0x800 */
	outb(h, CMD + 5, 0x08);
	outb(h, CMD + 7, 0xa0); /* PACKET */
	st = inb(h, CMD + 7);
	if (!(st & ST_DRQ))
		return 0xff;
	for (int i = 0; i < 12; i += 2) {
		uint64_t w = cdb[i] | cdb[i + 1] << 8;
		vm_pio(&h->vm, CMD, 2, 1, &w);
	}
	for (int spins = 0; spins < 1000; spins++) {
		st = inb(h, CMD + 7);
		if (st & ST_BSY)
			continue;
		if (!(st & ST_DRQ))
			break;
		uint64_t w = 0;
		vm_pio(&h->vm, CMD, 2, 0, &w);
		if (got + 1 < len) {
			buf[got] = (uint8_t)w;
			buf[got + 1] = (uint8_t)(w >> 8);
		}
		got += 2;
	}
	*err = inb(h, CMD + 1);
	return st;
}

static const uint8_t tur[12] = { 0x00 };
static const uint8_t sense[12] = { 0x03, 0, 0, 0, 18 };
static const uint8_t capacity[12] = { 0x25 };

/* The sense key of TEST UNIT READY: 0 ready, else the key (and the ASC
 * REQUEST SENSE then returns in *asc). */
static int tur_key(struct harness *h, uint8_t *asc)
{
	uint8_t err, st, s[18] = { 0 };

	st = packet(h, tur, &err, NULL, 0);
	if (st == 0xff)
		return -1;
	if (!(st & ST_ERR))
		return 0;
	packet(h, sense, &err, s, sizeof(s));
	*asc = s[12];
	return s[2] & 0xf;
}

static uint32_t blocks(struct harness *h)
{
	uint8_t err, c[8] = { 0 };

	if (packet(h, capacity, &err, c, sizeof(c)) & ST_ERR)
		return 0;
	return ((uint32_t)c[0] << 24 | c[1] << 16 | c[2] << 8 | c[3]) + 1;
}

static void make_file(const char *name, off_t size)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd >= 0) {
		if (ftruncate(fd, size)) {
		}
		close(fd);
	}
}

static void media_change(void)
{
	struct harness h;
	struct instance *ide;
	char ini[1024];
	const char *e;
	uint8_t asc = 0;
	int key;

	make_file("a.iso", 2048 * 100);
	make_file("b.iso", 2048 * 300);
	make_file("hd.raw", 1 << 20);
	snprintf(ini, sizeof(ini),
		 "[vm]\nkernel = /bin/sh\n"
		 "[disk cd1]\npath = %s/a.iso\nformat = raw\nmedia = cdrom\n"
		 "[disk cd2]\npath = %s/b.iso\nformat = raw\nmedia = cdrom\n"
		 "[disk hd]\npath = %s/hd.raw\nformat = raw\n"
		 "[device ide0]\nplugin = ide\nsecondary_master = cd1\n",
		 tmpdir, tmpdir, tmpdir);
	unit_capture_begin();
	harness_load(&h, 1, NULL);
	harness_build(&h, ini, &accel_kvm);
	h.ok = h.ok && vm_reset_devices(&h.vm) == 0 && pc_power_on(&h.vm) == 0;
	e = unit_capture_end();
	CHECK(h.ok);
	if (!h.ok) {
		printf("# the VM did not come up: %s\n", e);
		vm_down(&h);
		return;
	}
	ide = find(&h, "ide0");
	CHECK(ide != NULL);
	/* power-on unit attention, then ready with the first medium */
	key = tur_key(&h, &asc);
	CHECK(key == 6 && asc == 0x29);
	CHECK(tur_key(&h, &asc) == 0);
	CHECK(blocks(&h) == 100);

	/* the tray empties */
	CHECK(hotplug_detach(ide, "secondary_master") == 0);
	key = tur_key(&h, &asc);
	CHECK(key == 2 && asc == 0x3a);

	/* a disk that is not a CD/DVD is refused, in one line */
	unit_capture_begin();
	CHECK(hotplug_attach(ide, "secondary_master", "hd") != 0);
	e = unit_capture_end();
	CHECK_CONTAINS(e, "not a CD/DVD medium");
	key = tur_key(&h, &asc);
	CHECK(key == 2 && asc == 0x3a);

	/* a new medium: unit attention 28/00, then its capacity */
	CHECK(hotplug_attach(ide, "secondary_master", "cd2") == 0);
	key = tur_key(&h, &asc);
	CHECK(key == 6 && asc == 0x28);
	CHECK(tur_key(&h, &asc) == 0);
	CHECK(blocks(&h) == 300);
	vm_down(&h);
}

/* An ATA disk is not hot-swapped: the controller refuses. */
static void ata_disk_fixed(void)
{
	struct harness h;
	char ini[512];
	const char *e;

	make_file("d.raw", 1 << 20);
	make_file("e.raw", 1 << 20);
	snprintf(ini, sizeof(ini),
		 "[vm]\nkernel = /bin/sh\n"
		 "[disk d]\npath = %s/d.raw\n[disk e]\npath = %s/e.raw\n"
		 "[device ide0]\nplugin = ide\nprimary_master = d\n",
		 tmpdir, tmpdir);
	unit_capture_begin();
	harness_load(&h, 1, NULL);
	harness_build(&h, ini, &accel_kvm);
	h.ok = h.ok && vm_reset_devices(&h.vm) == 0;
	e = unit_capture_end();
	CHECK(h.ok);
	if (h.ok) {
		struct instance *ide = find(&h, "ide0");

		unit_capture_begin();
		CHECK(hotplug_attach(ide, "primary_slave", "e") != 0);
		e = unit_capture_end();
		CHECK_CONTAINS(e, "only a CD-ROM drive");
	} else {
		printf("# the VM did not come up: %s\n", e);
	}
	vm_down(&h);
}

int main(void)
{
	char cmd[128];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hv-idemedia-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	TEST(media_change);
	TEST(ata_disk_fixed);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd)) {
	}
	return unit_failed_total ? 1 : 0;
}
