; The example VM's guest: a bare-metal program that walks a PC from real
; mode through 32-bit protected mode into 64-bit long mode, greeting on
; COM1 at each step, then powers the VM off through the debug-exit port.
%include "hv.inc"
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        PUTS16 banner
        PUTS16 msg16
        ENTER_PROT32
        PUTS32 msg32
        ENTER_LONG64
        PUTS64 msg64
        xor eax, eax
        cpuid                   ; the vendor string of the (virtual) CPU
        mov [vendor], ebx
        mov [vendor + 4], edx
        mov [vendor + 8], ecx
        PUTS64 msgcpu
        PUTS64 vendor
        PUTS64 bye
        EXIT 0
banner: db "hv example guest", 10, 0
msg16:  db "  real mode: ok", 10, 0
msg32:  db "  32-bit protected mode: ok", 10, 0
msg64:  db "  64-bit long mode: ok", 10, 0
msgcpu: db "  CPU vendor: ", 0
vendor: times 12 db 0
        db 10, 0
bye:    db "powering off", 10, 0
GDT_TABLE
PUTS_FUNCS
