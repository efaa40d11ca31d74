#!/usr/bin/env bash
# The README's test command: set up from scratch, then lint, type-check, build the docs and run the whole
# suite on the newest Airflow we support and on the oldest one the package claims (pyproject's floor).
# Every check is its own command: under `set -e` the first failure ends the run with its exit status.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
cd "$ROOT"

make_env 3.3
if stage browser; then ensure_chromium; fi
if stage ruff; then
  echo "== ruff"
  "$VENV/bin/ruff" check .
  "$VENV/bin/ruff" format --check .
fi
if stage mypy; then echo "== mypy"; "$VENV/bin/mypy"; fi
if stage docs; then echo "== docs"; "$VENV/bin/sphinx-build" -q -W --keep-going -b html docs docs/_build/html; fi
if stage package; then echo "== package"; "$ROOT/scripts/package_check.sh"; fi
airflow_version() { "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("apache-airflow"))'; }
if stage tests-3.3; then
  echo "== tests on Airflow $(airflow_version)"
  "$VENV/bin/python" -m pytest "$@"
fi

if stage tests-3.1; then
  make_env 3.1
  echo "== tests on Airflow $(airflow_version) (the floor)"
  "$VENV/bin/python" -m pytest "$@"
fi
