#!/usr/bin/env bash
# The benchmark suite (docs/performance.md): every benchmarks/p*.py script against the emulator, then one
# summary table. Options go to benchmarks/run.py: --only P3,P5  --quick  --json-out PATH.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
cd "$ROOT"

make_env 3.3
exec "$VENV/bin/python" benchmarks/run.py "$@"
