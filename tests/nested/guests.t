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
for bin in /hv/guests/*.bin; do
	sh /hv/run-guest.sh /hv/hv "$bin" kvm
done
exit 0
INSIDE
source "$here/lib.sh"
nested_run --payload "$payload" --timeout 540 --name guests
