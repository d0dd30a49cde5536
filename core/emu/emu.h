/*
 * hv's x86 interpreter (accel=emu): the CPU core shared by the accelerator
 * glue (accel_emu.c), the conformance and differential harnesses and the
 * decoder fuzzer.
 *
 * The core touches guest memory and I/O only through struct emu_host, so
 * every guest-physical access is bounded by what host->page() hands out
 * (whole 4 KiB pages of RAM/ROM) or goes to host->mmio(). One emu_cpu is
 * driven by one thread; emu_kick() and emu_irq_notify() may be called from
 * any thread.
 */
#ifndef HV_EMU_EMU_H
#define HV_EMU_EMU_H

#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>

#include "x86.h"

struct emu_host {
	void *opaque;
	/* Host address of the 4 KiB guest page holding gpa (page aligned),
	 * or NULL when it is not wholly RAM/ROM. *rom = 1: drop writes;
	 * 2: dirty-logged memory: writable, but never through a cached write
	 * tag, so every write reaches dirty(). */
	uint8_t *(*page)(void *opaque, uint64_t gpa, int *rom);
	/* 0, or -ENOENT when nothing decodes the address (reads all-ones) */
	int (*mmio)(void *opaque, uint64_t gpa, unsigned size, int write,
		    uint64_t *val);
	int (*pio)(void *opaque, uint16_t port, unsigned size, int write,
		   uint64_t *val);
	/* The vector of the highest pending external interrupt, acknowledged,
	 * or -1. Called only when IF=1 and emu_irq_notify() was called. */
	int (*intr_ack)(void *opaque);
	/* Guest clock for RDTSC, in ns. */
	uint64_t (*clock_ns)(void *opaque);
	/* The local APIC's MSRs: IA32_APIC_BASE writes (before the CPU
	 * stores the value: the APIC checks the mode transition), and
	 * IA32_TSC_DEADLINE and the x2APIC range 800h-8FFh both ways.
	 * 0, or -1 for #GP (optional: without it those #GP, but APIC_BASE). */
	int (*apic_msr)(void *opaque, uint32_t idx, int write, uint64_t *val);
	/* Guest RAM was written off the TLB's fast path (optional): dirty
	 * logging. Runs on the vCPU's thread. */
	void (*dirty)(void *opaque, uint64_t gpa, unsigned len);
	/* [vm] cpu = (NULL: everything the interpreter implements) */
	const struct cpu_model *model;
};

struct cpu_model;

/* Lazy arithmetic flags: the op that last set OSZAPC, with its operands. */
enum lf_op {
	LF_NONE = 0, /* OSZAPC are in cpu->flags */
	LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC,
	LF_SZP, /* emu_flags_szp: CF = c bit 0, OF = c bit 1, AF = 0 */
};

struct emu_lf {
	uint64_t a, b, r;
	uint8_t op, size, c; /* c: carry-in (ADC/SBB), saved CF (INC/DEC), CF, OF (SZP) */
};

#define EMU_TLB_SIZE 256

struct emu_tlb_entry {
	uint64_t tag_r, tag_w, tag_x; /* linear page | 0, or ~0 when absent */
	uintptr_t addend;             /* host = lin + addend */
	uint64_t gpa;                 /* guest-physical page */
};

/* The x87 last-instruction pointers; the rest of the FPU is cpu->fx. */
struct emu_fpu {
	uint64_t fip, fdp; /* offsets (real mode: linear) */
	uint16_t fcs, fds, fop;
};

struct emu_cpu;
struct emu_insn;
typedef void (*emu_fast_fn)(struct emu_cpu *cpu, const struct emu_insn *in);

/* A decoded instruction. Fields not used by an opcode are zero. */
struct emu_insn {
	uint16_t op;      /* map << 8 | opcode; map 1 = 0F, 2 = 0F38, 3 = 0F3A */
	uint8_t len;
	uint8_t osize;    /* operand size in bytes: 2, 4 or 8 */
	uint8_t asize;    /* address size: 2, 4 or 8 */
	uint8_t seg;      /* segment for memory operands (override applied) */
	uint8_t segovr;   /* an explicit segment prefix was given */
	uint8_t rep;      /* 0, 0xF2 or 0xF3 */
	uint8_t pfx66, lock, rex;
	uint8_t has_modrm, mod, reg, rm; /* reg/rm include REX bits */
	uint8_t base, index, scale;      /* base/index 0xff: none */
	uint8_t riprel;
	/* in a block (block.c): how many instructions bfn runs (a fused
	 * run's first has more than 1), and a run member's kind and
	 * registers (fuse.c); in the padding before disp */
	uint8_t blk_n, uk, ud, us;
	int64_t disp;
	uint64_t imm, imm2;
	emu_fast_fn fast; /* fast.c's handler, or NULL */
	/* in a block (block.c): what runs it, and the RIP after it */
	emu_fast_fn bfn;
	uint64_t nrip;
};

struct emu_cpu {
	uint64_t gpr[16];
	uint64_t rip;
	uint64_t flags; /* OSZAPC valid only when lf.op == LF_NONE */
	struct emu_lf lf;
	struct x86_seg seg[8];
	struct x86_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
	uint64_t dr[8];
	uint64_t apic_base, star, lstar, cstar, sfmask, kgs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t pat, misc_enable, tsc_aux, mtrr_def;
	uint64_t xcr0, tsc_offset, feat_ctl;
	uint32_t apic_id;
	int cpl;
	int long64;    /* CS.L with EFER.LMA: 64-bit code */
	int pmode;     /* CR0.PE */
	int vm86;
	int model286;  /* 80286 quirks (conformance vectors) */

	/* x87, MMX, XMM and MXCSR as an FXSAVE64 image (hostfp.h); its FIP,
	 * FDP and FOP fields are not used: see fpu */
	_Alignas(16) uint8_t fx[512];
	struct emu_fpu fpu;
	void *hostfp;      /* host stubs for FP instructions (hostfp.c) */

	struct emu_tlb_entry tlb[2][EMU_TLB_SIZE]; /* [user][index] */

	const struct emu_host *host;
	struct emu_insn in;
	uint64_t next_rip;
	uint64_t ea;      /* linear-offset of the memory operand (pre-segment) */
	uint64_t icount;  /* instructions retired */
	uint64_t tsc_base;

	/* run control */
	atomic_int kick;
	atomic_int irq_pending;
	int halted;
	int shadow;        /* interrupt shadow after STI / MOV SS */
	int shadow_ss;     /* the shadow is MOV SS's: it also holds #DB traps */
	/* debug registers (debug.c): DR7's enabled breakpoints by kind, the
	 * trap bits the current instruction collected (DR6 B0-B3, BS), and
	 * those a MOV SS shadow holds for one more instruction */
	uint8_t db_exec, db_data, db_io;
	uint32_t db_hits, db_held;
	int db_sw_int;     /* the instruction delivered INT n/INT3/INTO/ICEBP */
	int db_fault_rf;   /* a #DB fault pushes RF = 1 (general detect) */
	int nmi_pending;
	jmp_buf jb;
	int exc_vec, exc_has_err, exc_first;
	uint32_t exc_err;
	int shutdown;
	int in_delivery;
	int stop_on_exc;   /* harnesses: return after delivering one */
	int quiet;         /* no #UD log lines (fuzzer, harnesses) */
	int tlb_large;     /* a large page is cached: INVLPG flushes all */
	uint64_t limit;    /* icount at which emu_run returns */
	/* registers to restore when delivering an interrupt faults */
	int save_valid, save_cpl;
	uint64_t save_sp, save_flags;
	struct x86_seg save_ss, save_cs;
	uint8_t ud_logged[512 / 8 * 4];
	void *cache;       /* decoded-instruction cache */
	void *blocks;      /* decoded straight-line blocks (block.c) */
	uint64_t blk_page; /* linear page of the running block */
	/* why the running block ends after this instruction: BLK_STORE,
	 * BLK_JUMP (RIP is next_rip), BLK_DIRTY (not a fast instruction) */
	int blk_stop;
	/* instructions a block's first fused run, when it loops to the
	 * block's start, may run on for inside it (fuse.c, block.c) */
	uint64_t blk_spin;
	/* the block instruction running, and the block's first one with
	 * icount before it: a fault's RIP and icount come from these */
	const struct emu_insn *blk_cur, *blk_first;
	uint64_t page_gen_base;
};

/* Exceptions */
enum {
	EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4,
	EXC_BR = 5, EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10,
	EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14, EXC_MF = 16,
	EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* Return values of emu_run() */
enum emu_stop {
	EMU_STOP_KICK = 0,
	EMU_STOP_SHUTDOWN,
	EMU_STOP_HALT,      /* HLT with IF=0 (or HLT when host asked for it) */
	EMU_STOP_HLT_WAIT,  /* HLT with IF=1: caller sleeps until an IRQ */
	EMU_STOP_ICOUNT,    /* the instruction budget ran out */
	EMU_STOP_ERROR,
};

#define FL_CF 0x1u
#define FL_PF 0x4u
#define FL_AF 0x10u
#define FL_ZF 0x40u
#define FL_SF 0x80u
#define FL_TF 0x100u
#define FL_IF 0x200u
#define FL_DF 0x400u
#define FL_OF 0x800u
#define FL_IOPL 0x3000u
#define FL_NT 0x4000u
#define FL_RF 0x10000u
#define FL_VM 0x20000u
#define FL_AC 0x40000u
#define FL_VIF 0x80000u
#define FL_VIP 0x100000u
#define FL_ID 0x200000u
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* cpu.c */
void emu_cpu_init(struct emu_cpu *cpu, const struct emu_host *host);
void emu_cpu_free(struct emu_cpu *cpu);
/* Back to the power-on state, keeping the allocations of emu_cpu_init. */
void emu_cpu_reset(struct emu_cpu *cpu);
void emu_set_state(struct emu_cpu *cpu, const struct x86_state *st);
void emu_get_state(struct emu_cpu *cpu, struct x86_state *st);
/* Runs until kicked, halted, shut down, or max_insns retired (0: no limit). */
int emu_run(struct emu_cpu *cpu, uint64_t max_insns);
void emu_kick(struct emu_cpu *cpu);
void emu_irq_notify(struct emu_cpu *cpu);
/* Invalidate decoded code and TLB-cached host pointers for a gpa range. */
void emu_mem_written(struct emu_cpu *cpu, uint64_t gpa, uint64_t len);
void emu_tlb_flush(struct emu_cpu *cpu);

/* Everything below is internal to core/emu/. */
uint64_t emu_get_flags(struct emu_cpu *cpu);
void emu_set_flags(struct emu_cpu *cpu, uint64_t f, uint64_t mask);
__attribute__((noreturn)) void emu_raise(struct emu_cpu *cpu, int vec,
					 int has_err, uint32_t err);
__attribute__((noreturn)) void emu_ud(struct emu_cpu *cpu);
void emu_update_mode(struct emu_cpu *cpu);
void emu_load_seg(struct emu_cpu *cpu, int sreg, uint16_t sel);
void emu_interrupt(struct emu_cpu *cpu, int vec, int kind, int has_err,
		   uint32_t err);
#define INT_EXT 0  /* external interrupt */
#define INT_SOFT 1 /* INT n */
#define INT_EXC 2  /* exception */
#define INT_ICE 3  /* INT3/INTO: software, but priv check like INT n */
#define INT_ICEBP 4 /* ICEBP (F1): a #DB trap, no gate DPL check */

/* decode.c: 0, or -1 when the bytes cannot form an instruction (#UD); *len
 * tells how many bytes were consumed. fetch() returns a byte or raises. */
int emu_decode(struct emu_insn *in, const uint8_t *buf, unsigned avail,
	       int mode /* 16, 32, 64; | EMU_DEC_286: 10-byte limit */);
#define EMU_DEC_286 0x1000

/* fast.c: a specialized handler for the decoded instruction, or NULL */
emu_fast_fn emu_fast_pick(const struct emu_insn *in, int mode);
#define EMU_FL_C 1 /* CF */
#define EMU_FL_O 2 /* OF, SF, ZF, AF, PF */
int emu_fast_flags(const struct emu_insn *in, int mode, unsigned *rd,
		   unsigned *wr, emu_fast_fn *nf);

/* mmu.c */
uint64_t emu_seg_addr_slow(struct emu_cpu *cpu, int sreg, uint64_t off,
			   unsigned size, int write);
/* The linear address of off in sreg, or the fault. 64-bit code's flat
 * segments inline: a range canonical in 48 bits is canonical in 57 too. */
static inline uint64_t emu_seg_addr(struct emu_cpu *cpu, int sreg,
				    uint64_t off, unsigned size, int write)
{
	uint64_t last = off + size - 1;

	if (cpu->long64 && sreg < X86_FS &&
	    (int64_t)(off << 16) >> 16 == (int64_t)off &&
	    (int64_t)(last << 16) >> 16 == (int64_t)last)
		return off;
	return emu_seg_addr_slow(cpu, sreg, off, size, write);
}
uint64_t emu_read_lin(struct emu_cpu *cpu, uint64_t lin, unsigned size);
void emu_write_lin(struct emu_cpu *cpu, uint64_t lin, unsigned size,
		   uint64_t val);
uint64_t emu_read_sys(struct emu_cpu *cpu, uint64_t lin, unsigned size);
void emu_write_sys(struct emu_cpu *cpu, uint64_t lin, unsigned size,
		   uint64_t val);
uint8_t *emu_fetch_ptr(struct emu_cpu *cpu, uint64_t lin, unsigned *avail);
uint64_t emu_fetch_byte(struct emu_cpu *cpu, uint64_t lin);
uint64_t emu_fetch_gpa(struct emu_cpu *cpu, uint64_t lin);
uint64_t emu_read_phys(struct emu_cpu *cpu, uint64_t gpa, unsigned size);
void emu_write_phys(struct emu_cpu *cpu, uint64_t gpa, unsigned size,
		    uint64_t val);
uint64_t emu_translate(struct emu_cpu *cpu, uint64_t lin, int write,
		       int user, int exec, int probe, int *ok);
void emu_invlpg(struct emu_cpu *cpu, uint64_t lin);

/* exec.c */
void emu_exec(struct emu_cpu *cpu);
/* sys.c */
void emu_exec_sys(struct emu_cpu *cpu);
int emu_rdmsr(struct emu_cpu *cpu, uint32_t idx, uint64_t *val);
int emu_wrmsr(struct emu_cpu *cpu, uint32_t idx, uint64_t val);
void emu_cpuid(struct emu_cpu *cpu, uint32_t leaf, uint32_t sub,
	       uint32_t out[4]);
/* The interpreter's CPUID before the model filters it. */
void emu_cpuid_raw(uint32_t apic_id, uint32_t leaf, uint32_t sub,
		   uint32_t out[4]);
/* Whether the CPU model shows feature f (CPUF_*, cpumodel.h): the
 * instructions and EFER bits of a hidden one are refused. */
int emu_has(struct emu_cpu *cpu, unsigned f);
/* debug.c */
void emu_db_update(struct emu_cpu *cpu);
void emu_db_fetch(struct emu_cpu *cpu);
void emu_db_data(struct emu_cpu *cpu, uint64_t lin, unsigned size, int write);
void emu_db_io(struct emu_cpu *cpu, uint16_t port, unsigned size);
int emu_db_page(struct emu_cpu *cpu, uint64_t lin);
void emu_mov_dr(struct emu_cpu *cpu);
/* fpu.c / sse.c: return 0 if handled */
int emu_exec_fpu(struct emu_cpu *cpu);
int emu_exec_sse(struct emu_cpu *cpu);
void emu_fpu_reset(struct emu_cpu *cpu);
void emu_fwait(struct emu_cpu *cpu);

#endif
