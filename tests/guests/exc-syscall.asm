; hv-test: exit=0
; SYSCALL/SYSRET (SDM Vol. 2B): the selectors STAR gives (CS, CS+8 for
; SS; SYSRET: +16/+8 with RPL 3), LSTAR from 64-bit code and CSTAR from
; compatibility mode, RCX/R11, FMASK, a MOV SS from the GDT right after
; SYSCALL (kvm-unit-tests' "MSR_*STAR eager loading"), and TF as SYSCALL
; and SYSRET end with it (kvm-unit-tests' syscall TF test).
%include "hv.inc"
%include "exc.inc"
        EXC_ENTER
bits 64
        mov ecx, 0xc0000080
        rdmsr
        or eax, 1               ; EFER.SCE
        wrmsr
        ; STAR: SYSCALL CS 0x18 (SS 0x20), SYSRET base 0x28
        mov ecx, 0xc0000081
        xor eax, eax
        mov edx, 0x00280018
        wrmsr
        mov ecx, 0xc0000082     ; LSTAR
        lea rax, [rel lstar_target]
        mov rdx, rax
        shr rdx, 32
        wrmsr
        mov ecx, 0xc0000083     ; CSTAR
        lea rax, [rel cstar_target]
        mov rdx, rax
        shr rdx, 32
        wrmsr
        mov ecx, 0xc0000084     ; FMASK: TF DF IF NT
        mov eax, 0x4700
        xor edx, edx
        wrmsr

        ; 1: SYSCALL from ring 0, then MOV SS back to the GDT's 0x10
        mov qword [phase], 1
        pushfq
        or qword [rsp], 1 << 10         ; DF: FMASK clears it
        popfq
        syscall
ret1:   EQ [got_cs], 0x18, "syscall-cs"
        EQ [got_ss], 0x20, "syscall-ss"
        lea rax, [rel ret1]
        EQ [got_rcx], rax, "syscall-rcx"
        mov rax, [got_r11]
        and rax, 1 << 10
        EQ rax, 1 << 10, "syscall-r11-has-df"
        mov rax, [got_fl]
        and rax, 1 << 10
        EQ rax, 0, "syscall-fmask-clears-df"
        mov ax, 0x10
        mov ss, ax              ; the issue's "mov ss after SYSCALL"
        mov ax, ss
        movzx eax, ax
        EQ rax, 0x10, "mov-ss-after-syscall"
        EQ [exc_count], 0, "no-exception-so-far"

        ; 2: SYSRET to 64-bit ring 3, SYSCALL back
        mov qword [phase], 2
        lea rcx, [rel user64]
        mov r11, 0x202
        o64 sysret
back2:  EQ [got_cs], 0x18, "syscall-from-user-cs"
        EQ [u_cs], 0x3b, "sysret64-cs"
        EQ [u_ss], 0x33, "sysret64-ss"
        mov rax, [u_fl]
        and rax, 0x200
        EQ rax, 0x200, "sysret64-rflags-from-r11"

        ; 3: SYSRET to compatibility mode; its SYSCALL enters via CSTAR
        mov qword [phase], 3
        lea rcx, [rel user32]
        mov r11, 0x202
        sysret
back3:  EQ [got_cstar], 1, "compat-syscall-uses-cstar"
        EQ [u_cs], 0x2b, "sysret32-cs"
        EQ [u_ss], 0x33, "sysret32-ss"

        ; 4: TF: SYSCALL whose FMASK clears TF does not trap; SYSRET with
        ; TF in R11 traps right after it, in ring 3
        mov qword [phase], 4
        mov qword [exc_count], 0
        mov qword [exc_fl_and], ~TF
        lea rcx, [rel user_tf]
        mov r11, 0x002
        o64 sysret
back4:  EQ [exc_count], 1, "sysret-tf-one-trap"
        EQ [exc_vec], 1, "sysret-tf-db"
        EQ [exc_cs], 0x3b, "sysret-tf-trap-in-ring3"
        lea rax, [rel user_tf_sys2]
        EQ [exc_rip], rax, "sysret-tf-trap-before-user-insn"
        EXC_DONE

; ring 0 entry from 64-bit code
lstar_target:
        mov [got_rcx], rcx
        mov [got_r11], r11
        mov ax, cs
        movzx eax, ax
        mov [got_cs], rax
        mov ax, ss
        movzx eax, ax
        mov [got_ss], rax
        pushfq
        pop rax
        mov [got_fl], rax
        mov rsp, 0x7bf0
        cmp qword [phase], 1
        je .p1
        cmp qword [phase], 2
        je back2
        cmp qword [phase], 4
        je .p4
        jmp back3
.p1:    jmp rcx
.p4:    cmp qword [exc_count], 0
        je .again               ; the trap not taken yet: SYSRET again
        jmp back4
.again: mov r11, 0x102          ; TF; RCX: back to the second SYSCALL          ; TF
        o64 sysret

cstar_target:
        mov qword [got_cstar], 1
        mov rsp, 0x7bf0
        jmp back3

user64:
        mov ax, cs
        movzx eax, ax
        mov [u_cs], rax
        mov ax, ss
        movzx eax, ax
        mov [u_ss], rax
        pushfq
        pop rax
        mov [u_fl], rax
        syscall

user_tf:
        syscall                 ; first pass: TF clear, no trap
user_tf_sys2:
        syscall

bits 32
user32:
        mov ax, cs
        movzx eax, ax
        mov [u_cs], eax
        mov ax, ss
        movzx eax, ax
        mov [u_ss], eax
        syscall
bits 64

align 8
phase:  dq 0
got_cs: dq 0
got_ss: dq 0
got_rcx: dq 0
got_r11: dq 0
got_fl: dq 0
got_cstar: dq 0
u_cs:   dq 0
u_ss:   dq 0
u_fl:   dq 0
EXC_GDT
EXC_FUNCS
PUTS_FUNCS
