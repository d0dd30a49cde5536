; hv-test: exit=0
; Data breakpoints (SDM 17.2.4-17.2.5): on writes (RW=01) and on reads
; and writes (RW=11), lengths 1/2/4/8, trap after the accessing
; instruction with DR6.Bn set; accesses outside the range do not hit.
%include "hv.inc"
%include "exc.inc"
        EXC_ENTER
bits 64
        xor eax, eax
        mov dr6, rax
        mov rax, dr6
        EQ rax, 0xffff0ff0, "dr6-fixed-bits"

        ; write breakpoint, 4 bytes at var (DR1: RW=01 LEN=11)
        lea rax, [rel var]
        mov dr1, rax
        mov eax, 1 << 2 | 0xd << 20
        mov dr7, rax
        mov qword [exc_count], 0
        mov eax, [rel var]              ; a read: no #DB
        EQ [exc_count], 0, "write-bp-ignores-read"
        mov byte [rel var + 3], 1
.w1:    EQ [exc_count], 1, "write-bp-hit"
        lea rax, [rel .w1]
        EQ [exc_rip], rax, "write-bp-traps-after"
        mov rax, [exc_dr6]
        and rax, 0xf
        EQ rax, 2, "write-bp-dr6-b1"
        mov byte [rel var + 4], 1       ; outside the 4 bytes
        EQ [exc_count], 1, "write-bp-outside-len4"

        ; read/write breakpoint, 2 bytes at var+2 (DR2: RW=11 LEN=01)
        lea rax, [rel var + 2]
        mov dr2, rax
        mov eax, 1 << 4 | 0x7 << 24
        mov dr7, rax
        mov qword [exc_count], 0
        mov al, [rel var + 3]
        EQ [exc_count], 1, "rw-bp-read-hit"
        mov rax, [exc_dr6]
        and rax, 0xf
        EQ rax, 4, "rw-bp-dr6-b2"
        mov al, [rel var + 1]
        EQ [exc_count], 1, "rw-bp-len2-below"
        mov al, [rel var + 4]
        EQ [exc_count], 1, "rw-bp-len2-above"

        ; 8-byte write breakpoint (DR3: RW=01 LEN=10)
        lea rax, [rel var]
        mov dr3, rax
        mov eax, 1 << 6 | 0x9 << 28
        mov dr7, rax
        mov qword [exc_count], 0
        mov byte [rel var + 7], 1
        EQ [exc_count], 1, "len8-bp-hit"
        mov byte [rel var + 8], 1
        EQ [exc_count], 1, "len8-bp-outside"
        xor eax, eax
        mov dr7, rax

        EXC_DONE
align 16
var:    dq 0, 0
EXC_GDT
EXC_FUNCS
PUTS_FUNCS
