"""Every example DAG, triggered through Airflow's REST API and run by the real scheduler, worker and triggerer.

The tests of this module run in order on one Airflow: the last one searches everything the runs left
behind (task logs, the metadata DB, XCom, rendered templates) for the secret key.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from raia_provider.testing import RaiaEmulator, answer_for
from tests.e2e.stack import AirflowStack, wait_until

pytestmark = pytest.mark.e2e

#: Every key the emulator handed out in this module's tests, to search for at the end.
KEYS_USED: set[str] = set()


def trigger(api: httpx.Client, dag_id: str) -> str:
    """Trigger ``dag_id`` once the dag-processor has parsed it; return the run id."""
    wait_until(lambda: api.get(f"/dags/{dag_id}").status_code == 200, timeout=120, what=f"{dag_id} to be parsed")
    api.patch(f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
    run = api.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": None})
    assert run.status_code == 200, run.text
    return str(run.json()["dag_run_id"])


def run_state(api: httpx.Client, dag_id: str, run_id: str) -> str:
    return str(api.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()["state"])


def wait_for_run(api: httpx.Client, dag_id: str, run_id: str, timeout: float = 240) -> str:
    def finished() -> str | None:
        state = run_state(api, dag_id, run_id)
        return state if state in ("success", "failed") else None

    return str(wait_until(finished, timeout=timeout, what=f"{dag_id} run {run_id} to finish"))


def task_state(api: httpx.Client, dag_id: str, run_id: str, task_id: str) -> str | None:
    found = api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")
    return found.json().get("state") if found.status_code == 200 else None


def xcom(api: httpx.Client, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
    entry = api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}")
    assert entry.status_code == 200, entry.text
    return entry.json()["value"]


def polls_of(raia: RaiaEmulator) -> list[str]:
    """The prompt ids of every ``response-on`` poll the emulator saw, in order."""
    return [r.path.split("/")[-2] for r in raia.requests("GET", "/external/prompts/{id}/response-on")]


@pytest.fixture(autouse=True)
def _remember_key(raia: RaiaEmulator) -> None:
    KEYS_USED.add(raia.default_key)


def test_prompt(api: httpx.Client, raia: RaiaEmulator) -> None:
    run_id = trigger(api, "example_raia_prompt")
    assert wait_for_run(api, "example_raia_prompt", run_id) == "success"
    answer = xcom(api, "example_raia_prompt", run_id, "ask_agent")
    expected, tokens = answer_for("Summarise our refund policy in one sentence.", raia.default_agent.name)
    assert (answer["response"], answer["totalTokens"]) == (expected, tokens)
    assert len(raia.requests("POST", "/external/prompts")) == 1


def test_enrich_records(api: httpx.Client, raia: RaiaEmulator) -> None:
    from example_dags.example_raia_enrich_records import CUSTOMERS

    run_id = trigger(api, "example_raia_enrich_records")
    assert wait_for_run(api, "example_raia_enrich_records", run_id) == "success"
    enriched = xcom(api, "example_raia_enrich_records", run_id, "join")
    assert [row["id"] for row in enriched] == [row["id"] for row in CUSTOMERS]
    for row in enriched:
        prompt = f"Classify this customer note as delivery, returns or billing: {row['note']}"
        assert row["category"] == answer_for(prompt, raia.default_agent.name)[0]
    assert len(raia.requests("POST", "/external/prompts")) == len(CUSTOMERS)


def test_deferred_sensor_holds_no_worker_slot_and_wakes_when_raia_answers(
    api: httpx.Client, raia: RaiaEmulator, stack: AirflowStack
) -> None:
    raia.configure(prompt_delay=None)  # raia holds the prompt pending until the test completes it
    dag_id = "example_raia_async_prompt"
    run_id = trigger(api, dag_id)
    wait_until(
        lambda: task_state(api, dag_id, run_id, "wait_for_answer") == "deferred",
        timeout=180,
        what="the sensor to defer",
    )
    (prompt_id,) = set(polls_of(raia))  # the sensor's one poke, then its trigger's polls
    pool = api.get("/pools/default_pool").json()
    assert (pool["running_slots"], pool["deferred_slots"]) == (0, 1)  # deferred: no worker slot held
    ((classpath, kwargs),) = _trigger_rows(stack)
    assert classpath == "raia_provider.triggers.raia.RaiaPromptTrigger"
    for name in ("prompt_id", "conn_id", "poll_interval", "end_time", prompt_id, "raia_default"):
        assert name in kwargs
    assert raia.default_key not in kwargs
    wait_until(lambda: len(polls_of(raia)) >= 3, timeout=60, what="the triggerer to poll raia")

    raia.complete_prompt(prompt_id)
    assert wait_for_run(api, dag_id, run_id) == "success"
    answer = xcom(api, dag_id, run_id, "wait_for_answer")
    assert answer["prompt_id"] == prompt_id
    assert (
        answer["response"]
        == answer_for("Write a 200-word summary of this quarter's support tickets.", raia.default_agent.name)[0]
    )
    assert len(raia.requests("POST", "/external/prompts/async")) == 1


def test_deferred_sensor_survives_a_killed_triggerer(
    api: httpx.Client, raia: RaiaEmulator, stack: AirflowStack
) -> None:
    raia.configure(prompt_delay=None)
    dag_id = "example_raia_async_prompt"
    run_id = trigger(api, dag_id)
    wait_until(lambda: len(polls_of(raia)) >= 2, timeout=180, what="the trigger to poll raia")
    assert task_state(api, dag_id, run_id, "wait_for_answer") == "deferred"

    stack.kill("triggerer")  # SIGKILL: a crash, no clean shutdown
    polls_before_restart = len(polls_of(raia))
    stack.start_component("triggerer", "triggerer", "--skip-serve-logs")
    wait_until(
        lambda: len(polls_of(raia)) > polls_before_restart + 1,
        timeout=120,
        what="the new triggerer to take the trigger over and poll",
    )
    (prompt_id,) = set(polls_of(raia))
    raia.complete_prompt(prompt_id)
    assert wait_for_run(api, dag_id, run_id) == "success"
    assert xcom(api, dag_id, run_id, "wait_for_answer")["prompt_id"] == prompt_id
    assert len(raia.requests("POST", "/external/prompts/async")) == 1  # the prompt was created once


def test_knowledge_refresh(api: httpx.Client, raia: RaiaEmulator) -> None:
    from example_dags.example_raia_knowledge_refresh import DOCUMENTS

    run_id = trigger(api, "example_raia_knowledge_refresh")
    assert wait_for_run(api, "example_raia_knowledge_refresh", run_id) == "success"
    uploaded = xcom(api, "example_raia_knowledge_refresh", run_id, "upload_documents")
    assert sorted(item["file_name"] for item in uploaded["files"]) == sorted(p.name for p in DOCUMENTS.glob("*.md"))
    assert uploaded["uploaded"] == len(uploaded["files"])


def test_conversation(api: httpx.Client, raia: RaiaEmulator) -> None:
    run_id = trigger(api, "example_raia_conversation")
    assert wait_for_run(api, "example_raia_conversation", run_id) == "success"
    conversation_id = xcom(api, "example_raia_conversation", run_id, "start_sms_conversation")
    reply = xcom(api, "example_raia_conversation", run_id, "send_message")
    assert reply["conversation_id"] == conversation_id
    assert reply["response"] == answer_for("When will my order arrive?", raia.default_agent.name)[0]


def test_webhook(api: httpx.Client, raia: RaiaEmulator) -> None:
    run_id = trigger(api, "example_raia_webhook")
    assert wait_for_run(api, "example_raia_webhook", run_id) == "success"
    assert xcom(api, "example_raia_webhook", run_id, "register_end_of_dialog_webhook")["created"] is True


def test_the_key_never_leaves_the_connection(api: httpx.Client, stack: AirflowStack) -> None:
    """After every run above: the key appears nowhere Airflow keeps things, except its encrypted connection."""
    assert KEYS_USED
    task_logs = [path for path in (stack.home / "logs").rglob("*") if path.is_file()]
    assert task_logs, "no task logs were written"
    dump = "\n".join(sqlite3.connect(stack.home / "airflow.db").iterdump())
    views = [dump, *(path.read_text(errors="replace") for path in task_logs)]
    for dag in api.get("/dags").json()["dags"]:
        for run in api.get(f"/dags/{dag['dag_id']}/dagRuns").json()["dag_runs"]:
            instances = api.get(f"/dags/{dag['dag_id']}/dagRuns/{run['dag_run_id']}/taskInstances").json()
            views.append(json.dumps(instances))  # rendered fields included
            for ti in instances["task_instances"]:
                entries = api.get(
                    f"/dags/{dag['dag_id']}/dagRuns/{run['dag_run_id']}/taskInstances/{ti['task_id']}/xcomEntries",
                    params={"map_index": ti["map_index"]},
                ).json()
                views.append(json.dumps(entries))
    for key in KEYS_USED:
        assert sum(view.count(key) for view in views) == 0


def _trigger_rows(stack: AirflowStack) -> list[tuple[str, str]]:
    """The ``trigger`` table's rows: class path and kwargs, decrypted with the installation's Fernet key."""
    fernet = Fernet(stack.env()["AIRFLOW__CORE__FERNET_KEY"].encode())
    with sqlite3.connect(stack.home / "airflow.db") as db:
        rows = db.execute("SELECT classpath, kwargs FROM trigger").fetchall()
    return [(str(name), _decrypted(fernet, str(kwargs))) for name, kwargs in rows]


def _decrypted(fernet: Fernet, kwargs: str) -> str:
    # Airflow encrypts trigger kwargs on some paths and stores plain JSON on others (3.3.2 did the latter here).
    return kwargs if kwargs.startswith("{") else fernet.decrypt(kwargs.encode()).decode()
