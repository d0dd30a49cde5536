; hv-test: exit=0
; hv-test: seq=m0:1000
; hv-test: seq=m1:100000
; hv-vm: cmdline = multiboot modules
; hv-vm: module0 = m0 first module
; hv-vm: module1 = m1 root=/dev/null  two  spaces
; A Multiboot v1 kernel (a.out kludge) loaded at LOAD (0x8000 by default)
; with its bss up to BSS_END (LOAD + 0x8000): everything the loader hands over (the
; info structure, memory map, module list, command line, loader name, each
; module and its string) must lie outside the image and outside each
; other; each module's length, FNV-1a hash and string are printed.
; run-guest.sh gives it `seq` files (.expect has their hashes; m1 is too
; big for the RAM below 640 KiB); tests/guests/multiboot-mods.t random
; ones, and QEMU's loader. Assembled with -DLOAD=0x100000 for QEMU's
; loader, which keeps its own info at 0x9000; with -DBSS_END=0x9f800 the
; image leaves no page below 640 KiB, so the info must go above the last
; module; with -DELF (nasm -f elf32, linked where ld puts it) an ELF
; kernel without the a.out kludge, its bss a real one.
%include "hv.inc"
bits 32
%ifndef LOAD
%define LOAD 0x8000
%endif
%ifndef BSS_END
%define BSS_END LOAD + 0x8000
%endif
MAXR    equ 32
%ifdef ELF
%define IMG_END bss_end
global start
section .text
MB_FLAGS equ (1 << 1) | (1 << 0) ; mem info, page-aligned modules
%else
%define IMG_END BSS_END
org LOAD
MB_FLAGS equ (1 << 16) | (1 << 1) | (1 << 0) ; a.out, mem info, page-aligned modules
%endif
header: dd 0x1badb002
        dd MB_FLAGS
        dd -(0x1badb002 + MB_FLAGS)
%ifndef ELF
        dd header               ; header_addr
        dd header               ; load_addr
        dd end                  ; load_end_addr
        dd BSS_END              ; bss_end_addr
        dd start                ; entry_addr
%endif
start:  mov esp, stack_top      ; the loader's stack is not ours to keep
        mov [mbi], ebx
        cmp eax, 0x2badb002
        jne fail
        mov eax, [ebx]
        and eax, 0x24d          ; mem, cmdline, mods, mmap, loader name
        cmp eax, 0x24d
        jne fail
        cmp dword [ebx + 4], 600 ; mem_lower: about 639 KiB
        jb fail
        cmp dword [ebx + 8], 32768 ; mem_upper: 64M of RAM
        jb fail
        call mmap_check
        ; the ranges: the image first
        mov eax, header
        mov edx, IMG_END
        call add_range
        mov eax, ebx            ; the info structure (0.6.96: 88 bytes)
        lea edx, [ebx + 88]
        call add_range
        mov eax, [ebx + 48]     ; mmap_addr, mmap_length
        mov edx, eax
        add edx, [ebx + 44]
        call add_range
        mov eax, [ebx + 24]     ; mods_addr, mods_count * 16
        mov edx, [ebx + 20]
        shl edx, 4
        add edx, eax
        call add_range
        mov esi, [ebx + 16]     ; cmdline
        call add_string
        mov esi, [ebx + 64]     ; boot_loader_name
        call add_string
        mov ecx, [ebx + 20]
        cmp ecx, 2
        jne fail
        mov edi, [ebx + 24]
mods:   test dword [edi], 0xfff ; page-aligned, as the header asks
        jnz fail
        mov eax, [edi]
        mov edx, [edi + 4]
        cmp edx, eax
        jbe fail
        call add_range
        mov esi, [edi + 8]
        call add_string
        PUTS32 s_mod
        mov eax, [edi + 4]
        sub eax, [edi]
        call puthex
        PUTS32 s_fnv
        call fnv
        call puthex
        PUTS32 s_str
        mov esi, [edi + 8]
        call puts32
        PUTS32 s_end
        add edi, 16
        loop mods
        call disjoint
        PUTS32 s_ok
        EXIT 0
fail:   PUTS32 s_fail
        EXIT 1

; [eax, edx) into the list
add_range:
        mov esi, [nr]
        cmp esi, MAXR
        jae fail
        mov [ranges + esi * 8], eax
        mov [ranges + esi * 8 + 4], edx
        inc dword [nr]
        ret

; the NUL-terminated string at esi, its NUL included
add_string:
        mov eax, esi
.l:     cmp byte [esi], 0
        lea esi, [esi + 1]
        jne .l
        mov edx, esi
        jmp add_range

; every pair of ranges apart; else print which and fail
disjoint:
        xor esi, esi
.i:     lea edi, [esi + 1]
.j:     cmp edi, [nr]
        jae .next
        mov eax, [ranges + esi * 8]
        cmp eax, [ranges + edi * 8 + 4]
        jae .ok
        mov eax, [ranges + edi * 8]
        cmp eax, [ranges + esi * 8 + 4]
        jae .ok
        push esi
        PUTS32 s_ovl
        mov eax, [esp]
        call puthex
        mov eax, edi
        call puthex
        PUTS32 s_end
        pop esi
        jmp fail
.ok:    inc edi
        jmp .j
.next:  inc esi
        cmp esi, [nr]
        jb .i
        ret

; the memory map: 20-byte entries, RAM at 0 and at 1 MiB
mmap_check:
        mov esi, [ebx + 48]
        mov ecx, esi
        add ecx, [ebx + 44]
        xor edx, edx            ; bit 0: RAM at 0, bit 1: RAM at 1 MiB
.l:     cmp esi, ecx
        jae .done
        cmp dword [esi], 20
        jb fail
        cmp dword [esi + 20], 1
        jne .next
        cmp dword [esi + 8], 0  ; base above 4 GiB: not the ones we look for
        jne .next
        cmp dword [esi + 4], 0
        jne .hi
        or edx, 1
.hi:    cmp dword [esi + 4], 0x100000
        jne .next
        or edx, 2
.next:  add esi, [esi]
        add esi, 4
        jmp .l
.done:  cmp edx, 3
        jne fail
        ret

; FNV-1a of the module at edi into eax
fnv:    push ecx
        mov esi, [edi]
        mov ecx, [edi + 4]
        mov eax, 0x811c9dc5
.l:     cmp esi, ecx
        jae .done
        xor al, [esi]
        imul eax, eax, 0x01000193
        inc esi
        jmp .l
.done:  pop ecx
        ret

; eax as 8 hex digits
puthex: push ecx
        mov ecx, 8
.l:     rol eax, 4
        push eax
        and eax, 15
        mov al, [hex + eax]
        mov [chr], al
        PUTS32 chr
        pop eax
        loop .l
        pop ecx
        ret

s_mod:  db "module len=", 0
s_fnv:  db " fnv=", 0
s_str:  db " string='", 0
s_end:  db "'", 10, 0
s_ovl:  db "overlap '", 0
s_ok:   db "multiboot-mods: layout ok", 10, 0
s_fail: db "multiboot-mods: FAIL", 10, 0
hex:    db "0123456789abcdef"
chr:    db 0, 0
PUTS_FUNCS
end:
; bss (zeroed by the loader)
%ifdef ELF
section .bss
mbi:    resd 1
nr:     resd 1
ranges: resd MAXR * 2
        resb 4096
stack_top:
bss_end:
%else
mbi     equ end
nr      equ end + 4
ranges  equ end + 8
stack_top equ LOAD + 0x8000
%if (end - header) + 8 + MAXR * 8 > 0x7000
%error bss too small
%endif
%endif
