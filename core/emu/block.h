/*
 * Straight-line blocks of decoded instructions (block.c) and what the
 * fetch fast path needs to know (cpu.c). Internal to core/emu/.
 */
#ifndef HV_EMU_BLOCK_H
#define HV_EMU_BLOCK_H

#include "emu_int.h"

/* Fixed until an instruction other than a fast.c one runs: only those
 * change CS, the mode, CPL, TF or the interrupt shadow. */
struct fetch_ctx {
	uint64_t cs_base, cs_limit, lin_mask, ip_mask, rip_max;
	int mode, user;
};

/* An interrupt emu_run() could take now. With IF=0 a pending one waits:
 * inside a block and a burst only CLI changes IF, and every instruction
 * that sets it ends both. */
static inline int emu_irq_ready(const struct emu_cpu *cpu)
{
	return atomic_load_explicit(&cpu->irq_pending, memory_order_relaxed) &&
	       ((cpu->flags & FL_IF) || cpu->nmi_pending);
}

void emu_block_init(struct emu_cpu *cpu);
void emu_block_free(struct emu_cpu *cpu);
#define EMU_BLK_MAX 40

/* Run blocks from the one at lin (p: its host address, a TLB hit) while
 * fewer than budget (>= 1) instructions retired: how many did, or 0 when
 * there is none to run (the caller steps). Blocks run whole: past budget
 * by less than EMU_BLK_MAX, or, when hard, not at all if they would go
 * past it. *dirty = 1 when the last instruction was not a fast one, so f
 * must be computed again. */
/* fuse.c: 1 when in can be a member of a fused run, its kind filled in.
 * form: how the block runs it: EMU_UOP_FLAGS its fast handler,
 * EMU_UOP_NF the one without flags (drop_dead_flags()), EMU_UOP_JCC a
 * Jcc whose target the build resolved (in->imm2). emu_uop_run() runs
 * the in->blk_n members from in. */
enum { EMU_UOP_FLAGS, EMU_UOP_NF, EMU_UOP_JCC };
int emu_uop_set(struct emu_insn *in, int form);
void emu_uop_run(struct emu_cpu *cpu, const struct emu_insn *in);

unsigned emu_block_run(struct emu_cpu *cpu, const struct fetch_ctx *f,
		       uint64_t lin, const uint8_t *p, uint64_t budget,
		       int hard, int *dirty);

#endif
