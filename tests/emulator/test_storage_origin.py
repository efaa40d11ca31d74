"""The storage service behind signed URLs, on its own origin: where signed URLs point, which origin serves
what, the refused ``Agent-Secret-Key`` header, and what an upload keeps (size, SHA-256, content type).

Everything goes over real loopback sockets with ``requests``.
"""

from __future__ import annotations

import hashlib
import socket
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import requests

from raia_provider.testing import EmulatorClient, RaiaEmulator
from raia_provider.testing.emulator.resources.uploads.routes import KEY_REFUSED
from raia_provider.testing.emulator.resources.uploads.store import KEPT_UPLOAD_BYTES

if TYPE_CHECKING:
    from conftest import Api

REFUSED = {"detail": KEY_REFUSED}


def _issue(api: Api, file_name: str = "report.pdf", content_type: str = "application/pdf") -> dict[str, str]:
    issued = api.call("POST", "/prompts/upload-url", json={"fileName": file_name, "contentType": content_type})
    assert issued.status_code == 200, issued.text
    body: dict[str, str] = issued.json()
    return body


def _origin(url: str) -> tuple[str | None, int | None]:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname, parts.port


def _files(*uploads: dict[str, str], names: tuple[str, ...] = ("report.pdf",)) -> list[dict[str, str]]:
    return [{"fileName": name, "storagePath": up["storagePath"]} for name, up in zip(names, uploads, strict=True)]


@pytest.fixture
def control(raia_emulator: RaiaEmulator) -> Iterator[EmulatorClient]:
    """An ``EmulatorClient`` on the (reset) session emulator."""
    with EmulatorClient(raia_emulator.url) as client:
        yield client


# -- where signed URLs point ------------------------------------------------------------------------------


def test_signed_urls_point_at_the_storage_origin(raia_emulator: RaiaEmulator, api: Api) -> None:
    prompt_url = _issue(api)["signedUrl"]
    conversation_id = api.conversation()["id"]
    message_url = api.call(
        "POST",
        f"/conversations/{conversation_id}/message-files/upload-url",
        json={"fileName": "a.png", "contentType": "image/png"},
    ).json()["signedUrl"]

    storage = _origin(raia_emulator.storage_url)
    assert storage[1] != raia_emulator.port
    assert _origin(prompt_url) == _origin(message_url) == storage
    assert prompt_url.startswith(f"{raia_emulator.storage_url}/_emulator/uploads/")


def test_each_origin_serves_only_its_own_paths(raia_emulator: RaiaEmulator, api: Api) -> None:
    signed = _issue(api)["signedUrl"]
    token_path = urllib.parse.urlsplit(signed).path
    headers = {"Agent-Secret-Key": raia_emulator.default_key}

    on_storage = requests.get(f"{raia_emulator.storage_url}/external/agents/by-api-key", headers=headers, timeout=5)
    control_on_storage = requests.get(f"{raia_emulator.storage_url}/_emulator/health", timeout=5)
    upload_on_api = requests.put(f"{raia_emulator.url}{token_path}", data=b"x", timeout=5)

    assert (on_storage.status_code, on_storage.json()) == (404, {"detail": "Not Found"})
    assert control_on_storage.status_code == 404
    assert upload_on_api.status_code == 404
    assert raia_emulator.uploads()[0].size is None  # the wrong-origin PUT stored nothing
    assert [entry.path for entry in raia_emulator.requests()] == ["/external/prompts/upload-url"]


# -- the agent key is refused -----------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Agent-Secret-Key", "agent-secret-key", "AGENT-SECRET-KEY"])
def test_a_put_with_the_key_header_is_refused_and_recorded(
    raia_emulator: RaiaEmulator, api: Api, control: EmulatorClient, header: str
) -> None:
    signed = _issue(api)["signedUrl"]

    refused = requests.put(signed, data=b"%PDF-1.7", headers={header: raia_emulator.default_key}, timeout=5)

    assert (refused.status_code, refused.json()) == (403, REFUSED)
    (leak,) = raia_emulator.key_leaks()
    assert (leak.seq, leak.method, leak.agent_id) == (1, "PUT", raia_emulator.default_agent.id)
    assert leak.path == urllib.parse.urlsplit(signed).path
    assert control.key_leaks() == [leak]
    assert raia_emulator.default_key not in repr(control.key_leaks())
    assert raia_emulator.uploads()[0].size is None  # nothing was stored


def test_a_get_with_any_key_value_is_refused(raia_emulator: RaiaEmulator, api: Api) -> None:
    signed = _issue(api)["signedUrl"]
    assert requests.put(signed, data=b"bytes", timeout=5).status_code == 200

    refused = requests.get(signed, headers={"Agent-Secret-Key": "not-an-agent-key"}, timeout=5)

    assert (refused.status_code, refused.json()) == (403, REFUSED)
    assert [(leak.method, leak.agent_id) for leak in raia_emulator.key_leaks()] == [("GET", None)]
    assert requests.get(signed, timeout=5).content == b"bytes"


def test_a_clean_put_is_stored_and_the_answer_reports_its_size_and_hash(
    raia_emulator: RaiaEmulator, api: Api, control: EmulatorClient
) -> None:
    data, notes = b"%PDF-1.7 quarterly report", b"plain notes\n"
    pdf, txt, missing = _issue(api), _issue(api, "notes.txt", "text/plain"), _issue(api, "b.txt", "text/plain")

    put = requests.put(pdf["signedUrl"], data=data, headers={"Content-Type": "application/pdf"}, timeout=5)
    assert put.status_code == 200
    assert requests.put(txt["signedUrl"], data=notes, timeout=5).status_code == 200
    files = _files(pdf, txt, missing, names=("report.pdf", "notes.txt", "b.txt"))
    answer = api.call("POST", "/prompts", json={"prompt": "Summarise", "files": files}).json()["response"]

    pdf_hash, txt_hash = hashlib.sha256(data).hexdigest(), hashlib.sha256(notes).hexdigest()
    assert answer == (
        f"[Test Agent] answer to: Summarise [files: report.pdf ({len(data)} bytes, sha256 {pdf_hash[:16]}), "
        f"notes.txt ({len(notes)} bytes, sha256 {txt_hash[:16]}), b.txt (not uploaded)]"
    )
    stored = raia_emulator.uploads()
    assert [(u.size, u.sha256, u.put_content_type) for u in stored] == [
        (len(data), pdf_hash, "application/pdf"),
        (len(notes), txt_hash, None),
        (None, None, None),
    ]
    assert [(u.token, u.size, u.sha256, u.put_content_type, u.data) for u in control.uploads()] == [
        (u.token, u.size, u.sha256, u.put_content_type, None) for u in stored
    ]
    assert raia_emulator.key_leaks() == []


def test_the_hash_of_an_upload_too_large_to_keep_is_still_kept(raia_emulator: RaiaEmulator, api: Api) -> None:
    data = bytes(range(256)) * (KEPT_UPLOAD_BYTES // 256 + 3)
    signed = _issue(api, "big.bin", "application/octet-stream")

    def chunks() -> Iterator[bytes]:  # chunked transfer: the server streams it too
        for start in range(0, len(data), 65536):
            yield data[start : start + 65536]

    assert requests.put(signed["signedUrl"], data=chunks(), timeout=10).status_code == 200

    (upload,) = raia_emulator.uploads()
    assert (upload.size, upload.sha256, upload.data) == (len(data), hashlib.sha256(data).hexdigest(), None)


def test_an_async_message_answer_reports_the_uploaded_file(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.configure(message_delay=0)
    conversation_id = api.conversation()["id"]
    issued = api.call(
        "POST",
        f"/conversations/{conversation_id}/message-files/upload-url",
        json={"fileName": "scan.png", "contentType": "image/png"},
    ).json()
    assert requests.put(issued["signedUrl"], data=b"\x89PNG scan", timeout=5).status_code == 200
    files = [{"fileName": "scan.png", "storagePath": issued["storagePath"]}]

    question = api.call(
        "POST", f"/conversations/{conversation_id}/messages/async", json={"message": "Read it", "files": files}
    ).json()
    poll: dict[str, Any] = api.call(
        "GET", f"/conversations/{conversation_id}/messages/{question['id']}/response-on"
    ).json()

    digest = hashlib.sha256(b"\x89PNG scan").hexdigest()[:16]
    assert poll["message"]["message"] == f"[Test Agent] answer to: Read it [files: scan.png (9 bytes, sha256 {digest})]"


def test_reset_forgets_key_leaks(raia_emulator: RaiaEmulator, api: Api) -> None:
    signed = _issue(api)["signedUrl"]
    requests.put(signed, data=b"x", headers={"Agent-Secret-Key": raia_emulator.default_key}, timeout=5)
    assert len(raia_emulator.key_leaks()) == 1

    raia_emulator.reset()

    assert raia_emulator.key_leaks() == []
    assert raia_emulator.uploads() == []


# -- where the storage service listens ---------------------------------------------------------------------


def _loopback_alias_available(host: str) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, 0))
        except OSError:
            return False
    return True


@pytest.mark.skipif(not _loopback_alias_available("127.0.0.2"), reason="127.0.0.2 cannot be bound here")
def test_storage_on_another_loopback_host() -> None:
    with RaiaEmulator(key="k-storage-host", storage_host="127.0.0.2") as emulator:
        headers = {"Agent-Secret-Key": "k-storage-host"}
        issued = requests.post(
            f"{emulator.base_url}/prompts/upload-url",
            json={"fileName": "a.txt", "contentType": "text/plain"},
            headers=headers,
            timeout=5,
        ).json()
        assert _origin(emulator.storage_url)[0] == _origin(issued["signedUrl"])[0] == "127.0.0.2"
        assert _origin(emulator.url)[0] == "127.0.0.1"
        assert requests.put(issued["signedUrl"], data=b"hello", timeout=5).status_code == 200
        files = [{"fileName": "a.txt", "storagePath": issued["storagePath"]}]
        answer = requests.post(
            f"{emulator.base_url}/prompts", json={"prompt": "Hi", "files": files}, headers=headers, timeout=5
        ).json()["response"]
        assert answer.endswith(f"[files: a.txt (5 bytes, sha256 {hashlib.sha256(b'hello').hexdigest()[:16]})]")
        storage_port = _origin(emulator.storage_url)[1]
        with pytest.raises(requests.ConnectionError):  # the API is not on the storage host
            requests.get(f"http://127.0.0.2:{emulator.port}/_emulator/health", timeout=2)
    assert storage_port is not None
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.2:{storage_port}/_emulator/uploads/x", timeout=2)


def test_an_explicit_storage_port_and_the_refused_hosts() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with RaiaEmulator(storage_port=free) as emulator:
        assert emulator.storage_url == f"http://127.0.0.1:{free}"
    with pytest.raises(ValueError, match="loopback"):
        RaiaEmulator(storage_host="10.0.0.1")
    with pytest.raises(RuntimeError, match="not running"):
        _ = RaiaEmulator().storage_url


def test_a_storage_port_in_use_fails_cleanly_and_frees_the_api_port() -> None:
    with RaiaEmulator() as first:
        taken = int(first.storage_url.rsplit(":", 1)[1])
        second = RaiaEmulator(storage_port=taken)
        with pytest.raises(OSError, match="in use"):
            second.start()
        assert not second.running
