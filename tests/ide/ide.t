#!/bin/bash
# hv-test: timeout=400
# The PIIX3 IDE plugin from inside bare-metal guests (tests/ide/*.asm),
# on accel=emu and, where /dev/kvm is real KVM or kvm-pvm, accel=kvm:
#   ide-ata    ATA PIO, READ/WRITE MULTIPLE, LBA48 past 2^28 on a sparse
#              raw image, IDNF past the end, bus-master DMA and its faults
#   ide-atapi  the ATAPI CD-ROM: signature, IDENTIFY PACKET, TEST UNIT
#              READY, READ CAPACITY, READ(10) PIO and DMA of an ISO that
#              xorriso made, REQUEST SENSE after an LBA past the end
# The host then reads back with dd/cmp what the guest wrote.
set -u
b=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
hv=$root/$b/hv
export HV_PLUGIN_PATH=${HV_PLUGIN_PATH:-$root/$b/plugins}
case $HV_PLUGIN_PATH in /*) ;; *) HV_PLUGIN_PATH=$root/$HV_PLUGIN_PATH ;; esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hv-ide.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
NSEC=$(((1 << 28) + 2048))
HILBA=$(((1 << 28) + 1024))

accels=emu
if [ "$("$hv" accel --accel=kvm --name 2>/dev/null)" = kvm ]; then
	accels="emu kvm"
fi

# pattern BASE: the 512 bytes the guest's `pattern` writes (i * 3 + BASE)
pattern() {
	python3 -c "import sys; sys.stdout.buffer.write(bytes(($1 + 3 * i) & 255 for i in range(512)))"
}
sector() { dd if="$1" bs=512 skip="$2" count=1 status=none; }

# run NAME ACCEL INI-EXTRA: hv's exit status and serial output against the
# guest's; prints nothing and returns 0 when both match
run() {
	local name=$1 accel=$2 want
	{
		echo "[vm]"
		echo "name = $name"
		echo "memory = 64M"
		echo "accel = $accel"
		echo "kernel = $root/$b/tests/ide/$name.bin"
		echo "[device com1]"
		echo "plugin = uart16550"
		echo "console = out"
		echo "[console out]"
		echo "plugin = stdio"
		echo "input = off"
		echo "[device exit]"
		echo "plugin = debug-exit"
		cat "$tmp/extra.ini"
	} > "$tmp/vm.ini"
	timeout -s KILL 120 "$hv" run -q "$tmp/vm.ini" > "$tmp/out" 2> "$tmp/err" < /dev/null
	status=$?
	if [ "$status" != 0 ]; then
		why="exit status $status (the guest's failing step), serial '$(tr '\n' '|' < "$tmp/out")': $(head -c 300 "$tmp/err" | tr '\n' ' ')"
		return 1
	fi
	if ! cmp -s "$tmp/out" "$root/tests/ide/$name.expect"; then
		why="serial output differs: '$(tr '\n' '|' < "$tmp/out")'"
		return 1
	fi
	return 0
}

for accel in $accels; do
	# ---- ATA ----
	rm -f "$tmp/ata.raw"
	truncate -s $((NSEC * 512)) "$tmp/ata.raw"
	cat > "$tmp/extra.ini" <<INI
[disk d0]
path = $tmp/ata.raw
format = raw
serial = HV-D0
[device ide0]
plugin = ide
primary_master = d0
INI
	if run ide-ata "$accel"; then
		echo "ok ide-ata-guest ($accel)"
		fails=
		for s in "16 0x11" "17 0x12" "$HILBA 0x48" "32 0x21" "33 0x22"; do
			set -- $s
			cmp -s <(sector "$tmp/ata.raw" "$1") <(pattern "$2") || fails="$fails $1"
		done
		cmp -s <(sector "$tmp/ata.raw" 18) <(head -c 512 /dev/zero) || fails="$fails 18"
		cmp -s <(sector "$tmp/ata.raw" 34) <(head -c 512 /dev/zero) || fails="$fails 34"
		if [ -z "$fails" ]; then
			echo "ok ide-ata-image ($accel)"
		else
			echo "not ok ide-ata-image ($accel) - sectors differ from what the guest wrote:$fails"
		fi
	else
		echo "not ok ide-ata-guest ($accel) - $why"
	fi
	# ---- ATAPI ----
	rm -rf "$tmp/iso" "$tmp/cd.iso"
	mkdir -p "$tmp/iso"
	pattern 0x5a > "$tmp/iso/hello.bin"
	if ! xorriso -as mkisofs -quiet -V HVTEST -o "$tmp/cd.iso" "$tmp/iso" 2> "$tmp/xorriso.err"; then
		echo "not ok ide-atapi-guest ($accel) - xorriso: $(head -1 "$tmp/xorriso.err")"
		continue
	fi
	truncate -s $((2048 * 2048)) "$tmp/cd.iso"
	cp "$tmp/cd.iso" "$tmp/cd.orig"
	cat > "$tmp/extra.ini" <<INI
[disk cd]
path = $tmp/cd.iso
format = raw
media = cdrom
[device ide0]
plugin = ide
secondary_master = cd
INI
	if run ide-atapi "$accel"; then
		echo "ok ide-atapi-guest ($accel)"
		cmp -s "$tmp/cd.iso" "$tmp/cd.orig" && echo "ok ide-atapi-readonly ($accel)" ||
			echo "not ok ide-atapi-readonly ($accel) - the ISO changed"
	else
		echo "not ok ide-atapi-guest ($accel) - $why"
	fi
done
exit 0
