#!/bin/bash
# hv-test: timeout=240
# An external switch with adapter = a veth (SDK 2.3: the switch attaches
# its uplink itself, [net lan.uplink]): bridge = plain and bridge = auto
# (a veth is not wireless: pcap, promiscuous) each say so in one info
# line, and a NIC on the switch (tests/fixtures/frame_dev, driven by
# tests/net/backend.py) gets ARP and ICMP echo answers from Linux's stack
# in the test's namespace; hv ctl status shows the switch's MAC table (the
# NIC's and the host's MACs on their ports) and the uplink instance, text
# and JSON (parsed by python3's json). bridge = wifi without wifi-bridge.so
# fails with hv's one "no plugin" line; with it, its info line.
NET_TEST=adapter
. "$(dirname "$0")/../net/backend.sh"
need adapter
ipn() { ip -n "$ns" "$@"; }
ipn link add hva0 type veth peer name hva1
ipn addr add 10.200.3.1/24 dev hva1
ipn link set hva1 up
ipn link set hva0 up
export DRIVE_ARGS="--host-ip 10.200.3.1 --vm-ip 10.200.3.2"
host_mac=$(ipn link show hva1 | awk '/link\/ether/ { print $2 }')

# swvm NAME BRIDGE: the NIC on [net lan], an external switch on hva0
swvm() {
	vm "$1" 0 'plugin = switch' 'type = external' 'adapter = hva0' "bridge = $2"
	sed -i 's/^net = be$/net = lan/; s/^\[net be\]$/[net lan]/' "$tmp/$1.ini"
	# control = belongs in [vm]: put it right after the header
	sed -i "0,/^\[vm\]$/s||[vm]\ncontrol = $tmp/$1.ctl|" "$tmp/$1.ini"
}

# json_ok NAME FILE EXPR: FILE is one JSON object j for which EXPR holds
json_ok() {
	if "$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$2" "$3" 2> "$tmp/json.err"; then
		ok "$1"
	else
		notok "$1" "$(head -c 300 "$2") $(tail -1 "$tmp/json.err")"
	fi
}

for br in plain auto; do
	swvm "$br" "$br"
	if ! start "$br"; then
		notok "adapter-$br-start" "hv did not start: $(tr '\n' '|' < "$tmp/$br.log")"
		continue
	fi
	ok "adapter-$br-start"
	line="[net lan]: adapter hva0 is not wireless: uplink through pcap, promiscuous (bridge = $br)"
	[ "$(grep -cF -- "$line" "$tmp/$br.log")" = 1 ] && ok "adapter-$br-info-line" ||
		notok "adapter-$br-info-line" "$(grep -i adapter "$tmp/$br.log" | tr '\n' '|')"
	ipn -d link show hva0 | grep -q 'promiscuity 1' && ok "adapter-$br-promisc" ||
		notok "adapter-$br-promisc" "$(ipn -d link show hva0 | tr '\n' ' ')"
	drive "$br" hva1 "adapter-$br" 0 --keep arp icmp
	ctl=$tmp/$br.ctl
	"$HV" ctl "$ctl" status lan > "$tmp/st" 2>&1
	{ [ "$(sed -n 1p "$tmp/st")" = '[net lan] (switch)' ] &&
	  grep -q '^type external, adapter hva0 (not wireless), bridge plain, uplink \[net lan.uplink\]$' "$tmp/st" &&
	  grep -Eq '^52:54:00:12:34:56 0 [0-9]+ [0-9]+$' "$tmp/st" &&
	  grep -Eq "^$host_mac 0 [0-9]+ [0-9]+\$" "$tmp/st"; } &&
		ok "adapter-$br-status-text" || notok "adapter-$br-status-text" "$(tr '\n' '|' < "$tmp/st")"
	"$HV" ctl "$ctl" status net:lan json > "$tmp/st.json" 2>&1
	json_ok "adapter-$br-status-json" "$tmp/st.json" \
		"j['section']=='net lan' and j['plugin']=='switch' and j['bridge']=='plain' and not j['wireless'] and j['uplink']=='net lan.uplink' and
		 {m['mac'] for m in j['macs']} >= {'52:54:00:12:34:56', '$host_mac'} and
		 [p for p in j['ports'] if p['kind']=='uplink'][0]['rx'] >= 2 and
		 [m for m in j['macs'] if m['mac']=='$host_mac'][0]['port'] == [p for p in j['ports'] if p['kind']=='uplink'][0]['port']"
	"$HV" ctl "$ctl" status lan.uplink json > "$tmp/up.json" 2>&1
	json_ok "adapter-$br-uplink-status" "$tmp/up.json" \
		"j['section']=='net lan.uplink' and j['plugin']=='pcap' and j['created'] and j['attached_to']=='net lan'"
	out=$("$HV" ctl "$ctl" get lan.uplink promisc 2>&1)
	[ "$out" = "ok on" ] && ok "adapter-$br-uplink-keys" || notok "adapter-$br-uplink-keys" "$out"
	quit "$br"
	finish
	rc=$?
	[ $rc = 0 ] && ok "adapter-$br-poweroff" || notok "adapter-$br-poweroff" "status $rc: $(tail -3 "$tmp/$br.log" | tr '\n' '|')"
done

# bridge = wifi: wifi-bridge.so (plugins/wifi-bridge) where it is built
swvm wifi wifi
if ls "${HV_PLUGIN_PATH%%:*}/wifi-bridge.so" > /dev/null 2>&1; then
	if start wifi; then
		grep -qF '[net lan]: adapter hva0 is not wireless: uplink through the Wi-Fi bridge (bridge = wifi)' "$tmp/wifi.log" &&
			ok adapter-wifi-info-line || notok adapter-wifi-info-line "$(tr '\n' '|' < "$tmp/wifi.log")"
		quit wifi
		finish > /dev/null
	else
		notok adapter-wifi-start "$(tr '\n' '|' < "$tmp/wifi.log")"
	fi
else
	expect_fail adapter-wifi-no-plugin "wifi.ini:[0-9]+: \[net lan.uplink\]: no plugin named 'wifi-bridge' \(see 'hv plugins'\)" wifi
fi

# the adapter must exist when hv starts (hv check says so too)
swvm gone plain
sed -i 's/^adapter = hva0$/adapter = hvt-gone0/' "$tmp/gone.ini"
expect_fail adapter-missing "gone.ini:[0-9]+: \[net lan\]: adapter = hvt-gone0: no such interface" gone
exit 0
