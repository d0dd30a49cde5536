; hv-test: exit=0
; hv-vm: machine = none
; hv-ini: [device rtc]
; hv-ini: plugin = cmos
; The MC146818's periodic interrupt at 1024 Hz on IRQ 8 (slave PIC): the
; guest counts 64 of them, each acknowledged by reading register C, which
; must show PF and IRQF; with PIE off again no more may come.
%include "hv.inc"
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        cli
        mov word [0x28 * 4], tick       ; IRQ 8: slave vector base 0x28
        mov word [0x28 * 4 + 2], 0
        PIC_INIT 0xfb                   ; master: only the cascade (IRQ 2)
        mov al, 0xfe                    ; slave: only IRQ 8
        out 0xa1, al
        mov al, 0x0a                    ; register A: 32.768 kHz, rate 6
        out 0x70, al
        mov al, 0x26
        out 0x71, al
        mov al, 0x0c                    ; clear anything pending
        out 0x70, al
        in al, 0x71
        mov al, 0x0b                    ; register B: PIE
        out 0x70, al
        in al, 0x71
        or al, 0x40
        mov ah, al
        mov al, 0x0b
        out 0x70, al
        mov al, ah
        out 0x71, al
        sti
wait_tick:
        hlt
        cmp word [ticks], 64
        jb wait_tick
        cli
        cmp byte [badc], 0
        jne fail
        mov al, 0x0b                    ; PIE off
        out 0x70, al
        mov al, 0x02
        out 0x71, al
        mov al, 0x0c
        out 0x70, al
        in al, 0x71
        mov word [ticks], 0
        sti
        mov ecx, 3000000                ; a while: no tick may come now
.spin:  dec ecx
        jnz .spin
        cli
        cmp word [ticks], 0
        jne fail
        PUTS16 msg
        EXIT 0
fail:   PUTS16 bad
        EXIT 1
tick:   push ax
        inc word [ticks]
        mov al, 0x0c
        out 0x70, al
        in al, 0x71
        and al, 0xc0
        cmp al, 0xc0                    ; IRQF and PF
        je .ok
        mov byte [badc], 1
.ok:    mov al, 0x20
        out 0xa0, al
        out 0x20, al
        pop ax
        iret
ticks:  dw 0
badc:   db 0
msg:    db "64 RTC periodic interrupts", 10, 0
bad:    db "RTC interrupts wrong", 10, 0
PUTS_FUNCS
