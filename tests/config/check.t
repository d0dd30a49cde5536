# hv-test: timeout=600
# `hv check` refuses exactly what `hv run` refuses at start-up, with the same
# single stderr line, and writes nothing; what check accepts, run boots.
# In build-san every refusal is also a leak test: LeakSanitizer's report
# would be more stderr than the one line.
set -u
b=${BUILD:-build}
hv=${HV:-$b/hv}
guest=$(realpath "$b/guests/exit42.bin")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hv-check.XXXXXX")
# the immutable image lives in the build tree: tmpfs has no immutable files
rodir=$(realpath "$(mktemp -d "$b/check-ro.XXXXXX")")
trap 'chattr -i "$rodir"/* 2> /dev/null; rm -rf "$tmp" "$rodir"' EXIT
mkdir "$tmp/fixtures"
cp "$b/fixtures/disk_user.so" "$tmp/fixtures/" # attaches the [disk] named by disk=
"$hv" img create -f vhdx "$tmp/d.vhdx" 16M > /dev/null
printf 'not a disk image\n' > "$tmp/text.img"

vm() { # vm [EXTRA VM KEYS]: a [vm] section booting exit42 on the interpreter
	printf '[vm]\nmemory = 64M\naccel = emu\nkernel = %s\n%s' "$guest" "${1:-}"
}
dev() { # dev NAME PLUGIN [KEY=VALUE]...: a [device] section
	local name=$1 plugin=$2
	shift 2
	printf '[device %s]\nplugin = %s\n' "$name" "$plugin"
	for kv in "$@"; do printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"; done
}
con() { # con NAME PLUGIN [KEY=VALUE]...: a [console] section
	local name=$1 plugin=$2
	shift 2
	printf '[console %s]\nplugin = %s\n' "$name" "$plugin"
	for kv in "$@"; do printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"; done
}
exitdev() { dev exit debug-exit; }

# ---- bad configs: "NAME AT" then the INI on stdin. AT=at: the line must
# start with "FILE:LINE: [" (a place in the config); AT=any: some one line.
bad() {
	local name=$1 at=$2 f=$tmp/$1.ini cerr rerr crc rrc
	cat > "$f"
	"$hv" check "$f" > /dev/null 2> "$tmp/c.err" < /dev/null
	crc=$?
	timeout -s KILL 30 "$hv" run --accel=emu "$f" > /dev/null 2> "$tmp/r.err" < /dev/null
	rrc=$?
	cerr=$(cat "$tmp/c.err") rerr=$(cat "$tmp/r.err")
	if [ "$crc" = 0 ] || [ "$rrc" = 0 ]; then
		echo "not ok check-bad-$name - check exit $crc, run exit $rrc: $(tr '\n' '|' <<< "$cerr$rerr" | head -c 300)"
	elif [ "$(wc -l < "$tmp/c.err")" != 1 ] || [ "$(wc -l < "$tmp/r.err")" != 1 ]; then
		echo "not ok check-bad-$name - not one line: check '$(tr '\n' '|' <<< "$cerr" | head -c 300)' run '$(tr '\n' '|' <<< "$rerr" | head -c 300)'"
	elif [ "$cerr" != "$rerr" ]; then
		echo "not ok check-bad-$name - check said '$cerr', run said '$rerr'"
	elif [ "$at" = at ] && ! grep -q "^$f:[0-9]*: \[" <<< "$cerr"; then
		echo "not ok check-bad-$name - no file:line: [section]: '$cerr'"
	else
		echo "ok check-bad-$name"
	fi
}

{ vm; dev a uart16550 port=0x3f8 console=log; con log logfile "path=$tmp/overlap.log"
  dev b uart16550 port=0x3fc; } | bad port-overlap at
{ vm; dev a uart16550; dev b debug-exit port=0x3fa; } | bad port-overlap-debug-exit at
{ vm; dev a uart16550 port=0xcf8; } | bad port-pci-config at
{ vm; dev a uart16550 port=0x600; } | bad port-acpi-pm at
{ vm; dev a uart16550 port=0x60; } | bad port-i8042 at
{ vm; dev a uart16550 port=0x40; } | bad port-emu-pit at
{ vm; dev a debug-exit port=0xfffe; } | bad port-past-end at
{ vm; dev a uart16550 console=c; dev b uart16550 port=0x2f8 console=c
  con c stdio input=off; } | bad console-shared at
{ vm; dev a uart16550 console=nope; } | bad console-missing at
{ vm; dev a pci-testdev pci_slot=3; dev b pci-testdev pci_slot=3; } | bad pci-slot-clash at
{ vm; dev a pci-testdev pci_slot=0; } | bad pci-slot-zero at
{ vm; dev a uart16550 pci_slot=3; } | bad pci-slot-not-pci at
{ vm "machine = none
"; dev a pci-testdev; } | bad pci-needs-pc at
{ vm; for i in $(seq 32); do dev "t$i" pci-testdev msix_vectors=0; done; } | bad pci-slots-full at
{ vm; dev a pci-testdev msi_vectors=3; } | bad msi-vectors-3 at
{ vm; dev a pci-testdev msi_vectors=33; } | bad msi-vectors-33 at
{ vm; dev a pci-testdev msix_vectors=2049; } | bad msix-vectors-2049 at
{ vm; dev a pci-testdev bar2_size=12K; } | bad bar-not-power-of-two at
{ vm; dev a uart16550 console=c; con c socket path=/nonexistent-hv-dir/x.sock; } | bad socket-missing-dir at
{ vm; dev a uart16550 console=c; con c socket "path=$tmp"; } | bad socket-is-dir at
{ vm; dev a uart16550 console=c; con c logfile path=/nonexistent-hv-dir/x.log; } | bad logfile-missing-dir at
{ vm; dev a uart16550 console=c; con c logfile "path=$guest/x.log"; } | bad logfile-dir-is-file at
{ vm; dev a no-such-plugin; } | bad unknown-plugin at
{ vm; dev a uart16550 speed=9600; } | bad unknown-key at
{ vm; dev rtc uart16550; } | bad implicit-name-taken at
# storage controllers (issue 10): each refusal is one line before the guest runs
"$hv" img create -f vhdx "$tmp/e.vhdx" 16M > /dev/null
"$hv" img create -f raw "$tmp/f.raw" 16M > /dev/null
disks() { printf '[disk d]\npath = %s\n[disk e]\npath = %s\n[disk f]\npath = %s\n' "$tmp/d.vhdx" "$tmp/e.vhdx" "$tmp/f.raw"; }
{ vm; disks; printf '[device ide0]\nplugin = ide\nprimary_master = d\nprimary_master = e\n'; } | bad ide-position-twice at
{ vm; disks; dev ide0 ide primary_master=d; dev ide1 ide primary_master=e; } | bad ide-two-controllers at
{ vm; disks; dev ide0 ide primary_master=d primary_slave=d; } | bad ide-disk-twice at
{ vm; disks; dev ide0 ide tertiary_master=d; } | bad ide-unknown-key at
{ vm; disks; dev s virtio-scsi target0.lun300=d; } | bad scsi-lun-out-of-range at
{ vm; disks; dev s virtio-scsi target255=d; } | bad scsi-target-out-of-range at
{ vm; disks; dev s virtio-scsi target0=d target0.lun0=e; } | bad scsi-lun0-twice at
{ vm; disks; dev s virtio-scsi target0=d; dev b virtio-blk disk=d; } | bad disk-on-two-controllers at
{ vm; disks; dev s virtio-scsi target0=nosuch; } | bad scsi-disk-missing at
{ vm; disks; dev b virtio-blk; } | bad blk-disk-required at
{ vm; disks; dev b virtio-blk disk=e queue_size=100; } | bad blk-queue-size-not-power-of-two at
{ vm "cpus = 65
"; } | bad cpus-65 at
{ vm "cpu = pentium
"; } | bad cpu-model-unknown at
{ vm "cpu = qemu64,+sse9
"; } | bad cpu-feature-unknown at
{ vm "cpu = qemu64,popcnt
"; } | bad cpu-feature-no-sign at
{ vm "load_addr = 0x10000000
"; } | bad kernel-outside-ram any
{ printf '[vm]\nmemory = 64M\naccel = emu\nkernel = /etc/hostname\nkernel_format = multiboot\n'; } | bad kernel-not-multiboot any
{ printf '[vm]\nmemory = 64M\naccel = emu\nkernel = %s\nkernel_format = pvh\n' "$guest"; } | bad kernel-not-pvh any
{ vm "initrd = $guest
"; } | bad initrd-on-flat any
{ vm "plugin_path = $tmp/fixtures
"; printf '[disk d]\npath = %s\nformat = vhdx\n' "$tmp/text.img"; dev u disk-user disk=d; } | bad disk-not-vhdx at
{ vm "plugin_path = $tmp/fixtures
"; printf '[disk d]\npath = %s\n' "$tmp/d.vhdx"; dev u disk-user disk=d; dev v disk-user disk=d; } | bad disk-attached-twice at
{ vm "plugin_path = $tmp/fixtures
"; dev u disk-user disk=nope; } | bad disk-missing-section at

# a +feature the interpreter lacks: check cannot know the backend and
# accepts it; run refuses it with one line naming the [vm] cpu line
{ vm "cpu = host,+avx512f
"; exitdev; } > "$tmp/cpu-plus.ini"
cerr=$(timeout -s KILL 30 "$hv" run "$tmp/cpu-plus.ini" 2>&1 > /dev/null < /dev/null)
rrc=$?
if [ "$rrc" != 0 ] && [ "$(wc -l <<< "$cerr")" = 1 ] &&
	grep -q "$tmp/cpu-plus.ini:5: \[vm\]: cpu = host,+avx512f: accel=emu does not offer 'avx512f'" <<< "$cerr"; then
	echo "ok run-cpu-feature-not-offered"
else
	echo "not ok run-cpu-feature-not-offered - exit $rrc: $(tr '\n' '|' <<< "$cerr" | head -c 300)"
fi

# check wrote nothing: the first device's log file of port-overlap exists
# only because run started that console before the second device failed
[ -f "$tmp/overlap.log" ] && echo "ok check-bad-run-released-started-console" ||
	echo "not ok check-bad-run-released-started-console - run did not start the first console"

# ---- good configs: check accepts them without a word on stderr and creates
# no file; run boots exit42 on them and ends with its status.
good() {
	local name=$1 f=$tmp/$1.ini crc rrc
	cat > "$f"
	rm -f "$tmp/made"*
	"$hv" check "$f" > "$tmp/c.out" 2> "$tmp/c.err" < /dev/null
	crc=$?
	if [ "$crc" != 0 ] || [ -s "$tmp/c.err" ] || ! grep -q '^\[vm\]$' "$tmp/c.out"; then
		echo "not ok check-good-$name - check exit $crc: $(head -c 300 "$tmp/c.err" | tr '\n' '|')"
		return
	fi
	if ls "$tmp"/made* > /dev/null 2>&1; then
		echo "not ok check-good-$name - check created $(ls "$tmp"/made*)"
		return
	fi
	timeout -s KILL 60 "$hv" run -q --accel=emu "$f" > /dev/null 2> "$tmp/r.err" < /dev/null
	rrc=$?
	if [ "$rrc" != 42 ] || [ -s "$tmp/r.err" ]; then
		echo "not ok check-good-$name - run exit $rrc, expected 42: $(head -c 300 "$tmp/r.err" | tr '\n' '|')"
	else
		echo "ok check-good-$name"
	fi
}

{ vm; exitdev; } | good exit42
# the README's controllers example: IDE disk and DVD, virtio-scsi LUNs, virtio-blk
xorriso -as mkisofs -quiet -o "$tmp/cd.iso" "$guest" 2> /dev/null
{ vm; disks; printf '[disk cd]\npath = %s\nformat = raw\nmedia = cdrom\n' "$tmp/cd.iso"
  "$hv" img create -f vhd "$tmp/g.vhd" 16M > /dev/null; printf '[disk g]\npath = %s\n' "$tmp/g.vhd"
  dev ide0 ide primary_master=d secondary_master=cd; dev s virtio-scsi target0=e target0.lun1=g
  dev b virtio-blk disk=f; exitdev; } | good storage-controllers
# the README's networking example (one NIC per kind of switch): hv check
# takes it as written, less the boot lines and host names only a real
# machine has (booting it would make a tap in this namespace: net.t does)
readme=$(dirname "$0")/../../README.md
ex=$(awk '/^## Networking: virtual switches/ { sec = 1 }
	sec && /^```$/ && ini { exit } ini { print } sec && /^```ini$/ { ini = 1 }' "$readme")
f=$tmp/readme-net.ini
{ vm; sed -e '/^\[vm\]$/,/^$/d' -e "s|/run/hv/|$tmp/|" -e 's|= enp3s0|= lo|' <<< "$ex"
  exitdev; } > "$f"
if [ "$(grep -c '^plugin = switch' "$f")" != 3 ]; then
	echo "not ok check-readme-networking - the example was not found in README.md"
elif "$hv" check "$f" > /dev/null 2> "$tmp/c.err" < /dev/null && ! [ -s "$tmp/c.err" ] &&
	! ls "$tmp"/*.sock > /dev/null 2>&1; then
	echo "ok check-readme-networking"
else
	echo "not ok check-readme-networking - $(head -c 300 "$tmp/c.err" | tr '\n' '|')"
fi
{ vm "cpu = qemu64,+popcnt,-nx
"; exitdev; } | good cpu-model-features
{ vm "machine = none
"; exitdev; } | good machine-none
{ vm; dev com1 uart16550 console=log; con log logfile "path=$tmp/made.log"; exitdev; } | good logfile-console
{ vm; dev com1 uart16550 console=s; con s socket "path=$tmp/made.sock"; exitdev; } | good socket-console
{ vm; dev com1 uart16550 port=0x3f8 console=c1; dev com2 uart16550 port=0x2f8 console=c2
  con c1 stdio input=off; con c2 logfile "path=$tmp/made2.log"; exitdev; } | good two-uarts
{ vm; dev a pci-testdev pci_slot=3 msi_vectors=4; dev b pci-testdev pci_slot=4 msi_vectors=32 msix_vectors=2048
  dev c pci-testdev; exitdev; } | good pci-slots
{ vm "cpus = 4
"; exitdev; } | good four-cpus
sum=$(sha256sum < "$tmp/d.vhdx")
{ vm "plugin_path = $tmp/fixtures
"; printf '[disk d]\npath = %s\n' "$tmp/d.vhdx"; dev u disk-user disk=d; exitdev; } | good vhdx-disk
[ "$(sha256sum < "$tmp/d.vhdx")" = "$sum" ] && echo "ok check-good-vhdx-disk-unchanged" ||
	echo "not ok check-good-vhdx-disk-unchanged - the image changed"

# ---- refused by run only: what takes the host to find out. check starts no
# console backend, so a file (not a socket) at a socket's path is run's to
# find; run still says it in one line and gives back what it took.
f=$tmp/socket-on-file.ini
: > "$tmp/file"
{ vm; dev a uart16550 console=c; con c socket "path=$tmp/file"; exitdev; } > "$f"
"$hv" check "$f" > /dev/null 2>&1 < /dev/null
crc=$?
timeout -s KILL 30 "$hv" run "$f" > /dev/null 2> "$tmp/r.err" < /dev/null
rrc=$?
if [ "$crc" = 0 ] && [ "$rrc" = 1 ] && [ "$(wc -l < "$tmp/r.err")" = 1 ] &&
	grep -q "^$f:[0-9]*: \[console c\]: $tmp/file: Address already in use$" "$tmp/r.err" &&
	[ -f "$tmp/file" ] && [ ! -S "$tmp/file" ]; then
	echo "ok check-run-only-socket-on-file"
else
	echo "not ok check-run-only-socket-on-file - check $crc, run $rrc: $(head -c 400 "$tmp/r.err" | tr '\n' '|')"
fi

# check opens a disk read-only, run read-write: an immutable image passes
# check, and run's refusal is one line about the disk
cp "$tmp/d.vhdx" "$rodir/ro.vhdx"
f=$tmp/immutable-disk.ini
{ vm "plugin_path = $tmp/fixtures
"; printf '[disk d]\npath = %s\n' "$rodir/ro.vhdx"; dev u disk-user disk=d; exitdev; } > "$f"
if ! chattr +i "$rodir/ro.vhdx"; then
	echo "not ok check-run-only-immutable-disk - chattr +i failed: $rodir has no immutable files"
else
	"$hv" check "$f" > /dev/null 2> "$tmp/c.err" < /dev/null
	crc=$?
	timeout -s KILL 30 "$hv" run "$f" > /dev/null 2> "$tmp/r.err" < /dev/null
	rrc=$?
	if [ "$crc" = 0 ] && [ ! -s "$tmp/c.err" ] && [ "$rrc" = 1 ] &&
		[ "$(wc -l < "$tmp/r.err")" = 1 ] &&
		grep -q "^$f:[0-9]*: \[disk d\]: $rodir/ro.vhdx: Operation not permitted$" "$tmp/r.err"; then
		echo "ok check-run-only-immutable-disk"
	else
		echo "not ok check-run-only-immutable-disk - check $crc, run $rrc: $(head -c 400 "$tmp/c.err" "$tmp/r.err" | tr '\n' '|')"
	fi
fi
