/*
 * Debug registers (SDM 17.2-17.3): DR0-DR3 breakpoints on execution, data
 * writes, data reads/writes and I/O ports (CR4.DE), DR6 status and DR7
 * control. While any breakpoint is enabled cpu.c runs every instruction
 * through step(), and pages holding a data breakpoint never get a TLB
 * tag, so each access to them comes here through mmu.c's slow path.
 */
#include "seg.h"

#define DR7_GD 0x2000u
#define DR6_BD 0x2000u

static unsigned bp_len(uint64_t dr7, unsigned n)
{
	static const uint8_t len[4] = { 1, 2, 8, 4 };

	return len[(dr7 >> (18 + 4 * n)) & 3];
}

static unsigned bp_rw(uint64_t dr7, unsigned n)
{
	return (dr7 >> (16 + 4 * n)) & 3;
}

/* Recompute which breakpoints are armed, by kind (after DR0-3/DR7/CR4). */
void emu_db_update(struct emu_cpu *cpu)
{
	uint64_t dr7 = cpu->dr[7];
	unsigned n;

	cpu->db_exec = cpu->db_data = cpu->db_io = 0;
	for (n = 0; n < 4; n++) {
		if (!((dr7 >> (2 * n)) & 3))
			continue;
		switch (bp_rw(dr7, n)) {
		case 0: cpu->db_exec |= (uint8_t)(1u << n); break;
		case 2:
			/* I/O breakpoints need CR4.DE; without it RW=10 is
			 * undefined and treated as no breakpoint */
			if (cpu->cr4 & X86_CR4_DE)
				cpu->db_io |= (uint8_t)(1u << n);
			break;
		default: cpu->db_data |= (uint8_t)(1u << n); break;
		}
	}
	/* TLB tags for pages holding a data breakpoint must go */
	emu_tlb_flush(cpu);
}

/* #DB fault before the instruction at cpu->rip when it is an armed
 * execution breakpoint (the caller skips this when RFLAGS.RF is set). */
void emu_db_fetch(struct emu_cpu *cpu)
{
	uint64_t lin = cpu->long64 ? cpu->rip :
		       (uint32_t)(cpu->seg[X86_CS].base + cpu->rip);
	uint32_t hits = 0;
	unsigned n;

	for (n = 0; n < 4; n++)
		if ((cpu->db_exec & (1u << n)) && cpu->dr[n] == lin)
			hits |= 1u << n;
	if (!hits)
		return;
	cpu->dr[6] = (cpu->dr[6] & ~0xfull) | hits;
	cpu->db_fault_rf = 0; /* an instruction breakpoint pushes RF = 0 */
	emu_raise(cpu, EXC_DB, 0, 0);
}

static uint32_t range_hits(struct emu_cpu *cpu, uint8_t armed, uint64_t a,
			   unsigned size)
{
	uint64_t dr7 = cpu->dr[7];
	uint32_t hits = 0;
	unsigned n;

	for (n = 0; n < 4; n++) {
		unsigned len = bp_len(dr7, n);
		uint64_t lo = cpu->dr[n] & ~(uint64_t)(len - 1);

		if ((armed & (1u << n)) && a < lo + len && lo < a + size)
			hits |= 1u << n;
	}
	return hits;
}

/* A data access of size bytes at lin: collect the breakpoints it hits
 * (reported as a trap once the instruction completes). */
void emu_db_data(struct emu_cpu *cpu, uint64_t lin, unsigned size, int write)
{
	uint8_t armed = cpu->db_data;
	unsigned n;

	if (!write)
		for (n = 0; n < 4; n++)
			if (bp_rw(cpu->dr[7], n) == 1)
				armed &= (uint8_t)~(1u << n);
	cpu->db_hits |= range_hits(cpu, armed, lin, size);
}

void emu_db_io(struct emu_cpu *cpu, uint16_t port, unsigned size)
{
	cpu->db_hits |= range_hits(cpu, cpu->db_io, port, size);
}

/* 1 when a data breakpoint lies in the 4 KiB page at lin. */
int emu_db_page(struct emu_cpu *cpu, uint64_t lin)
{
	unsigned n;

	for (n = 0; n < 4; n++)
		if ((cpu->db_data & (1u << n)) &&
		    ((cpu->dr[n] ^ lin) & ~0xfffull) == 0)
			return 1;
	/* an 8-byte range may start in the page before */
	for (n = 0; n < 4; n++)
		if ((cpu->db_data & (1u << n)) &&
		    (((cpu->dr[n] + 7) ^ lin) & ~0xfffull) == 0)
			return 1;
	return 0;
}

/* MOV to/from DRn (0F 21 / 0F 23). */
void emu_mov_dr(struct emu_cpu *cpu)
{
	struct emu_insn *in = &cpu->in;
	unsigned n = in->reg & 7, sz = cpu->long64 ? 8 : 4;
	uint64_t v;

	if (cpu->pmode && cpu->cpl)
		GP(0);
	if (n == 4 || n == 5) {
		if (cpu->cr4 & X86_CR4_DE)
			UD();
		n += 2; /* aliases of DR6/DR7 without CR4.DE */
	}
	if (cpu->dr[7] & DR7_GD) {
		/* general detect: a fault on the MOV, GD cleared so the
		 * handler itself may use the debug registers */
		cpu->dr[7] &= ~(uint64_t)DR7_GD;
		cpu->dr[6] |= DR6_BD;
		cpu->db_fault_rf = 1;
		emu_raise(cpu, EXC_DB, 0, 0);
	}
	if (in->op == 0x121) {
		v = n == 6 ? (cpu->dr[6] | 0xffff0ff0) :
		    n == 7 ? (cpu->dr[7] | 0x400) : cpu->dr[n];
		reg_set(cpu, in->rm, sz, v);
		return;
	}
	v = reg_get(cpu, in->rm, sz);
	if ((n == 6 || n == 7) && (v >> 32))
		GP(0);
	if (n == 6)
		v &= 0xe00f; /* B0-B3, BD, BS, BT: the rest reads as fixed */
	else if (n == 7)
		v &= ~0x400ull;
	cpu->dr[n] = v;
	if (n != 6)
		emu_db_update(cpu);
}
