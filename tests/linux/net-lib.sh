# shellcheck shell=bash
# Shared by tests/linux/net.t (accel=emu), net-kvm.t (nested KVM) and
# bench/net (sourced, not run).
#
# net_prepare DIR KVER [--iperf]: DIR/initramfs.cpio.gz, a busybox guest
# with Linux's virtio_net (and what modules.dep says it needs: virtio,
# virtio_ring, net_failover, failover) and virtio_pci from kernel KVER,
# net-guest.sh as /bin/hvnet; --iperf adds Debian's iperf3 with its
# libraries. The guest boots to a shell on ttyS0 (HV-LINUX-READY) that the
# host drives (net-run.sh).
#
# net_vm NAME ACCEL MEMORY KERNEL INITRD [CMDLINE-WORDS [VM-KEY-LINES]]: the
# [vm], serial and console sections of a network test VM; NIC sections
# follow.
# net_nic ID NET MAC [KEY=VALUE...]: one virtio-net [device] section.
# net_hv_plugins HV: the plugins `HV plugins` lists, one a line.

NET_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NET_ROOT=$(cd "$NET_HERE/../.." && pwd)
NET_MODULES=(virtio_pci virtio_net)

net_prepare() {
	local d=$1 kver=$2 m extra=()
	mkdir -p "$d"
	for m in "${NET_MODULES[@]}"; do
		grep -qE "(^|/)$m\.ko" "/lib/modules/$kver/modules.dep" ||
			{ echo "net: no $m in /lib/modules/$kver" >&2; return 1; }
		extra+=(--module "$m")
	done
	if [[ ${3:-} == --iperf ]]; then
		m=$(command -v iperf3) || { echo "net: iperf3 missing (scripts/deps.sh)" >&2; return 1; }
		extra+=(--file "$m:/usr/bin/iperf3")
	fi
	"$NET_ROOT/scripts/mkinitramfs.sh" "$d/initramfs.cpio.gz" --kver "$kver" "${extra[@]}" \
		--file "$NET_HERE/net-guest.sh:/bin/hvnet"
}

net_vm() {
	cat <<INI
[vm]
name = $1
memory = $3
cpus = 1
accel = $2
kernel = $4
initrd = $5
cmdline = console=ttyS0 panic=-1 quiet ${6:-}
${7:-}

[device com1]
plugin = uart16550
port = 0x3f8
irq = 4
console = serial

[console serial]
plugin = stdio

INI
}

net_nic() {
	local kv
	printf '[device %s]\nplugin = virtio-net\nnet = %s\nmac = %s\n' "$1" "$2" "$3"
	shift 3
	for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
	echo
}

net_hv_plugins() {
	"$1" plugins 2>/dev/null | awk 'NR > 1 { print $1 }'
}
