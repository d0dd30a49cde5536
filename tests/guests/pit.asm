; hv-test: exit=0
; The 8254 PIT's channel 0 at 1 kHz on IRQ 0 through the PIC: the guest
; counts 50 ticks with HLT between them.
%include "hv.inc"
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        cli
        mov word [0x20 * 4], tick
        mov word [0x20 * 4 + 2], 0
        PIC_INIT 0xfe                   ; IRQ 0 only
        mov al, 0x34                    ; channel 0, lo/hi, mode 2
        out 0x43, al
        mov ax, 1193                    ; 1193182 Hz / 1193 = 1 kHz
        out 0x40, al
        mov al, ah
        out 0x40, al
        sti
wait_tick:
        hlt
        cmp word [ticks], 50
        jb wait_tick
        cli
        PUTS16 msg
        EXIT 0
tick:   inc word [ticks]
        push ax
        mov al, 0x20
        out 0x20, al
        pop ax
        iret
ticks:  dw 0
msg:    db "50 PIT ticks", 10, 0
PUTS_FUNCS
