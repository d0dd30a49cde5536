#!/bin/sh
# bench/storage's L2 guest (busybox sh, the initramfs's --run script): the
# fio jobs of /etc/fio.jobs on the one disk the VMM attached, each printed
# as "FIO JOB iops=N mbs=N" or "FIO JOB FAILED". The three controllers'
# drivers are loaded; one disk is there.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
for m in ata_piix virtio_scsi virtio_blk; do insmod "/lib/drivers/$m.ko"; done
dev=
i=0
while [ -z "$dev" ] && [ $i -lt 30 ]; do
	for b in /sys/block/sd* /sys/block/vd*; do
		[ -e "$b" ] && dev=${b##*/}
	done
	[ -n "$dev" ] || sleep 1
	i=$((i + 1))
done
[ -n "$dev" ] || { echo "FIO-NODISK $(ls /sys/block | tr '\n' ' ')"; exit 1; }
echo "FIO-DISK $dev"
sh /etc/fio-jobs.sh "/dev/$dev"
