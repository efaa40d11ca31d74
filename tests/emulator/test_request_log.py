"""The request log: contents, order, filters — and the key never stored."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from typing import TYPE_CHECKING

import requests

from raia_provider.testing.emulator.requestlog import MASK
from raia_provider.testing.emulator.server import RaiaEmulator

if TYPE_CHECKING:
    from conftest import Api


def test_each_request_is_recorded_in_order(raia_emulator: RaiaEmulator, api: Api) -> None:
    started = time.monotonic()
    api.call("POST", "/prompts", json={"prompt": "Hi", "tokenTrackingId": "t-1"}, params={"x": "1"})
    api.call("GET", "/agents/by-api-key", key=None)
    api.call("POST", "/prompts", json={})

    log = raia_emulator.requests()

    assert [(r.seq, r.method, r.path, r.status) for r in log] == [
        (1, "POST", "/external/prompts", 200),
        (2, "GET", "/external/agents/by-api-key", 403),
        (3, "POST", "/external/prompts", 400),
    ]
    first = log[0]
    assert first.query == "x=1"
    assert first.body == {"prompt": "Hi", "tokenTrackingId": "t-1"}
    assert first.agent_id == raia_emulator.default_agent.id
    assert first.headers["content-type"] == "application/json"
    assert first.finished
    assert log[1].agent_id is None
    assert started <= first.timestamp <= log[1].timestamp <= log[2].timestamp <= time.monotonic()


def test_control_and_upload_calls_are_not_recorded(raia_emulator: RaiaEmulator) -> None:
    requests.get(f"{raia_emulator.url}/_emulator/health", timeout=5)

    assert raia_emulator.requests() == []


def test_filters_by_method_and_path_pattern(raia_emulator: RaiaEmulator, api: Api) -> None:
    prompt_id = api.create("Hi")
    api.poll(prompt_id)
    api.poll(prompt_id)
    api.call("GET", "/agents/by-api-key")

    assert len(raia_emulator.requests(method="get")) == 3
    assert len(raia_emulator.requests(path="/external/prompts/{id}/response-on")) == 2
    assert len(raia_emulator.requests(method="POST", path="/external/prompts*")) == 1
    raia_emulator.clear_requests()
    assert raia_emulator.requests() == []


def test_duplicates_are_visible(raia_emulator: RaiaEmulator, api: Api) -> None:
    for _ in range(2):
        api.call("POST", "/prompts/async", json={"prompt": "same", "tokenTrackingId": "dag-run-1"})

    bodies = [r.body for r in raia_emulator.requests(method="POST", path="/external/prompts/async")]

    assert bodies == [{"prompt": "same", "tokenTrackingId": "dag-run-1"}] * 2


def test_non_json_bodies_are_kept_as_text(raia_emulator: RaiaEmulator, api: Api) -> None:
    api.call("POST", "/prompts", data=b"prompt=hi", headers={"Content-Type": "text/plain"})

    assert raia_emulator.requests()[0].body == "prompt=hi"


def test_multipart_bodies_keep_fields_and_file_digests_only(raia_emulator: RaiaEmulator, api: Api) -> None:
    content = b"x" * 1234
    api.call(
        "POST",
        "/agent-files/upload",
        files={"file": ("notes.txt", content, "text/plain")},
        data={"autoAddToVectorStore": "true"},
    )

    entry = raia_emulator.requests()[0]
    assert entry.status == 200
    assert entry.body == {
        "fields": {"autoAddToVectorStore": "true"},
        "files": [
            {
                "field": "file",
                "fileName": "notes.txt",
                "contentType": "text/plain",
                "size": 1234,
                "sha256": hashlib.sha256(content).hexdigest(),
            }
        ],
    }


def test_multipart_body_of_a_refused_request_is_logged_before_the_answer(raia_emulator: RaiaEmulator, api: Api) -> None:
    """A 403 is answered without reading the body; the log still has its digest (drained first)."""
    response = api.call("POST", "/agent-files/upload", key="wrong", files={"file": ("a.txt", b"abc", "text/plain")})

    assert response.status_code == 403
    (entry,) = raia_emulator.requests()
    assert entry.status == 403
    assert entry.body["files"][0]["size"] == 3


def test_unparseable_multipart_body_is_logged_as_a_note(raia_emulator: RaiaEmulator, api: Api) -> None:
    response = api.call(
        "POST", "/agent-files/upload", data=b"garbage", headers={"Content-Type": "multipart/form-data; boundary=x"}
    )

    assert response.status_code == 400
    assert response.json()["message"] == "Failed to upload agent file."
    assert raia_emulator.requests()[0].body.startswith("<unparseable multipart body, 7 bytes")


def test_the_key_is_never_stored(raia_emulator: RaiaEmulator, api: Api) -> None:
    secret = "sk-raia-THIS-MUST-NOT-LEAK-1234567890"
    unknown = "sk-raia-UNKNOWN-MUST-NOT-LEAK-0987654321"
    raia_emulator.add_agent(key=secret, name="Secretive")
    raia_emulator.configure(prompt_delay=0)

    prompt_id = api.create("Hi", key=secret)
    api.poll(prompt_id, key=secret)
    api.call("GET", "/agents/by-api-key", key=secret)  # the response carries the key; the log must not
    api.prompt("Hi", key=unknown)
    api.call("GET", "/unknown", key=unknown)
    # A careless client leaking the key elsewhere: masked.
    api.call("POST", "/prompts", key=secret, params={"apiKey": secret}, json={"prompt": f"my key is {secret}"})
    api.call("GET", "/agents/by-api-key", key=unknown, headers={"X-Debug": unknown})

    in_process = json.dumps([dataclasses.asdict(entry) for entry in raia_emulator.requests()])
    over_http = requests.get(f"{raia_emulator.url}/_emulator/requests", timeout=5).text

    for dump in (in_process, over_http, repr(raia_emulator.requests())):
        assert secret not in dump
        assert unknown not in dump
        assert "agent-secret-key" not in dump.lower()
    assert MASK in in_process
    assert len(raia_emulator.requests()) == 7


def test_agent_repr_hides_the_key(raia_emulator: RaiaEmulator) -> None:
    agent = raia_emulator.add_agent(key="sk-raia-REPR-SECRET-000000", name="R")

    assert "sk-raia-REPR-SECRET" not in repr(agent)
    assert "sk-raia-REPR-SECRET" not in repr(raia_emulator.state.agents())
