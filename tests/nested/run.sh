#!/usr/bin/env bash
# Boot a payload in a TCG-emulated AMD machine whose kernel has KVM, and run
# its run-inside.sh there (see README.md).
#
# usage: run.sh --payload DIR [--timeout SEC] [--mem SIZE] [--name NAME]
#               [--file SRC:DEST]... [--append KERNEL-ARGS] [--verbose]
#               [-- ARG...]
#
#   --payload DIR   copied to /hv in the VM; must hold run-inside.sh, run
#                   there as `sh /hv/run-inside.sh ARG...` in /hv
#   --timeout SEC   wall-clock budget of the whole run (default 300); the
#                   script gets what boot left of it less 5 s, QEMU is
#                   killed at SEC + 20 s
#   --mem SIZE      guest memory (default 2G)
#   --name NAME     names the log build/nested/NAME.log and the image link
#                   build/nested/NAME.cpio (default: the payload's basename)
#   --file SRC:DEST also copy SRC (file or directory) to DEST in the VM
#   --append ARGS   extra kernel command-line words, e.g. idle=poll
#   --verbose       relay every line the VM prints, not only TAP lines
#   --shell         instead of running run-inside.sh, give an interactive
#                   shell in the VM on this terminal (Ctrl-A x quits QEMU)
#   -- ARG...       arguments for run-inside.sh (no spaces or quotes)
#
# Prints the TAP lines ("ok ...", "not ok ...", "# ...", "1..N") the VM
# prints, then a "# nested:" summary; exits with run-inside.sh's status, or
# 75 when the nested VM froze (no heartbeat for HV_NESTED_FREEZE_SECS, 90 s;
# the log then has a monitor and gdb snapshot of QEMU; callers retry once
# through nested_run in lib.sh). HV_NESTED_ACCEL, _CPU, _SMP, _QEMU_ARGS and
# _APPEND change the outer QEMU and L1 (README.md). If
# /dev/kvm does not come up, or time runs out, prints
# "not ok nested-kvm - <why>" and exits non-zero.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

payload='' timeout=300 mem=2G name='' append=${HV_NESTED_APPEND:+ $HV_NESTED_APPEND} verbose=0 shell=0
files=() args=()
while (($#)); do
	case $1 in
	--payload) payload=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--mem) mem=${2:?}; shift 2 ;;
	--name) name=${2:?}; shift 2 ;;
	--file) files+=(--file "${2:?}"); shift 2 ;;
	--append) append+=" ${2:?}"; shift 2 ;;
	--verbose) verbose=1; shift ;;
	--shell) shell=1; shift ;;
	--) shift; args=("$@"); break ;;
	*) echo "run.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
	esac
done

nok() {
	echo "not ok nested-kvm - $*"
	exit 1
}

[[ -n $payload ]] || nok "run.sh needs --payload DIR"
[[ -d $payload ]] || nok "payload $payload is not a directory"
[[ $timeout =~ ^[0-9]+$ ]] || nok "--timeout wants seconds, got $timeout"
[[ -n $name ]] || name=$(basename "$(realpath "$payload")")
for a in "${args[@]}"; do
	[[ $a =~ ^[^[:space:]\"\']+$ ]] || nok "argument '$a' for run-inside.sh has a space or a quote"
done
command -v qemu-system-x86_64 >/dev/null || nok "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
kernel=$(nested_kernel 2>&1) || nok "$kernel"

out=$root/build/nested
log=$out/$name.log
console=$out/$name.console.tmp
mkdir -p "$out"
rm -f "$log" "$console"
boot=$(nested_boot_image "$kernel" "$out")
start=$(date +%s.%N)
if ! mkinitramfs_err=$("$here/mkinitramfs.sh" "$out/$name.cpio" --payload "$payload" \
	--kernel "$kernel" "${files[@]}" 2>&1 >/dev/null); then
	echo "$mkinitramfs_err" >"$log"
	nok "initramfs build failed: $(tail -n 1 <<<"$mkinitramfs_err")"
fi
built=$(date +%s.%N)

cmdline="console=ttyS0 quiet panic=-1 hv_timeout=$timeout${append}"
tty1=file:/dev/stdout
if ((shell)); then
	cmdline+=" hv_shell=1"
	tty1=mon:stdio
fi
((${#args[@]} == 0)) || cmdline+=" -- ${args[*]}"

# ttyS0 (kernel console) goes to a file; ttyS1 (the payload's output) to
# our stdout pipe, so TAP lines never interleave with kernel messages.
# HV_NESTED_QEMU (the binary), HV_NESTED_ACCEL, _CPU, _SMP and _QEMU_ARGS
# (split on spaces) override the
# outer QEMU's settings; tests/nested/freeze-study.sh compares them.
# shellcheck disable=SC2206 # word splitting of HV_NESTED_QEMU_ARGS wanted
qemu=("${HV_NESTED_QEMU:-qemu-system-x86_64}" -nodefaults -accel "${HV_NESTED_ACCEL:-$NESTED_ACCEL}"
	-cpu "${HV_NESTED_CPU:-$NESTED_CPU}" -m "$mem" -smp "${HV_NESTED_SMP:-1}"
	-kernel "$boot" -initrd "$out/$name.cpio"
	-append "$cmdline" -nographic -no-reboot -nic none
	-serial "file:$console" -serial "$tty1")
# HV_NESTED_QEMU_ARGS: extra words for QEMU (no quoting), e.g. bench/exit's
# "-icount shift=2", which makes the nested VM's clock count instructions
# and so ignore the load of a shared host.
# shellcheck disable=SC2206
qemu+=(${HV_NESTED_QEMU_ARGS:-})
if ((shell)); then
	echo "# nested: kernel console in ${console#"$root"/}; Ctrl-A x quits QEMU" >&2
	exec timeout -k 5 --foreground $((timeout + 20)) "${qemu[@]}"
fi

# QEMU 7.2 before 7.2.21 lacks "accel/tcg: Properly unlink a TB linked to
# itself", the likely cause of the nested freeze (README.md).
qver=$("${qemu[0]}" --version 2>/dev/null | sed -n '1s/.*version \([0-9.]*\).*/\1/p')
if [[ $qver =~ ^7\.2\.([0-9]+)$ ]] && ((BASH_REMATCH[1] < 21)); then
	echo "# nested: warning: QEMU $qver predates 7.2.21's TCG fix; the nested VM may freeze (apt-get upgrade qemu-system-x86)"
fi

# elapsed [SINCE]: seconds from SINCE (default: run.sh start) to now.
elapsed() { echo "$(date +%s.%N) ${1:-$start}" | awk '{ printf "%.1f", $1 - $2 }'; }

# freeze_snapshot PID: what the frozen outer QEMU is doing, for the log:
# the guest CPU's state twice, 2 s apart (moving or stuck), over the
# monitor socket, and QEMU's own threads (gdb), when socat and gdb exist.
freeze_snapshot() {
	local pid=$1 i
	if command -v socat >/dev/null; then
		for i in 1 2; do
			echo "---- QEMU monitor, snapshot $i"
			# shellcheck disable=SC2016 # $pc is the monitor's, not ours
			printf 'info status\ninfo cpus\ninfo registers\nx/12i $pc\ninfo pic\ninfo lapic\n' |
				timeout 10 socat -t 3 - "UNIX-CONNECT:$monitor" | tr -d '\r' |
				sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | grep -v -E '^\(qemu\)|^(FPR|XMM|FCW)'
			[[ -z $pid ]] || echo "---- CPU ticks per thread (tid utime stime):" \
				"$(for t in /proc/"$pid"/task/*; do echo "${t##*/} $(cut -d' ' -f14,15 "$t/stat")"; done | paste -sd,)"
			((i == 2)) || sleep 2
		done
	fi
	[[ -n $pid ]] && command -v gdb >/dev/null || return 0
	echo "---- QEMU threads (gdb)"
	timeout 60 gdb -q -batch -ex 'set pagination off' -ex 'info threads' \
		-ex 'thread apply all bt 12' -p "$pid" 2>&1 | grep -v '^\[New LWP'
}

status='' ready='' nokvm='' timed_out='' qemu_rc='' saw_fail=0 frozen=''
# Silence for this long, once the payload runs, means the nested VM froze
# (see README.md: the outer emulator's SVM sometimes wedges the whole L1).
freeze_after=${HV_NESTED_FREEZE_SECS:-90}
pidfile=$out/$name.qemu.pid
monitor=$out/$name.monitor
rm -f "$pidfile" "$monitor" "$out/$name.freeze.tmp"
qemu+=(-monitor "unix:$monitor,server=on,wait=off")
while :; do
	rc=0
	IFS= read -r -t "$freeze_after" line || rc=$?
	if ((rc)); then
		((rc > 128)) || break # end of output
		[[ -n $ready && -z $status ]] || continue
		[[ -z $frozen ]] || break # killed, and still no end of output
		frozen=$freeze_after
		freeze_snapshot "$(cat "$pidfile" 2>/dev/null)" >"$out/$name.freeze.tmp" 2>&1 || true
		kill -KILL "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null || true
		continue
	fi
	line=${line%$'\r'}
	case $line in
	HV-NESTED-QEMU-RC\ *) qemu_rc=${line#* }; continue ;;
	HV-NESTED-BEAT) continue ;;
	esac
	echo "$line" >>"$log"
	case $line in
	HV-NESTED-KVM-READY\ *)
		ready=${line#* }
		echo "# nested: /dev/kvm ready $(elapsed "$built") s after QEMU start (kernel uptime $ready s)"
		;;
	HV-NESTED-NOKVM\ *) nokvm=${line#* } ;;
	HV-NESTED-TIMEOUT\ *) timed_out=${line#* } ;;
	HV-NESTED-END\ status=*) status=${line#*=} ;;
	'not ok'*) saw_fail=1; echo "$line" ;;
	ok | 'ok '* | '#'* | 1..* | 'Bail out!'*) echo "$line" ;;
	*) ((verbose == 0)) || echo "$line" ;;
	esac
done < <(
	rc=0
	timeout -k 5 $((timeout + 20)) "${qemu[@]}" -pidfile "$pidfile" </dev/null \
		2>"$out/$name.qemu.tmp" || rc=$?
	# After a newline: the VM's last line may lack one.
	printf '\nHV-NESTED-QEMU-RC %s\n' "$rc"
)

{
	echo "---- QEMU: ${qemu[*]} (exit ${qemu_rc:-?})"
	cat "$out/$name.qemu.tmp"
	[[ ! -s $out/$name.freeze.tmp ]] || cat "$out/$name.freeze.tmp"
	echo "---- kernel console (ttyS0)"
	# Without SeaBIOS's terminal escapes; the console may end mid-line.
	sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' "$console" 2>/dev/null
	echo
} >>"$log"
rm -f "$out/$name.qemu.tmp" "$out/$name.freeze.tmp" "$console" "$monitor"

summary() {
	printf '# nested: %s: %s; image %.1f s, total %s s; log %s\n' "$name" "$1" \
		"$(echo "$built $start" | awk '{ print $1 - $2 }')" "$(elapsed)" "${log#"$root"/}"
}

# The first panic/oops line and the last lines of the kernel console.
tail_console() {
	local kmsg
	kmsg=$(sed -n '/^---- kernel console/,$p' "$log" | tr -d '\r' | grep -v '^$')
	grep -m 1 -E 'Kernel panic|BUG:|Oops|general protection' <<<"$kmsg" | sed 's/^/#   /' || true
	tail -n 5 <<<"$kmsg" | sed 's/^/#   /'
}

if [[ -n $frozen ]]; then
	summary "frozen"
	tail_console
	echo "# nested: the nested VM froze: nothing for $frozen s, QEMU killed (see tests/nested/README.md)"
	exit 75
fi
if [[ -n $nokvm ]]; then
	summary "no /dev/kvm"
	nok "/dev/kvm did not appear: $nokvm"
fi
if [[ -n $timed_out ]]; then
	summary "timed out"
	nok "run-inside.sh timed out after $timed_out s (budget $timeout s)"
fi
if [[ -z $status ]]; then
	summary "no end marker"
	if [[ ${qemu_rc:-} == 124 || ${qemu_rc:-} == 137 ]]; then
		tail_console
		nok "no result within $((timeout + 20)) s, QEMU killed (see ${log#"$root"/})"
	fi
	tail_console
	nok "the VM stopped without an end marker, QEMU exit ${qemu_rc:-?} (see ${log#"$root"/})"
fi
summary "run-inside.sh exit $status"
if [[ $status != 0 && $saw_fail == 0 ]]; then
	echo "not ok nested-run - run-inside.sh exited $status"
fi
exit "$status"
