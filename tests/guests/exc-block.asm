; hv-test: exit=0
; A fault in the middle of straight-line code (one block of the
; interpreter's, core/emu/block.c) reports exactly the faulting
; instruction's state: its RIP, the registers the instructions before it
; wrote and not those after, and the flags of the last one before it that
; set them, though the block leaves out flags that a later instruction
; overwrites (a fault between them makes them live). Then the same in a
; loop whose iteration faults only on its last round.
%include "hv.inc"
%include "exc.inc"
CF equ 1
ZF equ 0x40
SF equ 0x80
OF equ 0x800
        EXC_ENTER
bits 64
        ; #GP: ADD sets CF and ZF, the SUB after the fault would clear them
        RESUME_AT .a
        mov rbx, 0x8000000000000000
        xor esi, esi
        mov ecx, -1
        mov edx, 5
        inc esi                 ; flags dead: ADD sets them all again
        add ecx, 1              ; CF = 1, ZF = 1
        mov edi, 7              ; no flags
.f1:    mov rax, [rbx]          ; #GP(0)
        sub edx, 1              ; ZF = 0, CF = 0: must not have run
        mov edi, 9
.a:     mov r12, rdx            ; the checks' printing uses dx
        EQ [exc_vec], 13, "gp-vector"
        lea rax, [rel .f1]
        EQ [exc_rip], rax, "gp-rip-is-the-faulting-insn"
        mov rax, [exc_rfl]
        and rax, CF | ZF | SF | OF
        EQ rax, CF | ZF, "gp-flags-of-the-add-before"
        EQ rcx, 0, "gp-ecx-written-before"
        EQ rsi, 1, "gp-esi-written-before"
        EQ r12, 5, "gp-edx-not-written-after"
        EQ rdi, 7, "gp-edi-before-not-after"
        ; #PF on a store: SUB's borrow (CF, SF) must be what the frame has
        RESUME_AT .b
        mov rbx, 0x40000000     ; past the 1 GiB identity map
        mov eax, 1
        mov ecx, 2
        xor edx, edx
        add edx, 3              ; dead: SUB sets them all
        sub eax, ecx            ; CF = 1, SF = 1, eax = -1
.f2:    mov [rbx], eax          ; #PF
        add eax, 1              ; must not have run
.b:     mov r12, rdx
        EQ [exc_vec], 14, "pf-vector"
        lea rax, [rel .f2]
        EQ [exc_rip], rax, "pf-rip-is-the-faulting-insn"
        mov rax, [exc_rfl]
        and rax, CF | ZF | SF | OF
        EQ rax, CF | SF, "pf-flags-of-the-sub-before"
        mov rax, cr2
        EQ rax, 0x40000000, "pf-cr2"
        EQ r12, 3, "pf-edx-written-before"
        ; a loop: the load faults on the 1000th round, when ebx reaches
        ; the unmapped page; the DEC before it sets ZF = 0, SF = 0
        RESUME_AT .c
        mov rbx, 0x40000000 - 999 * 4096
        mov ecx, 2000
        xor edi, edi
.l:     add edi, 1
        dec ecx                 ; ZF = 0 (ecx > 0), CF kept from ADD (0)
.f3:    mov rax, [rbx]
        add rbx, 4096
        jmp .l
.c:     EQ [exc_vec], 14, "loop-pf-vector"
        lea rax, [rel .f3]
        EQ [exc_rip], rax, "loop-rip-is-the-faulting-insn"
        EQ rdi, 1000, "loop-rounds"
        EQ rcx, 1000, "loop-ecx"
        mov rax, [exc_rfl]
        and rax, CF | ZF | SF | OF
        EQ rax, 0, "loop-flags-of-the-dec"
        EQ [exc_count], 3, "exception-count"
        EXC_DONE
EXC_GDT
EXC_FUNCS
PUTS_FUNCS
