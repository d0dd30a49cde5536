# Shared by tests/disk/*.t: paths, scratch directories, ok/not ok.
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
export HV_PLUGIN_PATH=${HV_PLUGIN_PATH:-$BUILD/plugins}
case $HV_PLUGIN_PATH in /*) ;; *) HV_PLUGIN_PATH=$ROOT/$HV_PLUGIN_PATH ;; esac
case ${HV:-} in ""|/*) ;; *) HV=$ROOT/$HV ;; esac
if [ -n "$HV" ] && [ -x "$HV" ]; then
	IMG=("$HV" img)
else
	IMG=("$BUILD/tests/disk/hvimg" img)
fi
TOOL=$BUILD/tests/disk/disktool
# tmpfs (no O_DIRECT: the thread pool) and a disk-backed directory (libaio)
SHM=$(mktemp -d /dev/shm/hvdisk.XXXXXX)
DISK=$(mktemp -d /var/tmp/hvdisk.XXXXXX)
trap 'rm -rf "$SHM" "$DISK"' EXIT
img() { "${IMG[@]}" "$@"; }
ok() { echo "ok $1"; }
notok() { echo "not ok $1 - $2"; }
# check NAME CMD...: ok when CMD succeeds
check() { local n=$1; shift; if out=$("$@" 2>&1); then ok "$n"; else notok "$n" "$(echo "$out" | tail -1)"; fi; }
# expect_err NAME PATTERN CMD...: CMD must fail with one line matching PATTERN
expect_err() {
	local n=$1 pat=$2; shift 2
	local out rc
	out=$("$@" 2>&1); rc=$?
	if [ $rc -eq 0 ]; then notok "$n" "succeeded"; return; fi
	if [ "$(echo "$out" | grep -c .)" -ne 1 ]; then notok "$n" "not one line: $(echo "$out" | tr '\n' '|')"; return; fi
	if echo "$out" | grep -qE -- "$pat"; then ok "$n"; else notok "$n" "message: $out"; fi
}
# The Microsoft/QEMU sample images (tests/data/vhdx-samples, see its
# README), unpacked once into build/ (sparse).
SAMPLES=$ROOT/tests/data/vhdx-samples
samples() {
	local d=$ROOT/build/vhdx-samples f b
	mkdir -p "$d"
	for f in "$SAMPLES"/*.bz2; do
		b=$(basename "$f" .bz2)
		[ -f "$d/$b" ] && continue
		bunzip2 -c "$f" | cp --sparse=always /dev/stdin "$d/$b.tmp" && mv -f "$d/$b.tmp" "$d/$b"
	done
	echo "$d"
}
have_qemu() { command -v qemu-img >/dev/null; }
