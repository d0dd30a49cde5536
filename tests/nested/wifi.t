#!/usr/bin/env bash
# hv-test: once
# hv-test: timeout=900
# The Wi-Fi bridge over a real 802.11 link (issue 12, "Real 802.11"), in
# the nested VM (tests/nested): Debian's kernel there loads
# mac80211_hwsim radios=2; Debian's hostapd runs a WPA2-PSK AP on wlan0,
# bridged to a LAN namespace with Debian's dnsmasq (DHCPv4, RA); Debian's
# wpa_supplicant joins with wlan1. First the station itself gets a lease
# and pings the LAN host (wifi-sta-*: the link, without hv); then a Linux
# guest under hv (accel=kvm, nested) on `[net lan] type = external,
# adapter = wlan1` does the same through the Wi-Fi bridge, and again with
# `bridge = plain`, where the AP must drop its frames. The scenario is
# wifi-run.sh; the guest's and the station's address commands are
# wifi-guest.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/${BUILD:-build}
# shellcheck source=lib.sh
source "$here/lib.sh"
# Only this test's image carries the radios and the bridge: the other
# nested tests' images stay as small as they were.
MODS=(mac80211_hwsim ctr ccm veth bridge)
BINS=(ip iw hostapd wpa_supplicant wpa_cli dnsmasq ping bash)

kernel=$(nested_kernel 2>&1) || { echo "not ok wifi-prepare - $kernel"; exit 1; }
kver=$(nested_kver "$kernel")
moddir=/lib/modules/$kver
payload=$root/build/nested/wifi.payload

# mod_order NAME...: the .ko paths (relative to moddir) of NAMEs and what
# modules.dep says they need, each once, dependencies first
mod_order() {
	local name line dep i
	local -a deps
	local -A seen=()
	for name in "$@"; do
		line=$(grep -E "(^|/)$name\.ko:" "$moddir/modules.dep") ||
			{ echo "no $name.ko in $moddir/modules.dep" >&2; return 1; }
		read -ra deps <<<"${line#*:}"
		for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
			dep=${deps[i]}
			[[ -n ${seen[$dep]:-} ]] || { seen[$dep]=1; echo "$dep"; }
		done
		dep=${line%%:*}
		[[ -n ${seen[$dep]:-} ]] || { seen[$dep]=1; echo "$dep"; }
	done
}

prepare() {
	local b p
	local -a m=()
	rm -rf "$payload"
	mkdir -p "$payload/plugins" "$payload/bin" "$payload/mod" "$payload/st"
	cp "$build/hv" "$payload/hv"
	cp "$build"/plugins/*.so "$payload/plugins/"
	cp "$kernel" "$payload/vmlinuz"
	cp "$here/wifi-run.sh" "$here/wifi-guest.sh" "$root/tests/linux/net-lib.sh" "$payload/"
	for b in "${BINS[@]}"; do
		p=$(command -v "$b") || { echo "$b missing (scripts/deps.sh)"; return 1; }
		cp "$p" "$payload/bin/"
	done
	mod_order "${MODS[@]}" >"$payload/mod/list" || return 1
	# busybox insmod takes plain .ko (Debian 12 ships them plain)
	while read -r p; do
		[[ $p == *.ko ]] || { echo "$p is compressed"; return 1; }
		cp "$moddir/$p" "$payload/mod/"
		echo "${p##*/}"
	done <"$payload/mod/list" >"$payload/mod/order"
	rm "$payload/mod/list"
	# radios=2: wlan0 (the AP) and wlan1 (the station)
	sed -i 's/^mac80211_hwsim\.ko$/& radios=2/' "$payload/mod/order"
	# the L2 guest: tests/linux/net-lib.sh's modules and hvnet, plus hvwifi
	for p in virtio_pci virtio_net; do m+=(--module "$p"); done
	"$root/scripts/mkinitramfs.sh" "$payload/st/initramfs.cpio.gz" --kver "$kver" "${m[@]}" \
		--file "$root/tests/linux/net-guest.sh:/bin/hvnet" \
		--file "$here/wifi-guest.sh:/bin/hvwifi" >/dev/null
}
if ! err=$(prepare 2>&1); then
	echo "not ok wifi-prepare - $(tail -n 3 <<<"$err" | tr '\n' ' ')"
	exit 1
fi
cat >"$payload/run-inside.sh" <<'INSIDE'
#!/bin/sh
export HV_PLUGIN_PATH=/hv/plugins
exec /hv/bin/bash /hv/wifi-run.sh /hv /hv/hv /hv/vmlinuz "${1:-240}"
INSIDE
nested_run --payload "$payload" --timeout "${HV_WIFI_TIMEOUT:-840}" --name wifi -- 240
