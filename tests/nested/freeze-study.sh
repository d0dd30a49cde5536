#!/usr/bin/env bash
# The nested freeze, measured (not part of make test; see README.md, "The
# nested freeze"). Boots the nested VM RUNS times in a row, one QEMU at a
# time; in each, L2 Linux boots (Debian's kernel with a busybox initramfs
# that powers off once /init ran, as bench/linux does) under hv and/or
# under Debian's QEMU -enable-kvm. Each run is one line of OUT:
#
#   run=N result=pass|freeze|fail secs=S load=L1,L5 end_load=L1 l2=... last=...
#
# pass: every L2 boot reached /init and powered off; freeze: run.sh exit 75
# (no heartbeat for HV_NESTED_FREEZE_SECS, here 60 s unless set; the QEMU
# monitor and gdb snapshot is in OUT.run-N.NAME.log); fail: anything else.
# The outer QEMU's settings come from the environment, as for run.sh
# (HV_NESTED_QEMU, HV_NESTED_ACCEL, HV_NESTED_CPU, HV_NESTED_SMP, HV_NESTED_QEMU_ARGS,
# HV_NESTED_APPEND, e.g. kvm_amd.avic=0 or clocksource=hpet).
#
# usage: freeze-study.sh [--runs N] [--out FILE] [--l2 hv,qemu] [--cpus N]
#                        [--qemu-cpu MODEL] [--hv-ini KEY=VALUE,...]
#   --runs N         nested boots (default 20)
#   --out FILE       results (default build/nested/freeze-study/LABEL.txt,
#                    LABEL from $STUDY_LABEL or "default")
#   --l2 LIST        which L2 boots each run does, in order (default hv,qemu)
#   --cpus N         L2 vCPUs (default 2, as tests/linux/boot.t)
#   --qemu-cpu MODEL -cpu of the L2 QEMU peer (default: QEMU's own, qemu64)
#   --boot-t         each run is tests/linux/boot.t instead (its hv L2 boot
#                    with serial commands, lspci, RTC and pci-testdev checks;
#                    HV_LINUX_CPUS, HV_LINUX_APPEND apply), without its retry
#   --name NAME      names the payload and log in build/nested/ (default
#                    freeze-study; two studies at once need two names)
#   --l2-append W    extra L2 kernel command-line words, joined by commas;
#                    l2_idle=SECS makes L2 idle that long before powering off
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

runs=20 out='' l2=hv,qemu cpus=2 qcpu=- l2append=- boott=0 name=freeze-study
while (($#)); do
	case $1 in
	--runs) runs=${2:?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	--l2) l2=${2:?}; shift 2 ;;
	--cpus) cpus=${2:?}; shift 2 ;;
	--qemu-cpu) qcpu=${2:?}; shift 2 ;;
	--l2-append) l2append=${2:?}; shift 2 ;;
	--boot-t) boott=1; l2=boot.t; shift ;;
	--name) name=${2:?}; shift 2 ;;
	*) echo "freeze-study.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
	esac
done
[[ -n $out ]] || out=$root/build/nested/freeze-study/${STUDY_LABEL:-default}.txt
mkdir -p "$(dirname "$out")"
export HV_NESTED_FREEZE_SECS=${HV_NESTED_FREEZE_SECS:-60}

kernel=$(nested_kernel)
payload=$root/build/nested/$name.payload
[[ -x $root/build/hv ]] || { echo "freeze-study.sh: build hv first (make -j2 test-build)" >&2; exit 1; }
rm -rf "$payload"
mkdir -p "$payload/plugins" "$payload/qemu-fw"
cp "$root/build/hv" "$payload/"
cp "$root"/build/plugins/*.so "$payload/plugins/"
cp "$kernel" "$payload/vmlinuz"
cp "$(command -v qemu-system-x86_64)" "$payload/"
cp /usr/share/seabios/bios-256k.bin "$payload/qemu-fw/"
for f in linuxboot_dma.bin kvmvapic.bin; do cp -L "/usr/share/qemu/$f" "$payload/qemu-fw/"; done
gcc -O2 -Wall -Werror -o "$payload/timeit" "$root/bench/linux/timeit.c"
# L2's /init powers off at once, or after l2_idle=SECS (on its command
# line, see --l2-append) of idling: timer interrupts and HLT in L2.
cat >"$payload/poweroff-now" <<'L2'
#!/bin/sh
for w in $(cat /proc/cmdline); do
	case $w in
	l2_idle=*) echo "L2-IDLE ${w#*=}"; sleep "${w#*=}" ;;
	esac
done
exit 0
L2
"$root/scripts/mkinitramfs.sh" "$payload/initramfs.cpio.gz" --run "$payload/poweroff-now"
cat >"$payload/run-inside.sh" <<'INSIDE'
#!/bin/sh
# run-inside.sh KINDS CPUS QEMU-CPU L2-APPEND ("-": none)
cd /hv || exit 1
kinds=$(echo "$1" | tr ',' ' ') cpus=$2 qcpu=$3 extra=$4
cmdline="console=ttyS0 panic=-1"
[ "$extra" = - ] || cmdline="$cmdline $(echo "$extra" | tr ',' ' ')"
cat >/tmp/vm.ini <<INI
[vm]
memory = 512M
cpus = $cpus
accel = kvm
kernel = /hv/vmlinuz
initrd = /hv/initramfs.cpio.gz
cmdline = $cmdline
[device com1]
plugin = uart16550
console = out
[console out]
plugin = stdio
input = off
INI
set --
[ "$qcpu" = - ] || set -- -cpu "$qcpu"
fail=0
for k in $kinds; do
	echo "# l2 $k starting"
	if [ "$k" = hv ]; then
		r=$(timeout 300 ./timeit HV-LINUX-INIT -- ./hv run -q /tmp/vm.ini 2>/tmp/$k.out </dev/null)
	else
		r=$(timeout 300 ./timeit HV-LINUX-INIT -- ./qemu-system-x86_64 -enable-kvm -M pc -m 512 \
			-smp "$cpus" "$@" -nodefaults -display none -no-reboot -serial stdio -L /hv/qemu-fw \
			-kernel /hv/vmlinuz -initrd /hv/initramfs.cpio.gz -append "$cmdline" \
			2>/tmp/$k.out </dev/null)
	fi
	case $r in
	*init=-*|*status=[1-9]*|'') echo "not ok l2-$k - $r"; tail -n 5 /tmp/$k.out | sed 's/^/# L2: /'; fail=1 ;;
	*) echo "ok l2-$k # $r" ;;
	esac
	grep -m 3 -i 'unhandled\|wrmsr\|perf' /tmp/$k.out | sed "s/^/# L2 $k: /"
done
exit $fail
INSIDE

load() { cut -d' ' -f1,2 /proc/loadavg | tr ' ' ,; }
echo "# freeze-study $(date -u +%FT%TZ) $("${HV_NESTED_QEMU:-qemu-system-x86_64}" --version | head -n 1) accel=${HV_NESTED_ACCEL:-$NESTED_ACCEL}" \
	"cpu=${HV_NESTED_CPU:-$NESTED_CPU} smp=${HV_NESTED_SMP:-1} qemu_args='${HV_NESTED_QEMU_ARGS:-}'" \
	"append='${HV_NESTED_APPEND:-}' l2=$l2 cpus=$cpus qemu_cpu=$qcpu l2_append=$l2append" >>"$out"
# Runs are numbered on from those already in OUT (studies in several parts).
first=$(grep -c '^run=' "$out" || true)
for ((i = first + 1; i <= first + runs; i++)); do
	l0=$(load) t0=$(date +%s)
	rc=0
	if ((boott)); then
		log=$root/build/nested/linux.log
		res=$(HV_NESTED_RETRY=0 bash "$root/tests/linux/boot.t" 2>&1) || rc=$?
		! grep -q '^# nested: the nested VM froze' <<<"$res" || rc=75
		! grep -q '^not ok' <<<"$res" || ((rc)) || rc=1
	else
		log=$root/build/nested/$name.log
		res=$(bash "$here/run.sh" --payload "$payload" --name "$name" --timeout 900 \
			-- "$l2" "$cpus" "$qcpu" "$l2append" 2>&1) || rc=$?
	fi
	case $rc in
	0) result=pass ;;
	75) result=freeze ;;
	*) result=fail ;;
	esac
	[[ $result == pass ]] || { cp "$log" "$out.run-$i.$name.log"; echo "$res" >"$out.run-$i.$name.out"; }
	l2s=$(grep -E '^(not )?ok l2-' <<<"$res" | sed 's/^ok \(l2-[a-z]*\) # init=\([0-9.]*\).*/\1:\2/; s/^not ok \(l2-[a-z]*\).*/\1:FAIL/' | paste -sd' ' || true)
	last=$(grep -E '^# l2 .* starting' <<<"$res" | tail -n 1 | cut -d' ' -f3 || true)
	msr=$(grep -c 'Unhandled WRMSR' "$log" || true)
	((!boott)) || l2s=$(grep -E '^ok linux-[0-9]-boot' <<<"$res" | sed 's/.*after \([0-9.]*\) s.*/init:\1/' | paste -sd' ' || true)
	echo "run=$i result=$result rc=$rc secs=$(($(date +%s) - t0)) load=$l0 end_load=$(load)" \
		"l2=[$l2s] last_l2=$last l1_unhandled_wrmsr=$msr" | tee -a "$out"
done
awk -v f="$out" '/^run=/ { n++; split($2, r, "="); c[r[2]]++ }
END { printf "# %s: %d runs, %d pass, %d freeze, %d fail\n", f, n, c["pass"], c["freeze"], c["fail"] }' "$out"
