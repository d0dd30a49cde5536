/*
 * x87, MMX and SSE arithmetic on the host's own FPU (hostfp.c).
 *
 * The guest's floating-point state lives in cpu->fx as an FXSAVE64 image.
 * An instruction runs as a small host stub: FXRSTOR64 the image, the very
 * instruction the guest executes (its memory operand redirected to a
 * buffer in the context, a general register operand to RAX), FXSAVE64,
 * FNINIT and the host's MXCSR back. Results, rounding, NaN propagation,
 * exception flags, condition codes and the x87 stack therefore match the
 * hardware bit for bit. Callers build the normalized instruction only
 * from an allowlist of SSE/SSE2/MMX/x87 forms every x86-64 host has, and
 * load the image with all exceptions masked, so a stub can neither fault
 * nor trap on the host. Internal to core/emu/.
 */
#ifndef HV_EMU_HOSTFP_H
#define HV_EMU_HOSTFP_H

#include <stdint.h>

#include "emu.h"

struct hostfp_ctx {
	_Alignas(16) uint8_t fx[512]; /* FXSAVE64 image, in and out */
	uint64_t rax;                 /* general register operand */
	uint64_t flags;               /* RFLAGS: CF PF ZF in, all out */
	uint32_t host_mxcsr;
	uint32_t pad;
	_Alignas(16) uint8_t mem[16]; /* the memory operand */
};

/* FXSAVE image offsets */
#define FX_FCW 0
#define FX_FSW 2
#define FX_FTW 4
#define FX_MXCSR 24
#define FX_MXCSR_MASK 28
#define FX_ST(i) (32 + 16 * (i))
#define FX_XMM(i) (160 + 16 * (i))

/* The instruction as the host runs it. */
struct hostfp_insn {
	uint8_t pfx;     /* 0, 0x66, 0xf2 or 0xf3 */
	uint8_t rex;     /* W R B bits only (0x48/0x44/0x41 without the 0x40) */
	uint8_t map0f;   /* 1: 0F opcode map, 0: one-byte (x87) */
	uint8_t op;
	uint8_t mod, reg, rm; /* mod != 3: the operand is ctx->mem */
	uint8_t has_imm, imm;
};

void emu_hostfp_free(struct emu_cpu *cpu);
/* Run one instruction on ctx. 0, or -ENOMEM when no stub could be made. */
int emu_hostfp_run(struct emu_cpu *cpu, const struct hostfp_insn *hi,
		   struct hostfp_ctx *ctx);

static inline uint16_t fx16(const uint8_t *fx, unsigned off)
{
	return (uint16_t)(fx[off] | fx[off + 1] << 8);
}

static inline void fx16_set(uint8_t *fx, unsigned off, uint16_t v)
{
	fx[off] = (uint8_t)v;
	fx[off + 1] = (uint8_t)(v >> 8);
}

static inline uint32_t fx32(const uint8_t *fx, unsigned off)
{
	return (uint32_t)fx16(fx, off) | (uint32_t)fx16(fx, off + 2) << 16;
}

static inline void fx32_set(uint8_t *fx, unsigned off, uint32_t v)
{
	fx16_set(fx, off, (uint16_t)v);
	fx16_set(fx, off + 2, (uint16_t)(v >> 16));
}

/* fpu.c / sse.c shared checks */
void emu_fpu_check_pending(struct emu_cpu *cpu); /* #MF when one waits */

#endif
