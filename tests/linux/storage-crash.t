#!/bin/bash
# hv-test: once
# hv-test: timeout=900
# kill -9 of hv while a Linux guest (accel=emu) writes through virtio-scsi
# to a dynamic VHDX (storage-crash-guest.sh: a record per MiB, each one
# O_DIRECT + fsync, "acked N" once its flush completed). Then, on the
# image as the kill left it: `hv img check` clean (after the log replay
# hv does on open), every acknowledged record read back through hv (hv img
# convert) and through QEMU's VHDX code (qemu-img check -r all, which
# replays the log, then qemu-img convert) on a copy.
# HV_CRASH_DEVICE=ide runs the same through the IDE disk instead.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/${BUILD:-build}
hv=$build/hv
export HV_PLUGIN_PATH=${HV_PLUGIN_PATH:-$build/plugins}
dev=${HV_CRASH_DEVICE:-virtio-scsi}
want=${HV_CRASH_RECORDS:-12}
limit=${HV_CRASH_TIMEOUT:-600}
kernel=${HV_EMU_LINUX_KERNEL:-$(ls -1v /boot/vmlinuz-* 2>/dev/null | tail -n 1)}
[[ -r $kernel ]] || { echo "not ok storage-crash - no readable /boot/vmlinuz-*"; exit 0; }
kver=${kernel##*/vmlinuz-}
if ! "$hv" plugins 2>/dev/null | awk '$2 == "device" { print $1 }' | grep -qx -- "$dev"; then
	echo "not ok storage-crash - no $dev plugin in this build (hv plugins)"
	exit 0
fi
t=$(mktemp -d "$root/build/storage-crash.XXXXXX")
pid=
trap 'kill -9 $pid 2>/dev/null; rm -rf "$t"' EXIT
case $dev in
virtio-scsi) kind=scsi driver=virtio_scsi devini="target0 = d" ;;
ide) kind=ata driver=ata_piix devini="primary_master = d" ;;
esac
printf 'KIND=%s\nDRIVER=%s\n' $kind $driver >"$t/crash.conf"
drv=$(grep -oE "^[^:]*/$driver\.ko:" "/lib/modules/$kver/modules.dep")
mods=(--module sd_mod)
[[ $kind == scsi ]] && mods+=(--module virtio_pci --module scsi_mod --module virtio_ring)
[[ $kind == ata ]] && mods+=(--module libata)
if ! err=$("$root/scripts/mkinitramfs.sh" "$t/initramfs.cpio.gz" --kver "$kver" "${mods[@]}" \
	--file "/lib/modules/$kver/${drv%:}:/lib/drivers/$driver.ko" --file "$t/crash.conf:/etc/crash.conf" \
	--run "$here/storage-crash-guest.sh" 2>&1); then
	echo "not ok storage-crash - mkinitramfs.sh: $err"
	exit 0
fi
qemu-img create -q -f vhdx -o block_size=1M "$t/d.vhdx" 256M
cat >"$t/vm.ini" <<INI
[vm]
name = storage-crash
memory = 256M
cpus = 1
accel = ${HV_CRASH_ACCEL:-emu}
kernel = $kernel
initrd = initramfs.cpio.gz
cmdline = console=ttyS0 panic=-1

[device com1]
plugin = uart16550
port = 0x3f8
irq = 4
console = serial

[console serial]
plugin = stdio

[disk d]
path = d.vhdx
format = vhdx

[device ctl0]
plugin = $dev
$devini
INI
cd "$t" || exit 0
start=$(date +%s)
"$hv" run vm.ini </dev/null >out 2>err &
pid=$!
acked() { tr -d '\r' <out | sed -n 's/^acked \([0-9]*\)$/\1/p' | tail -n 1; }
while kill -0 $pid 2>/dev/null && (($(date +%s) - start < limit)); do
	a=$(acked)
	((${a:-0} >= want)) && break
	grep -aq -e CRASH-NODISK -e CRASH-WRITE-FAILED out && break
	sleep 0.2
done
# a little later, at a point the guest chooses: mid-write, mid-flush
sleep 0.$((RANDOM % 10))
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
pid=
a=$(acked)
if ((${a:-0} < want)); then
	echo "not ok storage-crash-writes - ${a:-no} records acknowledged in $(($(date +%s) - start)) s, want $want: $(grep -a CRASH- out | tr -d '\r' | tr '\n' ' ')"
	tail -c 300 err | sed 's/^/# hv: /'
	tr -d '\r' <out | tail -n 8 | sed 's/^/#   /'
	exit 0
fi
echo "ok storage-crash-writes - hv killed (SIGKILL) after the guest's 'acked $a', $(($(date +%s) - start)) s in"
# records N (1..ACKED) read from a raw file: each 4 KiB at N MiB starts "HVREC N"
records() { # RAW -> the first missing record, or nothing
	local n got
	for ((n = 1; n <= a; n++)); do
		got=$(dd if="$1" bs=4096 skip=$((n * 256)) count=1 2>/dev/null | head -c 16 | tr -d '\0')
		[[ $got == "HVREC $n" ]] || { echo "$n ('$got')"; return; }
	done
}
cp d.vhdx q.vhdx
if ! out=$("$hv" img convert -f vhdx -O raw d.vhdx hv.raw 2>&1); then
	echo "not ok storage-crash-records-hv - hv img convert: $(tr '\n' ' ' <<<"$out")"
elif miss=$(records hv.raw) && [[ -n $miss ]]; then
	echo "not ok storage-crash-records-hv - acknowledged record $miss missing (hv's reading)"
else
	echo "ok storage-crash-records-hv - all $a acknowledged records are in the image (hv's reading)"
fi
qemu-img check -q -r all -f vhdx q.vhdx >qcheck 2>&1
if ! out=$(qemu-img convert -f vhdx -O raw q.vhdx q.raw 2>&1); then
	echo "not ok storage-crash-records-qemu - qemu-img convert: $(tr '\n' ' ' <<<"$out") (check: $(tr '\n' ' ' <qcheck))"
elif miss=$(records q.raw) && [[ -n $miss ]]; then
	echo "not ok storage-crash-records-qemu - acknowledged record $miss missing (qemu-img's reading)"
else
	echo "ok storage-crash-records-qemu - all $a acknowledged records are there in qemu-img's reading"
fi
# a log with unapplied updates is what a kill leaves; replaying it (what
# hv's next read-write open does too) must give a clean image
pre=$("$hv" img check -f vhdx d.vhdx 2>&1 | tail -n 1)
if ! out=$("$hv" img check -r -f vhdx d.vhdx 2>&1); then
	echo "not ok storage-crash-img-check - hv img check -r: $(tr '\n' ' ' <<<"$out")"
elif ! out=$("$hv" img check -f vhdx d.vhdx 2>&1); then
	echo "not ok storage-crash-img-check - after check -r: $(tr '\n' ' ' <<<"$out")"
elif ! out=$(qemu-img check -f vhdx d.vhdx 2>&1); then
	echo "not ok storage-crash-img-check - qemu-img check after hv's replay: $(tr '\n' ' ' <<<"$out")"
else
	echo "ok storage-crash-img-check - after the kill: '$pre'; after hv img check -r: clean for hv and qemu-img check"
fi
miss=$(records hv.raw)
"$hv" img convert -f vhdx -O raw d.vhdx hv2.raw >/dev/null 2>&1 && miss=$(records hv2.raw) && [[ -z $miss ]] &&
	echo "ok storage-crash-records-replayed - all $a records there after the replay" ||
	echo "not ok storage-crash-records-replayed - record ${miss:-?} missing after hv img check -r"
exit 0
