#!/bin/bash
# bench/net's payload, in the nested VM (real KVM): iperf3 TCP throughput
# (10 s, guest -> host and host -> guest) and ping RTT (100 pings) for
#   tap-hv          an hv VM on a tap (vnet_hdr) to ns h's 10.200.2.1
#   tap-qemu        QEMU virtio-net-pci, -netdev tap,vhost=off, same tap
#   tap-qemu-vhost  the same with vhost=on (when /dev/vhost-net exists)
#   vm2vm-hv        two hv VMs (two processes) on a private switch
#   vm2vm-qemu      two QEMUs, their taps on a Linux bridge (vhost=off)
#   vm2vm-qemu-vhost  the same, vhost=on
#   veth            ns v -> ns h over a veth pair (the ceiling)
#   wifi-hv         an hv VM on an external switch, adapter = a veth in
#                   ns s, bridge = wifi (the Wi-Fi bridge: MAC rewriting,
#                   ARP/ND proxy), to ns h's 10.200.6.1 at its other end
#   plain-hv        the same switch and veth with bridge = plain (pcap,
#                   promiscuous): the bridge's cost is wifi-hv / plain-hv
# One line per row: "# row NAME tx=G rx=G rtt=US" (Gbit/s, µs; tx is
# from the VM, rx to it) or "# row NAME FAILED (why)".
# usage: inside.sh [SECS [wifi]]   (iperf3's -t, default 10; wifi: only
# the wifi-hv and plain-hv rows)
set -u
export LC_ALL=C PATH=/hv/bin:$PATH HV_PLUGIN_PATH=/hv/plugins NET_IP=/hv/bin/ip
secs=${1:-10}
parts=${2:-tap,vm2vm,veth,wifi} # which groups of rows to run
want() { [[ ,$parts, == *,$1,* ]]; }
reps=${3:-1} # rounds of every row, in turn (run.sh keeps each row's best)
source /hv/net-lib.sh
exec 3>&1 # diagnostics from inside \$(...) still reach the log
IP=/hv/bin/ip
NET_DIR=/tmp/bn
mkdir -p $NET_DIR
# (mod/order: dependencies first)
while read -r m; do insmod "/hv/mod/$m" 2>/dev/null || echo "# insmod $m failed"; done </hv/mod/order
vhost=0
[ -c /dev/vhost-net ] && vhost=1
nh=bn-h nv=bn-v
trap 'net_kill_all; $IP netns del $nh 2>/dev/null; $IP netns del $nv 2>/dev/null' EXIT
$IP netns add $nh
$IP netns add $nv
$IP -n $nh link set lo up
$IP -n $nh tuntap add dev hvtap0 mode tap vnet_hdr
$IP -n $nh link set hvtap0 up
$IP -n $nh addr add 10.200.2.1/24 dev hvtap0
$IP netns exec $nh iperf3 -s -D -B 10.200.2.1
kernel=/hv/vmlinuz initrd=/hv/st/initramfs.cpio.gz

qemu() { # NAME TAP MAC VHOST
	net_start "$1" $nh /hv/bin/qemu-system-x86_64 -accel kvm -M pc -m 256 -smp 1 \
		-nodefaults -display none -no-reboot -serial stdio -L /hv/qemu-fw \
		-kernel $kernel -initrd $initrd -append 'console=ttyS0 panic=-1 quiet' \
		-netdev "tap,id=n0,ifname=$2,script=no,downscript=no,vhost=$4" \
		-device "virtio-net-pci,netdev=n0,mac=$3,romfile="
}

hv_vm() { # NAME NET-SECTIONS NIC-NET MAC [NS [DIR: another hv build, run.sh's BENCH_NET_BASE]]
	local d=${6:-/hv}
	{
		net_vm "$1" kvm 256M $kernel $initrd
		printf '%s\n' "$2"
		net_nic nic0 "$3" "$4"
	} >$NET_DIR/$1.ini
	HV_PLUGIN_PATH=$d/plugins net_start "$1" "${5:-$nh}" $d/hv run $NET_DIR/$1.ini
}

# ready NAME MAC CIDR: waits for the shell, addresses the NIC
ready() {
	net_wait "$1" '^HV-LINUX-READY' 120 || { echo "boot: no HV-LINUX-READY in 120 s"; return 1; }
	net_type "$1" "stty -echo; PS1="
	net_type "$1" "hvnet up $2 $3 fd00:200::99"
	net_wait "$1" "^HVNET-UP $2" 20 || { echo "no HVNET-UP"; return 1; }
}

# cpu_snap: one line per thread of every VM process: "VM TID COMM USER
# SYS GUEST" (clock ticks from /proc/PID/task/TID/stat), then "all BUSY
# IDLE" from /proc/stat: where the nested VM's one CPU went during a run
cpu_snap() {
	local v t line rest c f
	for v in "${!net_pid[@]}"; do
		for t in /proc/${net_pid[$v]}/task/*; do
			read -r line <"$t/stat" 2>/dev/null || continue
			c=${line#*(}; c=${c%%)*}; rest=${line##*) }
			read -ra f <<<"$rest"
			echo "$v ${t##*/} ${c// /_} ${f[11]} ${f[12]} ${f[40]}"
		done
	done
	read -ra f </proc/stat
	echo "all - - $((f[1] + f[2] + f[3] + f[6] + f[7])) $((f[4] + f[5])) 0"
}

# cpu_report ROW BEFORE AFTER: the per-thread differences, in ms
cpu_report() {
	awk -v row="$1" 'NR == FNR { b[$1 " " $2] = $4 " " $5 " " $6; next }
		{ split(b[$1 " " $2], o, " ")
		  printf "# cpu %s %s %s %s user=%d sys=%d guest=%d ms\n", row, $1, $2, $3,
			($4 - o[1]) * 10, ($5 - o[2]) * 10, ($6 - o[3]) * 10 }' "$2" "$3" >&3
}

# measure NAME PEER: prints "tx=G rx=G rtt=US" from NAME's guest, or why not
measure() {
	local v=$1 peer=$2 t r p
	cpu_snap >$NET_DIR/cpu.0
	net_check "$v" $((secs + 20)) bn-tx hvnet run bn-tx iperf3 -c "$peer" -t "$secs" -f m >/dev/null ||
		{ echo "iperf3 -c: $(net_con "$v" | grep '^HVO bn-tx' | tail -n 1)"; return 1; }
	cpu_snap >$NET_DIR/cpu.1
	net_check "$v" $((secs + 20)) bn-rx hvnet run bn-rx iperf3 -c "$peer" -t "$secs" -f m -R >/dev/null ||
		{ echo "iperf3 -R: $(net_con "$v" | grep '^HVO bn-rx' | tail -n 1)"; return 1; }
	cpu_snap >$NET_DIR/cpu.2
	cpu_report "$v-tx" $NET_DIR/cpu.0 $NET_DIR/cpu.1
	cpu_report "$v-rx" $NET_DIR/cpu.1 $NET_DIR/cpu.2
	net_check "$v" 40 bn-ping hvnet run bn-ping ping -c 100 -i 0.02 "$peer" >/dev/null ||
		{ echo "ping: $(net_con "$v" | grep '^HVO bn-ping' | tail -n 2 | tr '\n' ' ')"; return 1; }
	t=$(net_con "$v" | awk '/^HVO bn-tx .*receiver/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) / 1000 }')
	r=$(net_con "$v" | awk '/^HVO bn-rx .*receiver/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) / 1000 }')
	p=$(net_con "$v" | sed -n 's|^HVO bn-ping round-trip min/avg/max = [0-9.]*/\([0-9.]*\)/.*|\1|p' | awk '{ print $1 * 1000 }')
	[[ -n $t && -n $r && -n $p ]] || { echo "unparsed iperf3/ping output"; return 1; }
	# the senders' summaries (Retr: TCP retransmissions) for the record
	net_con "$v" | grep -E '^HVO bn-(tx|rx) .*sender' | sed "s/^HVO /# $v iperf3 /" >&3
	echo "tx=$t rx=$r rtt=$p"
}

# row NAME VM PEER: measures, prints the row, stops every VM
row() {
	local out
	if out=$(ready "$2" "$4" "$5" && measure "$2" "$3"); then
		echo "# row $1 $out"
	else
		echo "# row $1 FAILED ($(tail -n 1 <<<"$out"))"
		net_diag "$2" | head -n 6
	fi
	for v in "${!net_pid[@]}"; do net_stop "$v" 30 >/dev/null; done
	# hv's own counters (frames, drops by reason) from its log, for the record
	[ -f "$NET_DIR/$2.err" ] && grep -E 'frames|drop|lost|full' "$NET_DIR/$2.err" | tail -n 12 | sed "s/^/# $2 log: /"
}

# the Wi-Fi bridge against the plain external switch, on one veth: ns s
# is the station, ns h the LAN host (no access point: plain must work)
wifi_rows() {
	local b
	ns=bn-s
	trap 'net_kill_all; $IP netns del $nh 2>/dev/null; $IP netns del $nv 2>/dev/null; $IP netns del $ns 2>/dev/null' EXIT
	$IP netns add $ns
	$IP -n $ns link set lo up
	$IP link add bn-s0 netns $ns type veth peer name bn-l0 netns $nh
	$IP -n $ns link set bn-s0 up
	$IP -n $nh link set bn-l0 up
	$IP -n $nh addr add 10.200.6.1/24 dev bn-l0
	# a wire carries finished checksums and MTU-sized frames (tests/linux/net-run.sh)
	$IP netns exec $nh ethtool -K bn-l0 tx off >/dev/null
	$IP netns exec $nh iperf3 -s -D -B 10.200.6.1
	for b in $(for rep in $(seq "$reps"); do echo plain wifi; done); do
		# the LAN host learnt the other row's MAC for the same address
		$IP -n $nh neigh flush dev bn-l0
		hv_vm $b-hv "$(printf '[net lan]\nplugin = switch\ntype = external\nadapter = bn-s0\nbridge = %s\n' $b)" \
			lan 52:54:00:00:06:11 $ns
		row $b-hv $b-hv 10.200.6.1 52:54:00:00:06:11 10.200.6.11/24
	done
}

# guest <-> host through a tap
if want tap; then
for rep in $(seq "$reps"); do
hv_vm tap-hv "$(printf '[net hosttap]\nplugin = tap\nifname = hvtap0\nvnet_hdr = on\n')" hosttap 52:54:00:00:02:11
row tap-hv tap-hv 10.200.2.1 52:54:00:00:02:11 10.200.2.11/24
if [ -d /hv/base ]; then
	hv_vm tap-base "$(printf '[net hosttap]\nplugin = tap\nifname = hvtap0\nvnet_hdr = on\n')" hosttap 52:54:00:00:02:11 "$nh" /hv/base
	row tap-base tap-base 10.200.2.1 52:54:00:00:02:11 10.200.2.11/24
fi
qemu tap-qemu hvtap0 52:54:00:00:02:11 off
row tap-qemu tap-qemu 10.200.2.1 52:54:00:00:02:11 10.200.2.11/24
if ((vhost)); then
	qemu tap-qemu-vhost hvtap0 52:54:00:00:02:11 on
	row tap-qemu-vhost tap-qemu-vhost 10.200.2.1 52:54:00:00:02:11 10.200.2.11/24
else
	echo "# row tap-qemu-vhost FAILED (no /dev/vhost-net in the nested kernel)"
fi
done
fi

# VM <-> VM: hv's private switch across two processes; QEMU's taps on a bridge
if want vm2vm; then
$IP -n $nh link add br0 type bridge
$IP -n $nh link set br0 up
for rep in $(seq "$reps"); do
rm -f $NET_DIR/priv.sock
priv=$(printf '[net priv]\nplugin = switch\ntype = private\nsocket = %s/priv.sock\n' $NET_DIR)
hv_vm vm2vm-hv-b "$priv" priv 52:54:00:00:01:12
hv_vm vm2vm-hv "$priv" priv 52:54:00:00:01:11
if out=$(ready vm2vm-hv-b 52:54:00:00:01:12 10.200.1.12/24); then
	net_type vm2vm-hv-b "iperf3 -s -D"
else
	echo "# vm2vm-hv-b: $out"
fi
row vm2vm-hv vm2vm-hv 10.200.1.12 52:54:00:00:01:11 10.200.1.11/24
if [ -d /hv/base ]; then
	rm -f $NET_DIR/priv.sock
	hv_vm vm2vm-base-b "$priv" priv 52:54:00:00:01:12 "$nh" /hv/base
	hv_vm vm2vm-base "$priv" priv 52:54:00:00:01:11 "$nh" /hv/base
	if out=$(ready vm2vm-base-b 52:54:00:00:01:12 10.200.1.12/24); then
		net_type vm2vm-base-b "iperf3 -s -D"
	else
		echo "# vm2vm-base-b: $out"
	fi
	row vm2vm-base vm2vm-base 10.200.1.12 52:54:00:00:01:11 10.200.1.11/24
fi
for v in off on; do
	name=vm2vm-qemu
	[ $v = on ] && name=vm2vm-qemu-vhost
	if [ $v = on ] && ((!vhost)); then
		echo "# row $name FAILED (no /dev/vhost-net in the nested kernel)"
		continue
	fi
	for i in 0 1; do
		$IP -n $nh tuntap add dev qtap$i mode tap vnet_hdr
		$IP -n $nh link set qtap$i master br0 up
	done
	qemu $name-b qtap1 52:54:00:00:01:12 $v
	qemu $name qtap0 52:54:00:00:01:11 $v
	if out=$(ready $name-b 52:54:00:00:01:12 10.200.1.12/24); then
		net_type $name-b "iperf3 -s -D"
	else
		echo "# $name-b: $out"
	fi
	row $name $name 10.200.1.12 52:54:00:00:01:11 10.200.1.11/24
	for i in 0 1; do $IP -n $nh link del qtap$i; done
done
done
fi

# the ceiling: the host's own stack over a veth pair
if want veth; then
$IP link add bn-a netns $nv type veth peer name bn-b netns $nh
$IP -n $nv link set lo up
$IP -n $nv link set bn-a up
$IP -n $nh link set bn-b up
$IP -n $nv addr add 10.200.5.2/24 dev bn-a
$IP -n $nh addr add 10.200.5.1/24 dev bn-b
$IP netns exec $nh iperf3 -s -D -B 10.200.5.1 -p 5202
sleep 1
t=$($IP netns exec $nv iperf3 -c 10.200.5.1 -p 5202 -t "$secs" -f m | awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) / 1000 }')
r=$($IP netns exec $nv iperf3 -c 10.200.5.1 -p 5202 -t "$secs" -f m -R | awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) / 1000 }')
p=$($IP netns exec $nv ping -c 100 -i 0.02 10.200.5.1 | sed -n 's|^round-trip min/avg/max = [0-9.]*/\([0-9.]*\)/.*|\1|p' | awk '{ print $1 * 1000 }')
if [[ -n $t && -n $r && -n $p ]]; then
	echo "# row veth tx=$t rx=$r rtt=$p"
else
	echo "# row veth FAILED (iperf3 or ping over the veth gave no figure)"
fi
fi
want wifi && wifi_rows
echo "ok bench-net-done"
