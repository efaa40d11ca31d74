# Shared by the README's two commands: make a virtualenv for one Airflow version from the repo's lock file.
# Usage: source scripts/_env.sh; make_env 3.3   -> sets $VENV (the env's directory), installed and ready.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"

ensure_uv() {
  if ! command -v uv >/dev/null 2>&1; then
    # uv is on PyPI; the machine's pip can always fetch it. Installed next to the interpreter's scripts.
    "$PYTHON" -m pip install --quiet --disable-pip-version-check uv
  fi
}

make_env() {
  local airflow_series="$1"
  VENV="$ROOT/.venv-airflow-$airflow_series"
  ensure_uv
  if [ ! -x "$VENV/bin/python" ]; then
    uv venv --quiet --python "$PYTHON" "$VENV"
  fi
  # The lock pins every transitive dependency: Airflow's own constraints files cannot be fetched here.
  uv pip install --quiet --python "$VENV/bin/python" -r "$ROOT/requirements/airflow-$airflow_series.txt"
  uv pip install --quiet --python "$VENV/bin/python" --no-deps -e "$ROOT"
  export VENV
}

ensure_chromium() {
  # The browser tests drive Debian's Chromium through Playwright (never a downloaded browser build).
  [ -x /usr/bin/chromium ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian's chromium for the browser tests"
    apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
  else
    echo "!! /usr/bin/chromium is missing and cannot be installed here (needs root and apt-get): the browser tests will be skipped"
  fi
}
