#!/usr/bin/env bash
# Linux boot benchmark (not part of make test): inside the nested VM of
# tests/nested, time from `hv run` to the guest's /init and to its
# power-off, 1 and 2 vCPUs, against qemu-system-x86_64 -enable-kvm -M pc
# -kernel with the same kernel and initramfs; and hv's peak RSS less the
# guest's RAM (memfd pages). usage: bench/linux/run.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/nested/lib.sh"
runs=${1:-2}
kernel=$(nested_kernel)
payload=$root/build/nested/bench-linux.payload
make -C "$root" -s all
rm -rf "$payload"
mkdir -p "$payload/plugins" "$payload/qemu-fw"
cp "$root/build/hv" "$payload/"
cp "$root"/build/plugins/*.so "$payload/plugins/"
cp "$kernel" "$payload/vmlinuz"
cp "$here/inside.sh" "$payload/run-inside.sh"
cp "$(command -v qemu-system-x86_64)" "$payload/"
cp /usr/share/seabios/bios-256k.bin "$payload/qemu-fw/"
for f in linuxboot_dma.bin kvmvapic.bin; do cp -L "/usr/share/qemu/$f" "$payload/qemu-fw/"; done
gcc -O2 -Wall -Werror -o "$payload/timeit" "$here/timeit.c"
printf '#!/bin/sh\nexit 0\n' >"$payload/poweroff-now"
"$root/scripts/mkinitramfs.sh" "$payload/initramfs.cpio.gz" --run "$payload/poweroff-now"
# nested_run: a freeze of the nested VM (see tests/nested/README.md) is
# retried once instead of leaving the table without its rows.
nested_run --payload "$payload" --timeout 1500 --name bench-linux -- "$runs" |
	tee "$root/build/nested/bench-linux.out"
for row in hv-1 qemu-1 hv-2 qemu-2; do
	grep -q "^# $row init=[0-9]" "$root/build/nested/bench-linux.out" || {
		echo "bench/linux: no $row result (see build/nested/bench-linux.log)" >&2
		exit 1
	}
done
awk '
/^# (hv|qemu)-[12] / {
	split($2, k, "-"); who = k[1]; c = k[2]
	for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	if (!((who, c) in init) || v["init"] < init[who, c]) init[who, c] = v["init"]
	if (!((who, c) in off) || v["exit"] < off[who, c]) off[who, c] = v["exit"]
	if (who == "hv") rss[c] = v["rss_nonshm_kib"]
	st[who, c] = v["status"]
}
END {
	printf "\n%-8s %12s %12s %12s %12s %9s %9s %16s\n", "vCPUs", "hv /init s", "qemu /init s",
		"hv off s", "qemu off s", "init x", "off x", "hv RSS-guest KiB"
	for (c = 1; c <= 2; c++)
		printf "%-8d %12.2f %12.2f %12.2f %12.2f %9.2f %9.2f %16d\n", c, init["hv", c],
			init["qemu", c], off["hv", c], off["qemu", c],
			init["hv", c] / init["qemu", c], off["hv", c] / off["qemu", c], rss[c]
	print "(best of the runs; x = hv time / QEMU time, lower is better for hv)"
}' "$root/build/nested/bench-linux.out"
