; bench/exit's guest, run by hv (accel=kvm and accel=emu) and by
; bench/exit/bare.c on raw /dev/kvm alike: N round trips on a PIO port,
; then N on an MMIO page, each a write then a read (two exits), between
; markers the host timestamps; R rounds of both. N and R come from control
; ports, so one image serves every run. Starts in real mode at 0x7c00, as hv loads a flat
; image, and switches to flat 32-bit protected mode to reach the MMIO page.
%include "hv.inc"

DATA    equ 0x4e0               ; exitbench's data port
CTL     equ DATA + 4            ; read: N; write: phase marker 1, 2, 3
ROUNDS  equ DATA + 8            ; read: R
MMIO    equ 0xd0000000          ; exitbench's MMIO page

bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        ENTER_PROT32
        mov dx, CTL
        in eax, dx
        mov ebp, eax
        mov dx, ROUNDS
        in eax, dx
        mov edi, eax
.round: mov dx, CTL
        mov eax, 1              ; PIO loop begins
        out dx, eax
        mov ecx, ebp
        mov dx, DATA
.pio:   out dx, eax
        in eax, dx
        dec ecx
        jnz .pio
        mov dx, CTL
        mov eax, 2              ; PIO loop ends, MMIO loop begins
        out dx, eax
        mov ecx, ebp
        mov ebx, MMIO
.mmio:  mov [ebx], eax
        mov eax, [ebx]
        dec ecx
        jnz .mmio
        mov dx, CTL
        mov eax, 3              ; MMIO loop ends
        out dx, eax
        dec edi
        jnz .round
        EXIT 0
GDT_TABLE
