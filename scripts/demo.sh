#!/usr/bin/env bash
# The README's demo command: set up from scratch, start the raia emulator on loopback, run every example DAG
# with `airflow dags test` on an embedded SQLite metadata DB, print the agent's answer, clean up.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
cd "$ROOT"
stage demo || exit 0
make_env 3.3

# What the demo leaves for you to read: the DAGs' outputs and logs, and the emulator's log, in one folder it
# names at the end (emptied at the start of each run). Airflow's home and database are scratch and go.
# RAIA_DEMO_OUTPUT picks another folder; RAIA_DEMO_DAGS runs only the DAGs it names (the demo's own test).
OUT="${RAIA_DEMO_OUTPUT:-$ROOT/demo-output}"
if [ -d "$OUT" ] && [ -n "$(ls -A "$OUT")" ] && [ ! -e "$OUT/.raia-demo-output" ]; then
  echo "$OUT holds files the demo did not write; set RAIA_DEMO_OUTPUT to another folder"; exit 1
fi
rm -rf "$OUT"
mkdir -p "$OUT/logs"
touch "$OUT/.raia-demo-output"
OUT="$(cd "$OUT" && pwd)"
WORK="$(mktemp -d -t raia-demo-XXXXXX)"
cleanup() {
  stop_emulator
  rm -rf "$WORK"
}
trap cleanup EXIT

export AIRFLOW_HOME="$WORK/airflow"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/example_dags"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$WORK/airflow.db"
export RAIA_EXAMPLE_OUTPUT="$OUT/output"
DEMO_KEY="demo-$(date +%s)-$RANDOM"

start_emulator "$VENV/bin/python" "$OUT/emulator.log" "$DEMO_KEY" --agent-name "Demo Agent"
echo "raia emulator: $BASE_URL"

# The connection, in Airflow's JSON form; the key only ever travels in the password field.
export AIRFLOW_CONN_RAIA_DEFAULT="{\"conn_type\": \"raia\", \"password\": \"$DEMO_KEY\", \"host\": \"$BASE_URL\", \"extra\": {\"region\": \"us\"}}"

# The invoice example's agent: set up in raia to answer with its output JSON schema (the DAG's INVOICE).
INVOICE_KEY="demo-invoice-agent-key"
"$VENV/bin/python" - "$BASE_URL" "$INVOICE_KEY" "$ROOT/example_dags" <<'PY'
import sys

sys.path.insert(0, sys.argv[3])
from example_raia_invoice_extraction import INVOICE
from raia_provider.testing import EmulatorClient

with EmulatorClient(sys.argv[1]) as emulator:
    emulator.add_agent(key=sys.argv[2], name="Invoice Agent", output_json_schema=INVOICE)
PY
export AIRFLOW_CONN_RAIA_INVOICES="{\"conn_type\": \"raia\", \"password\": \"$INVOICE_KEY\", \"host\": \"$BASE_URL\", \"extra\": {\"region\": \"us\"}}"

"$VENV/bin/airflow" db migrate >"$WORK/db.log" 2>&1 || { cat "$WORK/db.log"; exit 1; }

# Each example DAG, and the line of its output that shows what it did.
RAN=" "
run_example() {
  local dag_id="$1" shows="$2" started=$SECONDS log="$OUT/logs/$1.log"
  if [ -n "${RAIA_DEMO_DAGS:-}" ] && [[ " $RAIA_DEMO_DAGS " != *" $dag_id "* ]]; then return 0; fi
  "$VENV/bin/airflow" dags test "$dag_id" >"$log" 2>&1 || { cat "$log"; exit 1; }
  local line
  line="$(grep -E -o "$shows" "$log" | head -n 1 || true)"
  [ -n "$line" ] || { echo "$dag_id ran but did not print what it should have"; cat "$log"; exit 1; }
  echo "DAG $dag_id succeeded in $((SECONDS - started)) s: $line"
  RAN="$RAN$dag_id "
}
run_example example_raia_prompt 'raia answered: .*'
run_example example_raia_enrich_records 'enriched [0-9]+ records'
run_example example_raia_async_prompt 'raia answered prompt .*'
run_example example_raia_knowledge_refresh 'uploaded [0-9]+ documents, removed [0-9]+ stale files'
run_example nightly_knowledge_refresh 'Knowledge synced: [0-9]+ uploaded \([0-9]+ bytes\), [0-9]+ deleted, [0-9]+ kept'
if [[ "$RAN" == *" example_raia_knowledge_refresh nightly_knowledge_refresh "* ]]; then
  echo "    (the same agent, the same documents: the sync owns what it mirrors. It found the upload example's files"
  echo "    in the agent's knowledge but not in its manifest, and raia keeps no content hash to match them by,"
  echo "    so it uploaded its own copies and then removed the others. Its next run uploads and removes nothing.)"
fi
run_example example_raia_conversation 'raia replied in conversation [^ ]+: .*'
run_example example_raia_webhook 'webhook (registered|already registered): .*'
run_example example_raia_batch_prompt 'raia batch enriched [0-9]+ of [0-9]+ rows .*'
run_example example_raia_batch_prompt_chunked 'raia batch in [0-9]+ chunks: .*'
run_example example_raia_invoice_extraction 'raia extracted [0-9]+ of [0-9]+ invoices .*'

echo "Demo outputs kept in $OUT:"
(cd "$OUT" && find . -type f ! -name .raia-demo-output | sed 's|^\./|  |' | sort)
