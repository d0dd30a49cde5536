; hv-test: exit=0
; Real mode -> protected mode -> long mode with the guest's own page tables.
%include "hv.inc"
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        PUTS16 msg16
        ENTER_PROT32
        PUTS32 msg32
        ENTER_LONG64
        PUTS64 msg64
        mov rax, 0x123456789abcdef0     ; a 64-bit register works
        mov rbx, rax
        shr rbx, 32
        cmp ebx, 0x12345678
        jne fail
        EXIT 0
fail:   EXIT 1
msg16:  db "real mode", 10, 0
msg32:  db "32-bit protected mode", 10, 0
msg64:  db "64-bit long mode", 10, 0
GDT_TABLE
PUTS_FUNCS
