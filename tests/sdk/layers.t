# hv-test: once
# The core's layers (docs/architecture.md): no object of libhvcore calls
# upward, measured from the built objects by scripts/core-deps.py. Folded
# as one node each: the interpreter, the PC platform, the disk layer's
# chain code (files of one subsystem calling each other by design).
set -u
b=${BUILD:-build}
folds="--fold core/emu --fold core/pc --fold core/disk,core/chain"
# the checker sees a cycle when there is one: unfolded, the platform's
# pc <-> pci <-> acpi is one
if python3 scripts/core-deps.py --build "$b" --fold core/emu --check >/dev/null 2>&1; then
	echo "not ok core-deps-sees-cycles - no cycle reported for pc/ unfolded"
else
	echo "ok core-deps-sees-cycles"
fi
if out=$(python3 scripts/core-deps.py --build "$b" $folds --check 2>&1); then
	echo "ok core-layers-no-cycle"
else
	echo "not ok core-layers-no-cycle - $(echo "$out" | grep -m1 '^cycle')"
fi
exit 0
