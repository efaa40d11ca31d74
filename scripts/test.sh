#!/usr/bin/env bash
# The README's test command: set up from scratch, then lint, type-check, build the docs and run the whole
# suite on the newest Airflow we support and on the oldest one the package claims (pyproject's floor).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
cd "$ROOT"

make_env 3.3
ensure_chromium
echo "== ruff"; "$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check .
echo "== mypy"; "$VENV/bin/mypy"
echo "== docs"; "$VENV/bin/sphinx-build" -q -W --keep-going -b html docs docs/_build/html
echo "== tests on Airflow $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("apache-airflow"))')"
"$VENV/bin/python" -m pytest "$@"

make_env 3.1
echo "== tests on Airflow $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("apache-airflow"))') (the floor)"
"$VENV/bin/python" -m pytest "$@"
