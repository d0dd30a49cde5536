#!/bin/sh
# The address commands of tests/nested/wifi.t, POSIX sh for busybox: in the
# L2 guest's initramfs as /bin/hvwifi (typed on its serial console, like
# tests/linux/net-guest.sh's hvnet) and in L1 for the station itself.
# A NIC is named by its MAC or by its interface name.
#   hvwifi dhcp TAG NIC SECS            a DHCPv4 lease (busybox udhcpc, this
#                                       file as its script); prints
#                                       HVWIFI-ADDR4 TAG ADDR
#   hvwifi slaac TAG NIC PREFIX SECS    a global IPv6 address in PREFIX
#                                       (SLAAC from router advertisements)
#                                       whose DAD is done; HVWIFI-ADDR6 TAG ADDR
#   hvwifi static TAG NIC CIDR4 CIDR6   addresses set by hand, no DAD, no
#                                       router advertisements taken
# Each check prints "HVT ok TAG - what" or "HVT not ok TAG - why".
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
ok() { echo "HVT ok $1${2:+ - $2}"; }
nok() { echo "HVT not ok $1 - $2"; }
now() { cut -d. -f1 /proc/uptime; }

# nic NAME-OR-MAC: the interface
nic() {
	[ -e "/sys/class/net/$1" ] && { echo "$1"; return 0; }
	for a in /sys/class/net/*/address; do
		[ "$(cat "$a")" = "$1" ] && { d=${a%/address}; echo "${d##*/}"; return 0; }
	done
	return 1
}

cmd=$1
shift
case $cmd in
deconfig | leasefail | nak)
	# udhcpc's script calls: nothing to undo, addresses are added on bound
	;;
bound | renew)
	# udhcpc exports ip, mask (prefix length) and interface
	ip addr add "$ip/${mask:-24}" dev "$interface" 2>/dev/null
	echo "HVWIFI-BOUND $ip/${mask:-24} from ${serverid:-?}"
	;;
dhcp)
	tag=$1 secs=$3
	ifc=$(nic "$2") || { nok "$tag" "no NIC $2"; exit 0; }
	ip link set "$ifc" up
	t0=$(now)
	# -n: fail instead of backgrounding; -q: quit once bound
	out=$(udhcpc -i "$ifc" -n -q -f -t "$((secs / 2 + 1))" -T 2 -A 1 -s "$0" 2>&1)
	a=$(echo "$out" | sed -n 's/^HVWIFI-BOUND \([0-9.]*\)\/.*/\1/p' | tail -n 1)
	if [ -n "$a" ]; then
		echo "HVWIFI-ADDR4 $tag $a"
		ok "$tag" "$ifc leased $a after $(($(now) - t0)) s ($(echo "$out" | grep '^HVWIFI-BOUND' | tail -n 1 | cut -d' ' -f3-))"
	else
		nok "$tag" "no DHCPv4 lease on $ifc in $secs s: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
	fi
	;;
slaac)
	tag=$1 pfx=$3 secs=$4
	ifc=$(nic "$2") || { nok "$tag" "no NIC $2"; exit 0; }
	ip link set "$ifc" up
	t0=$(now)
	while :; do
		# "tentative" until DAD is done: not usable yet
		a=$(ip -6 addr show dev "$ifc" scope global | grep -v tentative |
			sed -n "s/^ *inet6 \\($pfx[0-9a-f:]*\\)\\/64 .*/\\1/p" | head -n 1)
		if [ -n "$a" ]; then
			echo "HVWIFI-ADDR6 $tag $a"
			ok "$tag" "$ifc has $a (SLAAC) after $(($(now) - t0)) s"
			exit 0
		fi
		[ $(($(now) - t0)) -lt "$secs" ] || break
		sleep 1
	done
	nok "$tag" "no global address in $pfx/64 on $ifc in $secs s ($(ip -6 addr show dev "$ifc" | grep inet6 | tr -s ' ' | tr '\n' ';'))"
	;;
static)
	tag=$1
	ifc=$(nic "$2") || { nok "$tag" "no NIC $2"; exit 0; }
	echo 0 >"/proc/sys/net/ipv6/conf/$ifc/accept_dad"
	echo 0 >"/proc/sys/net/ipv6/conf/$ifc/accept_ra"
	ip link set "$ifc" up
	# accept_dad = 0 above: busybox ip has no nodad
	if err=$(ip addr add "$3" dev "$ifc" 2>&1 && ip -6 addr add "$4" dev "$ifc" 2>&1); then
		ok "$tag" "$ifc has $3 and $4"
	else
		nok "$tag" "cannot address $ifc: $err"
	fi
	;;
*)
	echo "hvwifi: unknown command $cmd" >&2
	exit 2
	;;
esac
