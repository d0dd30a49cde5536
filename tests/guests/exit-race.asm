; hv-test: exit=42
; hv-vm: cpus = 2
; The exit race (issue 15, defect 6): the BSP halts with interrupts off
; while the AP writes its exit status and then halts with interrupts off
; too. hv must end with the status written, never with "every vCPU
; halted with interrupts disabled". tests/guests/exit-race.t runs it in a
; loop under load.
%include "hv.inc"
bits 16
org 0x7c00
LAPIC equ 0xfee00000
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        ENTER_PROT32
        or dword [LAPIC + 0xf0], 0x100
        mov dword [LAPIC + 0x310], 1 << 24
        mov dword [LAPIC + 0x300], 0x00004500   ; INIT
        mov ecx, 100000
.d:     loop .d
        mov dword [LAPIC + 0x300], 0x00004609   ; SIPI -> 0x9000
        cli
.h:     hlt
        jmp .h
GDT_TABLE
        times 0x9000 - 0x7c00 - ($ - $$) db 0
bits 16
        cli
        EXIT 42
