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
#   nic2 52:..:03:11 ── [net ext] external, pcap on veth hvt-a in ns a,
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
tag=hvt-$$
na=$tag-a nb=$tag-b
declare -A vm_pid=() vm_fd=()

cleanup() {
	local v
	for v in "${!vm_pid[@]}"; do kill -9 "${vm_pid[$v]}" 2>/dev/null; done
	wait 2>/dev/null
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
			printf '[net ext]\nplugin = switch\ntype = external\nuplink = wire\n\n'
			printf '[net wire]\nplugin = pcap\nifname = hvt-a\npromisc = on\n\n'
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

vm_start() { # NAME
	local v=$1 fd
	rm -f "$d/$v.in" "$d/$v.out"
	mkfifo "$d/$v.in"
	$IP netns exec "$na" "$hv" run "$d/$v.ini" <"$d/$v.in" >"$d/$v.out" 2>"$d/$v.err" &
	vm_pid[$v]=$!
	exec {fd}>"$d/$v.in"
	vm_fd[$v]=$fd
}

vm_alive() { kill -0 "${vm_pid[$1]}" 2>/dev/null; }

# con NAME: NAME's console so far, one line a line, without the prompt
con() { tr -d '\r\000' <"$d/$1.out" | sed 's|^/ # ||'; }

# vm_wait NAME ERE SECS: 0 once NAME's console has a line matching ERE
vm_wait() {
	local i=0
	while ((i < $3 * 5)); do
		con "$1" | grep -qE -- "$2" && return 0
		vm_alive "$1" || { con "$1" | grep -qE -- "$2"; return; }
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

vm_diag() {
	echo "# $1: hv stderr: $(tail -c 400 "$d/$1.err" | tr '\n' '|')"
	con "$1" | grep -v '^HVT' | tail -n 8 | sed "s/^/# $1 console: /"
}

vm_type() { printf '%s\n' "$2" >&"${vm_fd[$1]}"; }

# check NAME SECS CHECK-TAG COMMAND: types COMMAND, relays its verdict
check() {
	local v=$1 secs=$2 t=$3 line
	shift 3
	if ! vm_alive "$v"; then
		echo "not ok $t - VM $v is not running"
		return 1
	fi
	vm_type "$v" "$*"
	if vm_wait "$v" "^HVT (not )?ok $t( |\$)" "$secs"; then
		line=$(con "$v" | grep -E "^HVT (not )?ok $t( |\$)" | tail -n 1)
		echo "${line#HVT }"
		[[ $line == "HVT ok "* ]]
	else
		echo "not ok $t - no answer from VM $v in $secs s"
		vm_diag "$v"
		return 1
	fi
}

# up NAME MAC ARGS...: hvnet up, waits for its HVNET-UP line
up() {
	local v=$1 mac=$2
	vm_type "$v" "hvnet up $mac ${*:3}"
	vm_wait "$v" "^HVNET-UP(-FAIL)? $mac" 30 && con "$v" | grep -q "^HVNET-UP $mac"
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
vm_start b
vm_start a
for v in a b; do
	if vm_wait "$v" '^HV-LINUX-READY' "$boot_secs"; then
		echo "ok net-boot-$v - Linux ready $(since "$t_start") s after the start"
	else
		echo "not ok net-boot-$v - no HV-LINUX-READY in $boot_secs s"
		vm_diag "$v"
		exit 0
	fi
	vm_type "$v" "stty -echo; PS1="
done
up b 52:54:00:00:01:12 10.200.1.12/24 fd00:200::12 fd00:200::11 &&
	up b 52:54:00:00:04:12 10.200.4.12/24 fd00:200::42 ||
	{ echo "not ok net-up-b - $(con b | grep HVNET-UP | tr '\n' ' ')"; vm_diag b; }
up a 52:54:00:00:01:11 10.200.1.11/24 fd00:200::11 fd00:200::12 &&
	vm_type a "hvnet addr 52:54:00:00:01:11 10.200.4.11/24" ||
	{ echo "not ok net-up-a - $(con a | grep HVNET-UP | tr '\n' ' ')"; vm_diag a; }
((lan)) && up a 52:54:00:00:02:11 10.200.2.11/24 fd00:200::21 fd00:200::20
((ext)) && up a 52:54:00:00:03:11 10.200.3.11/24 fd00:200::31 fd00:200::30

# private switch, across two hv processes
check a 60 net-private-ping4-a2b hvnet ping net-private-ping4-a2b 10.200.1.12 50
check b 40 net-private-ping4-b2a hvnet ping net-private-ping4-b2a 10.200.1.11 30
check a 40 net-private-ping6-a2b hvnet ping net-private-ping6-a2b fd00:200::12 30
check b 40 net-private-ping6-b2a hvnet ping net-private-ping6-b2a fd00:200::11 30
check a 20 net-private-no-host hvnet noping net-private-no-host 10.200.1.1 6
check a 20 net-link-ini-off hvnet carrier net-link-ini-off 52:54:00:00:05:11 0 3

# B's nic1 has offloads = off: A's TSO frames are cut in software for it
check a 40 net-offloads-off-ping4 hvnet ping net-offloads-off-ping4 10.200.4.12 30
vm_type b "hvnet recv x 5003"
vm_wait b '^HVNET-LISTEN 5003' 20
check a 120 net-offloads-off-tcp-send hvnet send net-offloads-off-tcp-send 10.200.4.12 5003 1024
if check b 120 net-offloads-off-tcp-recv hvnet sha net-offloads-off-tcp-recv 5003 100 >"$d/r5003"; then
	sent=$(con a | sed -n 's/^HVNET-SENT net-offloads-off-tcp-send //p')
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
	check a 40 net-internal-ping4 hvnet ping net-internal-ping4 10.200.2.1 30
	check a 40 net-internal-ping6 hvnet ping net-internal-ping6 fd00:200::20 30
	if out=$($IP netns exec "$na" busybox ping -c 2 -W 5 10.200.2.11 2>&1); then
		echo "ok net-internal-host-ping4 - the host pings the VM: $(tail -n 1 <<<"$out")"
	else
		echo "not ok net-internal-host-ping4 - $(tail -n 2 <<<"$out" | tr '\n' ' ')"
	fi
	kib=${NET_TCP_KIB:-4096}
	rm -f "$d/rx-5001"
	# (a stdin that never ends: see hvnet recv in net-guest.sh)
	rm -f "$d/hold"
	mkfifo "$d/hold"
	$IP netns exec "$na" timeout 200 busybox nc -l -p 5001 <>"$d/hold" >"$d/rx-5001" 2>/dev/null &
	nc_pid=$!
	sleep 0.5
	check a 200 net-internal-tcp-send hvnet send net-internal-tcp-send 10.200.2.1 5001 "$kib"
	wait $nc_pid
	sent=$(con a | sed -n 's/^HVNET-SENT net-internal-tcp-send //p')
	got=$(sha256sum <"$d/rx-5001" | cut -d' ' -f1)
	if [[ -n $sent && $got == "$sent" ]]; then
		echo "ok net-internal-tcp-vm2host - $kib KiB over TCP to the tap's address, sha256 matches"
	else
		echo "not ok net-internal-tcp-vm2host - got $(stat -c %s "$d/rx-5001") bytes, sha256 $got, sent $sent"
	fi
	head -c $((kib * 1024)) /dev/urandom >"$d/tx-5002"
	want=$(sha256sum <"$d/tx-5002" | cut -d' ' -f1)
	vm_type a "hvnet recv x 5002"
	vm_wait a '^HVNET-LISTEN 5002' 20
	sleep 0.5
	t0=$(cut -d' ' -f1 /proc/uptime)
	$IP netns exec "$na" timeout 200 busybox nc 10.200.2.11 5002 <"$d/tx-5002" >/dev/null 2>&1
	if check a 200 net-internal-tcp-recv hvnet sha net-internal-tcp-recv 5002 190 >"$d/r5002" &&
		grep -q "sha256 $want\$" "$d/r5002"; then
		echo "ok net-internal-tcp-host2vm - $kib KiB over TCP from the tap's host in $(since "$t0") s, sha256 matches"
	else
		echo "not ok net-internal-tcp-host2vm - sent sha256 $want: $(cat "$d/r5002")"
	fi
fi

# external switch: pcap on a veth, a host in another namespace
if ((ext)); then
	check a 40 net-external-ping4 hvnet ping net-external-ping4 10.200.3.1 30
	check a 40 net-external-ping6 hvnet ping net-external-ping6 fd00:200::30 30
	neigh=$($IP -n "$nb" neigh show 10.200.3.11 dev hvt-b)
	if grep -q 'lladdr 52:54:00:00:03:11' <<<"$neigh"; then
		echo "ok net-external-neigh - ns b's neighbour table: $neigh"
	else
		echo "not ok net-external-neigh - ns b has '$neigh' for 10.200.3.11, want lladdr 52:54:00:00:03:11"
	fi
fi

# link state at run time, through hv ctl
if ! have_ctl; then
	echo "not ok net-link-ctl - no 'hv ctl' in this build: run-time link changes not tested"
elif ((lan)); then
	if err=$("$hv" ctl "$d/a.sock" set nic1 link off 2>&1); then
		check a 30 net-link-ctl-off hvnet carrier net-link-ctl-off 52:54:00:00:02:11 0 20
	else
		echo "not ok net-link-ctl-off - hv ctl set nic1 link off: $err"
	fi
	if err=$("$hv" ctl "$d/a.sock" set nic1 link on 2>&1); then
		check a 30 net-link-ctl-on hvnet carrier net-link-ctl-on 52:54:00:00:02:11 1 20 &&
			check a 40 net-link-ctl-ping4 hvnet ping net-link-ctl-ping4 10.200.2.1 30
	else
		echo "not ok net-link-ctl-on - hv ctl set nic1 link on: $err"
	fi
fi

for v in a b; do
	vm_type "$v" poweroff
done
for v in a b; do
	i=0
	while vm_alive "$v" && ((i < 300)); do sleep 0.2; i=$((i + 1)); done
	if vm_alive "$v"; then
		echo "not ok net-poweroff-$v - hv still runs 60 s after poweroff"
		vm_diag "$v"
		continue
	fi
	wait "${vm_pid[$v]}"
	rc=$?
	unset "vm_pid[$v]"
	if ((rc == 0)); then
		echo "ok net-poweroff-$v - hv exited 0; $(since "$t_start") s in all"
	else
		echo "not ok net-poweroff-$v - hv exited $rc"
		vm_diag "$v"
	fi
done
grep -h -iE 'warn|error|drop' "$d/a.err" "$d/b.err" | sort | uniq -c | head -n 8 | sed 's/^/# hv stderr: /'
exit 0
