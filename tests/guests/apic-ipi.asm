; hv-test: exit=0
; hv-vm: cpus = 2
; Local APIC IPIs in xAPIC mode between two vCPUs: every destination
; shorthand (self, all including self, all excluding self), physical and
; logical destinations (flat and cluster models through DFR/LDR),
; lowest-priority delivery to a logical set (exactly one CPU takes it),
; NMI to self and to the other CPU, ExtINT refused, the delivery status
; bit idle after a send, and a second INIT-SIPI of a running AP. A failed
; check prints "fail" and exits with its number.
%include "hv.inc"
%include "apic.inc"
bits 16
org 0x7c00
        APIC_KIT_START
        call start_ap
        sti
        ; 1-2: self-IPI through the shorthand, then by physical id 0
        mov dword [LAPIC + 0x300], 0x44050      ; self, fixed, vector 0x50
        EXPECT_COUNT 0, 0x50, 1, 1
        mov dword [LAPIC + 0x310], 0
        mov dword [LAPIC + 0x300], 0x4051       ; physical 0
        EXPECT_COUNT 0, 0x51, 1, 2
        ; 3: fixed IPI to the AP
        mov dword [LAPIC + 0x310], 1 << 24
        mov dword [LAPIC + 0x300], 0x4052
        EXPECT_COUNT 1, 0x52, 1, 3
        ; 4: the delivery status bit (12) reads idle once the IPI is sent
        mov ecx, 1000000
.ds:    test dword [LAPIC + 0x300], 1 << 12
        jz .dsok
        pause
        loop .ds
        mov eax, 4
        jmp fail
.dsok:
        ; 5-6: all including self, all excluding self
        mov dword [LAPIC + 0x300], 0x84053
        EXPECT_COUNT 0, 0x53, 1, 5
        EXPECT_COUNT 1, 0x53, 1, 5
        mov dword [LAPIC + 0x300], 0xc4054
        EXPECT_COUNT 1, 0x54, 1, 6
        EXPECT_STILL 0, 0x54, 0, 6
        ; 7-10: logical, flat model: BSP bit 0, AP bit 1
        mov dword [LAPIC + 0xe0], 0xffffffff
        mov dword [LAPIC + 0xd0], 0x01000000
        ON_AP ap_flat
        mov eax, [LAPIC + 0xd0]
        cmp eax, 0x01000000
        CHECK_EQ 7
        mov dword [LAPIC + 0x310], 0x02000000
        mov dword [LAPIC + 0x300], 0x4855       ; logical 02h
        EXPECT_COUNT 1, 0x55, 1, 8
        EXPECT_STILL 0, 0x55, 0, 8
        mov dword [LAPIC + 0x310], 0x01000000
        mov dword [LAPIC + 0x300], 0x4856       ; logical 01h: this CPU
        EXPECT_COUNT 0, 0x56, 1, 9
        EXPECT_STILL 1, 0x56, 0, 9
        mov dword [LAPIC + 0x310], 0x03000000
        mov dword [LAPIC + 0x300], 0x4857       ; logical 03h: both
        EXPECT_COUNT 0, 0x57, 1, 10
        EXPECT_COUNT 1, 0x57, 1, 10
        ; 11: lowest priority to the set {0, 1}: one CPU takes it
        mov dword [LAPIC + 0x310], 0x03000000
        mov dword [LAPIC + 0x300], 0x4958
        mov ecx, 2000000
.lp:    mov eax, [CNT + 0x58 * 4]
        add eax, [CNT + 1024 + 0x58 * 4]
        jnz .lpgot
        pause
        loop .lp
.lpgot: EXPECT_STILL 0, 0, 0, 11                ; (just the wait)
        mov eax, [CNT + 0x58 * 4]
        add eax, [CNT + 1024 + 0x58 * 4]
        cmp eax, 1
        CHECK_EQ 11
        ; 12-14: logical, cluster model: cluster 1, BSP bit 0, AP bit 1
        mov dword [LAPIC + 0xe0], 0x0fffffff
        mov dword [LAPIC + 0xd0], 0x11000000
        ON_AP ap_cluster
        mov dword [LAPIC + 0x310], 0x12000000
        mov dword [LAPIC + 0x300], 0x4859
        EXPECT_COUNT 1, 0x59, 1, 12
        EXPECT_STILL 0, 0x59, 0, 12
        mov dword [LAPIC + 0x310], 0x13000000
        mov dword [LAPIC + 0x300], 0x485a
        EXPECT_COUNT 0, 0x5a, 1, 13
        EXPECT_COUNT 1, 0x5a, 1, 13
        mov dword [LAPIC + 0x310], 0x23000000   ; cluster 2: nobody
        mov dword [LAPIC + 0x300], 0x485b
        EXPECT_STILL 0, 0x5b, 0, 14
        EXPECT_STILL 1, 0x5b, 0, 14
        ; 15-17: NMI to self (shorthand and own id) and to the AP
        mov dword [LAPIC + 0x300], 0x44400
        EXPECT_COUNT 0, 2, 1, 15
        mov dword [LAPIC + 0x310], 0
        mov dword [LAPIC + 0x300], 0x4400
        EXPECT_COUNT 0, 2, 2, 16
        mov dword [LAPIC + 0x310], 1 << 24
        mov dword [LAPIC + 0x300], 0x4400
        EXPECT_COUNT 1, 2, 1, 17
        ; 18: NMI while interrupts are off still arrives
        cli
        mov dword [LAPIC + 0x310], 0
        mov dword [LAPIC + 0x300], 0x4400
        EXPECT_COUNT 0, 2, 3, 18
        sti
        ; 19: ExtINT is not a valid ICR delivery mode: nothing arrives
        mov dword [LAPIC + 0x310], 0
        mov dword [LAPIC + 0x300], 0x475c
        EXPECT_STILL 0, 0x5c, 0, 19
        ; 20: INIT-SIPI again: the running AP restarts at the trampoline,
        ; its APIC back at power-on state (LDR 0)
        call start_ap
        ON_AP ap_ldr
        mov eax, [APRET]
        test eax, eax
        CHECK_EQ 20
        mov eax, [APBOOTS]
        cmp eax, 2
        CHECK_EQ 20
        PUTS32 msg_ok
        EXIT 0

ap_flat:
        mov dword [LAPIC + 0xe0], 0xffffffff
        mov dword [LAPIC + 0xd0], 0x02000000
        ret
ap_cluster:
        mov dword [LAPIC + 0xe0], 0x0fffffff
        mov dword [LAPIC + 0xd0], 0x12000000
        ret
ap_ldr: mov eax, [LAPIC + 0xd0]
        ret
msg_ok: db "apic ipi ok", 10, 0
GDT_TABLE
PUTS_FUNCS
APIC_KIT_FUNCS
AP_TRAMPOLINE
