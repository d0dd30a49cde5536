; hv-test: exit=0
; hv-vm: cpus = 2
; x2APIC (SDM 10.12): CPUID.1:ECX[21], its MSRs #GP in xAPIC mode, the
; xAPIC -> x2APIC transition with the ID and the read-only LDR derived
; from the initial APIC ID (cluster:16 | 1 << (id & 15)), the MMIO page
; no longer the APIC, SELF_IPI (83Fh), the 64-bit ICR to the other CPU by
; physical and logical (cluster) destination, read-only and write-only
; registers #GP, and IA32_APIC_BASE's transitions: x2APIC -> xAPIC #GP,
; x2APIC -> disabled -> xAPIC legal, disabled -> x2APIC #GP, EXTD without
; EN #GP. A failed check prints "fail" and exits with its number.
%include "hv.inc"
%include "apic.inc"
bits 16
org 0x7c00
        APIC_KIT_START
        call start_ap
        sti
        ; 1: CPUID advertises x2APIC
        mov eax, 1
        cpuid
        test ecx, 1 << 21
        jnz .cpuid_ok
        mov eax, 1
        jmp fail
.cpuid_ok:
        ; 2: the x2APIC ID MSR #GPs in xAPIC mode
        mov ecx, 0x802
        rdmsr
        cmp dword [GPCNT], 1
        CHECK_EQ 2
        ; 3: EXTD without EN is invalid
        mov ecx, 0x1b
        rdmsr
        mov ebx, eax
        and eax, ~(1 << 11)
        or eax, 1 << 10
        wrmsr
        cmp dword [GPCNT], 2
        CHECK_EQ 3
        ; 4: xAPIC -> x2APIC; ID 0, LDR 0000_0001h
        mov eax, [LAPIC + 0x30]
        mov [xapic_ver], eax
        mov eax, ebx
        or eax, 1 << 10
        mov ecx, 0x1b
        wrmsr
        cmp dword [GPCNT], 2
        CHECK_EQ 4
        mov ecx, 0x802
        rdmsr
        test eax, eax
        CHECK_EQ 5
        mov ecx, 0x80d
        rdmsr
        cmp eax, 1
        CHECK_EQ 6
        ; 7: the version register is the same through either interface
        mov ecx, 0x803
        rdmsr
        cmp eax, [xapic_ver]
        CHECK_EQ 7
        ; 8: the MMIO page is no longer the APIC: a TPR write there does
        ; not reach the x2APIC TPR, a version read there does not see it
        mov dword [LAPIC + 0x80], 0x20
        mov ecx, 0x808
        rdmsr
        test eax, eax
        CHECK_EQ 8
        mov eax, [LAPIC + 0x30]
        cmp eax, [xapic_ver]
        jne .mmio_ok
        mov eax, 8
        jmp fail
.mmio_ok:
        ; 9: SELF_IPI
        mov ecx, 0x83f
        mov eax, 0x60
        xor edx, edx
        wrmsr
        EXPECT_COUNT 0, 0x60, 1, 9
        ; 10: the ICR's self shorthand
        mov ecx, 0x830
        mov eax, 0x44061
        xor edx, edx
        wrmsr
        EXPECT_COUNT 0, 0x61, 1, 10
        ; 11-12: the AP in x2APIC mode: ID 1, LDR 0000_0002h
        ON_AP ap_x2
        cmp dword [APRET], 0
        CHECK_EQ 11
        ON_AP ap_ids
        cmp dword [APRET], 0x00020001
        CHECK_EQ 12
        ; 13: physical destination 1 in ICR[63:32]
        mov ecx, 0x830
        mov eax, 0x4062
        mov edx, 1
        wrmsr
        EXPECT_COUNT 1, 0x62, 1, 13
        EXPECT_STILL 0, 0x62, 0, 13
        ; 14-15: logical, cluster 0: bit 1 (the AP), bits 0-1 (both)
        mov ecx, 0x830
        mov eax, 0x4863
        mov edx, 2
        wrmsr
        EXPECT_COUNT 1, 0x63, 1, 14
        EXPECT_STILL 0, 0x63, 0, 14
        mov ecx, 0x830
        mov eax, 0x4864
        mov edx, 3
        wrmsr
        EXPECT_COUNT 0, 0x64, 1, 15
        EXPECT_COUNT 1, 0x64, 1, 15
        ; 16: cluster 1 is nobody here
        mov ecx, 0x830
        mov eax, 0x4865
        mov edx, 0x10003
        wrmsr
        EXPECT_STILL 1, 0x65, 0, 16
        EXPECT_STILL 0, 0x65, 0, 16
        ; 17: NMI to the AP by x2APIC ID
        mov ecx, 0x830
        mov eax, 0x4400
        mov edx, 1
        wrmsr
        EXPECT_COUNT 1, 2, 1, 17
        ; 18-21: #GP on writes to read-only registers (ID, LDR, version),
        ; on a read of write-only EOI, on ICR2 (831h) and DFR (80Eh)
        mov dword [GPCNT], 0
        xor eax, eax
        xor edx, edx
        mov ecx, 0x802
        wrmsr
        mov ecx, 0x80d
        wrmsr
        mov ecx, 0x803
        wrmsr
        cmp dword [GPCNT], 3
        CHECK_EQ 18
        mov ecx, 0x80b
        rdmsr
        cmp dword [GPCNT], 4
        CHECK_EQ 19
        mov ecx, 0x831
        rdmsr
        cmp dword [GPCNT], 5
        CHECK_EQ 20
        mov ecx, 0x80e
        rdmsr
        cmp dword [GPCNT], 6
        CHECK_EQ 21
        ; 22: x2APIC -> xAPIC is illegal, and the mode stays
        mov ecx, 0x1b
        mov eax, ebx
        xor edx, edx
        wrmsr
        cmp dword [GPCNT], 7
        CHECK_EQ 22
        mov ecx, 0x802
        rdmsr
        cmp dword [GPCNT], 7
        CHECK_EQ 22
        ; 23: x2APIC -> disabled; the x2APIC MSRs #GP then
        cli
        mov ecx, 0x1b
        mov eax, ebx
        and eax, ~(3 << 10)
        xor edx, edx
        wrmsr
        cmp dword [GPCNT], 7
        CHECK_EQ 23
        mov ecx, 0x802
        rdmsr
        cmp dword [GPCNT], 8
        CHECK_EQ 23
        ; 24: disabled -> x2APIC is illegal
        mov ecx, 0x1b
        mov eax, ebx
        and eax, ~(1 << 11)
        or eax, 3 << 10
        xor edx, edx
        wrmsr
        cmp dword [GPCNT], 9
        CHECK_EQ 24
        ; 25: disabled -> xAPIC; MMIO is the APIC again (ID 0 there)
        mov ecx, 0x1b
        mov eax, ebx
        xor edx, edx
        wrmsr
        cmp dword [GPCNT], 9
        CHECK_EQ 25
        mov eax, [LAPIC + 0x30]
        cmp eax, [xapic_ver]
        CHECK_EQ 25
        mov eax, [LAPIC + 0x20]
        test eax, eax
        CHECK_EQ 25
        PUTS32 msg_ok
        EXIT 0

ap_x2:  mov ecx, 0x1b
        rdmsr
        or eax, 1 << 10
        wrmsr
        mov eax, [GPCNT + 4]
        ret
; x2APIC ID in the low word, the LDR's bits in the high one
ap_ids: mov ecx, 0x80d
        rdmsr
        mov ebx, eax
        shl ebx, 16
        mov ecx, 0x802
        rdmsr
        or eax, ebx
        ret
xapic_ver: dd 0
msg_ok: db "x2apic ok", 10, 0
GDT_TABLE
PUTS_FUNCS
APIC_KIT_FUNCS
AP_TRAMPOLINE
