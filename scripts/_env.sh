# Shared by the README's two commands: make a virtualenv for one Airflow version from the repo's lock file.
# Usage: source scripts/_env.sh; make_env 3.3   -> sets $VENV (the env's directory), installed and ready.
#
# Two settings serve the self-check of these scripts (tests/ci/test_ci_gates.py), which runs them in a scratch
# copy of the repo; nobody else needs them:
#   RAIA_STAGES      comma-separated stages to run (demo, browser, ruff, mypy, docs, package, tests-3.3,
#                    tests-3.1);
#                    unset means all of them.
#   RAIA_REUSE_VENV  an existing, installed virtualenv to use as is instead of building one.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
DEFAULT_CHROMIUM=/usr/bin/chromium

# Whether a stage runs: all of them unless RAIA_STAGES names some.
stage() {
  [ -z "${RAIA_STAGES:-}" ] || [[ ",$RAIA_STAGES," == *",$1,"* ]]
}

ensure_uv() {
  if ! command -v uv >/dev/null 2>&1; then
    # uv is on PyPI; the machine's pip can always fetch it. Installed next to the interpreter's scripts.
    "$PYTHON" -m pip install --quiet --disable-pip-version-check uv
  fi
}

make_env() {
  local airflow_series="$1"
  if [ -n "${RAIA_REUSE_VENV:-}" ]; then
    VENV="$RAIA_REUSE_VENV"
    export VENV
    return 0
  fi
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

# The browser tests drive Debian's Chromium through Playwright (never a downloaded browser build). Under CI a
# missing browser fails the run (a skipped browser suite must not pass for a tested one); elsewhere the browser
# tests are skipped, and say why. RAIA_CHROMIUM points the tests at another binary.
ensure_chromium() {
  export RAIA_CHROMIUM="${RAIA_CHROMIUM:-$DEFAULT_CHROMIUM}"
  [ -x "$RAIA_CHROMIUM" ] && return 0
  if [ "$RAIA_CHROMIUM" = "$DEFAULT_CHROMIUM" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian's chromium for the browser tests"
    apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } || true
    [ -x "$RAIA_CHROMIUM" ] && return 0
  fi
  if [ "${CI:-}" = true ]; then
    echo "!! $RAIA_CHROMIUM is missing and could not be installed (needs root and apt-get): under CI=true the browser tests are required"
    return 1
  fi
  echo "!! $RAIA_CHROMIUM is missing and cannot be installed here (needs root and apt-get): the browser tests will be skipped"
}

# Start the emulator in the background and wait until it serves; the demo and the package check use it.
# Usage: start_emulator PYTHON LOG KEY [EMULATOR ARGS...]; sets EMULATOR_PID and BASE_URL. stop_emulator ends it.
# The emulator prints "raia emulator listening on http://127.0.0.1:PORT/external" once it serves.
EMULATOR_PID=""
start_emulator() {
  local python="$1" log="$2" key="$3"
  shift 3
  "$python" -m raia_provider.testing --port 0 --key "$key" "$@" >"$log" 2>&1 &
  EMULATOR_PID=$!
  BASE_URL=""
  for _ in $(seq 1 100); do
    BASE_URL="$(sed -n 's/^raia emulator listening on \(http[^ ]*\).*/\1/p' "$log")"
    [ -n "$BASE_URL" ] && return 0
    kill -0 "$EMULATOR_PID" 2>/dev/null || { cat "$log"; return 1; }
    sleep 0.1
  done
  echo "!! the emulator did not start"
  cat "$log"
  return 1
}

stop_emulator() {
  if [ -n "$EMULATOR_PID" ]; then kill "$EMULATOR_PID" 2>/dev/null || true; wait "$EMULATOR_PID" 2>/dev/null || true; fi
}
