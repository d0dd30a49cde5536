#!/bin/bash
# hv-test: timeout=180
# The pcap backend (libpcap) on a veth whose peer holds the host's address,
# in a namespace of the test's own: ARP and ICMP echo answered by Linux's
# stack and the VM's MAC in its neighbour table; hv never reads back the
# frames it injected; a frame over the MTU is dropped and counted; the
# NIC refusing frames (rx_ready); the errors, one line each.
NET_TEST=pcap
. "$(dirname "$0")/backend.sh"
need pcap
ipn() { ip -n "$ns" "$@"; }
ipn link add hvp0 type veth peer name hvp1
ipn addr add 10.200.2.1/24 dev hvp1
ipn link set hvp1 up
ipn link set hvp0 up
export DRIVE_ARGS="--host-ip 10.200.2.1 --vm-ip 10.200.2.2"

vm wire 0 'plugin = pcap' 'ifname = hvp0'
if ! start wire; then
	notok pcap-start "hv did not start: $(tr '\n' '|' < "$tmp/wire.log")"
	exit 0
fi
ok pcap-start
# promisc = on (the default): the interface is promiscuous while hv runs
ipn -d link show hvp0 | grep -q 'promiscuity 1' && ok pcap-promisc ||
	notok pcap-promisc "$(ipn -d link show hvp0 | tr '\n' ' ')"
drive wire hvp1 pcap 0 arp icmp noecho pause oversize runt
finish
rc=$?
[ $rc = 0 ] && ok pcap-poweroff || notok pcap-poweroff "hv exit status $rc: $(tail -3 "$tmp/wire.log" | tr '\n' '|')"
ipn neigh show dev hvp1 | grep -q '10.200.2.2 lladdr 52:54:00:12:34:56' && ok pcap-host-neighbour ||
	notok pcap-host-neighbour "$(ipn neigh show dev hvp1 | tr '\n' '|')"
grep -Eq 'be: (warning: )?hvp0: frame of 16[0-9][0-9] bytes over MTU 1500: dropped' "$tmp/wire.log" &&
	ok pcap-oversize-counted || notok pcap-oversize-counted "$(grep -i drop "$tmp/wire.log" | tr '\n' '|')"
grep -Eq 'be: hvp0: [1-9][0-9]* frames to the wire, [1-9][0-9]* from it, [12] and 0 dropped' "$tmp/wire.log" &&
	ok pcap-counts || notok pcap-counts "$(grep 'frames to the wire' "$tmp/wire.log")"

# promisc = off: not promiscuous (a veth still hands every frame to a
# capture, so the VM's unicast ARP reply arrives all the same)
vm nopromisc 0 'plugin = pcap' 'ifname = hvp0' 'promisc = off'
if start nopromisc; then
	ipn -d link show hvp0 | grep -q 'promiscuity 0' && ok pcap-nopromisc ||
		notok pcap-nopromisc "$(ipn -d link show hvp0 | tr '\n' ' ')"
	drive nopromisc hvp1 pcap-nopromisc 0 arp
	finish || notok pcap-nopromisc-poweroff "status $?"
else
	notok pcap-nopromisc "hv did not start: $(tr '\n' '|' < "$tmp/nopromisc.log")"
fi

# an unprivileged user with only CAP_NET_RAW on a copy of hv (the
# docs' setcap recipe)
asuser=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
vm cap 0 'plugin = pcap' 'ifname = hvp0'
cp "$HV" "$tmp/hv-cap"
if ! setcap cap_net_raw+ep "$tmp/hv-cap"; then
	notok pcap-setcap "setcap failed (libcap2-bin)"
elif hv=$HV && HV=$tmp/hv-cap && start cap "${asuser[@]}"; then
	HV=$hv
	drive cap hvp1 pcap-setcap 0 arp icmp
	finish || notok pcap-setcap-poweroff "status $?"
else
	HV=$hv
	notok pcap-setcap "hv with cap_net_raw as nobody did not start: $(tr '\n' '|' < "$tmp/cap.log")"
fi

# errors: one line naming the file, line and section
vm nodev 0 'plugin = pcap' 'ifname = nohere0'
expect_fail pcap-no-such-interface "nodev.ini:1[0-9]: \[net be\]: ifname = nohere0: no such interface" nodev
ipn link add hvp2 type veth peer name hvp3
vm down 0 'plugin = pcap' 'ifname = hvp2'
expect_fail pcap-interface-down "down.ini:1[0-9]: \[net be\]: ifname = hvp2: the interface is down" down
vm eperm 0 'plugin = pcap' 'ifname = hvp0'
expect_fail pcap-eperm "eperm.ini:1[0-9]: \[net be\]: ifname = hvp0: permission denied" eperm "${asuser[@]}"
exit 0
