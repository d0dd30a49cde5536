#!/bin/sh
# The guest of tests/linux/storage-crash.t (busybox sh, the initramfs's
# --run script): numbered records, one per MiB (each one allocates a new
# VHDX block: a BAT update through the image's log), each written with
# O_DIRECT and made durable with fsync (a cache flush to the device);
# "acked N" on the console only after record N's flush completed. Runs
# until the host kills hv. /etc/crash.conf: KIND (scsi or ata) and DRIVER.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
. /etc/crash.conf
insmod "/lib/drivers/$DRIVER.ko"
dev=
i=0
while [ -z "$dev" ] && [ $i -lt 30 ]; do
	for b in /sys/block/sd*; do
		case $KIND:$(readlink -f "$b") in
		scsi:*/virtio*/host*/*:0:0:0/block/* | ata:*/ata1/*) dev=${b##*/} ;;
		esac
	done
	[ -n "$dev" ] || sleep 1
	i=$((i + 1))
done
[ -n "$dev" ] || { echo "CRASH-NODISK $(ls /sys/block | tr '\n' ' ')"; exit 1; }
echo "CRASH-DISK $dev"
n=1
while :; do
	# 4 KiB: "HVREC n" and zero padding (conv=sync)
	echo "HVREC $n" | dd of="/dev/$dev" bs=4096 seek=$((n * 256)) conv=sync,fsync oflag=direct 2>/dev/null ||
		{ echo "CRASH-WRITE-FAILED $n"; exit 1; }
	echo "acked $n"
	n=$((n + 1))
done
