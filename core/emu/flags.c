/*
 * Lazy arithmetic flags. The hot instructions (ADD/SUB/CMP/logic/INC/DEC)
 * only record their operands; a flag is computed when something reads it,
 * which is usually a single Jcc testing one or two flags.
 */
#include "emu_int.h"

static int parity(uint64_t r)
{
	return !__builtin_parity((unsigned)(r & 0xff));
}

int emu_cf(struct emu_cpu *cpu)
{
	const struct emu_lf *l = &cpu->lf;
	uint64_t m = size_mask(l->size);

	switch (l->op) {
	case LF_NONE:
		return cpu->flags & FL_CF;
	case LF_ADD:
		return l->r < (l->a & m);
	case LF_ADC:
		return l->c ? l->r <= (l->a & m) : l->r < (l->a & m);
	case LF_SUB:
		return (l->a & m) < (l->b & m);
	case LF_SBB:
		return l->c ? (l->a & m) <= (l->b & m) : (l->a & m) < (l->b & m);
	case LF_INC:
	case LF_DEC:
		return l->c;
	case LF_SZP:
		return l->c & 1;
	default:
		return 0;
	}
}

int emu_zf(struct emu_cpu *cpu)
{
	if (cpu->lf.op == LF_NONE)
		return !!(cpu->flags & FL_ZF);
	return cpu->lf.r == 0;
}

int emu_sf(struct emu_cpu *cpu)
{
	if (cpu->lf.op == LF_NONE)
		return !!(cpu->flags & FL_SF);
	return !!(cpu->lf.r & sign_bit(cpu->lf.size));
}

int emu_pf(struct emu_cpu *cpu)
{
	if (cpu->lf.op == LF_NONE)
		return !!(cpu->flags & FL_PF);
	return parity(cpu->lf.r);
}

int emu_of(struct emu_cpu *cpu)
{
	const struct emu_lf *l = &cpu->lf;
	uint64_t sb;

	if (l->op == LF_NONE)
		return !!(cpu->flags & FL_OF);
	sb = sign_bit(l->size);
	switch (l->op) {
	case LF_ADD:
	case LF_ADC:
	case LF_INC:
		return !!((l->a ^ l->r) & (l->b ^ l->r) & sb);
	case LF_SUB:
	case LF_SBB:
	case LF_DEC:
		return !!((l->a ^ l->b) & (l->a ^ l->r) & sb);
	case LF_SZP:
		return (l->c >> 1) & 1;
	default:
		return 0;
	}
}

static int af(struct emu_cpu *cpu)
{
	const struct emu_lf *l = &cpu->lf;

	switch (l->op) {
	case LF_NONE:
		return !!(cpu->flags & FL_AF);
	case LF_LOGIC:
	case LF_SZP:
		return 0;
	default:
		return !!((l->a ^ l->b ^ l->r) & 0x10);
	}
}

uint64_t emu_get_flags(struct emu_cpu *cpu)
{
	uint64_t f = cpu->flags;

	if (cpu->lf.op == LF_NONE)
		return f | 2;
	f &= ~(uint64_t)FL_ARITH;
	f |= emu_cf(cpu) ? FL_CF : 0;
	f |= emu_pf(cpu) ? FL_PF : 0;
	f |= af(cpu) ? FL_AF : 0;
	f |= emu_zf(cpu) ? FL_ZF : 0;
	f |= emu_sf(cpu) ? FL_SF : 0;
	f |= emu_of(cpu) ? FL_OF : 0;
	return f | 2;
}

/* Replace the bits in mask with f's; materializes the lazy flags first. */
void emu_set_flags(struct emu_cpu *cpu, uint64_t f, uint64_t mask)
{
	/* all six replaced (emu_flags_szp: shifts, IMUL...): the lazy
	 * ones need not be computed first */
	uint64_t cur = (mask & FL_ARITH) == FL_ARITH ? cpu->flags | 2 :
						       emu_get_flags(cpu);

	cpu->flags = ((cur & ~mask) | (f & mask)) | 2;
	cpu->lf.op = LF_NONE;
	/* a real-mode 286 cannot hold IOPL, NT or bit 15 */
	if (cpu->model286 && !cpu->pmode)
		cpu->flags &= 0x0fff;
}

int emu_cond(struct emu_cpu *cpu, unsigned cc)
{
	int r;

	switch (cc >> 1) {
	case 0: r = emu_of(cpu); break;
	case 1: r = emu_cf(cpu); break;
	case 2: r = emu_zf(cpu); break;
	case 3: r = emu_cf(cpu) || emu_zf(cpu); break;
	case 4: r = emu_sf(cpu); break;
	case 5: r = emu_pf(cpu); break;
	case 6: r = emu_sf(cpu) != emu_of(cpu); break;
	default: r = emu_zf(cpu) || (emu_sf(cpu) != emu_of(cpu)); break;
	}
	return r ^ (cc & 1);
}
