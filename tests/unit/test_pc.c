/*
 * machine = pc without vCPUs: the PCI host bridge through both access
 * mechanisms, BAR sizing, firmware placement, relocation and hostile
 * placements, MSI/MSI-X capability layout, the ACPI tables (checksums,
 * contents that follow the config), the PM block's S5 power-off, the reset
 * lines, the CMOS clock, and hv check's implicit devices.
 */
#include <errno.h>
#include <time.h>

#include "check.h"
#include "config.h"
#include "instance.h"
#include "pc/pc.h"
#include "pc/pci.h"
#include "plugin.h"
#include "services.h"
#include "unit.h"
#include "vmharness.h"
#include "vm.h"

static const char *vm_up(struct harness *h, const char *ini)
{
	static const char *const fixtures[] = { "pci_test", NULL };

	unit_capture_begin();
	harness_load(h, 1, fixtures);
	harness_build(h, ini, &accel_kvm);
	if (h->ok) {
		vm_reset_devices(&h->vm);
		h->ok = pc_power_on(&h->vm) == 0;
	}
	return unit_capture_end();
}

static uint32_t pio(struct harness *h, uint16_t port, unsigned size)
{
	uint64_t v = 0;
	vm_pio(&h->vm, port, size, 0, &v);
	return (uint32_t)v;
}

static void pio_w(struct harness *h, uint16_t port, unsigned size, uint32_t val)
{
	uint64_t v = val;
	vm_pio(&h->vm, port, size, 1, &v);
}

static uint64_t mmio(struct harness *h, uint64_t a, unsigned size)
{
	uint64_t v = 0;
	vm_mmio(&h->vm, a, size, 0, &v);
	return v;
}

static void mmio_w(struct harness *h, uint64_t a, unsigned size, uint64_t val)
{
	vm_mmio(&h->vm, a, size, 1, &val);
}

/* mechanism #1 */
static uint32_t cfg1(struct harness *h, unsigned dev, unsigned reg, unsigned size)
{
	pio_w(h, 0xcf8, 4, 0x80000000u | dev << 11 | (reg & 0xfc));
	return pio(h, (uint16_t)(0xcfc + (reg & 3)), size);
}

static void cfg1_w(struct harness *h, unsigned dev, unsigned reg, unsigned size, uint32_t v)
{
	pio_w(h, 0xcf8, 4, 0x80000000u | dev << 11 | (reg & 0xfc));
	pio_w(h, (uint16_t)(0xcfc + (reg & 3)), size, v);
}

static uint64_t ecam(unsigned bus, unsigned dev, unsigned reg)
{
	return PC_ECAM + ((uint64_t)bus << 20) + (dev << 15) + reg;
}

#define HEAD "[vm]\nkernel = /bin/sh\n"
#define PCIDEV "[device t]\nplugin = pci-test\n"

static void host_bridge_both_mechanisms(void)
{
	struct harness h;

	vm_up(&h, HEAD);
	CHECK(h.ok);
	CHECK(cfg1(&h, 0, 0, 4) == 0x00081b36);
	CHECK(cfg1(&h, 0, 2, 2) == 0x0008);
	CHECK(cfg1(&h, 0, 0xb, 1) == 0x06);            /* class: bridge */
	CHECK(mmio(&h, ecam(0, 0, 0), 4) == 0x00081b36);
	CHECK(mmio(&h, ecam(0, 0, 0xa), 2) == 0x0600);
	CHECK(cfg1(&h, 5, 0, 4) == 0xffffffff);        /* empty slot */
	CHECK(mmio(&h, ecam(1, 0, 0), 4) == 0xffffffff); /* no bus 1 */
	CHECK(mmio(&h, ecam(0, 0, 0x100), 4) == 0);    /* no extended caps */
	pio_w(&h, 0xcf8, 4, 0x00000000);               /* enable bit clear */
	CHECK(pio(&h, 0xcfc, 4) == 0xffffffff);
	cfg1_w(&h, 0, 4, 2, 0xffff);                   /* bridge is read-only */
	CHECK(cfg1(&h, 0, 4, 2) == 0);
	/* Linux's probe: outb(1, 0xcfb), then the address register round-trips */
	pio_w(&h, 0xcfb, 1, 1);
	pio_w(&h, 0xcf8, 4, 0x80000000u);
	CHECK(pio(&h, 0xcf8, 4) == 0x80000000u);
	vm_down(&h);
}

static void bar_sizing_and_placement(void)
{
	struct harness h;

	vm_up(&h, HEAD PCIDEV);
	CHECK(h.ok);
	CHECK(cfg1(&h, 1, 0, 4) == 0x56781234);        /* first free slot: 1 */
	/* firmware placement: I/O from 0xc000, memory from 0xc0000000 */
	CHECK(cfg1(&h, 1, 0x10, 4) == (PC_PCI_IO | 1));
	CHECK(cfg1(&h, 1, 4, 2) == (HV_PCI_CMD_IO | HV_PCI_CMD_MEMORY));
	CHECK(pio(&h, PC_PCI_IO + 4, 4) == 0xa5000004);
	uint32_t b1 = cfg1(&h, 1, 0x14, 4);
	CHECK(b1 >= PC_PCI_MEM32 && b1 < PC_PCI_MEM32_END && (b1 & 0xfff) == 0);
	CHECK(mmio(&h, b1 + 8, 4) == 0xa5010008);
	/* sizing */
	cfg1_w(&h, 1, 0x10, 4, 0xffffffff);
	CHECK(cfg1(&h, 1, 0x10, 4) == 0xffffffe1);
	cfg1_w(&h, 1, 0x14, 4, 0xffffffff);
	CHECK(cfg1(&h, 1, 0x14, 4) == 0xfffff000);
	cfg1_w(&h, 1, 0x18, 4, 0xffffffff);
	cfg1_w(&h, 1, 0x1c, 4, 0xffffffff);
	CHECK(cfg1(&h, 1, 0x18, 4) == 0xfff0000c);     /* 64-bit, prefetchable */
	CHECK(cfg1(&h, 1, 0x1c, 4) == 0xffffffff);
	CHECK(mmio(&h, b1 + 8, 4) == 0xffffffff);      /* sized away: gone */
	CHECK(cfg1(&h, 1, 0x24, 4) == 0);              /* unused BAR */
	/* relocation */
	cfg1_w(&h, 1, 0x14, 4, 0xd0000000);
	CHECK(mmio(&h, 0xd0000010, 4) == 0xa5010010);
	mmio_w(&h, 0xd0000010, 4, 77);
	CHECK(((struct pt { void *d; uint64_t last[3]; } *)
	       h.vm.instances->ctx.state)->last[1] == 77);
	cfg1_w(&h, 1, 0x18, 4, 0x00000000);
	cfg1_w(&h, 1, 0x1c, 4, 0x00000010);            /* BAR2 at 64 GiB */
	CHECK(mmio(&h, 0x1000000000ull + 0x20, 4) == 0xa5020020);
	/* decoding off: nothing answers */
	cfg1_w(&h, 1, 4, 2, HV_PCI_CMD_IO);
	CHECK(mmio(&h, 0xd0000010, 4) == 0xffffffff);
	cfg1_w(&h, 1, 4, 2, HV_PCI_CMD_IO | HV_PCI_CMD_MEMORY);
	CHECK(mmio(&h, 0xd0000010, 4) == 0xa5010010);
	vm_down(&h);
}

/* A 64-bit BAR too big for the 32-bit window: placed above RAM, in the
 * DSDT's 64-bit window, and decoding; the guest may move it elsewhere
 * above 4 GiB but not over RAM. */
static void bar64_above_4g(void)
{
	struct harness h;
	uint64_t a, win;

	vm_up(&h, "[vm]\nkernel = /bin/sh\nmemory = 5G\n"
		  "[device t]\nplugin = pci-testdev\nbar2_size = 1G\n");
	CHECK(h.ok);
	win = pc_pci_mem64(&h.vm);
	CHECK(win == 6ull << 30);                       /* RAM ends at 6 GiB */
	a = (cfg1(&h, 1, 0x18, 4) & ~0xfull) | (uint64_t)cfg1(&h, 1, 0x1c, 4) << 32;
	CHECK(a == win);
	CHECK(mmio(&h, a + 0x7000, 4) == 0x7e57de00);   /* the register file */
	CHECK(cfg1(&h, 1, 0x10, 4) >= PC_PCI_MEM32);    /* BAR0 stays low */
	/* moved up by 64 GiB: decodes there, not at the old place */
	cfg1_w(&h, 1, 0x1c, 4, (uint32_t)(a >> 32) + 16);
	CHECK(mmio(&h, a + (64ull << 30) + 0x1000, 4) == 0x7e57de00);
	CHECK(mmio(&h, a, 4) == 0xffffffff);
	/* onto the RAM above 4 GiB: refused, RAM unchanged */
	cfg1_w(&h, 1, 0x18, 4, 0);
	cfg1_w(&h, 1, 0x1c, 4, 1);
	CHECK(mmio(&h, a + (64ull << 30) + 0x1000, 4) == 0xffffffff);
	uint64_t v = 0;
	CHECK(vm_mmio(&h.vm, 1ull << 32, 4, 0, &v) == -ENOENT);
	mmio_w(&h, 1ull << 32, 4, 0x12345678);
	CHECK(*(uint32_t *)mem_ptr(&h.vm.mem, 1ull << 32, 4, 0) == 0);
	vm_down(&h);
}

static void hostile_bars_and_registers(void)
{
	struct harness h;
	uint32_t ram = 0x12345678, got = 0;

	vm_up(&h, HEAD PCIDEV);
	CHECK(h.ok);
	mem_write(&h.vm.mem, 0x100000, &ram, 4);
	cfg1_w(&h, 1, 0x14, 4, 0x00100000);             /* over RAM */
	mmio_w(&h, 0x100000, 4, 0);                     /* no region there */
	mem_read(&h.vm.mem, 0x100000, &got, 4);
	CHECK(got == ram);
	cfg1_w(&h, 1, 0x14, 4, (uint32_t)PC_ECAM);      /* over ECAM: refused */
	CHECK(mmio(&h, ecam(0, 0, 0), 4) == 0x00081b36);
	cfg1_w(&h, 1, 0x10, 4, 0xfff0);                 /* I/O over 0xcf8? no: */
	cfg1_w(&h, 1, 0x10, 4, 0x0cf0);                 /* collides: parked */
	CHECK(cfg1(&h, 0, 0, 4) == 0x00081b36);
	for (unsigned reg = 0; reg < 0x1000; reg += 4)  /* nothing breaks */
		mmio_w(&h, ecam(0, 1, reg), 4, 0xffffffff);
	for (unsigned reg = 0; reg < 0x1000; reg++)
		(void)mmio(&h, ecam(0, 1, reg), 1);
	CHECK(mmio(&h, ecam(0, 1, 0), 4) == 0x56781234); /* IDs read-only */
	CHECK(mmio(&h, ecam(0, 1, 1), 2) == 0xffff);     /* misaligned */
	mmio_w(&h, ecam(255, 31, 0xffc), 4, 1);
	vm_down(&h);
}

static void capabilities_msi_msix(void)
{
	struct harness h;

	vm_up(&h, HEAD "[device t]\nplugin = pci-test\npci_slot = 7\n");
	CHECK(h.ok);
	CHECK(cfg1(&h, 7, 6, 2) & 0x10);                /* capability list */
	CHECK(cfg1(&h, 7, 0x34, 1) == 0x40);
	CHECK(cfg1(&h, 7, 0x40, 1) == 0x05);            /* MSI */
	CHECK(cfg1(&h, 7, 0x41, 1) == 0x50);
	CHECK((cfg1(&h, 7, 0x42, 2) & 0x8e) == 0x84);   /* 64-bit, 4 vectors */
	cfg1_w(&h, 7, 0x42, 2, 0x71);                   /* asks 8: clamped */
	CHECK(((cfg1(&h, 7, 0x42, 2) >> 4) & 7) == 2);
	CHECK(cfg1(&h, 7, 0x50, 1) == 0x11);            /* MSI-X */
	CHECK((cfg1(&h, 7, 0x52, 2) & 0x7ff) == 7);
	CHECK((cfg1(&h, 7, 0x54, 4) & 7) == 4);         /* table in BAR4 */
	CHECK(cfg1(&h, 7, 0x3d, 1) == 1);               /* INTA# */
	CHECK(cfg1(&h, 7, 0x3c, 1) == pci_gsi(7, 1));
	cfg1_w(&h, 7, 0x60, 4, 0xcafe);                 /* device space */
	CHECK(cfg1(&h, 7, 0x60, 4) == 0xcafe);
	uint32_t b4 = cfg1(&h, 7, 0x20, 4) & ~0xfu;
	CHECK(b4 >= PC_PCI_MEM32);
	CHECK(mmio(&h, b4 + 12, 4) == 1);               /* masked at reset */
	mmio_w(&h, b4 + 16 + 8, 4, 0x4041);             /* entry 1 data */
	CHECK(mmio(&h, b4 + 16 + 8, 4) == 0x4041);
	mmio_w(&h, b4 + 16 * 8 + 0x10000, 4, 5);        /* outside: ignored */
	vm_down(&h);
}

static void slot_errors(void)
{
	struct harness h;
	const char *e;

	e = vm_up(&h, HEAD "[device a]\nplugin = pci-test\npci_slot = 3\n"
			   "[device b]\nplugin = pci-test\npci_slot = 3\n");
	CHECK(!h.ok);
	CHECK(!strcmp(e, "t.ini:8: [device b]: pci_slot = 3 is taken by [device a]\n"));
	vm_down(&h);
	e = vm_up(&h, HEAD "[device x]\nplugin = debug-exit\npci_slot = 3\n");
	CHECK(!h.ok);
	CHECK_CONTAINS(e, "pci_slot = 3, but plugin debug-exit is not a PCI device");
	vm_down(&h);
	e = vm_up(&h, HEAD "machine = none\n" PCIDEV);
	CHECK(!h.ok);
	CHECK_CONTAINS(e, "a PCI device needs machine = pc");
	vm_down(&h);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return s;
}

static const uint8_t *table(struct harness *h, const char *sig)
{
	const uint8_t *rsdp = mem_ptr(&h->vm.mem, PC_ACPI_BASE, 36, 0), *x;
	uint64_t xsdt;
	uint32_t len;

	memcpy(&xsdt, rsdp + 24, 8);
	x = mem_ptr(&h->vm.mem, xsdt, 36, 0);
	memcpy(&len, x + 4, 4);
	x = mem_ptr(&h->vm.mem, xsdt, len, 0);
	for (uint32_t off = 36; off + 8 <= len; off += 8) {
		uint64_t a;
		const uint8_t *t;
		memcpy(&a, x + off, 8);
		t = mem_ptr(&h->vm.mem, a, 36, 0);
		if (t && !memcmp(t, sig, 4)) {
			memcpy(&len, t + 4, 4);
			return mem_ptr(&h->vm.mem, a, len, 0);
		}
	}
	return NULL;
}

static void acpi_tables(void)
{
	struct harness h;
	const uint8_t *rsdp, *madt, *fadt, *mcfg, *dsdt;
	uint32_t len, u32;
	uint64_t u64;
	int cpus = 0, ioapic = 0, iso9 = 0;

	vm_up(&h, "[vm]\nkernel = /bin/sh\ncpus = 5\n");
	CHECK(h.ok);
	rsdp = mem_ptr(&h.vm.mem, PC_ACPI_BASE, 36, 0);
	CHECK(!memcmp(rsdp, "RSD PTR ", 8) && rsdp[15] == 2);
	CHECK(sum(rsdp, 20) == 0 && sum(rsdp, 36) == 0);
	CHECK(pc_rsdp(&h.vm) == PC_ACPI_BASE);
	madt = table(&h, "APIC");
	fadt = table(&h, "FACP");
	mcfg = table(&h, "MCFG");
	CHECK(madt && fadt && mcfg);
	if (!madt || !fadt || !mcfg)
		goto out;
	memcpy(&len, madt + 4, 4);
	CHECK(sum(madt, len) == 0);
	for (uint32_t off = 44; off + 2 <= len; off += madt[off + 1]) {
		if (madt[off] == 0 && madt[off + 3] == cpus && madt[off + 4] & 1)
			cpus++;
		ioapic += madt[off] == 1;
		iso9 += madt[off] == 2 && madt[off + 3] == 9;
		if (!madt[off + 1])
			break;
	}
	CHECK(cpus == 5 && ioapic == 1 && iso9 == 1);
	memcpy(&len, fadt + 4, 4);
	CHECK(len == 276 && sum(fadt, len) == 0);
	CHECK(fadt[46] == 9);                               /* SCI */
	memcpy(&u32, fadt + 64, 4);
	CHECK(u32 == PC_PM_BASE + 4);                       /* PM1a_CNT */
	CHECK(fadt[116] == 1 && fadt[128] == 6);            /* reset: I/O, 6 */
	memcpy(&u64, fadt + 120, 8);
	CHECK(u64 == 0xcf9);
	memcpy(&u64, fadt + 140, 8);                        /* X_DSDT */
	dsdt = mem_ptr(&h.vm.mem, u64, 36, 0);
	memcpy(&len, dsdt + 4, 4);
	dsdt = mem_ptr(&h.vm.mem, u64, len, 0);
	CHECK(!memcmp(dsdt, "DSDT", 4) && sum(dsdt, len) == 0);
	/* \_S5_ = Package(4) { 5, 5, 0, 0 } */
	const uint8_t *s5 = memmem(dsdt, len, "\\_S5_\x12", 6);
	CHECK(s5 && s5[7] == 4 && s5[8] == 0x0a && s5[9] == PC_S5_TYPE);
	CHECK(memmem(dsdt, len, "PCI0", 4) && memmem(dsdt, len, "_PRT", 4));
	/* _CRS: the 64-bit window, a QWord memory descriptor from 4 GiB */
	const uint8_t *q = memmem(dsdt, len, "\x8a\x2b\x00\x00\x0c\x03", 6);
	CHECK(q != NULL);
	if (q) {
		memcpy(&u64, q + 14, 8);
		CHECK(u64 == 1ull << 32);
		memcpy(&u64, q + 38, 8);
		CHECK(u64 == PC_PCI_MEM64_SIZE);
	}
	memcpy(&len, mcfg + 4, 4);
	memcpy(&u64, mcfg + 44, 8);
	CHECK(sum(mcfg, len) == 0 && u64 == PC_ECAM && mcfg[55] == 255);
out:
	vm_down(&h);
}

static void e820_map(void)
{
	struct harness h;
	struct e820_entry e[16];
	int n, ecam = 0, acpi = 0;
	uint64_t ram = 0;

	vm_up(&h, "[vm]\nkernel = /bin/sh\nmemory = 3584M\n");
	CHECK(h.ok);
	n = pc_e820(&h.vm, e, 16);
	for (int i = 0; i < n; i++) {
		if (i)
			CHECK(e[i].addr >= e[i - 1].addr + e[i - 1].size);
		ram += e[i].type == E820_RAM ? e[i].size : 0;
		ecam += e[i].type == E820_RESERVED && e[i].addr == PC_ECAM;
		acpi += e[i].type == E820_RESERVED && e[i].addr == PC_ACPI_BASE;
	}
	CHECK(ecam == 1 && acpi == 1);
	CHECK(ram == 3584ull * 1048576 - (0x100000 - PC_EBDA));
	CHECK(e[n - 1].addr == 1ull << 32 && e[n - 1].size == 512ull << 20);
	vm_down(&h);
}

static void pm_poweroff_and_resets(void)
{
	struct harness h;

	vm_up(&h, HEAD);
	CHECK(h.ok);
	CHECK(pio(&h, PC_PM_BASE + 4, 2) & 1);          /* SCI_EN: ACPI mode */
	CHECK(pc_power_button(&h.vm) == -ENODEV);       /* not enabled yet */
	pio_w(&h, PC_PM_BASE + 2, 2, 0x100);            /* PWRBTN_EN */
	CHECK(pc_power_button(&h.vm) == 0);
	CHECK(pio(&h, PC_PM_BASE, 2) & 0x100);
	pio_w(&h, PC_PM_BASE, 2, 0x100);                /* write 1 to clear */
	CHECK(!(pio(&h, PC_PM_BASE, 2) & 0x100));
	uint32_t t1 = pio(&h, PC_PM_BASE + 8, 4);
	struct timespec ts = { 0, 2000000 };
	nanosleep(&ts, NULL);
	CHECK(pio(&h, PC_PM_BASE + 8, 4) - t1 >= 3579545 / 1000);
	pio_w(&h, PC_PM_BASE + 4, 2, 1u << 10 | 1u << 13); /* S1: ignored */
	CHECK(h.vm.exit_reason == VM_EXIT_NONE);
	pio_w(&h, PC_PM_BASE + 4, 2, PC_S5_TYPE << 10 | 1u << 13);
	CHECK(h.vm.exit_reason == VM_EXIT_POWEROFF && h.vm.exit_status == 0);
	vm_down(&h);

	vm_up(&h, HEAD "on_reboot = exit\n");
	pio_w(&h, 0xcf9, 1, 0x02);
	CHECK(h.vm.exit_reason == VM_EXIT_NONE);
	pio_w(&h, 0xcf9, 1, 0x06);                      /* FADT reset register */
	CHECK(h.vm.exit_reason == VM_EXIT_RESET);
	vm_down(&h);
	vm_up(&h, HEAD "on_reboot = exit\n");
	pio_w(&h, 0x64, 1, 0xaa);                       /* i8042 self-test */
	CHECK(pio(&h, 0x64, 1) & 1 && pio(&h, 0x60, 1) == 0x55);
	pio_w(&h, 0x64, 1, 0xfe);                       /* pulse reset */
	CHECK(h.vm.exit_reason == VM_EXIT_RESET);
	vm_down(&h);
}

static int bcd(uint8_t v) { return (v >> 4) * 10 + (v & 15); }

static void cmos_clock(void)
{
	struct harness h;
	time_t now = time(NULL);
	struct tm tm;
	int sec, min, hour, day, mon, year;

	vm_up(&h, HEAD);
	CHECK(h.ok);
	gmtime_r(&now, &tm);
	pio_w(&h, 0x70, 1, 0x0d);
	CHECK(pio(&h, 0x71, 1) == 0x80);
#define RD(r) (pio_w(&h, 0x70, 1, (r)), pio(&h, 0x71, 1))
	sec = bcd(RD(0)), min = bcd(RD(2)), hour = bcd(RD(4));
	day = bcd(RD(7)), mon = bcd(RD(8)), year = bcd(RD(0x32)) * 100 + bcd(RD(9));
	struct tm g = { .tm_sec = sec, .tm_min = min, .tm_hour = hour,
			.tm_mday = day, .tm_mon = mon - 1, .tm_year = year - 1900 };
	CHECK(llabs((long long)(timegm(&g) - now)) <= 2);
	/* the guest sets the clock one hour back, in binary mode */
	pio_w(&h, 0x70, 1, 0x0b), pio_w(&h, 0x71, 1, 0x80 | 0x04 | 0x02);
	pio_w(&h, 0x70, 1, 4);
	uint8_t hr = (uint8_t)pio(&h, 0x71, 1);
	pio_w(&h, 0x71, 1, (uint8_t)((hr + 23) % 24));
	pio_w(&h, 0x70, 1, 0x0b), pio_w(&h, 0x71, 1, 0x04 | 0x02);
	CHECK(RD(4) == (uint8_t)((hr + 23) % 24));
	pio_w(&h, 0x70, 1, 0x8d);                       /* NMI mask bit */
	CHECK(pio(&h, 0x71, 1) == 0x80);
	for (int r = 0; r < 256; r++)                   /* hostile indices */
		pio_w(&h, 0x70, 1, (uint8_t)r), pio_w(&h, 0x71, 1, 0xff);
#undef RD
	vm_down(&h);
}

static unsigned cmos_rd16(struct harness *h, uint8_t r)
{
	unsigned lo;

	pio_w(h, 0x70, 1, r);
	lo = pio(h, 0x71, 1);
	pio_w(h, 0x70, 1, r + 1);
	return lo | pio(h, 0x71, 1) << 8;
}

/* hv_vm_info through the CMOS: the memory-size and CPU-count bytes. */
static void cmos_vm_facts(void)
{
	struct harness h;
	struct hv_vm_info vi;
	struct instance *in;

#define RD(r) (pio_w(&h, 0x70, 1, (r)), pio(&h, 0x71, 1))
#define RD16(r) cmos_rd16(&h, (r))
	vm_up(&h, "[vm]\nkernel = /bin/sh\nmemory = 512M\ncpus = 2\n");
	CHECK(h.ok);
	CHECK(RD16(0x15) == 640);
	CHECK(RD16(0x17) == 0xffff && RD16(0x30) == 0xffff); /* 511 MiB: capped */
	CHECK(RD16(0x34) == (512 - 16) * 16);
	CHECK(RD(0x5b) == 0 && RD(0x5c) == 0 && RD(0x5d) == 0);
	CHECK(RD(0x5f) == 1);
	vm_down(&h);

	/* 5 GiB: 3 GiB below the PCI hole, 2 GiB above 4 GiB */
	vm_up(&h, "[vm]\nkernel = /bin/sh\nmemory = 5G\ncpus = 3\n");
	CHECK(h.ok);
	CHECK(RD16(0x34) == (3 * 1024 - 16) * 16);
	CHECK(RD(0x5b) == 0 && RD(0x5c) == 0x80 && RD(0x5d) == 0);
	CHECK(RD(0x5f) == 2);
	for (in = h.vm.instances; in && strcmp(in->ctx.name, "rtc"); in = in->next)
		;
	CHECK(in != NULL);
	if (in) {
		CHECK(hv_vm_info_get(&in->ctx, &vi) == 0);
		CHECK(vi.ram_below_4g == 3ull << 30 && vi.ram_above_4g == 2ull << 30);
		CHECK(vi.cpus == 3 && vi.machine == HV_MACHINE_PC);
		/* a plugin built when the struct had only the RAM sizes */
		memset(&vi, 0xee, sizeof(vi));
		core_host.vm_info_get(&in->ctx, &vi, 16);
		CHECK(vi.ram_above_4g == 2ull << 30 && vi.cpus == 0xeeeeeeee);
	}
	vm_down(&h);

	/* machine = none, an explicit cmos: still told, machine none */
	vm_up(&h, "[vm]\nkernel = /bin/sh\nmemory = 64M\nmachine = none\n"
		  "[device rtc]\nplugin = cmos\n");
	CHECK(h.ok);
	CHECK(RD16(0x17) == 63 * 1024 && RD16(0x34) == (64 - 16) * 16);
	CHECK(RD(0x5f) == 0);
	for (in = h.vm.instances; in && strcmp(in->ctx.name, "rtc"); in = in->next)
		;
	if (in) {
		CHECK(hv_vm_info_get(&in->ctx, &vi) == 0);
		CHECK(vi.machine == HV_MACHINE_NONE && vi.cpus == 1);
		CHECK(vi.ram_below_4g == 64ull << 20 && vi.ram_above_4g == 0);
	}
	vm_down(&h);
#undef RD16
#undef RD
}

static void implicit_devices_in_check(void)
{
	struct config c;
	struct plugin_set set = { 0 };
	char dir[512], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	snprintf(dir, sizeof(dir), "%s/plugins", unit_build_dir());
	unit_capture_begin();
	plugin_load_path(&set, dir);
	CHECK(!config_load_string(&c, "t.ini", HEAD) && !config_validate(&c, &set));
	unit_capture_end();
	config_print(f, &c);
	fclose(f);
	CHECK_CONTAINS(buf, "[device rtc]    ; implicit: machine = pc\nplugin = cmos");
	CHECK_CONTAINS(buf, "[device kbc]    ; implicit: machine = pc\nplugin = i8042");
	config_free(&c);
	free(buf);
	unit_capture_begin();
	CHECK(!config_load_string(&c, "t.ini", HEAD "machine = none\n") &&
	      !config_validate(&c, &set));
	unit_capture_end();
	CHECK(!config_section(&c, "device", "rtc"));
	config_free(&c);
	unit_capture_begin();
	CHECK(!config_load_string(&c, "t.ini", HEAD "[device rtc]\nplugin = debug-exit\n"));
	CHECK(config_validate(&c, &set));
	CHECK_CONTAINS(unit_capture_end(), "t.ini:3: [device rtc]: machine = pc adds a cmos device by this name");
	config_free(&c);
	plugin_set_free(&set);
}

int main(void)
{
	TEST(host_bridge_both_mechanisms);
	TEST(bar_sizing_and_placement);
	TEST(bar64_above_4g);
	TEST(hostile_bars_and_registers);
	TEST(capabilities_msi_msix);
	TEST(slot_errors);
	TEST(acpi_tables);
	TEST(e820_map);
	TEST(pm_poweroff_and_resets);
	TEST(cmos_clock);
	TEST(cmos_vm_facts);
	TEST(implicit_devices_in_check);
	return 0;
}
