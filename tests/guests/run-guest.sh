#!/bin/sh
# Run one bare-metal test guest and check it: run-guest.sh HV GUEST.bin ACCEL
# The guest's .asm (beside the .expect, in the same directory as this
# script, or given by HV_GUEST_SRC) carries its expectations in comments:
#   ; hv-test: exit=N      the exit status hv must end with
#   ; hv-test: accel=A     run on that backend only (no line elsewhere)
#   ; hv-test: stderr=RE   hv's stderr must match the extended regex RE
#   ; hv-vm: key = value   extra [vm] keys
#   ; hv-ini: LINE         a line appended to the INI after the standard
#                          sections (COM1 on stdio, debug-exit), e.g.
#                          "; hv-ini: [device t]", "; hv-ini: plugin = x"
#   ; hv-test: disk=F:KIB  a zeroed KIB KiB file F beside the INI (a [disk]
#                          section's `path = F` finds it)
#   ; hv-test: seq=F:N     a file F beside the INI holding `seq N`'s output
#                          (known bytes, e.g. a multiboot module)
# Prints one line: "ok NAME (accel)" or "not ok NAME (accel) - why".
# POSIX sh: it also runs inside the nested VM's busybox.
hv=$1 bin=$2 accel=$3
name=$(basename "$bin" .bin)
src=${HV_GUEST_SRC:-$(dirname "$0")}
asm=$src/$name.asm
expect=$src/$name.expect
# interactive guests are driven by their own tests (tests/console/)
grep -q '^; hv-test: interactive' "$asm" && exit 0
only=$(sed -n 's/^; hv-test: accel=\([a-z]*\).*/\1/p' "$asm")
[ -n "$only" ] && [ "$only" != "$accel" ] && exit 0
want_err=$(sed -n 's/^; hv-test: stderr=//p' "$asm")
tmp=${TMPDIR:-/tmp}/hv-guest-$name-$accel-$$
mkdir -p "$tmp"
want_exit=$(sed -n 's/^; hv-test: exit=\([0-9]*\).*/\1/p' "$asm")
for d in $(sed -n 's/^; hv-test: disk=\([A-Za-z0-9._-]*:[0-9]*\).*/\1/p' "$asm"); do
	dd if=/dev/zero of="$tmp/${d%%:*}" bs=1024 count="${d##*:}" 2>/dev/null
done
for d in $(sed -n 's/^; hv-test: seq=\([A-Za-z0-9._-]*:[0-9]*\).*/\1/p' "$asm"); do
	seq "${d##*:}" > "$tmp/${d%%:*}"
done
{
	echo "[vm]"
	echo "name = $name"
	echo "memory = 64M"
	echo "accel = $accel"
	echo "kernel = $bin"
	sed -n 's/^; hv-vm: //p' "$asm"
	echo "[device com1]"
	echo "plugin = uart16550"
	echo "console = out"
	echo "[console out]"
	echo "plugin = stdio"
	echo "input = off"
	echo "[device exit]"
	echo "plugin = debug-exit"
	sed -n 's/^; hv-ini: //p' "$asm"
} > "$tmp/vm.ini"
timeout -s KILL "${HV_GUEST_TIMEOUT:-30}" "$hv" run -q "$tmp/vm.ini" > "$tmp/out" 2> "$tmp/err" < /dev/null
status=$?
why=
if [ "$status" != "$want_exit" ]; then
	why="exit status $status, expected $want_exit: $(head -c 300 "$tmp/err" | tr '\n' ' ')"
elif ! cmp -s "$tmp/out" "$expect"; then
	why="serial output differs: got '$(head -c 200 "$tmp/out" | tr '\n' '|')'"
elif [ -n "$want_err" ] && ! grep -qE -- "$want_err" "$tmp/err"; then
	why="stderr does not match '$want_err': $(head -c 300 "$tmp/err" | tr '\n' ' ')"
fi
rm -rf "$tmp"
if [ -z "$why" ]; then
	echo "ok guest-$name ($accel)"
else
	echo "not ok guest-$name ($accel) - $why"
fi
