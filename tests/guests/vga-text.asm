; hv-test: interactive
; VGA text mode as a bare-metal guest drives it (tests/display/vga-text.t
; runs it, takes screenshots and checks every cell's pixels): lines of
; text with several attributes at 0xb8000, line-drawing characters (the
; 9th-column rule), a blinking word, Latin-1 letters through CP437, a DAC
; entry changed, the cursor moved through the CRTC. Then register read
; back: the cursor location, the attribute controller's flip-flop (reset
; by input status 1), the DAC read path, CR11's write protection and the
; retrace bit toggling. Prints one verdict on COM1 and halts with the
; screen left for the test.
%include "hv.inc"
bits 16
org 0x7c00

CRTC    equ 0x3d4
ACPORT  equ 0x3c0
STAT1   equ 0x3da

; FAIL n: print the failure with its number and halt
%macro FAIL 1
        mov byte [failno], '0' + %1
        jmp fail
%endmacro
; CRTC_RD index -> al
%macro CRTC_RD 1
        mov dx, CRTC
        mov al, %1
        out dx, al
        inc dx
        in al, dx
%endmacro
; AT row, col, attr, string: write a NUL-terminated string into the screen
%macro AT 4
        mov di, ((%1) * 80 + (%2)) * 2
        mov ah, %3
        mov si, %4
        call put
%endmacro

start:  xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        mov ax, 0xb800
        mov es, ax
        cld

        AT 0, 0, 0x1f, s_title
        AT 1, 0, 0x0a, s_green
        AT 2, 2, 0x0e, s_box1
        AT 3, 2, 0x0e, s_box2
        AT 4, 2, 0x0e, s_box3
        AT 5, 0, 0x07, s_single
        AT 6, 0, 0x8c, s_blink
        AT 6, 10, 0x07, s_steady
        AT 7, 0, 0x70, s_latin
        AT 9, 0, 0x05, s_dac
        AT 10, 0, 0x07, s_cursor
        ; row 8: 'A'.. 'P' in every foreground over the 8 backgrounds
        mov di, 8 * 80 * 2
        mov cx, 16
        mov al, 'A'
        xor bx, bx
.row8:  mov ah, bl
        and ah, 7
        shl ah, 4
        mov dl, 15
        sub dl, bl
        or ah, dl
        stosw
        inc al
        inc bl
        loop .row8
        ; a steady cell under the cursor: grey on black
        mov word [es:(10 * 80 + 20) * 2], 0x0720

        ; DAC entry 5 (attribute colour 5 in mode 3) becomes orange
        mov dx, 0x3c8
        mov al, 5
        out dx, al
        inc dx
        mov al, 63
        out dx, al
        mov al, 32
        out dx, al
        mov al, 0
        out dx, al

        ; the cursor to row 10, column 20
        mov bx, 10 * 80 + 20
        mov dx, CRTC
        mov al, 0x0e
        mov ah, bh
        out dx, ax
        mov al, 0x0f
        mov ah, bl
        out dx, ax

        ; ---- read back ----
        CRTC_RD 0x0e
        cmp al, bh
        je .c1
        FAIL 1
.c1:    CRTC_RD 0x0f
        cmp al, bl
        je .c2
        FAIL 2
.c2:    ; the flip-flop: index, data, index; input status 1 resets it
        mov dx, STAT1
        in al, dx
        mov dx, ACPORT
        mov al, 0x34
        out dx, al                      ; index 0x14 (PAS set)
        in al, dx
        cmp al, 0x34
        je .a1
        FAIL 3
.a1:    mov al, 0x00
        out dx, al                      ; data: colour select 0
        in al, dx
        cmp al, 0x34                    ; the index did not move
        je .a2
        FAIL 4
.a2:    mov al, 0x32
        out dx, al                      ; index 0x12
        inc dx
        in al, dx                       ; 0x3c1: colour plane enable
        dec dx
        cmp al, 0x0f
        je .a3
        FAIL 5
.a3:    mov dx, STAT1
        in al, dx                       ; back to the index state
        mov dx, ACPORT
        mov al, 0x30
        out dx, al
        in al, dx
        cmp al, 0x30
        je .a4
        FAIL 6
.a4:    mov dx, STAT1
        in al, dx
        mov dx, ACPORT
        mov al, 0x20                    ; leave the display on
        out dx, al
        ; the DAC reads back what was written, three accesses per entry
        mov dx, 0x3c7
        mov al, 5
        out dx, al
        in al, dx
        cmp al, 3                       ; DAC state: read mode
        je .d0
        FAIL 7
.d0:    mov dx, 0x3c9
        in al, dx
        mov ah, al
        in al, dx
        mov bl, al
        in al, dx
        cmp ah, 63
        jne .dbad
        cmp bl, 32
        jne .dbad
        cmp al, 0
        je .d1
.dbad:  FAIL 8
.d1:    ; CR11 bit 7 protects CR00-CR07: CR01 stays 0x4f
        mov dx, CRTC
        mov ax, 0x2701
        out dx, ax
        CRTC_RD 0x01
        cmp al, 0x4f
        je .p1
        FAIL 9
.p1:    ; a vertical retrace wait ends in both directions
        mov cx, 1000
        mov dx, STAT1
.v1:    in al, dx
        test al, 8
        jnz .v2
        loop .v1
        FAIL 10
.v2:    mov cx, 1000
.v3:    in al, dx
        test al, 8
        jz .ok
        loop .v3
        FAIL 11
.ok:    mov si, s_ok
        call puts16
        jmp halt
fail:   mov si, s_fail
        call puts16
halt:   sti
        hlt
        jmp halt

; si: string, es:di: where, ah: attribute
put:    lodsb
        test al, al
        jz .done
        stosw
        jmp put
.done:  ret

s_title:  db "hv VGA text mode: white on blue", 0
s_green:  db "Bright green on black, 80x25, 9-dot cells", 0
s_box1:   db 0xc9, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcb, 0xcd, 0xcd, 0xcd, 0xbb, 0
s_box2:   db 0xba, " boxes  ", 0xba, 0xb0, 0xb1, 0xb2, 0xba, 0
s_box3:   db 0xc8, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xca, 0xcd, 0xcd, 0xcd, 0xbc, 0
s_single: db 0xda, 0xc4, 0xc2, 0xc4, 0xbf, " ", 0xc3, 0xc4, 0xc5, 0xc4, 0xb4, " ", 0xc0, 0xc4, 0xc1, 0xc4, 0xd9, " ", 0xdb, 0xdc, 0xdf, 0xdd, 0xde, 0
s_blink:  db "BLINKING", 0
s_steady: db "steady", 0
s_latin:  db "Latin: caf", 0x82, " stra", 0xe1, "e ", 0x9c, "5 20", 0xf8, "C ", 0x84, 0x94, 0x81, 0
s_dac:    db "DAC entry 5 is orange now", 0
s_cursor: db "the cursor is here:", 0
s_ok:     db "VGA text: registers ok", 10, 0
s_fail:   db "VGA text: FAIL "
failno:   db "?", 10, 0

PUTS_FUNCS
