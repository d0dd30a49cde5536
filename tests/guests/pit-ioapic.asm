; hv-test: exit=0
; The 8254's IRQ0 reaches I/O APIC pin 2, as the MADT's interrupt source
; override (IRQ0 -> GSI 2) says on both backends (issue 15, defect 8):
; pin 2 and pin 0 both unmasked with their own vectors, the 8259s masked,
; the PIT at 1 kHz: 20 interrupts must come on pin 2's vector and none on
; pin 0's. A failed check prints "fail" and exits with its number.
%include "hv.inc"
%include "apic.inc"
bits 16
org 0x7c00
IOAPIC  equ 0xfec00000
        APIC_KIT_START
        mov al, 0xff                            ; both 8259s masked
        out 0x21, al
        out 0xa1, al
        mov eax, 0x10 + 2 * 2                   ; pin 2: vector 0x40, edge,
        mov ebx, 0x40                           ; fixed, physical APIC 0
        call redir
        mov eax, 0x10 + 2 * 0                   ; pin 0: vector 0x41
        mov ebx, 0x41
        call redir
        mov al, 0x34                            ; channel 0, lo/hi, mode 2
        out 0x43, al
        mov ax, 1193                            ; 1 kHz
        out 0x40, al
        mov al, ah
        out 0x40, al
        sti
        EXPECT_ATLEAST 0, 0x40, 20, 1
        cli
        cmp dword [CNT + 0x41 * 4], 0
        CHECK_EQ 2
        PUTS32 msg_ok
        EXIT 0
; eax = the low register of a redirection entry, ebx = its low dword
redir:  mov [IOAPIC], eax
        mov [IOAPIC + 0x10], ebx
        inc eax
        mov [IOAPIC], eax
        mov dword [IOAPIC + 0x10], 0            ; destination APIC 0
        ret
msg_ok: db "PIT on I/O APIC pin 2", 10, 0
GDT_TABLE
PUTS_FUNCS
APIC_KIT_FUNCS
