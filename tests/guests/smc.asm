; hv-test: exit=0
; Self-modifying code: a store into an instruction further on in the same
; straight-line code (one block of the interpreter's, core/emu/block.c)
; runs the new instruction, and a loop that patches its own body runs the
; patched body from the next round on (the interpreter's blocks are
; checked against the code bytes, never run stale).
%include "hv.inc"
%include "exc.inc"
        EXC_ENTER
bits 64
        ; the immediate of a MOV two instructions ahead
        mov ecx, 7
        mov byte [rel .imm + 1], 2
.imm:   mov ecx, 1              ; B9 01 00 00 00: becomes mov ecx, 2
        mov r12, rcx
        EQ r12, 2, "smc-same-block"
        ; a loop whose first round patches its ADD's immediate
        xor edx, edx
        mov ecx, 3
.again: add edx, 1              ; 83 C2 01: 83 C2 10 from round 2 on
        mov byte [rel .again + 2], 0x10
        dec ecx
        jnz .again
        mov r12, rdx
        EQ r12, 1 + 16 + 16, "smc-loop-patches-itself"
        ; a store from other code (a call to a patcher in another page)
        ; into this block, between two of its runs
        mov r13d, 0
        mov ebx, 2
main_run:
        add r13d, 5             ; 41 83 C5 05: 41 83 C5 50 after the call
        dec ebx
        jz .out
        call patch
        jmp main_run
.out:   mov r12, r13
        EQ r12, 5 + 0x50, "smc-patched-from-elsewhere"
        EXC_DONE
align 4096
patch:  mov byte [rel main_run + 3], 0x50
        ret
EXC_GDT
EXC_FUNCS
PUTS_FUNCS
