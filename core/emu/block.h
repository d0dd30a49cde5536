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
	uint64_t cs_base, lin_mask, ip_mask, rip_max;
	int mode, user;
};

void emu_block_init(struct emu_cpu *cpu);
void emu_block_free(struct emu_cpu *cpu);
/* Run the block at lin (p: its host address, a TLB hit), at most budget
 * (>= 1) instructions of it: the number of instructions retired, or 0
 * when there is none to run (the caller steps). *dirty = 1 when its last
 * instruction was not a fast one, so f must be computed again. */
unsigned emu_block_run(struct emu_cpu *cpu, const struct fetch_ctx *f,
		       uint64_t lin, const uint8_t *p, uint64_t budget,
		       int *dirty);

#endif
