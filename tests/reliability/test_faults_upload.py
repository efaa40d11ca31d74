"""Fault matrix, column ``RaiaUploadFilesOperator``: three files, the second ``POST /agent-files/upload`` faulted.

The operator's hook retries each request with the default policy; what is still failing then is judged per
file (a 400, or a 404 on a step about an uploaded file, concern that file only) or stops the task (anything
else). Every confirmed upload is remembered in the task state store at once, so a retry (the same
``FakeStateStore``) uploads only what is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from raia_provider.exceptions import RaiaPartialFailureError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.operators.files import RESULT_XCOM_KEY, RaiaUploadFilesOperator
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
from tests.task_doubles import FakeStateStore, FakeTI

pytestmark = pytest.mark.integration

COLUMN = Column(
    "RaiaUploadFilesOperator",
    not_applicable={
        "pending-forever": "the task does not wait for vector-store processing: it reports the status raia "
        "returns (`processing`) and ends",
    },
)
UPLOAD = "/external/agent-files/upload"
LIST = "/external/agent-files/by-api-key"
NAMES = ["a.md", "b.md", "c.md"]


def stored(row: FaultRow) -> bool:
    """Whether the faulted upload stored the file although the client saw a failure.

    The emulator streams a multipart body only when it runs the request; a ``slow`` one runs after the client
    has given up and closed the connection, so the body never arrives and nothing is stored. A real raia that
    had the whole body before its answer was late would store the file (the duplicate ``docs/retries.rst``
    warns of).
    """
    return row.took_effect and row.kind != "slow"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in NAMES:
        (docs / name).write_text(f"Knowledge in {name}.")
    return docs


def context(store: FakeStateStore) -> Any:  # an Airflow Context, for the operator
    return {"ti": FakeTI(), "task_state_store": store}


def upload(paths: Any, ctx: Any, **kwargs: Any) -> dict[str, Any]:
    operator = RaiaUploadFilesOperator(task_id="kb", paths=paths, **kwargs)
    try:
        return operator.execute(ctx)
    finally:
        operator.hook.close()


def uploaded(emulator: RaiaEmulator) -> list[str]:
    """The file names sent to ``POST /agent-files/upload``, in order; ``faulted`` for a faulted request (a
    reset or a timed-out one may not have had its body read and logged)."""
    return ["faulted" if r.fault else r.body["files"][0]["fileName"] for r in hits(emulator, "POST", UPLOAD)]


def at_raia(emulator: RaiaEmulator) -> list[str]:
    """The agent's files at raia, by name, sorted (a duplicate shows twice)."""
    return sorted(agent_file.file_name for agent_file in emulator.agent_files())


def retry_uploads_only_the_rest(emulator: RaiaEmulator, folder: Path, store: FakeStateStore, done: int) -> None:
    """A task retry with the same state store skips the ``done`` files and uploads the others."""
    emulator.clear_faults()
    emulator.clear_requests()
    result = upload(f"{folder}/*.md", context(store))
    assert uploaded(emulator) == NAMES[done:]
    assert len(hits(emulator, "GET", LIST)) == 1  # one look that the remembered files still exist
    assert (result["uploaded"], result["skipped"]) == (len(NAMES) - done, done)
    assert [f["file_name"] for f in result["files"]] == NAMES


@pytest.mark.parametrize("row", params(TRANSIENT))
def test_a_burst_is_retried_and_every_file_uploaded(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits, folder: Path
) -> None:
    row.inject(matrix_emulator, "POST", UPLOAD, count=BURST, after=1)

    result = upload(f"{folder}/*.md", context(FakeStateStore()))

    settle(matrix_emulator)
    assert (result["uploaded"], result["failed"]) == (len(NAMES), [])
    assert uploaded(matrix_emulator) == ["a.md", *["faulted"] * BURST, "b.md", "c.md"]
    assert_backoff(waits.seconds, row, failures=BURST)
    # An upload whose answer was lost had stored the file: raia keeps every copy.
    copies = 1 + (BURST if stored(row) else 0)
    assert at_raia(matrix_emulator) == sorted(["a.md", *["b.md"] * copies, "c.md"])


@pytest.mark.parametrize("row", params(TRANSIENT))
def test_a_lasting_fault_stops_the_task_and_a_retry_uploads_only_the_rest(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits, folder: Path
) -> None:
    row.inject(matrix_emulator, "POST", UPLOAD, count=ATTEMPTS, after=1)
    store = FakeStateStore()
    ctx = context(store)

    with pytest.raises(row.error) as raised:  # type: ignore[arg-type]
        upload(f"{folder}/*.md", ctx)

    settle(matrix_emulator)
    assert "POST /agent-files/upload" in str(raised.value)
    assert uploaded(matrix_emulator) == ["a.md", *["faulted"] * ATTEMPTS]
    assert_backoff(waits.seconds, row, failures=ATTEMPTS - 1)
    # Nothing lost: the first file is reported and remembered; the rest are reported failed / not attempted.
    pushed = ctx["ti"].xcom[RESULT_XCOM_KEY]
    assert [f["file_name"] for f in pushed["files"]] == ["a.md"]
    assert [(f["file_name"], f["stage"]) for f in pushed["failed"]] == [("b.md", "upload")]
    assert [Path(source).name for source in pushed["not_attempted"]] == ["c.md"]
    assert len(store.data) == 1
    assert at_raia(matrix_emulator) == sorted(["a.md", *["b.md"] * (ATTEMPTS if stored(row) else 0)])
    retry_uploads_only_the_rest(matrix_emulator, folder, store, done=1)
    # ... but the copies stored by uploads whose answer was lost stay at raia as duplicates.
    assert at_raia(matrix_emulator) == sorted([*NAMES, *["b.md"] * (ATTEMPTS if stored(row) else 0)])


@covers("refused")
def test_connection_refused_is_retried_then_stops_at_the_first_file(
    matrix_emulator: RaiaEmulator, waits: Waits, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_connections(monkeypatch, matrix_emulator.default_key)
    ctx = context(FakeStateStore())

    with pytest.raises(REFUSED.error) as raised:  # type: ignore[arg-type]
        upload(f"{folder}/*.md", ctx)

    assert "POST /agent-files/upload got no answer" in str(raised.value)
    assert_backoff(waits.seconds, REFUSED, failures=ATTEMPTS - 1)
    assert matrix_emulator.requests() == []
    assert len(ctx["ti"].xcom[RESULT_XCOM_KEY]["not_attempted"]) == len(NAMES) - 1


@pytest.mark.parametrize("row", params(PERMANENT))
def test_a_refusal_stops_at_once_and_a_retry_uploads_only_the_rest(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits, folder: Path
) -> None:
    row.inject(matrix_emulator, "POST", UPLOAD, count=ATTEMPTS, after=1)
    store = FakeStateStore()
    ctx = context(store)

    with pytest.raises(row.error) as raised:  # type: ignore[arg-type]
        upload(f"{folder}/*.md", ctx)

    assert f"HTTP {row.status}" in str(raised.value)
    assert uploaded(matrix_emulator) == ["a.md", "faulted"]
    assert waits.seconds == []
    assert [f["file_name"] for f in ctx["ti"].xcom[RESULT_XCOM_KEY]["files"]] == ["a.md"]
    retry_uploads_only_the_rest(matrix_emulator, folder, store, done=1)
    assert at_raia(matrix_emulator) == NAMES


@covers("prompt-failed")
def test_a_file_whose_processing_fails_is_reported_failed_by_raia(
    matrix_emulator: RaiaEmulator, waits: Waits, folder: Path
) -> None:
    (folder / f"b {FAIL_MARKER}.md").write_text("raia cannot process this one.")

    result = upload(f"{folder}/*.md", context(FakeStateStore()), vector_store="sync")

    # The upload worked; the vector-store status read back says raia could not process it.
    statuses = {f["file_name"]: f["vector_store_status"] for f in result["files"]}
    assert statuses == {"a.md": "done", f"b {FAIL_MARKER}.md": "failed", "b.md": "done", "c.md": "done"}
    assert result["failed"] == []
    assert len(hits(matrix_emulator, "POST", UPLOAD)) == len(NAMES) + 1
    assert waits.seconds == []


@covers("vanished-id")
def test_a_remembered_file_deleted_at_raia_is_uploaded_again_by_a_retry(
    matrix_emulator: RaiaEmulator, waits: Waits, folder: Path
) -> None:
    store = FakeStateStore()
    first = upload(f"{folder}/*.md", context(store))
    # Someone deletes b.md at raia before the task's next try: its remembered id has vanished.
    vanished = next(f["file_id"] for f in first["files"] if f["file_name"] == "b.md")
    hook = RaiaHook()
    try:
        hook.delete_agent_files(file_ids=[vanished])
    finally:
        hook.close()
    matrix_emulator.clear_requests()

    result = upload(f"{folder}/*.md", context(store))

    assert uploaded(matrix_emulator) == ["b.md"]
    assert len(hits(matrix_emulator, "GET", LIST)) == 1
    assert (result["uploaded"], result["skipped"]) == (1, 2)
    assert next(f["file_id"] for f in result["files"] if f["file_name"] == "b.md") != vanished
    assert at_raia(matrix_emulator) == NAMES


@covers("vanished-id")
def test_a_file_deleted_at_raia_before_its_vector_store_step_fails_alone(
    matrix_emulator: RaiaEmulator, waits: Waits, folder: Path
) -> None:
    store = FakeStateStore()
    # The first try uploaded every file, but could not add b.md to the vector store (refused: 400).
    matrix_emulator.inject_fault(
        kind="status", status=400, method="PUT", path="/external/agent-files/{id}/add-to-vector-store", after=1
    )
    with pytest.raises(RaiaPartialFailureError):
        upload(f"{folder}/*.md", context(store), vector_store="sync")
    # b.md is deleted at raia before the retry, which only has its vector-store step left to do.
    hook = RaiaHook()
    try:
        b_id = next(f.id for f in hook.list_agent_files() if f.file_name == "b.md")
        hook.delete_agent_files(file_ids=[b_id])
    finally:
        hook.close()
    matrix_emulator.clear_requests()

    result = upload(f"{folder}/*.md", context(store), vector_store="sync")

    # The retry checks the remembered ids first, sees b.md is gone, and uploads it again.
    assert uploaded(matrix_emulator) == ["b.md"]
    assert (result["uploaded"], result["skipped"], result["failed"]) == (1, 2, [])
    assert at_raia(matrix_emulator) == NAMES
