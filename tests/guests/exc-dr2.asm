; hv-test: exit=0
; More debug-register cases (SDM 17.2-17.3): an I/O breakpoint (CR4.DE,
; RW=10) traps after the OUT with DR6.B0; DR7.GD makes a MOV DR fault
; with DR6.BD and GD cleared; ICEBP (F1) is a #DB trap with no DR6 bit.
; Not run nested (tests/nested/guests.t says why).
%include "hv.inc"
%include "exc.inc"
        EXC_ENTER
bits 64
        xor eax, eax
        mov dr6, rax
        mov rax, dr6
        EQ rax, 0xffff0ff0, "dr6-fixed-bits"

        ; I/O breakpoint on the UART's scratch register (CR4.DE, RW=10)
        mov rax, cr4
        or rax, 1 << 3
        mov cr4, rax
        mov eax, COM1 + 7
        mov dr0, rax
        mov eax, 1 | 0x2 << 16
        mov dr7, rax
        mov qword [exc_count], 0
        mov qword [exc_rip], 0
        mov dx, COM1 + 7
        mov al, 0x5a
        out dx, al
.io1:   EQ [exc_count], 1, "io-bp-hit"
        lea rax, [rel .io1]
        EQ [exc_rip], rax, "io-bp-traps-after"
        mov rax, [exc_dr6]
        and rax, 0xf
        EQ rax, 1, "io-bp-dr6-b0"
        xor eax, eax
        mov dr7, rax
        mov rax, cr4
        and rax, ~(1 << 3)
        mov cr4, rax
        ; general detect: MOV DR faults, BD set, GD cleared
        mov eax, 1 << 13
        mov dr7, rax
        mov qword [exc_count], 0
.gd:    mov rax, dr0
        EQ [exc_count], 1, "gd-one-db"
        lea rax, [rel .gd]
        EQ [exc_rip], rax, "gd-faults-before"
        mov rax, [exc_dr6]
        and rax, 0x2000
        EQ rax, 0x2000, "gd-dr6-bd"
        mov rax, dr7
        and rax, 1 << 13
        EQ rax, 0, "gd-cleared"

        ; ICEBP: #DB as a trap, no DR6 bit
        mov qword [exc_count], 0
        db 0xf1
.i1:    EQ [exc_count], 1, "icebp-one-db"
        EQ [exc_vec], 1, "icebp-vector"
        lea rax, [rel .i1]
        EQ [exc_rip], rax, "icebp-traps-after"
        mov rax, [exc_dr6]
        and rax, 0xe00f
        EQ rax, 0, "icebp-no-dr6-bits"
        EXC_DONE
align 16
var:    dq 0, 0
EXC_GDT
EXC_FUNCS
PUTS_FUNCS
