; hv-test: exit=0
; hv-vm: cpu = host,-nx,-popcnt
; A feature removed from the host model (issue 15, defect 7): CPUID no
; longer shows NX or POPCNT, and EFER.NXE cannot be set (#GP) on either
; backend; long mode stays.
%include "hv.inc"
%include "exc.inc"
        EXC_ENTER
bits 64
        mov eax, 1
        cpuid
        and ecx, 1 << 23
        EQ rcx, 0, "no-popcnt"
        mov eax, 0x80000001
        cpuid
        mov [r81d], rdx
        mov rax, [r81d]
        and eax, 1 << 20
        EQ rax, 0, "no-nx"
        mov rax, [r81d]
        and eax, 1 << 29
        EQ rax, 1 << 29, "keeps-lm"
        mov qword [exc_count], 0
        RESUME_AT .nx
        mov ecx, 0xc0000080
        rdmsr
        or eax, 1 << 11
        wrmsr
.nx:    EQ [exc_count], 1, "efer-nxe-gp"
        EQ [exc_vec], 13, "efer-nxe-gp-vector"
        mov ecx, 0xc0000080
        rdmsr
        and eax, 1 << 11
        EQ rax, 0, "efer-nxe-still-clear"
        EXC_DONE
r81d:   dq 0
EXC_GDT
EXC_FUNCS
PUTS_FUNCS
