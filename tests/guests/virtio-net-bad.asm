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
; hv-ini: link = off
; hv-ini: [device nic_c]
; hv-ini: plugin = virtio-net
; hv-ini: net = lan
; hv-ini: mac = 52:54:00:12:34:03
; Faults and a cut cable on three virtio-net NICs on a private switch: B has
; link = off in the INI, so its status lacks LINK_UP, it receives nothing
; and what it sends goes nowhere; A sends a chain whose buffer is outside
; guest RAM: the chain comes back with length 0, A enters
; DEVICE_NEEDS_RESET and hv keeps running; after a driver reset A's
; frames reach C again. Each failed step ends the VM with its own status.
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
RXB      equ 0x32000
RXC      equ 0x33000
FEAT     equ VN_F_MAC | VN_F_STATUS | VN_F_MTU | VN_F_MRG
FRAME    equ 60

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
        inc esi
        cmp esi, 3
        jb .probe
; ---- link = off: no LINK_UP, nothing in, nothing out ----
        mov ebx, [NIC_A + N_DEVCFG]
        CHECK word [ebx + 6], 1, 10
        mov ebx, [NIC_B + N_DEVCFG]
        CHECK word [ebx + 6], 0, 11
        CHECK word [ebx + 4], 0x0234, 11
        mov ebp, NIC_B
        mov ebx, RXB
        mov ecx, 2048
        call vn_rx_post
        mov ebp, NIC_C
        mov ebx, RXC
        mov ecx, 2048
        call vn_rx_post
        mov al, 0x22                    ; from B: must reach no one
        call frame_make
        mov ebp, NIC_B
        mov ebx, TXBUF
        mov ecx, VN_HDR + FRAME
        call vn_tx
        CHECK ecx, 0, 12
        mov al, 0x33                    ; from A: C gets it, B does not
        call frame_make
        mov ebp, NIC_A
        mov ebx, TXBUF
        mov ecx, VN_HDR + FRAME
        call vn_tx
        mov ebp, NIC_C
        call vn_rx
        CHECK ecx, VN_HDR + FRAME, 13
        CHECK byte [RXC + VN_HDR + 14], 0x33, 13
        mov ebx, [NIC_B + N_RINGS]      ; B's used idx: nothing arrived
        CHECK word [ebx + 0x802], 0, 14
        PUTS32 msg_link

; ---- a tx buffer outside guest RAM ----
        mov ebp, NIC_A
        mov ebx, 0x80000000
        mov ecx, VN_HDR + FRAME
        call vn_tx
        CHECK eax, 1, 15                ; the bad chain's head, length 0
        CHECK ecx, 0, 15
        mov ebx, [NIC_A + N_COMMON]
        test byte [ebx + 0x14], 0x40
        jnz .nr
        mov eax, 16
        jmp fail
.nr:    PUTS32 msg_reset
; ---- a driver reset brings A back ----
        mov ebp, NIC_A
        mov eax, FEAT
        call vn_init
        mov ebp, NIC_C
        mov ebx, RXC
        mov ecx, 2048
        call vn_rx_post
        mov al, 0x44
        call frame_make
        mov ebp, NIC_A
        mov ebx, TXBUF
        mov ecx, VN_HDR + FRAME
        call vn_tx
        mov ebp, NIC_C
        call vn_rx
        CHECK byte [RXC + VN_HDR + 14], 0x44, 17
        mov ebx, [NIC_A + N_COMMON]
        test byte [ebx + 0x14], 0x40
        jz .good
        mov eax, 18
        jmp fail
.good:  PUTS32 msg_back
        EXIT 0


fail:   mov dx, EXITPORT
        out dx, eax
        hlt

PCI_CFG_FUNCS
VNET_FUNCS
VNET_FRAME_MAKE
align 4
cfg_dev: dd 0
nics:    dd NIC_A, NIC_B, NIC_C
frame_hdr: db 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x01, 0x88, 0xb5
msg_link:  db "virtio-net: link = off: no LINK_UP, nothing in or out", 10, 0
msg_reset: db "virtio-net: a tx buffer outside guest RAM: NEEDS_RESET", 10, 0
msg_back:  db "virtio-net: after a reset A reaches C again", 10, 0
GDT_TABLE
PUTS_FUNCS
