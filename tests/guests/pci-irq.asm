; hv-test: exit=0
; hv-ini: [device t]
; hv-ini: plugin = pci-testdev
; hv-ini: pci_slot = 3
; hv-ini: bar2_size = 1M
; PCI interrupts end to end with the pci-testdev plugin, as a driver would
; do them without firmware help: find the device through configuration
; mechanism #1 (and ECAM), size and place its BARs, then ring its doorbell
; and take the interrupt (a) as INTA# through the IOAPIC, on the GSI the
; platform's _PRT swizzle gives (16 + (slot + pin - 1) % 8, which the
; Interrupt Line register must agree with), level-triggered, active-low as
; Linux programs it, masked by the command register's Interrupt Disable;
; (b) as an MSI; (c) as an MSI-X entry, masked (pending bit) then unmasked;
; and (d) reach the 64-bit BAR the guest put at 32 GiB, from long mode.
; Every failed check ends the VM with its own status (see CHECK).
%include "hv.inc"
%include "pci.inc"
bits 16
org 0x7c00
LAPIC   equ 0xfee00000
IOAPIC  equ 0xfec00000
ECAM    equ 0xe0000000
IDT     equ 0x1000
BAR0    equ 0xc1000000          ; where this guest puts the registers
MSIXBAR equ 0xc1010000          ; and the MSI-X table
BAR2HI  equ 8                   ; and the 64-bit BAR: 8 << 32 = 32 GiB
TD_ID   equ 0x7e57de00
R_SCRATCH equ 4
R_STATUS  equ 8
R_ACK     equ 0x0c
R_BELL    equ 0x10
R_COUNT   equ 0x14
R_RESULT  equ 0x18
V_INTX  equ 0x30
V_MSI   equ 0x40
V_MSIX  equ 0x42

; CHECK a, b, status: end the VM with `status` unless a == b
; WAIT_FOR counter, n: halt until an interrupt handler has counted to n;
; interrupts are off when it ends (sti's shadow keeps the hlt race-free)
%macro WAIT_FOR 2
%%w:    cli
        cmp dword [%1], %2
        jae %%done
        sti
        hlt
        jmp %%w
%%done:
%endmacro

        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        ENTER_PROT32
        call idt_init
        lidt [idtr]
        PIC_INIT 0xff                   ; 8259s masked: only the APICs deliver
        mov dword [LAPIC + 0xf0], 0x1ff ; SVR: APIC on, spurious vector 0xff
        mov dword [LAPIC + 0x80], 0     ; TPR

; ---- find the device: mechanism #1, then ECAM must agree ----
        mov eax, 0x7e571234
        call pci_find
        jnc .found
        mov eax, 2
        jmp fail
.found: mov [slot], ebx
        CHECK ebx, 3, 3                 ; pci_slot = 3 in the INI
        shl ebx, 15
        CHECK dword [ECAM + ebx], 0x7e571234, 4
        PUTS32 msg_found

; ---- size the BARs, place them, turn on memory decoding ----
        mov eax, 0x10
        mov ecx, 0xffffffff
        call cfg_wr32
        mov eax, 0x10
        call cfg_rd32
        CHECK eax, 0xfffff000, 5        ; 4 KiB, 32-bit memory
        mov eax, 0x14
        mov ecx, 0xffffffff
        call cfg_wr32
        mov eax, 0x14
        call cfg_rd32
        CHECK eax, 0xfffff000, 6        ; the MSI-X BAR: 4 KiB
        mov eax, 0x18
        mov ecx, 0xffffffff
        call cfg_wr32
        mov eax, 0x1c
        mov ecx, 0xffffffff
        call cfg_wr32
        mov eax, 0x18
        call cfg_rd32
        CHECK eax, 0xfff0000c, 7        ; 1 MiB, 64-bit, prefetchable
        mov eax, 0x1c
        call cfg_rd32
        CHECK eax, 0xffffffff, 8
        mov eax, 0x10
        mov ecx, BAR0
        call cfg_wr32
        mov eax, 0x14
        mov ecx, MSIXBAR
        call cfg_wr32
        mov eax, 0x18
        xor ecx, ecx
        call cfg_wr32
        mov eax, 0x1c
        mov ecx, BAR2HI
        call cfg_wr32
        mov eax, 4
        mov ecx, 2                      ; memory decoding, no bus mastering
        call cfg_wr16
        CHECK dword [BAR0], TD_ID, 9
        mov dword [BAR0 + R_SCRATCH], 0x12345678
        CHECK dword [BAR0 + R_SCRATCH], 0x12345678, 10
        PUTS32 msg_bars

; ---- (a) INTx through the IOAPIC ----
        mov eax, 0x3c
        call cfg_rd32
        movzx ecx, ah                   ; Interrupt Pin
        CHECK ecx, 1, 11                ; INTA#
        add ecx, [slot]
        dec ecx
        and ecx, 7
        add ecx, 16                     ; the _PRT's GSI
        movzx edx, al                   ; Interrupt Line
        CHECK edx, ecx, 12
        mov [gsi], ecx
        lea eax, [ecx * 2 + 0x10]
        mov [IOAPIC], eax
        mov dword [IOAPIC + 0x10], V_INTX | 1 << 15 | 1 << 13 ; level, active-low
        inc eax
        mov [IOAPIC], eax
        mov dword [IOAPIC + 0x10], 0    ; to APIC 0
        mov dword [BAR0 + R_BELL], 0
        CHECK dword [BAR0 + R_RESULT], 1, 13 ; the device chose INTx
        WAIT_FOR n_intx, 1
        call settle                     ; a level that stayed up would fire again
        CHECK dword [n_intx], 1, 14
        CHECK dword [last_status], 1, 15
        PUTS32 msg_intx
        ; Interrupt Disable holds the pin down; clearing it lets it through
        mov eax, 4
        mov ecx, 0x402
        call cfg_wr16
        mov dword [BAR0 + R_BELL], 0
        call settle
        CHECK dword [n_intx], 1, 16
        mov eax, 4
        call cfg_rd32
        test eax, 0x80000             ; status: Interrupt Status (bit 3)
        jnz .st
        mov eax, 17
        jmp fail
.st:    mov eax, 4
        mov ecx, 2
        call cfg_wr16
        WAIT_FOR n_intx, 2
        call settle
        CHECK dword [n_intx], 2, 18
        PUTS32 msg_intx_off

; ---- (b) MSI ----
        mov eax, 0x34
        call cfg_rd32
        and eax, 0xff
.cap:   test eax, eax
        jnz .cap1
        mov eax, 19
        jmp fail
.cap1:  mov esi, eax
        call cfg_rd32
        cmp al, 0x05
        jne .notmsi
        mov [cap_msi], esi
.notmsi:
        cmp al, 0x11
        jne .notmsix
        mov [cap_msix], esi
.notmsix:
        movzx eax, ah
        cmp dword [cap_msi], 0
        je .cap
        cmp dword [cap_msix], 0
        je .cap
        mov eax, [cap_msi]
        add eax, 4
        mov ecx, LAPIC                  ; address: APIC 0, physical
        call cfg_wr32
        mov eax, [cap_msi]
        add eax, 8
        xor ecx, ecx
        call cfg_wr32
        mov eax, [cap_msi]
        add eax, 12
        mov ecx, V_MSI                  ; data: edge, fixed, the vector
        call cfg_wr32
        mov eax, [cap_msi]
        mov ecx, 1 << 16                ; enable
        call cfg_wr32
        mov dword [BAR0 + R_BELL], 0
        CHECK dword [BAR0 + R_RESULT], 3, 20 ; no bus mastering: no MSI
        mov dword [BAR0 + R_ACK], 1
        mov eax, 4
        mov ecx, 6                      ; memory + bus master
        call cfg_wr16
        mov dword [BAR0 + R_BELL], 0
        CHECK dword [BAR0 + R_RESULT], 2, 21
        WAIT_FOR n_msi, 1
        call settle
        CHECK dword [n_msi], 1, 22
        CHECK dword [n_intx], 2, 23
        PUTS32 msg_msi

; ---- (c) MSI-X: entry 2, masked first ----
        mov eax, [cap_msi]
        xor ecx, ecx                    ; MSI off
        call cfg_wr32
        mov eax, [cap_msix]
        add eax, 4
        call cfg_rd32
        CHECK eax, 1, 24                ; table at offset 0 of BAR1
        mov eax, [cap_msix]
        add eax, 8
        call cfg_rd32
        CHECK eax, 4 * 16 | 1, 25       ; PBA after 4 entries, BAR1
        mov dword [MSIXBAR + 2 * 16], LAPIC
        mov dword [MSIXBAR + 2 * 16 + 4], 0
        mov dword [MSIXBAR + 2 * 16 + 8], V_MSIX
        mov dword [MSIXBAR + 2 * 16 + 12], 1 ; masked
        mov eax, [cap_msix]
        mov ecx, 0x8000 << 16           ; MSI-X enable
        call cfg_wr32
        mov dword [BAR0 + R_BELL], 2
        CHECK dword [BAR0 + R_RESULT], 2, 26
        call settle
        CHECK dword [n_msix], 0, 27
        CHECK dword [MSIXBAR + 4 * 16], 4, 28 ; pending bit 2
        mov dword [MSIXBAR + 2 * 16 + 12], 0 ; unmask: delivered now
        WAIT_FOR n_msix, 1
        CHECK dword [MSIXBAR + 4 * 16], 0, 29
        mov dword [BAR0 + R_BELL], 2
        WAIT_FOR n_msix, 2
        call settle
        CHECK dword [n_msix], 2, 30
        CHECK dword [n_msi], 1, 31
        CHECK dword [n_intx], 2, 32
        CHECK dword [BAR0 + R_COUNT], 6, 33
        CHECK dword [spurious], 0, 34
        PUTS32 msg_msix

; ---- (d) the 64-bit BAR at 32 GiB, from long mode ----
        cli
        mov edi, 0x10000                ; PML4, PDPT, 4 PDs for 0-4 GiB, 1 PD
        xor eax, eax                    ; for 32-33 GiB
        mov ecx, 7 * 4096 / 4
        rep stosd
        mov dword [0x10000], 0x11003
        mov dword [0x11000], 0x12003
        mov dword [0x11008], 0x13003
        mov dword [0x11010], 0x14003
        mov dword [0x11018], 0x15003
        mov dword [0x11000 + BAR2HI * 4 * 8], 0x16003
        mov edi, 0x12000
        mov eax, 0x83
        xor edx, edx
        mov ecx, 4 * 512
.pd:    mov [edi], eax
        mov [edi + 4], edx
        add eax, 0x200000
        adc edx, 0
        add edi, 8
        loop .pd
        mov dword [0x16000], 0x83 | 0x10 ; PCD: it is MMIO
        mov dword [0x16004], BAR2HI
        mov eax, cr4
        or eax, 1 << 5
        mov cr4, eax
        mov eax, 0x10000
        mov cr3, eax
        mov ecx, 0xc0000080
        rdmsr
        or eax, 1 << 8
        wrmsr
        mov eax, cr0
        or eax, 1 << 31
        mov cr0, eax
        jmp 0x18:lmode
bits 64
lmode:  mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov rbx, BAR2HI << 32
        cmp dword [rbx], TD_ID
        je .id
        mov eax, 35
        jmp fail64
.id:    mov dword [rbx + 0x1000 + R_SCRATCH], 0x5ca1ab1e ; the 2nd 4 KiB copy
        mov ecx, BAR0
        cmp dword [rcx + R_SCRATCH], 0x5ca1ab1e
        je .same
        mov eax, 36
        jmp fail64
.same:  mov rsi, msg_bar64
        call puts64
        EXIT 0
fail64: mov dx, EXITPORT
        out dx, eax
        hlt

bits 32
fail:   mov dx, EXITPORT
        out dx, eax
        hlt

PCI_CFG_FUNCS

; interrupts on for a while, then off: lets a wrong extra interrupt show
settle: sti
        mov ecx, 200000
.l:     loop .l
        cli
        ret

idt_init:
        xor ecx, ecx
.all:   mov eax, unexpected
        call set_gate
        inc ecx
        cmp ecx, 256
        jb .all
        mov eax, h_intx
        mov ecx, V_INTX
        call set_gate
        mov eax, h_msi
        mov ecx, V_MSI
        call set_gate
        mov eax, h_msix
        mov ecx, V_MSIX
        call set_gate
        mov eax, h_spurious
        mov ecx, 0xff
        call set_gate
        ret
set_gate:                               ; eax = handler, ecx = vector
        lea edi, [IDT + ecx * 8]
        mov [edi], ax
        mov word [edi + 2], 0x08
        mov word [edi + 4], 0x8e00
        shr eax, 16
        mov [edi + 6], ax
        ret

; the device's interrupt: read and acknowledge it, then the APIC's EOI
%macro HANDLER 2
%1:     push eax
        mov eax, [BAR0 + R_STATUS]
        mov [last_status], eax
        mov dword [BAR0 + R_ACK], eax
        inc dword [%2]
        mov dword [LAPIC + 0xb0], 0
        pop eax
        iret
%endmacro
HANDLER h_intx, n_intx
HANDLER h_msi, n_msi
HANDLER h_msix, n_msix
h_spurious:
        inc dword [spurious]
        iret
unexpected:                             ; an exception or a wrong vector
        mov eax, 99
        jmp fail

align 4
cfg_dev:  dd 0
slot:     dd 0
gsi:      dd 0
cap_msi:  dd 0
cap_msix: dd 0
n_intx:   dd 0
n_msi:    dd 0
n_msix:   dd 0
spurious: dd 0
last_status: dd 0
idtr:   dw 256 * 8 - 1
        dd IDT
msg_found:    db "pci-testdev found at slot 3 (mechanism #1 and ECAM)", 10, 0
msg_bars:     db "BARs sized and placed: registers at 0xc1000000", 10, 0
msg_intx:     db "INTx: INTA# on its _PRT GSI through the IOAPIC, once", 10, 0
msg_intx_off: db "INTx: Interrupt Disable held it, clearing it delivered", 10, 0
msg_msi:      db "MSI: delivered with bus mastering, not without", 10, 0
msg_msix:     db "MSI-X: masked entry pending, delivered on unmask", 10, 0
msg_bar64:    db "64-bit BAR decodes at 32 GiB", 10, 0
GDT_TABLE
PUTS_FUNCS
