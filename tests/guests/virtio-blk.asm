; hv-test: exit=0
; hv-test: disk=vblk.raw:1024
; hv-ini: [disk vd]
; hv-ini: path = vblk.raw
; hv-ini: format = raw
; hv-ini: [device vblk0]
; hv-ini: plugin = virtio-blk
; hv-ini: disk = vd
; hv-ini: queues = 1
; A virtio-blk driver written from the virtio 1.x spec, polling: find the
; device (1af4:1042) and walk its vendor capabilities, negotiate
; (VERSION_1, FLUSH, INDIRECT_DESC), set up queue 0, check the config's
; capacity, write a pattern sector, read it back and compare, flush, read
; it again through an indirect table, read past the end (IOERR), send an
; unknown type (UNSUPP), GET_ID (the disk's name). Each failed step ends
; the VM with its own status (10 and up; 2-9 come from virtio.inc).
%include "hv.inc"
%include "pci.inc"
%include "virtio.inc"
%include "vblk.inc"
bits 16
org 0x7c00
VQ_DESC  equ 0x20000
VQ_AVAIL equ 0x21000
VQ_USED  equ 0x22000
VQ_SIZE  equ 16
VIO_BAR  equ 0xc2000000
VBLK_HDR equ 0x23000
VBLK_STATUS equ 0x23100
VBLK_IND equ 0x23200
WBUF     equ 0x24000
RBUF     equ 0x25000
IDBUF    equ 0x26000
SECTORS  equ 2048                       ; the 1 MiB disk

        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        ENTER_PROT32
        mov eax, 0x10421af4
        call vio_probe
        mov eax, (1 << 9) | (1 << 28)   ; FLUSH, INDIRECT_DESC
        call vio_init
        mov eax, [vio_devf]
        and eax, (1 << 9) | (1 << 28)
        CHECK eax, (1 << 9) | (1 << 28), 10
        mov ebx, [vio_devcfg]
        CHECK dword [ebx], SECTORS, 11  ; capacity, 512-byte sectors
        CHECK dword [ebx + 4], 0, 11
        CHECK dword [ebx + 20], 512, 12 ; blk_size
        PUTS32 msg_setup

; ---- write sector 5 with a pattern ----
        mov edi, WBUF
        mov ecx, 512
        mov al, 0x5a
.pat:   stosb
        add al, 7
        loop .pat
        mov dword [rq_type], VBLK_T_OUT
        mov dword [rq_sector], 5
        mov dword [rq_buf], WBUF
        mov dword [rq_len], 512
        mov dword [rq_wr], 0
        call vblk_req
        CHECK al, 0, 13
        CHECK ecx, 1, 14                ; the status byte only
; ---- read it back ----
        mov dword [rq_type], VBLK_T_IN
        mov dword [rq_buf], RBUF
        mov dword [rq_wr], 1
        call vblk_req
        CHECK al, 0, 15
        CHECK ecx, 513, 16
        mov esi, WBUF
        mov edi, RBUF
        mov ecx, 512 / 4
        repe cmpsd
        CHECK ecx, 0, 17
        PUTS32 msg_rw
; ---- flush ----
        mov dword [rq_type], VBLK_T_FLUSH
        mov dword [rq_sector], 0
        mov dword [rq_len], 0
        call vblk_req
        CHECK al, 0, 18
        PUTS32 msg_flush
; ---- the read again, through an indirect table ----
        mov edi, RBUF
        mov ecx, 512 / 4
        xor eax, eax
        rep stosd
        mov dword [rq_type], VBLK_T_IN
        mov dword [rq_sector], 5
        mov dword [rq_len], 512
        mov dword [rq_ind], 1
        call vblk_req
        CHECK al, 0, 19
        CHECK ecx, 513, 20
        mov esi, WBUF
        mov edi, RBUF
        mov ecx, 512 / 4
        repe cmpsd
        CHECK ecx, 0, 21
        mov dword [rq_ind], 0
        PUTS32 msg_ind
; ---- past the end: IOERR, and the sector before it still reads ----
        mov dword [rq_sector], SECTORS
        call vblk_req
        CHECK al, 1, 22
        mov dword [rq_sector], SECTORS - 1
        call vblk_req
        CHECK al, 0, 23
        mov dword [rq_len], 1024        ; two sectors from the last one
        call vblk_req
        CHECK al, 1, 24
        PUTS32 msg_range
; ---- an unknown request type: UNSUPP ----
        mov dword [rq_type], 0x77
        mov dword [rq_sector], 0
        mov dword [rq_len], 0
        call vblk_req
        CHECK al, 2, 25
; ---- GET_ID: the [disk] section's name ----
        mov dword [rq_type], VBLK_T_GET_ID
        mov dword [rq_buf], IDBUF
        mov dword [rq_len], 20
        call vblk_req
        CHECK al, 0, 26
        CHECK word [IDBUF], 'vd', 27
        CHECK byte [IDBUF + 2], 0, 27
        PUTS32 msg_id
        mov ebx, [vio_common]
        test byte [ebx + C_STATUS], VIO_S_NEEDS_RESET
        jz .good
        mov eax, 28
        jmp fail
.good:  EXIT 0

fail:   mov dx, EXITPORT
        out dx, eax
        hlt

PCI_CFG_FUNCS
VIRTIO_FUNCS
VBLK_FUNCS
VIRTIO_DATA
VBLK_DATA
align 4
cfg_dev: dd 0
msg_setup: db "virtio-blk: capabilities walked, features negotiated, queue 0 live", 10, 0
msg_rw:    db "virtio-blk: sector 5 written and read back", 10, 0
msg_flush: db "virtio-blk: flush", 10, 0
msg_ind:   db "virtio-blk: indirect read", 10, 0
msg_range: db "virtio-blk: past the end: IOERR", 10, 0
msg_id:    db "virtio-blk: UNSUPP for an unknown type, GET_ID", 10, 0
GDT_TABLE
PUTS_FUNCS
