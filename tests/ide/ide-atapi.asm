; hv-test: exit=0
; ATAPI on the PIIX3 IDE plugin: a CD-ROM on the secondary master (an ISO
; tests/ide/ide.t makes with xorriso, volume id HVTEST, padded to 2048
; blocks): the ATAPI signature, IDENTIFY DEVICE aborted, IDENTIFY PACKET
; DEVICE, TEST UNIT READY (after the power-on unit attention), READ
; CAPACITY, READ(10) of the volume descriptor by PIO in 512-byte chunks
; (the byte count limit), READ(10) past the end (CHECK CONDITION, sense
; key in the error register, REQUEST SENSE 05/21/00), READ(10) by DMA.
%include "hv.inc"
%include "pci.inc"
bits 16
org 0x7c00
BM      equ 0xc000
CMD     equ 0x170
CTL     equ 0x376
IDBUF   equ 0x20000
PRD     equ 0x30000
RBUF    equ 0x40000
BLOCKS  equ 2048

        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        ENTER_PROT32
        mov eax, 0x70108086
        call pci_find
        jnc .found
        mov eax, 2
        jmp fail
.found: mov eax, 0x20
        mov ecx, BM | 1
        call cfg_wr32
        mov eax, 4
        mov ecx, 5
        call cfg_wr16
        mov dx, CTL
        mov al, 2
        out dx, al
        mov dx, CMD + 6
        mov al, 0xa0
        out dx, al

; ---- signature, IDENTIFY DEVICE aborted, IDENTIFY PACKET DEVICE ----
        call signature
        mov al, 0xec
        call command
        call wait_ready
        test al, 1
        jnz .abrt
        mov eax, 31
        jmp fail
.abrt:  call signature
        mov al, 0xa1
        call command
        call wait_ready
        test al, 8
        jnz .drq
        mov eax, 32
        jmp fail
.drq:   mov edi, IDBUF
        mov ecx, 256
        mov dx, CMD
        rep insw
        CHECK word [IDBUF], 0x85c0, 32
        PUTS32 msg_id

; ---- TEST UNIT READY: the power-on unit attention, then ready ----
        mov esi, cdb_tur
        call pio_cmd
        mov esi, cdb_tur
        call pio_cmd
        CHECK al, 0x50, 33
; ---- READ CAPACITY ----
        mov esi, cdb_cap
        call pio_cmd
        CHECK al, 0x50, 34
        CHECK dword [RBUF], ((BLOCKS - 1) & 0xff) << 24 | ((BLOCKS - 1) >> 8) << 16, 34
        CHECK dword [RBUF + 4], 0x00080000, 34
        CHECK dword [xfered], 8, 34
        PUTS32 msg_cap
; ---- READ(10) of block 16 by PIO, 512-byte chunks ----
        mov word [bcl], 512
        mov esi, cdb_read16
        call pio_cmd
        CHECK al, 0x50, 35
        CHECK dword [chunks], 4, 35
        CHECK dword [xfered], 2048, 35
        call check_pvd
        PUTS32 msg_read
; ---- READ(10) past the end, REQUEST SENSE ----
        mov word [bcl], 0xfffe
        mov esi, cdb_read_end
        call pio_cmd
        CHECK al, 0x41, 37              ; DRDY | ERR
        mov dx, CMD + 1
        in al, dx
        shr al, 4
        CHECK al, 5, 37                 ; ILLEGAL REQUEST
        mov esi, cdb_sense
        call pio_cmd
        CHECK al, 0x50, 38
        mov al, [RBUF + 2]
        and al, 0xf
        CHECK al, 5, 38
        CHECK byte [RBUF + 12], 0x21, 38 ; LOGICAL BLOCK ADDRESS OUT OF RANGE
        PUTS32 msg_sense
; ---- READ(10) of block 16 by DMA ----
        mov edi, RBUF
        mov ecx, 2048 / 4
        xor eax, eax
        rep stosd
        mov dword [PRD], RBUF
        mov dword [PRD + 4], 2048 | 0x80000000
        mov dx, BM + 8 + 2
        mov al, 6
        out dx, al
        mov dx, BM + 8 + 4
        mov eax, PRD
        out dx, eax
        mov dx, BM + 8
        mov al, 8
        out dx, al
        mov byte [feat], 1
        mov esi, cdb_read16
        call packet
        mov dx, BM + 8
        mov al, 9
        out dx, al
        mov dx, BM + 8 + 2
.w:     in al, dx
        test al, 4
        jz .w
        CHECK al, 0x04, 39              ; interrupt, not active, no error
        mov dx, BM + 8
        xor al, al
        out dx, al
        call wait_ready
        CHECK al, 0x50, 39
        call check_pvd
        PUTS32 msg_dma
        EXIT 0

fail:   push eax
        PUTS32 msg_fail
        pop eax
        EXIT eax

check_pvd:
        CHECK dword [RBUF], 0x30444301, 36       ; 01 "CD0"
        CHECK dword [RBUF + 40], 0x45545648, 36  ; "HVTE"
        ret
signature:
        mov dx, CMD + 4
        in al, dx
        CHECK al, 0x14, 30
        inc dx
        in al, dx
        CHECK al, 0xeb, 30
        ret
wait_ready:
        mov dx, CMD + 7
.w:     in al, dx
        test al, 0x80
        jnz .w
        ret
command:
        mov dx, CMD + 7
        out dx, al
        ret
; PACKET with the CDB at esi, features [feat], byte count limit [bcl]
packet:
        mov dx, CMD + 1
        mov al, [feat]
        out dx, al
        mov ax, [bcl]
        mov dx, CMD + 4
        out dx, al
        inc dx
        mov al, ah
        out dx, al
        mov al, 0xa0
        call command
        call wait_ready
        test al, 8
        jnz .drq
        mov eax, 40
        jmp fail
.drq:   mov dx, CMD + 2
        in al, dx
        and al, 3
        CHECK al, 1, 41                 ; C/D: the device wants the CDB
        mov ecx, 6
        mov dx, CMD
        rep outsw
        ret
; a PIO command: its data into RBUF chunk by chunk; al = final status,
; [chunks] and [xfered] count what came
pio_cmd:
        mov byte [feat], 0
        call packet
        mov edi, RBUF
        mov dword [chunks], 0
        mov dword [xfered], 0
.next:  call wait_ready
        test al, 8
        jz .done
        mov dx, CMD + 2
        in al, dx
        and al, 3
        CHECK al, 2, 42                 ; I/O: data for the host
        mov dx, CMD + 4
        in al, dx
        mov cl, al
        inc dx
        in al, dx
        mov ch, al
        movzx ecx, cx
        add [xfered], ecx
        inc dword [chunks]
        shr ecx, 1
        mov dx, CMD
        rep insw
        jmp .next
.done:  push eax
        mov dx, CMD + 2
        in al, dx
        and al, 3
        CHECK al, 3, 43                 ; I/O and C/D: the status phase
        pop eax
        ret

PCI_CFG_FUNCS
        PUTS_FUNCS
        GDT_TABLE
align 4
cfg_dev: dd 0
chunks:  dd 0
xfered:  dd 0
bcl:     dw 0xfffe
feat:    db 0
cdb_tur:      db 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
cdb_cap:      db 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
cdb_read16:   db 0x28, 0, 0, 0, 0, 16, 0, 0, 1, 0, 0, 0
cdb_read_end: db 0x28, 0, 0, 0, BLOCKS >> 8, BLOCKS & 0xff, 0, 0, 1, 0, 0, 0
cdb_sense:    db 0x03, 0, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0
msg_id:    db "identify packet ok", 10, 0
msg_cap:   db "read capacity ok", 10, 0
msg_read:  db "read(10) pio ok", 10, 0
msg_sense: db "request sense ok", 10, 0
msg_dma:   db "read(10) dma ok", 10, 0
msg_fail:  db "FAIL", 10, 0
