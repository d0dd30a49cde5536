#!/bin/bash
# hv-test: once
# hv-test: timeout=900
# The real-world images in tests/data/vhdx-samples (Windows, Disk2VHD,
# Hyper-V, Virtual PC, older QEMU) read back to the SHA-256 of their
# virtual contents listed in its README. The dirty log is replayed in
# memory by a read-only open (the file stays byte-identical), and into the
# file by check -r.
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

# the dirty log, read-only: info, convert and check see the replayed disk;
# not one byte of the file changes
DIRTY=179cefe8b0587f123393eedf2aa7aa8d25798591178e6bc3950a09762f38f96f
cp --sparse=always "$S/iotest-dirtylog-10G-4M.vhdx" "$D/dirty.vhdx"
before=$(hash < "$D/dirty.vhdx")
out=$(img info --output=json "$D/dirty.vhdx" 2>&1)
echo "$out" | grep -q '"virtual-size": 10737418240' && ok sample-dirtylog-info-readonly || notok sample-dirtylog-info-readonly "$out"
rm -f "$D/d.raw"
if out=$(img convert -O raw "$D/dirty.vhdx" "$D/d.raw" 2>&1); then
	got=$(hash < "$D/d.raw")
	[ "$got" = $DIRTY ] && ok sample-dirtylog-convert-readonly || notok sample-dirtylog-convert-readonly "sha256 $got"
else notok sample-dirtylog-convert-readonly "$out"; fi
rm -f "$D/d.raw"
out=$(img check --output=json "$D/dirty.vhdx"); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q '"corruptions-fixed": 0' && echo "$out" | grep -q 'log holds unapplied updates' \
	&& ok sample-dirtylog-check-reports || notok sample-dirtylog-check-reports "rc $rc: $out"
after=$(hash < "$D/dirty.vhdx")
[ "$before" = "$after" ] && ok sample-dirtylog-file-untouched || notok sample-dirtylog-file-untouched "file changed"

# check -r writes the replay into the file
img check -r "$D/dirty.vhdx" >/dev/null
got=$("$TOOL" cat "$D/dirty.vhdx" | hash)
[ "$got" = $DIRTY ] && ok sample-dirtylog-replayed || notok sample-dirtylog-replayed "sha256 $got"
[ "$(hash < "$D/dirty.vhdx")" != "$before" ] && ok sample-dirtylog-written || notok sample-dirtylog-written "file unchanged"
# the raw file a convert writes hashes the same
rm -f "$D/s.raw"; img convert -O raw "$S/test-disk2vhd.vhdx" "$D/s.raw"
[ "$(hash < "$D/s.raw")" = 96d964042be9b58dda1725567abfb0cf9fd8380e2118754afa979c2ad445938a ] && ok sample-convert-raw || notok sample-convert-raw differs
exit 0
