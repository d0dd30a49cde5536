; hv-test: interactive
; Loops forever printing "level=XX" (hex) on COM1 each time the byte at
; port 0x520 (tests/fixtures/runtime_dev.c) changes, so tests/control/
; control.t sees a run-time key change where the guest sees it. Never
; exits by itself: the control socket's quit ends it.
%include "hv.inc"
LEVEL   equ 0x520
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        PUTS16 ready
        mov bl, 0xff                    ; no level is 0xff: the first prints
poll:   mov dx, LEVEL
        in al, dx
        cmp al, bl
        jne changed
        pause
        jmp poll
changed:
        mov bl, al
        PUTS16 label
        mov al, bl
        shr al, 4
        call hexdig
        mov al, bl
        and al, 0xf
        call hexdig
        PUTS16 eol
        jmp poll
hexdig: add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'a' - '9' - 1
.out:   mov [digit], al
        PUTS16 digit
        ret
ready:  db "ready", 13, 10, 0
label:  db "level=", 0
eol:    db 13, 10, 0
digit:  db 0, 0
PUTS_FUNCS
