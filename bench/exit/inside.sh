#!/bin/sh
# In the nested VM (or on the host for accel=emu): REPS runs each of hv and,
# for KVM, the bare peer, interleaved so that load changes hit both alike.
#   inside.sh ACCEL REPS LOOPS ROUNDS [DIR]
# (DIR, default /hv, holds hv, plugins/, exit.bin, bare). Prints one line
# per round of each run:
#   # exit hv-ACCEL rep=I loops=N pio_ns=T mmio_ns=T
#   # exit bare-kvm rep=I failed: <why>
# then "ok bench-exit", or "not ok bench-exit - <why>" when a run failed.
accel=$1 reps=$2 loops=$3 rounds=$4 dir=${5:-/hv}
tmp=${TMPDIR:-/tmp}/bench-exit.$$
mkdir -p "$tmp" || exit 1
cat >"$tmp/vm.ini" <<INI
[vm]
name = bench-exit
memory = 16M
accel = $accel
kernel = $dir/exit.bin
[device exit]
plugin = debug-exit
[device bench]
plugin = exitbench
loops = $loops
rounds = $rounds
INI
failed=
# one NAME CMD...: run CMD, print its result line or why it failed
one() {
	name=$1
	shift
	"$@" >"$tmp/out" 2>&1 </dev/null
	rc=$?
	grep -o 'exitbench: loops=[0-9]* pio_ns=[0-9]* mmio_ns=[0-9]*' "$tmp/out" >"$tmp/res"
	if [ "$rc" = 0 ] && [ "$(wc -l <"$tmp/res")" -eq "$rounds" ]; then
		sed "s/^exitbench: /# exit $name rep=$r /" "$tmp/res"
	else
		echo "# exit $name rep=$r failed: exit $rc: $(grep -v '^hv: .*accel=' "$tmp/out" | tail -n 2 | tr '\n' ' ')"
		failed="$failed $name"
	fi
}
r=1
while [ "$r" -le "$reps" ]; do
	one "hv-$accel" env HV_PLUGIN_PATH="$dir/plugins" "$dir/hv" run -v "$tmp/vm.ini"
	[ "$accel" = kvm ] && one bare-kvm "$dir/bare" "$dir/exit.bin" "$loops" "$rounds"
	r=$((r + 1))
done
rm -rf "$tmp"
if [ -n "$failed" ]; then
	echo "not ok bench-exit - failed runs:$failed"
	exit 1
fi
echo "ok bench-exit"
