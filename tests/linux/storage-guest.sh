#!/bin/sh
# The guest side of the storage tests (tests/linux/storage.t under accel=emu,
# storage-kvm.t under nested KVM, and QEMU's same devices for comparison):
# runs as the initramfs's --run script, POSIX sh (busybox). It reads the
# disks the host attached from /etc/storage.disks, one per line:
#   NAME KIND ADDR BYTES SERIAL TASK
# KIND  ata (IDE disk), atapi (IDE CD), scsi, scsi-cd (virtio-scsi LUNs),
#       vblk (virtio-blk)
# ADDR  ata/atapi: the libata port (1 primary, 2 secondary); scsi: T:L
# TASK  pattern (write /pat.bin at 1 MiB and at the end, read it back),
#       parent (the same on a differencing image whose parent holds 'Z'
#       bytes in its first 4 MiB), ext4 (mkfs, mount, write, fsck),
#       iso (mount, hash /hello.bin and the whole medium)
# and /etc/storage.conf (shell variables: PAT_SHA, HELLO_SHA, ISO_SHA,
# SG=1 when sg3-utils are in, HDPARM=1 when hdparm is, DRIVERS: the
# controllers' modules in /lib/drivers, DISK_SECS: each disk's deadline). Each check prints
# "HVT ok storage-NAME-CHECK" or "HVT not ok storage-NAME-CHECK - why" on
# the console; the last line is "HVT-DONE ok=N notok=M".
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
. /etc/storage.conf
n_ok=0 n_fail=0
ok() {
	echo "HVT ok storage-$1${2:+ - $2}"
	n_ok=$((n_ok + 1))
}
nok() {
	echo "HVT not ok storage-$1 - $2"
	n_fail=$((n_fail + 1))
}
PATLEN=131072

# dev_of KIND ADDR: the block device's name, from where it sits in sysfs
dev_of() {
	for b in /sys/block/*; do
		n=${b##*/}
		p=$(readlink -f "$b")
		case $1:$n in
		ata:sd* | atapi:sr*) case $p in */ata$2/*) echo "$n" && return 0 ;; esac ;;
		scsi:sd* | scsi-cd:sr*) case $p in */virtio*/host*/*:0:$2/block/*) echo "$n" && return 0 ;; esac ;;
		vblk:vd*) case $p in */virtio*/block/*) echo "$n" && return 0 ;; esac ;;
		esac
	done
	return 1
}

# The controllers' drivers load here, each in the background: a device
# that hangs its driver's probe (a lost interrupt, a request never
# completed) must not hide the other controllers' results.
for m in $DRIVERS; do
	(insmod "/lib/drivers/$m.ko" 2>&1 | sed "s/^/# insmod $m: /"; : >"/tmp/insmod-$m.done") &
done

# wait until every disk is there (SCSI scanning is asynchronous), 30 s;
# once a second: under the interpreter every fork counts
i=0
while [ $i -lt 30 ]; do
	missing=0
	while read -r name kind addr bytes serial task; do
		dev_of "$kind" "$addr" >/dev/null || { missing=1 && break; }
	done </etc/storage.disks
	[ $missing = 0 ] && break
	sleep 1
	i=$((i + 1))
done
echo "# disks after $i s: $(ls /sys/block | tr '\n' ' ')"
for m in $DRIVERS; do
	[ -e "/tmp/insmod-$m.done" ] ||
		nok "driver-$m" "insmod $m.ko has not returned after $i s (its probe waits on the device)"
done

sha() { sha256sum | cut -d' ' -f1; }
# rd DEV OFFSET LEN: LEN bytes at OFFSET, read with O_DIRECT
rd() { dd if="/dev/$1" bs="$3" count=1 skip="$2" iflag=direct,skip_bytes 2>/dev/null; }

# pattern NAME DEV BYTES: /pat.bin at 1 MiB and in the last 128 KiB,
# O_DIRECT and fsync (a cache flush to the device), read back uncached
pattern() {
	end=$(($3 - PATLEN))
	for off in 1048576 $end; do
		if ! err=$(dd if=/pat.bin of="/dev/$2" bs=$PATLEN seek=$off oflag=direct,seek_bytes conv=fsync 2>&1); then
			nok "$1-pattern" "dd to /dev/$2 at $off: $(echo "$err" | head -n 1)"
			return
		fi
	done
	echo 3 >/proc/sys/vm/drop_caches
	for off in 1048576 $end; do
		got=$(rd "$2" $off $PATLEN | sha)
		if [ "$got" != "$PAT_SHA" ]; then
			nok "$1-pattern" "read back at $off of /dev/$2: sha256 $got, wrote $PAT_SHA"
			return
		fi
	done
	ok "$1-pattern" "128 KiB written (O_DIRECT, fsync) at 1 MiB and at $end, read back"
}

# parent NAME DEV: the differencing image shows its parent's bytes
parent() {
	left=$(rd "$2" 0 65536 | tr -d 'Z' | wc -c)
	n=$(rd "$2" 0 65536 | wc -c)
	if [ "$n" = 65536 ] && [ "$left" = 0 ]; then
		ok "$1-parent" "the first 64 KiB are the parent's 'Z' bytes"
	else
		nok "$1-parent" "read $n bytes at 0 of /dev/$2, $left of them not the parent's 'Z'"
	fi
}

ext4() {
	mkdir -p "/mnt/$1"
	if ! err=$(mkfs.ext4 -q -F -E nodiscard "/dev/$2" 2>&1); then
		nok "$1-ext4" "mkfs.ext4 /dev/$2: $(echo "$err" | tail -n 1)"
		return
	fi
	if ! err=$(mount -t ext4 "/dev/$2" "/mnt/$1" 2>&1); then
		nok "$1-ext4" "mount /dev/$2: $err $(dmesg | tail -n 2 | tr '\n' ' ')"
		return
	fi
	mkdir "/mnt/$1/d" && cp /pat.bin "/mnt/$1/d/pat.bin" && sync
	umount "/mnt/$1" || { nok "$1-ext4" "umount failed"; return; }
	if ! err=$(fsck.ext4 -fn "/dev/$2" 2>&1); then
		nok "$1-ext4" "fsck.ext4 -fn /dev/$2: $(echo "$err" | tail -n 3 | tr '\n' ' ')"
		return
	fi
	echo 3 >/proc/sys/vm/drop_caches
	mount -t ext4 -o ro "/dev/$2" "/mnt/$1" || { nok "$1-ext4" "second mount failed"; return; }
	got=$(sha </mnt/$1/d/pat.bin)
	umount "/mnt/$1"
	if [ "$got" = "$PAT_SHA" ]; then
		ok "$1-ext4" "mkfs.ext4, mount, write, umount, fsck.ext4 -fn clean, the file reads back"
	else
		nok "$1-ext4" "the file reads back as $got"
	fi
}

iso() {
	mkdir -p "/mnt/$1"
	if [ "$(cat /sys/block/$2/ro)" != 1 ]; then
		nok "$1-readonly" "/sys/block/$2/ro is $(cat /sys/block/$2/ro)"
	else
		ok "$1-readonly" "the CD-ROM is read-only"
	fi
	got=$(sha </dev/$2)
	if [ "$got" = "$ISO_SHA" ]; then
		ok "$1-medium" "the whole medium reads back as the ISO"
	else
		nok "$1-medium" "sha256 of /dev/$2 is $got, the ISO's $ISO_SHA"
	fi
	if ! err=$(mount -t iso9660 -o ro "/dev/$2" "/mnt/$1" 2>&1); then
		nok "$1-iso" "mount /dev/$2: $err"
		return
	fi
	got=$(sha </mnt/$1/hello.bin)
	umount "/mnt/$1"
	if [ "$got" = "$HELLO_SHA" ]; then
		ok "$1-iso" "isofs mounted, hello.bin hashes right"
	else
		nok "$1-iso" "hello.bin sha256 $got, want $HELLO_SHA"
	fi
}

serial() { # NAME DEV KIND SERIAL
	case $3 in
	vblk) got=$(cat "/sys/block/$2/serial" 2>/dev/null) ;;
	# VPD page 0x80: a 4-byte header, then the serial (maybe space-padded)
	*) got=$(tail -c +5 "/sys/block/$2/device/vpd_pg80" 2>/dev/null | tr -d '\000' | tr -s ' ') ;;
	esac
	case " $got " in
	*" $4 "*) ok "$1-serial" "serial $4" ;;
	*) nok "$1-serial" "serial '$got', want $4" ;;
	esac
}

# sg3-utils on the first SCSI disk: VPD pages, READ CAPACITY(16), REPORT LUNS
sg_checks() { # NAME DEV BYTES SERIAL
	for p in 0x80 0x83 0xb0 0xb1 0xb2; do
		if out=$(sg_inq -p $p "/dev/$2" 2>&1); then
			if [ $p = 0x80 ] && ! echo "$out" | grep -q "$4"; then
				nok "$1-sg-inq-$p" "no $4 in: $(echo "$out" | tr '\n' ' ')"
			else
				ok "$1-sg-inq-$p" "$(echo "$out" | sed -n 2p | tr -s ' ')"
			fi
		else
			nok "$1-sg-inq-$p" "$(echo "$out" | tail -n 2 | tr '\n' ' ')"
		fi
	done
	out=$(sg_readcap -l "/dev/$2" 2>&1)
	if echo "$out" | grep -q "Last LBA=$(($3 / 512 - 1)) " && echo "$out" | grep -q 'Logical block length=512 bytes'; then
		ok "$1-sg-readcap" "Last LBA=$(($3 / 512 - 1)), 512-byte blocks"
	else
		nok "$1-sg-readcap" "$(echo "$out" | tr '\n' ' ')"
	fi
	out=$(sg_luns "/dev/$2" 2>&1)
	if echo "$out" | grep -q '0000000000000000' && echo "$out" | grep -q '0001000000000000'; then
		ok "$1-sg-luns" "REPORT LUNS lists LUN 0 and LUN 1"
	else
		nok "$1-sg-luns" "$(echo "$out" | tr '\n' ' ')"
	fi
}

hdparm_check() { # NAME DEV SERIAL
	if out=$(hdparm -I "/dev/$2" 2>&1) && echo "$out" | grep -q "Serial Number: *$3"; then
		ok "$1-hdparm" "$(echo "$out" | grep 'Model Number' | tr -s ' ' | cut -c1-60), LBA48: $(echo "$out" | grep -c '48-bit Address')"
	else
		nok "$1-hdparm" "hdparm -I /dev/$2: $(echo "$out" | head -n 6 | tr '\n' ' ')"
	fi
}

# check_disk NAME KIND ADDR BYTES SERIAL TASK DEV FIRST-SCSI
check_disk() {
	name=$1 kind=$2 addr=$3 bytes=$4 serial=$5 task=$6 d=$7
	ok "$name-found" "$kind $addr is /dev/$d"
	got=$(($(cat "/sys/block/$d/size") * 512))
	if [ "$got" = "$bytes" ]; then
		ok "$name-size" "$got bytes"
	else
		nok "$name-size" "/sys/block/$d/size says $got bytes, the image has $bytes"
	fi
	[ "$serial" = - ] || serial "$name" "$d" "$kind" "$serial"
	case $task in
	pattern) pattern "$name" "$d" "$bytes" ;;
	parent) parent "$name" "$d" && pattern "$name" "$d" "$bytes" ;;
	ext4) ext4 "$name" "$d" ;;
	iso) iso "$name" "$d" ;;
	esac
	if [ "$8" = 1 ]; then
		if [ "${SG:-0}" = 1 ]; then sg_checks "$name" "$d" "$bytes" "$serial"; else nok "$name-sg" "sg3-utils not in the initramfs"; fi
	fi
	if [ $kind = ata ]; then
		if [ "${HDPARM:-0}" = 1 ]; then hdparm_check "$name" "$d" "$serial"; else nok "$name-hdparm" "hdparm not in the initramfs"; fi
	fi
}

# Each disk's checks run in the background with a deadline (DISK_SECS):
# I/O that never completes leaves a process no signal can end, so the
# script reports the hang and goes on to the next disk.
sg_done=0
# (the disk list on fd 4: no tool in the loop can eat it from stdin)
while read -r name kind addr bytes serial task <&4; do
	if ! d=$(dev_of "$kind" "$addr"); then
		nok "$name-found" "no $kind device at $addr (disks: $(ls /sys/block | tr '\n' ' '))"
		continue
	fi
	first=0
	[ $kind != scsi ] || [ $sg_done = 1 ] || { first=1 && sg_done=1; }
	check_disk "$name" "$kind" "$addr" "$bytes" "$serial" "$task" "$d" $first >"/tmp/res-$name" 2>&1 &
	pid=$!
	i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt "${DISK_SECS:-300}" ]; do
		sleep 1
		i=$((i + 1))
	done
	grep -a -v '^HVT-' "/tmp/res-$name"
	if kill -0 $pid 2>/dev/null; then
		nok "$name-hang" "its checks still run after $i s: $(tail -n 1 "/tmp/res-$name")"
		ps | grep -v -e ' \[' -e 'ps$' -e grep -e sed -e tail | tail -n 3 | sed 's/^/# ps: /'
		grep -i -e virtio -e ata -e 'ERR' /proc/interrupts | tr -s ' ' | sed 's/^/# interrupts: /'
	fi
done 4</etc/storage.disks
dmesg | grep -i -E 'I/O error|blk_update|critical|timed out| reset|hung' | head -n 8 | sed 's/^/# kmsg: /'
n_ok=$(cat /tmp/res-* 2>/dev/null | grep -c '^HVT ok')
n_fail=$((n_fail + $(cat /tmp/res-* 2>/dev/null | grep -c '^HVT not ok')))
echo "HVT-DONE ok=$n_ok notok=$n_fail"
