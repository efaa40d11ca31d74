"""Run one retry scenario in a real (in-process) Airflow with ``dag.test()``; print what happened as JSON.

Run as a script by ``test_task_retries.py``, in its own interpreter, so Airflow's configuration (a fresh
home and SQLite DB) is set before Airflow is imported. Usage: ``python airflow_retry_scenarios.py upload|prompt|batch``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

DAGS = Path(__file__).parent / "retry_dags"
HOME = tempfile.mkdtemp(prefix="raia-retry-")
os.environ.update(
    AIRFLOW_HOME=HOME,
    AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{HOME}/airflow.db",
)
os.environ.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)


def main(scenario: str) -> None:
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    from raia_provider.testing import RaiaEmulator

    with RaiaEmulator(prompt_delay=None) as emulator:  # async prompts stay pending until completed below
        os.environ["AIRFLOW_CONN_RAIA_DEFAULT"] = json.dumps(
            {"conn_type": "raia", "password": emulator.default_key, "host": emulator.base_url}
        )
        outcome = SCENARIOS[scenario](emulator)
        outcome["requests"] = [[r.method, r.path, r.status] for r in emulator.requests()]
    print("RESULT " + json.dumps(outcome))


def run_dag(dag_id: str) -> dict[str, object]:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2, whose dag.test() needs the DAG serialized first
        from airflow.dag_processing.bundles.manager import DagBundlesManager
        from airflow.models.dagbag import DagBag, sync_bag_to_db  # type: ignore[no-redef]

        DagBundlesManager().sync_bundles_to_db()
        bag = DagBag(dag_folder=str(DAGS))
        sync_bag_to_db(bag, "dags-folder", None)
    else:
        bag = DagBag(dag_folder=str(DAGS))
    dag = bag.get_dag(dag_id)
    assert dag is not None, f"{dag_id} did not parse"
    run = dag.test()
    (ti,) = run.get_task_instances()
    return {"state": str(run.state), "try_number": ti.try_number}


def upload_fails_one_file_then_retries(emulator: object) -> dict[str, object]:
    """Five files; raia refuses the third on the first try only. The retry must upload just that one."""
    from raia_provider.operators.files import RaiaUploadFilesOperator

    docs = Path(tempfile.mkdtemp())
    for name in "abcde":
        (docs / f"{name}.md").write_text(f"document {name}\n")
    os.environ["RAIA_TEST_DOCS_GLOB"] = str(docs / "*.md")
    upload = RaiaUploadFilesOperator._upload
    refused: list[str] = []

    def refuse_c_once(self: RaiaUploadFilesOperator, part: object) -> object:
        if getattr(part, "file_name", None) == "c.md" and not refused:
            refused.append("c.md")  # the emulator answers this one upload with a 400
            emulator.inject_fault(kind="status", status=400, method="POST", path="/external/agent-files/upload")  # type: ignore[attr-defined]
        return upload(self, part)  # type: ignore[arg-type]

    RaiaUploadFilesOperator._upload = refuse_c_once  # type: ignore[method-assign]
    return run_dag("raia_retry_upload")


def prompt_poll_refused_then_retry_reattaches(emulator: object) -> dict[str, object]:
    """The first try's trigger is refused (403) and the try fails; the retry must re-attach, not re-ask."""
    emulator.inject_fault(  # type: ignore[attr-defined]
        kind="status", status=403, method="GET", path="/external/prompts/{id}/response-on"
    )

    def complete_once_the_retry_has_looked() -> None:
        # Poll 1 is the refused one (first try); poll 2 is the retry's look at the earlier prompt (3.3+), or
        # its trigger's first poll of a prompt asked again (older Airflow). Then every prompt is answered.
        deadline = time.monotonic() + 240  # generous: a loaded CI machine parses and runs slowly
        while time.monotonic() < deadline:
            polls = emulator.requests("GET", "/external/prompts/{id}/response-on")  # type: ignore[attr-defined]
            if len(polls) >= 2:
                for prompt_id in {poll.path.split("/")[-2] for poll in polls}:
                    emulator.complete_prompt(prompt_id)  # type: ignore[attr-defined]
                return
            time.sleep(0.02)

    helper = threading.Thread(target=complete_once_the_retry_has_looked, daemon=True)
    helper.start()
    outcome = run_dag("raia_retry_prompt")
    helper.join(timeout=5)
    return outcome


def batch_row_refused_then_retry_asks_only_the_rest(emulator: object) -> dict[str, object]:
    """raia refuses the first prompt of the batch once (400): the try fails; the retry asks only the unanswered."""
    os.environ["RAIA_TEST_BATCH_OUTPUT"] = str(Path(tempfile.mkdtemp()) / "out.jsonl")
    emulator.inject_fault(kind="status", status=400, method="POST", path="/external/prompts")  # type: ignore[attr-defined]
    outcome = run_dag("raia_retry_batch")
    output = Path(os.environ["RAIA_TEST_BATCH_OUTPUT"]).read_text().splitlines()
    outcome["output"] = [json.loads(line) for line in output]
    outcome["prompts"] = [r.body["prompt"] for r in emulator.requests("POST", "/external/prompts")]  # type: ignore[attr-defined]
    return outcome


SCENARIOS = {
    "upload": upload_fails_one_file_then_retries,
    "prompt": prompt_poll_refused_then_retry_reattaches,
    "batch": batch_row_refused_then_retry_asks_only_the_rest,
}

if __name__ == "__main__":
    main(sys.argv[1])
