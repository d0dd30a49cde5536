; Benchmark guest: a 512-byte boot sector (loaded at 0x7c00 by hv's flat
; loader, a PC BIOS in QEMU and bochs) that enters 32-bit protected mode
; and runs a loop, then powers off: port 0xf4 (hv debug-exit, QEMU
; isa-debug-exit) and "Shutdown" to port 0x8900 (bochs).
; Build with -DMEM for the memory loop. Instructions per iteration: 6.
; ITER iterations: about 6 * ITER instructions.
%ifndef ITER
%define ITER 100000000
%endif
bits 16
org 0x7c00
        cli
        xor ax, ax
        mov ds, ax
        lgdt [gdtr]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp 0x08:pm
bits 32
pm:     mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, 0x7000
        mov ecx, ITER
        mov ebx, 0x100000
        xor eax, eax
        xor edx, edx
.loop:
%ifdef MEM
        add eax, [ebx]          ; load
        mov [ebx + 4], eax      ; store
%else
        add eax, ecx
        xor edx, eax
%endif
        inc edx
        sub esi, edx
        dec ecx
        jnz .loop
        mov dx, 0xf4
        xor eax, eax
        out dx, eax
        mov dx, 0x8900
        mov esi, shut
.s:     lodsb
        out dx, al
        test al, al
        jnz .s
        hlt
        jmp $
shut:   db "Shutdown", 0
align 8
gdt:    dq 0
        dq 0x00cf9b000000ffff
        dq 0x00cf93000000ffff
gdtr:   dw 23
        dd gdt
        times 510 - ($ - $$) db 0
        dw 0xaa55
