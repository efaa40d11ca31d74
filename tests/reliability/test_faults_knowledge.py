"""Fault matrix, column ``RaiaSyncKnowledgeOperator``: three new documents and one gone, the second upload faulted.

The agent starts with ``old.md``, whose document is no longer in the source: the sync plans three uploads and one
removal. It reads the agent and its files, uploads (``POST /agent-files/upload``, the default retry policy), waits
for raia's vector-store processing (single-attempt reads of ``GET /agent-files/by-api-key``, retried by the poll
loop), then deletes (``DELETE /agent-files``). The manifest lives in an Airflow Variable, here a dict stand-in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from raia_provider.exceptions import RaiaPartialFailureError, RaiaServerError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.operators.knowledge import SUMMARY_XCOM_KEY, RaiaSyncKnowledgeOperator, manifest_variable_for
from raia_provider.testing import RaiaEmulator
from raia_provider.testing.emulator.answers import FAIL_MARKER
from tests.reliability.fault_matrix import (
    ATTEMPTS,
    BURST,
    PERMANENT,
    REFUSED,
    TRANSIENT,
    Column,
    FaultRow,
    Waits,
    assert_backoff,
    covers,
    hits,
    params,
    refuse_connections,
    settle,
)
from tests.task_doubles import FakeOutletEvents, FakeTI, FakeVariables

pytestmark = pytest.mark.integration

COLUMN = Column("RaiaSyncKnowledgeOperator")
UPLOAD = "/external/agent-files/upload"
LIST = "/external/agent-files/by-api-key"
DELETE = "/external/agent-files"
AGENT = "/external/agents/by-api-key"
NAMES = ["a.md", "b.md", "c.md"]
MANIFEST = manifest_variable_for("raia_default")
#: The vector-store wait in the pending-forever row, and its poll interval (real seconds).
SHORT_WAIT = 1.0
SHORT_POLL = 0.2


class Variables(FakeVariables):
    """The manifest the sync keeps in its Variable, read back."""

    def manifest(self) -> dict[str, Any]:
        return dict(json.loads(self.values[MANIFEST]))


OutletEvents = FakeOutletEvents


@pytest.fixture
def variables(monkeypatch: pytest.MonkeyPatch) -> Variables:
    import airflow.sdk

    stand_in = Variables()
    monkeypatch.setattr(airflow.sdk, "Variable", stand_in)
    return stand_in


@pytest.fixture
def source(tmp_path: Path, matrix_emulator: RaiaEmulator) -> Path:
    """Three documents; the agent still holds ``old.md``, whose document is gone."""
    folder = tmp_path / "kb"
    folder.mkdir()
    for name in NAMES:
        (folder / name).write_text(f"Knowledge in {name}.")
    (tmp_path / "old.md").write_text("Outdated.")
    hook = RaiaHook()
    try:
        hook.upload_agent_file(file=tmp_path / "old.md", auto_add_to_vector_store=True)
    finally:
        hook.close()
    matrix_emulator.clear_requests()
    return folder


def context() -> Any:  # an Airflow Context, for the operator
    return {"ti": FakeTI(), "outlet_events": OutletEvents()}


def sync(source: Path, ctx: Any | None = None, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("poll_interval", 0.01)
    operator = RaiaSyncKnowledgeOperator(task_id="sync", source=str(source), max_delete_ratio=1.0, **kwargs)
    try:
        return operator.execute(ctx if ctx is not None else context())
    finally:
        operator.hook.close()
        operator.poll_hook.close()


def uploaded(emulator: RaiaEmulator) -> list[str]:
    """The names sent to ``POST /agent-files/upload`` in order; ``faulted`` for a faulted request (its body may
    not have been read)."""
    return ["faulted" if r.fault else r.body["files"][0]["fileName"] for r in hits(emulator, "POST", UPLOAD)]


def at_raia(emulator: RaiaEmulator) -> list[str]:
    """The agent's files at raia, by name, sorted (a duplicate shows twice)."""
    return sorted(agent_file.file_name for agent_file in emulator.agent_files())


def next_run_finishes(emulator: RaiaEmulator, source: Path, uploads: list[str], deleted: int) -> dict[str, Any]:
    """A task retry (or the next run) with the same manifest uploads only ``uploads`` and ends in the mirror."""
    emulator.clear_faults()
    emulator.clear_requests()
    summary = sync(source)
    assert uploaded(emulator) == uploads
    assert summary["deleted"] == deleted
    assert summary["failed"] == []
    assert at_raia(emulator) == NAMES
    return summary


# -- transient faults on the upload --------------------------------------------------------------------------


@pytest.mark.parametrize("row", params(TRANSIENT))
def test_a_burst_on_an_upload_is_retried_and_the_sync_completes(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits, variables: Variables, source: Path
) -> None:
    row.inject(matrix_emulator, "POST", UPLOAD, count=BURST, after=1)

    summary = sync(source)

    settle(matrix_emulator)
    assert (summary["uploaded"], summary["deleted"], summary["failed"]) == (len(NAMES), 1, [])
    assert uploaded(matrix_emulator) == ["a.md", *["faulted"] * BURST, "b.md", "c.md"]
    assert_backoff(waits.seconds, row, failures=BURST)
    assert variables.manifest()["pending"] == {}
    # An upload whose answer was lost stored a copy the run does not know of; the next run removes it.
    lost = BURST if row.kind == "reset_mid_response" else 0
    assert at_raia(matrix_emulator) == sorted([*NAMES, *["b.md"] * lost])
    next_run_finishes(matrix_emulator, source, [], deleted=lost)


@pytest.mark.parametrize("row", params(TRANSIENT))
def test_a_lasting_fault_on_an_upload_stops_before_any_delete_and_the_next_run_finishes(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits, variables: Variables, source: Path
) -> None:
    row.inject(matrix_emulator, "POST", UPLOAD, count=ATTEMPTS, after=1)
    ctx = context()

    with pytest.raises(row.error) as raised:  # type: ignore[arg-type]
        sync(source, ctx)

    settle(matrix_emulator)
    assert "POST /agent-files/upload" in str(raised.value)
    assert uploaded(matrix_emulator) == ["a.md", *["faulted"] * ATTEMPTS]
    assert_backoff(waits.seconds, row, failures=ATTEMPTS - 1)
    assert hits(matrix_emulator, "DELETE", DELETE) == []  # nothing removed unless everything before it worked
    # Nothing lost: the manifest records a.md as uploaded and b.md as pending (its upload may have landed).
    manifest = variables.manifest()
    assert sorted(entry["name"] for entry in manifest["files"].values()) == ["a.md"]
    assert sorted(manifest["pending"]) == ["b.md"]
    summary = ctx["ti"].xcom[SUMMARY_XCOM_KEY]
    assert [item["name"] for item in summary["uploaded_files"]] == ["a.md"]
    assert [(item["name"], item["stage"]) for item in summary["failed"]] == [("b.md", "upload")]
    # Copies stored by uploads whose answer was lost are adopted by the next run, not uploaded again.
    lost = ATTEMPTS if row.kind == "reset_mid_response" else 0
    assert at_raia(matrix_emulator) == sorted(["a.md", *["b.md"] * lost, "old.md"])
    next_run_finishes(matrix_emulator, source, ["c.md"] if lost else ["b.md", "c.md"], deleted=1 + max(lost - 1, 0))


@covers("refused")
def test_connection_refused_fails_before_any_change(
    matrix_emulator: RaiaEmulator, waits: Waits, variables: Variables, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_connections(monkeypatch, matrix_emulator.default_key)

    with pytest.raises(REFUSED.error) as raised:  # type: ignore[arg-type]
        sync(source)

    assert "GET /agents/by-api-key got no answer" in str(raised.value)
    assert_backoff(waits.seconds, REFUSED, failures=ATTEMPTS - 1)
    assert matrix_emulator.requests() == []
    assert MANIFEST not in variables.values


@pytest.mark.parametrize("row", params(PERMANENT))
def test_a_refused_upload_stops_at_once_and_the_next_run_finishes(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits, variables: Variables, source: Path
) -> None:
    row.inject(matrix_emulator, "POST", UPLOAD, count=ATTEMPTS, after=1)

    with pytest.raises(row.error) as raised:  # type: ignore[arg-type]
        sync(source)

    assert f"HTTP {row.status}" in str(raised.value)
    assert uploaded(matrix_emulator) == ["a.md", "faulted"]
    assert waits.seconds == []
    assert hits(matrix_emulator, "DELETE", DELETE) == []
    assert sorted(entry["name"] for entry in variables.manifest()["files"].values()) == ["a.md"]
    next_run_finishes(matrix_emulator, source, ["b.md", "c.md"], deleted=1)


# -- a fault on the delete step ------------------------------------------------------------------------------


@pytest.mark.parametrize("row", params(row for row in TRANSIENT if row.id == "503"))
def test_a_lasting_fault_on_the_delete_keeps_the_uploads_and_the_next_run_only_deletes(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits, variables: Variables, source: Path
) -> None:
    row.inject(matrix_emulator, "DELETE", DELETE, count=ATTEMPTS)

    with pytest.raises(RaiaServerError) as raised:
        sync(source)

    assert "DELETE /agent-files" in str(raised.value)
    assert len(hits(matrix_emulator, "DELETE", DELETE)) == ATTEMPTS
    assert_backoff(waits.seconds, row, failures=ATTEMPTS - 1)
    assert sorted(entry["name"] for entry in variables.manifest()["files"].values()) == NAMES
    assert at_raia(matrix_emulator) == sorted([*NAMES, "old.md"])
    next_run_finishes(matrix_emulator, source, [], deleted=1)


# -- what raia answers ---------------------------------------------------------------------------------------


@covers("pending-forever")
def test_processing_pending_forever_keeps_the_old_copies_and_the_next_run_finishes(
    matrix_emulator: RaiaEmulator, waits: Waits, variables: Variables, source: Path
) -> None:
    (source / "a.md").write_text("Knowledge in a.md, edited.")
    sync_first = sync(source)  # a.md, b.md, c.md at raia and in the manifest; a.md is then edited again
    assert sync_first["uploaded"] == len(NAMES)
    (source / "a.md").write_text("Knowledge in a.md, edited twice.")
    matrix_emulator.configure(vector_store_delay=None)
    matrix_emulator.clear_requests()
    waits.real = True

    summary = sync(source, poll_interval=SHORT_POLL, vector_store_timeout=SHORT_WAIT)

    # The wait timed out: the new copy of a.md is still processing, so its old copy is kept (nothing deleted).
    assert summary["still_processing"] == ["a.md"]
    assert (summary["uploaded"], summary["deleted"], summary["failed"]) == (1, 0, [])
    reads = len(hits(matrix_emulator, "GET", LIST)) - 1  # the plan's listing, then the wait's reads
    assert 2 <= reads <= SHORT_WAIT / SHORT_POLL + 2
    assert at_raia(matrix_emulator) == ["a.md", "a.md", "b.md", "c.md"]
    # Once raia is done, the next run uploads nothing and removes the superseded copy.
    for agent_file in matrix_emulator.agent_files():
        if agent_file.vector_store_status == "processing":
            matrix_emulator.complete_vector_store(agent_file.id)
    waits.real = False
    next_run_finishes(matrix_emulator, source, [], deleted=1)


@covers("prompt-failed")
def test_a_document_raia_fails_to_process_is_reported_and_its_copy_removed(
    matrix_emulator: RaiaEmulator, waits: Waits, variables: Variables, source: Path
) -> None:
    failing = f"b {FAIL_MARKER}.md"
    (source / failing).write_text("raia cannot process this one.")
    ctx = context()

    with pytest.raises(RaiaPartialFailureError) as raised:
        sync(source, ctx)

    assert f"{failing}" in str(raised.value)
    assert "vector_store" in str(raised.value)
    assert len(hits(matrix_emulator, "POST", UPLOAD)) == len(NAMES) + 1
    assert waits.seconds == []
    # The others are synced; the unsearchable copy is deleted with old.md (the next run uploads it again).
    assert at_raia(matrix_emulator) == NAMES
    assert [(item["name"], item["stage"]) for item in ctx["ti"].xcom[SUMMARY_XCOM_KEY]["failed"]] == [
        (failing, "vector_store")
    ]


@covers("vanished-id")
def test_a_file_in_the_manifest_deleted_at_raia_is_uploaded_again(
    matrix_emulator: RaiaEmulator, waits: Waits, variables: Variables, source: Path
) -> None:
    sync(source)
    gone = next(agent_file.id for agent_file in matrix_emulator.agent_files() if agent_file.file_name == "b.md")
    assert gone in variables.manifest()["files"]
    hook = RaiaHook()
    try:
        hook.delete_agent_files(file_ids=[gone])  # someone deletes it at raia between two runs
    finally:
        hook.close()

    summary = next_run_finishes(matrix_emulator, source, ["b.md"], deleted=0)

    assert summary["plan"] == {"add": 1, "replace": 0, "remove": 0, "keep": 2}
    assert gone not in variables.manifest()["files"]
    assert waits.seconds == []
