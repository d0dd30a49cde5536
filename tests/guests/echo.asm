; hv-test: interactive
; Reads COM1 and echoes: letters upper-cased, control characters as ^X;
; 'q' powers off. Driven through a terminal by tests/console/stdio.t.
%include "hv.inc"
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        PUTS16 ready
poll:   mov dx, COM1 + 5
        in al, dx
        test al, 1                      ; data ready
        jnz got
        pause
        jmp poll
got:    mov dx, COM1
        in al, dx
        cmp al, 'q'
        je quit
        cmp al, 0x20
        jae .print
        push ax
        mov al, '^'
        call putc
        pop ax
        add al, 0x40
.print: cmp al, 'a'
        jb .out
        cmp al, 'z'
        ja .out
        sub al, 0x20
.out:   call putc
        jmp poll
quit:   PUTS16 bye
        EXIT 0
putc:   push ax
        mov dx, COM1 + 5
.w:     in al, dx
        test al, 0x20
        jz .w
        pop ax
        mov dx, COM1
        out dx, al
        ret
ready:  db "ready", 10, 0
bye:    db 10, "bye", 10, 0
PUTS_FUNCS
