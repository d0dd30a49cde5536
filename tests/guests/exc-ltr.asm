; hv-test: exit=0
; LTR and LLDT in long mode (4-level paging) read a 16-byte descriptor:
; a non-canonical base is #GP(selector) and leaves TR/LDTR as they were;
; a canonical one loads (SDM Vol. 2A, LLDT/LTR).
%include "hv.inc"
%include "exc.inc"
        EXC_ENTER
bits 64
        ; 0x50: a TSS with base 0x0000800000021000 (non-canonical)
        mov rax, 0x0000800000000000 + TSS_BASE
        lea rdi, [rel gdt_s1]
        call make_tss_desc
        RESUME_AT .a
        mov ax, 0x50
        ltr ax
.a:     EQ [exc_vec], 13, "ltr-noncanonical-gp"
        EQ [exc_err], 0x50, "ltr-gp-error-is-selector"
        str ax
        movzx eax, ax
        EQ rax, 0x40, "ltr-tr-unchanged"
        ; the same slot as an LDT (type 2)
        mov byte [rel gdt_s1 + 5], 0x82
        mov qword [exc_vec], 0
        RESUME_AT .b
        mov ax, 0x50
        lldt ax
.b:     EQ [exc_vec], 13, "lldt-noncanonical-gp"
        EQ [exc_err], 0x50, "lldt-gp-error-is-selector"
        sldt ax
        movzx eax, ax
        EQ rax, 0, "lldt-ldtr-unchanged"
        ; canonical high-half bases load
        mov rax, 0xffff800000021000
        lea rdi, [rel gdt_s2]
        call make_tss_desc
        mov byte [rel gdt_s2 + 5], 0x82
        mov qword [exc_count], 0
        mov ax, 0x60
        lldt ax
        sldt ax
        movzx eax, ax
        EQ rax, 0x60, "lldt-canonical-loads"
        xor eax, eax
        lldt ax
        mov rax, 0xffff800000021000
        lea rdi, [rel gdt_s2]
        call make_tss_desc
        mov ax, 0x60
        ltr ax
        str ax
        movzx eax, ax
        EQ rax, 0x60, "ltr-canonical-loads"
        EQ [exc_count], 0, "canonical-no-exception"
        EXC_DONE
EXC_GDT
EXC_FUNCS
PUTS_FUNCS
