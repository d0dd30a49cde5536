#!/usr/bin/env bash
# `make run`: boot the example VM on this terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== booting examples/hello.ini (build/hv run examples/hello.ini)"
exec build/hv run examples/hello.ini
