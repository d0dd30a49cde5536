; hv-test: exit=0
; Real mode, then 32-bit protected mode through its own GDT.
%include "hv.inc"
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        PUTS16 msg16
        ENTER_PROT32
        PUTS32 msg32
        EXIT 0
msg16:  db "real mode", 10, 0
msg32:  db "32-bit protected mode", 10, 0
GDT_TABLE
PUTS_FUNCS
