# hv check refuses a switch's keys that do not go together, each with one
# line naming the file, the line and the section, before anything runs;
# a good switch passes and prints its effective keys.
set -u
HV=${HV:-build/hv}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# expect NAME WANT INI-BODY: hv check fails with a line containing WANT
expect() {
	local name=$1 want=$2 out
	printf '[vm]\nkernel = /bin/sh\nmachine = none\n%b' "$3" > "$dir/vm.ini"
	if out=$("$HV" check "$dir/vm.ini" 2>&1); then
		echo "not ok $name - hv check accepted it"
	elif ! grep -qF -- "$want" <<< "$out"; then
		echo "not ok $name - got: $(head -2 <<< "$out" | tr '\n' ' ')"
	elif [ "$(grep -c . <<< "$out")" -ne 1 ]; then
		echo "not ok $name - more than one line: $(tr '\n' ' ' <<< "$out")"
	else
		echo "ok $name"
	fi
}

expect private-takes-no-uplink "vm.ini:4: [net lan]: type = private takes no uplink (uplink = up)" \
	'[net lan]\nplugin = switch\ntype = private\nuplink = up\n[net up]\nplugin = switch\ntype = private\n'
expect internal-needs-uplink "vm.ini:4: [net lan]: type = internal needs uplink" \
	'[net lan]\nplugin = switch\ntype = internal\n'
expect external-needs-uplink "vm.ini:4: [net lan]: type = external needs adapter = a host interface, or uplink = a [net] backend section" \
	'[net lan]\nplugin = switch\ntype = external\n'
# adapter = (SDK 2.3: the switch attaches pcap or wifi-bridge itself)
wire='[net wire]\nplugin = pcap\nifname = lo\n'
expect adapter-excludes-uplink "vm.ini:4: [net lan]: adapter = lo and uplink = wire exclude each other" \
	"[net lan]\nplugin = switch\ntype = external\nadapter = lo\nuplink = wire\n$wire"
expect adapter-needs-external "vm.ini:4: [net lan]: adapter = lo needs type = external" \
	'[net lan]\nplugin = switch\ntype = internal\nadapter = lo\n'
expect adapter-not-private "vm.ini:4: [net lan]: adapter = lo needs type = external" \
	'[net lan]\nplugin = switch\ntype = private\nadapter = lo\n'
expect bridge-needs-adapter "vm.ini:4: [net lan]: bridge = wifi goes with adapter =" \
	"[net lan]\nplugin = switch\ntype = external\nuplink = wire\nbridge = wifi\n$wire"
expect bridge-choice "vm.ini:8: [net lan]: bridge = wireless: not one of the choices; choose one of auto|wifi|plain" \
	'[net lan]\nplugin = switch\ntype = external\nadapter = lo\nbridge = wireless\n'
expect adapter-not-a-path "vm.ini:4: [net lan]: adapter = ../lo: not an interface name" \
	'[net lan]\nplugin = switch\ntype = external\nadapter = ../lo\n'
expect adapter-too-long "vm.ini:4: [net lan]: adapter = abcdefghijklmnopq: not an interface name" \
	'[net lan]\nplugin = switch\ntype = external\nadapter = abcdefghijklmnopq\n'
# an uplink section is attached only when the switch starts: its own
# check op still runs in hv check (core/vm.c check_named_backend)
expect uplink-own-check "vm.ini:8: [net wl]: per_vm = 64 is more than table = 16" \
	'[net lan]\nplugin = switch\ntype = external\nuplink = wl\n[net wl]\nplugin = wifi-bridge\nifname = lo\ntable = 16\nper_vm = 64\n'
# (whether the adapter exists is start-up's question, as pcap's ifname:
# hv check may run outside the VM's namespace; tests/switch/adapter.t)
for b in auto wifi plain; do
	printf '[vm]\nkernel = /bin/sh\nmachine = none\n[net lan]\nplugin = switch\ntype = external\nadapter = hvt-nosuch%s\nbridge = %s\n' $b $b > "$dir/vm.ini"
	if out=$("$HV" check "$dir/vm.ini" 2>&1) && grep -q "^adapter = hvt-nosuch$b\$" <<< "$out" &&
		grep -q "^bridge = $b\$" <<< "$out"; then
		echo "ok adapter-bridge-$b-passes"
	else
		echo "not ok adapter-bridge-$b-passes - $(tr '\n' ' ' <<< "$out")"
	fi
done
expect type-required "vm.ini:4: [net lan]: 'type' is required" \
	'[net lan]\nplugin = switch\n'
expect type-choice "vm.ini:6: [net lan]: type = public:" \
	'[net lan]\nplugin = switch\ntype = public\n'
expect uplink-exists "vm.ini:7: [net lan]: uplink = nope: there is no [net nope] section" \
	'[net lan]\nplugin = switch\ntype = internal\nuplink = nope\n'
expect mac-table-range "vm.ini:7: [net lan]: mac_table = 8:" \
	'[net lan]\nplugin = switch\ntype = private\nmac_table = 8\n'
expect port-macs-over-table "vm.ini:4: [net lan]: port_macs = 512 is more than mac_table = 256" \
	'[net lan]\nplugin = switch\ntype = private\nmac_table = 256\nport_macs = 512\n'
expect aging-range "vm.ini:7: [net lan]: aging = 0:" \
	'[net lan]\nplugin = switch\ntype = private\naging = 0\n'
expect socket-dir "vm.ini:7: [net lan]: socket = /nonexistent-dir/lan.sock: directory /nonexistent-dir" \
	'[net lan]\nplugin = switch\ntype = private\nsocket = /nonexistent-dir/lan.sock\n'
long=$(printf 'x%.0s' $(seq 120))
expect socket-too-long "vm.ini:4: [net lan]: socket = $dir/$long: longer than 107 bytes" \
	"[net lan]\nplugin = switch\ntype = private\nsocket = $dir/$long\n"
expect unknown-key "vm.ini:7: [net lan]: unknown key 'vlan'" \
	'[net lan]\nplugin = switch\ntype = private\nvlan = 3\n'

printf '[vm]\nkernel = /bin/sh\nmachine = none\n[net lan]\nplugin = switch\ntype = private\nsocket = %s/lan.sock\naging = 30\n' "$dir" > "$dir/vm.ini"
if out=$("$HV" check "$dir/vm.ini" 2>&1) && grep -q '^mac_table = 4096    ; default' <<< "$out" &&
	grep -q '^aging = 30$' <<< "$out" && [ ! -e "$dir/lan.sock" ]; then
	echo "ok good-switch-passes (and binds nothing)"
else
	echo "not ok good-switch-passes - $(tr '\n' ' ' <<< "$out")"
fi
