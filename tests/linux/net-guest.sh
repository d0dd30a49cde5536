#!/bin/sh
# /bin/hvnet in the network tests' guest initramfs (net-lib.sh): the
# commands the host types on the serial console (net-run.sh), POSIX sh for
# busybox. Every check prints "HVT ok TAG - what" or "HVT not ok TAG - why"
# (the host waits for exactly one of them); a NIC is named by its MAC, so
# the test does not depend on the order Linux numbers eth0, eth1, ...
#   hvnet up MAC CIDR4 ADDR6 [PEER6...]  address a NIC (v6 as /128, a /128
#                                        route per peer), link up, no DAD
#   hvnet route CIDR MAC                 one more IPv4 route through it
#   hvnet addr MAC CIDR4                 one more IPv4 address on it
#   hvnet ping TAG ADDR [SECS]           a reply within SECS (default 30)
#   hvnet noping TAG ADDR SECS           no reply for SECS
#   hvnet carrier TAG MAC WANT [SECS]    /sys/class/net/IF/carrier == WANT
#   hvnet send TAG HOST PORT KIB         KIB of random bytes to HOST:PORT
#                                        (nc); prints the sha256 sent
#   hvnet recv TAG PORT SECS             nc -l -p PORT into /tmp/rx-PORT in
#                                        the background
#   hvnet sha TAG PORT SECS              once recv's nc ended: its sha256
#   hvnet mac TAG MAC                    the NIC exists with that address
#   hvnet run TAG CMD...                 CMD's output as "HVO TAG line"s,
#                                        ok when it exits 0 (bench/net)
#   hvnet up4 MAC CIDR4                  an IPv4 address only: IPv6 off (no
#                                        router advertisement reaches it)
#   hvnet dhcp TAG MAC SECS              link up (with DAD and SLAAC as
#                                        Linux does them), a DHCPv4 lease
#                                        (udhcpc, this script as its hook);
#                                        ok names the address
#   hvnet slaac TAG MAC PREFIX SECS      a global address in PREFIX (from
#                                        a router advertisement), DAD done
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
ok() { echo "HVT ok $1${2:+ - $2}"; }
nok() { echo "HVT not ok $1 - $2"; }

# if_of MAC: the interface whose address is MAC
if_of() {
	for a in /sys/class/net/*/address; do
		[ "$(cat "$a")" = "$1" ] && { d=${a%/address}; echo "${d##*/}"; return 0; }
	done
	return 1
}

# ping_once ADDR: one echo request, a reply within 1 s
ping_once() {
	case $1 in
	*:*) ping6 -c 1 -W 1 "$1" >/dev/null 2>&1 ;;
	*) ping -c 1 -W 1 "$1" >/dev/null 2>&1 ;;
	esac
}

now() { cut -d. -f1 /proc/uptime; }

cmd=$1
shift
case $cmd in
up)
	mac=$1 cidr=$2 a6=$3
	shift 3
	ifc=$(if_of "$mac") || { echo "HVNET-UP-FAIL $mac: no such NIC ($(cat /sys/class/net/*/address | tr '\n' ' '))"; exit 1; }
	# no duplicate address detection: the address is usable at once
	echo 0 >"/proc/sys/net/ipv6/conf/$ifc/accept_dad"
	# answer ARP only on the NIC that holds the address (two NICs on one
	# switch must not answer for each other)
	echo 1 >"/proc/sys/net/ipv4/conf/$ifc/arp_ignore"
	ip link set "$ifc" up
	ip addr add "$cidr" dev "$ifc"
	ip -6 addr add "$a6/128" dev "$ifc"
	for p in "$@"; do ip -6 route add "$p/128" dev "$ifc"; done
	echo "HVNET-UP $mac $ifc"
	;;
route)
	ifc=$(if_of "$2") && ip route add "$1" dev "$ifc" && echo "HVNET-ROUTE $1 $ifc"
	;;
addr)
	ifc=$(if_of "$1") && ip addr add "$2" dev "$ifc" && echo "HVNET-ADDR $2 $ifc"
	;;
ping)
	tag=$1 addr=$2 secs=${3:-30} t0=$(now)
	while [ $(($(now) - t0)) -lt "$secs" ]; do
		if ping_once "$addr"; then
			ok "$tag" "$addr answered after $(($(now) - t0)) s"
			exit 0
		fi
	done
	nok "$tag" "no echo reply from $addr in $secs s ($(ip neigh | grep -F "$addr " | head -n 1))"
	;;
noping)
	tag=$1 addr=$2 secs=$3 t0=$(now)
	while [ $(($(now) - t0)) -lt "$secs" ]; do
		if ping_once "$addr"; then
			nok "$tag" "$addr answered ($(ip neigh | grep -F "$addr " | head -n 1))"
			exit 0
		fi
	done
	ok "$tag" "no echo reply from $addr in $secs s"
	;;
carrier)
	tag=$1 want=$3 secs=${4:-20} t0=$(now)
	ifc=$(if_of "$2") || { nok "$tag" "no NIC $2"; exit 0; }
	# a NIC that is not up has no carrier file to read
	ip link set "$ifc" up
	while :; do
		got=$(cat "/sys/class/net/$ifc/carrier" 2>/dev/null)
		st=$(cat "/sys/class/net/$ifc/operstate")
		if [ "$got" = "$want" ]; then
			ok "$tag" "$ifc carrier $got, operstate $st"
			exit 0
		fi
		[ $(($(now) - t0)) -lt "$secs" ] || break
		sleep 1
	done
	nok "$tag" "$ifc carrier '$got' (operstate $st) after $secs s, want $want"
	;;
send)
	tag=$1 host=$2 port=$3 kib=$4
	dd if=/dev/urandom of=/tmp/tx bs=1024 count="$kib" 2>/dev/null
	echo "HVNET-SENT $tag $(sha256sum </tmp/tx | cut -d' ' -f1)"
	t0=$(now)
	if err=$(nc -w 10 "$host" "$port" </tmp/tx 2>&1); then
		ok "$tag" "$kib KiB sent to $host:$port in $(($(now) - t0)) s"
	else
		nok "$tag" "nc $host $port: $err"
	fi
	;;
recv)
	rm -f "/tmp/rx-$2" "/tmp/rx-$2.done" "/tmp/hold-$2"
	# nc -l's stdin must never end: at its EOF busybox nc half-closes,
	# and the sending nc quits at that FIN with its data unsent
	mkfifo "/tmp/hold-$2"
	(nc -l -p "$2" <>"/tmp/hold-$2" >"/tmp/rx-$2" 2>"/tmp/rx-$2.err"; echo $? >"/tmp/rx-$2.done") &
	echo "HVNET-LISTEN $2"
	;;
sha)
	tag=$1 port=$2 secs=$3 t0=$(now)
	while [ ! -e "/tmp/rx-$port.done" ] && [ $(($(now) - t0)) -lt "$secs" ]; do sleep 1; done
	if [ -e "/tmp/rx-$port.done" ]; then
		ok "$tag" "nc -l ended ($(cat "/tmp/rx-$port.done")), $(wc -c <"/tmp/rx-$port") bytes, sha256 $(sha256sum <"/tmp/rx-$port" | cut -d' ' -f1)"
	else
		nok "$tag" "nc -l -p $port still runs after $secs s, $(wc -c <"/tmp/rx-$port") bytes so far"
	fi
	;;
mac)
	if ifc=$(if_of "$2"); then ok "$1" "$ifc has MAC $2"; else nok "$1" "no NIC with MAC $2 ($(cat /sys/class/net/*/address | tr '\n' ' '))"; fi
	;;
up4)
	ifc=$(if_of "$1") || { echo "HVNET-UP-FAIL $1: no such NIC"; exit 1; }
	echo 1 >"/proc/sys/net/ipv6/conf/$ifc/disable_ipv6"
	echo 1 >"/proc/sys/net/ipv4/conf/$ifc/arp_ignore"
	ip link set "$ifc" up
	ip addr add "$2" dev "$ifc"
	echo "HVNET-UP $1 $ifc"
	;;
dhcp)
	tag=$1 secs=$3
	ifc=$(if_of "$2") || { nok "$tag" "no NIC $2"; exit 0; }
	echo 1 >"/proc/sys/net/ipv4/conf/$ifc/arp_ignore"
	ip link set "$ifc" up
	if udhcpc -i "$ifc" -n -q -t $((secs / 3 + 1)) -T 3 -s /bin/hvnet >/tmp/udhcpc 2>&1; then
		ok "$tag" "$(ip -4 -o addr show dev "$ifc" | awk '{ print $4 }' | head -n 1)"
	else
		nok "$tag" "no lease in $secs s: $(tail -n 2 /tmp/udhcpc | tr '\n' ' ')"
	fi
	;;
deconfig | leasefail | nak)
	# udhcpc's hook (hvnet dhcp): nothing to undo
	;;
bound | renew)
	ip addr add "$ip/${mask:-24}" dev "$interface" 2>/dev/null
	[ -z "${router:-}" ] || ip route replace default via "${router%% *}" dev "$interface"
	;;
slaac)
	tag=$1 pfx=$3 secs=$4 t0=$(now)
	ifc=$(if_of "$2") || { nok "$tag" "no NIC $2"; exit 0; }
	while :; do
		a=$(ip -6 -o addr show dev "$ifc" scope global | grep -v tentative |
			awk '{ print $4 }' | grep -i "^$pfx" | head -n 1)
		[ -n "$a" ] && { ok "$tag" "${a%/*}"; exit 0; }
		[ $(($(now) - t0)) -lt "$secs" ] || break
		sleep 1
	done
	nok "$tag" "no global address in $pfx after $secs s: $(ip -6 -o addr show dev "$ifc" | awk '{ print $4 }' | tr '\n' ' ')"
	;;
run)
	tag=$1
	shift
	st=0
	"$@" >/tmp/run-out 2>&1 || st=$?
	sed "s/^/HVO $tag /" /tmp/run-out
	if [ $st = 0 ]; then ok "$tag" "$1 exited 0"; else nok "$tag" "$1 exited $st"; fi
	;;
*)
	echo "hvnet: unknown command $cmd" >&2
	exit 2
	;;
esac
