#!/usr/bin/env bash
# The network tests' scenario: two Linux VMs, each in its own hv process,
# the host side in network namespaces this script creates (and removes on
# exit). Runs on the host (net.t, accel=emu) and in the nested VM
# (net-kvm.t, accel=kvm). Prints ok/not ok lines; exits 0.
# usage: net-run.sh DIR HV ACCEL KERNEL SECS
#   DIR    holds initramfs.cpio.gz (net_prepare in net-lib.sh); the VMs'
#          INIs, consoles and the transfer files are written there
#   SECS   the longest a guest may take to boot
#
#  hv A (ns a, control socket)             hv B (ns a)
#   nic0 52:..:01:11 ─┐  [net priv] private, socket = DIR/priv.sock
#   nic3 52:..:05:11 ─┤  (link = off)       ├─ nic0 52:..:01:12
#                     └─────────────────────┴─ nic1 52:..:04:12 offloads = off
#   nic1 52:..:02:11 ── [net lan] internal, tap hvtap0 in ns a (10.200.2.1)
#   nic2 52:..:03:11 ── [net ext] external, adapter = hvt-a (bridge = plain:
#                        the switch attaches pcap itself) on a veth in ns a,
#                        its peer hvt-b in ns b (10.200.3.1)
# The private subnet's 10.200.1.1 is on ns a's lo: if a private frame ever
# reached the host, the host would answer it.
set -u
# C: console bytes that are not UTF-8 must not make grep call it binary
export LC_ALL=C
d=$1 hv=$2 accel=$3 kernel=$4 boot_secs=${5:-300}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=net-lib.sh
source "$here/net-lib.sh"
IP=${NET_IP:-ip}
# Debian's python3, which has python3-scapy (not a pyenv shim's)
py=${NET_PY:-python3}
[[ -n ${NET_PY:-} || ! -x /usr/bin/python3 ]] || py=/usr/bin/python3
tag=hvt-$$
na=$tag-a nb=$tag-b
NET_DIR=$d

cleanup() {
	net_kill_all
	$IP netns del "$na" 2>/dev/null
	$IP netns del "$nb" 2>/dev/null
}
trap cleanup EXIT

since() { awk -v s="$1" '{ printf "%.1f", $1 - s }' /proc/uptime; }
t_start=$(cut -d' ' -f1 /proc/uptime)

# --- the host side ---------------------------------------------------------
host_setup() {
	$IP netns add "$na" && $IP netns add "$nb" || return 1
	$IP -n "$na" link set lo up
	$IP -n "$nb" link set lo up
	$IP -n "$na" addr add 10.200.1.1/32 dev lo
	# the internal switch's tap, made persistent here so it can be
	# addressed before hv opens it (hv neither creates addresses nor
	# brings links up)
	$IP -n "$na" tuntap add dev hvtap0 mode tap || return 1
	$IP -n "$na" link set hvtap0 up
	$IP -n "$na" addr add 10.200.2.1/24 dev hvtap0
	$IP -n "$na" addr add fd00:200::20/128 dev hvtap0 nodad
	$IP -n "$na" -6 route add fd00:200::21/128 dev hvtap0
	# the external switch's wire
	$IP link add hvt-a netns "$na" type veth peer name hvt-b netns "$nb" || return 1
	$IP -n "$na" link set hvt-a up
	$IP -n "$nb" link set hvt-b up
	# A wire carries finished checksums; a veth hands the packet sockets
	# of its peer (libpcap on hvt-a) frames whose checksum the sender left
	# to an offload (CHECKSUM_PARTIAL), and libpcap cannot tell which. So
	# ns b's host finishes them itself, as a real NIC would on the wire.
	$IP netns exec "$nb" ethtool -K hvt-b tx off >/dev/null || return 1
	$IP -n "$nb" addr add 10.200.3.1/24 dev hvt-b
	$IP -n "$nb" addr add fd00:200::30/128 dev hvt-b nodad
	$IP -n "$nb" -6 route add fd00:200::31/128 dev hvt-b
}

# --- the VMs ----------------------------------------------------------------
have_plugin() { grep -qx -- "$1" <<<"$plugins"; }

write_inis() {
	local ctl=''
	have_ctl && ctl="control = $d/a.sock"
	{
		net_vm net-a "$accel" 256M "$kernel" "$d/initramfs.cpio.gz" "" "$ctl"
		printf '[net priv]\nplugin = switch\ntype = private\nsocket = %s\n\n' "$d/priv.sock"
		if ((lan)); then
			printf '[net lan]\nplugin = switch\ntype = internal\nuplink = hosttap\n\n'
			printf '[net hosttap]\nplugin = tap\nifname = hvtap0\nvnet_hdr = on\n\n'
		fi
		if ((ext)); then
			printf '[net ext]\nplugin = switch\ntype = external\nadapter = hvt-a\nbridge = plain\n\n'
		fi
		net_nic nic0 priv 52:54:00:00:01:11
		((lan)) && net_nic nic1 lan 52:54:00:00:02:11
		((ext)) && net_nic nic2 ext 52:54:00:00:03:11
		net_nic nic3 priv 52:54:00:00:05:11 link=off
	} >"$d/a.ini"
	{
		net_vm net-b "$accel" 256M "$kernel" "$d/initramfs.cpio.gz"
		printf '[net priv]\nplugin = switch\ntype = private\nsocket = %s\n\n' "$d/priv.sock"
		net_nic nic0 priv 52:54:00:00:01:12
		net_nic nic1 priv 52:54:00:00:04:12 offloads=off
	} >"$d/b.ini"
}

have_ctl() { "$hv" ctl --help >/dev/null 2>&1; }

# up NAME MAC ARGS...: hvnet up, waits for its HVNET-UP line
up() {
	local v=$1 mac=$2
	net_type "$v" "hvnet up $mac ${*:3}"
	net_wait "$v" "^HVNET-UP(-FAIL)? $mac" 30 && net_con "$v" | grep -q "^HVNET-UP $mac"
}

# --- the checks ----------------------------------------------------------------
plugins=$(net_hv_plugins "$hv")
for p in virtio-net switch; do
	if ! have_plugin "$p"; then
		echo "not ok net-plugins - no $p plugin in this build (hv plugins): nothing to test"
		exit 0
	fi
done
lan=1 ext=1
have_plugin tap || { lan=0; echo "not ok net-internal - no tap plugin in this build: the internal switch is not tested"; }
have_plugin pcap || { ext=0; echo "not ok net-external - no pcap plugin in this build: the external switch is not tested"; }
if ! err=$(host_setup 2>&1); then
	echo "not ok net-host-setup - $err"
	exit 0
fi
write_inis
for v in a b; do
	if ! err=$("$hv" check "$d/$v.ini" 2>&1 >/dev/null); then
		echo "not ok net-config-$v - hv check $v.ini: $(tail -n 2 <<<"$err" | tr '\n' ' ')"
		exit 0
	fi
done
echo "ok net-config - hv check accepts both VMs' INIs"
net_start b "$na" "$hv" run "$d/b.ini"
net_start a "$na" "$hv" run "$d/a.ini"
for v in a b; do
	if net_wait "$v" '^HV-LINUX-READY' "$boot_secs"; then
		echo "ok net-boot-$v - Linux ready $(since "$t_start") s after the start"
	else
		echo "not ok net-boot-$v - no HV-LINUX-READY in $boot_secs s"
		net_diag "$v"
		exit 0
	fi
	net_type "$v" "stty -echo; PS1="
done
up b 52:54:00:00:01:12 10.200.1.12/24 fd00:200::12 fd00:200::11 &&
	up b 52:54:00:00:04:12 10.200.4.12/24 fd00:200::42 ||
	{ echo "not ok net-up-b - $(net_con b | grep HVNET-UP | tr '\n' ' ')"; net_diag b; }
up a 52:54:00:00:01:11 10.200.1.11/24 fd00:200::11 fd00:200::12 &&
	net_type a "hvnet addr 52:54:00:00:01:11 10.200.4.11/24" ||
	{ echo "not ok net-up-a - $(net_con a | grep HVNET-UP | tr '\n' ' ')"; net_diag a; }
((lan)) && up a 52:54:00:00:02:11 10.200.2.11/24 fd00:200::21 fd00:200::20
((ext)) && up a 52:54:00:00:03:11 10.200.3.11/24 fd00:200::31 fd00:200::30

# private switch, across two hv processes
net_check a 60 net-private-ping4-a2b hvnet ping net-private-ping4-a2b 10.200.1.12 50
net_check b 40 net-private-ping4-b2a hvnet ping net-private-ping4-b2a 10.200.1.11 30
net_check a 40 net-private-ping6-a2b hvnet ping net-private-ping6-a2b fd00:200::12 30
net_check b 40 net-private-ping6-b2a hvnet ping net-private-ping6-b2a fd00:200::11 30
net_check a 20 net-private-no-host hvnet noping net-private-no-host 10.200.1.1 6
net_check a 20 net-link-ini-off hvnet carrier net-link-ini-off 52:54:00:00:05:11 0 3

# B's nic1 has offloads = off: A's TSO frames are cut in software for it
net_check a 40 net-offloads-off-ping4 hvnet ping net-offloads-off-ping4 10.200.4.12 30
net_type b "hvnet recv x 5003"
net_wait b '^HVNET-LISTEN 5003' 20
net_check a 120 net-offloads-off-tcp-send hvnet send net-offloads-off-tcp-send 10.200.4.12 5003 1024
if net_check b 120 net-offloads-off-tcp-recv hvnet sha net-offloads-off-tcp-recv 5003 100 >"$d/r5003"; then
	sent=$(net_con a | sed -n 's/^HVNET-SENT net-offloads-off-tcp-send //p')
	if grep -q "sha256 $sent\$" "$d/r5003" && grep -q ' 1048576 bytes' "$d/r5003"; then
		echo "ok net-offloads-off-tcp - 1 MiB from A (offloads on) to B's nic1 (offloads off), sha256 matches"
	else
		echo "not ok net-offloads-off-tcp - sent sha256 $sent; $(cat "$d/r5003")"
	fi
else
	cat "$d/r5003"
fi

# internal switch: the host's tap
if ((lan)); then
	net_check a 40 net-internal-ping4 hvnet ping net-internal-ping4 10.200.2.1 30
	net_check a 40 net-internal-ping6 hvnet ping net-internal-ping6 fd00:200::20 30
	if out=$($IP netns exec "$na" busybox ping -c 2 -W 5 10.200.2.11 2>&1); then
		echo "ok net-internal-host-ping4 - the host pings the VM: $(tail -n 1 <<<"$out")"
	else
		echo "not ok net-internal-host-ping4 - $(tail -n 2 <<<"$out" | tr '\n' ' ')"
	fi
	kib=${NET_TCP_KIB:-2048}
	rm -f "$d/rx-5001"
	# (a stdin that never ends: see hvnet recv in net-guest.sh)
	rm -f "$d/hold"
	mkfifo "$d/hold"
	$IP netns exec "$na" timeout 200 busybox nc -l -p 5001 <>"$d/hold" >"$d/rx-5001" 2>/dev/null &
	nc_pid=$!
	sleep 0.5
	net_check a 200 net-internal-tcp-send hvnet send net-internal-tcp-send 10.200.2.1 5001 "$kib"
	wait $nc_pid
	sent=$(net_con a | sed -n 's/^HVNET-SENT net-internal-tcp-send //p')
	got=$(sha256sum <"$d/rx-5001" | cut -d' ' -f1)
	if [[ -n $sent && $got == "$sent" ]]; then
		echo "ok net-internal-tcp-vm2host - $kib KiB over TCP to the tap's address, sha256 matches"
	else
		echo "not ok net-internal-tcp-vm2host - got $(stat -c %s "$d/rx-5001") bytes, sha256 $got, sent $sent"
	fi
	head -c $((kib * 1024)) /dev/urandom >"$d/tx-5002"
	want=$(sha256sum <"$d/tx-5002" | cut -d' ' -f1)
	net_type a "hvnet recv x 5002"
	net_wait a '^HVNET-LISTEN 5002' 20
	sleep 0.5
	t0=$(cut -d' ' -f1 /proc/uptime)
	$IP netns exec "$na" timeout 200 busybox nc 10.200.2.11 5002 <"$d/tx-5002" >/dev/null 2>&1
	if net_check a 200 net-internal-tcp-recv hvnet sha net-internal-tcp-recv 5002 190 >"$d/r5002" &&
		grep -q "sha256 $want\$" "$d/r5002"; then
		echo "ok net-internal-tcp-host2vm - $kib KiB over TCP from the tap's host in $(since "$t0") s, sha256 matches"
	else
		echo "not ok net-internal-tcp-host2vm - sent sha256 $want: $(cat "$d/r5002")"
	fi
fi

# external switch: pcap on a veth, a host in another namespace
if ((ext)); then
	net_check a 40 net-external-ping4 hvnet ping net-external-ping4 10.200.3.1 30
	net_check a 40 net-external-ping6 hvnet ping net-external-ping6 fd00:200::30 30
	# scapy on the wire: A's TCP frames arrive cut to the MTU with their
	# checksums finished (pcap takes no offloads: the core does them)
	if [[ ${NET_WIRE:-1} == 0 ]]; then
		echo "# net-external-wire-frames: NET_WIRE=0 (no python3 here; net.t checks it)"
	elif $py -c 'import scapy.all' 2>/dev/null; then
		rm -f "$d/wire.ready" "$d/wire.stop" "$d/hold4"
		mkfifo "$d/hold4"
		$IP netns exec "$nb" timeout 100 busybox nc -l -p 5004 <>"$d/hold4" >"$d/rx-5004" 2>/dev/null &
		$IP netns exec "$nb" timeout 120 "$py" "$here/net-wire.py" hvt-b \
			52:54:00:00:03:11 100 "$d/wire.ready" "$d/wire.stop" >"$d/wire.out" 2>&1 &
		wire=$!
		for _ in $(seq 50); do [[ -e $d/wire.ready ]] && break; sleep 0.2; done
		net_check a 100 net-external-tcp-send hvnet send net-external-tcp-send 10.200.3.1 5004 256
		sleep 1
		touch "$d/wire.stop"
		wait $wire
		grep -E '^(not )?ok ' "$d/wire.out" || echo "not ok net-external-wire-frames - net-wire.py: $(tail -n 2 "$d/wire.out" | tr '\n' ' ')"
	else
		echo "not ok net-external-wire-frames - no scapy for $py (python3-scapy, scripts/deps.sh)"
	fi
	neigh=$($IP -n "$nb" neigh show 10.200.3.11 dev hvt-b)
	if grep -q 'lladdr 52:54:00:00:03:11' <<<"$neigh"; then
		echo "ok net-external-neigh - ns b's neighbour table: $neigh"
	else
		echo "not ok net-external-neigh - ns b has '$neigh' for 10.200.3.11, want lladdr 52:54:00:00:03:11"
	fi
	# the switch's MAC table (hv ctl status): the VM's NIC and ns b's host,
	# the latter on the uplink the switch attached ([net ext.uplink])
	if have_ctl; then
		hostmac=$($IP -n "$nb" link show hvt-b | awk '/link\/ether/ { print $2 }')
		st=$("$hv" ctl "$d/a.sock" status ext json 2>&1)
		up=$("$hv" ctl "$d/a.sock" status ext.uplink json 2>&1)
		uport=$(grep -o '{"port":[0-9]*,"kind":"uplink"' <<<"$st" | grep -o '[0-9][0-9]*')
		if grep -q '"mac":"52:54:00:00:03:11","vlan":0,"port":' <<<"$st" &&
			grep -q "\"mac\":\"$hostmac\",\"vlan\":0,\"port\":$uport," <<<"$st" &&
			grep -q '^{"section":"net ext.uplink","plugin":"pcap",.*"attached_to":"net ext"}$' <<<"$up"; then
			echo "ok net-external-status - the switch learned the VM's and the host's ($hostmac, uplink port $uport) MACs"
		else
			echo "not ok net-external-status - $(head -c 400 <<<"$st") / $up"
		fi
	fi
fi

# link state at run time, through hv ctl
if ! have_ctl; then
	echo "not ok net-link-ctl - no 'hv ctl' in this build: run-time link changes not tested"
elif ((lan)); then
	if err=$("$hv" ctl "$d/a.sock" set nic1 link off 2>&1); then
		net_check a 30 net-link-ctl-off hvnet carrier net-link-ctl-off 52:54:00:00:02:11 0 20
	else
		echo "not ok net-link-ctl-off - hv ctl set nic1 link off: $err"
	fi
	if err=$("$hv" ctl "$d/a.sock" set nic1 link on 2>&1); then
		net_check a 30 net-link-ctl-on hvnet carrier net-link-ctl-on 52:54:00:00:02:11 1 20 &&
			net_check a 40 net-link-ctl-ping4 hvnet ping net-link-ctl-ping4 10.200.2.1 30
	else
		echo "not ok net-link-ctl-on - hv ctl set nic1 link on: $err"
	fi
fi

for v in a b; do
	rc=0
	net_stop "$v" 60 || rc=$?
	if ((rc == 0)); then
		echo "ok net-poweroff-$v - hv exited 0 after poweroff; $(since "$t_start") s in all"
	elif ((rc == 124)); then
		echo "not ok net-poweroff-$v - hv still ran 60 s after poweroff"
		net_diag "$v"
	else
		echo "not ok net-poweroff-$v - hv exited $rc"
		net_diag "$v"
	fi
done
grep -h -iE 'warn|error|drop' "$d/a.err" "$d/b.err" | sort | uniq -c | head -n 8 | sed 's/^/# hv stderr: /'
exit 0
