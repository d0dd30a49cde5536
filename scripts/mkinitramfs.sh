#!/usr/bin/env bash
# Build a busybox initramfs for Linux guests of hv.
#
# usage: mkinitramfs.sh OUT.cpio[.gz] [--file SRC[:DEST]]... [--run SCRIPT]
#                       [--module NAME --kver VERSION]...
#
# The image holds Debian's busybox-static (one symlink per applet), an
# /init that mounts proc, sys, dev (devtmpfs), devpts and a tmpfs /tmp,
# prints "HV-LINUX-INIT <uptime>" on the console and hands over to busybox
# init, which runs a shell on ttyS0 (respawned) and powers off cleanly on
# `poweroff`. Options:
#   --file SRC[:DEST]  copy SRC (default DEST: the same path), and the
#                      shared libraries it needs (ldd), into the image
#   --run SCRIPT       run SCRIPT after the marker instead of the shell,
#                      then power off (benchmarks, unattended tests)
#   --module NAME      insmod NAME.ko (and its dependencies) from
#                      /lib/modules/VERSION at boot; `button` makes the ACPI
#                      power button work (with busybox acpid: poweroff)
#   --kver VERSION     kernel version the modules are taken from
# OUT ending in .gz is gzip-compressed; anything else is a plain newc cpio.
set -euo pipefail

die() { echo "mkinitramfs: $*" >&2; exit 1; }
out='' run='' kver=''
files=() modules=()
while (($#)); do
	case $1 in
	--file) files+=("${2:?--file needs SRC[:DEST]}"); shift 2 ;;
	--run) run=${2:?--run needs SCRIPT}; shift 2 ;;
	--module) modules+=("${2:?--module needs NAME}"); shift 2 ;;
	--kver) kver=${2:?--kver needs VERSION}; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $1" ;;
	*) [[ -z $out ]] || die "more than one OUT"; out=$1; shift ;;
	esac
done
[[ -n $out ]] || die "usage: mkinitramfs.sh OUT.cpio[.gz] [options] (--help)"
busybox=$(command -v busybox) || die "busybox missing (apt-get install busybox-static)"
ldd "$busybox" >/dev/null 2>&1 && die "$busybox is not static (apt-get install busybox-static)"
((${#modules[@]} == 0)) || [[ -n $kver ]] || kver=$(uname -r)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,dev,etc/init.d,etc/acpi/PWRF,proc,sys,tmp,root,run,lib/modules,var/log,var/run}
chmod 1777 "$stage/tmp"
cp "$busybox" "$stage/bin/busybox"
for a in $("$busybox" --list); do
	[[ $a == busybox ]] || ln -sf busybox "$stage/bin/$a"
done
for a in init poweroff reboot halt; do ln -sf ../bin/busybox "$stage/sbin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$stage/etc/passwd"
echo 'root:x:0:' >"$stage/etc/group"

# copy FILE to DEST in the stage, with its shared libraries
copy_in() {
	local src=$1 dest=$2 lib
	mkdir -p "$stage$(dirname "$dest")"
	cp -a "$src" "$stage$dest"
	[[ -f $src && -x $src ]] || return 0
	while read -r lib; do
		[[ -e $stage$lib ]] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done < <(ldd "$src" 2>/dev/null | grep -o '/[^ ]*' || true)
}
for f in "${files[@]}"; do
	src=${f%%:*} dest=${f#*:}
	[[ $f == *:* ]] || dest=$src
	[[ -e $src ]] || die "$src does not exist"
	copy_in "$src" "$dest"
done

# modules, dependencies first, uncompressed for busybox insmod
: >"$stage/etc/modules"
add_module() {
	local name=$1 path dep moddir=/lib/modules/$kver
	path=$(grep -E "(^|/)$name\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | head -n 1) ||
		die "module $name not in $moddir/modules.dep"
	for dep in ${path#*:}; do add_module "$(basename "${dep%%.ko*}")"; done
	path=${path%%:*}
	grep -qx "/lib/modules/$name.ko" "$stage/etc/modules" && return 0
	case $path in
	*.xz) xz -dc "$moddir/$path" ;;
	*.zst) zstd -dcq "$moddir/$path" ;;
	*.gz) gzip -dc "$moddir/$path" ;;
	*) cat "$moddir/$path" ;;
	esac >"$stage/lib/modules/$name.ko"
	echo "/lib/modules/$name.ko" >>"$stage/etc/modules"
}
for m in "${modules[@]}"; do add_module "$m"; done

cat >"$stage/init" <<'INIT'
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
while read -r m; do insmod "$m"; done </etc/modules
echo "HV-LINUX-INIT $(cut -d' ' -f1 /proc/uptime)"
exec /sbin/init
INIT
chmod 755 "$stage/init"
cat >"$stage/etc/inittab" <<'TAB'
::sysinit:/etc/init.d/rcS
ttyS0::respawn:-/bin/sh
::shutdown:/bin/sync
TAB
cat >"$stage/etc/init.d/rcS" <<'RCS'
#!/bin/sh
hostname hv-guest
# the ACPI power button (SIGTERM to hv) powers off, when button.ko is in
mkdir -p /var/log /var/run
[ -e /dev/input/event0 ] && acpid -c /etc/acpi -l /var/log/acpid.log
if [ -x /etc/hv-run ]; then
	/etc/hv-run </dev/console >/dev/console 2>&1
	poweroff
fi
echo "HV-LINUX-READY"
RCS
chmod 755 "$stage/etc/init.d/rcS"
printf '#!/bin/sh\npoweroff\n' >"$stage/etc/acpi/PWRF/00000080"
chmod 755 "$stage/etc/acpi/PWRF/00000080"
[[ -z $run ]] || install -m 755 "$run" "$stage/etc/hv-run"

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$out.tmp"
case $out in
*.gz) gzip -9n <"$out.tmp" >"$out" && rm -f "$out.tmp" ;;
*) mv "$out.tmp" "$out" ;;
esac
