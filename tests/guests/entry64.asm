; hv-test: exit=0
; hv-vm: entry = long64
; hv-vm: load_addr = 0x200000
; The flat loader enters a 64-bit image in long mode, paging on.
%include "hv.inc"
bits 64
default rel
org 0x200000
        mov rcx, 0xc0000080
        rdmsr
        test eax, 1 << 10       ; EFER.LMA
        jz fail
        lea rsi, [msg]
        call puts64
        EXIT 0
fail:   EXIT 1
msg:    db "entered in long mode at 2 MiB", 10, 0
PUTS_FUNCS
