# shellcheck shell=bash
# Shared by tests/linux/storage.t (accel=emu), storage-kvm.t (nested KVM),
# storage-crash.t and bench/storage (sourced, not run).
#
# stor_prepare DIR KVER [--run SCRIPT]: builds in DIR everything a storage
# boot needs, with paths relative to DIR (so DIR can move into the nested
# VM): the images (made by qemu-img, the differencing child by `hv img
# create`), the ISOs (xorriso), /pat.bin, storage.disks and storage.conf
# for the guest (tests/linux/storage-guest.sh, the default SCRIPT),
# images.list for storage-verify.sh, initramfs.cpio.gz with the modules of
# kernel KVER, devices.ini (hv's [disk]/[device] sections) and qemu.args
# (QEMU's same controllers on the same images, one word a line).
# Needs $STOR_HV (the hv binary; HV_PLUGIN_PATH set) and qemu-img, xorriso.
#
# A device whose plugin `hv plugins` does not list is left out of
# vm.ini.in (the other devices still boot); DIR/missing then names the
# plugin and its disks, and the tests report each as not ok.

STOR_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STOR_ROOT=$(cd "$STOR_HERE/../.." && pwd)

# The disks: NAME KIND ADDR FORMAT SIZE SERIAL TASK (see storage-guest.sh);
# FORMAT vhdx-diff is a child made by hv over a parent made by qemu-img.
STOR_DISKS=(
	"hd ata 1 vpc 32M HV-HD0 pattern"
	"dvd atapi 2 iso - - iso"
	"s0 scsi 0:0 raw 32M HV-S0 pattern"
	"s1 scsi 0:1 vhdx-diff 32M HV-S1 parent"
	"s2 scsi 1:0 vhdx 32M HV-S2 ext4"
	"cd2 scsi-cd 2:0 iso - - iso"
	"vb vblk - vhdx 32M HV-VB pattern"
)
# Loaded by /init; the controllers' drivers (STOR_DRIVERS) are loaded by
# the guest script, in the background (their dependencies are in here).
STOR_MODULES=(libata scsi_mod sd_mod sr_mod virtio_pci virtio_ring isofs ext4
	crc32c_generic crc64_rocksoft_generic)
STOR_DRIVERS=(ata_piix virtio_scsi virtio_blk)

stor_die() {
	echo "storage: $*" >&2
	return 1
}

# _stor_image NAME FORMAT SIZE: creates the image, prints FILE FMT BASE
_stor_image() {
	local name=$1 fmt=$2 size=$3 d=$4
	case $fmt in
	raw)
		truncate -s "$size" "$d/$name.raw" && echo "$name.raw raw zero" ;;
	vpc)
		qemu-img create -q -f vpc -o subformat=dynamic "$d/$name.vhd" "$size" &&
			echo "$name.vhd vpc zero" ;;
	vhdx)
		qemu-img create -q -f vhdx -o block_size=1M "$d/$name.vhdx" "$size" &&
			echo "$name.vhdx vhdx zero" ;;
	vhdx-diff)
		# the parent: 'Z' (0x5a) in the first 4 MiB, 0xa5 in the last MiB
		qemu-img create -q -f vhdx -o block_size=1M "$d/$name-parent.vhdx" "$size" &&
			qemu-io -f vhdx -c 'write -P 0x5a 0 4M' -c "write -P 0xa5 $(($(numfmt --from=iec "$size") - 1048576)) 1M" \
				"$d/$name-parent.vhdx" >/dev/null &&
			(cd "$d" && "$STOR_HV" img create -f vhdx -b "$name-parent.vhdx" "$name.vhdx" >/dev/null) &&
			echo "$name.vhdx vhdx-diff parent:$name-parent.vhdx:$(sha256sum <"$d/$name-parent.vhdx" | cut -d' ' -f1)" ;;
	iso)
		cp "$d/iso.img" "$d/$name.iso" && echo "$name.iso iso iso" ;;
	esac
}

_stor_bytes() { # FILE FMT: the guest-visible size in bytes
	case $2 in
	iso | raw) stat -c %s "$1" ;;
	vhdx-diff) "$STOR_HV" img info "$1" | sed -n 's/^virtual size: \([0-9]*\) bytes.*/\1/p' ;;
	*) qemu-img info -f "$2" --output=json "$1" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p' ;;
	esac
}

stor_prepare() {
	local d=$1 kver=$2 run=$STOR_HERE/storage-guest.sh line name kind addr fmt size serial task
	local file ifmt base bytes m extra=()
	[[ ${3:-} == --run ]] && run=$4
	for m in qemu-img qemu-io xorriso sha256sum; do
		command -v $m >/dev/null || stor_die "$m missing (scripts/deps.sh)" || return 1
	done
	mkdir -p "$d/iso"
	head -c 300000 /dev/urandom >"$d/iso/hello.bin"
	head -c 131072 /dev/urandom >"$d/pat.bin"
	xorriso -as mkisofs -quiet -R -J -V HVTEST -o "$d/iso.img" "$d/iso" 2>/dev/null ||
		stor_die "xorriso failed" || return 1
	{
		echo "PAT_SHA=$(sha256sum <"$d/pat.bin" | cut -d' ' -f1)"
		echo "HELLO_SHA=$(sha256sum <"$d/iso/hello.bin" | cut -d' ' -f1)"
		echo "ISO_SHA=$(sha256sum <"$d/iso.img" | cut -d' ' -f1)"
	} >"$d/storage.conf"
	: >"$d/storage.disks"
	: >"$d/images.list"
	: >"$d/devices.ini"
	: >"$d/qemu.args"
	for line in "${STOR_DISKS[@]}"; do
		read -r name kind addr fmt size serial task <<<"$line"
		read -r file ifmt base < <(_stor_image "$name" "$fmt" "$size" "$d") ||
			stor_die "cannot make $name ($fmt)" || return 1
		[[ -n $file ]] || { stor_die "cannot make $name ($fmt)"; return 1; }
		bytes=$(_stor_bytes "$d/$file" "$ifmt")
		echo "$name $kind $addr $bytes $serial $task" >>"$d/storage.disks"
		echo "$name $file $ifmt $bytes $task $base" >>"$d/images.list"
		_stor_ini_disk "$name" "$file" "$ifmt" "$kind" "$serial" >>"$d/devices.ini"
		_stor_qemu_disk "$name" "$file" "$ifmt" "$kind" "$addr" "$serial" "$d" >>"$d/qemu.args"
	done
	_stor_ini_devices "$d" >>"$d/devices.ini"
	stor_vm_ini "$d" @ACCEL@ @MEMORY@ @KERNEL@ >"$d/vm.ini.in"
	# the guest's tools, with their libraries (mkinitramfs.sh --file runs ldd)
	# (mkfs.ext4 and fsck.ext4 are symlinks: the binaries go in under their names)
	for m in mkfs.ext4 fsck.ext4; do extra+=(--file "$(readlink -f "$(command -v $m)"):/usr/sbin/$m"); done
	extra+=(--file /etc/mke2fs.conf)
	if command -v sg_inq >/dev/null; then
		echo SG=1 >>"$d/storage.conf"
		for m in sg_inq sg_readcap sg_luns; do extra+=(--file "$(command -v $m)"); done
	fi
	if command -v hdparm >/dev/null; then
		echo HDPARM=1 >>"$d/storage.conf"
		extra+=(--file "$(command -v hdparm)")
	fi
	for m in "${STOR_MODULES[@]}"; do
		grep -qE "(^|/)${m//_/[-_]}\.ko" "/lib/modules/$kver/modules.dep" && extra+=(--module "$m")
	done
	for m in "${STOR_DRIVERS[@]}"; do
		m=$(grep -oE "^[^:]*/$m\.ko:" "/lib/modules/$kver/modules.dep") ||
			stor_die "no $m in /lib/modules/$kver" || return 1
		extra+=(--file "/lib/modules/$kver/${m%:}:/lib/drivers/$(basename "${m%:}")")
	done
	echo "DRIVERS='${STOR_DRIVERS[*]}'" >>"$d/storage.conf"
	echo "DISK_SECS=${STOR_DISK_SECS:-300}" >>"$d/storage.conf"
	"$STOR_ROOT/scripts/mkinitramfs.sh" "$d/initramfs.cpio.gz" --kver "$kver" "${extra[@]}" \
		--file "$d/storage.disks:/etc/storage.disks" --file "$d/storage.conf:/etc/storage.conf" \
		--file "$d/pat.bin:/pat.bin" --run "$run"
}

_stor_ini_disk() { # NAME FILE FMT KIND SERIAL
	echo "[disk $1]"
	echo "path = $2"
	case $3 in
	iso) echo "format = raw"; echo "media = cdrom" ;;
	vpc) echo "format = vhd" ;;
	vhdx-diff) echo "format = vhdx" ;;
	*) echo "format = $3" ;;
	esac
	[[ $5 == - ]] || echo "serial = $5"
	echo
}

stor_plugin_of() { # KIND: the hv plugin that serves it
	case $1 in
	ata | atapi) echo ide ;;
	scsi | scsi-cd) echo virtio-scsi ;;
	vblk) echo virtio-blk ;;
	esac
}

_stor_ini_devices() { # DIR
	local line name kind addr rest t l p have
	local -A keys=() disks=()
	have=$("$STOR_HV" plugins 2>/dev/null | awk '$2 == "device" { print $1 }')
	: >"$1/missing"
	for line in "${STOR_DISKS[@]}"; do
		read -r name kind addr rest <<<"$line"
		p=$(stor_plugin_of "$kind")
		disks[$p]+=" $name"
		case $kind in
		ata | atapi)
			case $addr in 1) keys[$p]+="primary_master = $name"$'\n' ;; 2) keys[$p]+="secondary_master = $name"$'\n' ;; esac ;;
		scsi | scsi-cd)
			t=${addr%:*} l=${addr#*:}
			if ((l == 0)); then keys[$p]+="target$t = $name"$'\n'; else keys[$p]+="target$t.lun$l = $name"$'\n'; fi ;;
		vblk) keys[$p]+="disk = $name"$'\n' ;;
		esac
	done
	for p in ide virtio-scsi virtio-blk; do
		if ! grep -qx -- "$p" <<<"$have"; then
			echo "$p${disks[$p]}" >>"$1/missing"
			continue
		fi
		printf '[device %s0]\nplugin = %s\n%s\n' "${p//-/}" "$p" "${keys[$p]}"
	done
}

# QEMU's peer of each disk; QEMU cannot open a differencing VHDX, so its
# s1 is a qcow2 overlay over the same parent (the guest sees the same bytes)
_stor_qemu_disk() { # NAME FILE FMT KIND ADDR SERIAL DIR
	local name=$1 file=$2 fmt=$3 opts dev
	case $fmt in
	iso) opts="format=raw,media=cdrom,readonly=on" ;;
	vhdx-diff)
		qemu-img create -q -f qcow2 -b "$name-parent.vhdx" -F vhdx "$7/$name.qemu.qcow2"
		file=$name.qemu.qcow2
		opts="format=qcow2" ;;
	*) opts="format=$fmt" ;;
	esac
	echo "-drive"
	echo "if=none,id=$name,file=$file,$opts,cache=none,aio=native"
	case $4 in
	ata) dev="ide-hd,bus=ide.$(($5 - 1)),unit=0" ;;
	atapi) dev="ide-cd,bus=ide.$(($5 - 1)),unit=0" ;;
	scsi) dev="scsi-hd,bus=scsi0.0,scsi-id=${5%:*},lun=${5#*:}" ;;
	scsi-cd) dev="scsi-cd,bus=scsi0.0,scsi-id=${5%:*},lun=${5#*:}" ;;
	vblk) dev="virtio-blk-pci" ;;
	esac
	[[ $6 == - ]] || dev+=",serial=$6"
	echo "-device"
	echo "$dev,drive=$name"
}

stor_vm_ini() { # DIR ACCEL MEMORY KERNEL
	cat <<INI
[vm]
name = storage
memory = $3
cpus = 1
accel = $2
kernel = $4
initrd = initramfs.cpio.gz
cmdline = console=ttyS0 panic=-1

[device com1]
plugin = uart16550
port = 0x3f8
irq = 4
console = serial

[console serial]
plugin = stdio

INI
	cat "$1/devices.ini"
}

# stor_qemu DIR KERNEL ACCEL [QEMU-ARGS...]: runs QEMU's same controllers
# on DIR's images with DIR's initramfs (console on stdout); from DIR.
stor_qemu() {
	local d=$1 kernel=$2 accel=$3 args=()
	shift 3
	mapfile -t args <"$d/qemu.args"
	(cd "$d" && "${STOR_QEMU:-qemu-system-x86_64}" -nodefaults -M pc -accel "$accel" -m 256 -smp 1 \
		-kernel "$kernel" -initrd initramfs.cpio.gz -append 'console=ttyS0 panic=-1' \
		-nographic -no-reboot -serial stdio -monitor none \
		-device virtio-scsi-pci,id=scsi0 "${args[@]}" "$@")
}
