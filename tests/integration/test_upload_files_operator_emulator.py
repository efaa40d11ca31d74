"""``RaiaUploadFilesOperator`` against the emulator over real sockets: folders, modes, partial failure, retry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from raia_provider._core.operation import RaiaRequest
from raia_provider.exceptions import RaiaAuthError, RaiaPartialFailureError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.operations.files import UploadAgentFile
from raia_provider.operators.files import RESULT_XCOM_KEY, RaiaUploadFilesOperator
from raia_provider.testing import RaiaEmulator
from tests.integration.conftest import FAST_RETRIES
from tests.task_doubles import FakeStateStore, FakeTI

pytestmark = pytest.mark.integration

UPLOAD_PATH = "/external/agent-files/upload"
LIST_PATH = "/external/agent-files/by-api-key"
NAMES = ["a.md", "b.md", "c.md", "d.md", "e.md"]


def context(store: FakeStateStore | None = None) -> Any:  # an Airflow Context, for the operator
    return {"ti": FakeTI(), **({"task_state_store": store} if store is not None else {})}


class FailingUploadHook(RaiaHook):
    """A hook that makes the emulator refuse (400) the ``fail_at``-th upload, whatever file it carries."""

    def __init__(self, emulator: RaiaEmulator, fail_at: int | None) -> None:
        super().__init__(retry_policy=FAST_RETRIES)
        self.emulator = emulator
        self.fail_at = fail_at
        self.uploads = 0

    def send(self, request: RaiaRequest[Any]) -> Any:
        if isinstance(request, UploadAgentFile):
            self.uploads += 1
            if self.uploads == self.fail_at:
                self.emulator.inject_fault(kind="status", status=400, method="POST", path=UPLOAD_PATH)
        return super().send(request)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in NAMES:
        (docs / name).write_text(f"Knowledge in {name}.")
    (docs / "skip.txt").write_text("not matched by *.md")
    return docs


def run(operator: RaiaUploadFilesOperator, hook: RaiaHook, ctx: Any) -> Any:
    operator.hook = hook
    try:
        return operator.execute(ctx)
    finally:
        hook.close()


def uploaded_names(emulator: RaiaEmulator) -> list[tuple[str, int | None]]:
    return [(r.body["files"][0]["fileName"], r.status) for r in emulator.requests("POST", UPLOAD_PATH)]


@pytest.fixture
def hook(emulator: RaiaEmulator) -> Iterator[RaiaHook]:
    hook = RaiaHook(retry_policy=FAST_RETRIES)
    yield hook
    hook.close()


def test_folder_glob_auto_adds_to_the_vector_store(emulator: RaiaEmulator, folder: Path, hook: RaiaHook) -> None:
    emulator.configure(vector_store_delay=None)  # processing until told otherwise
    op = RaiaUploadFilesOperator(task_id="kb", paths=f"{folder}/*.md")
    result = run(op, RaiaHook(retry_policy=FAST_RETRIES), context())
    assert uploaded_names(emulator) == [(name, 200) for name in NAMES]
    first = emulator.requests("POST", UPLOAD_PATH)[0].body
    assert first["fields"] == {"autoAddToVectorStore": "true"}
    assert [(f["field"], f["size"]) for f in first["files"]] == [("file", len("Knowledge in a.md."))]
    assert (result["uploaded"], result["skipped"], result["failed"]) == (5, 0, [])
    assert [(f["file_name"], f["vector_store_status"]) for f in result["files"]] == [
        (name, "processing") for name in NAMES
    ]
    listed = {f.id: f.file_name for f in hook.list_agent_files()}
    assert listed == {f["file_id"]: f["file_name"] for f in result["files"]}


def test_object_storage_folder_sync_mode(emulator: RaiaEmulator, folder: Path) -> None:
    from airflow.sdk import ObjectStoragePath

    op = RaiaUploadFilesOperator(task_id="kb", paths=ObjectStoragePath(f"file://{folder}/"), vector_store="sync")
    result = run(op, RaiaHook(retry_policy=FAST_RETRIES), context())
    assert uploaded_names(emulator) == [(name, 200) for name in [*NAMES, "skip.txt"]]  # the folder's files
    assert all(r.body["fields"] == {"autoAddToVectorStore": "false"} for r in emulator.requests("POST", UPLOAD_PATH))
    assert len(emulator.requests("PUT", "/external/agent-files/{id}/add-to-vector-store")) == 6
    assert len(emulator.requests("GET", LIST_PATH)) == 1
    assert result["files"][0]["source"] == f"file://{folder}/a.md"
    assert {f["vector_store_status"] for f in result["files"]} == {"done"}


def test_async_mode_reads_statuses_with_one_list_call(emulator: RaiaEmulator, folder: Path) -> None:
    emulator.configure(vector_store_delay=None)
    op = RaiaUploadFilesOperator(task_id="kb", paths=[folder / "a.md", folder / "b.md"], vector_store="async")
    result = run(op, RaiaHook(retry_policy=FAST_RETRIES), context())
    assert len(emulator.requests("PUT", "/external/agent-files/{id}/add-to-vector-store/async")) == 2
    assert len(emulator.requests("GET", LIST_PATH)) == 1
    assert [f["vector_store_status"] for f in result["files"]] == ["processing", "processing"]


def test_partial_failure_then_retry_uploads_only_the_missing_file(
    emulator: RaiaEmulator, folder: Path, hook: RaiaHook
) -> None:
    store = FakeStateStore()
    first_try = context(store)
    op = RaiaUploadFilesOperator(task_id="kb", paths=f"{folder}/*.md")
    with pytest.raises(RaiaPartialFailureError) as caught:
        run(op, FailingUploadHook(emulator, fail_at=3), first_try)
    assert uploaded_names(emulator) == [("a.md", 200), ("b.md", 200), ("c.md", 400), ("d.md", 200), ("e.md", 200)]
    assert [f["file_name"] for f in caught.value.failed] == ["c.md"]
    assert "c.md (upload: RaiaBadRequestError" in str(caught.value)
    pushed = first_try["ti"].xcom[RESULT_XCOM_KEY]
    assert [f["file_name"] for f in pushed["files"]] == ["a.md", "b.md", "d.md", "e.md"]

    emulator.clear_requests()
    retry = RaiaUploadFilesOperator(task_id="kb", paths=f"{folder}/*.md")
    result = run(retry, FailingUploadHook(emulator, fail_at=None), context(store))
    assert uploaded_names(emulator) == [("c.md", 200)]  # only the missing file
    assert (result["uploaded"], result["skipped"]) == (1, 4)
    assert [f["file_name"] for f in result["files"]] == NAMES
    assert sorted(f.file_name for f in hook.list_agent_files()) == NAMES  # no duplicate at raia


def test_refused_key_stops_at_the_first_file(
    emulator: RaiaEmulator, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_RAIA_DEFAULT",
        json.dumps({"conn_type": "raia", "password": "sk-wrong", "host": emulator.base_url}),
    )
    ctx = context(FakeStateStore())
    op = RaiaUploadFilesOperator(task_id="kb", paths=f"{folder}/*.md")
    with pytest.raises(RaiaAuthError):
        run(op, RaiaHook(retry_policy=FAST_RETRIES), ctx)
    assert uploaded_names(emulator) == [("a.md", 403)]
    assert len(ctx["ti"].xcom[RESULT_XCOM_KEY]["not_attempted"]) == 4
