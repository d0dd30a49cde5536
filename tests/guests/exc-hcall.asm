; hv-test: exit=0
; Hypercalls: CPUID 0x40000000 carries KVM's signature on both backends,
; so VMCALL and VMMCALL answer as KVM does: an unknown hypercall number
; returns -KVM_ENOSYS (-1000) in RAX, KVM_HC_VAPIC_POLL_IRQ (1) returns 0,
; and neither raises #UD.
%include "hv.inc"
%include "exc.inc"
        EXC_ENTER
bits 64
        mov eax, 0x40000000
        cpuid
        mov [r_b], rbx                  ; EQ prints through DX
        mov [r_c], rcx
        mov [r_d], rdx
        EQ [r_b], 0x4b4d564b, "sig-ebx-KVMK"
        EQ [r_c], 0x564b4d56, "sig-ecx-VMKV"
        EQ [r_d], 0x4d, "sig-edx-M"
        cmp eax, 0x40000001
        setae al
        movzx eax, al
        EQ rax, 1, "max-leaf-has-features"
        mov qword [exc_count], 0
        mov rax, 0x12345
        vmcall
        EQ rax, -1000, "vmcall-unknown-enosys"
        mov rax, 0x12345
        vmmcall
        EQ rax, -1000, "vmmcall-unknown-enosys"
        mov eax, 1
        vmmcall
        EQ rax, 0, "vmmcall-vapic-poll-irq"
        EQ [exc_count], 0, "no-ud"
        EXC_DONE
r_b:    dq 0
r_c:    dq 0
r_d:    dq 0
EXC_GDT
EXC_FUNCS
PUTS_FUNCS
