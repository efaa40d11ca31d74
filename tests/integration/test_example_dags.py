"""The example DAGs, run by a real Airflow (``airflow dags test``) against the emulator on loopback."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from raia_provider.hooks.raia import RaiaHook
from raia_provider.testing import RaiaEmulator, answer_for
from raia_provider.testing.emulator.requestlog import RecordedRequest

pytestmark = [pytest.mark.integration, pytest.mark.airflow_cli]

EXAMPLE_DAGS = Path(__file__).parents[2] / "example_dags"


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A throw-away Airflow home with a migrated SQLite metadata DB, shared by this module's runs."""
    home = tmp_path_factory.mktemp("airflow-home")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE_DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
    }
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    return env


def run_dag(
    dag_id: str, env: dict[str, str], emulator: RaiaEmulator, conf: dict[str, Any] | None = None, **more_env: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **env,
        **more_env,
        "AIRFLOW_CONN_RAIA_DEFAULT": json.dumps(
            {"conn_type": "raia", "password": emulator.default_key, "host": emulator.base_url}
        ),
    }
    command = [sys.executable, "-m", "airflow", "dags", "test", dag_id]
    if conf is not None:
        command += ["--conf", json.dumps(conf)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)


def test_example_raia_prompt(airflow_env: dict[str, str], emulator: RaiaEmulator) -> None:
    done = run_dag("example_raia_prompt", airflow_env, emulator)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    expected, tokens = answer_for("Summarise our refund policy in one sentence.", emulator.default_agent.name)
    assert f"raia answered: {expected} ({tokens} tokens)" in output
    assert emulator.default_key not in output
    seen = [(r.method, r.path, r.status) for r in emulator.requests()]
    assert seen == [("GET", "/external/agents/by-api-key", 200), ("POST", "/external/prompts", 200)]


def paths(emulator: RaiaEmulator) -> list[tuple[str, str, int]]:
    """What the emulator saw, in order: method, path below ``/external``, status."""
    return [(r.method, r.path.removeprefix("/external"), r.status) for r in emulator.requests()]


@contextmanager
def answer_prompts_after(emulator: RaiaEmulator, *, polls: int) -> Iterator[None]:
    """Complete every async prompt once the emulator has seen ``polls`` polls (watched from a thread)."""
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.05):
            seen = emulator.requests("GET", "/external/prompts/{id}/response-on")
            if len(seen) >= polls:
                for prompt_id in {poll.path.split("/")[-2] for poll in seen}:
                    emulator.complete_prompt(prompt_id)
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join(timeout=5)


def sent_to(emulator: RaiaEmulator, method: str, path: str) -> list[RecordedRequest]:
    """The requests the emulator saw for one operation (``path`` below ``/external``)."""
    return [r for r in emulator.requests(method) if r.path == f"/external{path}"]


def test_example_raia_enrich_records(airflow_env: dict[str, str], emulator: RaiaEmulator) -> None:
    from example_dags.example_raia_enrich_records import CUSTOMERS

    done = run_dag("example_raia_enrich_records", airflow_env, emulator)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    for row in CUSTOMERS:
        prompt = f"Classify this customer note as delivery, returns or billing: {row['note']}"
        answer, _ = answer_for(prompt, emulator.default_agent.name)
        assert f"enriched record {row['id']}: {answer}" in output
    assert f"enriched {len(CUSTOMERS)} records" in output
    assert paths(emulator) == [("POST", "/prompts", 200)] * len(CUSTOMERS)
    sent = sent_to(emulator, "POST", "/prompts")
    assert len({r.body["prompt"] for r in sent}) == len(CUSTOMERS)
    assert {r.body["tokenTrackingId"] for r in sent} == {"example_raia_enrich_records"}
    assert emulator.default_key not in output


def test_example_raia_async_prompt(airflow_env: dict[str, str], emulator: RaiaEmulator) -> None:
    # The prompt stays pending until the sensor has poked and its trigger has polled once: the task defers.
    emulator.configure(prompt_delay=None)
    with answer_prompts_after(emulator, polls=2):
        done = run_dag("example_raia_async_prompt", airflow_env, emulator)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    (created,) = sent_to(emulator, "POST", "/prompts/async")  # submitted once
    polls = [r for r in emulator.requests("GET") if r.path.endswith("/response-on")]
    assert len(polls) >= 2, "the sensor pokes once, then its trigger polls until the answer is ready"
    (prompt_id,) = {p.path.split("/")[-2] for p in polls}
    answer, tokens = answer_for(created.body["prompt"], emulator.default_agent.name)
    assert f"Waiting for the prompt {prompt_id}" in output  # logged by RaiaPromptTrigger: the task deferred
    assert f"raia answered prompt {prompt_id}: {answer} ({tokens} tokens)" in output
    assert all(p.status == 200 for p in polls)
    assert emulator.default_key not in output


def test_example_raia_knowledge_refresh(airflow_env: dict[str, str], emulator: RaiaEmulator, tmp_path: Path) -> None:
    from example_dags.example_raia_knowledge_refresh import DOCUMENTS
    from raia_provider.hooks.raia import RaiaHook

    # Yesterday's knowledge: a document since removed from the folder, and an older copy of one still there.
    (tmp_path / "old-pricing.md").write_text("Prices as of last year.")
    (tmp_path / "faq.md").write_text("An outdated FAQ.")
    hook = RaiaHook()
    stale = {hook.upload_agent_file(file=tmp_path / name).id for name in ("old-pricing.md", "faq.md")}
    emulator.clear_requests()

    done = run_dag("example_raia_knowledge_refresh", airflow_env, emulator)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    documents = sorted(path.name for path in DOCUMENTS.glob("*.md"))
    assert f"uploaded {len(documents)} documents, removed {len(stale)} stale files" in output
    uploads = sent_to(emulator, "POST", "/agent-files/upload")
    assert sorted(r.body["files"][0]["fileName"] for r in uploads) == documents
    assert {r.body["fields"]["autoAddToVectorStore"] for r in uploads} == {"true"}
    (deleted,) = sent_to(emulator, "DELETE", "/agent-files")
    assert set(deleted.body["fileIds"]) == stale
    remaining = hook.list_agent_files()
    assert sorted(f.file_name for f in remaining) == documents  # the agent knows exactly what the folder holds
    assert not stale & {f.id for f in remaining}
    assert emulator.default_key not in output


def test_example_raia_conversation(airflow_env: dict[str, str], emulator: RaiaEmulator) -> None:
    emulator.configure(message_delay=1.0)  # the reply is pending at first: the trigger polls for it
    done = run_dag("example_raia_conversation", airflow_env, emulator)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    (started,) = sent_to(emulator, "POST", "/conversations/start")
    assert started.body["channel"] == "sms"
    assert started.body["phoneNumber"] == "+15551234567"
    assert started.status == 201
    (sent,) = [r for r in emulator.requests("POST") if r.path.endswith("/messages/async")]
    conversation_id = sent.path.split("/")[-3]
    (sent_id,) = {r.path.split("/")[-2] for r in emulator.requests("GET") if r.path.endswith("/response-on")}
    assert sent.body["message"] == "When will my order arrive?"
    assert f"Waiting for the reply to message {sent_id} in conversation {conversation_id}" in output  # deferred
    answer, _ = answer_for("When will my order arrive?", emulator.default_agent.name)
    assert f"raia replied in conversation {conversation_id}: {answer}" in output
    assert emulator.default_key not in output


def test_example_raia_webhook_registers_once(airflow_env: dict[str, str], emulator: RaiaEmulator) -> None:
    first = run_dag("example_raia_webhook", airflow_env, emulator)
    assert first.returncode == 0, (first.stdout + first.stderr)[-4000:]
    assert (
        "webhook registered: end_dialog -> https://crm.example.com/hooks/raia (active)" in first.stdout + first.stderr
    )
    again = run_dag("example_raia_webhook", airflow_env, emulator)  # a rerun finds it in the agent profile
    output = again.stdout + again.stderr
    assert again.returncode == 0, output[-4000:]
    assert "webhook already registered: end_dialog -> https://crm.example.com/hooks/raia (active)" in output
    (created,) = sent_to(emulator, "POST", "/agents/webhooks")
    assert created.body["triggerCondition"] == "end_dialog"
    assert len(sent_to(emulator, "GET", "/agents/by-api-key")) == 2
    assert emulator.default_key not in output


def _reviews() -> list[dict[str, str]]:
    import csv

    with (EXAMPLE_DAGS / "data" / "reviews.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_example_raia_batch_prompt_enriches_500_rows(
    airflow_env: dict[str, str], emulator: RaiaEmulator, tmp_path: Path
) -> None:
    done = run_dag("example_raia_batch_prompt", airflow_env, emulator, RAIA_EXAMPLE_OUTPUT=str(tmp_path))
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    (written,) = (tmp_path / "reviews").glob("*.jsonl")
    lines = [json.loads(line) for line in written.read_text().splitlines()]
    reviews = _reviews()
    assert len(reviews) == 500
    assert [line["review_id"] for line in lines] == [review["review_id"] for review in reviews]
    for line, review in zip(lines, reviews, strict=True):
        prompt = (
            f"Classify the sentiment of this review of a {review['product']} as positive, negative or neutral, "
            f"and answer with that one word: {review['review']}"
        )
        assert (line["status"], line["response"]) == ("completed", answer_for(prompt, emulator.default_agent.name)[0])
    tokens = sum(line["total_tokens"] for line in lines)
    assert f"raia batch enriched 500 of 500 rows (0 failed, {tokens} tokens, 500 requests" in output
    assert len(sent_to(emulator, "POST", "/prompts")) == 500  # each row asked once
    assert not list((tmp_path / "reviews").glob("*.checkpoint"))
    assert emulator.default_key not in output + written.read_text()


def test_example_raia_batch_prompt_chunked_maps_row_ranges(
    airflow_env: dict[str, str], emulator: RaiaEmulator, tmp_path: Path
) -> None:
    done = run_dag("example_raia_batch_prompt_chunked", airflow_env, emulator, RAIA_EXAMPLE_OUTPUT=str(tmp_path))
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    parts = sorted((tmp_path / "reviews-chunked").glob("*/part-*.jsonl"))
    assert [part.name for part in parts] == ["part-0.jsonl", "part-1.jsonl", "part-2.jsonl"]
    ids = [json.loads(line)["review_id"] for part in parts for line in part.read_text().splitlines()]
    assert ids == [review["review_id"] for review in _reviews()]  # every row once, across the chunks
    assert "raia batch in 3 chunks: {'rows': 500, 'completed': 500, 'failed': 0" in output
    assert len(sent_to(emulator, "POST", "/prompts")) == 500


def test_example_raia_invoice_extraction_writes_a_validated_csv_table(
    airflow_env: dict[str, str], emulator: RaiaEmulator, tmp_path: Path
) -> None:
    import csv

    import jsonschema

    sys.path.insert(0, str(EXAMPLE_DAGS))
    try:
        from example_raia_invoice_extraction import INVOICE, INVOICES
    finally:
        sys.path.remove(str(EXAMPLE_DAGS))
    invoices_key = "sk-example-invoice-agent"
    emulator.add_agent(key=invoices_key, name="Invoice Agent", output_json_schema=INVOICE)
    connection = {"conn_type": "raia", "password": invoices_key, "host": emulator.base_url}
    done = run_dag(
        "example_raia_invoice_extraction",
        airflow_env,
        emulator,
        RAIA_EXAMPLE_OUTPUT=str(tmp_path),
        AIRFLOW_CONN_RAIA_INVOICES=json.dumps(connection),
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    (table,) = (tmp_path / "invoices").glob("*.csv")
    with table.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    documents = sorted(INVOICES.glob("*.txt"))
    assert len(documents) == 50
    assert [row["invoice_id"] for row in rows] == [path.stem for path in documents]
    assert list(rows[0])[:5] == ["invoice_id", "document", "vendor", "invoice_date", "total"]
    for row in rows:
        assert row["status"] == "completed"
        jsonschema.validate(json.loads(row["response"]), INVOICE)
        assert json.loads(row["response"]) == {
            "vendor": row["vendor"],
            "invoice_date": row["invoice_date"],
            "total": float(row["total"]),
        }
    assert len({row["vendor"] for row in rows}) > 1  # each answer is about its own document
    uploads = emulator.uploads()
    by_name = {upload.file_name: upload for upload in uploads}
    assert len(uploads) == 51 == len(by_name)  # each invoice once, and the table for the review: nothing twice
    for path in documents:
        assert by_name[path.name].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert by_name[table.name].sha256 == hashlib.sha256(table.read_bytes()).hexdigest()
    assert emulator.key_leaks() == []
    assert "raia extracted 50 of 50 invoices (0 failed)" in output
    assert f"[files: {table.name} ({table.stat().st_size} bytes, sha256 " in output
    assert invoices_key not in output + table.read_text(encoding="utf-8")


def _calls_since(emulator: RaiaEmulator, mark: int) -> list[tuple[str, str]]:
    return [(r.method, r.path.removeprefix("/external")) for r in emulator.requests()[mark:]]


def _knowledge_events(home: str) -> list[tuple[str, dict[str, Any]]]:
    with sqlite3.connect(Path(home) / "airflow.db") as db:
        rows = db.execute(
            "SELECT asset.uri, asset_event.extra FROM asset_event JOIN asset ON asset.id = asset_event.asset_id "
            "WHERE asset.uri LIKE 'raia://%' ORDER BY asset_event.id"
        ).fetchall()
    return [(str(uri), json.loads(extra) if extra else {}) for uri, extra in rows]


def test_nightly_knowledge_refresh_initial_unchanged_then_edited(
    airflow_env: dict[str, str], emulator: RaiaEmulator, tmp_path: Path
) -> None:
    """Three nights: the first uploads the folder, the second changes nothing, the third replaces one edited
    document and removes one deleted document, each with exactly the calls that takes."""
    from example_dags.nightly_knowledge_refresh import DOCUMENTS
    from raia_provider.hooks.raia import RaiaHook

    emulator.configure(vector_store_delay=0.0)  # processed by the first read after the upload
    source = tmp_path / "kb"
    shutil.copytree(DOCUMENTS, source)
    (source / "drafts").mkdir()
    (source / "drafts" / "next-quarter.md").write_text("Not published yet.")  # excluded by the DAG
    (source / "notes.txt").write_text("Not a document type the DAG includes.")
    conf = {"source": str(source)}
    documents = sorted(path.name for path in DOCUMENTS.glob("*.md"))
    list_files = ("GET", "/agent-files/by-api-key")
    hook = RaiaHook()
    agent_uri = f"raia://us/agents/{emulator.default_agent.id}/files"

    # Night 1: the agent knows nothing yet.
    mark = len(emulator.requests())
    done = run_dag("nightly_knowledge_refresh", airflow_env, emulator, conf=conf)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert _calls_since(emulator, mark) == [
        ("GET", "/agents/by-api-key"),
        list_files,
        *[("POST", "/agent-files/upload")] * len(documents),
        list_files,  # waits until raia has processed the uploads
    ]
    uploads = emulator.requests("POST")[-len(documents) :]
    assert [r.body["files"][0]["fileName"] for r in uploads] == documents
    assert [r.body["files"][0]["sha256"] for r in uploads] == [
        hashlib.sha256((source / name).read_bytes()).hexdigest() for name in documents
    ]
    first = {f.file_name: f for f in hook.list_agent_files()}
    assert sorted(first) == documents
    assert {f.vector_store_upload_status for f in first.values()} == {"done"}
    assert "add 3, replace 0, remove 0, keep 0" in done.stdout + done.stderr

    # Night 2: nothing changed, so nothing is uploaded or deleted, and no asset event is emitted.
    mark = len(emulator.requests())
    done = run_dag("nightly_knowledge_refresh", airflow_env, emulator, conf=conf)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert _calls_since(emulator, mark) == [("GET", "/agents/by-api-key"), list_files]
    assert "add 0, replace 0, remove 0, keep 3" in done.stdout + done.stderr

    # Night 3: faq.md edited, invoices.md deleted.
    (source / "faq.md").write_text("Refunds take 3 days now.")
    (source / "invoices.md").unlink()
    mark = len(emulator.requests())
    done = run_dag("nightly_knowledge_refresh", airflow_env, emulator, conf=conf)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert _calls_since(emulator, mark) == [
        ("GET", "/agents/by-api-key"),
        list_files,
        ("POST", "/agent-files/upload"),
        list_files,
        ("DELETE", "/agent-files"),  # only after the new faq.md is in the vector store
    ]
    (upload,) = emulator.requests("POST")[-1:]
    assert upload.body["files"][0]["sha256"] == hashlib.sha256(b"Refunds take 3 days now.").hexdigest()
    (deleted,) = sent_to(emulator, "DELETE", "/agent-files")
    assert sorted(deleted.body["fileIds"]) == sorted([first["faq.md"].id, first["invoices.md"].id])
    last = {f.file_name: f for f in hook.list_agent_files()}
    assert sorted(last) == ["faq.md", "returns.md"]
    assert last["returns.md"].id == first["returns.md"].id  # kept, not uploaded again
    assert "add 0, replace 1, remove 1, keep 1" in output

    # Downstream DAGs see one event per night that changed the knowledge.
    assert _knowledge_events(airflow_env["AIRFLOW_HOME"]) == [
        (agent_uri, {"uploaded": 3, "deleted": 0}),
        (agent_uri, {"uploaded": 1, "deleted": 2}),
    ]
    assert emulator.default_key not in output


def test_nightly_knowledge_refresh_killed_midway_is_finished_by_the_next_run_without_duplicates(
    airflow_env: dict[str, str], emulator: RaiaEmulator, tmp_path: Path
) -> None:
    """SIGKILL the run after some uploads; the rerun adopts what the killed run uploaded and uploads the rest once."""
    emulator.configure(vector_store_delay=0.0, latency=0.25)  # slow enough to be killed between uploads
    source = tmp_path / "kb"
    source.mkdir()
    documents = [f"doc-{n:02d}.md" for n in range(12)]
    for name in documents:
        (source / name).write_text(f"Document {name}.")
    conf = {"source": str(source)}
    env = {
        **airflow_env,
        "AIRFLOW_CONN_RAIA_DEFAULT": json.dumps(
            {"conn_type": "raia", "password": emulator.default_key, "host": emulator.base_url}
        ),
    }
    command = [sys.executable, "-m", "airflow", "dags", "test", "nightly_knowledge_refresh", "--conf", json.dumps(conf)]
    child = subprocess.Popen(
        command, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    def stored() -> list[RecordedRequest]:
        return [r for r in sent_to(emulator, "POST", "/agent-files/upload") if r.status == 200]

    deadline = time.monotonic() + 180
    try:
        while len(stored()) < 4:
            assert child.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the run uploaded nothing"
            time.sleep(0.02)  # polling for requests the child sends, not waiting for a race to settle
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    # An upload whose body had reached the emulator is stored even though its sender is dead: the adoption case.
    while not all(r.finished for r in sent_to(emulator, "POST", "/agent-files/upload")):
        assert time.monotonic() < deadline, "the emulator did not finish the killed run's requests"
        time.sleep(0.02)
    sent_before = len(sent_to(emulator, "POST", "/agent-files/upload"))
    first_run = {r.body["files"][0]["fileName"] for r in stored()}
    assert 4 <= len(first_run) < len(documents)

    emulator.configure(latency=0.0)
    mark = len(emulator.requests())
    done = run_dag("nightly_knowledge_refresh", airflow_env, emulator, conf=conf)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    second_run = [
        r.body["files"][0]["fileName"] for r in sent_to(emulator, "POST", "/agent-files/upload")[sent_before:]
    ]
    assert sorted(second_run) == sorted(set(documents) - first_run)  # each missing document once, nothing again
    assert ("DELETE", "/agent-files") not in _calls_since(emulator, mark)  # no duplicate to clean up
    assert f"Adopting {len(first_run)} file(s) an interrupted run uploaded" in output
    files = RaiaHook().list_agent_files()
    assert sorted(f.file_name for f in files) == documents  # every document exactly once

    mark = len(emulator.requests())
    again = run_dag("nightly_knowledge_refresh", airflow_env, emulator, conf=conf)
    assert again.returncode == 0, (again.stdout + again.stderr)[-4000:]
    assert _calls_since(emulator, mark) == [("GET", "/agents/by-api-key"), ("GET", "/agent-files/by-api-key")]


def test_nightly_knowledge_refresh_mirrors_an_object_storage_prefix(
    airflow_env: dict[str, str], emulator: RaiaEmulator, tmp_path: Path
) -> None:
    """The same DAG with an ``ObjectStoragePath`` URL as its source (``file://``, the fsspec code path of s3/gcs)."""
    emulator.configure(vector_store_delay=0.0)
    source = tmp_path / "bucket" / "kb"
    (source / "guides").mkdir(parents=True)
    (source / "faq.md").write_text("Refunds take 5 days.")
    (source / "guides" / "setup.md").write_text("Plug it in.")
    (source / ".index.md").write_text("hidden: left out")
    done = run_dag("nightly_knowledge_refresh", airflow_env, emulator, conf={"source": f"file://{source}"})
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    uploads = sent_to(emulator, "POST", "/agent-files/upload")
    assert [(r.body["files"][0]["fileName"], r.body["files"][0]["sha256"]) for r in uploads] == [
        ("faq.md", hashlib.sha256(b"Refunds take 5 days.").hexdigest()),
        ("setup.md", hashlib.sha256(b"Plug it in.").hexdigest()),
    ]
    assert sorted(f.file_name for f in RaiaHook().list_agent_files()) == ["faq.md", "setup.md"]
    assert "add guides/setup.md" in output
