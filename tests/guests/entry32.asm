; hv-test: exit=0
; hv-vm: entry = prot32
; hv-vm: load_addr = 0x100000
; The flat loader enters a 32-bit image in protected mode at 1 MiB.
%include "hv.inc"
bits 32
org 0x100000
        mov eax, cr0
        test al, 1
        jz fail
        PUTS32 msg
        EXIT 0
fail:   EXIT 1
msg:    db "entered in protected mode at 1 MiB", 10, 0
PUTS_FUNCS
