#!/bin/bash
# hv-test: once
# The real-world images in /work/shared/vhdx-samples (Windows, Disk2VHD,
# Hyper-V, Virtual PC, older QEMU) read back to the SHA-256 of their
# virtual contents listed in the README; the dirty log is replayed first.
. "$(dirname "$0")/lib.sh"
D=$DISK
S=$(samples)
hash() { if command -v openssl >/dev/null; then openssl dgst -sha256 -r | cut -d' ' -f1; else sha256sum | cut -d' ' -f1; fi; }
for f in iotest-dynamic-1G.vhdx:d3d112d8dab7fd360609f7d5a7b769904b7a2a7d7b6b8c535f65a23293c05478 \
	 test-disk2vhd.vhdx:96d964042be9b58dda1725567abfb0cf9fd8380e2118754afa979c2ad445938a \
	 d2v-zerofilled.vhd:1ba076be94a8a64541c25aae8d5a5f8b0da758c3797af597e03acb431ff8d143; do
	n=${f%%:*}; want=${f#*:}
	got=$("$TOOL" cat "$S/$n" | hash)
	[ "$got" = "$want" ] && ok "sample-$n" || notok "sample-$n" "sha256 $got"
done
cp --sparse=always "$S/iotest-dirtylog-10G-4M.vhdx" "$D/dirty.vhdx"
img check -r "$D/dirty.vhdx" >/dev/null
got=$("$TOOL" cat "$D/dirty.vhdx" | hash)
[ "$got" = 179cefe8b0587f123393eedf2aa7aa8d25798591178e6bc3950a09762f38f96f ] && ok sample-dirtylog-replayed || notok sample-dirtylog-replayed "sha256 $got"
# the raw file a convert writes hashes the same
rm -f "$D/s.raw"; img convert -O raw "$S/test-disk2vhd.vhdx" "$D/s.raw"
[ "$(hash < "$D/s.raw")" = 96d964042be9b58dda1725567abfb0cf9fd8380e2118754afa979c2ad445938a ] && ok sample-convert-raw || notok sample-convert-raw differs
exit 0
