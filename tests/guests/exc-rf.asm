; hv-test: exit=0
; RFLAGS.RF in exception frames (SDM 17.3.1.1): faults push RF = 1 (#UD
; here; exc-rf2 has #GP, #PF, #DE), traps and software interrupts push
; the current RF (0), and the interrupted code runs on afterwards.
%include "hv.inc"
%include "exc.inc"
        EXC_ENTER
bits 64
        ; #UD: a fault
        RESUME_AT .a
        ud2
.a:     EQ [exc_vec], 6, "ud-vector"
        mov rax, [exc_rfl]
        and rax, RF
        EQ rax, RF, "ud-pushes-rf"
        ; INT3 and INT n are traps: RF as it was (0), return past them
        int3
.e:     EQ [exc_vec], 3, "int3-vector"
        lea rax, [rel .e]
        EQ [exc_rip], rax, "int3-returns-after"
        mov rax, [exc_rfl]
        and rax, RF
        EQ rax, 0, "int3-rf-clear"
        int 4
        mov rax, [exc_rfl]
        and rax, RF
        EQ rax, 0, "int-n-rf-clear"
        EQ [exc_count], 3, "exception-count"
        EXC_DONE
EXC_GDT
EXC_FUNCS
PUTS_FUNCS
