#!/bin/bash
# hv-test: once
# hv-test: timeout=720
# tests/linux/net.t's two VMs, switches and checks under hv's KVM backend
# in the nested VM (tests/nested): the same guest initramfs (net-lib.sh),
# the same scenario (net-run.sh, accel=kvm). The nested VM gets what the
# host side needs: iproute2's ip (namespaces, veth, tuntap), bash, and the
# tun and veth modules of its kernel.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/${BUILD:-build}
export HV_PLUGIN_PATH=${HV_PLUGIN_PATH:-$build/plugins}
# shellcheck source=../nested/lib.sh
source "$root/tests/nested/lib.sh"
# shellcheck source=net-lib.sh
source "$here/net-lib.sh"
kernel=$(nested_kernel 2>&1) || { echo "not ok net-kvm - $kernel"; exit 1; }
kver=$(nested_kver "$kernel")
payload=$root/build/nested/net.payload
rm -rf "$payload"
mkdir -p "$payload/plugins" "$payload/bin" "$payload/mod" "$payload/st"
cp "$build/hv" "$payload/hv"
cp "$build"/plugins/*.so "$payload/plugins/"
cp "$kernel" "$payload/vmlinuz"
cp "$here/net-run.sh" "$here/net-lib.sh" "$here/net-guest.sh" "$payload/"
for b in ip bash ethtool; do cp "$(command -v $b)" "$payload/bin/"; done
for m in tun veth; do
	p=$(grep -oE "^[^:]*/$m\.ko:" "/lib/modules/$kver/modules.dep") ||
		{ echo "not ok net-kvm-prepare - no $m.ko in /lib/modules/$kver"; exit 1; }
	cp "/lib/modules/$kver/${p%:}" "$payload/mod/"
done
if ! err=$(net_prepare "$payload/st" "$kver" 2>&1); then
	echo "not ok net-kvm-prepare - $(tail -n 3 <<<"$err" | tr '\n' ' ')"
	exit 1
fi
cat >"$payload/run-inside.sh" <<'INSIDE'
#!/bin/sh
export PATH=/hv/bin:$PATH HV_PLUGIN_PATH=/hv/plugins NET_IP=/hv/bin/ip NET_WIRE=0
for m in tun veth; do insmod /hv/mod/$m.ko || echo "# insmod $m.ko failed"; done
/hv/bin/bash /hv/net-run.sh /hv/st /hv/hv kvm /hv/vmlinuz "${1:-120}"
INSIDE
nested_run --payload "$payload" --timeout "${HV_NET_KVM_TIMEOUT:-660}" \
	--name net -- 240 | sed 's/^\(\(not \)\{0,1\}ok \)net-/\1net-kvm-/'
exit "${PIPESTATUS[0]}"
