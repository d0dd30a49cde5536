/*
 * PCI bus 0 of machine = pc. Each function's configuration header is a
 * 256-byte image with a write mask (QEMU's scheme): a guest write changes
 * only writable bits, so BAR sizing, read-only IDs and reserved bits fall
 * out of the masks, and after a write to the command register or a BAR the
 * BARs are re-decoded onto the buses. Nothing a guest writes can put a
 * region over RAM, over another region, or past a bus's end: such a BAR
 * simply decodes nothing.
 */
#include "pci.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../bus.h"
#include "../config.h"
#include "../devmem.h"
#include "../instance.h"
#include "../log.h"
#include "../instcfg.h"
#include "../state.h"
#include "../vm.h"
#include "pc.h"

#define NSLOTS 32
#define CAP_MSI 0x40
#define CAP_MSIX 0x50
#define MSI_CTRL (CAP_MSI + 2)
#define MSIX_CTRL (CAP_MSIX + 2)
#define MSIX_ENABLE 0x8000
#define MSIX_MASKALL 0x4000
#define CMD_INTX_OFF 0x400
#define STATUS_INTX 0x08
#define STATUS_CAPS 0x10
#define STATE_VERSION 1

struct bar {
	uint64_t size;
	uint32_t flags; /* HV_PCI_BAR_*; 0: unused */
	struct bus_region *r;
	struct bus *bus;
	int mem; /* HV_PCI_BAR_RAM: the BAR's entry in vm->mem */
};

struct msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;
};

struct hv_pci_dev {
	struct pci_host *h;
	struct instance *in; /* NULL: the host bridge */
	struct hv_pci_info info;
	struct hv_pci_bar bars[6]; /* info.bar points here */
	unsigned slot, gsi;
	uint8_t cfg[256], wmask[256];
	struct bar bar[6];
	struct msix_entry *msix;
	uint64_t pba[32];
	uint32_t pba_off;
	int intx, intx_out;
};

struct pci_host {
	struct vm *vm;
	struct hv_pci_dev *dev[NSLOTS];
	struct hv_pci_dev bridge;
	atomic_uint addr; /* mechanism #1's address register */
	uint8_t rcr;      /* 0xcf9 reset control */
	pthread_mutex_t irq_lock;
	int gsi_count[8];
};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v), wr16(p + 2, (uint16_t)(v >> 16)); }

unsigned pci_gsi(unsigned slot, unsigned pin)
{
	return PC_GSI_PCI + ((slot + pin - 1) & 7);
}

static void dev_lock(struct hv_pci_dev *d)
{
	if (d->in)
		inst_lock(d->in);
}

static void dev_unlock(struct hv_pci_dev *d)
{
	if (d->in)
		inst_unlock(d->in);
}

/* ---- interrupts ---- */

static void set_line(struct pci_host *h, unsigned gsi, int level)
{
	struct vm *vm = h->vm;

	if (vm->accel_priv)
		vm->accel->irq_line(vm, gsi, level);
}

/* Callers hold the device's lock. */
static void intx_update(struct hv_pci_dev *d)
{
	struct pci_host *h = d->h;
	int out = d->intx && d->info.irq_pin &&
		  !(rd16(d->cfg + 4) & CMD_INTX_OFF);
	int *cnt;

	if (out == d->intx_out)
		return;
	d->intx_out = out;
	cnt = &h->gsi_count[d->gsi - PC_GSI_PCI];
	pthread_mutex_lock(&h->irq_lock);
	*cnt += out ? 1 : -1;
	if ((out && *cnt == 1) || (!out && *cnt == 0))
		set_line(h, d->gsi, out);
	pthread_mutex_unlock(&h->irq_lock);
}

void pci_intx(struct hv_ctx *ctx, struct hv_pci_dev *d, int level)
{
	(void)ctx;
	d->intx = !!level;
	intx_update(d);
}

static int send_msi(struct hv_pci_dev *d, uint64_t addr, uint32_t data)
{
	struct vm *vm = d->h->vm;

	return vm->accel_priv ? vm->accel->msi(vm, addr, data) : -ENODEV;
}

static int msix_fire(struct hv_pci_dev *d, unsigned v)
{
	struct msix_entry *e = &d->msix[v];
	uint16_t ctrl = rd16(d->cfg + MSIX_CTRL);

	if (!(ctrl & MSIX_ENABLE))
		return -ENOENT;
	if ((ctrl & MSIX_MASKALL) || (e->ctrl & 1)) {
		d->pba[v / 64] |= 1ull << (v % 64);
		return 0;
	}
	d->pba[v / 64] &= ~(1ull << (v % 64));
	return send_msi(d, (uint64_t)e->addr_hi << 32 | e->addr_lo, e->data);
}

/* Deliver what unmasking released. */
static void msix_flush(struct hv_pci_dev *d)
{
	for (unsigned v = 0; v < d->info.msix_vectors; v++)
		if (d->pba[v / 64] & (1ull << (v % 64)))
			msix_fire(d, v);
}

int pci_msi(struct hv_ctx *ctx, struct hv_pci_dev *d, unsigned vector)
{
	uint16_t cmd = rd16(d->cfg + 4);

	(void)ctx;
	if (d->info.msix_vectors && (rd16(d->cfg + MSIX_CTRL) & MSIX_ENABLE)) {
		if (vector >= d->info.msix_vectors)
			return -EINVAL;
		if (!(cmd & HV_PCI_CMD_MASTER))
			return -EPERM;
		return msix_fire(d, vector);
	}
	if (d->info.msi_vectors && (rd16(d->cfg + MSI_CTRL) & 1)) {
		uint32_t n = 1u << ((rd16(d->cfg + MSI_CTRL) >> 4) & 7);
		uint32_t data = rd16(d->cfg + CAP_MSI + 12);
		uint64_t addr = rd32(d->cfg + CAP_MSI + 4) |
				(uint64_t)rd32(d->cfg + CAP_MSI + 8) << 32;

		if (!(cmd & HV_PCI_CMD_MASTER))
			return -EPERM;
		return send_msi(d, addr, (data & ~(n - 1)) | (vector & (n - 1)));
	}
	return -ENOENT;
}

uint16_t pci_command(struct hv_ctx *ctx, struct hv_pci_dev *d)
{
	(void)ctx;
	return rd16(d->cfg + 4);
}

/* ---- MSI-X table and PBA: a BAR the core implements ---- */

static uint64_t msix_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			  unsigned size)
{
	struct hv_pci_dev *d = opaque;
	uint64_t n = d->info.msix_vectors;

	(void)ctx, (void)size;
	if (off < n * 16)
		return ((uint32_t *)&d->msix[off / 16])[(off % 16) / 4];
	if (off >= d->pba_off && off - d->pba_off < (n + 63) / 64 * 8) {
		uint64_t w = d->pba[(off - d->pba_off) / 8];
		return off % 8 ? w >> 32 : (uint32_t)w;
	}
	return 0;
}

static void msix_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		       unsigned size, uint64_t val)
{
	struct hv_pci_dev *d = opaque;
	struct msix_entry *e;

	(void)ctx, (void)size;
	if (off >= d->info.msix_vectors * 16ull)
		return; /* the PBA is read-only */
	e = &d->msix[off / 16];
	switch ((off % 16) / 4) {
	case 0: e->addr_lo = (uint32_t)val & ~3u; break;
	case 1: e->addr_hi = (uint32_t)val; break;
	case 2: e->data = (uint32_t)val; break;
	default:
		e->ctrl = (uint32_t)val & 1;
		if (!e->ctrl && (d->pba[off / 16 / 64] & (1ull << (off / 16 % 64))))
			msix_fire(d, (unsigned)(off / 16));
	}
}

static const struct hv_region_ops msix_ops = {
	.min_access = 4, .max_access = 4,
	.read = msix_read, .write = msix_write,
};

/* ---- BAR decoding ---- */

static uint64_t bar_addr(const struct hv_pci_dev *d, int i)
{
	const struct bar *b = &d->bar[i];
	uint64_t a = rd32(d->cfg + 0x10 + 4 * i);

	if (b->flags & HV_PCI_BAR_MEM64)
		a |= (uint64_t)rd32(d->cfg + 0x14 + 4 * i) << 32;
	return a & ~(b->size - 1) & ~(uint64_t)(b->flags & HV_PCI_BAR_IO ? 3 : 15);
}

static int over_ram(const struct vm *vm, uint64_t a, uint64_t len)
{
	for (int i = 0; i < vm->mem.n; i++) {
		const struct mem_region *r = &vm->mem.r[i];
		if (a < r->gpa + r->size && r->gpa < a + len)
			return 1;
	}
	return 0;
}

/* A RAM BAR is memory, not a bus region: it goes where neither RAM,
 * other device memory nor an MMIO region is. Map lock held. */
static void decode_ram(struct hv_pci_dev *d, int i, int on, uint64_t a)
{
	struct vm *vm = d->h->vm;
	struct bar *b = &d->bar[i];
	const struct mem_region *r = &vm->mem.r[b->mem];

	if (on && r->size && r->gpa == a)
		return;
	devmem_unplace_locked(vm, b->mem);
	if (on && (bus_busy(&vm->mmio, a, b->size) ||
		   devmem_place_locked(vm, b->mem, a)))
		dbg("pci %02x: RAM BAR%d at 0x%llx collides: not decoded",
		    d->slot, i, (unsigned long long)a);
}

/* Put each BAR where the guest says, or park it. Device lock held; the
 * map lock keeps the RAM-versus-MMIO checks true until the BAR is in. */
static void decode_bars(struct hv_pci_dev *d)
{
	uint16_t cmd = rd16(d->cfg + 4);

	devmem_lock();
	for (int i = 0; i < 6; i++) {
		struct bar *b = &d->bar[i];
		int io = b->flags & HV_PCI_BAR_IO;
		uint64_t a = bar_addr(d, i), end = a + b->size;
		int on;

		if (!b->flags)
			continue;
		on = (cmd & (io ? HV_PCI_CMD_IO : HV_PCI_CMD_MEMORY)) && a &&
		     end > a && (io ? end < 0x10000 : end != 1ull << 32);
		if (b->flags & HV_PCI_BAR_RAM) {
			decode_ram(d, i, on, a);
			continue;
		}
		on = on && (io || !over_ram(d->h->vm, a, b->size));
		if (on && !b->r->parked && b->r->base == a)
			continue;
		if (!on || bus_unpark(b->bus, b->r, a)) {
			if (on)
				dbg("pci %02x: BAR%d at 0x%llx collides: not decoded",
				    d->slot, i, (unsigned long long)a);
			bus_park(b->bus, b->r);
		}
	}
	devmem_unlock();
}

/* ---- configuration space ---- */

static void header_init(struct hv_pci_dev *d)
{
	const struct hv_pci_info *f = &d->info;
	uint8_t *c = d->cfg, *m = d->wmask, first = 0;

	memset(c, 0, sizeof(d->cfg));
	memset(m, 0, sizeof(d->wmask));
	wr16(c + 0, f->vendor), wr16(c + 2, f->device);
	c[8] = f->revision;
	c[9] = (uint8_t)f->class_code, c[10] = (uint8_t)(f->class_code >> 8);
	c[11] = (uint8_t)(f->class_code >> 16);
	wr16(c + 0x2c, f->subsystem_vendor), wr16(c + 0x2e, f->subsystem);
	if (!d->in)
		return; /* the host bridge: read-only */
	m[4] = HV_PCI_CMD_IO | HV_PCI_CMD_MEMORY | HV_PCI_CMD_MASTER;
	m[5] = (CMD_INTX_OFF | 0x100) >> 8;
	m[0x0c] = m[0x0d] = 0xff;
	for (int i = 0; i < 6; i++) {
		const struct bar *b = &d->bar[i];
		uint32_t low = b->flags & HV_PCI_BAR_IO ? 1 :
			       (b->flags & HV_PCI_BAR_MEM64 ? 4 : 0) |
			       (b->flags & HV_PCI_BAR_PREFETCH ? 8 : 0);

		if (!b->flags)
			continue;
		wr32(c + 0x10 + 4 * i, low);
		wr32(m + 0x10 + 4 * i, (uint32_t)~(b->size - 1) &
				       ~(b->flags & HV_PCI_BAR_IO ? 3u : 15u));
		if (b->flags & HV_PCI_BAR_MEM64)
			wr32(m + 0x14 + 4 * i, (uint32_t)(~(b->size - 1) >> 32));
	}
	if (f->irq_pin) {
		c[0x3c] = (uint8_t)d->gsi, c[0x3d] = f->irq_pin;
		m[0x3c] = 0xff;
	}
	if (f->msix_vectors) {
		c[CAP_MSIX] = 0x11, c[CAP_MSIX + 1] = f->cap_next;
		wr16(c + MSIX_CTRL, f->msix_vectors - 1);
		m[MSIX_CTRL + 1] = (MSIX_ENABLE | MSIX_MASKALL) >> 8;
		wr32(c + CAP_MSIX + 4, f->msix_bar);
		wr32(c + CAP_MSIX + 8, d->pba_off | f->msix_bar);
		first = CAP_MSIX;
	}
	if (f->msi_vectors) {
		unsigned log2 = 0;
		while ((1u << log2) < f->msi_vectors)
			log2++;
		c[CAP_MSI] = 0x05, c[CAP_MSI + 1] = first ? first : f->cap_next;
		wr16(c + MSI_CTRL, 0x80 | log2 << 1);
		m[MSI_CTRL] = 0x71;
		wr32(m + CAP_MSI + 4, ~3u), wr32(m + CAP_MSI + 8, ~0u);
		wr16(m + CAP_MSI + 12, 0xffff);
		first = CAP_MSI;
	}
	c[0x34] = first ? first : f->cap_next;
	if (c[0x34])
		c[6] |= STATUS_CAPS;
}

/* Where the device's own configuration space starts: a function with
 * neither MSI nor MSI-X has no capability of the core's at 0x40-0x5f, and
 * chipset functions keep registers there (the PIIX IDE's timings at 0x40). */
static unsigned dev_cfg_start(const struct hv_pci_dev *d)
{
	return d->info.msi_vectors || d->info.msix_vectors ? HV_PCI_CFG_DEVICE
							   : HV_PCI_CFG_LEGACY;
}

static uint32_t dev_read(struct hv_pci_dev *d, unsigned reg, unsigned size)
{
	uint32_t v = 0;

	if (reg >= dev_cfg_start(d)) {
		if (d->in && d->info.cfg_read)
			return d->info.cfg_read(&d->in->ctx, d->info.opaque, reg, size);
		return 0;
	}
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)d->cfg[reg + i] << (8 * i);
	if (reg <= 6 && reg + size > 6 && d->intx)
		v |= (uint32_t)STATUS_INTX << (8 * (6 - reg));
	return v;
}

static void dev_write(struct hv_pci_dev *d, unsigned reg, unsigned size,
		      uint32_t val)
{
	uint16_t msix_was = rd16(d->cfg + MSIX_CTRL);

	if (reg >= dev_cfg_start(d)) {
		if (d->in && d->info.cfg_write)
			d->info.cfg_write(&d->in->ctx, d->info.opaque, reg, size, val);
		return;
	}
	for (unsigned i = 0; i < size; i++) {
		uint8_t m = d->wmask[reg + i];
		d->cfg[reg + i] = (d->cfg[reg + i] & ~m) | ((uint8_t)(val >> (8 * i)) & m);
	}
	if (d->info.msi_vectors && reg <= MSI_CTRL && reg + size > MSI_CTRL) {
		uint16_t ctrl = rd16(d->cfg + MSI_CTRL);
		unsigned mmc = (ctrl >> 1) & 7;
		if (((ctrl >> 4) & 7) > mmc) /* more than offered: clamp */
			wr16(d->cfg + MSI_CTRL, (ctrl & ~0x70) | mmc << 4);
	}
	if (reg < 0x28 && reg + size > 4)
		decode_bars(d);
	if (reg <= 5 && reg + size > 5)
		intx_update(d);
	if (d->info.msix_vectors && (msix_was & ~rd16(d->cfg + MSIX_CTRL) & MSIX_MASKALL ||
				     (~msix_was & rd16(d->cfg + MSIX_CTRL) & MSIX_ENABLE)))
		msix_flush(d);
}

static struct hv_pci_dev *lookup(struct pci_host *h, unsigned bdf)
{
	if (bdf >> 8 || bdf & 7) /* bus 0, single-function devices only */
		return NULL;
	return h->dev[bdf >> 3];
}

uint32_t pci_cfg_read(struct pci_host *h, unsigned bdf, unsigned reg,
		      unsigned size)
{
	struct hv_pci_dev *d = lookup(h, bdf);
	uint32_t v;

	if (!d || reg >= 4096 || reg % size)
		return size == 4 ? ~0u : (1u << (8 * size)) - 1;
	dev_lock(d);
	v = dev_read(d, reg, size);
	dev_unlock(d);
	return v;
}

void pci_cfg_write(struct pci_host *h, unsigned bdf, unsigned reg,
		   unsigned size, uint32_t val)
{
	struct hv_pci_dev *d = lookup(h, bdf);

	if (!d || reg >= 4096 || reg % size)
		return;
	dev_lock(d);
	dev_write(d, reg, size, val);
	dev_unlock(d);
}

/* ---- the two access mechanisms ---- */

static uint64_t cf8_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			 unsigned size)
{
	struct pci_host *h = opaque;

	(void)ctx;
	if (off == 0 && size == 4)
		return atomic_load(&h->addr);
	return off == 1 && size == 1 ? h->rcr : 0;
}

static void cf8_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		      unsigned size, uint64_t val)
{
	struct pci_host *h = opaque;

	(void)ctx;
	if (off == 0 && size == 4) {
		atomic_store(&h->addr, (uint32_t)val & 0x80fffffcu);
	} else if (off == 1 && size == 1) {
		/* reset control: a 0 -> 1 edge of RST_CPU resets the machine */
		if (val & 4 && !(h->rcr & 4))
			vm_request_reset(h->vm);
		h->rcr = (uint8_t)val & 0x0a;
	}
}

static uint64_t cfc_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			 unsigned size)
{
	struct pci_host *h = opaque;
	uint32_t a = atomic_load(&h->addr);

	(void)ctx;
	if (!(a & 0x80000000u))
		return ~0ull;
	return pci_cfg_read(h, (a >> 8) & 0xffff, (a & 0xfc) + (unsigned)off, size);
}

static void cfc_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		      unsigned size, uint64_t val)
{
	struct pci_host *h = opaque;
	uint32_t a = atomic_load(&h->addr);

	(void)ctx;
	if (a & 0x80000000u)
		pci_cfg_write(h, (a >> 8) & 0xffff, (a & 0xfc) + (unsigned)off, size,
			      (uint32_t)val);
}

static uint64_t ecam_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			  unsigned size)
{
	(void)ctx;
	return pci_cfg_read(opaque, (unsigned)(off >> 12), off & 0xfff, size);
}

static void ecam_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		       unsigned size, uint64_t val)
{
	(void)ctx;
	pci_cfg_write(opaque, (unsigned)(off >> 12), off & 0xfff, size, (uint32_t)val);
}

static const struct hv_region_ops cf8_ops = { .max_access = 4, .read = cf8_read, .write = cf8_write };
static const struct hv_region_ops cfc_ops = { .max_access = 4, .read = cfc_read, .write = cfc_write };
static const struct hv_region_ops ecam_ops = { .max_access = 4, .read = ecam_read, .write = ecam_write };

int pci_host_new(struct vm *vm, struct pci_host **out)
{
	struct pci_host *h = calloc(1, sizeof(*h));
	int rc;

	if (!h)
		return -ENOMEM;
	h->vm = vm;
	pthread_mutex_init(&h->irq_lock, NULL);
	/* 1b36:0008, QEMU's PCIe host bridge ID: guests know it needs nothing */
	h->bridge = (struct hv_pci_dev){
		.h = h, .info = { .vendor = 0x1b36, .device = 0x0008,
				  .subsystem_vendor = 0x1af4, .subsystem = 0x1100,
				  .class_code = 0x060000 },
	};
	header_init(&h->bridge);
	h->dev[0] = &h->bridge;
	if ((rc = bus_add(&vm->pio, 0xcf8, 4, &cf8_ops, h, NULL, NULL)) ||
	    (rc = bus_add(&vm->pio, 0xcfc, 4, &cfc_ops, h, NULL, NULL)) ||
	    (rc = bus_add(&vm->mmio, PC_ECAM, PC_ECAM_SIZE, &ecam_ops, h, NULL, NULL))) {
		err("PCI host bridge: ports 0xcf8-0xcff or ECAM at 0x%llx taken (%s)",
		    PC_ECAM, strerror(-rc));
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

void pci_host_free(struct pci_host *h)
{
	if (!h)
		return;
	for (int i = 1; i < NSLOTS; i++) {
		if (h->dev[i]) {
			free(h->dev[i]->msix);
			free(h->dev[i]);
		}
	}
	pthread_mutex_destroy(&h->irq_lock);
	free(h);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Where a BAR of `size` goes from *next on, below end: 0 if it does not fit. */
static uint64_t take(uint64_t *next, uint64_t end, uint64_t size)
{
	uint64_t a = align_up(*next, size);

	if (a + size > end || a + size < a)
		return 0;
	*next = a + size;
	return a;
}

/* What a BIOS does: every BAR placed, decoding on; a 64-bit BAR the 32-bit
 * window has no room for goes above RAM. Device lock held. */
static void assign(struct hv_pci_dev *d, uint64_t *io, uint64_t *mem,
		   uint64_t *mem64)
{
	uint64_t mem64_end = pc_pci_mem64(d->h->vm) + PC_PCI_MEM64_SIZE;
	uint16_t cmd = 0;

	for (int i = 0; i < 6; i++) {
		struct bar *b = &d->bar[i];
		int is_io = b->flags & HV_PCI_BAR_IO;
		uint64_t a;

		if (!b->flags)
			continue;
		a = is_io ? take(io, PC_PCI_IO_END, b->size) :
			    take(mem, PC_PCI_MEM32_END, b->size);
		if (!a && (b->flags & HV_PCI_BAR_MEM64))
			a = take(mem64, mem64_end, b->size);
		if (!a) {
			warn("pci %02x: no room for BAR%d (%llu bytes); the guest must place it",
			     d->slot, i, (unsigned long long)b->size);
			continue;
		}
		wr32(d->cfg + 0x10 + 4 * i, rd32(d->cfg + 0x10 + 4 * i) | (uint32_t)a);
		if (b->flags & HV_PCI_BAR_MEM64)
			wr32(d->cfg + 0x14 + 4 * i, (uint32_t)(a >> 32));
		cmd |= is_io ? HV_PCI_CMD_IO : HV_PCI_CMD_MEMORY;
	}
	wr16(d->cfg + 4, cmd);
	decode_bars(d);
}

void pci_host_reset(struct pci_host *h)
{
	uint64_t io = PC_PCI_IO, mem = PC_PCI_MEM32, mem64 = pc_pci_mem64(h->vm);

	atomic_store(&h->addr, 0);
	h->rcr = 0;
	for (int i = 1; i < NSLOTS; i++) {
		struct hv_pci_dev *d = h->dev[i];

		if (!d)
			continue;
		dev_lock(d);
		d->intx = 0;
		intx_update(d);
		header_init(d);
		for (unsigned v = 0; v < d->info.msix_vectors; v++)
			d->msix[v] = (struct msix_entry){ .ctrl = 1 };
		memset(d->pba, 0, sizeof(d->pba));
		assign(d, &io, &mem, &mem64);
		dev_unlock(d);
	}
}

/* ---- registration ---- */

static int bad(struct instance *in, const char *why, int i)
{
	inst_err(in, NULL, "hv_pci_register: %s%.0d", why, i);
	return -EINVAL;
}

static int check_info(struct instance *in, const struct hv_pci_info *f)
{
	unsigned v = f->msi_vectors;

	for (int i = 0; i < 6; i++) {
		const struct hv_pci_bar *b = &f->bar[i];
		uint32_t kind = b->flags & (HV_PCI_BAR_IO | HV_PCI_BAR_MEM32 | HV_PCI_BAR_MEM64);
		int io = kind == HV_PCI_BAR_IO;

		if (!b->size && !b->flags)
			continue;
		if (f->msix_vectors && i == f->msix_bar)
			return bad(in, "the MSI-X BAR must be left unused, BAR ", i);
		if ((b->flags & HV_PCI_BAR_RAM) &&
		    (io || b->size < 4096 || b->size & (b->size - 1)))
			return bad(in, "a RAM BAR is a memory BAR of a power of two from 4096 bytes, BAR ", i);
		if ((kind & (kind - 1)) || !kind ||
		    (!(b->flags & HV_PCI_BAR_RAM) && (!b->ops || !b->ops->read || !b->ops->write)))
			return bad(in, "a BAR needs exactly one kind and ops with read and write, BAR ", i);
		if (b->size & (b->size - 1) || b->size < (io ? 4u : 16u) ||
		    b->size > (io ? 0x1000ull : 1ull << 40))
			return bad(in, "BAR size must be a power of two (I/O 4-4096, memory from 16), BAR ", i);
		if (kind == HV_PCI_BAR_MEM64 && (i == 5 || f->bar[i + 1].size || f->bar[i + 1].flags))
			return bad(in, "a 64-bit BAR takes the next index too, BAR ", i);
		if (kind == HV_PCI_BAR_MEM64)
			i++;
	}
	if (v & (v - 1) || v > 32)
		return bad(in, "msi_vectors must be 0, 1, 2, 4, 8, 16 or 32", 0);
	if (f->msix_vectors > 2048 || f->msix_bar > 5)
		return bad(in, "msix_vectors is at most 2048, msix_bar at most 5", 0);
	if (f->irq_pin > 4)
		return bad(in, "irq_pin is 0 (none) or 1-4 (INTA-INTD)", 0);
	if (f->cap_next && (f->cap_next < HV_PCI_CFG_DEVICE || !f->cfg_read))
		return bad(in, "cap_next must point at or above 0x60 into the device's cfg_read space", 0);
	return 0;
}

static int pick_slot(struct pci_host *h, struct instance *in, unsigned *slot)
{
	const char *want = inst_config_str(in, "pci_slot");
	int64_t n;

	if (want && !cfg_parse_int(want, &n)) {
		if (n < 1 || n >= NSLOTS) {
			inst_err(in, "pci_slot", "pci_slot = %lld: slots are 1-%d",
				 (long long)n, NSLOTS - 1);
			return -EINVAL;
		}
		if (h->dev[n]) {
			const struct instance *o = h->dev[n]->in;

			inst_err(in, "pci_slot", "pci_slot = %lld is taken by [%s]",
				 (long long)n, o && o->sec ? o->sec->name : "the host bridge");
			return -EBUSY;
		}
		*slot = (unsigned)n;
		return 0;
	}
	for (unsigned s = 1; s < NSLOTS; s++) {
		if (!h->dev[s]) {
			*slot = s;
			return 0;
		}
	}
	inst_err(in, NULL, "all %d PCI slots are taken", NSLOTS - 1);
	return -EBUSY;
}

static int add_bars(struct hv_pci_dev *d)
{
	struct vm *vm = d->h->vm;
	const struct hv_pci_info *f = &d->info;
	int rc;

	for (int i = 0; i < 6; i++) {
		struct bar *b = &d->bar[i];
		const struct hv_pci_bar *fb = &f->bar[i];

		if (f->msix_vectors && i == f->msix_bar) {
			uint64_t need = d->pba_off + (f->msix_vectors + 63) / 64 * 8;
			b->size = 4096;
			while (b->size < need)
				b->size <<= 1;
			b->flags = HV_PCI_BAR_MEM32;
			b->bus = &vm->mmio;
			rc = bus_add_parked(b->bus, b->size, &msix_ops, d, d->in, &b->r);
		} else if (fb->flags & HV_PCI_BAR_RAM) {
			b->size = fb->size;
			b->flags = fb->flags;
			b->mem = devmem_new(vm, "pci-bar-ram", b->size);
			rc = b->mem < 0 ? b->mem : 0;
			if (rc)
				inst_err(d->in, NULL, "RAM BAR%d: %llu bytes: %s", i,
					 (unsigned long long)b->size, strerror(-rc));
		} else if (fb->flags) {
			b->size = fb->size;
			b->flags = fb->flags;
			b->bus = fb->flags & HV_PCI_BAR_IO ? &vm->pio : &vm->mmio;
			rc = bus_add_parked(b->bus, b->size, fb->ops, fb->opaque, d->in, &b->r);
		} else {
			continue;
		}
		if (rc)
			return rc;
	}
	return 0;
}

int pci_register(struct hv_ctx *ctx, const struct hv_pci_info *info,
		 size_t info_size, size_t bar_size, struct hv_pci_dev **out)
{
	struct instance *in = inst_of(ctx);
	struct pci_host *h = in->vm ? in->vm->pci : NULL;
	struct hv_pci_dev *d;
	unsigned slot;
	int rc;

	if (!h) {
		inst_err(in, NULL, "a PCI device needs machine = pc");
		return -ENODEV;
	}
	if (in->pci) {
		inst_err(in, NULL, "hv_pci_register called twice");
		return -EBUSY;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	memcpy(&d->info, info, info_size < sizeof(d->info) ? info_size : sizeof(d->info));
	/* the plugin's BAR entries, each as far as both sides know them */
	for (int i = 0; d->info.bar && i < 6; i++)
		memcpy(&d->bars[i], (const char *)d->info.bar + i * bar_size,
		       bar_size < sizeof(d->bars[i]) ? bar_size : sizeof(d->bars[i]));
	d->info.bar = d->bars;
	if ((rc = check_info(in, &d->info)) || (rc = pick_slot(h, in, &slot)))
		goto out_free;
	d->h = h, d->in = in, d->slot = slot;
	d->gsi = pci_gsi(slot, d->info.irq_pin ? d->info.irq_pin : 1);
	d->pba_off = d->info.msix_vectors * 16;
	if (d->info.msix_vectors &&
	    !(d->msix = calloc(d->info.msix_vectors, sizeof(*d->msix)))) {
		rc = -ENOMEM;
		goto out_free;
	}
	if ((rc = add_bars(d))) /* regions left parked go with the instance */
		goto out_free;
	header_init(d);
	h->dev[slot] = d;
	in->pci = d;
	if (out)
		*out = d;
	return 0;
out_free:
	free(d->msix);
	free(d);
	return rc;
}

/* ---- device memory (hv/devmem.h) ---- */

static struct bar *ram_bar(struct hv_ctx *ctx, struct hv_pci_dev *d,
			   unsigned i)
{
	if (!d || d->in != inst_of(ctx) || i >= 6 ||
	    !(d->bar[i].flags & HV_PCI_BAR_RAM))
		return NULL;
	return &d->bar[i];
}

void *pci_bar_ram(struct hv_ctx *ctx, struct hv_pci_dev *d, unsigned bar)
{
	struct bar *b = ram_bar(ctx, d, bar);

	return b ? devmem_ptr(d->h->vm, b->mem) : NULL;
}

int pci_bar_dirty(struct hv_ctx *ctx, struct hv_pci_dev *d, unsigned bar,
		  uint64_t *bitmap, size_t bitmap_bytes)
{
	struct bar *b = ram_bar(ctx, d, bar);

	if (!b || !bitmap)
		return -EINVAL;
	return vm_dirty_log_get(d->h->vm, b->mem, bitmap, bitmap_bytes, 1);
}

/* ---- snapshots ---- */

int pci_dev_save(struct hv_pci_dev *d, struct hv_state *st)
{
	uint32_t ver = STATE_VERSION;
	int rc;

	if ((rc = state_write(st, &ver, 4)) || (rc = state_write(st, d->cfg, 256)) ||
	    (rc = state_write(st, d->pba, sizeof(d->pba))) ||
	    (rc = state_write(st, &d->intx, sizeof(d->intx))))
		return rc;
	return d->info.msix_vectors ?
		state_write(st, d->msix, d->info.msix_vectors * sizeof(*d->msix)) : 0;
}

int pci_dev_restore(struct hv_pci_dev *d, struct hv_state *st)
{
	uint32_t ver;
	int rc;

	if ((rc = state_read(st, &ver, 4)) || ver != STATE_VERSION)
		return rc ? rc : -EINVAL;
	if ((rc = state_read(st, d->cfg, 256)) ||
	    (rc = state_read(st, d->pba, sizeof(d->pba))) ||
	    (rc = state_read(st, &d->intx, sizeof(d->intx))))
		return rc;
	if (d->info.msix_vectors &&
	    (rc = state_read(st, d->msix, d->info.msix_vectors * sizeof(*d->msix))))
		return rc;
	decode_bars(d);
	intx_update(d);
	return 0;
}
