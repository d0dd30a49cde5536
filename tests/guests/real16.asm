; hv-test: exit=0
; Prints from real mode and ends through the debug-exit port.
%include "hv.inc"
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        PUTS16 msg
        EXIT 0
msg:    db "hello from real mode", 10, 0
PUTS_FUNCS
