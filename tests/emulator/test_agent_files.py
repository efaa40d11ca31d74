"""Agent files: streamed multipart upload, list, vector-store life cycle, deletes."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from raia_provider.testing import FAIL_MARKER
from raia_provider.testing.emulator.server import RaiaEmulator

if TYPE_CHECKING:
    from conftest import Api

Validate = Callable[[Any, str], None]
NOT_FOUND = {"status": 404, "name": "ENTITY_NOT_FOUND_ERROR", "message": "ENTITY_NOT_FOUND", "details": []}
REPO = Path(__file__).resolve().parents[2]


def _upload(api: Api, name: str = "notes.txt", content: bytes = b"hello", **fields: str) -> requests.Response:
    return api.call("POST", "/agent-files/upload", files={"file": (name, content, "text/plain")}, data=fields)


def _files(api: Api) -> list[dict[str, Any]]:
    response = api.call("GET", "/agent-files/by-api-key")
    assert response.status_code == 200, response.text
    files: list[dict[str, Any]] = response.json()
    return files


def test_upload_without_vector_store(raia_emulator: RaiaEmulator, api: Api, validate_against: Validate) -> None:
    response = _upload(api, content=b"x" * 100)

    assert response.status_code == 200
    body = response.json()
    validate_against(body, "UploadAgentFileResponseDTO")
    assert body["fileName"] == "notes.txt"
    assert (body["isUploadedToVectorStore"], body["vectorStoreUploadStatus"]) == (False, None)
    assert "vectorStoreFileId" not in body
    (stored,) = raia_emulator.agent_files()
    assert (stored.size, stored.sha256, stored.content_type) == (
        100,
        hashlib.sha256(b"x" * 100).hexdigest(),
        "text/plain",
    )
    assert _files(api) == [body]


@pytest.mark.parametrize("field", ["autoAddToVectorStore", "autoAddToAssistant"])
def test_auto_add_processes_then_done(
    raia_emulator: RaiaEmulator, api: Api, field: str, validate_against: Validate
) -> None:
    raia_emulator.configure(vector_store_delay=None)

    body = _upload(api, **{field: "true"}).json()

    assert (body["isUploadedToVectorStore"], body["vectorStoreUploadStatus"]) == (False, "processing")
    assert body["vectorStoreFileId"].startswith("file-")
    assert _files(api)[0]["vectorStoreUploadStatus"] == "processing"
    raia_emulator.complete_vector_store(body["id"])
    (done,) = _files(api)
    validate_against(done, "GetAgentFilesByApiKeyResponseDTO")
    assert (done["isUploadedToVectorStore"], done["vectorStoreUploadStatus"]) == (True, "done")
    assert "uploadedToVectorStoreAt" in done


def test_vector_store_settles_after_the_delay(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.configure(vector_store_delay=0)

    _upload(api, autoAddToVectorStore="TRUE")
    _upload(api, name=f"broken-{FAIL_MARKER}.txt", autoAddToVectorStore="true")
    _upload(api, name="kept-out.txt", autoAddToVectorStore="false", autoAddToAssistant="true")  # new name wins

    statuses = [(f["vectorStoreUploadStatus"], f["isUploadedToVectorStore"]) for f in _files(api)]
    assert statuses == [("done", True), ("failed", None), (None, False)]


def test_list_is_404_when_empty_and_per_agent(raia_emulator: RaiaEmulator, api: Api) -> None:
    other = raia_emulator.add_agent(key="files-agent-b-00001", name="B")

    empty = api.call("GET", "/agent-files/by-api-key")
    assert empty.status_code == 404
    assert empty.json() == NOT_FOUND
    _upload(api)
    assert api.call("GET", "/agent-files/by-api-key", key=other.key).status_code == 404


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"json": {"file": "x"}}, "File is required."),
        ({"data": {"autoAddToVectorStore": "true"}, "files": {"other": ("a.txt", b"a")}}, "File is required."),
        ({"files": [("file", ("a.txt", b"a")), ("file", ("b.txt", b"b"))]}, "Unexpected field"),
        ({"files": {"file": (None, "just text")}}, "File is required."),
        ({"files": {"file": ("", b"abc")}}, "File is required."),
    ],
    ids=["not multipart", "other field", "two files", "file as text", "no file name"],
)
def test_bad_uploads_are_400(api: Api, kwargs: dict[str, Any], message: str, validate_against: Validate) -> None:
    response = api.call("POST", "/agent-files/upload", **kwargs)

    assert response.status_code == 400, response.text
    assert response.json() == {"status": 400, "name": "BAD_REQUEST", "message": message, "details": []}
    validate_against(response.json(), "BadRequestErrorDTO")


def test_non_boolean_auto_add_is_400(api: Api) -> None:
    response = _upload(api, autoAddToVectorStore="maybe")

    assert response.status_code == 400
    assert response.json()["details"][0]["property"] == "autoAddToVectorStore"


def test_add_to_vector_store_sync_and_async(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.configure(vector_store_delay=None)
    first, second = _upload(api).json()["id"], _upload(api, name="b.txt").json()["id"]

    sync = api.call("PUT", f"/agent-files/{first}/add-to-vector-store")
    started = api.call("PUT", f"/agent-files/{second}/add-to-vector-store/async")

    assert (sync.status_code, sync.content, started.status_code, started.content) == (200, b"", 200, b"")
    assert [f["vectorStoreUploadStatus"] for f in _files(api)] == ["done", "processing"]
    raia_emulator.fail_vector_store(second)
    assert _files(api)[1]["vectorStoreUploadStatus"] == "failed"
    with pytest.raises(ValueError, match="not processing"):
        raia_emulator.complete_vector_store(second)
    api.call("PUT", f"/agent-files/{second}/add-to-vector-store")  # a failed upload is retried
    assert _files(api)[1]["vectorStoreUploadStatus"] == "done"

    detached = api.call("DELETE", f"/agent-files/{first}/delete-from-vector-store")
    assert (detached.status_code, detached.content) == (200, b"")
    assert (_files(api)[0]["vectorStoreUploadStatus"], _files(api)[0]["isUploadedToVectorStore"]) == (None, False)


def test_deletes(raia_emulator: RaiaEmulator, api: Api) -> None:
    other = raia_emulator.add_agent(key="files-agent-b-00002", name="B")
    ids = [_upload(api, name=f"{i}.txt").json()["id"] for i in range(4)]
    theirs = api.call(
        "POST", "/agent-files/upload", key=other.key, files={"file": ("t.txt", b"t", "text/plain")}
    ).json()["id"]

    one = api.call("DELETE", f"/agent-files/{ids[0]}/delete")
    assert (one.status_code, one.content) == (200, b"")
    bulk = api.call("DELETE", "/agent-files", json={"fileIds": [ids[1], ids[2], theirs]})
    assert (bulk.status_code, bulk.content) == (200, b"")
    assert [f["id"] for f in _files(api)] == [ids[3]]
    assert len(raia_emulator.agent_files(other.id)) == 1  # another agent's id is ignored
    assert api.call("DELETE", "/agent-files", json={"fileIds": ["not-a-uuid"]}).status_code == 400
    assert api.call("DELETE", "/agent-files", json={}).status_code == 400


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("DELETE", "/delete"),
        ("DELETE", "/delete-from-vector-store"),
        ("PUT", "/add-to-vector-store"),
        ("PUT", "/add-to-vector-store/async"),
    ],
)
def test_unknown_or_foreign_file_is_404(raia_emulator: RaiaEmulator, api: Api, method: str, suffix: str) -> None:
    other = raia_emulator.add_agent(key="files-agent-b-00003", name="B")
    theirs = api.call(
        "POST", "/agent-files/upload", key=other.key, files={"file": ("t.txt", b"t", "text/plain")}
    ).json()["id"]

    for file_id in (theirs, "00000000-0000-0000-0000-000000000000"):
        response = api.call(method, f"/agent-files/{file_id}{suffix}")
        assert response.status_code == 404
        assert response.json() == NOT_FOUND


# -- streaming ---------------------------------------------------------------------------------------------

LISTENING = re.compile(r"^raia emulator listening on (http://127\.0\.0\.1:(\d+)/external)$")
UPLOAD_SIZE = 200 * 1024 * 1024
CHUNK = 1024 * 1024
MAX_GROWTH = 64 * 1024 * 1024


def _rss_peak(pid: int) -> int:
    """The process's peak resident set (``VmHWM``), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def cli_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The CLI emulator in a subprocess (its memory is measured alone)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "raia_provider.testing", "--port", "0", "--key", "stream-key-0000001"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    match = LISTENING.match(process.stdout.readline().strip())
    assert match
    yield process, match.group(1)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_large_upload_streams_with_flat_memory(cli_process: tuple[subprocess.Popen[str], str]) -> None:
    process, base_url = cli_process
    headers = {"Agent-Secret-Key": "stream-key-0000001"}
    # Warm up the code path (imports, first-request allocations) before the baseline.
    requests.post(f"{base_url}/agent-files/upload", headers=headers, files={"file": ("w.txt", b"w")}, timeout=30)
    baseline = _rss(process.pid)
    digest = hashlib.sha256()
    block = bytes(range(256)) * (CHUNK // 256)
    boundary = "raia-stream-boundary-7d1c"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="autoAddToVectorStore"\r\n\r\ntrue\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body() -> Iterator[bytes]:  # generated on the fly: never 200 MB in this process either
        yield head
        for _ in range(UPLOAD_SIZE // CHUNK):
            digest.update(block)
            yield block
        yield tail

    peak_seen = [baseline]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak_seen[0] = max(peak_seen[0], _rss(process.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        response = requests.post(
            f"{base_url}/agent-files/upload",
            headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            data=body(),
            timeout=300,
        )
    finally:
        stop.set()
        sampler.join()

    assert response.status_code == 200, response.text
    assert response.json()["fileName"] == "big.bin"
    assert response.json()["vectorStoreUploadStatus"] == "processing"
    growth = max(peak_seen[0], _rss_peak(process.pid)) - baseline
    assert growth <= MAX_GROWTH, f"emulator RSS grew by {growth / 2**20:.1f} MiB"
    log = requests.get(base_url.replace("/external", "/_emulator/requests"), params={"method": "POST"}, timeout=10)
    (entry,) = [e for e in log.json() if e["body"] and e["body"]["files"][0]["fileName"] == "big.bin"]
    assert entry["body"]["files"][0]["size"] == UPLOAD_SIZE
    assert entry["body"]["files"][0]["sha256"] == digest.hexdigest()
    assert entry["body"]["fields"] == {"autoAddToVectorStore": "true"}
    files = requests.get(base_url.replace("/external", "/_emulator/agent-files"), timeout=10).json()
    assert files[-1]["size"] == UPLOAD_SIZE
    assert files[-1]["sha256"] == digest.hexdigest()
