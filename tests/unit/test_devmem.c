/*
 * Device memory and dirty logging without a guest OS: a RAM BAR follows
 * its BAR through sizing, moves and decoding (same host pointer, same
 * contents), refuses RAM, other BARs and MMIO under it; the core's own
 * writes mark pages; the interpreter's write path marks pages in RAM and
 * device memory (a real emu vCPU running a few instructions); the VGA
 * window switches between device RAM, MMIO and system RAM; KVM's dirty
 * log ioctls on a slot with logging (where /dev/kvm opens).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>

#include "check.h"
#include "devmem.h"
#include "config.h"

#include <hv/hv.h>
#include "instance.h"
#include "pc/pc.h"
#include "pc/pci.h"
#include "plugin.h"
#include "unit.h"
#include "vmharness.h"
#include "vm.h"

#define HEAD "[vm]\nkernel = /bin/sh\nmemory = 64M\n"
#define TESTDEV "[device t]\nplugin = pci-testdev\npci_slot = 3\nram_bar = 64K\n"
#define BDF (3 << 3)

static const char *vm_up(struct harness *h, const char *ini,
			 const struct accel_ops *accel, int with_accel)
{
	static const char *const fixtures[] = { "vga_claim", NULL };

	unit_capture_begin();
	harness_load(h, 1, fixtures);
	harness_build(h, ini, accel);
	if (h->ok && with_accel) {
		h->ok = accel->vm_create(&h->vm) == 0;
		h->vm.cpu[0].vm = &h->vm;
		h->ok = h->ok && accel->vcpu_create(&h->vm.cpu[0]) == 0;
	}
	if (h->ok) {
		vm_reset_devices(&h->vm);
		h->ok = pc_power_on(&h->vm) == 0;
	}
	return unit_capture_end();
}

static struct instance *find_plugin(struct harness *h, const char *plugin)
{
	for (struct instance *in = h->vm.instances; in; in = in->next)
		if (!strcmp(in->plugin->desc.name, plugin))
			return in;
	return NULL;
}

static uint32_t cfg_rd(struct harness *h, unsigned reg)
{
	return pci_cfg_read(h->vm.pci, BDF, reg, 4);
}

static void cfg_wr(struct harness *h, unsigned reg, unsigned size, uint32_t v)
{
	pci_cfg_write(h->vm.pci, BDF, reg, size, v);
}

/* What the guest finds at gpa: the device memory's host address or NULL. */
static void *at(struct harness *h, uint64_t gpa)
{
	const struct mem_region *r = mem_find(&h->vm.mem, gpa);

	return r && r->kind == MEM_DEV ? r->hva + (gpa - r->gpa) : NULL;
}

static uint64_t mmio_rd(struct harness *h, uint64_t a)
{
	uint64_t v = 0;

	return vm_mmio(&h->vm, a, 4, 0, &v) ? ~0ull : v;
}

static void ram_bar_follows_the_bar(void)
{
	struct harness h;
	struct instance *in;
	uint8_t *p;
	uint32_t bar, v = 0;

	vm_up(&h, HEAD TESTDEV, &accel_kvm, 0);
	CHECK(h.ok);
	in = find_plugin(&h, "pci-testdev");
	CHECK(in && in->pci);
	if (!h.ok || !in)
		goto out;
	p = pci_bar_ram(&in->ctx, in->pci, 4);
	CHECK(p != NULL);
	CHECK(pci_bar_ram(&in->ctx, in->pci, 0) == NULL); /* an MMIO BAR */
	bar = cfg_rd(&h, 0x20);
	CHECK(bar && !(bar & 0xffff) && bar >= PC_PCI_MEM32); /* assigned, decoding */
	CHECK(at(&h, bar) == p && at(&h, bar + 0xfffc) == p + 0xfffc);
	CHECK(at(&h, bar + 0x10000) == NULL);
	CHECK(*(uint32_t *)(p + 8) == 0x52414d21); /* the device's reset */
	memcpy(p + 0x3000, "moved", 6);
	/* sizing with decoding off */
	cfg_wr(&h, 4, 2, 0);
	CHECK(at(&h, bar) == NULL);
	cfg_wr(&h, 0x20, 4, ~0u);
	CHECK(cfg_rd(&h, 0x20) == 0xffff0000);
	cfg_wr(&h, 0x20, 4, bar + 0x100000);
	CHECK(at(&h, bar + 0x100000) == NULL);
	cfg_wr(&h, 4, 2, 2);
	CHECK(at(&h, bar) == NULL);
	CHECK(at(&h, bar + 0x100000) == p);
	CHECK(mem_read(&h.vm.mem, bar + 0x103000, &v, 4) == 0 && !memcmp(&v, "move", 4));
	CHECK(pci_bar_ram(&in->ctx, in->pci, 4) == p);
	/* moved with decoding on, too */
	cfg_wr(&h, 0x20, 4, bar + 0x200000);
	CHECK(at(&h, bar + 0x100000) == NULL && at(&h, bar + 0x200000) == p);
	/* DMA does not reach device memory: mem_write is for RAM */
	CHECK(mem_write(&h.vm.mem, bar + 0x200000, &v, 4) == -EFAULT);
out:
	vm_down(&h);
}

static void ram_bar_overlaps_refused(void)
{
	struct harness h;
	struct instance *in;
	uint32_t bar, regs;
	uint8_t *p;
	int idx = -1;

	vm_up(&h, HEAD TESTDEV, &accel_kvm, 0);
	in = find_plugin(&h, "pci-testdev");
	CHECK(h.ok && in);
	if (!h.ok || !in)
		goto out;
	p = pci_bar_ram(&in->ctx, in->pci, 4);
	bar = cfg_rd(&h, 0x20);
	regs = cfg_rd(&h, 0x10) & ~0xfu;
	CHECK(mmio_rd(&h, regs) == 0x7e57de00);
	/* over the register BAR: not decoded, the registers stay */
	cfg_wr(&h, 0x20, 4, regs & 0xffff0000);
	CHECK(at(&h, regs) == NULL && at(&h, bar) == NULL);
	CHECK(mmio_rd(&h, regs) == 0x7e57de00);
	/* over guest RAM: not decoded, RAM stays RAM */
	cfg_wr(&h, 0x20, 4, 0x100000);
	CHECK(at(&h, 0x100000) == NULL);
	CHECK(mem_find(&h.vm.mem, 0x100000)->kind == MEM_RAM);
	/* back to its place; then the register BAR onto it: not decoded */
	cfg_wr(&h, 0x20, 4, bar);
	CHECK(at(&h, bar) == p);
	cfg_wr(&h, 0x10, 4, bar + 0x1000);
	CHECK(mmio_rd(&h, bar + 0x1000) != 0x7e57de00);
	CHECK(mmio_rd(&h, regs) == ~0ull);
	cfg_wr(&h, 0x10, 4, regs);
	CHECK(mmio_rd(&h, regs) == 0x7e57de00);
	/* the map itself refuses overlaps and bad places */
	for (int i = 0; i < h.vm.mem.n; i++)
		if (h.vm.mem.r[i].hva == p)
			idx = i;
	CHECK(idx >= 0);
	CHECK(devmem_place(&h.vm, idx, 0x200000) == -EBUSY);
	CHECK(devmem_place(&h.vm, idx, bar + 1) == -EINVAL);
	CHECK(devmem_place(&h.vm, idx, ~0ull & ~0xfffull) == -EINVAL);
	CHECK(devmem_place(&h.vm, 0, 0x200000) == -EINVAL); /* RAM never moves */
	CHECK(at(&h, bar) == p);
out:
	vm_down(&h);
	/* a RAM BAR that is not a power of two from 4 KiB is refused */
	CHECK_CONTAINS(vm_up(&h, HEAD "[device t]\nplugin = pci-testdev\nram_bar = 2K\n",
			     &accel_kvm, 0), "RAM BAR is a memory BAR of a power of two from 4096 bytes, BAR 4");
	CHECK(!h.ok);
	vm_down(&h);
}

static void core_writes_mark_dirty(void)
{
	struct mem_map m = { 0 };
	uint64_t map[2] = { 0 }, big[4];
	uint8_t buf[8192] = { 1 };
	int dev;

	CHECK(mem_add_ram(&m, "ram", 0, 1 << 20) == 0);
	CHECK(mem_log_take(&m, 0, map, 8, 1) == -ENOENT); /* not logging */
	mem_mark_dirty(&m, 0, 4096); /* nothing to mark: no crash */
	CHECK(mem_log_alloc(&m, 0) == 0);
	CHECK(mem_write(&m, 0x2fff, buf, 2) == 0);   /* pages 2 and 3 */
	CHECK(mem_ptr(&m, 0x9000, 16, MEM_WRITE) != NULL); /* page 9 */
	CHECK(mem_ptr(&m, 0xa000, 16, 0) != NULL);   /* a read: no mark */
	CHECK(mem_write(&m, 0xff000, buf, 8192) == -EFAULT); /* nothing */
	mem_mark_dirty(&m, 0x40000, 1);              /* page 64 */
	mem_mark_dirty(&m, ~0ull - 10, 100);         /* wraps: ignored */
	CHECK(mem_log_take(&m, 0, map, 16, 0) == 0);
	CHECK(map[0] == (1ull << 2 | 1ull << 3 | 1ull << 9) && map[1] == 1);
	CHECK(mem_log_take(&m, 0, map, 8, 1) == 0);  /* clear the first 64 */
	CHECK(mem_log_take(&m, 0, map, 16, 1) == 0);
	CHECK(map[0] == 0 && map[1] == 1);           /* page 64 kept for later */
	CHECK(mem_log_take(&m, 0, map, 12, 1) == -EINVAL);
	/* a device entry: its bits are relative to it, wherever it is */
	dev = mem_add_dev(&m, "dev", 3 * 64 * 4096);
	CHECK(dev == 1 && mem_log_alloc(&m, dev) == 0);
	CHECK(mem_place(&m, dev, 0x80000) == -EBUSY); /* over RAM */
	CHECK(mem_place(&m, dev, 0x10000000) == 0);
	mem_mark_dirty(&m, 0x10000000 + 65 * 4096, 4096);
	mem_unplace(&m, dev);
	mem_mark_dirty(&m, 0x10000000, 4096);        /* not there any more */
	CHECK(mem_place(&m, dev, 0x20000000) == 0);
	mem_mark_dirty(&m, 0x20000000 + 130 * 4096 + 4095, 2); /* 130, 131 */
	CHECK(mem_log_take(&m, dev, big, sizeof(big), 1) == 0);
	CHECK(big[0] == 0 && big[1] == 2 && big[2] == 0xc && big[3] == 0);
	mem_log_free(&m, dev);
	mem_log_free(&m, 0);
	CHECK(m.logging == 0);
	mem_destroy(&m);
}

struct racer {
	struct mem_map *m;
	int stop;
	long reads, bad;
};

/* Lookups and copies while the entry jumps between two places and away:
 * each one sees the old place, the new one or nothing, never memory
 * outside the entry (ASan watches) nor another entry's bytes. */
static void *reader(void *arg)
{
	struct racer *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		for (uint64_t a = 0x10000000; a <= 0x10080000; a += 0x80000) {
			uint64_t off = 0x1fff8, v = 0;
			uint8_t *p;

			if (mem_read(r->m, a + off, &v, 8) == 0) {
				__atomic_fetch_add(&r->reads, 1, __ATOMIC_RELAXED);
				r->bad += v != 0x5a5a5a5a5a5a5a5aull;
			}
			p = mem_ptr(r->m, a + off, 8, 0);
			if (p)
				r->bad += *(uint64_t *)p != 0x5a5a5a5a5a5a5a5aull;
			mem_mark_dirty(r->m, a + off, 16);
		}
	}
	return NULL;
}

static void moves_race_lookups(void)
{
	struct mem_map m = { 0 };
	struct racer r = { .m = &m };
	pthread_t t;
	long i;
	int dev;

	CHECK(mem_add_ram(&m, "ram", 0, 1 << 20) == 0);
	dev = mem_add_dev(&m, "dev", 0x20000);
	CHECK(dev == 1 && mem_log_alloc(&m, dev) == 0);
	memset(m.r[dev].hva, 0x5a, 0x20000);
	CHECK(pthread_create(&t, NULL, reader, &r) == 0);
	/* until the reader has landed enough reads in the middle of moves */
	for (i = 0; i < 200000 || (__atomic_load_n(&r.reads, __ATOMIC_RELAXED) < 20000 &&
				   i < 50000000); i++) {
		if (i % 3 == 2)
			mem_unplace(&m, dev);
		else
			mem_place(&m, dev, 0x10000000 + (uint64_t)(i % 2) * 0x80000);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	CHECK(r.bad == 0 && r.reads > 0);
	printf("# %ld reads landed during %ld moves\n", r.reads, i);
	mem_destroy(&m);
}

/* Real mode: two words into the VGA window (pages 0 and 3 of it), one
 * into RAM page 8; cli; hlt. */
static const uint8_t code[] = {
	0xb8, 0x00, 0xa0,                   /* mov ax, 0xa000 */
	0x8e, 0xd8,                         /* mov ds, ax */
	0xc7, 0x06, 0x00, 0x00, 0x11, 0x11, /* mov word [0x0000], 0x1111 */
	0xc7, 0x06, 0x00, 0x30, 0x33, 0x33, /* mov word [0x3000], 0x3333 */
	0x31, 0xc0,                         /* xor ax, ax */
	0x8e, 0xd8,                         /* mov ds, ax */
	0xc7, 0x06, 0x00, 0x80, 0x88, 0x88, /* mov word [0x8000], 0x8888 */
	0xfa, 0xf4,                         /* cli; hlt */
};

static int run_code(struct harness *h)
{
	struct x86_state st;

	x86_state_reset(&st);
	x86_seg_real(&st.seg[X86_CS], 0, 1);
	st.rip = 0x7c00;
	if (mem_load(&h->vm.mem, 0x7c00, code, sizeof(code)) ||
	    h->vm.accel->vcpu_set_state(&h->vm.cpu[0], &st))
		return -1;
	return h->vm.accel->vcpu_run(&h->vm.cpu[0]);
}

static int ram_index(struct vm *vm, uint64_t gpa)
{
	const struct mem_region *r = mem_find(&vm->mem, gpa);

	return r ? (int)(r - vm->mem.r) : -1;
}

static void emu_write_path_marks_pages(void)
{
	struct harness h;
	struct instance *in;
	uint64_t map[8];
	uint16_t w = 0;
	uint8_t *vram;
	int ram;

	vm_up(&h, HEAD "[device v]\nplugin = vga-claim\nmode = 2\n", &accel_emu, 1);
	in = find_plugin(&h, "vga-claim");
	CHECK(h.ok && in);
	if (!h.ok || !in)
		goto out;
	vram = ((uint8_t **)in->ctx.state)[2]; /* struct vga's ram */
	CHECK(vga_window(in, HV_VGA_RAM, (void **)&vram) == 0 && vram);
	ram = ram_index(&h.vm, 0x8000);
	CHECK(vm_dirty_log_start(&h.vm, ram) == 0);
	CHECK(vga_dirty(in, map, 8) == 0);  /* a clean start */
	CHECK(run_code(&h) == VCPU_EXIT_HALT);
	CHECK(vram[0] == 0x11 && vram[0x3000] == 0x33);
	CHECK(vga_dirty(in, map, 8) == 0 && map[0] == 0x9);
	CHECK(vga_dirty(in, map, 8) == 0 && map[0] == 0);
	CHECK(vm_dirty_log_get(&h.vm, ram, map, 64, 1) == 0);
	CHECK(map[0] & 1ull << 8);          /* RAM page 8 */
	CHECK(!(map[0] & 0x7f));            /* nothing written below the stack */
	CHECK(((uint64_t *)in->ctx.state)[0] == 0); /* no trapped writes */
	/* planar mode: the same stores trap to the device, memory untouched */
	memset(vram, 0, 0x20000);
	CHECK(vga_window(in, HV_VGA_MMIO, NULL) == 0);
	CHECK(run_code(&h) == VCPU_EXIT_HALT);
	CHECK(((uint64_t *)in->ctx.state)[0] == 2 && ((uint64_t *)in->ctx.state)[1] == 0x3000);
	CHECK(vram[0] == 0 && vram[0x3000] == 0);
	CHECK(vga_dirty(in, map, 8) == 0 && map[0] == 0);
	/* and system RAM under the window again */
	CHECK(vga_window(in, HV_VGA_SYSTEM, NULL) == 0);
	CHECK(run_code(&h) == VCPU_EXIT_HALT);
	CHECK(mem_read(&h.vm.mem, 0xa3000, &w, 2) == 0 && w == 0x3333);
	CHECK(vram[0x3000] == 0 && ((uint64_t *)in->ctx.state)[0] == 2);
	CHECK(vga_window(in, HV_VGA_RAM, NULL) == 0 && mem_find(&h.vm.mem, 0xa0000)->hva == vram);
	vm_dirty_log_stop(&h.vm, ram);
	CHECK(vm_dirty_log_get(&h.vm, ram, map, 64, 1) == -ENOENT);
out:
	vm_down(&h);
}

static void vga_window_rules(void)
{
	struct harness h;
	struct instance *in;
	struct e820_entry e[16];
	struct hv_vm_info vi;
	int n, found = 0;

	/* two claims: the second device is refused */
	vm_up(&h, HEAD "[device v]\nplugin = vga-claim\n[device w]\nplugin = vga-claim\n",
	      &accel_kvm, 0);
	CHECK(!h.ok);
	vm_down(&h);
	vm_up(&h, HEAD "[device v]\nplugin = vga-claim\nmode = 1\n", &accel_kvm, 0);
	in = find_plugin(&h, "vga-claim");
	CHECK(h.ok && in);
	if (!h.ok || !in)
		goto out;
	CHECK(mem_find(&h.vm.mem, 0xa0000) == NULL); /* MMIO: a hole */
	CHECK(mem_find(&h.vm.mem, 0x9f000) && mem_find(&h.vm.mem, 0xc0000));
	CHECK(vga_window(in, 3, NULL) == -EINVAL);
	/* the RAM the claim hides still counts (the CMOS memory sizes) */
	CHECK(hv_vm_info_get(&in->ctx, &vi) == 0 && vi.ram_below_4g == 64 << 20);
	/* e820 is what it was without the claim: one low RAM range */
	n = pc_e820(&h.vm, e, 16);
	for (int i = 0; i < n; i++) {
		CHECK(!(e[i].type == E820_RAM && e[i].addr < 0x100000 &&
			e[i].addr + e[i].size > 0x9fc00));
		if (e[i].type == E820_RAM && e[i].addr == 0x100000)
			found = e[i].size == (64 << 20) - 0x100000;
	}
	CHECK(found);
out:
	vm_down(&h);
}

static void kvm_dirty_log(void)
{
	struct harness h;
	uint64_t map[2];
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), bar = -1;

	if (fd < 0) {
		printf("# no /dev/kvm: KVM's dirty log is left to the guest tests\n");
		return;
	}
	close(fd);
	vm_up(&h, HEAD TESTDEV, &accel_kvm, 1);
	CHECK(h.ok);
	if (!h.ok)
		goto out;
	bar = ram_index(&h.vm, cfg_rd(&h, 0x20) & ~0xfu);
	CHECK(bar >= 0 && h.vm.mem.r[bar].kind == MEM_DEV);
	/* KVM_GET_DIRTY_LOG on the logged slot: nothing written yet */
	CHECK(vm_dirty_log_get(&h.vm, bar, map, 16, 1) == 0 && !map[0] && !map[1]);
	/* RAM: KVM_MEM_LOG_DIRTY_PAGES set on a live slot, then taken off */
	CHECK(vm_dirty_log_start(&h.vm, 0) == 0);
	CHECK(vm_dirty_log_get(&h.vm, 0, map, 16, 1) == 0);
	vm_dirty_log_stop(&h.vm, 0);
	/* a move with logging on: the slot goes and comes back */
	cfg_wr(&h, 0x20, 4, (cfg_rd(&h, 0x20) & ~0xfu) + 0x100000);
	CHECK(vm_dirty_log_get(&h.vm, bar, map, 16, 1) == 0);
out:
	vm_down(&h);
}

int main(void)
{
	TEST(ram_bar_follows_the_bar);
	TEST(ram_bar_overlaps_refused);
	TEST(core_writes_mark_dirty);
	TEST(moves_race_lookups);
	TEST(emu_write_path_marks_pages);
	TEST(vga_window_rules);
	TEST(kvm_dirty_log);
	return unit_failed_total != 0;
}
