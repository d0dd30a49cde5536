#!/bin/bash
# hv-test: once
# hv-test: timeout=900
# hv's VHDX differencing chains against libvhdi (Debian's libvhdi-utils),
# code not written here: vhdiinfo describes them, vhdimount (FUSE) reads
# every level to the bytes hv wrote. Three levels, data at each, 512 and
# 4096-byte logical sectors, 1 and 32 MiB blocks. The other way round, hv
# reads a child written by tests/disk/vhdx_spec.py (from the spec's text),
# which libvhdi reads too. Images that carry the old, mistyped Parent
# Locator GUID open with a warning and check -r refiles them.
# vhdimount has no option naming the parent (-X passes FUSE options): it
# takes the part of the locator's path after the last backslash and looks
# beside the child, so every chain here lives in one directory. It lists
# vhdi1 (the base) .. vhdiN (the image named).
. "$(dirname "$0")/lib.sh"
D=$DISK
SPEC="python3 tests/disk/vhdx_spec.py"
MNT=$D/mnt
mkdir -p "$MNT"
trap 'umount "$MNT" 2>/dev/null; rm -rf "$SHM" "$DISK"' EXIT
for t in vhdiinfo vhdimount; do
	command -v $t >/dev/null || { notok libvhdi-tools "$t missing (scripts/deps.sh installs libvhdi-utils)"; exit 0; }
done
[ -c /dev/fuse ] || { notok libvhdi-fuse "no /dev/fuse"; exit 0; }

# want OUT SIZE BASE|- OFF:LEN:BYTE...: BASE (or zeroes) with the writes
want() { python3 - "$@" <<'PY'
import shutil, sys
out, size, base = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if base == '-':
    open(out, 'wb').truncate(size)
else:
    shutil.copyfile(base, out)
with open(out, 'r+b') as f:
    for w in sys.argv[4:]:
        off, ln, b = (int(x, 0) for x in w.split(':'))
        f.seek(off); f.write(bytes([b]) * ln)
PY
}
# write IMG OFF:LEN:BYTE...: through hv's block layer, each flushed
write() { local img=$1 w; shift; for w in "$@"; do IFS=: read -r o l b <<< "$w"; "$TOOL" write "$img" "$o" "$l" "$b" || return 1; done; }
# mounted NAME IMG WANT...: vhdimount IMG; vhdi1..N must equal WANT1..N
mounted() {
	local n=$1 img=$2 i=1 w bad=""; shift 2
	if ! out=$(timeout 60 vhdimount "$img" "$MNT" 2>&1); then notok "$n" "vhdimount: $(echo "$out" | tail -1)"; return; fi
	for w in "$@"; do
		cmp -s "$MNT/vhdi$i" "$w" || bad="$bad vhdi$i"
		i=$((i + 1))
	done
	[ -e "$MNT/vhdi$i" ] && bad="$bad extra-vhdi$i"
	umount "$MNT" || bad="$bad umount"
	[ -z "$bad" ] && ok "$n" || notok "$n" "differs:$bad"
}
field() { sed -n "s/^[[:space:]]*$1[[:space:]]*: //p"; }

SIZE=$((96 << 20))
for ls in 512 4096; do
	for bs in 1 32; do
		B=$((bs << 20)); t=ls$ls-bs${bs}M; C=$D/$t; mkdir -p "$C"
		w0=(0:$((3 << 20)):0x11 $((B - 4096)):12288:0x12)
		w1=(8192:8192:0x21 $B:$B:0x22)
		w2=(12288:4096:0x31 $((2 * B - 4096)):12288:0x32)
		img create -f vhdx --logical-sector $ls --block-size $B "$C/base.vhdx" $SIZE >/dev/null &&
		write "$C/base.vhdx" "${w0[@]}" &&
		img create -f vhdx --block-size $B -b "$C/base.vhdx" "$C/c1.vhdx" >/dev/null &&
		write "$C/c1.vhdx" "${w1[@]}" &&
		img create -f vhdx --block-size $B -b "$C/c1.vhdx" "$C/c2.vhdx" >/dev/null &&
		write "$C/c2.vhdx" "${w2[@]}" || { notok "libvhdi-$t-make" "could not build the chain"; continue; }
		want "$C/w0.raw" $SIZE - "${w0[@]}"
		want "$C/w1.raw" $SIZE "$C/w0.raw" "${w1[@]}"
		want "$C/w2.raw" $SIZE "$C/w1.raw" "${w2[@]}"
		rm -f "$C/hv.raw"; img convert -O raw "$C/c2.vhdx" "$C/hv.raw"
		cmp -s "$C/hv.raw" "$C/w2.raw" && ok "libvhdi-$t-hv-reads" || notok "libvhdi-$t-hv-reads" differs
		# vhdiinfo: type, size, sector, and the linkage naming c1's DataWriteGuid
		i2=$(vhdiinfo "$C/c2.vhdx" 2>&1); i1=$(vhdiinfo "$C/c1.vhdx" 2>&1)
		bad=""
		[ "$(field 'Disk type' <<< "$i2")" = Differential ] || bad="$bad type"
		[ "$(field 'Media size' <<< "$i2" | sed 's/.*(\([0-9]*\) bytes).*/\1/')" = $SIZE ] || bad="$bad size"
		[ "$(field 'Bytes per sector' <<< "$i2")" = "$ls bytes" ] || bad="$bad sector"
		id1=$(field Identifier <<< "$i1")
		[ -n "$id1" ] && [ "$(field 'Parent identifier' <<< "$i2")" = "$id1" ] || bad="$bad linkage"
		case $(field 'Parent filename' <<< "$i2") in *'\c1.vhdx') ;; *) bad="$bad parent-name" ;; esac
		[ -z "$bad" ] && ok "libvhdi-$t-info" || notok "libvhdi-$t-info" "$bad: $(echo "$i2" | tr '\n\t' '  ')"
		mounted "libvhdi-$t-mount-3-levels" "$C/c2.vhdx" "$C/w0.raw" "$C/w1.raw" "$C/w2.raw"
		# qemu-img reads neither differencing VHDX nor 4096-byte logical
		# sectors: it checks the 512-byte bases
		if [ $ls = 512 ] && command -v qemu-img >/dev/null; then
			rm -f "$C/q.raw"; qemu-img convert -f vhdx -O raw "$C/base.vhdx" "$C/q.raw"
			cmp -s "$C/q.raw" "$C/w0.raw" && ok "libvhdi-$t-qemu-base" || notok "libvhdi-$t-qemu-base" differs
		fi
		# a child written from the spec's text over hv's c1: hv and libvhdi
		# both read it
		ws=(4096:4096:0x41 $((B + 8192)):8192:0x42 $((2 * B)):$B:0x43)
		if out=$($SPEC mkdiff "$C/s.vhdx" c1.vhdx $ls $B "${ws[@]}" 2>&1); then
			want "$C/ws.raw" $SIZE "$C/w1.raw" "${ws[@]}"
			rm -f "$C/hv.raw"; img convert -O raw "$C/s.vhdx" "$C/hv.raw"
			cmp -s "$C/hv.raw" "$C/ws.raw" && ok "libvhdi-$t-hv-reads-spec-child" || notok "libvhdi-$t-hv-reads-spec-child" differs
			mounted "libvhdi-$t-mount-spec-child" "$C/s.vhdx" "$C/w0.raw" "$C/w1.raw" "$C/ws.raw"
		else notok "libvhdi-$t-spec-child" "$out"; fi
		[ $bs = 32 ] && rm -rf "$C"
	done
done

# the old, mistyped Parent Locator GUID (A8D35F2B-…, first on-disk byte
# 0x2B instead of 0x2D) in an hv-made child
C=$D/old; mkdir -p "$C"
img create -f vhdx --block-size 1M "$C/p.vhdx" 8M >/dev/null
write "$C/p.vhdx" 0:$((2 << 20)):0x51
img create -f vhdx -b "$C/p.vhdx" "$C/c.vhdx" >/dev/null
write "$C/c.vhdx" 4096:4096:0x52
want "$C/wp.raw" $((8 << 20)) - 0:$((2 << 20)):0x51
want "$C/wc.raw" $((8 << 20)) "$C/wp.raw" 4096:4096:0x52
n=$(python3 - "$C/c.vhdx" <<'PY'
import struct, sys, uuid
f = open(sys.argv[1], 'r+b')
f.seek(192 << 10); r = f.read(4096)
regs = {r[16 + 32 * i:32 + 32 * i]: struct.unpack_from('<Q', r, 32 + 32 * i)[0] for i in range(struct.unpack_from('<I', r, 8)[0])}
moff = regs[uuid.UUID('8B7CA206-4790-4B9A-B8FE-575F050F886E').bytes_le]
f.seek(moff); m = f.read(65536)
new, old = (uuid.UUID(s).bytes_le for s in ('A8D35F2D-B30B-454D-ABF7-D3D84834AB0C', 'A8D35F2B-B30B-454D-ABF7-D3D84834AB0C'))
n = 0
for i in range(struct.unpack_from('<H', m, 10)[0]):
    if m[32 + 32 * i:48 + 32 * i] == new:
        f.seek(moff + 32 + 32 * i); f.write(old); n += 1
print(n)
PY
)
[ "$n" = 1 ] && ok vhdx-old-guid-made || notok vhdx-old-guid-made "patched $n items"
out=$(img info "$C/c.vhdx" 2>&1 >/dev/null); rc=$?
[ $rc = 0 ] && [ "$(echo "$out" | grep -c .)" = 1 ] && echo "$out" | grep -q 'c.vhdx: parent locator item under the mistyped GUID' &&
	ok vhdx-old-guid-opens-with-warning || notok vhdx-old-guid-opens-with-warning "rc $rc: $out"
rm -f "$C/o.raw"; img convert -O raw "$C/c.vhdx" "$C/o.raw" 2>/dev/null
cmp -s "$C/o.raw" "$C/wc.raw" && ok vhdx-old-guid-reads || notok vhdx-old-guid-reads differs
out=$(img check --output=json "$C/c.vhdx" 2>/dev/null); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q mistyped && ok vhdx-old-guid-check-reports || notok vhdx-old-guid-check-reports "rc $rc: $out"
out=$(img check -r --output=json "$C/c.vhdx" 2>/dev/null)
echo "$out" | grep -q '"corruptions-fixed": 1' && ok vhdx-old-guid-repaired || notok vhdx-old-guid-repaired "$out"
out=$(img info "$C/c.vhdx" 2>&1 >/dev/null); rc=$?
[ $rc = 0 ] && [ -z "$out" ] && ok vhdx-old-guid-no-warning-after || notok vhdx-old-guid-no-warning-after "rc $rc: $out"
case $(vhdiinfo "$C/c.vhdx" 2>&1 | field 'Parent filename') in *'\p.vhdx') ok vhdx-old-guid-libvhdi-info ;; *) notok vhdx-old-guid-libvhdi-info "no parent" ;; esac
mounted vhdx-old-guid-libvhdi-reads "$C/c.vhdx" "$C/wp.raw" "$C/wc.raw"
exit 0
