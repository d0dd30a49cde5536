; hv-test: exit=0
; hv-test: disk=vbad.raw:64
; hv-ini: [disk vd]
; hv-ini: path = vbad.raw
; hv-ini: format = raw
; hv-ini: [device vblk0]
; hv-ini: plugin = virtio-blk
; hv-ini: disk = vd
; hv-ini: queues = 1
; A hostile virtio-blk driver: each malformed chain or ring below must put
; the device in DEVICE_NEEDS_RESET (and, when the head index is valid,
; come back in the used ring with length 0) while hv keeps running; a
; driver reset then brings the device back. Faults: a descriptor loop, a
; buffer outside guest RAM, an indirect table inside one, a loop inside
; an indirect table, a zero-length indirect table, a readable descriptor
; after a writable one, avail idx far ahead, a head index past the queue.
; Last, a good read after a reset must work. Exit status = the failed step.
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
IND2     equ 0x23400
RBUF     equ 0x25000
NOT_RAM  equ 0xd0000000                 ; 64 MiB of RAM: far above it

; DESC table_base, index, addr, len, flags, next
%macro DESC 6
        mov dword [%1 + %2 * 16], %3
        mov dword [%1 + %2 * 16 + 4], 0
        mov dword [%1 + %2 * 16 + 8], %4
        mov word [%1 + %2 * 16 + 12], %5
        mov word [%1 + %2 * 16 + 14], %6
%endmacro

        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        ENTER_PROT32
        mov eax, 0x10421af4
        call vio_probe

; 1: a descriptor loop 0 -> 1 -> 0 (all writable: only the loop is wrong)
        call setup
        DESC VQ_DESC, 0, RBUF, 16, D_F_WRITE | D_F_NEXT, 1
        DESC VQ_DESC, 1, VBLK_STATUS, 1, D_F_WRITE | D_F_NEXT, 0
        mov ebp, 10
        call bad_chain
; 2: a data buffer outside guest RAM
        call setup
        DESC VQ_DESC, 0, VBLK_HDR, 16, D_F_NEXT, 1
        DESC VQ_DESC, 1, NOT_RAM, 512, D_F_WRITE | D_F_NEXT, 2
        DESC VQ_DESC, 2, VBLK_STATUS, 1, D_F_WRITE, 0
        mov ebp, 12
        call bad_chain
; 3: an indirect table inside an indirect table
        call setup
        DESC VQ_DESC, 0, VBLK_IND, 16, D_F_INDIRECT, 0
        DESC VBLK_IND, 0, IND2, 16, D_F_INDIRECT, 0
        DESC IND2, 0, VBLK_STATUS, 1, D_F_WRITE, 0
        mov ebp, 14
        call bad_chain
; 4: a loop inside an indirect table
        call setup
        DESC VQ_DESC, 0, VBLK_IND, 32, D_F_INDIRECT, 0
        DESC VBLK_IND, 0, VBLK_HDR, 16, D_F_NEXT, 1
        DESC VBLK_IND, 1, VBLK_STATUS, 1, D_F_WRITE | D_F_NEXT, 0
        mov ebp, 16
        call bad_chain
; 5: a zero-length indirect table
        call setup
        DESC VQ_DESC, 0, VBLK_IND, 0, D_F_INDIRECT, 0
        mov ebp, 18
        call bad_chain
; 6: a readable descriptor after a writable one
        call setup
        DESC VQ_DESC, 0, VBLK_HDR, 16, D_F_NEXT | D_F_WRITE, 1
        DESC VQ_DESC, 1, RBUF, 512, D_F_NEXT, 2
        DESC VQ_DESC, 2, VBLK_STATUS, 1, D_F_WRITE, 0
        mov ebp, 20
        call bad_chain
; 7: avail idx 100 entries ahead of a 16-entry queue
        call setup
        mov word [VQ_AVAIL + 2], 100
        mov eax, [vio_q0_notify]
        mov word [eax], 0
        mov ebp, 22
        call wait_reset
; 8: an avail entry naming descriptor 200 of 16
        call setup
        mov word [VQ_AVAIL + 4], 200
        mov word [VQ_AVAIL + 2], 1
        mov eax, [vio_q0_notify]
        mov word [eax], 0
        mov ebp, 23
        call wait_reset
        PUTS32 msg_faults
; 9: after a reset the device works again
        call setup
        mov dword [rq_type], VBLK_T_IN
        mov dword [rq_sector], 3
        mov dword [rq_buf], RBUF
        mov dword [rq_len], 512
        mov dword [rq_wr], 1
        call vblk_req
        cmp al, 0
        je .ok
        mov eax, 24
        jmp fail
.ok:    mov ebx, [vio_common]
        test byte [ebx + C_STATUS], VIO_S_NEEDS_RESET
        jz .good
        mov eax, 25
        jmp fail
.good:  PUTS32 msg_recovered
        EXIT 0

; reset and set the device up again (VERSION_1 and INDIRECT_DESC)
setup:  mov eax, 1 << 28
        call vio_init
        ret

; offer head 0 and notify: it must come back with length 0 (ebp fails
; otherwise), the device in NEEDS_RESET (ebp + 1 otherwise)
bad_chain:
        xor eax, eax
        call vio_kick
        or eax, ecx
        jz .len
        mov eax, ebp
        jmp fail
.len:   inc ebp
        ; fall through
; NEEDS_RESET must show in device_status (ebp fails otherwise)
wait_reset:
        mov ebx, [vio_common]
        mov ecx, 10000000
.poll:  test byte [ebx + C_STATUS], VIO_S_NEEDS_RESET
        jnz .done
        loop .poll
        mov eax, ebp
        jmp fail
.done:  ret

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
msg_faults:    db "virtio-blk: 8 malformed chains and rings: NEEDS_RESET each time", 10, 0
msg_recovered: db "virtio-blk: a driver reset brought it back", 10, 0
GDT_TABLE
PUTS_FUNCS
