#!/bin/bash
# Kernel and initrd files no loader can take, from a hostile-input probe:
# a directory, a FIFO, a character device, an empty file, Debian's own
# bzImage and an ELF from /bin cut short. `hv check` and `hv run
# --accel=emu` must each refuse every one in exactly one line that names
# the file and exit non-zero without blocking (a FIFO must not: 60 s is a
# hang, not a slow start, so the time is no pass mark). The
# intact kernel must pass `hv check`, so a check that refuses everything
# fails here too.
set -u
b=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
hv=${HV:-$root/$b/hv}
export HV_PLUGIN_PATH=${HV_PLUGIN_PATH:-$root/$b/plugins}
work=$root/$b/tests/badkernel
rm -rf "$work"
mkdir -p "$work/dir"
kernel=$(compgen -G '/boot/vmlinuz-*' | sort -V | tail -1)
if [ -z "$kernel" ] || [ ! -r "$kernel" ]; then
	echo "not ok badkernel - no readable /boot/vmlinuz-* (scripts/deps.sh installs linux-image-amd64)"
	exit 0
fi
elf=$(type -P true)
elf=$(readlink -f "$elf")
size=$(stat -c %s "$kernel")
mkfifo "$work/fifo"
: > "$work/empty"
head -c 4096 "$kernel" > "$work/setup-cut"       # inside the setup code
head -c $((size / 2)) "$kernel" > "$work/half"    # half the payload
head -c $((size - 4096)) "$kernel" > "$work/tail" # syssize past the end
head -c 200 "$elf" > "$work/elf-phdrs"           # program headers cut
head -c 3000 "$elf" > "$work/elf-segs"           # segments cut

# ini NAME KEY=VALUE...: a [vm] section with those keys
ini() {
	local f=$work/$1.ini
	shift
	printf '[vm]\nmemory = 256M\n' > "$f"
	printf '%s\n' "$@" | sed 's/=/ = /' >> "$f"
	echo "$f"
}

# refuse NAME FILE-NAMED KEY=VALUE...: both commands, one line naming it
refuse() {
	local name=$1 named=$2 f cmd out rc lines start ms
	shift 2
	f=$(ini "$name" "$@")
	for cmd in check run; do
		start=$(date +%s%N)
		if [ $cmd = check ]; then
			out=$(timeout 60 "$hv" check "$f" 2>&1)
		else
			out=$(timeout 60 "$hv" run --accel=emu "$f" 2>&1)
		fi
		rc=$?
		ms=$((($(date +%s%N) - start) / 1000000))
		lines=$(printf '%s\n' "$out" | grep -c .)
		if [ $rc -eq 0 ] || [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			echo "not ok badkernel-$name-$cmd - exit status $rc after ${ms} ms: $(head -c 200 <<< "$out")"
		elif [ "$lines" -ne 1 ]; then
			echo "not ok badkernel-$name-$cmd - $lines lines: $(tr '\n' '|' <<< "$out" | head -c 300)"
		elif ! grep -qF "$named" <<< "$out"; then
			echo "not ok badkernel-$name-$cmd - the line does not name $named: $out"
		else
			echo "ok badkernel-$name-$cmd ($out)"
		fi
	done
}

refuse dir "$work/dir: a directory" kernel="$work/dir"
refuse fifo "$work/fifo: a FIFO" kernel="$work/fifo"
refuse chardev "/dev/null: a character device" kernel=/dev/null
refuse empty "$work/empty: the file is empty" kernel="$work/empty"
refuse setup-cut "$work/setup-cut: truncated bzImage" kernel="$work/setup-cut"
refuse half "$work/half: truncated bzImage" kernel="$work/half"
refuse tail "$work/tail: truncated bzImage" kernel="$work/tail"
refuse tail-linux "$work/tail: truncated bzImage" kernel="$work/tail" kernel_format=linux
refuse elf-phdrs "$work/elf-phdrs: truncated ELF image" kernel="$work/elf-phdrs"
refuse elf-segs "$work/elf-segs: truncated ELF image" kernel="$work/elf-segs"
refuse initrd-dir "$work/dir: a directory" kernel="$kernel" initrd="$work/dir"
refuse initrd-fifo "$work/fifo: a FIFO" kernel="$kernel" initrd="$work/fifo"
refuse initrd-empty "$work/empty: the file is empty" kernel="$kernel" initrd="$work/empty"

f=$(ini intact kernel="$kernel")
if out=$(timeout 60 "$hv" check "$f" 2>&1); then
	echo "ok badkernel-intact-check ($(basename "$kernel") passes)"
else
	echo "not ok badkernel-intact-check - $(head -c 300 <<< "$out")"
fi
rm -rf "$work"
exit 0
