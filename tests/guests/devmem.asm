; hv-test: exit=0
; hv-ini: [device t]
; hv-ini: plugin = pci-testdev
; hv-ini: pci_slot = 3
; hv-ini: ram_bar = 64K
; Device memory end to end with pci-testdev's RAM BAR (BAR4, 64 KiB): the
; guest finds the BAR where firmware-style assignment put it, sees what
; the device wrote through its host pointer, writes pages 0 and 3 and has
; the device read them back and report exactly those pages dirty (then
; none), moves the BAR 1 MiB up with decoding off and finds its contents
; there and nothing at the old place (a write there logged: the log may
; over-report pages only read, never miss one written), and checks that a RAM BAR put over
; the register BAR decodes nothing and that decoding off unmaps it.
; Every failed check ends the VM with its own status (see CHECK).
%include "hv.inc"
%include "pci.inc"
bits 16
org 0x7c00
TD_ID   equ 0x7e57de00
RAM_SIG equ 0x52414d21
R_RAMIDX  equ 0x1c
R_RAMWORD equ 0x20
R_DIRTY   equ 0x24

; CHECK a, b, status: end the VM with `status` unless a == b
; RAMWORD index: what the device reads at word `index` of its RAM -> eax
%macro RAMWORD 1
        mov dword [ebp + R_RAMIDX], %1
        mov eax, [ebp + R_RAMWORD]
%endmacro

        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        ENTER_PROT32

; ---- find the device, read where its BARs are ----
        mov eax, 0x7e571234
        call pci_find
        jnc .found
        EXIT 2
.found: mov eax, 0x10
        call cfg_rd32
        and eax, ~0xf
        mov ebp, eax                    ; ebp: the registers
        CHECK dword [ebp], TD_ID, 3
        mov eax, 0x20
        call cfg_rd32
        and eax, ~0xf
        jnz .placed
        EXIT 4                          ; firmware left BAR4 unplaced
.placed:
        mov edi, eax                    ; edi: the RAM BAR
        ; sizing with decoding off says 64 KiB, 32-bit memory
        mov eax, 4
        xor ecx, ecx
        call cfg_wr16
        mov eax, 0x20
        mov ecx, 0xffffffff
        call cfg_wr32
        mov eax, 0x20
        call cfg_rd32
        CHECK eax, 0xffff0000, 5
        mov eax, 0x20
        mov ecx, edi
        call cfg_wr32
        mov eax, 4
        mov ecx, 2
        call cfg_wr16
        CHECK dword [edi + 8], RAM_SIG, 6
        PUTS32 msg_found

; ---- guest writes reach the device; the dirty log has their pages ----
        mov eax, [ebp + R_DIRTY]        ; start from a clean log
        mov dword [edi], 0x11111111
        mov dword [edi + 0x3000], 0x33333333
        RAMWORD 0
        CHECK eax, 0x11111111, 7
        RAMWORD 0xc00
        CHECK eax, 0x33333333, 8
        PUTS32 msg_seen
        CHECK dword [ebp + R_DIRTY], 0x9, 9
        CHECK dword [ebp + R_DIRTY], 0, 10
        PUTS32 msg_dirty

; ---- move it 1 MiB up ----
        mov eax, 4
        xor ecx, ecx
        call cfg_wr16
        lea esi, [edi + 0x100000]
        mov eax, 0x20
        mov ecx, esi
        call cfg_wr32
        mov eax, 4
        mov ecx, 2
        call cfg_wr16
        CHECK dword [esi + 0x3000], 0x33333333, 11
        CHECK dword [esi + 8], RAM_SIG, 12
        CHECK dword [edi + 0x3000], 0xffffffff, 13
        mov dword [esi + 0x1000], 0x22222222
        RAMWORD 0x400
        CHECK eax, 0x22222222, 14
        ; page 1 was written; KVM may also report pages the guest only
        ; read since the move (it maps them writable on a read fault and
        ; logs them), never a page nobody touched
        mov eax, [ebp + R_DIRTY]
        mov ecx, eax
        and ecx, 2
        CHECK ecx, 2, 15
        and eax, ~0xb
        CHECK eax, 0, 19
        push esi
        PUTS32 msg_moved                ; (uses esi)
        pop esi

; ---- over the register BAR: not decoded; decoding off: gone ----
        mov eax, 4
        xor ecx, ecx
        call cfg_wr16
        mov ecx, ebp
        and ecx, 0xffff0000
        mov eax, 0x20
        call cfg_wr32
        mov eax, 4
        mov ecx, 2
        call cfg_wr16
        CHECK dword [ebp], TD_ID, 16    ; the registers, not RAM
        mov eax, 0x20
        mov ecx, esi
        call cfg_wr32
        CHECK dword [esi + 0x3000], 0x33333333, 17
        mov eax, 4
        xor ecx, ecx
        call cfg_wr16
        CHECK dword [esi + 0x3000], 0xffffffff, 18
        mov eax, 4
        mov ecx, 2
        call cfg_wr16
        PUTS32 msg_collide
        EXIT 0

fail:   mov dx, EXITPORT
        out dx, eax
        hlt

PCI_CFG_FUNCS

align 4
cfg_dev:  dd 0
msg_found:   db "RAM BAR: 64 KiB at BAR4, the device's signature in it", 10, 0
msg_seen:    db "RAM BAR: guest writes reach the device's memory", 10, 0
msg_dirty:   db "RAM BAR: dirty log has pages 0 and 3, then none", 10, 0
msg_moved:   db "RAM BAR: moved with its contents, nothing left behind", 10, 0
msg_collide: db "RAM BAR: not over another BAR; decoding off unmaps it", 10, 0
GDT_TABLE
PUTS_FUNCS
