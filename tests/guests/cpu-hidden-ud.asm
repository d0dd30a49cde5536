; hv-test: exit=0
; hv-test: accel=emu
; hv-vm: cpu = host,-popcnt,-cx16,-rdtscp,-sep,-lahf-lm
; What a hidden feature takes away on the interpreter (core/emu/sys.c,
; emu_has): POPCNT, CMPXCHG16B, RDTSCP, SYSENTER and 64-bit LAHF/SAHF
; raise #UD. Interpreter only: on KVM the CPU runs these instructions
; whatever the guest's CPUID says (cpu-nonx checks what KVM refuses).
%include "hv.inc"
%include "exc.inc"
        EXC_ENTER
bits 64
%macro UD_CHECK 2               ; UD_CHECK name, instruction...
        mov qword [exc_vec], 0
        RESUME_AT %%r
        %2
%%r:    EQ [exc_vec], 6, %1
%endmacro
        UD_CHECK "popcnt-ud", {popcnt eax, ebx}
        UD_CHECK "cmpxchg16b-ud", {cmpxchg16b [rel buf]}
        UD_CHECK "rdtscp-ud", {rdtscp}
        UD_CHECK "sysenter-ud", {sysenter}
        UD_CHECK "lahf-ud", {lahf}
        UD_CHECK "sahf-ud", {sahf}
        ; what stays: POPCNT's neighbour BSF, CMPXCHG8B, RDTSC
        mov qword [exc_count], 0
        mov ebx, 8
        bsf eax, ebx
        cmpxchg8b [rel buf]
        rdtsc
        EQ [exc_count], 0, "others-run"
        EXC_DONE
align 16
buf:    dq 0, 0
EXC_GDT
EXC_FUNCS
PUTS_FUNCS
