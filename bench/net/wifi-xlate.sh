#!/usr/bin/env bash
# The Wi-Fi bridge's translation cost per frame (not part of make test):
# wb_out/wb_in of plugins/wifi-bridge/xlate.c over a mix of scapy's frames
# (TCP data both ways, ARP, NS), beside copying the same frames alone, with
# the ratio. The normal build (-O2); the sanitizer build's numbers mean
# nothing. usage: bench/net/wifi-xlate.sh [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
make -C "$root" -s build/bench/wifi-xlate
"$root/build/bench/wifi-xlate" "$@"
