# shellcheck shell=bash
# Shared by mkinitramfs.sh and run.sh (sourced, not run).
#
# nested_kernel: prints the host kernel image the nested VM boots. It is
# $HV_NESTED_KERNEL when set, otherwise the newest /boot/vmlinuz-* that has
# a matching /lib/modules/<version>/ holding kvm-amd. Fails (returns 1 with
# a reason on stderr) when there is none.
# nested_kver IMAGE: prints the kernel version of /boot/vmlinuz-<version>.

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
