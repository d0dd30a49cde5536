#!/bin/bash
# hv-test: timeout=240
# The tap backend against the host kernel, in a namespace of the test's
# own: ARP and ICMP echo answered by Linux's stack; over IPv4 and IPv6 a
# partial-checksum SYN and a TSO frame taken by the kernel (a bad checksum
# without the header is dropped and counted: TcpInCsumErrors), the
# kernel's own GSO frames handed up with their header; the NIC refusing frames (rx_ready); a tap
# hv creates is left down without an address and vanishes with hv; a
# persistent tap made for an unprivileged user (docs/network.md's recipe)
# with vnet_hdr = off (the same partial-checksum SYN and TSO frame, finished
# and cut by the core, since such a tap says it takes no offloads); two
# queues; the errors, one line each.
NET_TEST=tap
. "$(dirname "$0")/backend.sh"
need tap
ipn() { ip -n "$ns" "$@"; }

# 1. hv creates hvtap0 (vnet_hdr on, the default)
vm created 1 'plugin = tap' 'ifname = hvtap0'
if ! start created; then
	notok tap-create "hv did not start: $(tr '\n' '|' < "$tmp/created.log")"
	# hv check validates the section without opening anything
vm checked 1 'plugin = tap' 'ifname = hvtap7' 'queues = 2'
out=$(ip netns exec "$ns" "$HV" check "$tmp/checked.ini" 2>&1)
rc=$?
if [ $rc = 0 ] && grep -q 'hvtap7' <<< "$out" && ! ipn link show hvtap7 > /dev/null 2>&1; then
	ok tap-check-opens-nothing
else notok tap-check-opens-nothing "status $rc: $(tr '\n' '|' <<< "$out")"; fi
vm badq 1 'plugin = tap' 'ifname = hvtap7' 'queues = 17'
out=$("$HV" check "$tmp/badq.ini" 2>&1) && notok tap-queues-range "hv check took queues = 17" ||
	{ grep -q 'badq.ini:1[0-9]: \[net be\]: .*queues' <<< "$out" && ok tap-queues-range ||
		notok tap-queues-range "$(tr '\n' '|' <<< "$out")"; }
exit 0
fi
for i in $(seq 1 50); do ipn link show hvtap0 > /dev/null 2>&1 && break; sleep 0.1; done
info=$(ipn -d -o link show hvtap0 2>&1)
grep -q 'tun type tap pi off vnet_hdr on persist off' <<< "$info" && ok tap-create ||
	notok tap-create "$info"
# hv never configures the host: still down, no address
if grep -q 'state DOWN' <<< "$info" && ! ipn -o addr show dev hvtap0 | grep -q 'inet '; then
	ok tap-left-unconfigured
else notok tap-left-unconfigured "$info $(ipn -o addr show dev hvtap0)"; fi
ipn addr add 10.200.1.1/24 dev hvtap0
ipn addr add fd00:200::1/64 dev hvtap0 nodad
ipn link set hvtap0 up
drive created hvtap0 tap 1 arp icmp pause tcp tcp6 runt
finish
rc=$?
[ $rc = 0 ] && ok tap-poweroff || notok tap-poweroff "hv exit status $rc: $(tail -3 "$tmp/created.log" | tr '\n' '|')"
# the runt: dropped by the core or by the plugin, counted, never written
grep -Eiq '(runt|22 bytes|10 bytes).*dropped' "$tmp/created.log" &&
	ok tap-runt-counted || notok tap-runt-counted "no drop warning: $(grep -i drop "$tmp/created.log" | tr '\n' '|')"
grep -Eq 'be: hvtap0: [1-9][0-9]* frames to the host, [1-9][0-9]* from it, [01] and 0 dropped' "$tmp/created.log" &&
	ok tap-counts || notok tap-counts "$(grep 'frames to the host' "$tmp/created.log")"
ipn link show hvtap0 > /dev/null 2>&1 && notok tap-created-vanishes "hvtap0 outlived hv" ||
	ok tap-created-vanishes

# 1b. the tap deleted under a running hv: one warning, no busy loop
vm gone 1 'plugin = tap' 'ifname = hvtap5'
if start gone; then
	for i in $(seq 1 50); do ipn link show hvtap5 > /dev/null 2>&1 && break; sleep 0.1; done
	ipn link set hvtap5 up
	ipn link del hvtap5
	sleep 0.5
	t0=$(cpu_ticks "$hv_pid")
	sleep 1
	t1=$(cpu_ticks "$hv_pid")
	quit gone
	finish
	rc=$?
	n=$(grep -c 'the tap no longer works' "$tmp/gone.log")
	if [ $rc = 0 ] && [ "$n" = 1 ] && [ $((t1 - t0)) -lt 30 ]; then
		ok tap-deleted-under-hv
	else
		notok tap-deleted-under-hv "status $rc, $n warnings, $((t1 - t0)) ticks in 1 s: $(tr '\n' '|' < "$tmp/gone.log")"
	fi
else
	notok tap-deleted-under-hv "hv did not start: $(tr '\n' '|' < "$tmp/gone.log")"
fi

# 2. a persistent tap made for nobody; hv runs as nobody; bare frames
ipn tuntap add mode tap user nobody name hvtap1
ipn addr add 10.200.3.1/24 dev hvtap1
ipn link set hvtap1 up
vm user 1 'plugin = tap' 'ifname = hvtap1' 'vnet_hdr = off'
asuser=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
if start user "${asuser[@]}"; then
	DRIVE_ARGS="--host-ip 10.200.3.1 --vm-ip 10.200.3.2 --offload-up 0" drive user hvtap1 tap-user 1 arp icmp tcp
	finish
	rc=$?
	[ $rc = 0 ] && ok tap-user-poweroff || notok tap-user-poweroff "status $rc: $(tail -3 "$tmp/user.log" | tr '\n' '|')"
else
	notok tap-user "hv as nobody did not start: $(tr '\n' '|' < "$tmp/user.log")"
fi
# the same tap with vnet_hdr = on: the offloads pass for the user too
vm uservnet 1 'plugin = tap' 'ifname = hvtap1'
if start uservnet "${asuser[@]}"; then
	DRIVE_ARGS="--host-ip 10.200.3.1 --vm-ip 10.200.3.2" drive uservnet hvtap1 tap-user-vnet 1 icmp tcp
	finish || notok tap-user-vnet-poweroff "status $?"
else
	notok tap-user-vnet "hv as nobody did not start: $(tr '\n' '|' < "$tmp/uservnet.log")"
fi
ipn -d link show hvtap1 2>&1 | grep -q 'persist on' && ok tap-persistent-kept ||
	notok tap-persistent-kept "hvtap1 gone after hv exited"

# 3. two queues
vm mq 1 'plugin = tap' 'ifname = hvtap2' 'queues = 2'
if start mq; then
	for i in $(seq 1 50); do ipn link show hvtap2 > /dev/null 2>&1 && break; sleep 0.1; done
	ipn -d link show hvtap2 | grep -q 'multi_queue' && ok tap-multiqueue ||
		notok tap-multiqueue "$(ipn -d link show hvtap2 2>&1 | tr '\n' ' ')"
	ipn addr add 10.200.4.1/24 dev hvtap2
	ipn link set hvtap2 up
	DRIVE_ARGS="--host-ip 10.200.4.1 --vm-ip 10.200.4.2" drive mq hvtap2 tap-mq 1 arp icmp
	finish || notok tap-mq-poweroff "status $?"
else
	notok tap-multiqueue "hv did not start: $(tr '\n' '|' < "$tmp/mq.log")"
fi

# 4. errors: one line naming the file, line and section
vm eperm 1 'plugin = tap' 'ifname = hvtap9'
expect_fail tap-eperm "eperm.ini:1[0-9]: \[net be\]: ifname = hvtap9: TUNSETIFF: Operation not permitted \(create the tap for this user: ip tuntap add mode tap user" \
	eperm "${asuser[@]}"
vm notap 1 'plugin = tap' 'ifname = lo'
expect_fail tap-not-a-tap "notap.ini:1[0-9]: \[net be\]: ifname = lo: TUNSETIFF: Invalid argument \(an interface of that name that is not a tap" notap
vm long 1 'plugin = tap' 'ifname = abcdefghijklmnopq'
expect_fail tap-bad-ifname "long.ini:1[0-9]: \[net be\]: ifname = abcdefghijklmnopq: not an interface name" long
vm noname 1 'plugin = tap'
expect_fail tap-ifname-required "noname.ini:[0-9]+: \[net be\]: .*ifname" noname
# hv check validates the section without opening anything
vm checked 1 'plugin = tap' 'ifname = hvtap7' 'queues = 2'
out=$(ip netns exec "$ns" "$HV" check "$tmp/checked.ini" 2>&1)
rc=$?
if [ $rc = 0 ] && grep -q 'hvtap7' <<< "$out" && ! ipn link show hvtap7 > /dev/null 2>&1; then
	ok tap-check-opens-nothing
else notok tap-check-opens-nothing "status $rc: $(tr '\n' '|' <<< "$out")"; fi
vm badq 1 'plugin = tap' 'ifname = hvtap7' 'queues = 17'
out=$("$HV" check "$tmp/badq.ini" 2>&1) && notok tap-queues-range "hv check took queues = 17" ||
	{ grep -q 'badq.ini:1[0-9]: \[net be\]: .*queues' <<< "$out" && ok tap-queues-range ||
		notok tap-queues-range "$(tr '\n' '|' <<< "$out")"; }
exit 0
