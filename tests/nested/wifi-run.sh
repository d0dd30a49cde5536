#!/bin/bash
# tests/nested/wifi.t's scenario, run in the nested VM (L1) by bash: a real
# 802.11 link between two mac80211_hwsim radios, then hv's external switch
# on the station's interface. Prints ok/not ok lines; exits 0.
# usage: wifi-run.sh DIR HV KERNEL SECS
#   DIR    /hv: bin/ (ip, iw, hostapd, wpa_supplicant, wpa_cli, dnsmasq,
#          ping), mod/ (the modules, mod/order their load order),
#          st/initramfs.cpio.gz (the L2 guest), wifi-guest.sh
#   SECS   the longest the L2 guest may take to boot
#
#   ns hvt-ap: phy0 wlan0, hostapd (ssid hvtest, WPA2-PSK) ─┐ br0
#              hvt-ap0 ───────────────────────────────────────┘
#   ns hvt-lan: hvt-lan0 (peer of hvt-ap0) 10.200.8.1/24 fd00:200:8::1/64,
#              dnsmasq: DHCPv4 10.200.8.100-150, RA (SLAAC) fd00:200:8::/64
#   ns hvt-sta: phy1 wlan1, wpa_supplicant; hv with [net lan] external,
#              adapter = wlan1
# The AP is mac80211's own (hostapd drives it through nl80211): a frame
# whose transmitter address is not an associated station's is dropped by
# the AP, which is what the Wi-Fi bridge exists for.
set -u
export LC_ALL=C
d=$1 hv=$2 kernel=$3 boot_secs=${4:-240}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../linux/net-lib.sh
source "$here/net-lib.sh"
export PATH=$d/bin:$PATH
IP=$d/bin/ip NET_IP=$d/bin/ip
ap=hvt-ap sta=hvt-sta lan=hvt-lan
w=/tmp/hvt-wifi
mkdir -p "$w"
NET_DIR=$w
psk=hvtest-passphrase
lan4=10.200.8.1 lan6=fd00:200:8::1 pfx6=fd00:200:8:
declare -a daemons=()

cleanup() {
	local p
	# net_kill_all waits for every child: the daemons must be gone first
	for p in "${daemons[@]}"; do kill "$p" 2>/dev/null; done
	net_kill_all
	for p in $ap $sta $lan; do $IP netns del $p 2>/dev/null; done
}
trap cleanup EXIT

since() { awk -v s="$1" '{ printf "%.1f", $1 - s }' /proc/uptime; }
t_start=$(cut -d' ' -f1 /proc/uptime)
# tail of a log as one line
tl() { tail -n "${2:-3}" "$1" 2>/dev/null | tr -s '\t\n' ' |'; }
# nsx NS CMD...: CMD in namespace NS
nsx() { local ns=$1; shift; $IP netns exec "$ns" "$@"; }
# wait_for SECS CMD...: 0 once CMD succeeds
wait_for() {
	local i=0 n=$(($1 * 2))
	shift
	while ! "$@" >/dev/null 2>&1; do
		((++i < n)) || return 1
		sleep 0.5
	done
}
# hvwifi_l1 ARGS...: the station's own address commands (wifi-guest.sh)
hvwifi_l1() { nsx $sta busybox sh "$d/wifi-guest.sh" "$@" | sed -n 's/^HVT //p'; }

# --- step 1: the radios ----------------------------------------------------------
radios() {
	local m args err
	while read -r m args; do
		# shellcheck disable=SC2086 # one word per module parameter
		err=$(insmod "$d/mod/$m" $args 2>&1) || { echo "insmod $m: $err"; return 1; }
	done <"$d/mod/order"
	wait_for 10 test -e /sys/class/net/wlan1/phy80211 ||
		{ echo "no wlan1 after loading mac80211_hwsim ($(ls /sys/class/net | tr '\n' ' '))"; return 1; }
}
if err=$(radios 2>&1); then
	echo "ok wifi-radios - mac80211_hwsim: $(ls /sys/class/ieee80211 | tr '\n' ' ')(wlan0 on $(cat /sys/class/net/wlan0/phy80211/name), wlan1 on $(cat /sys/class/net/wlan1/phy80211/name))"
else
	echo "not ok wifi-radios - $err; $(dmesg | tail -n 2 | tr '\n' ' ')"
	exit 0
fi
sta_mac=$(cat /sys/class/net/wlan1/address)

# --- step 2: AP, LAN host, station; the link proved without hv ---------------------
net_setup() {
	local p
	for p in $ap $sta $lan; do
		$IP netns add $p && $IP -n $p link set lo up || return 1
	done
	iw phy "$(cat /sys/class/net/wlan0/phy80211/name)" set netns name $ap || return 1
	iw phy "$(cat /sys/class/net/wlan1/phy80211/name)" set netns name $sta || return 1
	$IP link add hvt-ap0 netns $ap type veth peer name hvt-lan0 netns $lan || return 1
	$IP -n $ap link add br0 type bridge || return 1
	$IP -n $ap link set hvt-ap0 master br0
	$IP -n $ap link set hvt-ap0 up
	$IP -n $ap link set br0 up
	$IP -n $lan link set hvt-lan0 up
	$IP -n $lan addr add $lan4/24 dev hvt-lan0
	$IP -n $lan addr add $lan6/64 dev hvt-lan0 nodad
}
if ! err=$(net_setup 2>&1); then
	echo "not ok wifi-netns - $err"
	exit 0
fi

cat >"$w/hostapd.conf" <<EOF
interface=wlan0
bridge=br0
driver=nl80211
ssid=hvtest
hw_mode=g
channel=6
wpa=2
wpa_key_mgmt=WPA-PSK
rsn_pairwise=CCMP
wpa_passphrase=$psk
ctrl_interface=$w/hostapd
EOF
cat >"$w/wpa.conf" <<EOF
ctrl_interface=$w/wpa
network={
	ssid="hvtest"
	key_mgmt=WPA-PSK
	psk="$psk"
}
EOF
# --conf-file=/dev/null and --port=0: no DNS, only what is asked here
nsx $lan dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
	--port=0 --user=root --group=root --interface=hvt-lan0 --bind-interfaces \
	--dhcp-range=10.200.8.100,10.200.8.150,255.255.255.0,10m \
	--dhcp-range=$pfx6:,ra-only,64 --enable-ra --ra-param=hvt-lan0,10 \
	--dhcp-leasefile="$w/leases" --pid-file="$w/dnsmasq.pid" \
	--log-dhcp --log-facility="$w/dnsmasq.log" >"$w/dnsmasq.out" 2>&1 &
daemons+=($!)
nsx $ap hostapd "$w/hostapd.conf" >"$w/hostapd.log" 2>&1 &
daemons+=($!)
if wait_for 30 grep -q AP-ENABLED "$w/hostapd.log"; then
	echo "ok wifi-ap - hostapd runs ssid hvtest (WPA2-PSK, CCMP) on wlan0 $(nsx $ap cat /sys/class/net/wlan0/address), bridged to the LAN"
else
	echo "not ok wifi-ap - hostapd did not enable the AP in 30 s: $(tl "$w/hostapd.log")"
	exit 0
fi
nsx $sta wpa_supplicant -D nl80211 -i wlan1 -c "$w/wpa.conf" >"$w/wpa.log" 2>&1 &
daemons+=($!)
assoc() { nsx $sta wpa_cli -p "$w/wpa" -i wlan1 status | grep -qx wpa_state=COMPLETED; }
if wait_for 60 assoc; then
	echo "ok wifi-assoc - wpa_supplicant: wlan1 ($sta_mac) associated with hvtest, 4-way handshake done, $(since "$t_start") s after the start"
	nsx $sta iw dev wlan1 link | sed -n 's/^\t*\(Connected.*\|freq.*\|tx bitrate.*\)/# wlan1: \1/p'
else
	echo "not ok wifi-assoc - wlan1 did not associate in 60 s: $(tl "$w/wpa.log") / hostapd: $(tl "$w/hostapd.log")"
	exit 0
fi
grep -q . "$w/dnsmasq.out" && echo "# dnsmasq: $(tl "$w/dnsmasq.out")"
station() {
	local line
	line=$(hvwifi_l1 dhcp sta-dhcp4 wlan1 30)
	echo "$line"
	[[ $line == "ok "* ]] || return 1
	line=$(hvwifi_l1 slaac sta-slaac wlan1 $pfx6 30)
	echo "$line"
	[[ $line == "ok "* ]] || return 1
	# one reply within 10 s (a request a second until then)
	if nsx $sta ping -c 1 -w 10 $lan4 >/dev/null 2>&1 && nsx $sta ping -6 -c 1 -w 10 $lan6 >/dev/null 2>&1; then
		echo "ok sta-ping - the station pings the LAN host over IPv4 and IPv6 through the AP"
	else
		echo "not ok sta-ping - the station has addresses but $lan4 or $lan6 does not answer: $(nsx $sta ip neigh | tr '\n' ';')"
		return 1
	fi
}
# The station's own checks are wifi-sta-*: a failure there is the link's,
# not hv's.
out=$(station)
rc=$?
sed 's/^\(\(not \)\{0,1\}ok \)/\1wifi-/' <<<"$out"
if ((rc)); then
	echo "# lan: $(tl "$w/dnsmasq.log" 4)"
	exit 0
fi

# --- step 3: hv in the station's namespace ------------------------------------------
# The switch's adapter = attaches the uplink (wifi-bridge or pcap) itself.
plugins=$(net_hv_plugins "$hv")
for p in switch virtio-net wifi-bridge pcap; do
	if ! grep -qx $p <<<"$plugins"; then
		echo "not ok wifi-plugins - hv plugins lists no $p: hv's side is not tested"
		exit 0
	fi
done

# guest_ini NAME MAC BRIDGE: a Linux guest on [net lan] external, adapter = wlan1
guest_ini() {
	net_vm "$1" kvm 256M "$kernel" "$d/st/initramfs.cpio.gz" "" "control = $w/$1.sock"
	printf '[net lan]\nplugin = switch\ntype = external\nadapter = wlan1\nbridge = %s\n\n' "$3"
	net_nic nic0 lan "$2"
}
# boot NAME MAC BRIDGE: checks the INI, starts hv in the station's namespace
# (-v: the start's info lines say which uplink the switch took) and waits
# for the guest's shell
boot() {
	local v=$1 err
	guest_ini "$@" >"$w/$v.ini"
	if ! err=$(nsx $sta "$hv" check "$w/$v.ini" 2>&1 >/dev/null); then
		echo "not ok wifi-$v-config - hv check: $(tail -n 2 <<<"$err" | tr '\n' ' ')"
		return 1
	fi
	net_start "$v" $sta "$hv" run -v "$w/$v.ini"
	if net_wait "$v" '^HV-LINUX-READY' "$boot_secs"; then
		echo "# $v: Linux ready $(since "$t_start") s after the start"
	else
		echo "not ok wifi-$v-boot - no HV-LINUX-READY in $boot_secs s"
		net_diag "$v"
		return 1
	fi
}
# halt NAME: the guest powers off and hv exits 0 (a sanitizer's report
# would make it exit non-zero)
halt() {
	local rc=0
	net_stop "$1" 60 || rc=$?
	if ((rc == 0)); then
		echo "ok wifi-$1-exit - the guest powered off, hv exited 0"
	else
		echo "not ok wifi-$1-exit - hv exited $rc: $(tl "$w/$1.err" 4)"
	fi
}
# gcheck NAME SECS TAG CMD...: net_check with the tag prefixed wifi-
gcheck() { net_check "$1" "$2" "$3" "${@:4}" | sed 's/^\(\(not \)\{0,1\}ok \)/\1wifi-/'; return "${PIPESTATUS[0]}"; }
# vm_addr NAME TAG: what hvwifi printed as TAG's address
vm_addr() { net_con "$1" | sed -n "s/^HVWIFI-ADDR[46] $2 //p" | tail -n 1; }
# neigh_mac NS ADDR: the MAC NS's neighbour table holds for ADDR
neigh_mac() { $IP -n "$1" neigh show to "$2" | sed -n 's/.* lladdr \([0-9a-f:]*\).*/\1/p' | head -n 1; }

g_mac=52:54:00:08:00:21
if boot g "$g_mac" auto; then
	want="[net lan]: adapter wlan1 is wireless: uplink through the Wi-Fi bridge (bridge = auto)"
	if grep -qF -- "$want" "$w/g.err"; then
		echo "ok wifi-bridge-auto - wlan1 is wireless: $want"
	else
		echo "not ok wifi-bridge-auto - no line \"$want\" from hv: $(grep -F '[net lan' "$w/g.err" | head -n 3 | tr '\n' '|')"
	fi
	if grep -q "wlan1: Wi-Fi bridge, station MAC $sta_mac" "$w/g.err"; then
		echo "ok wifi-bridge-start - $(grep -h 'Wi-Fi bridge, station' "$w/g.err" | head -n 1)"
	else
		echo "not ok wifi-bridge-start - no 'wlan1: Wi-Fi bridge, station MAC $sta_mac' line: $(head -c 600 "$w/g.err" | tr '\n' '|')"
	fi
	gcheck g 60 guest-dhcp4 hvwifi dhcp guest-dhcp4 $g_mac 50
	gcheck g 60 guest-slaac hvwifi slaac guest-slaac $g_mac $pfx6 50
	g4=$(vm_addr g guest-dhcp4) g6=$(vm_addr g guest-slaac)
	gcheck g 40 guest-ping4 hvnet ping guest-ping4 $lan4 30
	gcheck g 40 guest-ping6 hvnet ping guest-ping6 $lan6 30
	# The LAN host learnt the guest's addresses from frames the bridge
	# sent: each must map to the station's MAC, and the guest's own MAC
	# must be nowhere in its table.
	bad=''
	for a in $g4 $g6; do
		m=$(neigh_mac $lan "$a")
		[[ $m == "$sta_mac" ]] || bad+=" $a -> ${m:-none}"
	done
	$IP -n $lan neigh show | grep -qi "$g_mac" && bad+=" the guest's $g_mac is in it"
	if [[ -n $g4 && -n $g6 && -z $bad ]]; then
		echo "ok wifi-lan-neigh - the LAN host's neighbours: $g4 and $g6 are at wlan1's $sta_mac"
	else
		echo "not ok wifi-lan-neigh - guest ${g4:-no v4} ${g6:-no v6}, want both at $sta_mac:$bad"
	fi
	$IP -n $lan neigh show | sed 's/^/# lan neigh: /'
	# The AP's side of the same: one associated station, wlan1.
	stas=$(nsx $ap iw dev wlan0 station dump | sed -n 's/^Station \([0-9a-f:]*\) .*/\1/p' | tr '\n' ' ')
	if [[ $stas == "$sta_mac " ]]; then
		echo "ok wifi-ap-stations - the AP has one station, wlan1's $sta_mac"
	else
		echo "not ok wifi-ap-stations - the AP's stations: ${stas:-none}, want $sta_mac alone"
	fi
	# The guest keeps its own lease: dnsmasq saw its MAC as the client.
	if [[ -n $g4 ]] && grep -q " $g_mac $g4 " "$w/leases"; then
		echo "ok wifi-guest-lease - dnsmasq leased $g4 to the guest's own $g_mac (chaddr kept)"
	else
		echo "not ok wifi-guest-lease - no lease of ${g4:-?} to $g_mac: $(tr '\n' ';' <"$w/leases")"
	fi
	if st=$("$hv" ctl "$w/g.sock" status lan.uplink 2>&1); then
		sed 's/^/# status: /' <<<"$st"
		if [[ -n $g4 ]] && grep -qiE "(^|[[:space:]])$g4[[:space:]]+$g_mac([[:space:]]|$)" <<<"$st"; then
			echo "ok wifi-bridge-table - hv ctl status lan.uplink: $g4 -> $g_mac"
		else
			echo "not ok wifi-bridge-table - no entry $g4 -> $g_mac in hv ctl status lan.uplink"
		fi
	else
		echo "not ok wifi-bridge-table - hv ctl status lan.uplink: $(head -n 2 <<<"$st" | tr '\n' ' ')"
	fi
	halt g
fi

# The same guest on a plain bridge (pcap, promiscuous): its frames leave
# with its own MAC, which the AP does not know, so it must not reach the
# LAN host. If it does, the test says so: that is a finding about the AP.
p_mac=52:54:00:08:00:22
if boot p "$p_mac" plain; then
	want="[net lan]: adapter wlan1 is wireless: uplink through pcap, promiscuous (bridge = plain)"
	if grep -qF -- "$want" "$w/p.err"; then
		echo "ok wifi-bridge-plain - $want"
	else
		echo "not ok wifi-bridge-plain - no line \"$want\" from hv: $(grep -F 'wlan1' "$w/p.err" | head -n 3 | tr '\n' '|')"
	fi
	if gcheck p 30 plain-addr hvwifi static plain-addr $p_mac 10.200.8.62/24 $pfx6:62/64; then
		tx0=$(nsx $sta cat /sys/class/net/wlan1/statistics/tx_packets)
		rx0=$(nsx $lan cat /sys/class/net/hvt-lan0/statistics/rx_packets)
		gcheck p 40 plain-isolated4 hvnet noping plain-isolated4 $lan4 20
		gcheck p 40 plain-isolated6 hvnet noping plain-isolated6 $lan6 15
		tx=$(($(nsx $sta cat /sys/class/net/wlan1/statistics/tx_packets) - tx0))
		rx=$(($(nsx $lan cat /sys/class/net/hvt-lan0/statistics/rx_packets) - rx0))
		# The silence must be the AP's doing: the guest's ARP requests
		# and echo requests did go out over the air (pings of 35 s).
		if ((tx >= 10)); then
			echo "ok wifi-plain-sent - wlan1 sent $tx frames meanwhile (the guest's, with its own MAC), the LAN host received $rx"
		else
			echo "not ok wifi-plain-sent - wlan1 sent only $tx frames while the guest pinged: the isolation proves nothing"
		fi
		m=$(neigh_mac $lan 10.200.8.62)
		echo "# plain: the LAN host's neighbour entry for 10.200.8.62: ${m:-none}"
	fi
	halt p
fi
echo "# wifi: done $(since "$t_start") s after the start"
exit 0
