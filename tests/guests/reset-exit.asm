; hv-test: exit=0
; hv-vm: on_reboot = exit
; With on_reboot = exit a guest reset ends hv (status 0) instead.
%include "hv.inc"
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        PUTS16 msg
        lidt [null_idt]
        int3
        EXIT 1
null_idt: dw 0
          dd 0
msg:    db "resetting", 10, 0
PUTS_FUNCS
