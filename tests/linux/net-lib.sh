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

# --- VMs driven over their serial console (bash) ---------------------------
# NET_DIR holds each VM's NAME.in (a fifo: its console input), NAME.out
# (console) and NAME.err; NET_IP is the ip binary (default ip).
#   net_start NAME NS CMD...   CMD (hv run, or QEMU) in namespace NS
#   net_alive NAME             it still runs
#   net_con NAME               its console so far, without the prompt
#   net_wait NAME ERE SECS     0 once a console line matches ERE
#   net_type NAME LINE         LINE typed on its console
#   net_check NAME SECS TAG CMD...   types CMD (an hvnet command printing
#                              HVT ok/not ok TAG), prints the verdict
#                              without "HVT ", 0 for ok
#   net_answer NAME SECS TAG   net_check's wait and verdict alone, for a
#                              command typed earlier (VMs asked together)
#   net_diag NAME              its stderr's and console's tails as # lines
#   net_stop NAME SECS         types poweroff, waits; CMD's exit status
#                              (124 if it still ran after SECS, then killed)
#   net_kill_all               kills every VM still running
declare -A net_pid=() net_fd=()

net_start() {
	local v=$1 ns=$2 fd
	shift 2
	rm -f "$NET_DIR/$v.in" "$NET_DIR/$v.out"
	mkfifo "$NET_DIR/$v.in"
	${NET_IP:-ip} netns exec "$ns" "$@" <"$NET_DIR/$v.in" >"$NET_DIR/$v.out" 2>"$NET_DIR/$v.err" &
	net_pid[$v]=$!
	exec {fd}>"$NET_DIR/$v.in"
	net_fd[$v]=$fd
}

net_alive() { [[ -n ${net_pid[$1]:-} ]] && kill -0 "${net_pid[$1]}" 2>/dev/null; }

net_con() { tr -d '\r\000' <"$NET_DIR/$1.out" | sed 's|^/ # ||'; }

net_wait() {
	local i=0
	while ((i < $3 * 5)); do
		net_con "$1" | grep -qE -- "$2" && return 0
		net_alive "$1" || { net_con "$1" | grep -qE -- "$2"; return; }
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

net_type() { printf '%s\n' "$2" >&"${net_fd[$1]}"; }

net_diag() {
	echo "# $1: stderr: $(tail -c 400 "$NET_DIR/$1.err" | tr '\n' '|')"
	net_con "$1" | grep -v '^HV[TO] ' | tail -n 8 | sed "s/^/# $1 console: /"
}

net_check() {
	local v=$1 secs=$2 t=$3
	shift 3
	if ! net_alive "$v"; then
		echo "not ok $t - VM $v is not running"
		return 1
	fi
	net_type "$v" "$*"
	net_answer "$v" "$secs" "$t"
}

net_answer() {
	local v=$1 secs=$2 t=$3 line
	if net_wait "$v" "^HVT (not )?ok $t( |\$)" "$secs"; then
		line=$(net_con "$v" | grep -E "^HVT (not )?ok $t( |\$)" | tail -n 1)
		echo "${line#HVT }"
		[[ $line == "HVT ok "* ]]
	else
		echo "not ok $t - no answer from VM $v in $secs s"
		net_diag "$v"
		return 1
	fi
}

net_stop() {
	local v=$1 i=0 rc
	net_alive "$v" && net_type "$v" poweroff
	while net_alive "$v" && ((i < $2 * 5)); do sleep 0.2; i=$((i + 1)); done
	if net_alive "$v"; then
		kill -9 "${net_pid[$v]}"
		wait "${net_pid[$v]}" 2>/dev/null
		rc=124
	else
		rc=0
		wait "${net_pid[$v]}" || rc=$?
	fi
	exec {net_fd[$v]}>&-
	unset "net_pid[$v]" "net_fd[$v]"
	return $rc
}

net_kill_all() {
	local v
	for v in "${!net_pid[@]}"; do kill -9 "${net_pid[$v]}" 2>/dev/null; done
	wait 2>/dev/null
}
