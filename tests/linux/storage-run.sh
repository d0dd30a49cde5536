#!/bin/sh
# One storage boot under hv: the VM of DIR/vm.ini.in (stor_prepare in
# storage-lib.sh) with the guest script storage-guest.sh, then the results
# as TAP lines. POSIX sh: runs on the host (storage.t, accel=emu) and in
# the nested VM (storage-kvm.t, accel=kvm, busybox).
# usage: storage-run.sh DIR HV ACCEL MEMORY KERNEL SECONDS
# Prints "not ok storage-device-PLUGIN" for each plugin hv lacks (DIR/missing),
# the guest's "HVT ok/not ok" lines without the prefix, storage-boot and
# storage-guest-done; exits 0 (the lines carry the verdict).
d=$1 hv=$2 accel=$3 mem=$4 kernel=$5 limit=$6
cd "$d" || exit 1
while read -r p disks; do
	echo "not ok storage-device-$p - no $p plugin in this build (hv plugins); not tested: $disks"
done <missing
sed "s|@ACCEL@|$accel|; s|@MEMORY@|$mem|; s|@KERNEL@|$kernel|" vm.ini.in >vm.ini
rm -f console.out
start=$(cut -d' ' -f1 /proc/uptime)
"$hv" run vm.ini </dev/null >console.out 2>hv.err &
pid=$!
since() { echo "$(cut -d' ' -f1 /proc/uptime) $start" | awk '{ printf "%.1f", $1 - $2 }'; }
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt $((limit * 5)) ]; do
	sleep 0.2
	i=$((i + 1))
done
timed_out=0
if kill -0 $pid 2>/dev/null; then
	timed_out=1
	kill -9 $pid
fi
wait $pid
rc=$?
took=$(since)
tr -d '\r' <console.out | sed -n 's/^HVT \(\(not \)\{0,1\}ok .*\)/\1/p; s/^# /# guest: /p'
init=$(tr -d '\r' <console.out | grep -a -o 'HV-LINUX-INIT [0-9.]*' | cut -d' ' -f2)
diag() {
	echo "# hv stderr: $(tail -c 600 hv.err | tr '\n' '|')"
	tr -d '\r' <console.out | tail -n 12 | sed 's/^/#   /'
}
if [ -z "$init" ]; then
	echo "not ok storage-boot - no HV-LINUX-INIT on the console: the guest hung before its /init finished (hv exit $rc after $took s)"
	diag
elif [ $timed_out = 1 ]; then
	echo "not ok storage-boot - hv killed after $limit s"
	diag
elif [ $rc != 0 ]; then
	echo "not ok storage-boot - hv exited $rc after $took s"
	diag
else
	echo "ok storage-boot - /init at $init s guest uptime, guest script done and hv exited 0 after $took s"
fi
done_line=$(tr -d '\r' <console.out | grep -a '^HVT-DONE')
if [ -n "$done_line" ]; then
	echo "ok storage-guest-done - ${done_line#HVT-DONE }"
else
	echo "not ok storage-guest-done - the guest script did not finish"
fi
exit 0
