; hv-test: exit=1
; hv-test: accel=emu
; hv-test: stderr=every vCPU halted with interrupts disabled
; hv-vm: cpus = 2
; The interpreter's dead-halt detector: both vCPUs halt with interrupts
; off (the AP after the BSP sent it an NMI, which must not count it dead
; for good) and nothing can ever wake them, so hv stops with an error
; instead of hanging. (Under KVM the in-kernel LAPIC keeps such a guest
; halted, as hardware does: this runs on emu only.)
%include "hv.inc"
%include "apic.inc"
bits 16
org 0x7c00
        APIC_KIT_START
        call start_ap
        mov dword [APCMD], ap_park
        call wake_ap
.w:     cmp byte [parked], 1
        jne .w
        mov ecx, 1000000
.d:     loop .d
        mov dword [LAPIC + 0x310], 1 << 24
        mov dword [LAPIC + 0x300], 0x4400       ; NMI: the AP runs, halts again
.n:     cmp dword [CNT + 1024 + 2 * 4], 1
        jne .n
        cli
.h:     hlt
        jmp .h
ap_park:
        cli
        mov byte [parked], 1
.h:     hlt
        jmp .h
parked: db 0
GDT_TABLE
PUTS_FUNCS
APIC_KIT_FUNCS
AP_TRAMPOLINE
