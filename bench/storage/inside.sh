#!/bin/sh
# bench/storage in the nested VM (L1, busybox sh): a 256 MiB ramdisk
# (brd, O_DIRECT-capable) is the image; fio on it directly (the host row),
# then for each controller an L2 Linux under hv (accel=kvm) and under
# Debian's QEMU (-enable-kvm, cache=none,aio=native) running the same fio
# jobs. Prints "# row VMM CTL JOB iops=N mbs=N" (or FAILED) lines.
# usage: inside.sh [SECS [CONTROLLER,CONTROLLER...]]
cd /hv || exit 1
export PATH=/hv/bin:$PATH HV_PLUGIN_PATH=/hv/plugins
secs=${1:-4}
ctls=$(echo "${2:-virtio-blk,virtio-scsi,ide}" | tr , ' ')
insmod /hv/brd.ko rd_nr=1 rd_size=262144 || { echo "not ok bench-storage - insmod brd failed"; exit 1; }
dd if=/dev/zero of=/dev/ram0 bs=1M count=256 2>/dev/null # every page allocated: reads cost what writes do
FIO_SECS=$secs sh /hv/fio-jobs.sh /dev/ram0 | sed -n 's/^FIO \([^ ]*\) \(.*\)/# row host file \1 \2/p'
t=/tmp/b
mkdir -p $t
# boot VMM CTL: one L2 boot, its FIO lines as rows
boot() {
	vmm=$1 ctl=$2
	case $vmm in
	hv)
		timeout -s KILL 300 /hv/hv run /hv/vm-$ctl.ini </dev/null >$t/out 2>$t/err ;;
	qemu)
		# shellcheck disable=SC2046 # one word per argument
		timeout -s KILL 300 /hv/qemu-system-x86_64 -enable-kvm -M pc -m 1G -smp 1 -nodefaults \
			-display none -no-reboot -serial stdio -L /hv/qemu-fw -kernel /hv/vmlinuz \
			-initrd /hv/initramfs.cpio -append 'console=ttyS0 panic=-1 quiet' \
			-drive if=none,id=d,file=/dev/ram0,format=raw,cache=none,aio=native \
			$(cat /hv/qemu-$ctl) </dev/null >$t/out 2>$t/err ;;
	esac
	rc=$?
	tr -d '\r' <$t/out | sed -n "s/^FIO \([^ ]*\) \(.*\)/# row $vmm $ctl \1 \2/p; s/^# fio: /# $vmm $ctl fio: /p"
	grep -q '^FIO ' $t/out || echo "# $vmm $ctl: no fio result (exit $rc): $(tail -c 300 $t/err | tr '\n' '|') $(tr -d '\r' <$t/out | tail -n 3 | tr '\n' '|')"
}
for ctl in $ctls; do
	boot hv $ctl
	boot qemu $ctl
done
echo "ok bench-storage-ran"
