"""``RaiaUploadFilesOperator`` at the HTTP layer: expansion, vector-store modes, partial failure and retries."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
import responses

from raia_provider._core.retry import RetryPolicy
from raia_provider.exceptions import (
    RaiaAuthError,
    RaiaInputError,
    RaiaPartialFailureError,
    RaiaServerError,
)
from raia_provider.hooks.raia import RaiaHook
from raia_provider.operators.files import MEMORY_PREFIX, RESULT_XCOM_KEY, RaiaUploadFilesOperator
from tests.conftest import TEST_KEY, UNIT_BASE_URL
from tests.task_doubles import FakeStateStore, FakeTI
from tests.unit.test_multipart import parse_form

pytestmark = pytest.mark.usefixtures("unit_connection")

UPLOAD = UNIT_BASE_URL + "/agent-files/upload"
LIST = UNIT_BASE_URL + "/agent-files/by-api-key"


def make_context(store: FakeStateStore | None = None) -> Any:  # an Airflow Context, for the operator
    context: dict[str, Any] = {"ti": FakeTI()}
    if store is not None:
        context["task_state_store"] = store
    return context


def body_bytes(request: Any) -> bytes:
    # responses drains a streamed body before the callback; requests itself hands the reader to the socket.
    return request.body if isinstance(request.body, bytes) else request.body.read()


class FakeRaia:
    """raia's agent-file endpoints over ``responses``, with per-file-name failures.

    :param mocked: the active ``responses`` mock.
    """

    def __init__(self, mocked: responses.RequestsMock) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.forms: list[dict[str, tuple[str | None, bytes]]] = []
        self.fail_upload: dict[str, tuple[int, dict[str, Any]]] = {}
        self.fail_add: dict[str, int] = {}
        self.list_status = 200
        self.calls: list[tuple[str, str]] = []
        mocked.add_callback(responses.POST, UPLOAD, callback=self._upload)
        mocked.add_callback(responses.GET, LIST, callback=self._list)
        mocked.add_callback(
            responses.PUT,
            re.compile(rf"{UNIT_BASE_URL}/agent-files/[^/]+/add-to-vector-store(/async)?$"),
            callback=self._add,
        )

    def _upload(self, request: Any) -> tuple[int, dict[str, str], str]:
        assert request.headers["Agent-Secret-Key"] == TEST_KEY
        form = parse_form(body_bytes(request), request.headers["Content-Type"])
        self.forms.append(form)
        name = form["file"][0] or ""
        self.calls.append(("POST", name))
        if name in self.fail_upload:
            status, body = self.fail_upload[name]
            return status, {}, json.dumps(body)
        auto = form.get("autoAddToVectorStore", (None, b"false"))[1] == b"true"
        file_id = f"id-{len(self.forms)}-{name}"
        self.files[file_id] = {
            "id": file_id,
            "fileName": name,
            "url": f"https://files.raia.test/{file_id}",
            "createdAt": "2026-11-01T10:00:00.000Z",
            "vectorStoreFileId": "file-x" if auto else None,
            "isUploadedToVectorStore": False,
            "vectorStoreUploadStatus": "processing" if auto else None,
            "uploadedToVectorStoreAt": None,
        }
        return 200, {}, json.dumps(self.files[file_id])

    def _list(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls.append(("GET", "list"))
        if self.list_status != 200:
            return self.list_status, {}, json.dumps({"status": self.list_status, "message": "boom"})
        if not self.files:
            return 404, {}, json.dumps({"status": 404, "name": "ENTITY_NOT_FOUND_ERROR", "message": "nope"})
        return 200, {}, json.dumps(list(self.files.values()))

    def _add(self, request: Any) -> tuple[int, dict[str, str], str]:
        parts = request.path_url.split("/")
        file_id, is_async = parts[3], request.path_url.endswith("/async")
        self.calls.append(("PUT async" if is_async else "PUT sync", file_id))
        name = self.files.get(file_id, {}).get("fileName")
        if file_id not in self.files or name in self.fail_add:
            status = self.fail_add.get(name or "", 404)
            return status, {}, json.dumps({"status": status, "name": "ERR", "message": "refused"})
        self.files[file_id]["vectorStoreUploadStatus"] = "processing" if is_async else "done"
        return 200, {}, ""

    def uploaded_names(self) -> list[str]:
        return [name for method, name in self.calls if method == "POST"]


@pytest.fixture
def raia() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield FakeRaia(mocked)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("e.md", "c.md", "a.md", "d.md", "b.md"):
        (folder / name).write_text(f"content of {name}")
    (folder / "notes.txt").write_text("not markdown")
    (folder / ".hidden.md").write_text("hidden")
    (folder / "sub").mkdir()
    (folder / "sub" / "deep.md").write_text("deep")
    return folder


def operator(paths: Any, **kwargs: Any) -> RaiaUploadFilesOperator:
    return RaiaUploadFilesOperator(task_id="upload", paths=paths, **kwargs)


def fast_hook() -> RaiaHook:
    return RaiaHook(retry_policy=RetryPolicy(max_attempts=2, initial_wait=0, jitter=0), sleep=lambda _: None)


# -- expansion --------------------------------------------------------------------------------------------


def test_glob_uploads_matching_files_in_sorted_order_with_exact_form(raia: FakeRaia, docs: Path) -> None:
    result = operator(f"{docs}/*.md").execute(make_context())
    assert raia.uploaded_names() == ["a.md", "b.md", "c.md", "d.md", "e.md"]  # sorted; no .hidden, no sub/
    assert raia.forms[0] == {"autoAddToVectorStore": (None, b"true"), "file": ("a.md", b"content of a.md")}
    assert result == {
        "files": [
            {
                "source": f"{docs}/{name}",
                "file_name": name,
                "file_id": f"id-{index}-{name}",
                "vector_store_status": "processing",
                "skipped": False,
            }
            for index, name in enumerate(["a.md", "b.md", "c.md", "d.md", "e.md"], start=1)
        ],
        "uploaded": 5,
        "skipped": 0,
        "failed": [],
        "not_attempted": [],
        "skipped_links": [],
    }
    assert [call[0] for call in raia.calls] == ["POST"] * 5  # auto: no PUT, no list


def test_recursive_glob_and_directory_entries(raia: FakeRaia, docs: Path) -> None:
    operator([f"{docs}/**/deep.md", docs / "sub"]).execute(make_context())
    assert raia.uploaded_names() == ["deep.md"]  # the same file reached twice is uploaded once

    raia.calls.clear()
    result = operator(str(docs)).execute(make_context())  # a directory means the files directly in it
    assert raia.uploaded_names() == ["a.md", "b.md", "c.md", "d.md", "e.md", "notes.txt"]
    assert result["files"][-1]["source"] == str(docs / "notes.txt")


def test_duplicated_entries_upload_once_and_keep_list_order(
    raia: FakeRaia, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(docs.parent)
    paths = [
        str(docs / "c.md"),
        docs / "a.md",
        "docs/c.md",  # relative spelling of the first entry
        f"{docs}/[ab].md",  # a.md again, and b.md
        f"file://{docs}/b.md",  # b.md again, as a URL
        str(docs / "c.md"),
    ]
    result = operator(paths).execute(make_context())
    assert raia.uploaded_names() == ["c.md", "a.md", "b.md"]
    assert [f["source"] for f in result["files"]] == [str(docs / "c.md"), str(docs / "a.md"), f"{docs}/b.md"]


def test_file_with_glob_characters_in_its_name_is_taken_literally(raia: FakeRaia, tmp_path: Path) -> None:
    (tmp_path / "report[1].pdf").write_bytes(b"%PDF")
    (tmp_path / "report1.pdf").write_bytes(b"other")
    operator(str(tmp_path / "report[1].pdf")).execute(make_context())
    assert raia.uploaded_names() == ["report[1].pdf"]


def test_object_storage_directory_and_glob(raia: FakeRaia, docs: Path) -> None:
    from airflow.sdk import ObjectStoragePath

    result = operator(ObjectStoragePath(f"file://{docs}/")).execute(make_context())
    assert raia.uploaded_names() == ["a.md", "b.md", "c.md", "d.md", "e.md", "notes.txt"]
    assert result["files"][0]["source"] == f"file://{docs}/a.md"
    assert raia.forms[0]["file"] == ("a.md", b"content of a.md")

    raia.calls.clear()
    operator([ObjectStoragePath(f"file://{docs}/[de].md"), f"file://{docs}/sub/*.md"]).execute(make_context())
    assert raia.uploaded_names() == ["d.md", "e.md", "deep.md"]


def test_paths_is_templated(raia: FakeRaia, docs: Path) -> None:
    op = operator(["{{ params.folder }}/a.md", "{{ params.folder }}/b.md"], params={"folder": str(docs)})
    assert "paths" in op.template_fields
    op.render_template_fields({"params": {"folder": str(docs)}})
    op.execute(make_context())
    assert raia.uploaded_names() == ["a.md", "b.md"]


def fill(path: Any, docs: Path) -> Any:
    return path.format(docs=docs) if isinstance(path, str) else path


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ("{docs}/*.pdf", r"argument 'paths': the pattern '.*/docs/\*\.pdf' matches no file"),
        ("{docs}/missing.md", r"argument 'paths': '.*/docs/missing.md' does not exist"),
        (["{docs}/a.md", "{docs}/nope/*.md"], r"argument 'paths': the pattern '.*/docs/nope/\*\.md' matches no file"),
        ("{docs}/empty", r"argument 'paths': the directory '.*/docs/empty' contains no file"),
        ([], r"argument 'paths' is required"),
        ("  ", r"argument 'paths' is required"),
        (["{docs}/a.md", 7], r"argument 'paths' item 1 must be a local path, a URL or an ObjectStoragePath; got int"),
        (["{docs}/a.md", ""], r"argument 'paths' item 1 is blank"),
        ({"a": 1}, r"argument 'paths' must be a path, a glob pattern, an ObjectStoragePath or a list of them"),
        ("file://{docs}/*.pdf", r"argument 'paths': the pattern 'file://.*/docs/\*\.pdf' matches no file"),
        ("file://{docs}/missing.md", r"argument 'paths': 'file://.*/docs/missing.md' does not exist"),
    ],
)
def test_bad_paths_refused_before_any_request(raia: FakeRaia, docs: Path, paths: Any, expected: str) -> None:
    (docs / "empty").mkdir()
    rendered = [fill(p, docs) for p in paths] if isinstance(paths, list) else fill(paths, docs)
    with pytest.raises(RaiaInputError, match=expected):
        operator(rendered).execute(make_context())
    assert raia.calls == []


def test_paths_rendered_to_nothing_refused_at_run_time(raia: FakeRaia) -> None:
    op = operator("{{ params.missing }}")  # valid when parsed; renders to "" at run time
    op.paths = ""
    with pytest.raises(RaiaInputError, match="argument 'paths' is blank"):
        op.execute(make_context())
    assert raia.calls == []


@pytest.mark.parametrize("paths", [None, [], ""])
def test_no_paths_refused_when_the_dag_is_parsed(paths: Any) -> None:
    with pytest.raises(RaiaInputError, match="argument 'paths' is required"):
        operator(paths)


@pytest.mark.parametrize("mode", ["fast", "SYNC", None, True])
def test_unknown_vector_store_mode_refused_when_the_dag_is_parsed(mode: Any, tmp_path: Path) -> None:
    with pytest.raises(RaiaInputError, match="argument 'vector_store' must be one of 'auto', 'sync', 'async', 'none'"):
        operator(str(tmp_path / "a.md"), vector_store=mode)


def test_no_file_system_access_at_parse_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("file system access in __init__")

    monkeypatch.setattr("glob.glob", forbidden)
    monkeypatch.setattr(os.path, "isfile", forbidden)
    monkeypatch.setattr(os.path, "isdir", forbidden)
    op = operator([f"{tmp_path}/*.md", "/does/not/exist.pdf"])  # only checked when the task runs
    assert op.vector_store == "auto"


# -- vector-store modes ----------------------------------------------------------------------------------


def test_sync_mode_uploads_without_auto_add_then_adds_and_reads_statuses_once(raia: FakeRaia, docs: Path) -> None:
    result = operator([docs / "a.md", docs / "b.md"], vector_store="sync").execute(make_context())
    assert raia.forms[0] == {"autoAddToVectorStore": (None, b"false"), "file": ("a.md", b"content of a.md")}
    assert raia.calls == [
        ("POST", "a.md"),
        ("PUT sync", "id-1-a.md"),
        ("POST", "b.md"),
        ("PUT sync", "id-2-b.md"),
        ("GET", "list"),
    ]
    assert [(f["file_id"], f["vector_store_status"]) for f in result["files"]] == [
        ("id-1-a.md", "done"),
        ("id-2-b.md", "done"),
    ]


def test_async_mode_adds_without_waiting_and_reads_statuses_with_one_list(raia: FakeRaia, docs: Path) -> None:
    result = operator(f"{docs}/[abc].md", vector_store="async").execute(make_context())
    assert raia.calls == [
        ("POST", "a.md"),
        ("PUT async", "id-1-a.md"),
        ("POST", "b.md"),
        ("PUT async", "id-2-b.md"),
        ("POST", "c.md"),
        ("PUT async", "id-3-c.md"),
        ("GET", "list"),
    ]
    assert all(form["autoAddToVectorStore"] == (None, b"false") for form in raia.forms)
    assert {f["vector_store_status"] for f in result["files"]} == {"processing"}


def test_none_mode_only_uploads(raia: FakeRaia, docs: Path) -> None:
    result = operator(docs / "a.md", vector_store="none").execute(make_context())
    assert raia.calls == [("POST", "a.md")]
    assert raia.forms == [{"autoAddToVectorStore": (None, b"false"), "file": ("a.md", b"content of a.md")}]
    assert result["files"][0]["vector_store_status"] is None


def test_auto_mode_reports_the_status_of_the_upload_answer(raia: FakeRaia, docs: Path) -> None:
    result = operator(docs / "a.md").execute(make_context())
    assert raia.calls == [("POST", "a.md")]
    assert result["files"][0]["vector_store_status"] == "processing"


# -- partial failure and retries ----------------------------------------------------------------------------

BAD_REQUEST = {"status": 400, "name": "BAD_REQUEST", "message": "Failed to upload agent file.", "details": []}


def test_file_three_of_five_refused_others_uploaded_then_retry_uploads_only_it(raia: FakeRaia, docs: Path) -> None:
    store = FakeStateStore()
    raia.fail_upload["c.md"] = (400, BAD_REQUEST)
    context = make_context(store)
    with pytest.raises(RaiaPartialFailureError) as caught:
        operator(f"{docs}/*.md").execute(context)
    assert raia.uploaded_names() == ["a.md", "b.md", "c.md", "d.md", "e.md"]  # kept going after c.md
    error = caught.value
    assert [f["file_name"] for f in error.succeeded] == ["a.md", "b.md", "d.md", "e.md"]
    assert [(f["file_name"], f["stage"], f["status_code"], f["file_id"]) for f in error.failed] == [
        ("c.md", "upload", 400, None)
    ]
    message = str(error)
    assert "1 of 5 file(s)" in message
    assert f"{docs}/c.md (upload: RaiaBadRequestError:" in message
    assert "Failed to upload agent file." in message
    assert f"{docs}/a.md -> id-1-a.md" in message
    assert f"{docs}/e.md -> id-5-e.md" in message
    pushed = context["ti"].xcom[RESULT_XCOM_KEY]
    assert (pushed["uploaded"], pushed["skipped"], len(pushed["files"]), len(pushed["failed"])) == (4, 0, 4, 1)
    assert pushed["not_attempted"] == []
    assert len(store.data) == 4
    assert all(key.startswith(MEMORY_PREFIX) for key in store.data)

    # The retry (a new context: XCom is cleared; the state store is kept) uploads c.md only.
    raia.fail_upload.clear()
    raia.calls.clear()
    retry_context = make_context(store)
    result = operator(f"{docs}/*.md").execute(retry_context)
    assert raia.calls == [("GET", "list"), ("POST", "c.md")]  # one list checks the remembered files exist
    assert (result["uploaded"], result["skipped"]) == (1, 4)
    assert [(f["file_name"], f["file_id"], f["skipped"]) for f in result["files"]] == [
        ("a.md", "id-1-a.md", True),
        ("b.md", "id-2-b.md", True),
        ("c.md", "id-6-c.md", False),
        ("d.md", "id-4-d.md", True),
        ("e.md", "id-5-e.md", True),
    ]
    assert {f["vector_store_status"] for f in result["files"]} == {"processing"}
    assert RESULT_XCOM_KEY not in retry_context["ti"].xcom
    assert len(store.data) == 5

    raia.calls.clear()  # a third run of the same task instance has nothing left to upload
    assert operator(f"{docs}/*.md").execute(make_context(store))["skipped"] == 5
    assert raia.calls == [("GET", "list")]


def test_retry_uploads_a_changed_file_again(raia: FakeRaia, docs: Path) -> None:
    store = FakeStateStore()
    operator([docs / "a.md", docs / "b.md"]).execute(make_context(store))
    (docs / "b.md").write_text("b.md, edited and longer")
    later = time.time() + 10
    os.utime(docs / "b.md", (later, later))
    raia.calls.clear()
    result = operator([docs / "a.md", docs / "b.md"]).execute(make_context(store))
    assert raia.uploaded_names() == ["b.md"]
    assert (result["uploaded"], result["skipped"]) == (1, 1)


def test_retry_uploads_again_a_remembered_file_raia_no_longer_has(raia: FakeRaia, docs: Path) -> None:
    store = FakeStateStore()
    operator([docs / "a.md", docs / "b.md"]).execute(make_context(store))
    del raia.files["id-1-a.md"]  # deleted at raia between the tries
    raia.calls.clear()
    result = operator([docs / "a.md", docs / "b.md"]).execute(make_context(store))
    assert raia.calls == [("GET", "list"), ("POST", "a.md")]
    assert [(f["file_id"], f["skipped"]) for f in result["files"]] == [("id-3-a.md", False), ("id-2-b.md", True)]


def test_without_task_state_store_a_retry_uploads_everything_again(raia: FakeRaia, docs: Path) -> None:
    raia.fail_upload["b.md"] = (400, BAD_REQUEST)
    with pytest.raises(RaiaPartialFailureError):
        operator([docs / "a.md", docs / "b.md"]).execute(make_context(store=None))  # Airflow < 3.3
    raia.fail_upload.clear()
    raia.calls.clear()
    result = operator([docs / "a.md", docs / "b.md"]).execute(make_context(store=None))
    assert raia.uploaded_names() == ["a.md", "b.md"]
    assert (result["uploaded"], result["skipped"]) == (2, 0)


def test_auth_error_stops_at_once(raia: FakeRaia, docs: Path) -> None:
    store = FakeStateStore()
    forbidden = {"status": 403, "name": "FORBIDDEN_ERROR", "message": "INVALID_CREDENTIALS", "details": []}
    raia.fail_upload["b.md"] = (403, forbidden)
    context = make_context(store)
    with pytest.raises(RaiaAuthError):
        operator(f"{docs}/*.md").execute(context)
    assert raia.uploaded_names() == ["a.md", "b.md"]  # c, d, e never tried: they would fail the same way
    pushed = context["ti"].xcom[RESULT_XCOM_KEY]
    assert [f["file_name"] for f in pushed["files"]] == ["a.md"]
    assert [(f["file_name"], f["status_code"]) for f in pushed["failed"]] == [("b.md", 403)]
    assert pushed["not_attempted"] == [f"{docs}/{name}" for name in ("c.md", "d.md", "e.md")]
    assert TEST_KEY not in json.dumps(pushed)
    assert len(store.data) == 1  # a.md is remembered


def test_server_error_left_after_the_hooks_retries_stops_at_once(raia: FakeRaia, docs: Path) -> None:
    raia.fail_upload["a.md"] = (503, {"status": 503, "message": "Service Unavailable"})
    op = operator(f"{docs}/*.md")
    op.hook = fast_hook()
    context = make_context(FakeStateStore())
    with pytest.raises(RaiaServerError):
        op.execute(context)
    assert raia.uploaded_names() == ["a.md", "a.md"]  # the hook's two attempts, then the task stops
    assert len(context["ti"].xcom[RESULT_XCOM_KEY]["not_attempted"]) == 4


def test_sync_add_refused_for_one_file_retry_only_adds_it(raia: FakeRaia, docs: Path) -> None:
    store = FakeStateStore()
    raia.fail_add["b.md"] = 404
    context = make_context(store)
    with pytest.raises(RaiaPartialFailureError, match=r"b.md \(add_to_vector_store: RaiaNotFoundError"):
        operator([docs / "a.md", docs / "b.md", docs / "c.md"], vector_store="sync").execute(context)
    failed = context["ti"].xcom[RESULT_XCOM_KEY]["failed"]
    assert [(f["file_name"], f["file_id"], f["stage"]) for f in failed] == [
        ("b.md", "id-2-b.md", "add_to_vector_store")
    ]
    assert raia.uploaded_names() == ["a.md", "b.md", "c.md"]

    raia.fail_add.clear()
    raia.calls.clear()
    result = operator([docs / "a.md", docs / "b.md", docs / "c.md"], vector_store="sync").execute(make_context(store))
    assert raia.calls == [("GET", "list"), ("PUT sync", "id-2-b.md"), ("GET", "list")]  # no upload again
    assert [(f["file_id"], f["vector_store_status"]) for f in result["files"]] == [
        ("id-1-a.md", "done"),
        ("id-2-b.md", "done"),
        ("id-3-c.md", "done"),
    ]
    assert (result["uploaded"], result["skipped"]) == (0, 3)


def test_async_status_read_failure_raises_and_retry_only_reads_again(raia: FakeRaia, docs: Path) -> None:
    store = FakeStateStore()
    raia.list_status = 403
    context = make_context(store)
    with pytest.raises(RaiaAuthError):
        operator([docs / "a.md", docs / "b.md"], vector_store="async").execute(context)
    assert [f["file_id"] for f in context["ti"].xcom[RESULT_XCOM_KEY]["files"]] == ["id-1-a.md", "id-2-b.md"]

    raia.list_status = 200
    raia.calls.clear()
    result = operator([docs / "a.md", docs / "b.md"], vector_store="async").execute(make_context(store))
    assert raia.calls == [("GET", "list"), ("GET", "list")]  # the check of the remembered files, then statuses
    assert (result["uploaded"], result["skipped"]) == (0, 2)
    assert {f["vector_store_status"] for f in result["files"]} == {"processing"}


def test_every_file_refused_still_reports_each(raia: FakeRaia, docs: Path) -> None:
    raia.fail_upload = {"a.md": (400, BAD_REQUEST), "b.md": (413, {"status": 413, "message": "Payload Too Large"})}
    with pytest.raises(RaiaPartialFailureError, match="2 of 2 file") as caught:
        operator([docs / "a.md", docs / "b.md"]).execute(make_context())
    assert [f["status_code"] for f in caught.value.failed] == [400, 413]
    assert caught.value.succeeded == []
