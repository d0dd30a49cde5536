#!/usr/bin/env bash
# Diagnostic, not part of the suite (about 30 s): boots Debian's kernel as
# an L2 guest with Debian's QEMU and -accel kvm inside the nested VM. When a
# guest hangs under hv in the nested VM, this tells whether the nested VM
# itself can run a full Linux guest (timer interrupts, HLT, APIC) or not.
#
# usage: l2-linux.sh [--machine pc|q35|microvm] [run.sh options...]
#   e.g. l2-linux.sh --machine q35 --append idle=poll
# Prints "ok l2-linux-MACHINE" when the L2 init ran, with its uptime.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

machine=pc
if [[ ${1:-} == --machine ]]; then
	machine=${2:?--machine needs pc, q35 or microvm}
	shift 2
fi
kernel=$(nested_kernel)
payload=$root/build/nested/l2-linux.payload
l2=$payload.l2root
rm -rf "$payload" "$l2"
mkdir -p "$payload" "$l2/bin" "$l2/proc"

# The L2 guest: busybox and an init that says when it got there.
cp "$(command -v busybox)" "$l2/bin/busybox"
cat >"$l2/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
read -r up _ </proc/uptime
echo "L2-UP $up"
/bin/busybox poweroff -f
EOF
chmod 755 "$l2/init"
(cd "$l2" && find . -exec touch -h -d @0 {} + && find . | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --reproducible --quiet) >"$payload/l2.cpio"
rm -rf "$l2"
cp "$kernel" "$payload/vmlinuz"
cp "$(command -v qemu-system-x86_64)" "$payload/"

cat >"$payload/run-inside.sh" <<'EOF'
#!/bin/sh
# sh /hv/run-inside.sh MACHINE
m=$1
timeout 120 /hv/qemu-system-x86_64 -L /usr/share/seabios -L /usr/share/qemu \
	-accel kvm -M "$m" -cpu host -m 256M -nodefaults -nographic -no-reboot -nic none \
	-kernel /hv/vmlinuz -initrd /hv/l2.cpio -append "console=ttyS0 panic=-1 quiet" \
	-serial stdio </dev/null >/tmp/l2.out 2>&1
rc=$?
up=$(sed -n 's/.*L2-UP \([0-9.]*\).*/\1/p' /tmp/l2.out)
if [ -n "$up" ]; then
	echo "ok l2-linux-$m # L2 init ran $up s after L2 boot"
	exit 0
fi
tail -n 5 /tmp/l2.out | sed 's/^/# L2: /'
echo "not ok l2-linux-$m - no L2-UP from the L2 guest (QEMU exit $rc)"
exit 1
EOF

exec "$here/run.sh" --payload "$payload" --name "l2-linux-$machine" --timeout 200 \
	--file /usr/share/qemu:/usr/share/qemu --file /usr/share/seabios:/usr/share/seabios \
	"$@" -- "$machine"
