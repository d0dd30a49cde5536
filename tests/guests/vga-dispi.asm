; hv-test: interactive
; The VGA's PCI/DISPI half from a bare-metal guest (tests/display/vga-dispi.t
; runs it with a control socket and screenshots it): finds 1234:1111 with
; configuration mechanism #1, checks its IDs, finds the framebuffer (BAR0)
; and the register BAR (BAR2), talks DISPI through the VBE ports
; 0x1ce/0x1cf (ID, VIDEO_MEMORY_64K, GETCAPS), reads the EDID and the
; DISPI and QEMU extension registers through BAR2, sets 1600x1200x32 and
; sees the frame cleared, then tries absurd modes and offsets and checks
; each was clamped or refused, and last sets 1600x1200x32 again, fills
; it with pixel(x, y) = (x & 255) << 16 | (y & 255) << 8 | (x + y) & 255,
; prints READY, waits for a byte on COM1, then changes one pixel of line
; 600 (the test checks that only that line is damaged), prints LINE and
; spins until the test ends the VM. Every failed check
; ends the VM with its own status (CHECK).
%include "hv.inc"
%include "pci.inc"
bits 16
org 0x7c00
IDX     equ 0x1ce
DATA    equ 0x1cf
R_ID    equ 0
R_XRES  equ 1
R_YRES  equ 2
R_BPP   equ 3
R_EN    equ 4
R_VW    equ 6
R_VH    equ 7
R_XOFF  equ 8
R_YOFF  equ 9
R_MEM64 equ 10
EN_ON   equ 0x41                        ; ENABLED | LFB_ENABLED
W       equ 1600
H       equ 1200

%macro DW_ 2                            ; DISPI register %1 = %2
        mov dx, IDX
        mov ax, %1
        out dx, ax
        mov dx, DATA
        mov ax, %2
        out dx, ax
%endmacro
%macro DR_ 1                            ; eax = DISPI register %1
        mov dx, IDX
        mov ax, %1
        out dx, ax
        mov dx, DATA
        in ax, dx
        movzx eax, ax
%endmacro
%macro MODE 3                           ; disable, then XRES, YRES, BPP, enable
        DW_ R_EN, 0
        DW_ R_BPP, %3
        DW_ R_XRES, %1
        DW_ R_YRES, %2
        DW_ R_EN, EN_ON
%endmacro

        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        ENTER_PROT32

; ---- the PCI function ----
        mov eax, 0x11111234
        call pci_find
        jnc .found
        EXIT 2
.found: mov eax, 0x08
        call cfg_rd32
        CHECK eax, 0x03000002, 3        ; VGA class, revision 2
        mov eax, 0x2c
        call cfg_rd32
        CHECK eax, 0x11001af4, 4        ; subsystem 1af4:1100
        mov eax, 0x10
        call cfg_rd32
        mov ecx, eax
        and ecx, 0xf
        CHECK ecx, 0x8, 5               ; memory, 32-bit, prefetchable
        and eax, ~0xf
        mov edi, eax                    ; edi: the framebuffer
        mov eax, 0x18
        call cfg_rd32
        and eax, ~0xf
        mov ebp, eax                    ; ebp: the register BAR
        mov eax, 4
        mov ecx, 3                      ; I/O and memory decoding
        call cfg_wr16
        PUTS32 msg_pci

; ---- DISPI through the VBE ports ----
        DR_ R_ID
        CHECK eax, 0xb0c5, 6
        DR_ R_MEM64
        CHECK eax, 256, 7               ; 16 MiB
        DW_ R_EN, 0x02                  ; GETCAPS
        DR_ R_XRES
        CHECK eax, W, 8
        DR_ R_YRES
        CHECK eax, H, 9
        DR_ R_BPP
        CHECK eax, 32, 10
        DW_ R_EN, 0
        PUTS32 msg_caps

; ---- BAR2: EDID, DISPI, QEMU extension ----
        CHECK byte [ebp], 0, 11
        CHECK byte [ebp + 1], 0xff, 12
        xor eax, eax
        xor ecx, ecx
.sum:   add al, [ebp + ecx]
        inc ecx
        cmp ecx, 128
        jb .sum
        CHECK al, 0, 13                 ; the checksum
        CHECK word [ebp + 0x500], 0xb0c5, 14
        CHECK word [ebp + 0x500 + 2 * R_MEM64], 256, 15
        CHECK dword [ebp + 0x600], 8, 16
        CHECK dword [ebp + 0x604], 0x1e1e1e1e, 17
        PUTS32 msg_bar2

; ---- 1600x1200x32: enabled, the frame cleared ----
        mov dword [edi], 0xdeadbeef
        mov dword [edi + (W * H - 1) * 4], 0xdeadbeef
        MODE W, H, 32
        DR_ R_EN
        CHECK eax, EN_ON, 20
        DR_ R_VW
        CHECK eax, W, 21
        DR_ R_VH
        CHECK eax, 0x1000000 / (W * 4), 22
        CHECK dword [edi], 0, 23
        CHECK dword [edi + (W * H - 1) * 4], 0, 24
        PUTS32 msg_mode

; ---- absurd values ----
        DW_ R_XOFF, 0xffff              ; no room to the right: 0
        DR_ R_XOFF
        CHECK eax, 0, 30
        DW_ R_YOFF, 0xffff              ; the last frame that fits
        DR_ R_YOFF
        CHECK eax, 0x1000000 / (W * 4) - H, 31
        DW_ R_YOFF, 0
        MODE 0xffff, 0xffff, 32         ; past the maximum: refused
        DR_ R_EN
        CHECK eax, 0x40, 32
        MODE 0, 0, 32                   ; nothing to show: refused
        DR_ R_EN
        CHECK eax, 0x40, 33
        MODE 1608, 1200, 32             ; one step past max_width
        DR_ R_EN
        CHECK eax, 0x40, 34
        MODE 645, 480, 7                ; bpp 7 -> 8, width aligned
        DR_ R_EN
        CHECK eax, EN_ON, 35
        DR_ R_BPP
        CHECK eax, 8, 36
        DR_ R_XRES
        CHECK eax, 640, 37
        DW_ R_VW, 0xffff                ; 65528 x 480 lines > 16 MiB: back to XRES
        DR_ R_VW
        CHECK eax, 640, 38
        DW_ R_VW, 4096                  ; fits: kept, lines 4096 bytes apart
        DR_ R_VW
        CHECK eax, 4096, 39
        DR_ R_VH
        CHECK eax, 4096, 40
        DW_ R_XOFF, 0xffff
        DR_ R_XOFF
        CHECK eax, 4096 - 640, 41
        ; through BAR2: XRES past the maximum while enabled turns it off
        mov word [ebp + 0x500 + 2 * R_XRES], 2000
        CHECK word [ebp + 0x500 + 2 * R_EN], 0x40, 42
        PUTS32 msg_absurd

; ---- the picture the test checks ----
        MODE W, H, 32
        DR_ R_EN
        CHECK eax, EN_ON, 50
        xor ebx, ebx                    ; y
        mov esi, edi
.row:   xor ecx, ecx                    ; x
.px:    mov eax, ecx
        and eax, 0xff
        shl eax, 16
        mov edx, ebx
        and edx, 0xff
        shl edx, 8
        or eax, edx
        lea edx, [ecx + ebx]
        and edx, 0xff
        or eax, edx
        mov [esi], eax
        add esi, 4
        inc ecx
        cmp ecx, W
        jb .px
        inc ebx
        cmp ebx, H
        jb .row
        PUTS32 msg_ready
        ; a byte on COM1 (the test has checked the picture): one pixel of
        ; line 600 changes, which must be damage of that line alone
        mov dx, COM1 + 5
.rx:    in al, dx
        test al, 1
        jz .rx
        mov dx, COM1
        in al, dx
        mov dword [edi + (600 * W + 800) * 4], 0x00ffffff
        PUTS32 msg_line
.spin:  pause
        jmp .spin

fail:   mov dx, EXITPORT
        out dx, eax
        hlt

PCI_CFG_FUNCS

align 4
cfg_dev:  dd 0
msg_pci:    db "VGA: 1234:1111 class 0300 rev 2, subsystem 1af4:1100, BAR0 prefetchable", 10, 0
msg_caps:   db "DISPI: ID 0xb0c5, 16 MiB, GETCAPS 1600x1200x32", 10, 0
msg_bar2:   db "BAR2: EDID header and checksum, DISPI and QEMU extension registers", 10, 0
msg_mode:   db "DISPI: 1600x1200x32 enabled, frame cleared", 10, 0
msg_absurd: db "DISPI: absurd modes refused, offsets and widths clamped", 10, 0
msg_ready:  db "READY", 10, 0
msg_line:   db "LINE", 10, 0
GDT_TABLE
PUTS_FUNCS
