# hv-test: once
# hv-test: timeout=600
# Every bare-metal guest of tests/guests/ on hv's KVM backend, inside the
# nested VM (Debian's kernel with kvm-amd, under QEMU TCG with SVM).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/${BUILD:-build}
payload=$root/build/nested/guests.payload
rm -rf "$payload"
mkdir -p "$payload/guests" "$payload/plugins"
cp "$build/hv" "$payload/hv"
cp "$build"/plugins/*.so "$payload/plugins/"
cp "$build"/guests/*.bin "$root"/tests/guests/*.asm "$root"/tests/guests/*.expect "$payload/guests/"
cp "$root/tests/guests/run-guest.sh" "$payload/"
cat > "$payload/run-inside.sh" <<'INSIDE'
#!/bin/sh
# In the nested VM: each guest under hv with accel=kvm.
cd /hv
export HV_GUEST_SRC=/hv/guests HV_GUEST_TIMEOUT=60
# real (nested) KVM runs guest kernel code at speed: accel=auto takes it
facts=$(/hv/hv accel 2>&1)
echo "# $(echo "$facts" | head -1)"
if [ "$(/hv/hv accel --name)" = kvm ]; then
	echo "ok accel-auto-picks-kvm"
else
	echo "not ok accel-auto-picks-kvm - $(echo "$facts" | tr '\n' ' ')"
fi
# Guests whose checks the nested VM cannot be the reference for: L2's
# code runs on L0's QEMU 7.2 TCG (SVM), which delivers #GP/#PF/#DE with
# RF = 0 in the frame and keeps RF set after IRET (exc-rf2), does not
# check TR/LDT bases for canonicality (exc-ltr), has no DR7.GD and raises
# ICEBP as a fault that loops (exc-dr2, which also has an I/O breakpoint
# on a port KVM exits for: KVM does not report those). What KVM itself
# delivers (an injected #UD, exc-rf) and the rest run here. Data
# breakpoints live in a guest of their own (exc-drdata): in one guest with
# an execution breakpoint or single-stepping after them, L0 QEMU 7.2
# segfaults (exit 139, every time).
tcg_skip=" exc-rf2 exc-ltr exc-dr2 "
for bin in /hv/guests/*.bin; do
	name=$(basename "$bin" .bin)
	case $tcg_skip in
	*" $name "*)
		echo "# guest-$name: not run nested (L0 QEMU TCG, see guests.t)"
		continue ;;
	esac
	sh /hv/run-guest.sh /hv/hv "$bin" kvm
done
exit 0
INSIDE
source "$here/lib.sh"
nested_run --payload "$payload" --timeout 540 --name guests
