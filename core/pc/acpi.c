/*
 * ACPI tables for machine = pc, generated from the VM's configuration each
 * power-on: RSDP -> XSDT -> FADT (-> FACS, DSDT), MADT (one LAPIC per vCPU,
 * the IOAPIC, interrupt source overrides for IRQ0 (GSI 2) and the SCI,
 * LINT1 NMI), MCFG (the ECAM window). The DSDT is hand-assembled AML: \_SB.PCI0 (PNP0A08 with
 * its bus, I/O and memory windows, the 64-bit one above RAM included, and a _PRT that matches pci_gsi()),
 * \_SB.KBD_ and MOU_ (the i8042's keyboard and mouse ports, PNP0303 and PNP0F13), and
 * \_S5 whose SLP_TYP pm.c recognises.
 */
#include <errno.h>
#include <string.h>

#include "../vm.h"
#include "pc.h"
#include "pci.h"

#define HDR 36

struct out {
	uint8_t *buf;
	size_t size, len;
	int overflow;
};

static uint8_t *put(struct out *o, const void *p, size_t n)
{
	uint8_t *at = o->buf + o->len;

	if (n > o->size - o->len) {
		o->overflow = 1;
		return NULL;
	}
	if (p)
		memcpy(at, p, n);
	else
		memset(at, 0, n);
	o->len += n;
	return at;
}

static void put8(struct out *o, uint8_t v) { put(o, &v, 1); }
static void put16(struct out *o, uint16_t v) { put(o, &v, 2); }
static void put32(struct out *o, uint32_t v) { put(o, &v, 4); }
static void put64(struct out *o, uint64_t v) { put(o, &v, 8); }

/* Stores at offsets the layout fixes, aligned or not. */
static void set16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void set32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return (uint8_t)-s;
}

static void align(struct out *o, size_t a)
{
	while (o->len % a && !o->overflow)
		put8(o, 0);
}

/* A table header; returns the table's start offset. */
static size_t table_begin(struct out *o, const char *sig, uint8_t rev)
{
	size_t at;

	align(o, 16);
	at = o->len;
	put(o, sig, 4);
	put32(o, 0);
	put8(o, rev);
	put8(o, 0);
	put(o, "HVHVHV", 6);
	put(o, "HV      ", 8);
	memcpy(o->buf + o->len - 8 + 2, sig, 4);
	put32(o, 1);
	put(o, "HV  ", 4);
	put32(o, 1);
	return at;
}

static void table_end(struct out *o, size_t at)
{
	uint32_t len = (uint32_t)(o->len - at);

	if (o->overflow)
		return;
	memcpy(o->buf + at + 4, &len, 4);
	o->buf[at + 9] = checksum(o->buf + at, len);
}

/* Generic address structure: system I/O. */
static void gas_io(struct out *o, uint8_t bits, uint8_t access, uint64_t port)
{
	put8(o, 1), put8(o, bits), put8(o, 0), put8(o, access), put64(o, port);
}

/* ---- AML ---- */

/* A PkgLength-prefixed object: reserve 4 length bytes, fix up after. */
static size_t pkg_begin(struct out *o)
{
	size_t at = o->len;
	put(o, NULL, 4);
	return at;
}

static void pkg_end(struct out *o, size_t at)
{
	size_t body = o->len - at - 4, total, n;
	uint8_t enc[4];

	if (o->overflow)
		return;
	for (n = 1; n <= 4; n++) {
		total = body + n;
		if ((n == 1 && total < 0x40) || (n > 1 && total < (1ull << (4 + 8 * (n - 1)))))
			break;
	}
	if (n == 1) {
		enc[0] = (uint8_t)total;
	} else {
		enc[0] = (uint8_t)((n - 1) << 6 | (total & 0xf));
		for (size_t i = 1; i < n; i++)
			enc[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	memmove(o->buf + at + n, o->buf + at + 4, body);
	memcpy(o->buf + at, enc, n);
	o->len = at + n + body;
}

static void aml_int(struct out *o, uint64_t v)
{
	if (v <= 1)
		put8(o, (uint8_t)v); /* ZeroOp, OneOp */
	else if (v <= 0xff)
		put8(o, 0x0a), put8(o, (uint8_t)v);
	else if (v <= 0xffff)
		put8(o, 0x0b), put16(o, (uint16_t)v);
	else if (v <= 0xffffffffull)
		put8(o, 0x0c), put32(o, (uint32_t)v);
	else
		put8(o, 0x0e), put64(o, v);
}

static void aml_name(struct out *o, const char *name)
{
	put8(o, 0x08); /* NameOp */
	put(o, name, strlen(name));
}

static uint32_t eisa_id(const char *id)
{
	uint16_t w = (uint16_t)(((id[0] - 0x40) & 0x1f) << 10 |
				((id[1] - 0x40) & 0x1f) << 5 | ((id[2] - 0x40) & 0x1f));
	unsigned hex = 0;

	for (int i = 3; i < 7; i++)
		hex = hex << 4 | (unsigned)(id[i] <= '9' ? id[i] - '0' : id[i] - 'A' + 10);
	return (uint32_t)(w >> 8) | (uint32_t)(w & 0xff) << 8 |
	       (uint32_t)(hex >> 8) << 16 | (uint32_t)(hex & 0xff) << 24;
}

/* Word/DWord address space descriptors: type 0 memory, 1 I/O, 2 bus. */
static void res_word(struct out *o, uint8_t type, uint8_t tflags, uint16_t min,
		     uint16_t max)
{
	put8(o, 0x88), put16(o, 13);
	put8(o, type), put8(o, 0x0c), put8(o, tflags);
	put16(o, 0), put16(o, min), put16(o, max), put16(o, 0);
	put16(o, (uint16_t)(max - min + 1));
}

static void res_dword_mem(struct out *o, uint32_t min, uint32_t max)
{
	put8(o, 0x87), put16(o, 23);
	put8(o, 0), put8(o, 0x0c), put8(o, 0x01);
	put32(o, 0), put32(o, min), put32(o, max), put32(o, 0);
	put32(o, max - min + 1);
}

/* QWord memory: the 64-bit window, cacheable like QEMU's */
static void res_qword_mem(struct out *o, uint64_t min, uint64_t max)
{
	put8(o, 0x8a), put16(o, 43);
	put8(o, 0), put8(o, 0x0c), put8(o, 0x03);
	put64(o, 0), put64(o, min), put64(o, max), put64(o, 0);
	put64(o, max - min + 1);
}

static void pci0_crs(struct out *o, uint64_t mem64)
{
	size_t pkg, buf;

	aml_name(o, "_CRS");
	put8(o, 0x11); /* BufferOp */
	pkg = pkg_begin(o);
	put8(o, 0x0b); /* buffer size, fixed up below */
	put16(o, 0);
	buf = o->len;
	res_word(o, 2, 0, 0, 0xff);
	put8(o, 0x47), put8(o, 1), put16(o, 0xcf8), put16(o, 0xcf8), put8(o, 1), put8(o, 8);
	res_word(o, 1, 3, 0x0000, 0x0cf7);
	res_word(o, 1, 3, 0x0d00, 0xffff);
	res_dword_mem(o, 0x000a0000, 0x000bffff);
	res_dword_mem(o, (uint32_t)PC_PCI_MEM32, (uint32_t)(PC_PCI_MEM32_END - 1));
	res_dword_mem(o, (uint32_t)(PC_ECAM + PC_ECAM_SIZE), (uint32_t)(PC_IOAPIC - 1));
	res_qword_mem(o, mem64, mem64 + PC_PCI_MEM64_SIZE - 1);
	put8(o, 0x79), put8(o, 0);
	if (!o->overflow) {
		uint16_t n = (uint16_t)(o->len - buf);
		memcpy(o->buf + buf - 2, &n, 2);
	}
	pkg_end(o, pkg);
}

/* _PRT: every slot's four pins straight to IOAPIC GSIs. */
static void pci0_prt(struct out *o)
{
	size_t outer;

	aml_name(o, "_PRT");
	put8(o, 0x12);
	outer = pkg_begin(o);
	put8(o, 32 * 4);
	for (unsigned slot = 0; slot < 32; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			size_t p;

			put8(o, 0x12);
			p = pkg_begin(o);
			put8(o, 4);
			put8(o, 0x0c), put32(o, slot << 16 | 0xffff);
			aml_int(o, pin);
			aml_int(o, 0);
			aml_int(o, pci_gsi(slot, pin + 1));
			pkg_end(o, p);
		}
	}
	pkg_end(o, outer);
}

/*
 * A legacy device on \_SB: its _HID and a _CRS of fixed I/O ports and one
 * IRQ. Linux's i8042 finds the controller this way (PNP0303 with ports
 * 0x60/0x64 and IRQ1, PNP0F13 with IRQ12), as Windows does.
 */
static void legacy_dev(struct out *o, const char *name, const char *hid,
		       const uint16_t *ports, int nports, unsigned irq)
{
	size_t dev, pkg, buf;

	put8(o, 0x5b), put8(o, 0x82); /* DeviceOp */
	dev = pkg_begin(o);
	put(o, name, 4);
	aml_name(o, "_HID"), put8(o, 0x0c), put32(o, eisa_id(hid));
	aml_name(o, "_CRS");
	put8(o, 0x11); /* BufferOp */
	pkg = pkg_begin(o);
	put8(o, 0x0b), put16(o, 0); /* buffer size, fixed up below */
	buf = o->len;
	for (int i = 0; i < nports; i++) /* IO (Decode16, p, p, 1, 1) */
		put8(o, 0x47), put8(o, 1), put16(o, ports[i]), put16(o, ports[i]),
			put8(o, 1), put8(o, 1);
	put8(o, 0x22), put16(o, (uint16_t)(1u << irq)); /* IRQNoFlags */
	put8(o, 0x79), put8(o, 0);
	if (!o->overflow) {
		uint16_t n = (uint16_t)(o->len - buf);
		memcpy(o->buf + buf - 2, &n, 2);
	}
	pkg_end(o, pkg);
	pkg_end(o, dev);
}

static void dsdt(struct out *o, uint64_t mem64)
{
	static const uint16_t kbc_ports[] = { 0x60, 0x64 };
	size_t scope, dev, s5;

	put8(o, 0x10); /* ScopeOp */
	scope = pkg_begin(o);
	put(o, "\\_SB_", 5);
	put8(o, 0x5b), put8(o, 0x82); /* DeviceOp */
	dev = pkg_begin(o);
	put(o, "PCI0", 4);
	aml_name(o, "_HID"), put8(o, 0x0c), put32(o, eisa_id("PNP0A08"));
	aml_name(o, "_CID"), put8(o, 0x0c), put32(o, eisa_id("PNP0A03"));
	aml_name(o, "_UID"), aml_int(o, 0);
	aml_name(o, "_SEG"), aml_int(o, 0);
	aml_name(o, "_BBN"), aml_int(o, 0);
	pci0_crs(o, mem64);
	pci0_prt(o);
	pkg_end(o, dev);
	/* machine = pc always has the i8042 (core/pc/implicit.c) */
	legacy_dev(o, "KBD_", "PNP0303", kbc_ports, 2, 1);
	legacy_dev(o, "MOU_", "PNP0F13", NULL, 0, 12);
	pkg_end(o, scope);
	aml_name(o, "\\_S5_");
	put8(o, 0x12);
	s5 = pkg_begin(o);
	put8(o, 4);
	aml_int(o, PC_S5_TYPE), aml_int(o, PC_S5_TYPE), aml_int(o, 0), aml_int(o, 0);
	pkg_end(o, s5);
}

static void fadt(struct out *o, uint64_t base, size_t facs, size_t dsdt_at)
{
	size_t at = table_begin(o, "FACP", 6);
	uint8_t *t;

	put(o, NULL, 276 - HDR);
	if (o->overflow)
		return;
	t = o->buf + at;
	/* FIRMWARE_CTRL and DSDT: the 32-bit fields, and X_ ones below */
	set32(t + 36, (uint32_t)(base + facs));
	set32(t + 40, (uint32_t)(base + dsdt_at));
	set16(t + 46, PC_SCI_IRQ);
	set32(t + 56, PC_PM_BASE);     /* PM1a_EVT_BLK */
	set32(t + 64, PC_PM_BASE + 4); /* PM1a_CNT_BLK */
	set32(t + 76, PC_PM_BASE + 8); /* PM_TMR_BLK */
	t[88] = 4, t[89] = 2, t[91] = 4;
	set16(t + 96, 101);  /* no C2 */
	set16(t + 98, 1001); /* no C3 */
	t[108] = 0x32;                         /* CMOS century register */
	/* legacy devs, an 8042, no VGA, no ASPM */
	set16(t + 109, 0x0001 | 0x0002 | 0x0004 | 0x0010);
	/* WBINVD, PROC_C1, SLP_BUTTON (none), TMR_VAL_EXT, RESET_REG_SUP */
	set32(t + 112, 1u << 0 | 1u << 2 | 1u << 5 | 1u << 8 | 1u << 10);
	o->len = at + 116;
	gas_io(o, 8, 1, 0xcf9); /* RESET_REG: the host bridge's reset control */
	put8(o, 0x06);          /* RESET_VALUE */
	put16(o, 0);
	put8(o, 0);             /* FADT minor version */
	put64(o, base + facs);
	put64(o, base + dsdt_at);
	gas_io(o, 32, 2, PC_PM_BASE);
	put(o, NULL, 12);
	gas_io(o, 16, 2, PC_PM_BASE + 4);
	put(o, NULL, 12 * 2);
	gas_io(o, 32, 3, PC_PM_BASE + 8);
	put(o, NULL, 12 * 4 + 8);
	table_end(o, at);
}

static size_t madt(struct out *o, int ncpus)
{
	size_t at = table_begin(o, "APIC", 4);

	put32(o, (uint32_t)PC_LAPIC);
	put32(o, 1); /* PCAT_COMPAT: the 8259s are there too */
	for (int i = 0; i < ncpus; i++) {
		put8(o, 0), put8(o, 8), put8(o, (uint8_t)i), put8(o, (uint8_t)i);
		put32(o, 1);
	}
	put8(o, 1), put8(o, 12), put8(o, 0), put8(o, 0);
	put32(o, (uint32_t)PC_IOAPIC), put32(o, 0);
	/* IRQ0 -> GSI 2, conforming (edge, high): the 8254 sits on pin 2 on
	 * PCs, and both backends route it there (emu/pit.c, kvm.c) */
	put8(o, 2), put8(o, 10), put8(o, 0), put8(o, 0);
	put32(o, 2), put16(o, 0x0000);
	/* SCI: IRQ 9, active high, level */
	put8(o, 2), put8(o, 10), put8(o, 0), put8(o, PC_SCI_IRQ);
	put32(o, PC_SCI_IRQ), put16(o, 0x000d);
	put8(o, 4), put8(o, 6), put8(o, 0xff), put16(o, 0), put8(o, 1);
	table_end(o, at);
	return at;
}

static size_t mcfg(struct out *o)
{
	size_t at = table_begin(o, "MCFG", 1);

	put64(o, 0);
	put64(o, PC_ECAM), put16(o, 0), put8(o, 0);
	put8(o, (uint8_t)((PC_ECAM_SIZE >> 20) - 1));
	put32(o, 0);
	table_end(o, at);
	return at;
}

int acpi_build(struct vm *vm, uint8_t *buf, size_t size, uint64_t gpa)
{
	struct out o = { .buf = buf, .size = size };
	size_t rsdp, xsdt, facs, dsdt_at, fadt_at, madt_at, mcfg_at, x;

	memset(buf, 0, size);
	rsdp = o.len;
	put(&o, NULL, 36);
	align(&o, 64);
	facs = o.len;
	put(&o, "FACS", 4), put32(&o, 64), put(&o, NULL, 56);
	o.buf[facs + 32] = 2; /* version */
	dsdt_at = table_begin(&o, "DSDT", 2);
	dsdt(&o, pc_pci_mem64(vm));
	table_end(&o, dsdt_at);
	align(&o, 16);
	fadt_at = o.len;
	fadt(&o, gpa, facs, dsdt_at);
	madt_at = madt(&o, vm->ncpus);
	mcfg_at = mcfg(&o);
	xsdt = table_begin(&o, "XSDT", 1);
	put64(&o, gpa + fadt_at), put64(&o, gpa + madt_at), put64(&o, gpa + mcfg_at);
	table_end(&o, xsdt);
	if (o.overflow)
		return -ENOSPC;
	x = gpa + xsdt;
	memcpy(buf + rsdp, "RSD PTR ", 8);
	memcpy(buf + rsdp + 9, "HVHVHV", 6);
	buf[rsdp + 15] = 2;
	set32(buf + rsdp + 20, 36);
	memcpy(buf + rsdp + 24, &x, 8);
	buf[rsdp + 8] = checksum(buf + rsdp, 20);
	buf[rsdp + 32] = checksum(buf + rsdp, 36);
	return (int)o.len;
}
