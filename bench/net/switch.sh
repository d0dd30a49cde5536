#!/usr/bin/env bash
# The switch's own cost (docs/network.md quotes it): frames/s and µs per
# frame port to port inside one hv process, and across its unix socket to
# a second process, for small, full-size and 64 KiB GSO frames. No guest,
# no network: net-nic fixture NICs through switch.so and the real core.
#   bash bench/net/switch.sh [frames]       (after make test-build)
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
n=${1:-200000}
[ -x "$BUILD/bench/switch-bench" ] || make -s -j2 test-build
echo "# switch.so, $(nproc) CPUs, $(uname -r)"
for len in 64 1514 65000; do
	frames=$n
	[ "$len" -gt 2000 ] && frames=$((n / 10))
	"$BUILD/bench/switch-bench" "$frames" "$len"
done
