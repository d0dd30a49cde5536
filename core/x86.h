/*
 * Architectural x86 vCPU state shared by the accelerators (KVM, emu) and
 * the boot loaders: a loader fills one in, the accelerator applies it.
 */
#ifndef HV_CORE_X86_H
#define HV_CORE_X86_H

#include <stdint.h>

enum x86_gpr {
	X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
	X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
};

enum x86_sreg { X86_ES, X86_CS, X86_SS, X86_DS, X86_FS, X86_GS, X86_LDTR, X86_TR };

struct x86_seg {
	uint64_t base;
	uint32_t limit; /* byte granular (already scaled when G=1) */
	uint16_t sel;
	uint8_t type;   /* 4-bit descriptor type */
	uint8_t s, dpl, present, avl, l, db, g;
	uint8_t unusable;
};

struct x86_dtable {
	uint64_t base;
	uint16_t limit;
};

struct x86_state {
	uint64_t gpr[16];
	uint64_t rip, rflags;
	struct x86_seg seg[8];
	struct x86_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
	uint64_t apic_base;
};

#define X86_CR0_PE (1ull << 0)
#define X86_CR0_ET (1ull << 4)
#define X86_CR0_NE (1ull << 5)
#define X86_CR0_WP (1ull << 16)
#define X86_CR0_PG (1ull << 31)
#define X86_CR4_DE (1ull << 3)
#define X86_CR4_PAE (1ull << 5)
#define X86_EFER_SCE (1ull << 0)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)
#define X86_EFER_NXE (1ull << 11)

/* The state a PC's CPU has after power-on or INIT, at cs:ip = seg:off. */
void x86_state_reset(struct x86_state *st);
/* Flat segment helpers for loaders that enter in protected or long mode. */
void x86_seg_flat(struct x86_seg *s, uint16_t sel, int code, int bits);
void x86_seg_real(struct x86_seg *s, uint16_t sel, int code);

#endif
