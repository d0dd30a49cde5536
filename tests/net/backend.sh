# Shared by tests/net/tap.t and pcap.t: a namespace of the test's own, a
# VM whose only device is tests/fixtures/frame_dev (a NIC fed from a unix
# socket, no guest code involved) and tests/net/backend.py to talk to it.
# Everything made here is removed on exit.
set -u
b=${BUILD:-build}
HV=${HV:-$b/hv}
# Debian's python3, which has python3-scapy (a pyenv shim on PATH may not)
PY=${PYTHON:-/usr/bin/python3}
ok() { echo "ok $1"; }
notok() { echo "not ok $1 - $2"; }

# need NAME: the tools the test needs, or one failed case
need() {
	local why=""
	[ "$(id -u)" = 0 ] || why="needs root (namespaces, taps)"
	[ -x "$HV" ] || why="no $HV (make test-build)"
	[ -f "$b/fixtures/frame_dev.so" ] || why="no $b/fixtures/frame_dev.so"
	command -v ip > /dev/null || why="no ip (iproute2)"
	"$PY" -c "import scapy" 2> /dev/null || why="no python3-scapy (scripts/deps.sh)"
	if [ -n "$why" ]; then
		notok "$1" "$why"
		exit 0
	fi
}

ns=hvt-$$-${NET_TEST:-be}
tmp=$(mktemp -d "/tmp/hvt-$$-XXXXXX")
chmod 1777 "$tmp" # hv runs as nobody in some cases
mkdir "$tmp/fx"
hv_pid=
cleanup() {
	[ -n "$hv_pid" ] && kill "$hv_pid" 2> /dev/null
	ip netns del "$ns" 2> /dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
[ -n "${KEEP_LOGS:-}" ] && trap "cp $tmp/*.log /tmp/ 2>/dev/null; cleanup" EXIT
ip netns add "$ns" || { notok "${NET_TEST:-be}-netns" "ip netns add failed"; exit 0; }
ip -n "$ns" link set lo up
cp "$b/fixtures/frame_dev.so" "$tmp/fx/"
export HV_PLUGIN_PATH=${HV_PLUGIN_PATH:-$b/plugins}:$tmp/fx
printf '\xfb\xf4\xeb\xfd' > "$tmp/idle.bin" # sti; hlt; jmp: an idle guest

# vm NAME HDR [net-section lines...]: $tmp/NAME.ini, NIC socket $tmp/NAME.sock
vm() {
	local f=$1 hdr=$2
	shift 2
	{ printf '[vm]\nmemory = 16M\naccel = emu\nmachine = none\nkernel = %s/idle.bin\nkernel_format = flat\n\n' "$tmp"
	  printf '[device nic0]\nplugin = frame-dev\nnet = be\nsock = %s\nhdr = %s\n\n[net be]\n' \
		"$tmp/$f.sock" "$hdr"
	  printf '%s\n' "$@"; } > "$tmp/$f.ini"
}

# start NAME [wrapper...]: hv in the namespace, in the background, until
# its NIC socket exists; 1 if it did not come up (its log says why)
start() {
	local f=$1 i
	shift
	rm -f "$tmp/$f.sock"
	ip netns exec "$ns" "$@" "$HV" run -v "$tmp/$f.ini" > "$tmp/$f.log" 2>&1 < /dev/null &
	hv_pid=$!
	for i in $(seq 1 200); do
		[ -S "$tmp/$f.sock" ] && return 0
		kill -0 "$hv_pid" 2> /dev/null || break
		sleep 0.1
	done
	return 1
}

# finish: wait for hv (backend.py's last command powers the VM off); its
# exit status, or 124 when it had to be killed
finish() {
	local i rc
	for i in $(seq 1 200); do
		kill -0 "$hv_pid" 2> /dev/null || break
		sleep 0.1
	done
	if kill -0 "$hv_pid" 2> /dev/null; then
		kill "$hv_pid"
		wait "$hv_pid" 2> /dev/null
		hv_pid=
		return 124
	fi
	wait "$hv_pid"
	rc=$?
	hv_pid=
	return $rc
}

# drive NAME IFACE PREFIX HDR CHECKS...: backend.py in the namespace
drive() {
	local f=$1 ifc=$2 prefix=$3 hdr=$4
	shift 4
	ip netns exec "$ns" "$PY" tests/net/backend.py --sock "$tmp/$f.sock" \
		--hdr "$hdr" --iface "$ifc" --prefix "$prefix" ${DRIVE_ARGS:-} "$@"
}

# expect_fail NAME LOG-REGEX NAME.ini [wrapper...]: hv refuses to start,
# with one error line matching the regex
expect_fail() {
	local name=$1 re=$2 f=$3 out rc
	shift 3
	out=$(ip netns exec "$ns" "$@" "$HV" run "$tmp/$f.ini" 2>&1 < /dev/null)
	rc=$?
	if [ $rc = 0 ]; then
		notok "$name" "hv started"
	elif ! grep -Eq "$re" <<< "$out"; then
		notok "$name" "status $rc, no line matching '$re': $(tr '\n' '|' <<< "$out")"
	elif [ "$(grep -c . <<< "$out")" != 1 ]; then
		notok "$name" "more than one line: $(tr '\n' '|' <<< "$out")"
	else
		ok "$name"
	fi
}

# quit NAME: power the VM off through its NIC (frame_dev's 'Q')
quit() {
	"$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"Q", sys.argv[1])' "$tmp/$1.sock"
}

# cpu_ticks PID: user + system clock ticks the process used so far
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2> /dev/null || echo 0
}
