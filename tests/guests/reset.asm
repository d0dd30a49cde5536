; hv-test: exit=0
; A triple fault resets the VM (on_reboot = restart): the image is loaded
; afresh and the CPU starts over, while RAM outside the image survives, as
; on a PC. The second boot finds its note from the first and powers off.
%include "hv.inc"
bits 16
org 0x7c00
NOTE equ 0x600
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        cmp dword [NOTE], 0x52534554    ; "TESR" left by the first boot
        je second
        mov dword [NOTE], 0x52534554
        PUTS16 msg1
        lidt [null_idt]                 ; no IDT at all: the next fault
        int3                            ; cannot be delivered -> shutdown
        EXIT 1
second: mov dword [NOTE], 0
        PUTS16 msg2
        EXIT 0
null_idt: dw 0
          dd 0
msg1:   db "first boot: triple fault", 10, 0
msg2:   db "second boot after reset", 10, 0
PUTS_FUNCS
