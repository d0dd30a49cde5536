#!/bin/bash
# The bare-metal guests on this host's own /dev/kvm (accel=kvm), where it
# has one: real KVM, or kvm-pvm, which emulates guest kernel code slowly
# but runs these small guests. `hv accel` says what /dev/kvm is; on
# kvm-pvm the guests its emulator cannot run are listed below and skipped.
set -u
b=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
hv=$root/$b/hv
export HV_PLUGIN_PATH=${HV_PLUGIN_PATH:-$root/$b/plugins}
case $HV_PLUGIN_PATH in /*) ;; *) HV_PLUGIN_PATH=$root/$HV_PLUGIN_PATH ;; esac
facts=$("$hv" accel --accel=kvm 2>&1)
if [ "$("$hv" accel --accel=kvm --name 2>/dev/null)" != kvm ]; then
	echo "ok host-kvm-guests # skip: $(head -1 <<< "$facts")"
	exit 0
fi
echo "# $(head -1 <<< "$facts")"
# kvm-pvm's instruction emulator stops on IRET in protected mode
# (pci-irq, and the interrupt handlers of the apic-*, loop-fused and pit-ioapic
# guests: "instruction emulation failed" on the IRET) and a triple-fault
# reset does not come back (reset, reset-exit);
# it fails to emulate INT3, INT n and ICEBP in guest kernel code
# ("instruction emulation failed": exc-rf, exc-rf2, exc-dr2), has no data
# breakpoints (exc-drdata) nor I/O breakpoints (exc-dr2); its guest kernel
# code hangs in SYSRET to ring 3 (exc-syscall) and in VMCALL/VMMCALL,
# which PVM takes for its own hypercalls (exc-hcall); it does not
# intercept CPUID leaves 1 and 7 (the host's values show, without even
# the hypervisor bit KVM_SET_CPUID2 set: cpu-qemu64, cpu-nonx). Nested
# real KVM (tests/nested/guests.t) is the reference for these.
pvm_skip=" pci-irq reset reset-exit apic-halted apic-ipi apic-timer apic-x2apic loop-fused pit-ioapic exc-rf exc-rf2 exc-drdata exc-dr2 exc-syscall exc-hcall cpu-qemu64 cpu-nonx "
pvm=0
grep -q kvm-pvm <<< "$facts" && pvm=1
n=0
for g in "$root/$b"/guests/*.bin; do
	name=$(basename "$g" .bin)
	if [ $pvm = 1 ] && [[ $pvm_skip == *" $name "* ]]; then
		echo "# guest-$name: not run on kvm-pvm (its emulator cannot)"
		continue
	fi
	sh "$root/tests/guests/run-guest.sh" "$hv" "$g" kvm
	n=$((n + 1))
done
[ "$n" -gt 0 ] || echo "not ok host-kvm-guests - no guests built in $b/guests"
exit 0
