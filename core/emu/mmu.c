/*
 * Linear and physical memory: segmentation checks, the page walk (2-level,
 * PAE, 4-level; PSE, NX, WP, accessed/dirty), the software TLB and the
 * guest-physical accesses through struct emu_host.
 *
 * The TLB caches, per linear page and privilege (user/supervisor), the
 * host address of a RAM page and which of read/write/execute the page
 * tables allow. Misses, MMIO and page-crossing accesses take the slow path.
 * Pages holding decoded code never get a write tag, so every store to them
 * comes here and drops the stale decodes (self-modifying code).
 */
#include <errno.h>
#include <string.h>

#include "cache.h"
#include "seg.h"

#define PG_P 0x1ull
#define PG_RW 0x2ull
#define PG_US 0x4ull
#define PG_A 0x20ull
#define PG_D 0x40ull
#define PG_PS 0x80ull
#define PG_NX (1ull << 63)
#define PG_ADDR 0x000ffffffffff000ull

/* ---- guest-physical ---- */
static uint8_t *phys_page(struct emu_cpu *cpu, uint64_t gpa, int *rom)
{
	*rom = 0;
	return cpu->host->page(cpu->host->opaque, gpa & ~0xfffull, rom);
}

uint64_t emu_read_phys(struct emu_cpu *cpu, uint64_t gpa, unsigned size)
{
	int rom;
	uint8_t *p = phys_page(cpu, gpa, &rom);
	uint64_t v = 0;

	if ((gpa & 0xfff) + size > 4096) {
		unsigned first = 4096 - (gpa & 0xfff);

		v = emu_read_phys(cpu, gpa, first);
		return v | emu_read_phys(cpu, gpa + first, size - first)
				   << (8 * first);
	}
	if (p) {
		memcpy(&v, p + (gpa & 0xfff), size);
		return v;
	}
	if (cpu->host->mmio(cpu->host->opaque, gpa, size, 0, &v) < 0)
		v = ~0ull;
	return v & size_mask(size);
}

void emu_write_phys(struct emu_cpu *cpu, uint64_t gpa, unsigned size,
		    uint64_t val)
{
	int rom;
	uint8_t *p;

	if ((gpa & 0xfff) + size > 4096) {
		unsigned first = 4096 - (gpa & 0xfff);

		emu_write_phys(cpu, gpa, first, val);
		emu_write_phys(cpu, gpa + first, size - first,
			       val >> (8 * first));
		return;
	}
	p = phys_page(cpu, gpa, &rom);
	if (p) {
		if (rom != 1) {
			emu_code_written(cpu, gpa, size);
			memcpy(p + (gpa & 0xfff), &val, size);
			if (rom == 2)
				cpu->host->dirty(cpu->host->opaque, gpa, size);
		}
		return;
	}
	cpu->host->mmio(cpu->host->opaque, gpa, size, 1, &val);
}

/* ---- page walk ---- */
__attribute__((noreturn)) static void page_fault(struct emu_cpu *cpu,
						 uint64_t lin, uint32_t err)
{
	cpu->cr2 = lin;
	emu_raise(cpu, EXC_PF, 1, err);
}

/* Sets A (and D on the leaf for writes) atomically: other vCPUs may walk
 * or update the same entry concurrently. */
static void set_ad(struct emu_cpu *cpu, uint64_t gpa, uint64_t bits, int wide)
{
	int rom;
	uint8_t *p = phys_page(cpu, gpa, &rom);
	uint64_t old;

	if (!p || rom == 1)
		return;
	p += gpa & 0xfff;
	if (wide)
		old = __atomic_fetch_or((uint64_t *)(void *)p, bits, __ATOMIC_SEQ_CST);
	else
		old = __atomic_fetch_or((uint32_t *)(void *)p, (uint32_t)bits,
					__ATOMIC_SEQ_CST);
	if (rom == 2 && (old & bits) != bits) /* a page table being logged */
		cpu->host->dirty(cpu->host->opaque, gpa, wide ? 8 : 4);
}

struct walk {
	uint64_t gpa;
	int rw, us, nx, large;
};

/* PAE/4-level entries: reserved physical address bits above 52 and the
 * NX bit when EFER.NXE is clear. */
static int rsvd64(struct emu_cpu *cpu, uint64_t e)
{
	if (!(cpu->efer & X86_EFER_NXE) && (e & PG_NX))
		return 1;
	return (e & 0x7ff0000000000000ull) != 0;
}

static int walk64(struct emu_cpu *cpu, uint64_t lin, int write, struct walk *w,
		  uint32_t *err)
{
	int lvl = (cpu->efer & X86_EFER_LMA) ? 4 : 3;
	uint64_t table = cpu->cr3 & (lvl == 4 ? PG_ADDR : 0xffffffe0ull);
	uint64_t e = 0, eaddr;

	w->rw = w->us = 1;
	w->nx = 0;
	w->large = 0;
	for (; lvl >= 1; lvl--) {
		unsigned shift = 12 + 9 * (lvl - 1);
		unsigned idx = (lin >> shift) & 511;

		if (lvl == 3 && !(cpu->efer & X86_EFER_LMA)) {
			idx = (lin >> 30) & 3;
			eaddr = table + idx * 8;
			e = emu_read_phys(cpu, eaddr, 8);
			if (!(e & PG_P))
				return -1;
			if (e & 0x1e6ull) {
				*err |= 8;
				return -1;
			}
			table = e & PG_ADDR;
			continue;
		}
		eaddr = (table & PG_ADDR) + idx * 8;
		e = emu_read_phys(cpu, eaddr, 8);
		if (!(e & PG_P))
			return -1;
		if (rsvd64(cpu, e) || (lvl == 4 && (e & PG_PS))) {
			*err |= 8;
			return -1;
		}
		w->rw &= !!(e & PG_RW);
		w->us &= !!(e & PG_US);
		w->nx |= !!(e & PG_NX);
		if (lvl == 1 || (e & PG_PS)) {
			uint64_t pmask = (1ull << shift) - 1;

			if (lvl > 1 && (e & PG_ADDR & pmask & ~0x1000ull)) {
				*err |= 8; /* reserved bits in a large page */
				return -1;
			}
			w->large = lvl > 1;
			w->gpa = (e & PG_ADDR & ~pmask) | (lin & pmask);
			if (!(e & PG_A) || (write && !(e & PG_D)))
				set_ad(cpu, eaddr, PG_A | (write ? PG_D : 0), 1);
			return 0;
		}
		if (!(e & PG_A))
			set_ad(cpu, eaddr, PG_A, 1);
		table = e & PG_ADDR;
	}
	return -1;
}

static int walk32(struct emu_cpu *cpu, uint64_t lin, int write,
		  struct walk *w)
{
	uint64_t pde_a = (cpu->cr3 & 0xfffff000u) + ((lin >> 22) & 1023) * 4;
	uint32_t pde = (uint32_t)emu_read_phys(cpu, pde_a, 4), pte;
	uint64_t pte_a;

	w->nx = 0;
	w->large = 0;
	if (!(pde & PG_P))
		return -1;
	if ((pde & PG_PS) && (cpu->cr4 & 0x10)) { /* PSE 4 MiB page */
		w->rw = !!(pde & PG_RW);
		w->us = !!(pde & PG_US);
		w->large = 1;
		w->gpa = (pde & 0xffc00000u) | (lin & 0x3fffff) |
			 ((uint64_t)(pde >> 13) & 0xff) << 32;
		if (!(pde & PG_A) || (write && !(pde & PG_D)))
			set_ad(cpu, pde_a, PG_A | (write ? PG_D : 0), 0);
		return 0;
	}
	if (!(pde & PG_A))
		set_ad(cpu, pde_a, PG_A, 0);
	pte_a = (pde & 0xfffff000u) + ((lin >> 12) & 1023) * 4;
	pte = (uint32_t)emu_read_phys(cpu, pte_a, 4);
	if (!(pte & PG_P))
		return -1;
	w->rw = (pde & PG_RW) && (pte & PG_RW);
	w->us = (pde & PG_US) && (pte & PG_US);
	w->gpa = (pte & 0xfffff000u) | (lin & 0xfff);
	if (!(pte & PG_A) || (write && !(pte & PG_D)))
		set_ad(cpu, pte_a, PG_A | (write ? PG_D : 0), 0);
	return 0;
}

/*
 * Linear to physical for one access. probe: return with *ok = 0 instead
 * of raising #PF. The returned walk permissions say what else the page
 * allows, for the TLB.
 */
static uint64_t translate(struct emu_cpu *cpu, uint64_t lin, int write,
			  int user, int exec, int probe, int *ok,
			  struct walk *w)
{
	uint32_t err = (write ? 2 : 0) | (user ? 4 : 0);
	int r;

	*ok = 1;
	if (!(cpu->cr0 & X86_CR0_PG)) {
		w->rw = w->us = 1;
		w->nx = 0;
		w->large = 0;
		w->gpa = (cpu->efer & X86_EFER_LMA) ? lin : (uint32_t)lin;
		return w->gpa;
	}
	if (exec && (cpu->efer & X86_EFER_NXE))
		err |= 0x10;
	if (cpu->cr4 & X86_CR4_PAE)
		r = walk64(cpu, lin, write, w, &err);
	else
		r = walk32(cpu, lin, write, w);
	if (r == 0) {
		err |= 1; /* present: a protection fault if any */
		if (user && !w->us)
			r = -1;
		else if (write && !w->rw && (user || (cpu->cr0 & X86_CR0_WP)))
			r = -1;
		else if (exec && w->nx && (cpu->efer & X86_EFER_NXE))
			r = -1;
	}
	if (r == 0)
		return w->gpa;
	*ok = 0;
	if (!probe)
		page_fault(cpu, lin, err);
	return 0;
}

uint64_t emu_translate(struct emu_cpu *cpu, uint64_t lin, int write,
		       int user, int exec, int probe, int *ok)
{
	struct walk w;

	return translate(cpu, lin, write, user, exec, probe, ok, &w);
}

/* ---- TLB ---- */
void emu_tlb_flush(struct emu_cpu *cpu)
{
	memset(cpu->tlb, 0xff, sizeof(cpu->tlb));
	cpu->tlb_large = 0;
}

void emu_invlpg(struct emu_cpu *cpu, uint64_t lin)
{
	unsigned i = (lin >> 12) % EMU_TLB_SIZE;

	if (cpu->tlb_large) {
		emu_tlb_flush(cpu);
		return;
	}
	memset(&cpu->tlb[0][i], 0xff, sizeof(cpu->tlb[0][i]));
	memset(&cpu->tlb[1][i], 0xff, sizeof(cpu->tlb[1][i]));
}

static inline int user_access(struct emu_cpu *cpu)
{
	return cpu->cpl == 3;
}

/* Fill the TLB for one access; returns the host address or NULL (MMIO,
 * ROM write) with *gpa set. */
static uint8_t *tlb_fill(struct emu_cpu *cpu, uint64_t lin, int acc,
			 int user, uint64_t *gpa)
{
	struct walk w;
	int ok, rom, wr = acc == 1, ex = acc == 2;
	uint64_t pa = translate(cpu, lin, wr, user, ex, 0, &ok, &w);
	uint8_t *page = phys_page(cpu, pa, &rom);
	struct emu_tlb_entry *e;
	uint64_t lp = lin & ~0xfffull;

	*gpa = pa;
	if (!page)
		return NULL;
	e = &cpu->tlb[user][(lin >> 12) % EMU_TLB_SIZE];
	if (e->gpa != (pa & ~0xfffull) || e->tag_r != lp) {
		e->tag_r = e->tag_w = e->tag_x = ~0ull;
	}
	e->gpa = pa & ~0xfffull;
	e->addend = (uintptr_t)page - (uintptr_t)lp;
	e->tag_r = lp;
	if (w.large)
		cpu->tlb_large = 1;
	/* a write tag only after a write walk set the dirty bit */
	/* logged pages (rom == 2) never get one: their writes must be seen */
	if (wr && !rom && !emu_code_page(cpu, pa))
		e->tag_w = lp;
	if (!(w.nx && (cpu->efer & X86_EFER_NXE)))
		e->tag_x = lp;
	/* a page under a data breakpoint keeps no data tags: every access
	 * comes back here and is checked */
	if (cpu->db_data && emu_db_page(cpu, lp))
		e->tag_r = e->tag_w = ~0ull;
	if (wr && rom == 1)
		return NULL;
	return page + (pa & 0xfff);
}

static uint64_t read_slow1(struct emu_cpu *cpu, uint64_t lin, unsigned size,
			   int user, int acc)
{
	uint64_t gpa, v = 0;
	uint8_t *p = tlb_fill(cpu, lin, acc, user, &gpa);

	if (cpu->db_data && acc == 0)
		emu_db_data(cpu, lin, size, 0);
	if (p) {
		memcpy(&v, p, size);
		return v;
	}
	return emu_read_phys(cpu, gpa, size);
}

static uint64_t lin_mask(struct emu_cpu *cpu, uint64_t lin)
{
	return (cpu->efer & X86_EFER_LMA) ? lin : (uint32_t)lin;
}

static uint64_t read_slow(struct emu_cpu *cpu, uint64_t lin, unsigned size,
			  int user, int acc)
{
	unsigned first = 4096 - (lin & 0xfff);
	uint64_t lo, hi;

	if (first >= size)
		return read_slow1(cpu, lin, size, user, acc);
	/* both pages must translate before anything is returned */
	lo = read_slow1(cpu, lin, first, user, acc);
	hi = read_slow1(cpu, lin_mask(cpu, lin + first), size - first, user, acc);
	return lo | hi << (8 * first);
}

uint64_t emu_read_lin(struct emu_cpu *cpu, uint64_t lin, unsigned size)
{
	int u = user_access(cpu);
	struct emu_tlb_entry *e = &cpu->tlb[u][(lin >> 12) % EMU_TLB_SIZE];
	uint64_t v = 0;

	if (e->tag_r == (lin & ~0xfffull) && (lin & 0xfff) + size <= 4096) {
		const void *p = (const void *)(uintptr_t)(lin + e->addend);

		/* constant sizes: no call to memcpy */
		switch (size) {
		case 1: return *(const uint8_t *)p;
		case 2: { uint16_t x; memcpy(&x, p, 2); return x; }
		case 4: { uint32_t x; memcpy(&x, p, 4); return x; }
		case 8: memcpy(&v, p, 8); return v;
		}
		memcpy(&v, p, size);
		return v;
	}
	return read_slow(cpu, lin, size, u, 0);
}

uint64_t emu_read_sys(struct emu_cpu *cpu, uint64_t lin, unsigned size)
{
	return read_slow(cpu, lin, size, 0, 0);
}

static void write_slow1(struct emu_cpu *cpu, uint64_t lin, unsigned size,
			uint64_t v, int user)
{
	uint64_t gpa;
	uint8_t *p = tlb_fill(cpu, lin, 1, user, &gpa);

	if (cpu->db_data)
		emu_db_data(cpu, lin, size, 1);
	if (p) {
		emu_code_written(cpu, gpa, size);
		memcpy(p, &v, size);
		/* off the fast path anyway: a call the dirty log needs */
		if (cpu->host->dirty)
			cpu->host->dirty(cpu->host->opaque, gpa, size);
		return;
	}
	emu_write_phys(cpu, gpa, size, v);
}

static void write_slow(struct emu_cpu *cpu, uint64_t lin, unsigned size,
		       uint64_t v, int user)
{
	unsigned first = 4096 - (lin & 0xfff);
	int ok;

	if (first >= size) {
		write_slow1(cpu, lin, size, v, user);
		return;
	}
	/* fault on the second page before writing the first */
	emu_translate(cpu, lin_mask(cpu, lin + first), 1, user, 0, 0, &ok);
	write_slow1(cpu, lin, first, v, user);
	write_slow1(cpu, lin_mask(cpu, lin + first), size - first,
		    v >> (8 * first), user);
}

void emu_write_lin(struct emu_cpu *cpu, uint64_t lin, unsigned size,
		   uint64_t v)
{
	int u = user_access(cpu);
	struct emu_tlb_entry *e = &cpu->tlb[u][(lin >> 12) % EMU_TLB_SIZE];

	blk_note_write(cpu, lin, size);
	if (e->tag_w == (lin & ~0xfffull) && (lin & 0xfff) + size <= 4096) {
		void *p = (void *)(uintptr_t)(lin + e->addend);

		switch (size) {
		case 1: *(uint8_t *)p = (uint8_t)v; return;
		case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); return; }
		case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); return; }
		case 8: memcpy(p, &v, 8); return;
		}
		memcpy(p, &v, size);
		return;
	}
	write_slow(cpu, lin, size, v, u);
}

void emu_write_sys(struct emu_cpu *cpu, uint64_t lin, unsigned size,
		   uint64_t v)
{
	write_slow(cpu, lin, size, v, 0);
}

void *emu_host_ptr(struct emu_cpu *cpu, uint64_t lin, unsigned size)
{
	int u = user_access(cpu);
	uint64_t gpa;
	uint8_t *p;

	if ((lin & 0xfff) + size > 4096)
		return NULL;
	blk_note_write(cpu, lin, size);
	p = tlb_fill(cpu, lin, 1, u, &gpa);
	if (cpu->db_data)
		emu_db_data(cpu, lin, size, 1);
	if (p) {
		emu_code_written(cpu, gpa, size);
		/* the caller writes next; a log taken in between reports the
		 * page again on the following write */
		if (cpu->host->dirty)
			cpu->host->dirty(cpu->host->opaque, gpa, size);
	}
	return p;
}

/* Host address of the code at lin and how many bytes follow in its page;
 * NULL when executing from MMIO. Raises #PF. */
uint8_t *emu_fetch_ptr(struct emu_cpu *cpu, uint64_t lin, unsigned *avail)
{
	int u = user_access(cpu);
	struct emu_tlb_entry *e = &cpu->tlb[u][(lin >> 12) % EMU_TLB_SIZE];
	uint64_t gpa;

	*avail = 4096 - (lin & 0xfff);
	if (e->tag_x == (lin & ~0xfffull))
		return (uint8_t *)(uintptr_t)(lin + e->addend);
	return tlb_fill(cpu, lin, 2, u, &gpa);
}

uint64_t emu_fetch_gpa(struct emu_cpu *cpu, uint64_t lin)
{
	int u = user_access(cpu);
	struct emu_tlb_entry *e = &cpu->tlb[u][(lin >> 12) % EMU_TLB_SIZE];

	return e->gpa | (lin & 0xfff);
}

uint64_t emu_fetch_byte(struct emu_cpu *cpu, uint64_t lin)
{
	return read_slow(cpu, lin, 1, user_access(cpu), 2);
}

/* ---- segmentation ---- */
__attribute__((noreturn)) static void seg_fault(struct emu_cpu *cpu, int sreg)
{
	/* a real-mode 286 reports every segment overrun as #GP */
	if (cpu->model286 && !cpu->pmode)
		emu_raise(cpu, EXC_GP, 0, 0);
	emu_raise(cpu, sreg == X86_SS ? EXC_SS : EXC_GP, 1, 0);
}

static int canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

uint64_t emu_seg_addr_slow(struct emu_cpu *cpu, int sreg, uint64_t off,
			   unsigned size, int write)
{
	const struct x86_seg *s = &cpu->seg[sreg];
	uint64_t last;

	if (cpu->long64) {
		uint64_t a = off + (sreg >= X86_FS ? s->base : 0);

		if (!canonical(a) || !canonical(a + size - 1))
			seg_fault(cpu, sreg);
		return a;
	}
	if (cpu->pmode && !cpu->vm86) {
		if (s->unusable || !s->present)
			seg_fault(cpu, sreg);
		if (write && ((s->type & 8) || !(s->type & 2)))
			seg_fault(cpu, sreg);
		if (!write && (s->type & 0xa) == 8)
			seg_fault(cpu, sreg); /* execute-only code */
	}
	last = off + size - 1;
	if (!(s->type & 8) && (s->type & 4) && cpu->pmode) {
		/* expand-down */
		uint64_t top = s->db ? 0xffffffffull : 0xffff;

		if (off <= s->limit || last > top)
			seg_fault(cpu, sreg);
	} else if (last > s->limit) {
		seg_fault(cpu, sreg);
	}
	return (uint32_t)(s->base + off);
}
