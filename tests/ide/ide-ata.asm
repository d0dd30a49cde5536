; hv-test: exit=0
; ATA on the PIIX3 IDE plugin, driven as a bare-metal driver would: find
; the function (8086:7010, class 01 01 80, IDETIM decode bits set), put
; the bus master at BAR4, then on the primary master (tests/ide/ide.t makes
; a sparse raw image of 2^28 + 2048 sectors, serial HV-D0):
;   IDENTIFY (fields, checksum), WRITE SECTORS + READ SECTORS, SET
;   MULTIPLE + READ MULTIPLE, LBA48 past 2^28 (WRITE/READ SECTORS EXT),
;   an LBA past the end (IDNF), WRITE DMA + READ DMA through a two-entry
;   PRD table, a PRD entry outside RAM and DMA with bus mastering off
;   (BMIS error, ERR in status). The host cmp's what was written.
; Each failed check ends the VM with its own status (see CHECK).
%include "hv.inc"
%include "pci.inc"
bits 16
org 0x7c00
BM      equ 0xc000              ; where this guest puts BAR4
CMD     equ 0x1f0
CTL     equ 0x3f6
IDBUF   equ 0x20000
PRD     equ 0x30000
BUF1    equ 0x40000
BUF2    equ 0x41000
RBUF1   equ 0x50000
RBUF2   equ 0x51000
NSEC_LO equ 0x10000800          ; 2^28 + 2048 sectors
HILBA   equ 0x10000400          ; a sector past 2^28

        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        ENTER_PROT32

; ---- the PCI function ----
        mov eax, 0x70108086
        call pci_find
        jnc .found
        mov eax, 2
        jmp fail
.found: mov eax, 8
        call cfg_rd32
        shr eax, 8
        CHECK eax, 0x010180, 3
        mov eax, 0x40
        call cfg_rd32
        and eax, 0x80008000
        CHECK eax, 0x80008000, 4        ; IDETIM: both channels decode
        mov eax, 0x20
        mov ecx, BM | 1
        call cfg_wr32
        mov eax, 4
        mov ecx, 5                      ; I/O decoding, bus master
        call cfg_wr16
        PUTS32 msg_pci

; ---- IDENTIFY DEVICE ----
        mov dx, CTL
        mov al, 2                       ; nIEN: this guest polls
        out dx, al
        mov dx, CMD + 6
        mov al, 0xe0                    ; master, LBA
        out dx, al
        call wait_ready
        CHECK al, 0x50, 5               ; DRDY | DSC
        mov al, 0xec
        call command
        call wait_drq
        mov edi, IDBUF
        mov ecx, 256
        mov dx, CMD
        rep insw
        CHECK word [IDBUF], 0x0040, 6
        test word [IDBUF + 83 * 2], 1 << 10
        jnz .lba48
        mov eax, 7
        jmp fail
.lba48: CHECK dword [IDBUF + 100 * 2], NSEC_LO, 8
        CHECK dword [IDBUF + 102 * 2], 0, 8
        CHECK dword [IDBUF + 10 * 2], 0x2d444856, 9 ; "HV-D": the first character in the high byte
        CHECK dword [IDBUF + 60 * 2], 0x0fffffff, 11
        mov esi, IDBUF
        xor ebx, ebx
        mov ecx, 512
.sum:   add bl, [esi]
        inc esi
        loop .sum
        CHECK bl, 0, 10
        CHECK byte [IDBUF + 510], 0xa5, 10
        PUTS32 msg_id

; ---- WRITE SECTORS, READ SECTORS at LBA 16, 2 sectors ----
        mov edi, BUF1
        mov eax, 0x11
        call pattern
        mov edi, BUF1 + 512
        mov eax, 0x12
        call pattern
        mov ebx, 16
        mov al, 0x30
        call lba28_cmd
        mov esi, BUF1
        call pio_out
        mov esi, BUF1 + 512
        call pio_out
        call wait_ready
        CHECK al, 0x50, 12
        mov ebx, 16
        mov al, 0x20
        call lba28_cmd
        mov edi, RBUF1
        call pio_in
        mov edi, RBUF1 + 512
        call pio_in
        mov esi, BUF1
        mov edi, RBUF1
        mov ecx, 1024 / 4
        repe cmpsd
        CHECK ecx, 0, 14

; ---- SET MULTIPLE 2, READ MULTIPLE: one 1 KiB DRQ block ----
        mov dx, CMD + 2
        mov al, 2
        out dx, al
        mov al, 0xc6
        call command
        call wait_ready
        CHECK al, 0x50, 15
        mov ebx, 16
        mov al, 0xc4
        call lba28_cmd
        call wait_drq
        mov edi, RBUF2
        mov ecx, 512
        mov dx, CMD
        rep insw
        call wait_ready
        CHECK al, 0x50, 16              ; no DRQ left: one block was all
        mov esi, BUF1
        mov edi, RBUF2
        mov ecx, 1024 / 4
        repe cmpsd
        CHECK ecx, 0, 16
        PUTS32 msg_pio

; ---- LBA48 past 2^28: WRITE SECTORS EXT, READ SECTORS EXT ----
        mov edi, BUF2
        mov eax, 0x48
        call pattern
        mov ebx, HILBA
        mov al, 0x34
        call lba48_cmd
        mov esi, BUF2
        call pio_out
        call wait_ready
        CHECK al, 0x50, 17
        mov ebx, HILBA
        mov al, 0x24
        call lba48_cmd
        mov edi, RBUF2
        call pio_in
        mov esi, BUF2
        mov edi, RBUF2
        mov ecx, 512 / 4
        repe cmpsd
        CHECK ecx, 0, 18
; ---- the sector after the last: IDNF ----
        mov ebx, NSEC_LO
        mov al, 0x24
        call lba48_cmd
        call wait_ready
        CHECK al, 0x41, 19              ; DRDY | ERR
        mov dx, CMD + 1
        in al, dx
        CHECK al, 0x10, 19              ; IDNF
        PUTS32 msg_lba48

; ---- WRITE DMA, READ DMA at LBA 32 through two PRD entries ----
        mov edi, BUF1
        mov eax, 0x21
        call pattern
        mov edi, BUF2
        mov eax, 0x22
        call pattern
        mov dword [PRD], BUF1
        mov dword [PRD + 4], 512
        mov dword [PRD + 8], BUF2
        mov dword [PRD + 12], 512 | 0x80000000
        mov bl, 0                       ; the bus master reads memory
        mov al, 0xca
        call dma_cmd
        CHECK al, 0x50, 20
        CHECK ah, 0x04, 21              ; BMIS: interrupt, not active, no error
        mov dword [PRD], RBUF1
        mov dword [PRD + 8], RBUF2
        mov bl, 8                       ; the bus master writes memory
        mov al, 0xc8
        call dma_cmd
        CHECK al, 0x50, 22
        mov esi, BUF1
        mov edi, RBUF1
        mov ecx, 512 / 4
        repe cmpsd
        CHECK ecx, 0, 22
        mov esi, BUF2
        mov edi, RBUF2
        mov ecx, 512 / 4
        repe cmpsd
        CHECK ecx, 0, 22
        PUTS32 msg_dma

; ---- a PRD entry outside guest RAM ----
        mov dword [PRD + 8], 0xd0000000
        mov bl, 8
        mov al, 0xc8
        call dma_cmd
        CHECK al, 0x41, 24              ; DRDY | ERR
        and ah, 0x06
        CHECK ah, 0x06, 23              ; BMIS error and interrupt
; ---- bus mastering off ----
        mov dword [PRD + 8], RBUF2
        mov eax, 4
        mov ecx, 1                      ; I/O decoding only
        call cfg_wr16
        mov bl, 8
        mov al, 0xc8
        call dma_cmd
        CHECK al, 0x41, 26
        and ah, 0x06
        CHECK ah, 0x06, 25
        PUTS32 msg_bad
        EXIT 0

fail:   push eax
        PUTS32 msg_fail
        pop eax
        EXIT eax

; al = status once BSY is clear
wait_ready:
        mov dx, CMD + 7
.w:     in al, dx
        test al, 0x80
        jnz .w
        ret
; BSY clear and DRQ set, else the VM ends with 13
wait_drq:
        call wait_ready
        test al, 0x08
        jnz .ok
        mov eax, 13
        jmp fail
.ok:    ret
command:
        mov dx, CMD + 7
        out dx, al
        ret
; al = command, ebx = LBA, 2 sectors (1 for the EXT form below)
lba28_cmd:
        push eax
        mov dx, CMD + 2
        mov al, 2
        out dx, al
        mov eax, ebx
        mov dx, CMD + 3
        out dx, al
        shr eax, 8
        inc dx
        out dx, al
        shr eax, 8
        inc dx
        out dx, al
        shr eax, 8
        and al, 0x0f
        or al, 0xe0
        inc dx
        out dx, al
        pop eax
        jmp command
; al = command, ebx = LBA (< 2^32), 1 sector: high bytes first
lba48_cmd:
        push eax
        mov dx, CMD + 2
        xor al, al
        out dx, al                      ; count 15:8
        mov al, 1
        out dx, al                      ; count 7:0
        mov eax, ebx
        shr eax, 24
        mov dx, CMD + 3
        out dx, al                      ; LBA 31:24
        xor al, al
        inc dx
        out dx, al                      ; 39:32
        inc dx
        out dx, al                      ; 47:40
        mov eax, ebx
        mov dx, CMD + 3
        out dx, al
        shr eax, 8
        inc dx
        out dx, al
        shr eax, 8
        inc dx
        out dx, al
        mov dx, CMD + 6
        mov al, 0x40
        out dx, al
        pop eax
        jmp command
; one sector from esi / into edi
pio_out:
        call wait_drq
        mov ecx, 256
        mov dx, CMD
        rep outsw
        ret
pio_in:
        call wait_drq
        mov ecx, 256
        mov dx, CMD
        rep insw
        ret
; 512 bytes at edi: byte i = i * 3 + al
pattern:
        mov ecx, 512
.p:     mov [edi], al
        add al, 3
        inc edi
        loop .p
        ret
; a DMA command al on LBA 32, 2 sectors, bus master direction bl: polls
; BMIS for the interrupt; al = status, ah = BMIS; leaves the engine off
; and BMIS cleared
dma_cmd:
        push eax
        mov dx, BM + 2
        mov al, 6
        out dx, al                      ; clear error and interrupt
        mov dx, BM + 4
        mov eax, PRD
        out dx, eax
        mov dx, BM
        mov al, bl
        out dx, al
        pop eax
        mov ebx, 32
        call lba28_cmd
        mov dx, BM
        in al, dx
        or al, 1
        out dx, al                      ; start
        mov dx, BM + 2
.w:     in al, dx
        test al, 4
        jz .w
        mov ah, al
        mov dx, BM
        xor al, al
        out dx, al                      ; stop
        call wait_ready
        push eax
        mov dx, BM + 2
        mov al, 6
        out dx, al
        pop eax
        ret

PCI_CFG_FUNCS
        PUTS_FUNCS
        GDT_TABLE
cfg_dev: dd 0
msg_pci:   db "pci ok", 10, 0
msg_id:    db "identify ok", 10, 0
msg_pio:   db "pio ok", 10, 0
msg_lba48: db "lba48 ok", 10, 0
msg_dma:   db "dma ok", 10, 0
msg_bad:   db "dma errors ok", 10, 0
msg_fail:  db "FAIL", 10, 0
