#!/usr/bin/env bash
# hv-test: once
# Proves the nested KVM harness without hv: builds kvmprobe (dynamically
# linked, so the library copying is exercised too), boots it with run.sh
# and relays its TAP lines. Fails when KVM does not work inside the VM.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
payload=$root/build/nested/selftest.payload

if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "not ok nested-selftest - qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
	exit 1
fi
mkdir -p "$payload"
if ! err=$("${CC:-gcc}" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 \
	-o "$payload/kvmprobe" "$here/kvmprobe.c" 2>&1); then
	echo "not ok nested-selftest - kvmprobe.c does not build: $(head -n 1 <<<"$err")"
	exit 1
fi
cat >"$payload/run-inside.sh" <<'INSIDE'
#!/bin/sh
# Runs in the nested VM as `sh /hv/run-inside.sh selftest-arg`.
fail=0
if [ "$*" = selftest-arg ]; then
	echo "ok nested-args"
else
	echo "not ok nested-args - got '$*', want 'selftest-arg'"
	fail=1
fi
nets=$(ls /sys/class/net | tr '\n' ' ')
if [ "$nets" = "lo " ]; then
	echo "ok nested-no-network"
else
	echo "not ok nested-no-network - interfaces: $nets"
	fail=1
fi
/hv/kvmprobe || fail=1
exit $fail
INSIDE

source "$here/lib.sh"
nested_run --payload "$payload" --name selftest --timeout 60 -- selftest-arg
