; hv-test: exit=1
; hv-test: accel=kvm
; hv-test: stderr=vCPU 0: KVM internal error: .* at CS:RIP 0008:00000000d0000000 .*instruction bytes: 
; Jumps to guest-physical memory that is neither RAM nor a device: KVM
; cannot fetch the instruction and stops with an internal error, which hv
; must report with the suberror's name, CS:RIP and what it knows of the
; instruction, then exit 1. (The interpreter raises no such error: KVM only.)
%include "hv.inc"
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        PUTS16 msg
        ENTER_PROT32
        jmp 0x08:0xd0000000
msg:    db "jumping to unassigned memory", 10, 0
GDT_TABLE
PUTS_FUNCS
