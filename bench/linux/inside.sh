#!/bin/sh
# In the nested VM: hv and QEMU boot the same kernel + initramfs (which
# powers off as soon as /init ran), 1 and 2 vCPUs, RUNS times each.
cd /hv || exit 1
runs=${1:-2}
cmdline="console=ttyS0 panic=-1"
for cpus in 1 2; do
	cat >/tmp/vm$cpus.ini <<INI
[vm]
memory = 512M
cpus = $cpus
accel = kvm
kernel = /hv/vmlinuz
initrd = /hv/initramfs.cpio.gz
cmdline = $cmdline
[device com1]
plugin = uart16550
console = out
[console out]
plugin = stdio
input = off
INI
	r=0
	while [ $r -lt "$runs" ]; do
		echo "# hv-$cpus $(./timeit HV-LINUX-INIT -- ./hv run -q /tmp/vm$cpus.ini 2>/dev/null </dev/null)"
		echo "# qemu-$cpus $(./timeit HV-LINUX-INIT -- ./qemu-system-x86_64 -enable-kvm -M pc -m 512 \
			-smp $cpus -nodefaults -display none -no-reboot -serial stdio -L /hv/qemu-fw \
			-kernel /hv/vmlinuz -initrd /hv/initramfs.cpio.gz -append "$cmdline" 2>/dev/null </dev/null)"
		r=$((r + 1))
	done
done
echo "ok bench"
