; hv-test: exit=0
; Interrupts end to end: the UART in loopback raises its receive interrupt
; on IRQ 4 through the 8259 PIC; a real-mode handler reads the byte.
%include "hv.inc"
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        cli
        mov word [0x24 * 4], handler    ; IRQ 4 = vector 0x24 after remap
        mov word [0x24 * 4 + 2], 0
        PIC_INIT 0xef                   ; unmask IRQ 4 only
        mov dx, COM1 + 4
        mov al, 0x18                    ; OUT2 (IRQ enable) | loopback
        out dx, al
        mov dx, COM1 + 1
        mov al, 0x01                    ; receive interrupt
        out dx, al
        mov dx, COM1
        mov al, 'Z'
        out dx, al
        sti
wait_irq:
        hlt
        cmp byte [got], 0
        je wait_irq
        cli
        mov dx, COM1 + 4
        mov al, 0x08                    ; loopback off again
        out dx, al
        cmp byte [got], 'Z'
        jne fail
        cmp byte [count], 1
        jne fail
        PUTS16 msg
        EXIT 0
fail:   EXIT 1
handler:
        push ax
        push dx
        mov dx, COM1
        in al, dx
        mov [got], al
        inc byte [count]
        mov al, 0x20                    ; EOI
        out 0x20, al
        pop dx
        pop ax
        iret
got:    db 0
count:  db 0
msg:    db "IRQ 4 delivered the looped-back byte", 10, 0
PUTS_FUNCS
