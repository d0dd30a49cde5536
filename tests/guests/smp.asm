; hv-test: exit=0
; hv-vm: cpus = 2
; SMP bring-up: the BSP wakes the AP with INIT-SIPI-SIPI through its local
; APIC; the AP starts in real mode at 0x9000, reports its APIC id and halts.
%include "hv.inc"
bits 16
org 0x7c00
LAPIC equ 0xfee00000
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        PUTS16 msg_bsp
        ENTER_PROT32
        or dword [LAPIC + 0xf0], 0x100          ; SVR: software-enable the APIC
        mov dword [LAPIC + 0x310], 1 << 24      ; ICR high: APIC id 1
        mov dword [LAPIC + 0x300], 0x00004500   ; INIT
        call delay
        mov dword [LAPIC + 0x300], 0x00004609   ; SIPI, vector 9 -> 0x9000
        call delay
        mov dword [LAPIC + 0x300], 0x00004609
        mov ecx, 100000000
.wait:  cmp byte [ap_flag], 0
        jne .up
        pause
        loop .wait
        PUTS32 msg_none
        EXIT 1
.up:    cmp byte [ap_id], 1
        jne .bad
        PUTS32 msg_done
        EXIT 0
.bad:   EXIT 2
delay:  mov ecx, 100000
.d:     loop .d
        ret
msg_bsp:  db "BSP up", 10, 0
msg_none: db "the AP never came up", 10, 0
msg_done: db "AP reported APIC id 1", 10, 0
GDT_TABLE
PUTS_FUNCS
ap_id:  db 0xff
ap_flag: db 0
        times 0x9000 - 0x7c00 - ($ - $$) db 0
bits 16
ap_start:                       ; 0x9000, cs = 0x900, ip = 0
        cli
        xor ax, ax
        mov ds, ax
        mov eax, 1
        cpuid
        shr ebx, 24             ; initial APIC id
        mov [ap_id], bl
        mov byte [ap_flag], 1
.halt:  hlt
        jmp .halt
