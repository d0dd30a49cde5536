; hv-test: exit=0
; hv-vm: cpus = 2
; A vCPU halted with interrupts off still takes an NMI, and INIT-SIPI
; restarts it (as Linux brings an offlined CPU, parked in cli; hlt, back):
; the AP halts with IF=0, the BSP sends it an NMI (whose handler returns
; to the HLT), then INIT-SIPI, after which it must run its mailbox loop.
; A failed check prints "fail" and exits with its number.
%include "hv.inc"
%include "apic.inc"
bits 16
org 0x7c00
        APIC_KIT_START
        call start_ap
        sti
        mov dword [APCMD], ap_park
        call wake_ap
        mov ecx, 100000000
.w:     cmp byte [parked], 1
        je .parked
        pause
        loop .w
        mov eax, 1
        jmp fail
.parked:
        mov ecx, 1000000                        ; let it reach the HLT
.d:     loop .d
        ; 2: NMI to the halted AP
        mov dword [LAPIC + 0x310], 1 << 24
        mov dword [LAPIC + 0x300], 0x4400
        EXPECT_COUNT 1, 2, 1, 2
        ; 3: INIT-SIPI brings it back to its mailbox loop
        mov dword [APCMD], 0
        call start_ap
        ON_AP ap_hello
        cmp dword [APRET], 0x600d
        CHECK_EQ 3
        PUTS32 msg_ok
        EXIT 0

ap_park:
        cli
        mov byte [parked], 1
.h:     hlt
        jmp .h
ap_hello:
        mov eax, 0x600d
        ret
parked: db 0
msg_ok: db "halted AP woken", 10, 0
GDT_TABLE
PUTS_FUNCS
APIC_KIT_FUNCS
AP_TRAMPOLINE
