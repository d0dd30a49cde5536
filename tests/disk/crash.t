#!/bin/bash
# Crash consistency: a writer doing allocation-heavy writes with a flush
# every 16 is SIGKILLed at many points; after each kill the image must
# check clean once the log is replayed, and every write acknowledged before
# a completed flush must read back.
. "$(dirname "$0")/lib.sh"
D=$DISK
ROUNDS=${HV_CRASH_ROUNDS:-10}
for fmt in vhdx; do
	img create -f $fmt --block-size 1M "$D/c.$fmt" 512M >/dev/null
	bad=0; total=0; replays=0
	for i in $(seq 1 $ROUNDS); do
		# a different seed each round: slots are rewritten with new data
		seed=$((1000 + i)); : > "$D/log.$i"
		"$TOOL" crash "$D/c.$fmt" "$D/log.$i" $seed 2>/dev/null & pid=$!
		sleep "0.$(( (RANDOM % 9) + 1 ))"
		kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
		out=$(img check -r --output=json "$D/c.$fmt" 2>&1)
		if ! echo "$out" | grep -qE '"check-errors": ([0-9]+), "corruptions-fixed": \1,'; then
			notok "crash-$fmt-round$i-check" "$out"; bad=1; continue
		fi
		echo "$out" | grep -q '"corruptions-fixed": [1-9]' && replays=$((replays + 1))
		out=$(img check --output=json "$D/c.$fmt" 2>&1)
		echo "$out" | grep -q '"check-errors": 0' || { notok "crash-$fmt-round$i-clean" "$out"; bad=1; continue; }
		out=$("$TOOL" verify "$D/c.$fmt" "$D/log.$i" $seed 2>&1) || { notok "crash-$fmt-round$i-verify" "$out"; bad=1; continue; }
		total=$((total + $(echo "$out" | cut -d' ' -f1)))
	done
	[ $bad = 0 ] && ok "crash-$fmt-$ROUNDS-kills-consistent"
	[ $replays -gt 0 ] && ok "crash-$fmt-log-replayed-$replays-times" || notok crash-$fmt-log-replayed "no kill left a log to replay"
	[ $total -gt 0 ] && ok "crash-$fmt-verified-$total-acked-slots" || notok "crash-$fmt-verified" "no write was ever acknowledged"
	if have_qemu; then check "crash-$fmt-qemu-check" qemu-img check -q "$D/c.$fmt"; fi
done
exit 0
