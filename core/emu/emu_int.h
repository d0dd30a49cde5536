/*
 * Inline helpers shared by the interpreter's files: registers, lazy
 * flags, operand access. Internal to core/emu/.
 */
#ifndef HV_EMU_INT_H
#define HV_EMU_INT_H

#include "emu.h"

static inline uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static inline uint64_t sign_bit(unsigned size)
{
	return 1ull << (8 * size - 1);
}

static inline int64_t sext(uint64_t v, unsigned size)
{
	unsigned sh = 64 - 8 * size;

	return (int64_t)(v << sh) >> sh;
}

/* 8-bit registers 4-7 are AH..BH unless a REX prefix is present. */
static inline uint64_t reg_get(struct emu_cpu *cpu, unsigned r, unsigned size)
{
	if (size == 1) {
		if (r >= 4 && r < 8 && !cpu->in.rex)
			return (cpu->gpr[r - 4] >> 8) & 0xff;
		return cpu->gpr[r] & 0xff;
	}
	return cpu->gpr[r] & size_mask(size);
}

static inline void reg_set(struct emu_cpu *cpu, unsigned r, unsigned size,
			   uint64_t v)
{
	uint64_t *g;

	switch (size) {
	case 1:
		if (r >= 4 && r < 8 && !cpu->in.rex) {
			g = &cpu->gpr[r - 4];
			*g = (*g & ~0xff00ull) | ((v & 0xff) << 8);
		} else {
			g = &cpu->gpr[r];
			*g = (*g & ~0xffull) | (v & 0xff);
		}
		break;
	case 2:
		g = &cpu->gpr[r];
		*g = (*g & ~0xffffull) | (v & 0xffff);
		break;
	case 4:
		cpu->gpr[r] = (uint32_t)v; /* 32-bit writes zero-extend */
		break;
	default:
		cpu->gpr[r] = v;
	}
}

/* ---- lazy flags ---- */
static inline void lf_set(struct emu_cpu *cpu, int op, unsigned size,
			  uint64_t a, uint64_t b, uint64_t r)
{
	cpu->lf.op = (uint8_t)op;
	cpu->lf.size = (uint8_t)size;
	cpu->lf.a = a;
	cpu->lf.b = b;
	cpu->lf.r = r & size_mask(size);
}

int emu_cf(struct emu_cpu *cpu);
int emu_zf(struct emu_cpu *cpu);
int emu_sf(struct emu_cpu *cpu);
int emu_of(struct emu_cpu *cpu);
int emu_pf(struct emu_cpu *cpu);
int emu_cond(struct emu_cpu *cpu, unsigned cc);

/* The common cases of emu_cf/emu_cond without a call. */
static inline int emu_cf_inline(struct emu_cpu *cpu)
{
	const struct emu_lf *l = &cpu->lf;

	switch (l->op) {
	case LF_LOGIC: return 0;
	case LF_INC: case LF_DEC: return l->c;
	case LF_ADD: return l->r < l->a;          /* a is stored masked */
	case LF_SUB: return l->a < l->b;
	}
	return emu_cf(cpu);
}

static inline int emu_cond_inline(struct emu_cpu *cpu, unsigned cc)
{
	if ((cc >> 1) == 2 && cpu->lf.op != LF_NONE)
		return (cpu->lf.r == 0) ^ (cc & 1);
	return emu_cond(cpu, cc);
}

/* ---- memory operands ---- */
static inline uint64_t amask(unsigned asize)
{
	return asize == 8 ? ~0ull : asize == 4 ? 0xffffffffull : 0xffffull;
}

static inline uint64_t ea_of(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t off = (uint64_t)in->disp;

	if (in->base != 0xff)
		off += cpu->gpr[in->base];
	if (in->index != 0xff)
		off += cpu->gpr[in->index] << in->scale;
	if (in->riprel)
		off += cpu->next_rip;
	return off & amask(in->asize);
}

static inline uint64_t ea_calc(struct emu_cpu *cpu)
{
	return ea_of(cpu, &cpu->in);
}

/* The TLB-hit paths of emu_read_lin/emu_write_lin, inline for the
 * common sizes */
static inline uint64_t read_lin(struct emu_cpu *cpu, uint64_t lin,
				unsigned size)
{
	const struct emu_tlb_entry *e =
		&cpu->tlb[cpu->cpl == 3][(lin >> 12) % EMU_TLB_SIZE];
	const void *p = (const void *)(uintptr_t)(lin + e->addend);

	if (e->tag_r == (lin & ~0xfffull) && (lin & 0xfff) <= 4096 - size) {
		if (size == 4) {
			uint32_t x;

			__builtin_memcpy(&x, p, 4);
			return x;
		}
		if (size == 8) {
			uint64_t x;

			__builtin_memcpy(&x, p, 8);
			return x;
		}
	}
	return emu_read_lin(cpu, lin, size);
}

#define BLK_STORE 1
#define BLK_JUMP 2
#define BLK_DIRTY 4

/* A store into the page the running block (block.c) was decoded from
 * ends the block after the storing instruction; blk_page is ~0 outside a
 * block, so this never matches there. Every store path calls it. */
static inline void blk_note_write(struct emu_cpu *cpu, uint64_t lin,
				  unsigned size)
{
	if (__builtin_expect(((lin ^ cpu->blk_page) & ~0xfffull) == 0 ||
			     (((lin + size - 1) ^ cpu->blk_page) & ~0xfffull) == 0, 0))
		cpu->blk_stop |= BLK_STORE;
}

static inline void write_lin(struct emu_cpu *cpu, uint64_t lin, unsigned size,
			     uint64_t v)
{
	const struct emu_tlb_entry *e =
		&cpu->tlb[cpu->cpl == 3][(lin >> 12) % EMU_TLB_SIZE];
	void *p = (void *)(uintptr_t)(lin + e->addend);

	blk_note_write(cpu, lin, size);

	if (e->tag_w == (lin & ~0xfffull) && (lin & 0xfff) <= 4096 - size) {
		if (size == 4) {
			uint32_t x = (uint32_t)v;

			__builtin_memcpy(p, &x, 4);
			return;
		}
		if (size == 8) {
			__builtin_memcpy(p, &v, 8);
			return;
		}
	}
	emu_write_lin(cpu, lin, size, v);
}

static inline uint64_t mem_read(struct emu_cpu *cpu, int seg, uint64_t off,
				unsigned size)
{
	return read_lin(cpu, emu_seg_addr(cpu, seg, off, size, 0), size);
}

static inline void mem_write(struct emu_cpu *cpu, int seg, uint64_t off,
			     unsigned size, uint64_t v)
{
	write_lin(cpu, emu_seg_addr(cpu, seg, off, size, 1), size, v);
}

/* The ModRM r/m operand; cpu->ea holds the offset for memory forms. */
static inline uint64_t rm_read(struct emu_cpu *cpu, unsigned size)
{
	if (cpu->in.mod == 3)
		return reg_get(cpu, cpu->in.rm, size);
	return mem_read(cpu, cpu->in.seg, cpu->ea, size);
}

static inline void rm_write(struct emu_cpu *cpu, unsigned size, uint64_t v)
{
	if (cpu->in.mod == 3)
		reg_set(cpu, cpu->in.rm, size, v);
	else
		mem_write(cpu, cpu->in.seg, cpu->ea, size, v);
}

/* ---- the stack ---- */
static inline unsigned stack_size(struct emu_cpu *cpu)
{
	if (cpu->long64)
		return 8;
	return cpu->seg[X86_SS].db ? 4 : 2;
}

void emu_push(struct emu_cpu *cpu, unsigned size, uint64_t v);
uint64_t emu_pop(struct emu_cpu *cpu, unsigned size);
uint64_t emu_peek(struct emu_cpu *cpu, unsigned size, unsigned skip);

static inline void set_rip(struct emu_cpu *cpu, uint64_t rip, unsigned osize)
{
	cpu->next_rip = rip & size_mask(osize);
}

/* Raise the fault a write of size bytes at lin would, before any of it
 * is written. */
static inline void emu_probe_write(struct emu_cpu *cpu, uint64_t lin,
				   unsigned size)
{
	int ok;

	if (!(cpu->cr0 & X86_CR0_PG))
		return;
	emu_translate(cpu, lin, 1, cpu->cpl == 3, 0, 0, &ok);
	emu_translate(cpu, lin + size - 1, 1, cpu->cpl == 3, 0, 0, &ok);
}

#define CR0_MP 0x2ull
#define CR0_EM 0x4ull
#define CR0_TS 0x8ull
#define CR4_OSFXSR 0x200ull
#define CR4_OSXMMEXCPT 0x400ull

#define UD() emu_ud(cpu)
#define GP(e) emu_raise(cpu, EXC_GP, 1, (e))

#endif
