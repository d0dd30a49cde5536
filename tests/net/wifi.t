#!/bin/bash
# hv-test: once
# hv-test: timeout=600
# The Wi-Fi bridge against an access-point model (issue 12): an AP takes
# from a station only frames whose source is the station's MAC, so two
# Linux VMs (accel=emu, two hv processes on one external switch through
# its socket) must reach the LAN behind it through the bridge's MAC
# rewriting and ARP/ND proxy. Debian's dnsmasq on the LAN host hands out
# DHCPv4 leases and router advertisements (SLAAC); the LAN host's kernel
# answers ARP, NDP and ping; its neighbour table must hold only the
# station's MAC for the VMs' addresses. The same wire with bridge = plain
# (VM A) and bridge = auto on a veth (VM B: not wireless, so plain) must
# not reach the LAN host, and does once the AP's rule is lifted.
#
#  ns sta                       ns ap (linux bridge br0)       ns lan
#  hv A: [net lan] bridge=wifi  hvt-ap0 (drop src != sta0) ┐   hvt-lan 10.200.7.1
#        adapter hvt-sta0 ───── hvt-ap0                    ├── hvt-apl ── 10.200.8.1
#        [net plain] hvt-sta1 ─ hvt-ap1 (drop src != sta1) ┤           fd00:200::1/64
#  hv B: [net lan] (A's, by     hvt-ap2 (drop src != sta2) ┘   dnsmasq: DHCPv4
#        its socket)                                           .100-.150, RA
#        [net auto] hvt-sta2 ── hvt-ap2
set -u
export LC_ALL=C
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/${BUILD:-build}
hv=${HV:-$build/hv}
[[ $hv == /* ]] || hv=$root/$hv
export HV_PLUGIN_PATH=${HV_PLUGIN_PATH:-$build/plugins}
[[ $HV_PLUGIN_PATH == /* ]] || HV_PLUGIN_PATH=$root/$HV_PLUGIN_PATH
# shellcheck source=../linux/net-lib.sh
source "$root/tests/linux/net-lib.sh"
kernel=${HV_EMU_LINUX_KERNEL:-$(ls -1v /boot/vmlinuz-* 2>/dev/null | tail -n 1)}
boot_secs=${HV_NET_BOOT_SECS:-240}
if [[ -z $kernel || ! -r $kernel ]]; then
	echo "not ok wifi - no readable /boot/vmlinuz-* (linux-image-amd64, root)"
	exit 0
fi
for c in ip busybox ethtool nft dnsmasq python3; do
	command -v $c >/dev/null || { echo "not ok wifi - $c missing (scripts/deps.sh)"; exit 0; }
done
plugins=$(net_hv_plugins "$hv")
for p in switch virtio-net pcap wifi-bridge; do
	grep -qx -- "$p" <<<"$plugins" ||
		{ echo "not ok wifi-plugins - no $p plugin in this build (hv plugins)"; exit 0; }
done

tag=hvt-$$
nsta=$tag-sta nap=$tag-ap nlan=$tag-lan
d=$(mktemp -d "$root/build/wifi.XXXXXX")
NET_DIR=$d
IP=ip
cleanup() {
	net_kill_all
	[[ -s $d/dnsmasq.pid ]] && kill "$(cat "$d/dnsmasq.pid")" 2>/dev/null
	for n in "$nsta" "$nap" "$nlan"; do $IP netns del "$n" 2>/dev/null; done
	rm -rf "$d"
}
trap cleanup EXIT
since() { awk -v s="$1" '{ printf "%.1f", $1 - s }' /proc/uptime; }
t_start=$(cut -d' ' -f1 /proc/uptime)
mac_a=52:54:00:00:07:11 mac_b=52:54:00:00:07:12
mac_pa=52:54:00:00:08:11 mac_pb=52:54:00:00:08:12

# --- the access point model ---------------------------------------------------
# ap_rule N MAC: the AP's port to station N takes only MAC as source
ap_rule() {
	$IP netns exec "$nap" nft add chain netdev hvt_ap "sta$1" \
		"{ type filter hook ingress device hvt-ap$1 priority 0; policy accept; }" &&
		$IP netns exec "$nap" nft add rule netdev hvt_ap "sta$1" ether saddr != "$2" counter drop
}

model_setup() {
	local n i
	for n in "$nsta" "$nap" "$nlan"; do
		$IP netns add "$n" && $IP -n "$n" link set lo up || return 1
	done
	# no multicast snooping: with no querier it would only add a variable
	$IP -n "$nap" link add br0 type bridge mcast_snooping 0 || return 1
	for i in 0 1 2; do
		$IP link add "hvt-sta$i" netns "$nsta" type veth peer name "hvt-ap$i" netns "$nap" || return 1
		$IP -n "$nap" link set "hvt-ap$i" master br0 up
		$IP -n "$nsta" link set "hvt-sta$i" up
		sta_mac[i]=$($IP netns exec "$nsta" cat "/sys/class/net/hvt-sta$i/address")
	done
	$IP link add hvt-lan netns "$nlan" type veth peer name hvt-apl netns "$nap" || return 1
	$IP -n "$nap" link set hvt-apl master br0 up
	$IP -n "$nap" link set br0 up
	$IP -n "$nlan" link set hvt-lan up
	# a wire carries finished checksums (see tests/linux/net-run.sh)
	$IP netns exec "$nlan" ethtool -K hvt-lan tx off >/dev/null || return 1
	$IP -n "$nlan" addr add 10.200.7.1/24 dev hvt-lan
	$IP -n "$nlan" addr add 10.200.8.1/24 dev hvt-lan
	$IP -n "$nlan" addr add fd00:200::1/64 dev hvt-lan nodad
	$IP netns exec "$nap" nft add table netdev hvt_ap || return 1
	for i in 0 1 2; do ap_rule $i "${sta_mac[i]}" || return 1; done
	$IP netns exec "$nlan" dnsmasq --conf-file=/dev/null --port=0 --no-resolv --no-hosts \
		--interface=hvt-lan --bind-interfaces --user=root --group=root \
		--pid-file="$d/dnsmasq.pid" --dhcp-leasefile="$d/dnsmasq.leases" \
		--log-facility="$d/dnsmasq.log" --log-dhcp --no-ping --dhcp-authoritative \
		--dhcp-range=10.200.7.100,10.200.7.150,255.255.255.0,1h \
		--enable-ra --dhcp-range=fd00:200::,ra-only,64,1h --ra-param=hvt-lan,4
}
declare -a sta_mac
if ! model_setup >"$d/setup.log" 2>&1; then
	echo "not ok wifi-model-setup - $(tail -n 3 "$d/setup.log" | tr '\n' ' ')"
	exit 0
fi
echo "ok wifi-model-setup - station MAC ${sta_mac[0]}; AP drops other sources; dnsmasq $(dnsmasq --version | head -n 1 | awk '{ print $3 }')"

# --- the VMs --------------------------------------------------------------------
# ext_switch NAME IF BRIDGE [KEY=VALUE...]: an external switch on adapter
# IF; with explicit=1 (a core without adapter =) the uplink section that
# adapter = stands for, under the name NAME-up
explicit=0 status_sec=lan.uplink
ext_switch() {
	local kv n=$1 ifc=$2 br=$3
	printf '[net %s]\nplugin = switch\ntype = external\n' "$n"
	if ((explicit)); then
		printf 'uplink = %s-up\n' "$n"
	else
		printf 'adapter = %s\nbridge = %s\n' "$ifc" "$br"
	fi
	shift 3
	for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
	echo
	((explicit)) || return 0
	if [[ $br == wifi ]]; then
		printf '[net %s-up]\nplugin = wifi-bridge\nifname = %s\n\n' "$n" "$ifc"
	else
		printf '[net %s-up]\nplugin = pcap\nifname = %s\npromisc = on\n\n' "$n" "$ifc"
	fi
}
write_inis() {
	{
		net_vm wifi-a emu 256M "$kernel" "$d/initramfs.cpio.gz" "" "control = $d/a.sock"
		ext_switch lan hvt-sta0 wifi "socket=$d/lan.sock"
		ext_switch plain hvt-sta1 plain
		net_nic nic0 lan $mac_a
		net_nic nic1 plain $mac_pa
	} >"$d/a.ini"
	{
		net_vm wifi-b emu 256M "$kernel" "$d/initramfs.cpio.gz"
		ext_switch lan hvt-sta0 wifi "socket=$d/lan.sock"
		ext_switch auto hvt-sta2 auto
		net_nic nic0 lan $mac_b
		net_nic nic1 auto $mac_pb
	} >"$d/b.ini"
}
if ! err=$(net_prepare "$d" "${kernel##*/vmlinuz-}" 2>&1); then
	echo "not ok wifi-prepare - $(tail -n 3 <<<"$err" | tr '\n' ' ')"
	exit 0
fi
write_inis
if err=$($IP netns exec "$nsta" "$hv" check "$d/a.ini" 2>&1 >/dev/null); then
	echo "ok wifi-config - hv check takes adapter = / bridge = wifi, plain, auto"
elif grep -q 'adapter' <<<"$err"; then
	# the rest still tests the bridge, through the uplink it stands for
	echo "not ok wifi-adapter-key - hv check refuses adapter =: $(tail -n 1 <<<"$err")"
	explicit=1 status_sec=lan-up
	write_inis
fi
for v in a b; do
	if ! err=$($IP netns exec "$nsta" "$hv" check "$d/$v.ini" 2>&1 >/dev/null); then
		echo "not ok wifi-config-$v - hv check $v.ini: $(tail -n 2 <<<"$err" | tr '\n' ' ')"
		exit 0
	fi
done
# A binds the switch's socket (the hub: it attaches the uplink), B joins
# (-v: the start's info lines say which uplink each switch took)
net_start a "$nsta" "$hv" run -v "$d/a.ini"
for _ in $(seq 100); do [[ -S $d/lan.sock ]] && break; sleep 0.2; done
net_start b "$nsta" "$hv" run -v "$d/b.ini"
for v in a b; do
	if net_wait "$v" '^HV-LINUX-READY' "$boot_secs"; then
		echo "ok wifi-boot-$v - Linux ready $(since "$t_start") s after the start"
	else
		echo "not ok wifi-boot-$v - no HV-LINUX-READY in $boot_secs s"
		net_diag "$v"
		exit 0
	fi
	net_type "$v" "stty -echo; PS1="
done

# which uplink each switch took, from the start's info lines
if grep -q "hvt-sta0: Wi-Fi bridge, station MAC ${sta_mac[0]}, MTU 1500" "$d/a.err"; then
	echo "ok wifi-bridge-start - $(grep -h 'Wi-Fi bridge, station' "$d/a.err" | head -n 1)"
else
	echo "not ok wifi-bridge-start - no 'hvt-sta0: Wi-Fi bridge, station MAC ${sta_mac[0]}' line: $(head -c 600 "$d/a.err" | tr '\n' '|')"
fi
if grep -q 'hvt-sta2: MTU [0-9]*, promiscuous' "$d/b.err" && ! grep -q 'hvt-sta2: Wi-Fi bridge' "$d/b.err" &&
	grep -E 'hvt-sta2.*(not wireless|plain|pcap)' "$d/b.err" | grep -q 'bridge = auto'; then
	echo "ok wifi-auto-veth-plain - $(grep -E 'hvt-sta2.*bridge = auto' "$d/b.err" | head -n 1)"
else
	echo "not ok wifi-auto-veth-plain - bridge = auto on a veth did not say it took pcap: $(grep hvt-sta2 "$d/b.err" | tr '\n' '|')"
fi

# the plain NICs first (IPv4 only: the RA must not give them addresses),
# then DHCP on both VMs at once
net_type a "hvnet up4 $mac_pa 10.200.8.11/24"
net_type b "hvnet up4 $mac_pb 10.200.8.12/24"
net_type a "hvnet dhcp wifi-dhcp4-a $mac_a 60"
net_type b "hvnet dhcp wifi-dhcp4-b $mac_b 60"
declare -A v4 v6
for v in a b; do
	if out=$(net_answer "$v" 90 "wifi-dhcp4-$v"); then
		v4[$v]=${out##* - }
		v4[$v]=${v4[$v]%/*}
	fi
	echo "$out"
done
net_type a "hvnet slaac wifi-slaac-a $mac_a fd00:200: 50"
net_type b "hvnet slaac wifi-slaac-b $mac_b fd00:200: 50"
for v in a b; do
	if out=$(net_answer "$v" 60 "wifi-slaac-$v"); then
		v6[$v]=${out##* - }
	fi
	echo "$out"
done
if [[ -z ${v4[a]:-} || -z ${v4[b]:-} ]]; then
	echo "not ok wifi-addresses - without both leases there is nothing more to test"
	grep -h DHCP "$d/dnsmasq.log" | tail -n 6 | sed 's/^/# dnsmasq: /'
	exit 0
fi
# leases are the VMs' own: dnsmasq saw each VM's chaddr, not the station's
for v in a b; do
	mac=mac_$v
	if grep -q "${v4[$v]} " "$d/dnsmasq.leases" && grep "${v4[$v]} " "$d/dnsmasq.leases" | grep -qi "${!mac}"; then
		echo "ok wifi-lease-chaddr-$v - dnsmasq leased ${v4[$v]} to ${!mac}"
	else
		echo "not ok wifi-lease-chaddr-$v - leases: $(tr '\n' '|' <"$d/dnsmasq.leases")"
	fi
done

# pings: the LAN host and the other VM, over both
for v in a b; do
	o=b
	[[ $v == b ]] && o=a
	net_check "$v" 40 "wifi-ping4-lan-$v" hvnet ping "wifi-ping4-lan-$v" 10.200.7.1 30
	net_check "$v" 40 "wifi-ping6-lan-$v" hvnet ping "wifi-ping6-lan-$v" fd00:200::1 30
	net_check "$v" 40 "wifi-ping4-vm-$v" hvnet ping "wifi-ping4-vm-$v" "${v4[$o]}" 30
	if [[ -n ${v6[$o]:-} ]]; then
		net_check "$v" 40 "wifi-ping6-vm-$v" hvnet ping "wifi-ping6-vm-$v" "${v6[$o]}" 30
	else
		echo "not ok wifi-ping6-vm-$v - VM $o has no SLAAC address"
	fi
done
if out=$($IP netns exec "$nlan" ping -c 2 -W 5 "${v4[b]}" 2>&1); then
	echo "ok wifi-lan-pings-vm - the LAN host reaches VM B: $(tail -n 1 <<<"$out")"
else
	echo "not ok wifi-lan-pings-vm - $(tail -n 2 <<<"$out" | tr '\n' ' ')"
fi

# the LAN host's neighbour table: the station's MAC for every VM address
for a in "${v4[a]}" "${v4[b]}" "${v6[a]:-}" "${v6[b]:-}"; do
	[[ -n $a ]] || continue
	n=$($IP -n "$nlan" neigh show "$a" dev hvt-lan)
	if grep -q "lladdr ${sta_mac[0]}" <<<"$n"; then
		echo "ok wifi-neigh-$a - $n"
	else
		echo "not ok wifi-neigh-$a - the LAN host has '$n', want lladdr ${sta_mac[0]}"
	fi
done
if leak=$($IP -n "$nlan" neigh | grep -iE "$mac_a|$mac_b|$mac_pa|$mac_pb"); then
	echo "not ok wifi-neigh-no-vm-mac - a VM's MAC reached the LAN host: $(tr '\n' '|' <<<"$leak")"
else
	echo "ok wifi-neigh-no-vm-mac - no VM MAC in the LAN host's neighbour table ($($IP -n "$nlan" neigh | wc -l) entries)"
fi

# the model is real: plain (A) and auto on a veth (B) do not get through,
# and do once the AP's rule for that port is gone
net_check a 30 wifi-plain-blocked hvnet noping wifi-plain-blocked 10.200.8.1 8
net_check b 30 wifi-auto-blocked hvnet noping wifi-auto-blocked 10.200.8.1 8
drops=$($IP netns exec "$nap" nft list chain netdev hvt_ap sta1 | grep -o 'packets [0-9]*')
if $IP netns exec "$nap" nft flush chain netdev hvt_ap sta1 &&
	$IP netns exec "$nap" nft delete chain netdev hvt_ap sta1; then
	net_check a 40 wifi-plain-without-rule hvnet ping wifi-plain-without-rule 10.200.8.1 30 &&
		echo "ok wifi-model-real - plain reaches the LAN host once the AP's rule is gone (it had dropped $drops)"
else
	echo "not ok wifi-model-real - cannot remove the AP's rule for hvt-ap1"
fi

# the bridge's table through hv ctl: both VMs' addresses, their MACs
if ! "$hv" ctl --help 2>&1 | grep -q status; then
	echo "not ok wifi-status - no 'hv ctl SOCK status' in this build"
elif ! js=$("$hv" ctl "$d/a.sock" status "$status_sec" json 2>&1); then
	echo "not ok wifi-status - hv ctl status "$status_sec" json: $js"
else
	want="${v4[a]}=$mac_a ${v4[b]}=$mac_b ${v6[a]:-}=$mac_a ${v6[b]:-}=$mac_b"
	python3 - "$js" $want <<'PY'
import json, sys
try:
    o = json.loads(sys.argv[1])
except ValueError as e:
    print("not ok wifi-status - not JSON (%s): %s" % (e, sys.argv[1][:300]))
    sys.exit(0)
tab = {e["addr"]: e["mac"] for e in o.get("table", [])}
want = [w.split("=") for w in sys.argv[2:] if not w.startswith("=")]
bad = ["%s=%s" % (a, m) for a, m in want if tab.get(a) != m]
if o.get("plugin") != "wifi-bridge" or bad:
    print("not ok wifi-status - plugin %s, missing or wrong: %s; table %s" % (o.get("plugin"), bad, tab))
else:
    print("ok wifi-status - %s: %d entries, both VMs' v4 and v6 with their MACs; out_drops %s"
          % (o.get("section"), len(tab), json.dumps(o.get("stats", {}).get("out_drops"))))
PY
	txt=$("$hv" ctl "$d/a.sock" status "$status_sec" 2>&1)
	if grep -q '^ADDRESS' <<<"$txt" && grep -q "${v4[a]} .*$mac_a" <<<"$txt"; then
		echo "ok wifi-status-text - $(grep -c "$mac_a\|$mac_b" <<<"$txt") table lines"
		head -n 12 <<<"$txt" | sed 's/^/# status: /'
	else
		echo "not ok wifi-status-text - $(head -c 400 <<<"$txt" | tr '\n' '|')"
	fi
fi

# a second VM claiming a live address: B sends ARP from A's IPv4 address;
# the bridge logs it, drops it, and the table keeps A (the first owner)
net_type b "hvnet addr $mac_b ${v4[a]}/32"
if net_wait b "^HVNET-ADDR ${v4[a]}/32 " 20; then
	ifc=$(net_con b | sed -n "s|^HVNET-ADDR ${v4[a]}/32 ||p" | tail -n 1)
	net_type b "hvnet run wifi-claim arping -c 2 -w 3 -I $ifc -s ${v4[a]} 10.200.7.1"
	net_answer b 30 wifi-claim >/dev/null
	sleep 1
	js=$("$hv" ctl "$d/a.sock" status "$status_sec" json 2>&1)
	owner=$(python3 -c 'import json, sys; print({e["addr"]: e["mac"] for e in json.loads(sys.argv[1])["table"]}.get(sys.argv[2]))' "$js" "${v4[a]}" 2>&1)
	if grep -q "claims an address the host or another VM holds" "$d/a.err" && [[ $owner == "$mac_a" ]]; then
		echo "ok wifi-claim-first-owner - B's ARP from ${v4[a]} logged and dropped, the table keeps $owner"
	else
		echo "not ok wifi-claim-first-owner - ${v4[a]} owned by '$owner'; log: $(grep -h claims "$d/a.err" | head -n 1)"
	fi
else
	echo "not ok wifi-claim-first-owner - hvnet addr on B: $(net_con b | tail -n 2 | tr '\n' ' ')"
fi

for v in a b; do
	rc=0
	net_stop "$v" 60 || rc=$?
	if ((rc == 0)); then
		echo "ok wifi-poweroff-$v - hv exited 0; $(since "$t_start") s in all"
	else
		echo "not ok wifi-poweroff-$v - hv exited $rc"
		net_diag "$v"
	fi
done
grep -h -iE 'warn|error|drop' "$d/a.err" "$d/b.err" | sort | uniq -c | head -n 8 | sed 's/^/# hv stderr: /'
exit 0
