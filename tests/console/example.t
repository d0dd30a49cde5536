# The README's example VM boots and prints its greeting from every mode.
set -u
b=${BUILD:-build}
out=$(timeout -s KILL 60 "$b/hv" run -q examples/hello.ini < /dev/null 2>&1)
rc=$?
for line in "hv example guest" "  real mode: ok" "  32-bit protected mode: ok" \
	"  64-bit long mode: ok" "powering off"; do
	if ! grep -qxF "$line" <<< "$out"; then
		echo "not ok example-hello - status $rc, missing '$line' in: $(tr '\n' '|' <<< "$out")"
		exit 0
	fi
done
[ "$rc" = 0 ] && echo "ok example-hello" || echo "not ok example-hello - exit status $rc"
