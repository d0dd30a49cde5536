/*
 * Segmentation, far control transfers, interrupts and I/O (seg.c, cpu.c,
 * io.c). Internal to core/emu/.
 */
#ifndef HV_EMU_SEG_H
#define HV_EMU_SEG_H

#include "emu_int.h"

void emu_jump(struct emu_cpu *cpu, uint64_t target, unsigned osize);
void emu_far_jump(struct emu_cpu *cpu, uint16_t sel, uint64_t off,
		  unsigned osize);
void emu_far_call(struct emu_cpu *cpu, uint16_t sel, uint64_t off,
		  unsigned osize);
void emu_far_ret(struct emu_cpu *cpu, unsigned osize, unsigned pop);
void emu_iret(struct emu_cpu *cpu, unsigned osize);
void emu_arpl(struct emu_cpu *cpu);
/* Descriptor fetch: 0, or raises with the selector as error code. */
void emu_desc_to_seg(struct x86_seg *s, uint16_t sel, uint32_t lo,
		     uint32_t hi);
int emu_read_desc(struct emu_cpu *cpu, uint16_t sel, uint32_t *lo,
		  uint32_t *hi);
void emu_set_accessed(struct emu_cpu *cpu, uint16_t sel, uint32_t hi);

void emu_io_check(struct emu_cpu *cpu, uint16_t port, unsigned size);
uint64_t emu_in(struct emu_cpu *cpu, uint16_t port, unsigned size);
void emu_out(struct emu_cpu *cpu, uint16_t port, unsigned size, uint64_t v);

/* exec.c */
uint64_t emu_rmw(struct emu_cpu *cpu, int op, unsigned size, uint64_t src);
uint64_t emu_xadd(struct emu_cpu *cpu, unsigned size, uint64_t src);
int emu_cmpxchg(struct emu_cpu *cpu, unsigned size, uint64_t cmp,
		uint64_t v, uint64_t *old);
void *emu_lock_ptr(struct emu_cpu *cpu, uint64_t lin, unsigned size);
int emu_rep_fast(struct emu_cpu *cpu, unsigned op, unsigned size);
void emu_exec_0f(struct emu_cpu *cpu);

/* mmu.c: host pointer for a write to [lin, lin+size) in RAM, or NULL */
void *emu_host_ptr(struct emu_cpu *cpu, uint64_t lin, unsigned size);

#endif
