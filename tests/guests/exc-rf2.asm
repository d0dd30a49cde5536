; hv-test: exit=0
; RFLAGS.RF in the frames of the faults the CPU itself delivers (SDM
; 17.3.1.1): #GP, #PF and #DE push RF = 1; an IRET that sets RF leaves it
; set for one instruction only. Not run nested (tests/nested/guests.t).
%include "hv.inc"
%include "exc.inc"
        EXC_ENTER
bits 64
        ; #GP from a non-canonical address
        RESUME_AT .b
        mov rax, 0x8000000000000000
        mov rbx, [rax]
.b:     EQ [exc_vec], 13, "gp-vector"
        mov rax, [exc_rfl]
        and rax, RF
        EQ rax, RF, "gp-pushes-rf"
        ; #PF beyond the 1 GiB identity map
        RESUME_AT .c
        mov rax, 0x40000000
        mov rbx, [rax]
.c:     EQ [exc_vec], 14, "pf-vector"
        mov rax, [exc_rfl]
        and rax, RF
        EQ rax, RF, "pf-pushes-rf"
        ; #DE
        RESUME_AT .d
        xor edx, edx
        xor ecx, ecx
        mov eax, 1
        div ecx
.d:     EQ [exc_vec], 0, "de-vector"
        mov rax, [exc_rfl]
        and rax, RF
        EQ rax, RF, "de-pushes-rf"
        ; an IRET that sets RF: the flag is gone after one instruction,
        ; so the next fault's frame is again the fault's own RF = 1 and
        ; a following INT n pushes 0
        mov rax, rsp
        push 0x10
        push rax
        pushfq
        or qword [rsp], RF
        push 0x18
        lea rax, [rel .f]
        push rax
        iretq
.f:     nop
        int 4
        mov rax, [exc_rfl]
        and rax, RF
        EQ rax, 0, "rf-cleared-after-one-insn"
        EQ [exc_count], 4, "exception-count"
        EXC_DONE
EXC_GDT
EXC_FUNCS
PUTS_FUNCS
