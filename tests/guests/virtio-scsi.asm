; hv-test: exit=0
; hv-test: disk=vscsi0.raw:1024
; hv-test: disk=vscsi1.raw:64
; hv-ini: [disk sd0]
; hv-ini: path = vscsi0.raw
; hv-ini: format = raw
; hv-ini: [disk sd1]
; hv-ini: path = vscsi1.raw
; hv-ini: format = raw
; hv-ini: [device scsi0]
; hv-ini: plugin = virtio-scsi
; hv-ini: target0 = sd0
; hv-ini: target2.lun1 = sd1
; hv-ini: queues = 1
; A virtio-scsi driver written from the virtio 1.x spec (5.6), polling:
; find the HBA (1af4:1048), check its config, set up request queue 0
; (virtqueue 2) alone, then INQUIRY, the power-on unit attention, READ
; CAPACITY(10), WRITE(10)/READ(10) of a sector, an absent target
; (BAD_TARGET), an LBA past the end (CHECK CONDITION, sense 05/21/00), an
; absent LUN 0 of a present target (qualifier 3) and its REPORT LUNS.
; Each failed step ends the VM with its own status (10 and up; 2-9 come
; from virtio.inc).
%include "hv.inc"
%include "pci.inc"
%include "virtio.inc"
bits 16
org 0x7c00
VQ_DESC  equ 0x20000
VQ_AVAIL equ 0x21000
VQ_USED  equ 0x22000
VQ_SIZE  equ 16
VIO_BAR  equ 0xc2000000
REQ      equ 0x23000                    ; 51 bytes: lun, id, attr, prio, crn, cdb[32]
RESP     equ 0x23100                    ; 108 bytes: sense_len, resid, qual, status, response, sense[96]
WBUF     equ 0x24000
RBUF     equ 0x25000
SECTORS  equ 2048                       ; the 1 MiB disk
R_SENSE_LEN equ 0
R_RESID  equ 4
R_STATUS equ 10
R_RESP   equ 11
R_SENSE  equ 12

        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        ENTER_PROT32
        mov eax, 0x10481af4
        call vio_probe
        call vs_init
        mov ebx, [vio_devcfg]
        CHECK dword [ebx], 1, 10         ; num_queues
        CHECK dword [ebx + 20], 96, 11   ; sense_size
        CHECK dword [ebx + 24], 32, 11   ; cdb_size
        CHECK word [ebx + 30], 254, 12   ; max_target
        CHECK dword [ebx + 32], 255, 12  ; max_lun
        PUTS32 msg_setup

; ---- INQUIRY target 0: a disk, vendor HV; the UA does not stop it ----
        call cdb_clear
        mov byte [REQ + 19], 0x12
        mov byte [REQ + 23], 36
        mov dword [rq_in], RBUF
        mov dword [rq_inlen], 36
        call vs_req
        CHECK byte [RESP + R_RESP], 0, 13
        CHECK byte [RESP + R_STATUS], 0, 13
        CHECK ecx, 108 + 36, 14
        CHECK byte [RBUF], 0, 15
        CHECK dword [RBUF + 8], 'HV  ', 15
        CHECK dword [RESP + R_RESID], 0, 15
; ---- TEST UNIT READY: the power-on unit attention (06/29/00), then good ----
        call cdb_clear
        call vs_req
        CHECK byte [RESP + R_STATUS], 2, 16
        CHECK dword [RESP + R_SENSE_LEN], 18, 16
        CHECK byte [RESP + R_SENSE], 0x70, 16
        CHECK byte [RESP + R_SENSE + 2], 6, 16
        CHECK byte [RESP + R_SENSE + 12], 0x29, 16
        call vs_req
        CHECK byte [RESP + R_STATUS], 0, 17
        CHECK dword [RESP + R_SENSE_LEN], 0, 17
        PUTS32 msg_inq
; ---- READ CAPACITY(10): the last LBA and 512, big-endian ----
        call cdb_clear
        mov byte [REQ + 19], 0x25
        mov dword [rq_inlen], 8
        call vs_req
        CHECK byte [RESP + R_STATUS], 0, 18
        mov eax, [RBUF]
        bswap eax
        CHECK eax, SECTORS - 1, 19
        mov eax, [RBUF + 4]
        bswap eax
        CHECK eax, 512, 19
        PUTS32 msg_cap
; ---- WRITE(10) LBA 5, then READ(10) it back ----
        mov edi, WBUF
        mov ecx, 512
        mov al, 0x3c
.pat:   stosb
        add al, 11
        loop .pat
        call cdb_clear
        mov byte [REQ + 19], 0x2a
        mov byte [REQ + 24], 5          ; LBA low byte
        mov byte [REQ + 27], 1          ; one block
        mov dword [rq_inlen], 0
        mov dword [rq_out], WBUF
        mov dword [rq_outlen], 512
        call vs_req
        CHECK byte [RESP + R_RESP], 0, 20
        CHECK byte [RESP + R_STATUS], 0, 20
        CHECK ecx, 108, 20
        mov dword [rq_outlen], 0
        mov byte [REQ + 19], 0x28
        mov dword [rq_inlen], 512
        call vs_req
        CHECK byte [RESP + R_STATUS], 0, 21
        CHECK ecx, 108 + 512, 21
        mov esi, WBUF
        mov edi, RBUF
        mov ecx, 512 / 4
        repe cmpsd
        CHECK ecx, 0, 22
        PUTS32 msg_rw
; ---- READ(10) past the end: CHECK CONDITION, 05/21/00 ----
        mov byte [REQ + 23], SECTORS >> 8
        mov byte [REQ + 24], SECTORS & 0xff
        call vs_req
        CHECK byte [RESP + R_RESP], 0, 23
        CHECK byte [RESP + R_STATUS], 2, 23
        CHECK dword [RESP + R_SENSE_LEN], 18, 24
        CHECK byte [RESP + R_SENSE + 2], 5, 24
        CHECK byte [RESP + R_SENSE + 7], 10, 24
        CHECK byte [RESP + R_SENSE + 12], 0x21, 24
        CHECK byte [RESP + R_SENSE + 13], 0, 24
        CHECK dword [RESP + R_RESID], 512, 25
        PUTS32 msg_range
; ---- an absent target: BAD_TARGET ----
        call cdb_clear
        mov byte [REQ + 1], 5
        mov byte [REQ + 19], 0x12
        mov byte [REQ + 23], 36
        mov dword [rq_inlen], 36
        call vs_req
        CHECK byte [RESP + R_RESP], 3, 26
        PUTS32 msg_bad
; ---- target 2: LUN 0 absent (qualifier 3), REPORT LUNS lists LUN 1 ----
        mov byte [REQ + 1], 2
        call vs_req
        CHECK byte [RESP + R_RESP], 0, 27
        CHECK byte [RBUF], 0x7f, 27
        call cdb_clear
        mov byte [REQ + 1], 2
        mov byte [REQ + 19], 0xa0
        mov byte [REQ + 28], 16         ; allocation length (bytes 6-9)
        mov dword [rq_inlen], 16
        call vs_req
        CHECK byte [RESP + R_STATUS], 0, 28
        CHECK dword [RBUF], 0x08000000, 28 ; list length 8, big-endian
        CHECK dword [RBUF + 8], 0x0100, 28 ; LUN 1: 00 01 00 00
        PUTS32 msg_luns
        mov ebx, [vio_common]
        test byte [ebx + C_STATUS], VIO_S_NEEDS_RESET
        jz .good
        mov eax, 29
        jmp fail
.good:  EXIT 0

; reset, negotiate VERSION_1 only, set up virtqueue 2 (the first request
; queue) on VQ_*; the control and event queues stay disabled
vs_init:
        mov ebx, [vio_common]
        mov byte [ebx + C_STATUS], 0
        mov ecx, 1000000
.rst:   cmp byte [ebx + C_STATUS], 0
        je .rstok
        loop .rst
        mov eax, 7
        jmp fail
.rstok: mov byte [ebx + C_STATUS], VIO_S_ACK | VIO_S_DRIVER
        mov dword [ebx + C_GFSELECT], 0
        mov dword [ebx + C_GF], 0
        mov dword [ebx + C_GFSELECT], 1
        mov dword [ebx + C_GF], 1
        mov byte [ebx + C_STATUS], VIO_S_ACK | VIO_S_DRIVER | VIO_S_FEATURES_OK
        test byte [ebx + C_STATUS], VIO_S_FEATURES_OK
        jnz .fok
        mov eax, 5
        jmp fail
.fok:   CHECK word [ebx + C_NUMQ], 3, 6
        mov word [ebx + C_QSELECT], 2
        mov word [ebx + C_QSIZE], VQ_SIZE
        mov dword [ebx + C_QDESC], VQ_DESC
        mov dword [ebx + C_QDESC + 4], 0
        mov dword [ebx + C_QAVAIL], VQ_AVAIL
        mov dword [ebx + C_QAVAIL + 4], 0
        mov dword [ebx + C_QUSED], VQ_USED
        mov dword [ebx + C_QUSED + 4], 0
        mov edi, VQ_DESC
        mov ecx, 3 * 4096 / 4
        xor eax, eax
        rep stosd
        movzx eax, word [ebx + C_QNOTIFY]
        imul eax, [vio_mult]
        add eax, [vio_notify]
        mov [vio_q0_notify], eax
        mov word [ebx + C_QENABLE], 1
        mov byte [ebx + C_STATUS], VIO_S_ACK | VIO_S_DRIVER | VIO_S_FEATURES_OK | VIO_S_DRIVER_OK
        ret

; a zeroed request to target 0 LUN 0 (1, 0, 0x40, 0), data-in to RBUF
cdb_clear:
        mov edi, REQ
        mov ecx, 64 / 4
        xor eax, eax
        rep stosd
        mov dword [REQ], 0x00400001
        mov dword [rq_in], RBUF
        mov dword [rq_inlen], 0
        mov dword [rq_outlen], 0
        ret

; the chain: REQ, [data-out], RESP, [data-in] -> ecx = used length; fails
; 9 when the used id is not head 0
vs_req:
        mov edi, RESP
        mov ecx, 108
        mov al, 0xee
        rep stosb
        xor eax, eax                    ; 0: the request header
        mov ebx, REQ
        mov ecx, 51
        mov dx, D_F_NEXT
        mov esi, 1
        call vio_desc
        mov eax, 1
        cmp dword [rq_outlen], 0
        je .resp
        mov ebx, [rq_out]               ; 1: data-out
        mov ecx, [rq_outlen]
        mov dx, D_F_NEXT
        mov esi, 2
        call vio_desc
        mov eax, 2
.resp:  push eax
        mov ebx, RESP                   ; the response header
        mov ecx, 108
        mov dx, D_F_WRITE
        lea esi, [eax + 1]
        cmp dword [rq_inlen], 0
        je .last
        or dx, D_F_NEXT
.last:  call vio_desc
        pop eax
        cmp dword [rq_inlen], 0
        je .go
        inc eax
        mov ebx, [rq_in]                ; data-in
        mov ecx, [rq_inlen]
        mov dx, D_F_WRITE
        xor esi, esi
        call vio_desc
.go:    xor eax, eax
        call vio_kick
        test eax, eax
        jz .id
        mov eax, 9
        jmp fail
.id:    ret

fail:   mov dx, EXITPORT
        out dx, eax
        hlt

PCI_CFG_FUNCS
VIRTIO_FUNCS
VIRTIO_DATA
align 4
cfg_dev:   dd 0
rq_in:     dd 0
rq_inlen:  dd 0
rq_out:    dd 0
rq_outlen: dd 0
msg_setup: db "virtio-scsi: capabilities walked, config checked, request queue live", 10, 0
msg_inq:   db "virtio-scsi: INQUIRY, the power-on unit attention", 10, 0
msg_cap:   db "virtio-scsi: READ CAPACITY(10)", 10, 0
msg_rw:    db "virtio-scsi: LBA 5 written and read back", 10, 0
msg_range: db "virtio-scsi: past the end: CHECK CONDITION 05/21/00", 10, 0
msg_bad:   db "virtio-scsi: absent target: BAD_TARGET", 10, 0
msg_luns:  db "virtio-scsi: absent LUN 0: qualifier 3; REPORT LUNS", 10, 0
GDT_TABLE
PUTS_FUNCS
