#!/usr/bin/env bash
# Storage benchmark (not part of make test): fio in a Linux guest through
# virtio-blk, virtio-scsi and IDE, under hv (accel=kvm) and, side by side,
# under Debian's QEMU with the same controller on the same image (a 256 MiB
# ramdisk in the nested VM of tests/nested; QEMU cache=none,aio=native, as
# hv opens it O_DIRECT with libaio), plus fio on the ramdisk itself (the
# "host" row). Sequential 1 MiB and random 4 KiB reads and writes at QD1
# and QD32, SECS seconds each (default 4). Prints IOPS, MB/s and the
# ratios hv/QEMU and hv/host per row; a run that failed prints FAILED.
# A subset: BENCH_CTLS=virtio-scsi,ide BENCH_JOBS="randread:4k:1 randread:4k:32"
# (jobs as RW:BS:QD, see fio-jobs.sh).
# usage: bench/storage/run.sh [SECS]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/nested/lib.sh"
secs=${1:-4}
kernel=$(nested_kernel)
kver=$(nested_kver "$kernel")
moddir=/lib/modules/$kver
payload=$root/build/nested/bench-storage.payload
command -v fio >/dev/null || { echo "bench/storage: fio missing (scripts/deps.sh)" >&2; exit 1; }
make -C "$root" -s all
rm -rf "$payload"
mkdir -p "$payload/plugins" "$payload/qemu-fw" "$payload/bin"
cp "$root/build/hv" "$payload/"
cp "$root"/build/plugins/*.so "$payload/plugins/"
cp "$kernel" "$payload/vmlinuz"
cp "$here/inside.sh" "$payload/run-inside.sh"
cp "$here/fio-jobs.sh" "$payload/"
jobconf=()
if [ -n "${BENCH_JOBS:-}${BENCH_DISKSTATS:-}" ]; then
	{
		[ -z "${BENCH_JOBS:-}" ] || printf 'FIO_JOBS="%s"\n' "$BENCH_JOBS"
		[ -z "${BENCH_DISKSTATS:-}" ] || echo FIO_DISKSTATS=1
	} >"$payload/fio-jobs.conf"
	jobconf=(--file "$payload/fio-jobs.conf:/etc/fio-jobs.conf")
fi
cp "$(command -v fio)" "$payload/bin/"
cp "$(command -v qemu-system-x86_64)" "$payload/"
cp /usr/share/seabios/bios-256k.bin "$payload/qemu-fw/"
for f in linuxboot_dma.bin kvmvapic.bin; do cp -L "/usr/share/qemu/$f" "$payload/qemu-fw/"; done
cp "$moddir/$(grep -oE '^[^:]*/brd\.ko' "$moddir/modules.dep")" "$payload/brd.ko"
drivers=()
for m in ata_piix virtio_scsi virtio_blk; do
	drivers+=(--file "$moddir/$(grep -oE "^[^:]*/$m\.ko" "$moddir/modules.dep"):/lib/drivers/$m.ko")
done
"$root/scripts/mkinitramfs.sh" "$payload/initramfs.cpio" --kver "$kver" \
	--module libata --module scsi_mod --module sd_mod --module virtio_pci --module virtio_ring \
	"${drivers[@]}" --file "$(command -v fio)" --file "$here/fio-jobs.sh:/etc/fio-jobs.sh" "${jobconf[@]}" \
	--run "$here/guest.sh"
# (plain cpio, 1 GiB guests: Debian's fio pulls in ~85 MB of libraries, too
# much to unpack from a gzip image in 256 MiB)
# hv's VM per controller, and QEMU's same controller
declare -A hvdev=([virtio-blk]=$'plugin = virtio-blk\ndisk = d'
	[virtio-scsi]=$'plugin = virtio-scsi\ntarget0 = d' [ide]=$'plugin = ide\nprimary_master = d')
declare -A qdev=([virtio-blk]="-device virtio-blk-pci,drive=d"
	[virtio-scsi]="-device virtio-scsi-pci,id=s -device scsi-hd,drive=d,bus=s.0"
	[ide]="-device ide-hd,drive=d,bus=ide.0")
for ctl in virtio-blk virtio-scsi ide; do
	cat >"$payload/vm-$ctl.ini" <<INI
[vm]
name = bench-storage
memory = 1G
cpus = 1
accel = kvm
kernel = /hv/vmlinuz
initrd = /hv/initramfs.cpio
cmdline = console=ttyS0 panic=-1 quiet

[device com1]
plugin = uart16550
port = 0x3f8
irq = 4
console = serial

[console serial]
plugin = stdio

[disk d]
path = /dev/ram0
format = raw

[device c0]
${hvdev[$ctl]}
INI
	echo "${qdev[$ctl]}" >"$payload/qemu-$ctl"
done
out=$root/build/nested/bench-storage.out
nested_run --payload "$payload" --mem 3G --timeout 1500 --name bench-storage -- "$secs" "${BENCH_CTLS:-virtio-blk,virtio-scsi,ide}" | tee "$out"
awk '
/^# (hv|qemu) [a-z-]*: no fio result/ { c = $3; sub(/:$/, "", c); ran[c] = 1 }
/^# row / {
	who = $3; ctl = $4; job = $5; key = ctl SUBSEP job; ran[ctl] = 1
	if ($6 == "FAILED" || $6 !~ /^iops=/) { v[who, key] = "FAILED"; next }
	split($6, a, "="); split($7, b, "=")
	v[who, key] = a[2] " " b[2]
	if (!(job in seen)) { seen[job] = 1; jobs[++nj] = job }
}
function num(s, i,    parts) { split(s, parts, " "); return parts[i] }
function cell(s, i) { return s == "" || s == "FAILED" ? "FAILED" : num(s, i) }
function ratio(x, y, i) {
	if (x == "" || y == "" || x == "FAILED" || y == "FAILED" || num(y, i) == 0) return "-"
	return sprintf("%.2f", num(x, i) / num(y, i))
}
END {
	printf "\n%-12s %-17s %9s %9s %9s %8s %8s %8s %8s %8s\n", "controller", "job", "hv IOPS",
		"qemu IOPS", "host IOPS", "hv MB/s", "qemu MB/s", "host MB/s", "hv/qemu", "hv/host"
	for (c = 1; c <= 3; c++) {
		ctl = c == 1 ? "virtio-blk" : c == 2 ? "virtio-scsi" : "ide"
		if (!(ctl in ran)) continue # not in BENCH_CTLS
		for (j = 1; j <= nj; j++) {
			job = jobs[j]; h = v["hv", ctl SUBSEP job]; q = v["qemu", ctl SUBSEP job]
			f = v["host", "file" SUBSEP job]
			printf "%-12s %-17s %9s %9s %9s %8s %8s %8s %8s %8s\n", ctl, job, cell(h, 1), cell(q, 1),
				cell(f, 1), cell(h, 2), cell(q, 2), cell(f, 2), ratio(h, q, 1), ratio(h, f, 1)
		}
	}
	print "(nested: L2 under KVM in a TCG-emulated L1; the image a 256 MiB brd ramdisk in L1;"
	print " fio libaio direct=1, " SECS " s a job; ratios of IOPS, higher is better for hv)"
}' SECS="$secs" "$out"
