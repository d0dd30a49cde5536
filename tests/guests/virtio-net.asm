; hv-test: exit=0
; hv-ini: [net lan]
; hv-ini: plugin = switch
; hv-ini: type = private
; hv-ini: [device nic_a]
; hv-ini: plugin = virtio-net
; hv-ini: net = lan
; hv-ini: mac = 52:54:00:12:34:01
; hv-ini: [device nic_b]
; hv-ini: plugin = virtio-net
; hv-ini: net = lan
; hv-ini: mac = 52:54:00:12:34:02
; hv-ini: mtu = 9000
; hv-ini: [device nic_c]
; hv-ini: plugin = virtio-net
; hv-ini: net = lan
; Three virtio-net NICs on one private switch (B's MAC unknown to it:
; A's frames to B are flooded to B and C), driven by a polling driver written from the virtio
; 1.x spec (vnet.inc): the config (MACs from the INI and the default one,
; LINK_UP, MTU); a frame from A arrives on B byte-exact, spread over three
; 32-byte rx buffers (MRG_RXBUF, num_buffers = 3); C never posts an rx
; buffer and A's frames still reach B, again and again; a runt and an
; oversized frame from A are dropped (B's next frame is the good one that
; follows them). Each failed step ends the VM with its own status (10 and
; up; 30-39 come from vnet.inc).
%include "hv.inc"
%include "pci.inc"
%include "vnet.inc"
bits 16
org 0x7c00
VQ_SIZE  equ 16
NIC_A    equ 0x10000
NIC_B    equ 0x10100
NIC_C    equ 0x10200
TXBUF    equ 0x30000
RXS      equ 0x31000                    ; three small buffers, 0x100 apart
RXBIG    equ 0x32000
BIGTX    equ 0x34000
FEAT     equ VN_F_MAC | VN_F_STATUS | VN_F_MTU | VN_F_MRG
FRAME    equ 60                         ; bytes after the header

        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        ENTER_PROT32
        mov edi, NIC_A
        mov ecx, 3 * 0x100 / 4
        xor eax, eax
        rep stosd
        xor esi, esi
.probe: mov ebp, [nics + esi * 4]
        mov eax, FEAT
        call vn_setup
        mov eax, [ebp + N_DEVF]
        and eax, FEAT
        CHECK eax, FEAT, 10
        inc esi
        cmp esi, 3
        jb .probe
        PUTS32 msg_setup

; ---- config: MACs, LINK_UP, MTU ----
        mov ebx, [NIC_A + N_DEVCFG]
        CHECK dword [ebx], 0x12005452, 11       ; 52:54:00:12
        CHECK word [ebx + 4], 0x0134, 11        ; :34:01
        CHECK word [ebx + 6], 1, 12             ; status: LINK_UP
        CHECK word [ebx + 10], 1500, 13
        mov ebx, [NIC_B + N_DEVCFG]
        CHECK word [ebx + 4], 0x0234, 14
        CHECK word [ebx + 10], 9000, 15
        mov ebx, [NIC_C + N_DEVCFG]
        mov eax, [ebx]
        and eax, 0xffffff
        CHECK eax, 0x005452, 16                 ; the default: 52:54:00:...
        CHECK word [ebx + 6], 1, 17
        PUTS32 msg_config

; ---- A -> B over three 32-byte buffers ----
        mov ebp, NIC_B
        xor esi, esi
.post3: push esi
        mov ebx, esi
        shl ebx, 8
        add ebx, RXS
        mov ecx, 32
        call vn_rx_post
        pop esi
        inc esi
        cmp esi, 3
        jb .post3
        mov al, 0x11
        call frame_make
        mov ebp, NIC_A
        mov ebx, TXBUF
        mov ecx, VN_HDR + FRAME
        call vn_tx
        CHECK ecx, 0, 18
        mov ebp, NIC_B
        call vn_rx
        CHECK eax, 0, 19
        CHECK ecx, 32, 19
        call vn_rx
        CHECK eax, 1, 20
        CHECK ecx, 32, 20
        call vn_rx
        CHECK eax, 2, 21
        CHECK ecx, VN_HDR + FRAME - 64, 21
        CHECK dword [RXS], 0, 22                ; flags, gso_type, hdr_len
        CHECK dword [RXS + 4], 0, 22            ; gso_size, csum_start
        CHECK word [RXS + 8], 0, 22             ; csum_offset
        CHECK word [RXS + 10], 3, 23            ; num_buffers
        mov esi, TXBUF + VN_HDR
        mov edi, RXS + VN_HDR
        mov ecx, 32 - VN_HDR
        repe cmpsb
        CHECK ecx, 0, 24
        mov edi, RXS + 0x100
        mov ecx, 32
        repe cmpsb
        CHECK ecx, 0, 24
        mov edi, RXS + 0x200
        mov ecx, VN_HDR + FRAME - 64
        repe cmpsb
        CHECK ecx, 0, 24
        PUTS32 msg_mrg

; ---- C has no rx buffers: B still gets every frame ----
        mov dword [round], 0
.again: mov al, [round]
        add al, 0x40
        call frame_make
        call rx_one
        inc dword [round]
        cmp dword [round], 8
        jb .again
        PUTS32 msg_starved

; ---- a runt and an oversized frame are dropped ----
        mov ebp, NIC_B
        mov ebx, RXBIG
        mov ecx, 2048
        call vn_rx_post
        mov ebp, NIC_A
        mov ebx, TXBUF
        mov ecx, VN_HDR + 10                    ; shorter than an Ethernet header
        call vn_tx
        CHECK ecx, 0, 25
        mov edi, BIGTX                          ; 1600 bytes: over MTU + 18
        mov ecx, VN_HDR + 1600
        xor eax, eax
        rep stosb
        mov esi, TXBUF + VN_HDR
        mov edi, BIGTX + VN_HDR
        mov ecx, 14
        rep movsb
        mov ebx, BIGTX
        mov ecx, VN_HDR + 1600
        call vn_tx
        CHECK ecx, 0, 26
        mov al, 0x77
        call frame_make
        mov ebx, TXBUF
        mov ecx, VN_HDR + FRAME
        call vn_tx
        mov ebp, NIC_B
        call vn_rx
        CHECK ecx, VN_HDR + FRAME, 27           ; the good frame, first
        CHECK byte [RXBIG + VN_HDR + 14], 0x77, 27
        PUTS32 msg_drop
        mov ebx, [NIC_A + N_COMMON]
        test byte [ebx + 0x14], 0x40            ; no NEEDS_RESET anywhere
        jnz .bad
        mov ebx, [NIC_B + N_COMMON]
        test byte [ebx + 0x14], 0x40
        jnz .bad
        EXIT 0
.bad:   mov eax, 28
        jmp fail

; B posts its big buffer, A sends TXBUF, B gets it back byte-exact
rx_one:
        mov ebp, NIC_B
        mov ebx, RXBIG
        mov ecx, 2048
        call vn_rx_post
        mov ebp, NIC_A
        mov ebx, TXBUF
        mov ecx, VN_HDR + FRAME
        call vn_tx
        mov ebp, NIC_B
        call vn_rx
        CHECK ecx, VN_HDR + FRAME, 29
        CHECK word [RXBIG + 10], 1, 29
        mov esi, TXBUF + VN_HDR
        mov edi, RXBIG + VN_HDR
        mov ecx, FRAME
        repe cmpsb
        CHECK ecx, 0, 29
        ret


fail:   mov dx, EXITPORT
        out dx, eax
        hlt

PCI_CFG_FUNCS
VNET_FUNCS
VNET_FRAME_MAKE
align 4
cfg_dev: dd 0
round:   dd 0
nics:    dd NIC_A, NIC_B, NIC_C
frame_hdr: db 0x52, 0x54, 0x00, 0x12, 0x34, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x01, 0x88, 0xb5
msg_setup:   db "virtio-net: three NICs found, features negotiated, queues live", 10, 0
msg_config:  db "virtio-net: MACs, LINK_UP and MTU from the INI", 10, 0
msg_mrg:     db "virtio-net: A to B byte-exact over three mergeable rx buffers", 10, 0
msg_starved: db "virtio-net: C posts no rx buffer, B still gets 8 frames", 10, 0
msg_drop:    db "virtio-net: a runt and an oversized frame dropped", 10, 0
GDT_TABLE
PUTS_FUNCS
