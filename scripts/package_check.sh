#!/usr/bin/env bash
# The release check (test.sh's `package` stage): build the sdist and the wheel, check them (twine --strict, the
# metadata and the files they must hold), install the wheel, not editable, into a clean virtualenv with only its
# declared dependencies (pinned by the lock), and from that install, outside the checkout, run the emulator and
# one example DAG with `airflow dags test`. A module or file left out of the package fails here.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
cd "$ROOT"
ensure_uv

WORK="$(mktemp -d -t raia-package-XXXXXX)"
cleanup() {
  stop_emulator
  rm -rf "$WORK"
}
trap cleanup EXIT
DIST="${RAIA_DIST_DIR:-$WORK/dist}"

# Build tools in their own virtualenv: nothing of the test environment leaks into the package.
uv venv --quiet --python "$PYTHON" "$WORK/tools"
uv pip install --quiet --python "$WORK/tools/bin/python" "build>=1.2" "twine>=6.1"
echo "-- building the sdist and the wheel"
"$WORK/tools/bin/python" -m build --installer uv --sdist --wheel --outdir "$DIST" "$ROOT" >"$WORK/build.log" 2>&1 \
  || { cat "$WORK/build.log"; exit 1; }
"$WORK/tools/bin/twine" check --strict "$DIST"/*
"$WORK/tools/bin/python" "$ROOT/scripts/check_dist.py" "$DIST"

echo "-- installing the wheel into a clean virtualenv"
INSTALLED="$WORK/installed"
uv venv --quiet --python "$PYTHON" "$INSTALLED"
uv pip install --quiet --python "$INSTALLED/bin/python" -c "$ROOT/requirements/airflow-3.3.txt" "$DIST"/*.whl

# From here on nothing may come from the checkout: run in a folder outside it, with only the example DAG copied.
mkdir -p "$WORK/dags"
cp "$ROOT/example_dags/example_raia_prompt.py" "$WORK/dags/"
cd "$WORK"
where="$("$INSTALLED/bin/python" -c 'import raia_provider; print(raia_provider.__file__)')"
case "$where" in
  "$INSTALLED"/*) echo "-- raia_provider imported from the install: $where" ;;
  *) echo "!! raia_provider was imported from $where, not from the wheel's install"; exit 1 ;;
esac

export AIRFLOW_HOME="$WORK/airflow"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__DAGS_FOLDER="$WORK/dags"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$WORK/airflow.db"
"$INSTALLED/bin/airflow" providers list >"$WORK/providers.log" 2>&1 || { cat "$WORK/providers.log"; exit 1; }
grep -q 'airflow-provider-raia' "$WORK/providers.log" \
  || { echo "!! airflow providers list does not show airflow-provider-raia"; cat "$WORK/providers.log"; exit 1; }

KEY="package-$(date +%s)-$RANDOM"
start_emulator "$INSTALLED/bin/python" "$WORK/emulator.log" "$KEY"
export AIRFLOW_CONN_RAIA_DEFAULT="{\"conn_type\": \"raia\", \"password\": \"$KEY\", \"host\": \"$BASE_URL\"}"
"$INSTALLED/bin/airflow" db migrate >"$WORK/db.log" 2>&1 || { cat "$WORK/db.log"; exit 1; }
"$INSTALLED/bin/airflow" dags test example_raia_prompt >"$WORK/dag.log" 2>&1 || { cat "$WORK/dag.log"; exit 1; }
answer="$(grep -E -o 'raia answered: .*' "$WORK/dag.log" | head -n 1 || true)"
[ -n "$answer" ] || { echo "!! example_raia_prompt ran from the wheel but printed no answer"; cat "$WORK/dag.log"; exit 1; }
echo "-- example_raia_prompt ran from the wheel's install against its emulator: $answer"
