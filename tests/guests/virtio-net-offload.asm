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
; hv-ini: [device nic_c]
; hv-ini: plugin = virtio-net
; hv-ini: net = lan
; hv-ini: mac = 52:54:00:12:34:03
; The offload contract through virtio-net and the switch, three NICs: A
; negotiates CSUM and HOST_TSO4, B GUEST_CSUM and GUEST_TSO4, C none.
; A broadcasts a UDP frame whose checksum is left to finish (NEEDS_CSUM,
; the pseudo-header sum in place, as Linux sends it): B gets it as sent,
; header and all; C gets it finished, 0x3f09 (the value scapy computes for
; the same frame). A broadcasts a 3000-byte TSO4 frame (gso_size 1000): B
; gets it whole with its GSO header, C three segments of 1000 bytes with
; their IPv4 length, TCP sequence and PSH-on-the-last-only. Each failed
; step ends the VM with its own status (10 and up; 30-39: vnet.inc).
%include "hv.inc"
%include "pci.inc"
%include "vnet.inc"
bits 16
org 0x7c00
VQ_SIZE  equ 16
NIC_A    equ 0x10000
NIC_B    equ 0x10100
NIC_C    equ 0x10200
TXBUF    equ 0x40000
RXB      equ 0x50000
RXC      equ 0x60000                    ; four 2 KiB buffers
FEAT     equ VN_F_MAC | VN_F_STATUS | VN_F_MTU | VN_F_MRG
F_CSUM   equ 1 << 0
F_GCSUM  equ 1 << 1
F_GTSO4  equ 1 << 7
F_HTSO4  equ 1 << 11
UDPLEN   equ 60
TSOLEN   equ 54 + 3000
SEGLEN   equ 54 + 1000

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
        mov eax, [feats + esi * 4]
        call vn_setup
        mov eax, [ebp + N_DEVF]
        mov ebx, [feats + esi * 4]
        and eax, ebx
        cmp eax, ebx
        je .fok
        mov eax, 10
        jmp fail
.fok:   inc esi
        cmp esi, 3
        jb .probe
        PUTS32 msg_setup

; ---- NEEDS_CSUM: B takes it as sent, C gets the sum finished ----
        mov ebp, NIC_B
        mov ebx, RXB
        mov ecx, 4096
        call vn_rx_post
        mov ebp, NIC_C
        mov ebx, RXC
        mov ecx, 2048
        call vn_rx_post
        mov edi, TXBUF
        mov esi, hdr_csum
        mov ecx, VN_HDR
        rep movsb
        mov esi, udp_part
        mov ecx, UDPLEN
        rep movsb
        mov ebp, NIC_A
        mov ebx, TXBUF
        mov ecx, VN_HDR + UDPLEN
        call vn_tx
        mov ebp, NIC_B
        call vn_rx
        CHECK ecx, VN_HDR + UDPLEN, 11
        CHECK byte [RXB], 1, 12                 ; NEEDS_CSUM kept
        CHECK word [RXB + 6], 34, 12            ; csum_start
        CHECK word [RXB + 8], 6, 12             ; csum_offset
        mov esi, udp_part
        mov edi, RXB + VN_HDR
        mov ecx, UDPLEN
        repe cmpsb
        CHECK ecx, 0, 13
        mov ebp, NIC_C
        call vn_rx
        CHECK ecx, VN_HDR + UDPLEN, 14
        CHECK byte [RXC], 0, 15                 ; nothing left to do
        CHECK byte [RXC + 1], 0, 15
        mov esi, udp_full
        mov edi, RXC + VN_HDR
        mov ecx, UDPLEN
        repe cmpsb
        CHECK ecx, 0, 16
        PUTS32 msg_csum

; ---- TSO4: B takes it whole, C gets three segments ----
        mov ebp, NIC_B
        mov ebx, RXB
        mov ecx, 4096
        call vn_rx_post
        mov ebp, NIC_C
        mov dword [round], 1
.postc: mov ebx, [round]
        shl ebx, 11
        add ebx, RXC
        mov ecx, 2048
        call vn_rx_post
        inc dword [round]
        cmp dword [round], 4
        jb .postc
        mov edi, TXBUF
        mov esi, hdr_tso
        mov ecx, VN_HDR
        rep movsb
        mov esi, tso_hdr
        mov ecx, 54
        rep movsb
        mov ecx, 3000                   ; payload byte i = i * 7 + 3
        mov al, 3
.pat:   stosb
        add al, 7
        loop .pat
        mov ebp, NIC_A
        mov ebx, TXBUF
        mov ecx, VN_HDR + TSOLEN
        call vn_tx
        mov ebp, NIC_B
        call vn_rx
        CHECK ecx, VN_HDR + TSOLEN, 17
        CHECK byte [RXB + 1], 1, 18             ; gso_type TCPV4
        CHECK word [RXB + 4], 1000, 18          ; gso_size
        mov esi, TXBUF + VN_HDR
        mov edi, RXB + VN_HDR
        mov ecx, TSOLEN
        repe cmpsb
        CHECK ecx, 0, 19
        mov ebp, NIC_C
        mov dword [round], 1
.seg:   call vn_rx
        CHECK ecx, VN_HDR + SEGLEN, 20
        mov ebx, [round]
        shl ebx, 11
        add ebx, RXC + VN_HDR
        CHECK byte [ebx - VN_HDR + 1], 0, 21    ; no GSO left
        CHECK word [ebx + 16], 0x1004, 22       ; IPv4 total length 1040
        mov eax, [round]
        dec eax
        imul eax, 1000
        add eax, 0x01000000
        bswap eax
        CHECK dword [ebx + 38], eax, 23         ; seq = first + 1000 k
        mov al, 0x10                            ; ACK, and PSH on the last
        cmp dword [round], 3
        jne .flags
        mov al, 0x18
.flags: CHECK byte [ebx + 47], al, 24
        mov eax, [round]                        ; payload byte 1000 (k-1)
        dec eax
        imul eax, 1000 * 7
        add eax, 3
        CHECK byte [ebx + 54], al, 25
        inc dword [round]
        cmp dword [round], 4
        jb .seg
        PUTS32 msg_tso
        EXIT 0

fail:   mov dx, EXITPORT
        out dx, eax
        hlt

PCI_CFG_FUNCS
VNET_FUNCS
align 4
cfg_dev: dd 0
round:   dd 0
nics:    dd NIC_A, NIC_B, NIC_C
feats:   dd FEAT | F_CSUM | F_HTSO4, FEAT | F_GCSUM | F_GTSO4, FEAT
; virtio_net_hdr_v1: flags, gso_type, hdr_len, gso_size, csum_start,
; csum_offset, num_buffers
hdr_csum: db 1, 0
          dw 0, 0, 34, 6, 0
hdr_tso:  db 1, 1
          dw 54, 1000, 34, 16, 0
; broadcast UDP 10.200.0.1:1000 -> 10.200.0.255:2000, "hv-virtio-net-csum"
udp_part:  db 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x01, 0x08, 0x00, 0x45, 0x00
           db 0x00, 0x2e, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0x51, 0xfc, 0x0a, 0xc8, 0x00, 0x01, 0x0a, 0xc8
           db 0x00, 0xff, 0x03, 0xe8, 0x07, 0xd0, 0x00, 0x1a, 0x16, 0xbb, 0x68, 0x76, 0x2d, 0x76, 0x69, 0x72
           db 0x74, 0x69, 0x6f, 0x2d, 0x6e, 0x65, 0x74, 0x2d, 0x63, 0x73, 0x75, 0x6d
udp_full:  db 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x01, 0x08, 0x00, 0x45, 0x00
           db 0x00, 0x2e, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0x51, 0xfc, 0x0a, 0xc8, 0x00, 0x01, 0x0a, 0xc8
           db 0x00, 0xff, 0x03, 0xe8, 0x07, 0xd0, 0x00, 0x1a, 0x3f, 0x09, 0x68, 0x76, 0x2d, 0x76, 0x69, 0x72
           db 0x74, 0x69, 0x6f, 0x2d, 0x6e, 0x65, 0x74, 0x2d, 0x63, 0x73, 0x75, 0x6d
; broadcast TCP 10.200.0.1:1000 -> 10.200.0.255:2000, seq 0x01000000,
; ACK|PSH, 3000 bytes: IPv4 and Ethernet headers, TCP's with the
; pseudo-header sum in its checksum
tso_hdr:   db 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x01, 0x08, 0x00, 0x45, 0x00
           db 0x0b, 0xe0, 0x43, 0x21, 0x00, 0x00, 0x40, 0x06, 0x15, 0x68, 0x0a, 0xc8, 0x00, 0x01, 0x0a, 0xc8
           db 0x00, 0xff, 0x03, 0xe8, 0x07, 0xd0, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x50, 0x18
           db 0xff, 0xff, 0x22, 0x62, 0x00, 0x00
msg_setup: db "virtio-net: A with CSUM and HOST_TSO4, B with GUEST_CSUM and GUEST_TSO4, C bare", 10, 0
msg_csum:  db "virtio-net: NEEDS_CSUM kept for B, finished for C", 10, 0
msg_tso:   db "virtio-net: TSO4 whole for B, three segments for C", 10, 0
GDT_TABLE
PUTS_FUNCS
