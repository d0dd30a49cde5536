; hv-test: interactive
; Prints "ready" on COM1 and halts with interrupts on, forever: a VM that
; costs no CPU while tests/display/*.t drive its display and input
; devices (fixtures) through the control socket, which also ends it.
%include "hv.inc"
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        PUTS16 ready
        sti
idle:   hlt
        jmp idle
ready:  db "ready", 13, 10, 0
PUTS_FUNCS
