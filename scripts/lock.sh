#!/usr/bin/env bash
# Re-compile the lock files the test and demo commands install from (run after changing dependencies).
# Airflow's published constraints cannot be fetched here, so we keep our own: one per tested Airflow.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v uv >/dev/null || python3 -m pip install --quiet uv
# Newest supported Airflow.
uv pip compile -q pyproject.toml --extra test --extra parquet -c requirements/airflow-3.3.in -p 3.11 -o requirements/airflow-3.3.txt
# The floor: resolved as of 3.1.0's release month so that its transitive dependencies are the ones it was
# released against (newer structlog breaks 3.1.0 at import). common-compat is the exception: we need 1.23.
uv pip compile -q pyproject.toml --extra test --extra parquet -c requirements/airflow-3.1.in -p 3.11 \
  --exclude-newer 2025-10-05 --exclude-newer-package apache-airflow-providers-common-compat=2026-12-31 \
  -o requirements/airflow-3.1.txt
