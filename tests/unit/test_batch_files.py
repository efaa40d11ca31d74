"""``RaiaBatchPromptOperator(file_field=...)`` (issue 17): each row's document uploaded and attached to its prompt.

raia's side is mocked at the HTTP layer (``tests.aiohttp_mock``); the storage host the signed URLs point at is
a small real HTTP server on another loopback address that records every PUT.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import responses

from raia_provider.exceptions import RaiaInputError, RaiaPartialFailureError
from raia_provider.operators.batch import RaiaBatchPromptOperator
from tests.aiohttp_mock import RecordedRequest, Reply, Router, mock_raia
from tests.conftest import TEST_KEY, UNIT_BASE_URL
from tests.task_doubles import FakeTI
from tests.unit.payloads import PROFILE_PATH, profile_with_output_schema

pytestmark = pytest.mark.usefixtures("unit_connection", "plain_agent")

INVOICE = {
    "type": "object",
    "properties": {"vendor": {"type": "string"}, "total": {"type": "number"}},
    "required": ["vendor", "total"],
}


class StorageHost:
    """A storage service on 127.0.0.2: keeps what each PUT carried, answers 200."""

    def __init__(self) -> None:
        self.puts: list[dict[str, Any]] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers["Content-Length"])
                host.puts.append({"path": self.path, "headers": dict(self.headers), "data": self.rfile.read(length)})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.url = f"http://127.0.0.2:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def storage() -> Iterator[StorageHost]:
    host = StorageHost()
    yield host
    host.close()


@pytest.fixture
def invoices(tmp_path: Path) -> Path:
    folder = tmp_path / "invoices"
    folder.mkdir()
    for number in range(4):
        (folder / f"inv-{number}.pdf").write_bytes(f"%PDF invoice {number} ".encode() * (100 + number))
    return folder


class Raia:
    """raia's prompt endpoints: signed URLs on the storage host; answers name the files they were given."""

    def __init__(self, router: Router, storage: StorageHost, *, failing: frozenset[str] = frozenset()) -> None:
        self.router = router
        self.issued = 0
        self.prompts: list[dict[str, Any]] = []
        self.failing = failing
        router.post("/prompts/upload-url").mock(side_effect=self.upload_url)
        router.post("/prompts").mock(side_effect=self.answer)
        self.storage = storage

    def upload_url(self, request: RecordedRequest) -> Reply:
        self.issued += 1
        name = json.loads(request.content)["fileName"]
        token = f"{self.issued}-{name}"
        return Reply(200, json={"signedUrl": f"{self.storage.url}/b/{token}?sig=s3cr3t", "storagePath": f"p/{token}"})

    def answer(self, request: RecordedRequest) -> Reply:
        body = json.loads(request.content)
        self.prompts.append(body)
        names = [item["fileName"] for item in body.get("files", [])]
        if set(names) & self.failing:
            return Reply(400, json={"status": 400, "message": "VALIDATION_ERROR", "details": []})
        response = json.dumps({"vendor": names[0].removesuffix(".pdf"), "total": 10.0}) if names else "none"
        return Reply(200, json={"status": "completed", "totalTokens": 3, "response": response, "error": None})


def batch(tmp_path: Path, invoices: Path, **overrides: Any) -> RaiaBatchPromptOperator:
    arguments: dict[str, Any] = {
        "task_id": "extract",
        "records": [{"id": f"i{n}", "document": str(invoices / f"inv-{n}.pdf")} for n in range(4)],
        "key_field": "id",
        "file_field": "document",
        "prompt_template": "Extract the invoice fields",
        "output_path": str(tmp_path / "out.jsonl"),
        "output_schema": INVOICE,
        **overrides,
    }
    return RaiaBatchPromptOperator(**arguments)


def lines(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]


def test_each_row_uploads_its_file_to_the_storage_host_and_attaches_it(
    tmp_path: Path, invoices: Path, storage: StorageHost
) -> None:
    with mock_raia(UNIT_BASE_URL) as router:
        raia = Raia(router, storage)
        manifest = batch(tmp_path, invoices).execute({"ti": FakeTI()})

    assert manifest["completed"] == 4
    assert [(line["id"], line["vendor"]) for line in lines(tmp_path)] == [(f"i{n}", f"inv-{n}") for n in range(4)]
    sent = {put["path"].split("/")[-1].split("?")[0].split("-", 1)[1]: put["data"] for put in storage.puts}
    assert sent == {f"inv-{n}.pdf": (invoices / f"inv-{n}.pdf").read_bytes() for n in range(4)}
    for put in storage.puts:
        assert put["headers"]["Content-Type"] == "application/pdf"
        assert "agent-secret-key" not in {name.lower() for name in put["headers"]}
        assert TEST_KEY not in json.dumps(put["headers"])
    cited = sorted(prompt["files"][0]["storagePath"] for prompt in raia.prompts)
    assert cited == sorted(f"p/{put['path'].split('/')[-1].split('?')[0]}" for put in storage.puts)
    assert manifest["requests"] == 8  # an upload-URL call and a prompt per row; the PUTs are not raia's


def test_a_row_whose_file_is_missing_fails_the_task_before_any_request(
    tmp_path: Path, invoices: Path, storage: StorageHost
) -> None:
    (invoices / "inv-2.pdf").unlink()
    records = [{"id": f"i{n}", "document": str(invoices / f"inv-{n}.pdf")} for n in range(4)]
    records.append({"id": "i4", "document": "  "})

    with mock_raia(UNIT_BASE_URL, assert_all_called=False) as router:
        Raia(router, storage)
        with pytest.raises(RaiaInputError) as refused:
            batch(tmp_path, invoices, records=records).execute({"ti": FakeTI()})
        assert router.calls == []

    message = str(refused.value)
    assert message.startswith("argument 'file_field' ('document'): 2 of 5 rows name no file that can be read; nothing")
    assert "row 2 (key 'i2'): " in message
    assert "inv-2.pdf' does not exist" in message
    assert "row 4 (key 'i4'): the field is missing or blank" in message
    assert storage.puts == []


def test_a_resumed_batch_uploads_nothing_again_for_rows_it_answered(
    tmp_path: Path, invoices: Path, storage: StorageHost
) -> None:
    with mock_raia(UNIT_BASE_URL) as router:
        Raia(router, storage, failing=frozenset({"inv-1.pdf"}))
        with pytest.raises(RaiaPartialFailureError):
            batch(tmp_path, invoices).execute({"ti": FakeTI()})
    assert len(storage.puts) == 4

    with mock_raia(UNIT_BASE_URL) as router:
        raia = Raia(router, storage)
        manifest = batch(tmp_path, invoices).execute({"ti": FakeTI()})

    assert (manifest["reused"], manifest["completed"]) == (3, 4)
    assert raia.issued == 1
    assert [put["path"].split("/")[-1].split("?")[0] for put in storage.puts[4:]] == ["1-inv-1.pdf"]


def test_a_changed_file_is_asked_again_on_resume(tmp_path: Path, invoices: Path, storage: StorageHost) -> None:
    with mock_raia(UNIT_BASE_URL) as router:
        Raia(router, storage, failing=frozenset({"inv-1.pdf"}))
        with pytest.raises(RaiaPartialFailureError):
            batch(tmp_path, invoices).execute({"ti": FakeTI()})
    (invoices / "inv-3.pdf").write_bytes(b"%PDF corrected invoice 3")

    with mock_raia(UNIT_BASE_URL) as router:
        raia = Raia(router, storage)
        manifest = batch(tmp_path, invoices).execute({"ti": FakeTI()})

    assert manifest["reused"] == 2
    assert sorted(prompt["files"][0]["fileName"] for prompt in raia.prompts) == ["inv-1.pdf", "inv-3.pdf"]
    assert b"%PDF corrected invoice 3" in [put["data"] for put in storage.puts[4:]]


def test_the_agents_own_output_schema_gives_the_columns_by_default(
    tmp_path: Path, invoices: Path, storage: StorageHost, plain_agent: responses.RequestsMock
) -> None:
    plain_agent.replace(responses.GET, UNIT_BASE_URL + PROFILE_PATH, json=profile_with_output_schema(INVOICE))
    with mock_raia(UNIT_BASE_URL) as router:
        Raia(router, storage)
        batch(tmp_path, invoices, output_schema=None).execute({"ti": FakeTI()})

    first = lines(tmp_path)[0]
    assert (first["vendor"], first["total"], first["status"]) == ("inv-0", 10.0, "completed")


def test_a_record_field_clashing_with_the_agents_schema_is_refused_before_any_prompt(
    tmp_path: Path, invoices: Path, storage: StorageHost, plain_agent: responses.RequestsMock
) -> None:
    plain_agent.replace(responses.GET, UNIT_BASE_URL + PROFILE_PATH, json=profile_with_output_schema(INVOICE))
    records = [{"id": "i0", "document": str(invoices / "inv-0.pdf"), "vendor": "known"}]
    with mock_raia(UNIT_BASE_URL, assert_all_called=False) as router:
        Raia(router, storage)
        with pytest.raises(RaiaInputError, match=r"already have the field\(s\) \['vendor'\]"):
            batch(tmp_path, invoices, records=records, output_schema=None).execute({"ti": FakeTI()})
        assert router.calls == []


def test_text_format_reads_no_profile(tmp_path: Path, invoices: Path, storage: StorageHost, plain_agent: Any) -> None:
    with mock_raia(UNIT_BASE_URL) as router:
        Raia(router, storage)
        batch(tmp_path, invoices, output_schema=None, output_format="text").execute({"ti": FakeTI()})
    assert len(plain_agent.calls) == 0
    assert lines(tmp_path)[0]["response"] == json.dumps({"vendor": "inv-0", "total": 10.0})


def test_uploaded_bytes_are_the_files_own(tmp_path: Path, invoices: Path, storage: StorageHost) -> None:
    with mock_raia(UNIT_BASE_URL) as router:
        Raia(router, storage)
        batch(tmp_path, invoices, file_content_type="application/octet-stream").execute({"ti": FakeTI()})
    digests = sorted(hashlib.sha256(put["data"]).hexdigest() for put in storage.puts)
    assert digests == sorted(hashlib.sha256(path.read_bytes()).hexdigest() for path in invoices.iterdir())
    assert {put["headers"]["Content-Type"] for put in storage.puts} == {"application/octet-stream"}
