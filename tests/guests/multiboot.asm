; hv-test: exit=0
; hv-vm: cmdline = hello multiboot
; A Multiboot v1 image (a.out kludge): entered in protected mode with the
; magic in EAX and the info block in EBX; prints the command line from it.
%include "hv.inc"
bits 32
org 0x100000
MB_FLAGS equ (1 << 16) | (1 << 1)
header: dd 0x1badb002
        dd MB_FLAGS
        dd -(0x1badb002 + MB_FLAGS)
        dd header               ; header_addr
        dd header               ; load_addr
        dd end                  ; load_end_addr
        dd bss_end              ; bss_end_addr
        dd start                ; entry_addr
start:  cmp eax, 0x2badb002
        jne fail
        test dword [ebx], 1 << 2 ; cmdline present
        jz fail
        cmp dword [ebx + 8], 1024 ; mem_upper in KiB: at least 1 MiB
        jb fail
        cmp dword [bss_start], 0 ; the loader zeroed the bss
        jne fail
        PUTS32 msg
        mov esi, [ebx + 16]
        call puts32
        PUTS32 nl
        EXIT 0
fail:   EXIT 1
msg:    db "multiboot cmdline: ", 0
nl:     db 10, 0
PUTS_FUNCS
end:
bss_start equ end
bss_end equ end + 4096
