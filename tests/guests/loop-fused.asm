; hv-test: exit=0
; Tight register loops, as the interpreter runs them: one fused run that
; branches back to its own start (core/emu/fuse.c) goes round inside one
; handler. Each loop must end with exactly the registers and flags the
; instructions make: CF kept by DEC from the SUB (1) or CMP (2) before
; it, ZF from DEC, the result of every round (1000 rounds, values
; computed outside the guest). A periodic APIC timer must interrupt a
; long such loop many times while it runs (3), not once after it ends:
; a pending timer interrupt is only one IRR bit, so three or more
; counted before the CLI right after the loop were taken inside it, and
; the loop still ends with its counter at 0 (4). A failed check prints
; "fail" and exits with its number.
%include "hv.inc"
%include "apic.inc"
bits 16
org 0x7c00
TIMER   equ LAPIC + 0x320
TICR    equ LAPIC + 0x380
TDCR    equ LAPIC + 0x3e0
        APIC_KIT_START
        ; 1: the benchmark's loop (bench/emu/loop.asm), SUB's CF = 0
        mov ecx, 1000
        xor eax, eax
        xor edx, edx
        mov esi, 0x12345678
.l1:    add eax, ecx
        xor edx, eax
        inc edx
        sub esi, edx
        dec ecx
        jnz .l1
        pushfd
        pop ebx
        and ebx, 0x8d5                          ; OSZAPC
        cmp eax, 0x7a314
        jne .f1
        cmp edx, 0x32904
        jne .f1
        cmp esi, 0x6a7869e
        jne .f1
        cmp ebx, 0x44                           ; ZF PF
        je .t2
.f1:    mov eax, 1
        jmp fail
        ; 2: CMP's CF = 1 kept by DEC
.t2:    mov ecx, 1000
        xor eax, eax
        xor edx, edx
.l2:    add eax, ecx
        xor edx, eax
        inc edx
        cmp edx, eax
        dec ecx
        jnz .l2
        pushfd
        pop ebx
        and ebx, 0x8d5
        cmp eax, 0x7a314
        jne .f2
        cmp edx, 0x32904
        jne .f2
        cmp ebx, 0x45                           ; ZF PF CF
        je .t3
.f2:    mov eax, 2
        jmp fail
        ; 3-4: 2^24 rounds with a 100 us periodic timer (1 GHz, divide
        ; by 1): tens of ms even on hardware
.t3:    mov dword [TDCR], 0xb
        mov dword [TIMER], 0x20071              ; periodic, vector 0x71
        mov dword [TICR], 100000
        sti
        mov ecx, 1 << 24
        xor eax, eax
.l3:    add eax, ecx
        dec ecx
        jnz .l3
        cli
        mov dword [TICR], 0
        COUNT 0, 0x71
        cmp eax, 3
        jae .t4
        mov eax, 3
        jmp fail
.t4:    test ecx, ecx
        CHECK_EQ 4
        PUTS32 msg_ok
        EXIT 0
msg_ok: db "loop fused ok", 10, 0
GDT_TABLE
PUTS_FUNCS
APIC_KIT_FUNCS
