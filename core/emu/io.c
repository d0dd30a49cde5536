/* Port I/O: the I/O permission check (IOPL, TSS bitmap) and dispatch. */
#include "seg.h"

/* #GP(0) unless CPL <= IOPL or the TSS I/O bitmap allows every port. */
void emu_io_check(struct emu_cpu *cpu, uint16_t port, unsigned size)
{
	const struct x86_seg *tr = &cpu->seg[X86_TR];
	uint64_t base;
	unsigned bits;

	if (!cpu->pmode || (!cpu->vm86 && cpu->cpl <= (int)((cpu->flags >> 12) & 3)))
		return;
	/* only a 32/64-bit TSS has a bitmap */
	if ((tr->type & 0x9) != 0x9 || tr->limit < 0x67)
		GP(0);
	base = emu_read_sys(cpu, tr->base + 0x66, 2);
	if (base + (port >> 3) + 1 > tr->limit)
		GP(0);
	bits = (unsigned)emu_read_sys(cpu, tr->base + base + (port >> 3), 2);
	if ((bits >> (port & 7)) & ((1u << size) - 1))
		GP(0);
}

uint64_t emu_in(struct emu_cpu *cpu, uint16_t port, unsigned size)
{
	uint64_t v = 0;

	if (cpu->host->pio(cpu->host->opaque, port, size, 0, &v) < 0)
		v = ~0ull;
	if (cpu->db_io)
		emu_db_io(cpu, port, size);
	return v & size_mask(size);
}

void emu_out(struct emu_cpu *cpu, uint16_t port, unsigned size, uint64_t v)
{
	cpu->host->pio(cpu->host->opaque, port, size, 1, &v);
	if (cpu->db_io)
		emu_db_io(cpu, port, size);
}
