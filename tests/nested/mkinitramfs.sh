#!/usr/bin/env bash
# Build the initramfs the nested KVM tests boot.
#
# usage: mkinitramfs.sh OUT.cpio[.gz] --payload DIR [--file SRC:DEST]... [--kernel IMAGE]
#
# The image holds busybox-static (one symlink per applet in /bin), the
# kvm-amd module and its dependencies (from modules.dep) for the kernel
# IMAGE boots (default: see lib.sh), DIR copied to /hv, each --file SRC
# (file or directory) copied to DEST, the shared libraries of every ELF file
# under /hv and the DESTs (resolved with ldd on this host, with an
# ld.so.cache for them), and tests/nested/init.sh as /init.
#
# Images are cached in build/nested/cache/ under the hash of their staged
# contents (paths, modes, link targets, file bytes) and the kernel version:
# the same inputs give the same bytes and are built once. OUT is a hard link
# to (or, across file systems, a copy of) the cached image; OUT ending in
# .gz is gzip-compressed, any other name is a plain newc cpio. The cached
# image's path is printed on stdout.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

# Bump when the image layout changes in a way the staged files do not show.
FORMAT=1
MODULES=(kvm-amd)
CACHE_KEEP=6

die() {
	echo "mkinitramfs: $*" >&2
	exit 1
}

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

out='' payload='' kernel=''
files=()
while (($#)); do
	case $1 in
	--payload) payload=${2:?--payload needs DIR}; shift 2 ;;
	--file) files+=("${2:?--file needs SRC:DEST}"); shift 2 ;;
	--kernel) kernel=${2:?--kernel needs IMAGE}; shift 2 ;;
	-h | --help) usage ;;
	-*) die "unknown option $1" ;;
	*) [[ -z $out ]] || die "more than one OUT"; out=$1; shift ;;
	esac
done
[[ -n $out && -n $payload ]] || usage
[[ -d $payload ]] || die "payload $payload is not a directory"
[[ -n $kernel ]] || kernel=$(nested_kernel) || exit 1
kver=$(nested_kver "$kernel")
moddir=/lib/modules/$kver
[[ -r $moddir/modules.dep ]] || die "$moddir/modules.dep missing"
busybox=$(command -v busybox) || die "busybox missing (apt-get install busybox-static)"
ldd "$busybox" >/dev/null 2>&1 && die "$busybox is not static (apt-get install busybox-static)"

stage_base() {
	mkdir -p "$stage"/{bin,dev,etc/hv-nested,hv,lib64,proc,root,run,sys,tmp}
	chmod 1777 "$stage/tmp"
	cp "$busybox" "$stage/bin/busybox"
	# One process for ~400 links (perl-base is Essential in Debian).
	# shellcheck disable=SC2016 # perl code, not shell
	"$busybox" --list | grep -vx busybox |
		(cd "$stage/bin" && xargs perl -e 'symlink("busybox", $_) or die "$_: $!\n" for @ARGV')
	echo 'root:x:0:0:root:/root:/bin/sh' >"$stage/etc/passwd"
	echo 'root:x:0:' >"$stage/etc/group"
	install -m 755 "$here/init.sh" "$stage/init"
}

# Writes the load order of MODULES and their dependencies, deepest first,
# and copies them in, uncompressed (busybox insmod takes plain .ko only).
stage_modules() {
	local name line path dep rel
	local -a order=()
	local -A seen=()
	for name in "${MODULES[@]}"; do
		line=$(grep -E "(^|/)$name\.ko(\.xz|\.zst|\.gz)?:" "$moddir/modules.dep") ||
			die "module $name not in $moddir/modules.dep"
		path=${line%%:*}
		read -ra deps <<<"${line#*:}"
		for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
			dep=${deps[i]}
			[[ -n ${seen[$dep]:-} ]] || { seen[$dep]=1; order+=("$dep"); }
		done
		[[ -n ${seen[$path]:-} ]] || { seen[$path]=1; order+=("$path"); }
	done
	for path in "${order[@]}"; do
		rel=${path%.xz}; rel=${rel%.zst}; rel=${rel%.gz}
		mkdir -p "$stage/lib/modules/$kver/${rel%/*}"
		case $path in
		*.xz) xz -dc "$moddir/$path" ;;
		*.zst) zstd -qdc "$moddir/$path" ;;
		*.gz) gzip -dc "$moddir/$path" ;;
		*) cat "$moddir/$path" ;;
		esac >"$stage/lib/modules/$kver/$rel"
		echo "$rel" >>"$stage/etc/hv-nested/modules"
	done
}

stage_payload() {
	local spec src dest
	cp -a "$payload/." "$stage/hv/"
	for spec in "${files[@]}"; do
		src=${spec%%:*} dest=${spec#*:}
		[[ $spec == *:* && -e $src && $dest == /* ]] || die "bad --file $spec (want existing SRC:/DEST)"
		mkdir -p "$stage$(dirname "$dest")"
		if [[ -d $src ]]; then
			mkdir -p "$stage$dest" && cp -a "$src/." "$stage$dest/"
		else
			cp -a "$src" "$stage$dest"
		fi
	done
}

# True for an x86-64 ELF executable or shared object. The magic check uses
# builtins only (it runs once per payload file); ldd costs ~0.1 s, so
# firmware ELFs of other machines are weeded out by e_type and e_machine.
is_host_elf() {
	local magic='' type machine
	[[ -f $1 && ! -L $1 ]] || return 1
	LC_ALL=C IFS= read -r -n 4 -d '' magic <"$1" || true
	[[ $magic == $'\x7fELF' ]] || return 1
	read -r type _ machine _ < <(od -An -tx1 -j16 -N4 "$1")
	[[ ($type == 02 || $type == 03) && $machine == 3e ]]
}

# Copies the shared libraries of every ELF file in the payload to the same
# paths in the image and writes an ld.so.cache that finds them there.
stage_libs() {
	local f lib line spec
	local -a dests=()
	local -A libs=()
	for spec in "${files[@]}"; do
		dests+=("$stage${spec#*:}")
	done
	while IFS= read -r -d '' f; do
		is_host_elf "$f" || continue
		line=$(ldd "$f" 2>&1) || continue # static, or not for this host
		if grep -q 'not found' <<<"$line"; then
			die "${f#"$stage"}: $(grep 'not found' <<<"$line" | tr -s ' \t' ' ' | paste -sd ';')"
		fi
		while read -r lib; do
			[[ -n $lib && $lib != "$stage"/* ]] && libs[$lib]=1
		done < <(sed -nE 's/^\s*(\S+ => )?(\/\S+) \(0x[0-9a-f]+\)$/\2/p' <<<"$line")
	done < <(find "$stage/hv" "${dests[@]}" -type f -print0 | LC_ALL=C sort -zu)
	((${#libs[@]})) || return 0
	cp -L --parents "${!libs[@]}" "$stage/"
	for lib in "${!libs[@]}"; do
		echo "${lib%/*}"
	done | LC_ALL=C sort -u >"$stage/etc/ld.so.conf"
	ldconfig -X -r "$stage" 2>/dev/null || die "ldconfig -r failed"
}

# Hash of what the image will hold; a listing sorted in the C locale so it
# does not depend on the host's locale or on readdir order.
stage_hash() {
	(
		cd "$stage"
		echo "format $FORMAT kernel $kver image $ext"
		find . -printf '%y %m %p -> %l\n' | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
	) | sha256sum | cut -c1-16
}

pack() {
	(
		cd "$stage"
		find . -exec touch -h -d @0 {} +
		find . -print0 | LC_ALL=C sort -z |
			cpio --null -o -H newc -R 0:0 --reproducible --quiet
	) | if [[ $ext == *.gz ]]; then gzip -n -1; else cat; fi >"$1"
}

cache=$root/build/nested/cache
ext=.cpio
[[ $out != *.gz ]] || ext=.cpio.gz
mkdir -p "$cache" "$(dirname "$out")"
stage=$(mktemp -d "$root/build/nested/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
stage_base
stage_modules
stage_payload
stage_libs
hash=$(stage_hash)
img=$cache/$hash$ext
if [[ -s $img ]]; then
	touch "$img"
	echo "mkinitramfs: cached $img" >&2
else
	pack "$img.tmp.$$"
	mv "$img.tmp.$$" "$img"
	echo "mkinitramfs: built $img ($(du -h "$img" | cut -f1), kernel $kver)" >&2
	# Keep only the newest few images.
	find "$cache" -maxdepth 1 -name '*.cpio*' -printf '%T@ %p\n' | sort -rn |
		tail -n +$((CACHE_KEEP + 1)) | cut -d' ' -f2- | xargs -r rm -f
fi
if [[ $(realpath "$out" 2>/dev/null) != "$img" ]]; then
	rm -f "$out"
	ln "$img" "$out" 2>/dev/null || cp "$img" "$out"
fi
echo "$img"
