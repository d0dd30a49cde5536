; hv-test: exit=0
; Debug registers and single-step (SDM 17.2-17.3): an execution
; breakpoint faults before the instruction with RF = 0 in its frame and
; RF = 1 lets it run once; DR4/DR5 alias DR6/DR7 without CR4.DE and are
; #UD with it; TF traps after the instruction following the POPF that
; sets it, not across STI's shadow but across MOV SS's. Data breakpoints
; are in exc-drdata, I/O breakpoints, DR7.GD and ICEBP in exc-dr2.
%include "hv.inc"
%include "exc.inc"
        EXC_ENTER
bits 64
        xor eax, eax
        mov dr6, rax
        mov rax, dr6
        EQ rax, 0xffff0ff0, "dr6-fixed-bits"

        ; execution breakpoint on .x1 (DR0, L0)
        lea rax, [rel .x1]
        mov dr0, rax
        mov eax, 1
        mov dr7, rax
        mov qword [exc_count], 0
        mov qword [exc_fl_or], RF      ; the handler resumes with RF = 1
.x1:    nop
        EQ [exc_count], 1, "exec-bp-one-db"
        EQ [exc_vec], 1, "exec-bp-vector"
        lea rax, [rel .x1]
        EQ [exc_rip], rax, "exec-bp-faults-before"
        mov rax, [exc_rfl]
        and rax, RF
        EQ rax, 0, "exec-bp-frame-rf-clear"
        mov rax, [exc_dr6]
        and rax, 0xf
        EQ rax, 1, "exec-bp-dr6-b0"
        ; IRET to it with RF = 1: it runs without a #DB
        mov qword [exc_count], 0
        mov rax, rsp
        push 0x10
        push rax
        pushfq
        or qword [rsp], RF
        push 0x18
        lea rax, [rel .x1b]
        push rax
        lea rax, [rel .x1b]
        mov dr0, rax
        iretq
.x1b:   nop
        EQ [exc_count], 0, "exec-bp-rf-suppresses"
        xor eax, eax
        mov dr7, rax

        ; DR4 is #UD with CR4.DE
        mov rax, cr4
        or rax, 1 << 3
        mov cr4, rax
        RESUME_AT .ud4
        mov rax, dr4
.ud4:   EQ [exc_vec], 6, "dr4-ud-with-de"
        mov rax, cr4
        and rax, ~(1 << 3)
        mov cr4, rax
        mov eax, 0x0f
        mov dr6, rax
        mov rax, dr4                    ; DR6 without CR4.DE
        EQ rax, 0xffff0fff, "dr4-aliases-dr6"
        xor eax, eax
        mov dr6, rax

        ; single-step: POPF sets TF, the trap comes after the next insn
        mov qword [exc_count], 0
        pushfq
        or qword [rsp], TF
        popfq
.s1:    nop
.s2:    nop
.s3:    pushfq
        and qword [rsp], ~TF
        popfq
.s4:    EQ [exc_count], 5, "tf-trap-count"     ; .s1 .s2 .s3, AND, POPF
        lea rax, [rel .s4]
        EQ [exc_rip], rax, "tf-last-trap-after-popf"
        mov rax, [exc_dr6]
        and rax, 0x4000
        EQ rax, 0x4000, "tf-dr6-bs"
        ; STI's shadow does not hold the trap
        cli
        mov qword [exc_count], 0
        mov qword [exc_fl_and], ~TF
        pushfq
        or qword [rsp], TF
        popfq
        sti
.t1:    nop
        EQ [exc_count], 1, "tf-across-sti"
        lea rax, [rel .t1]
        EQ [exc_rip], rax, "tf-trap-right-after-sti"
        cli
        ; MOV SS's shadow holds it for one instruction
        mov qword [exc_count], 0
        mov qword [exc_fl_and], ~TF
        pushfq
        or qword [rsp], TF
        popfq
        mov ax, ss
        mov ss, ax
        nop
.m1:    nop
        EQ [exc_count], 1, "tf-across-mov-ss"
        lea rax, [rel .m1]
        EQ [exc_rip], rax, "tf-trap-after-shadowed-insn"

        EXC_DONE
align 16
var:    dq 0, 0
EXC_GDT
EXC_FUNCS
PUTS_FUNCS
