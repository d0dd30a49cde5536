; hv-test: exit=0
; hv-vm: cpu = qemu64
; The qemu64 CPU model (issue 15, defect 7): CPUID shows no feature
; outside QEMU's qemu64 set on either backend (leaf 1, leaf 7, leaf
; 0x80000001), keeps long mode and NX (EFER.NXE can be set), and the
; MSRs of what it hides raise #GP (include/msrwalk.inc).
%include "hv.inc"
%include "exc.inc"
%include "msrwalk.inc"
        EXC_ENTER
bits 64
        mov eax, 1
        cpuid
        mov [r1c], rcx
        mov [r1d], rdx
        and ecx, ~(1 | 1 << 13 | 1 << 31)
        EQ rcx, 0, "leaf1-ecx-within-qemu64"
        mov rdx, [r1d]
        and edx, ~(1 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 7 | 1 << 8 | 1 << 9 | 1 << 11 | 1 << 12 | 1 << 13 | 1 << 14 | 1 << 15 | 1 << 16 | 1 << 17 | 1 << 19 | 1 << 23 | 1 << 24 | 1 << 25 | 1 << 26)
        EQ rdx, 0, "leaf1-edx-within-qemu64"
        mov rax, [r1c]
        and eax, 1 << 23
        EQ rax, 0, "no-popcnt"
        xor eax, eax
        cpuid
        xor ebx, ebx
        xor ecx, ecx
        xor edx, edx
        cmp eax, 7
        jb .n7
        mov eax, 7
        xor ecx, ecx
        cpuid
.n7:    or ebx, ecx
        or ebx, edx
        EQ rbx, 0, "leaf7-empty"
        mov eax, 0x80000001
        cpuid
        mov [r81c], rcx
        mov [r81d], rdx
        and ecx, ~(1 | 1 << 5 | 1 << 6)
        EQ rcx, 0, "ext1-ecx-within-qemu64"
        mov rdx, [r81d]
        and edx, ~(1 << 11 | 1 << 20 | 1 << 29)
        EQ rdx, 0, "ext1-edx-within-qemu64"
        mov rax, [r81d]
        and eax, 1 << 20 | 1 << 29
        EQ rax, 1 << 20 | 1 << 29, "keeps-nx-lm"
        ; NX is shown, so EFER.NXE sets
        mov qword [exc_count], 0
        RESUME_AT .nx
        mov ecx, 0xc0000080
        rdmsr
        or eax, 1 << 11
        wrmsr
.nx:    EQ [exc_count], 0, "efer-nxe-sets"
        MSR_WALK
        EXC_DONE
r1c:    dq 0
r1d:    dq 0
r81c:   dq 0
r81d:   dq 0
MSR_DATA
EXC_GDT
EXC_FUNCS
PUTS_FUNCS
