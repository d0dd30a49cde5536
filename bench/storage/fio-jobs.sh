#!/bin/sh
# The bench's fio jobs on one target (a guest's disk or the L1 ramdisk):
# sequential 1 MiB and random 4 KiB reads and writes at QD1 and QD32,
# libaio, O_DIRECT, SECS seconds each over the first 192 MiB.
# A fio-jobs.conf beside this script may set FIO_JOBS (run.sh writes one
# for BENCH_JOBS=...). usage: fio-jobs.sh TARGET [SECS]; prints "FIO JOB iops=N mbs=N" or
# "FIO JOB FAILED" per job (fio --minimal: terse v3 fields 7/8 read
# KiB/s and IOPS, 48/49 write).
t=$1 secs=${2:-${FIO_SECS:-4}}
FIO_JOBS="read:1m:1 read:1m:32 write:1m:1 write:1m:32 randread:4k:1 randread:4k:32 randwrite:4k:1 randwrite:4k:32"
# shellcheck disable=SC1091 # written by run.sh when a subset is asked for
[ -r "${0%/*}/fio-jobs.conf" ] && . "${0%/*}/fio-jobs.conf"
for job in $FIO_JOBS; do
	rw=${job%%:*} rest=${job#*:}
	bs=${rest%:*} qd=${rest#*:}
	name=$rw-$bs-qd$qd
	out=$(fio --minimal --thread --name="$name" --filename="$t" --ioengine=libaio --direct=1 \
		--rw="$rw" --bs="$bs" --iodepth="$qd" --size=192m --runtime="$secs" --time_based \
		--randrepeat=1 --norandommap 2>&1)
	row=$(echo "$out" | grep "^3;" | awk -F';' -v w="$rw" '
		{ k = (w ~ /write/) ? 48 : 7; if ($(k + 1) > 0) printf "iops=%d mbs=%.1f", $(k + 1), $k / 1024 }')
	echo "FIO $name ${row:-FAILED}"
	# FIO_DISKSTATS=1 (BENCH_DISKSTATS=1 to run.sh): the guest disk's
	# requests, merges, ticks and util, to see how fio's I/Os were split
	[ -n "${FIO_DISKSTATS:-}" ] && echo "$out" | grep "^3;" |
		awk -F';' '{ s = ""; for (i = NF - 8; i <= NF; i++) s = s " " $i; print "# fio: disk" s }'
	[ -n "$row" ] || echo "$out" | tail -n 3 | sed 's/^/# fio: /'
done
