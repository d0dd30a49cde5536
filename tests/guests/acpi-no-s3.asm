; hv-test: exit=0
; ACPI S3 is refused (issue 15, defect 5): the guest walks RSDP -> XSDT ->
; FADT -> DSDT as an OS would, finds \_S5_ in the DSDT but no \_S3_ (nor
; \_S4_), then writes every SLP_TYP but S5's with SLP_EN to PM1a_CNT, with
; the FACS waking vector pointing at code that fails: each write must come
; back, SLP_EN self-clearing, and the VM keep running. A failed check
; prints "fail" and exits with its number.
%include "hv.inc"
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        ENTER_PROT32
        ; 1: the RSDP on a 16-byte boundary in E0000h-FFFFFh
        mov esi, 0xe0000
.rsdp:  cmp dword [esi], "RSD "
        jne .next
        cmp dword [esi + 4], "PTR "
        je .found
.next:  add esi, 16
        cmp esi, 0x100000
        jb .rsdp
        mov eax, 1
        jmp fail
.found: cmp byte [esi + 15], 2                  ; revision 2: has the XSDT
        mov eax, 2
        jb fail
        mov ebx, [esi + 24]                     ; XSDT (below 4 GiB here)
        cmp dword [ebx], "XSDT"
        jne fail
        ; 3: the FADT among the XSDT's entries
        mov ecx, [ebx + 4]
        sub ecx, 36
        shr ecx, 3
        lea edi, [ebx + 36]
.ent:   mov edx, [edi]
        cmp dword [edx], "FACP"
        je .fadt
        add edi, 8
        loop .ent
        mov eax, 3
        jmp fail
.fadt:  mov [fadt], edx
        ; 4: the FACS: its waking vector at code that fails
        mov eax, [edx + 36]
        cmp dword [eax], "FACS"
        mov ebx, eax
        mov eax, 4
        jne fail
        mov dword [ebx + 12], waking
        ; 5-7: the DSDT has \_S5_, and neither \_S3_ nor \_S4_
        mov edx, [fadt]
        mov esi, [edx + 40]
        cmp dword [esi], "DSDT"
        mov eax, 5
        jne fail
        mov ecx, [esi + 4]
        sub ecx, 3
        xor ebx, ebx                            ; bit 5: _S5_, 3: _S3_, 4: _S4_
.scan:  mov eax, [esi]
        cmp eax, "_S5_"
        jne .s3
        or ebx, 1 << 5
.s3:    cmp eax, "_S3_"
        jne .s4
        or ebx, 1 << 3
.s4:    cmp eax, "_S4_"
        jne .sn
        or ebx, 1 << 4
.sn:    inc esi
        loop .scan
        test ebx, 1 << 5
        mov eax, 5
        jz fail
        test ebx, 1 << 3
        mov eax, 6
        jnz fail
        test ebx, 1 << 4
        mov eax, 7
        jnz fail
        ; 8: SLP_TYP 0-4, 6, 7 with SLP_EN: nothing happens, SLP_EN clears
        mov edx, [fadt]
        mov edx, [edx + 64]                     ; PM1a_CNT_BLK
        xor ebx, ebx
.typ:   cmp ebx, 5
        je .skip
        mov eax, ebx
        shl eax, 10
        or eax, 1 << 13                         ; SLP_EN
        out dx, ax
        in ax, dx
        test ax, 1 << 13
        mov eax, 8
        jnz fail
.skip:  inc ebx
        cmp ebx, 8
        jb .typ
        PUTS32 msg_ok
        EXIT 0
waking: mov eax, 9                              ; (real mode on a resume)
fail:   mov ebx, eax
        PUTS32 msg_fail
        mov eax, ebx
        mov dx, EXITPORT
        out dx, eax
.h:     cli
        hlt
        jmp .h
fadt:   dd 0
msg_ok: db "no S3", 10, 0
msg_fail: db "fail", 10, 0
GDT_TABLE
PUTS_FUNCS
