#!/bin/bash
# hv-test: timeout=200
# Multiboot modules and the info structure's placement (issue 14, item 5):
# tests/guests/multiboot-mods.asm, loaded at 0x8000-0x10000 with two
# modules of random bytes and command lines, must find the info, memory
# map, module list, strings and modules outside its image and each other,
# and print each module's length, FNV-1a hash and string as this script
# computes them from the files it wrote; on emu and this host's /dev/kvm
# (run-guest.sh, and so nested KVM, runs the same guest on `seq` files).
# The second module is too big for the RAM between the image and 640 KiB,
# so it must go above 1 MiB. QEMU's own Multiboot loader (-kernel with
# -initrd "mod args,...") must print the same for the guest assembled at
# 1 MiB (QEMU keeps its info at 0x9000, inside the low guest). With its
# bss up to 0x9f800, the info must go above the modules; built as an ELF
# kernel (no a.out kludge), hv and QEMU must agree too. Then the
# bad input: one line naming vm.ini:LINE from hv check and hv run alike.
set -u
b=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
hv=$root/$b/hv
export HV_PLUGIN_PATH=${HV_PLUGIN_PATH:-$root/$b/plugins}
case $HV_PLUGIN_PATH in /*) ;; *) HV_PLUGIN_PATH=$root/$HV_PLUGIN_PATH ;; esac
bin=$root/$b/guests/multiboot-mods.bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -f "$bin" ]; then
	echo "not ok multiboot-mods - $bin is not built"
	exit 0
fi
cd "$tmp" || exit 1
head -c $((3000 + RANDOM % 1000)) /dev/urandom > m0
head -c $((600000 + RANDOM % 4096)) /dev/urandom > m1
str0="m0 first module"
str1="m1 root=/dev/null  two  spaces"
expect() { # the guest's lines for the files as written
	python3 - "$str0" "$str1" <<'PY'
import sys
for s in sys.argv[1:]:
    data = open(s.split()[0], "rb").read()
    h = 0x811c9dc5
    for c in data:
        h = ((h ^ c) * 0x01000193) & 0xffffffff
    print("module len=%08x fnv=%08x string='%s'" % (len(data), h, s))
print("multiboot-mods: layout ok")
PY
}
expect > want
vm_ini() { # KERNEL ACCEL [extra [vm] lines...]
	local k=$1 a=$2
	shift 2
	printf '%s\n' "[vm]" "memory = 64M" "accel = $a" "kernel = $k" \
		"cmdline = multiboot modules" "$@" \
		"[device com1]" "plugin = uart16550" "console = out" \
		"[console out]" "plugin = stdio" "input = off" \
		"[device exit]" "plugin = debug-exit"
}
# run NAME INI [WHERE]: the guest's output against want; WHERE, a shell
# arithmetic test on info (where hv -v says it put the info), m1lo and
# m1hi (module1's range), must hold
run() {
	local out rc info m1lo m1hi
	out=$(timeout -s KILL 60 "$hv" run -v "$2" 2> err < /dev/null)
	rc=$?
	info=$(sed -n 's/.*multiboot: info at \(0x[0-9a-f]*\)-.*/\1/p' err)
	m1lo=$(sed -n 's/.*multiboot: module1 at \(0x[0-9a-f]*\)-.*/\1/p' err)
	m1hi=$(sed -n 's/.*multiboot: module1 at 0x[0-9a-f]*-\(0x[0-9a-f]*\)$/\1/p' err)
	if [ -n "${3:-}" ] && ! { [ -n "$info" ] && [ -n "$m1hi" ] && (($3)); }; then
		echo "not ok $1 - the info at '$info', module1 at '$m1lo-$m1hi': not $3"
	elif [ $rc = 0 ] && [ "$out" = "$(cat want)" ]; then
		echo "ok $1${3:+ - info at $info, module1 at $m1lo-$m1hi}"
	else
		echo "not ok $1 - exit $rc, output '$(tr '\n' '|' <<< "$out")' want '$(tr '\n' '|' < want)' $(head -c 300 err | tr '\n' ' ')"
	fi
}
accels=emu
[ "$("$hv" accel --accel=kvm --name 2>/dev/null)" = kvm ] && accels="emu kvm"
for a in $accels; do
	vm_ini "$bin" "$a" "module0 = $str0" "module1 = $str1" > vm.ini
	run "multiboot-mods-low ($a)" vm.ini 'info < 0xa0000 && m1lo >= 0x100000'
done

# a bss up to 0x9f800: no room below 640 KiB, the info above the modules
if nasm -f bin -DBSS_END=0x9f800 -I"$root/tests/guests/include/" \
	-o fill.bin "$root/tests/guests/multiboot-mods.asm" 2> err; then
	for a in $accels; do
		vm_ini fill.bin "$a" "module0 = $str0" "module1 = $str1" > fill.ini
		run "multiboot-mods-low-full ($a)" fill.ini 'info >= m1hi'
	done
else
	echo "not ok multiboot-mods-low-full - nasm: $(head -c 200 err)"
fi

# qemu NAME KERNEL: QEMU's Multiboot loader must give it the same
qemu() {
	local out rc
	if ! command -v qemu-system-x86_64 > /dev/null; then
		echo "not ok $1 - no qemu-system-x86_64 (scripts/deps.sh installs qemu-system-x86)"
		return
	fi
	out=$(timeout -s KILL 120 qemu-system-x86_64 -accel tcg -m 64M \
		-nodefaults -display none -monitor none -serial stdio \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$2" \
		-append "multiboot modules" -initrd "$str0,$str1" \
		< /dev/null 2> err)
	rc=$? # isa-debug-exit: (status << 1) | 1
	if [ $rc = 1 ] && [ "$out" = "$(cat want)" ]; then
		echo "ok $1 - QEMU's loader gives the guest the same"
	else
		echo "not ok $1 - exit $rc, output '$(tr '\n' '|' <<< "$out")' $(head -c 200 err | tr '\n' ' ')"
	fi
}

# an ELF kernel (program headers, a real bss) at 2 MiB, on hv and QEMU
if nasm -f elf32 -DELF -I"$root/tests/guests/include/" -o elf.o \
	"$root/tests/guests/multiboot-mods.asm" 2> err &&
	ld -m elf_i386 -Ttext=0x200000 -e start -o elf.elf elf.o 2> err; then
	for a in $accels; do
		vm_ini elf.elf "$a" "module0 = $str0" "module1 = $str1" > elf.ini
		run "multiboot-mods-elf ($a)" elf.ini 'm1lo >= 0x200000'
	done
	qemu multiboot-mods-elf-qemu elf.elf
else
	echo "not ok multiboot-mods-elf - nasm/ld: $(head -c 200 err)"
fi

# the same source at 1 MiB, through hv and through QEMU's loader
if nasm -f bin -DLOAD=0x100000 -I"$root/tests/guests/include/" \
	-o high.bin "$root/tests/guests/multiboot-mods.asm" 2> err; then
	vm_ini high.bin emu "module0 = $str0" "module1 = $str1" > high.ini
	run "multiboot-mods-high (emu)" high.ini
	qemu multiboot-mods-qemu high.bin
else
	echo "not ok multiboot-mods-high - nasm: $(head -c 200 err)"
fi

# [kernel=K] bad NAME REGEX [vm] LINES...: hv check and hv run refuse it,
# one line each
bad() {
	local name=$1 re=$2 cmd e1 e2
	shift 2
	vm_ini "${kernel:-$bin}" emu "$@" > bad.ini
	for cmd in check run; do
		timeout -s KILL 30 "$hv" $cmd bad.ini > /dev/null 2> "err.$cmd" < /dev/null
		if [ $? = 0 ]; then
			echo "not ok multiboot-bad-$name ($cmd) - accepted"
			return
		fi
	done
	e1=$(cat err.check) e2=$(cat err.run)
	if [ "$(wc -l < err.check)" != 1 ] || ! grep -qE -- "$re" err.check; then
		echo "not ok multiboot-bad-$name - hv check said '$e1', want one line matching '$re'"
	elif [ "$e1" != "$e2" ]; then
		echo "not ok multiboot-bad-$name - hv check said '$e1', hv run '$e2'"
	else
		echo "ok multiboot-bad-$name - $e1"
	fi
}
ini=bad.ini
bad missing "^$ini:7: \[vm\]: module1 = nosuch arg: No such file or directory$" \
	"module0 = m0" "module1 = nosuch arg"
mkdir adir
bad directory "^$ini:6: \[vm\]: module0 = adir: a directory, not a file hv can boot from$" \
	"module0 = adir"
: > empty
bad empty "^$ini:6: \[vm\]: module0 = empty x: the file is empty$" "module0 = empty x"
truncate -s 70M huge
bad too-large "^$ini:7: \[vm\]: module1 = huge: [0-9]+ bytes do not fit in guest RAM" \
	"module0 = m0" "module1 = huge"
bad flat-kernel "^$ini:7: \[vm\]: module0: modules need a multiboot kernel \(kernel_format = flat\)$" \
	"kernel_format = flat" "module0 = m0"
kernel=$root/$b/guests/exit42.bin bad flat-auto \
	"^$ini:6: \[vm\]: module0: modules need a multiboot kernel \(.*/exit42.bin is not one\)$" "module0 = m0"
bad index "^$ini:6: \[vm\]: module64: module 64 out of range 0-63$" "module64 = m0"
exit 0
