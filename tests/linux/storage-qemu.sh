#!/usr/bin/env bash
# The storage tests' guest script on QEMU's same controllers (a manual
# check, not part of make test): proves storage-guest.sh and
# storage-verify.sh against a peer, the way storage.t runs them on hv.
# usage: tests/linux/storage-qemu.sh [ACCEL]   (default tcg, ~20 s)
# QEMU cannot open a differencing VHDX: its s1 is a qcow2 overlay over the
# same parent, so s1's host comparison (which reads the VHDX child) does
# not apply and is left out.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/${BUILD:-build}
export HV_PLUGIN_PATH=${HV_PLUGIN_PATH:-$build/plugins} STOR_HV=$build/hv
source "$here/storage-lib.sh"
kernel=${HV_EMU_LINUX_KERNEL:-$(ls -1v /boot/vmlinuz-* | tail -n 1)}
t=$(mktemp -d "$root/build/storage-qemu.XXXXXX")
trap 'rm -rf "$t"' EXIT
stor_prepare "$t" "${kernel##*/vmlinuz-}"
: >"$t/missing" # every controller is QEMU's here
timeout 600 bash -c "source '$here/storage-lib.sh'; stor_qemu '$t' '$kernel' '${1:-tcg}'" \
	</dev/null >"$t/console.out" 2>&1 || true
tr -d '\r' <"$t/console.out" | sed -n 's/^HVT \(\(not \)\{0,1\}ok .*\)/\1/p; s/^HVT-DONE/# guest done:/p'
sh "$here/storage-verify.sh" "$t" "$STOR_HV" | grep -v '^not ok storage-s1-host-compare'
