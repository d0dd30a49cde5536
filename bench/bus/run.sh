#!/usr/bin/env bash
# The bus's per-access cost (docs/hotplug.md quotes it). Builds
# bench/bus/access.c against BUILD's libhvcore.a (default build/, which
# `make` makes) and prints ns per bus_access().
set -eu
cd "$(dirname "$0")/../.."
b=${BUILD:-build}
make --no-print-directory -j2 "$b/libhvcore.a" >/dev/null
gcc -std=c11 -D_GNU_SOURCE -O2 -g -Icore -Isdk/include -o "$b/bench-bus" \
	bench/bus/access.c "$b/libhvcore.a" -ldl -linih -laio -lpthread -lz \
	-llzma -lzstd
"$b/bench-bus"
