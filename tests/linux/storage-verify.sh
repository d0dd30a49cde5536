#!/bin/sh
# After a storage boot (tests/linux/storage.t, storage-kvm.t): the images
# as the host sees them. POSIX sh: it runs on the host and, for the nested
# test, in the nested VM (busybox), with qemu-img and e2fsprogs copied in.
# usage: storage-verify.sh DIR HV    (DIR made by stor_prepare, HV the hv
#                                     binary that checks and converts)
# For each line of DIR/images.list (NAME FILE FMT BYTES TASK BASE):
#   hv img check FILE                          -> storage-NAME-img-check
#   pattern/parent: the reference (zeroes or the parent's bytes, with
#   /pat.bin at 1 MiB and in the last 128 KiB) against the image with
#   qemu-img compare (VHD, VHDX), cmp (raw), or, for a differencing VHDX
#   that qemu cannot open, cmp of `hv img convert -O raw` (and the parent
#   must be unchanged: its sha256)          -> storage-NAME-host-compare
#   ext4: qemu-img convert to raw, fsck.ext4 -fn, debugfs reads the file
#                                           -> storage-NAME-host-fsck
#   iso: the file is unchanged              -> storage-NAME-host-iso
d=$1 hv=$2
. "$d/storage.conf"
cd "$d" || exit 1
PATLEN=131072
ok() { echo "ok storage-$1${2:+ - $2}"; }
nok() { echo "not ok storage-$1 - $2"; }
sha() { sha256sum | cut -d' ' -f1; }
one() { echo "$*" | tr '\n' ' ' | cut -c1-300; }

mkref() { # NAME BYTES BASE -> ref/NAME.raw
	mkdir -p ref
	rm -f "ref/$1.raw"
	case $3 in
	parent:*)
		p=${3#parent:}
		qemu-img convert -f vhdx -O raw "${p%%:*}" "ref/$1.raw" || return 1
		;;
	*) truncate -s "$2" "ref/$1.raw" || return 1 ;;
	esac
	for off in 1048576 $(($2 - PATLEN)); do
		dd if=pat.bin of="ref/$1.raw" bs=$PATLEN seek=$off oflag=seek_bytes conv=notrunc 2>/dev/null || return 1
	done
}

while read -r name file fmt bytes task base <&4; do
	p=$(awk -v n="$name" '{ for (i = 2; i <= NF; i++) if ($i == n) print $1 }' missing 2>/dev/null)
	if [ -n "$p" ]; then
		nok "$name-host" "not attached: no $p plugin"
		continue
	fi
	case $fmt in
	iso)
		if [ "$(sha <"$file")" = "$ISO_SHA" ]; then
			ok "$name-host-iso" "$file unchanged"
		else
			nok "$name-host-iso" "$file changed"
		fi
		continue
		;;
	vpc) hfmt=vhd ;;
	vhdx-diff) hfmt=vhdx ;;
	*) hfmt=$fmt ;;
	esac
	if out=$("$hv" img check -f $hfmt "$file" 2>&1); then
		ok "$name-img-check" "hv img check $file: $(echo "$out" | tail -n 1)"
	else
		nok "$name-img-check" "hv img check $file: $(one "$out")"
	fi
	case $task in
	pattern | parent)
		if ! mkref "$name" "$bytes" "$base"; then
			nok "$name-host-compare" "cannot build the reference image"
			continue
		fi
		case $fmt in
		raw)
			if out=$(cmp "$file" "ref/$name.raw" 2>&1); then
				ok "$name-host-compare" "cmp: $file is the reference"
			else
				nok "$name-host-compare" "cmp $file ref/$name.raw: $out"
			fi ;;
		vhdx-diff)
			p=${base#parent:}
			rm -f "ref/$name.conv"
			if ! out=$("$hv" img convert -f vhdx -O raw "$file" "ref/$name.conv" 2>&1); then
				nok "$name-host-compare" "hv img convert $file: $(one "$out")"
			elif ! out=$(cmp "ref/$name.conv" "ref/$name.raw" 2>&1); then
				nok "$name-host-compare" "the child read through hv img convert differs: $out"
			elif [ "$(sha <"${p%%:*}")" != "${p#*:}" ]; then
				nok "$name-host-compare" "the parent ${p%%:*} was written to"
			else
				ok "$name-host-compare" "child (hv img convert) = qemu-img's parent + the guest's writes, parent untouched"
			fi
			rm -f "ref/$name.conv" ;;
		*)
			if out=$(qemu-img compare -f "$fmt" -F raw "$file" "ref/$name.raw" 2>&1); then
				ok "$name-host-compare" "qemu-img compare: $file is the reference"
			else
				nok "$name-host-compare" "qemu-img compare $file: $(one "$out")"
			fi ;;
		esac
		rm -f "ref/$name.raw" ;;
	ext4)
		mkdir -p ref
		rm -f "ref/$name.raw"
		if ! out=$(qemu-img convert -f "$fmt" -O raw "$file" "ref/$name.raw" 2>&1); then
			nok "$name-host-fsck" "qemu-img convert $file: $(one "$out")"
		elif ! out=$(fsck.ext4 -fn "ref/$name.raw" 2>&1); then
			nok "$name-host-fsck" "fsck.ext4 -fn on qemu-img's reading: $(one "$out")"
		elif [ "$(debugfs -R 'cat /d/pat.bin' "ref/$name.raw" 2>/dev/null | sha)" != "$PAT_SHA" ]; then
			nok "$name-host-fsck" "debugfs does not read /d/pat.bin back"
		else
			ok "$name-host-fsck" "qemu-img reads a clean ext4 (fsck.ext4 -fn) holding the guest's file"
		fi
		rm -f "ref/$name.raw" ;;
	esac
done 4<images.list
