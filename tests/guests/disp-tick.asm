; hv-test: interactive
; Prints "tick" on COM1 over and over, a busy loop between lines: a VM
; whose serial output shows it keeps running while tests/console's
; garbage VNC clients hammer its display's frontend.
%include "hv.inc"
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
again:  PUTS16 tick
        mov ecx, 2000000
spin:   dec ecx
        jnz spin
        jmp again
tick:   db "tick", 13, 10, 0
PUTS_FUNCS
