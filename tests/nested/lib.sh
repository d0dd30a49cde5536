# shellcheck shell=bash
# Shared by mkinitramfs.sh and run.sh (sourced, not run).
#
# nested_kernel: prints the host kernel image the nested VM boots. It is
# $HV_NESTED_KERNEL when set, otherwise the newest /boot/vmlinuz-* that has
# a matching /lib/modules/<version>/ holding kvm-amd. Fails (returns 1 with
# a reason on stderr) when there is none.
# nested_kver IMAGE: prints the kernel version of /boot/vmlinuz-<version>.

# The outer QEMU's accelerator and CPU (run.sh; HV_NESTED_ACCEL and
# HV_NESTED_CPU override them). See README.md, "The nested freeze".
# shellcheck disable=SC2034 # used by the scripts that source this
NESTED_ACCEL=tcg
# shellcheck disable=SC2034
NESTED_CPU=qemu64,+svm,+npt

nested_kver() {
	local img=${1##*/}
	[[ $img == vmlinuz-* ]] || {
		echo "cannot tell the kernel version of $1 (want vmlinuz-<version>)" >&2
		return 1
	}
	echo "${img#vmlinuz-}"
}

nested_kernel() {
	local img ver best=
	if [[ -n ${HV_NESTED_KERNEL:-} ]]; then
		[[ -r $HV_NESTED_KERNEL ]] || {
			echo "HV_NESTED_KERNEL=$HV_NESTED_KERNEL is not readable" >&2
			return 1
		}
		echo "$HV_NESTED_KERNEL"
		return 0
	fi
	while read -r img; do
		ver=${img#/boot/vmlinuz-}
		if [[ -r $img ]] && compgen -G "/lib/modules/$ver/kernel/arch/x86/kvm/kvm-amd.ko*" >/dev/null; then
			best=$img
		fi
	done < <(compgen -G '/boot/vmlinuz-*' | sort -V)
	[[ -n $best ]] || {
		echo "no readable /boot/vmlinuz-* with kvm-amd in /lib/modules (apt-get install linux-image-amd64)" >&2
		return 1
	}
	echo "$best"
}

# nested_boot_image IMAGE DIR: prints what QEMU's -kernel should boot. The
# bzImage's xz decompressor is slow under TCG (3-7 s per boot), so when the
# kernel has CONFIG_PVH the uncompressed vmlinux is extracted once into
# DIR/vmlinux-<version> (as the kernel's scripts/extract-vmlinux does) and
# booted through its PVH entry point instead. Falls back to IMAGE.
nested_boot_image() {
	local img=$1 dir=$2 kver out tmp
	kver=$(nested_kver "$img") || return 1
	out=$dir/vmlinux-$kver
	if [[ -s $out && $out -nt $img ]]; then
		echo "$out"
		return 0
	fi
	if ! grep -qx 'CONFIG_PVH=y' "/boot/config-$kver" 2>/dev/null; then
		echo "$img"
		return 0
	fi
	tmp=$(mktemp "$out.XXXXXX")
	if _nested_unpack "$img" "$tmp" '\3757zXZ\000' abcde 'xz -dc --single-stream' ||
		_nested_unpack "$img" "$tmp" '(\265/\375' xxx 'zstd -qdc' ||
		_nested_unpack "$img" "$tmp" '\037\213\010' xy 'gzip -dc'; then
		mv "$tmp" "$out"
		echo "$out"
	else
		rm -f "$tmp"
		echo "$img"
	fi
}

# _nested_unpack IMAGE OUT MAGIC FILLER CMD: decompresses from each offset
# where MAGIC occurs until the result is an ELF file. MAGIC is written in
# tr(1) escapes because a bash string cannot hold its NUL byte.
_nested_unpack() {
	local img=$1 out=$2 magic=$3 filler=$4 cmd=$5 pos head=''
	command -v "${cmd%% *}" >/dev/null || return 1
	for pos in $(LC_ALL=C tr "$magic\n$filler" "\n$filler=" <"$img" |
		LC_ALL=C grep -abo "^$filler" | cut -d: -f1); do
		tail -c "+$pos" "$img" | $cmd >"$out" 2>/dev/null || true
		LC_ALL=C IFS= read -r -n 4 -d '' head <"$out" || true
		[[ $head == $'\x7fELF' ]] && return 0
	done
	return 1
}

# nested_run RUN.SH-ARGS...: run.sh, retried once when the nested VM froze
# (exit 75: the outer emulator's SVM wedged L1, not a failure of the code
# under test). Prints the lines of the attempt that counts; its status.
# HV_NESTED_RETRY=0 turns the retry off (freeze-study.sh counts freezes).
nested_run() {
	local here out rc
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	out=$(mktemp)
	rc=0
	bash "$here/run.sh" "$@" >"$out" || rc=$?
	if ((rc == 75 && ${HV_NESTED_RETRY:-1})); then
		grep '^# nested: the nested VM froze' "$out"
		echo "# nested: retrying once"
		rc=0
		bash "$here/run.sh" "$@" >"$out" || rc=$?
	fi
	cat "$out"
	rm -f "$out"
	if ((rc == 75)); then
		echo "not ok nested-kvm - the nested VM froze twice in a row"
		return 1
	fi
	return "$rc"
}
