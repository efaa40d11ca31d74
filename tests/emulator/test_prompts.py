"""Contract tests of the emulated prompt operations, over real loopback HTTP with ``requests``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pytest
import requests

from raia_provider.testing import FAIL_MARKER, ArrivedFile, answer_for
from raia_provider.testing.emulator.answers import FAILURE_MESSAGE
from raia_provider.testing.emulator.server import RaiaEmulator

if TYPE_CHECKING:
    from conftest import Api

FORBIDDEN = {"status": 403, "name": "FORBIDDEN_ERROR", "message": "INVALID_CREDENTIALS", "details": []}
NOT_FOUND = {"status": 404, "name": "ENTITY_NOT_FOUND_ERROR", "message": "ENTITY_NOT_FOUND", "details": []}
PENDING = {"status": "pending", "totalTokens": None, "response": None, "error": None}
Validate = Callable[[Any, str], None]
WaitFor = Callable[..., Any]


def _completed(text: str, agent_name: str = "Test Agent", files: Sequence[ArrivedFile] = ()) -> dict[str, Any]:
    response, tokens = answer_for(text, agent_name, files=files)
    return {"status": "completed", "totalTokens": tokens, "response": response, "error": None}


FAILED = {"status": "failed", "totalTokens": None, "response": None, "error": FAILURE_MESSAGE}


# -- sync ------------------------------------------------------------------------------------------------


def test_sync_prompt_answers_completed_dto(api: Api, validate_against: Validate) -> None:
    response = api.prompt("How does quantum entanglement work?")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body == _completed("How does quantum entanglement work?")
    assert body["response"] == "[Test Agent] answer to: How does quantum entanglement work?"
    validate_against(body, "ProcessPromptResponseDTO")


def test_answer_and_token_count_are_deterministic() -> None:
    text, tokens = answer_for("one two three", "Bot")

    assert text == "[Bot] answer to: one two three"
    assert tokens == 3 + 6  # words in the prompt + words in "[Bot] answer to: one two three"
    assert answer_for("one two three", "Bot") == (text, tokens)


def test_sync_prompt_accepts_optional_fields_and_ignores_unknown_ones(api: Api) -> None:
    body = {"prompt": "Hi", "tokenTrackingId": "run-42", "files": [], "somethingElse": 1}

    response = api.call("POST", "/prompts", json=body)

    assert response.status_code == 200
    assert response.json() == _completed("Hi")


@pytest.mark.parametrize("field", ["tokenTrackingId", "files"])
def test_optional_fields_may_be_absent_but_not_null(api: Api, field: str) -> None:
    """The spec marks neither field nullable."""
    response = api.call("POST", "/prompts", json={"prompt": "Hi", field: None})

    assert response.status_code == 400
    assert [d["property"] for d in response.json()["details"]] == [field]


def test_sync_failing_prompt_is_200_with_failed_status(api: Api, validate_against: Validate) -> None:
    response = api.prompt(f"please {FAIL_MARKER} now")

    assert response.status_code == 200
    assert response.json() == FAILED
    validate_against(response.json(), "ProcessPromptResponseDTO")


def test_agent_name_appears_in_answer(raia_emulator: RaiaEmulator, api: Api) -> None:
    other = raia_emulator.add_agent(key="other-agent-key-0001", name="Other Bot")

    response = api.prompt("Hello", key=other.key)

    assert response.json() == _completed("Hello", agent_name="Other Bot")


# -- auth ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "json_body"),
    [
        ("POST", "/prompts", {"prompt": "Hi"}),
        ("POST", "/prompts/async", {"prompt": "Hi"}),
        ("GET", "/prompts/some-id/response-on", None),
        ("POST", "/prompts/upload-url", {"fileName": "a.png", "contentType": "image/png"}),
        ("GET", "/agents/by-api-key", None),
    ],
)
@pytest.mark.parametrize("key", [None, "", "not-a-known-key"])
def test_missing_or_unknown_key_is_403(
    api: Api, method: str, path: str, json_body: Any, key: str | None, validate_against: Validate
) -> None:
    response = api.call(method, path, key=key, json=json_body)

    assert response.status_code == 403
    assert response.json() == FORBIDDEN
    validate_against(response.json(), "ForbiddenErrorDTO")


def test_auth_is_checked_before_the_body(api: Api) -> None:
    response = api.call("POST", "/prompts", key="nope", json={"prompt": 5})

    assert response.status_code == 403


# -- async -----------------------------------------------------------------------------------------------


def test_async_prompt_returns_an_opaque_id(api: Api, validate_against: Validate) -> None:
    response = api.call("POST", "/prompts/async", json={"prompt": "Hi"})

    assert response.status_code == 200
    assert set(response.json()) == {"promptId"}
    assert isinstance(response.json()["promptId"], str)
    validate_against(response.json(), "CreatePromptResponseDTO")


def test_async_prompt_completes_after_the_delay(api: Api, validate_against: Validate, wait_for: WaitFor) -> None:
    prompt_id = api.create("What is 2 + 2?")

    def done() -> dict[str, Any] | None:
        body = api.poll(prompt_id).json()
        return body if body is not None and body["status"] != "pending" else None

    body = wait_for(done)
    assert body == _completed("What is 2 + 2?")
    validate_against(body, "GetResponseOnPromptResponseDTO")
    # Settled for good: later polls repeat the answer.
    assert api.poll(prompt_id).json() == body


def test_async_failing_prompt_ends_failed(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.configure(prompt_delay=0)
    prompt_id = api.create(f"{FAIL_MARKER} this")

    response = api.poll(prompt_id)

    assert response.status_code == 200
    assert response.json() == FAILED


def test_pending_style_null_answers_json_null(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.configure(prompt_delay=None, pending_style="null")
    prompt_id = api.create("Hi")

    for _ in range(3):
        response = api.poll(prompt_id)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert response.text == "null"
    raia_emulator.complete_prompt(prompt_id)
    assert api.poll(prompt_id).json() == _completed("Hi")


def test_pending_style_status_answers_pending_dto(
    raia_emulator: RaiaEmulator, api: Api, validate_against: Validate
) -> None:
    raia_emulator.configure(prompt_delay=None, pending_style="status")
    prompt_id = api.create("Hi")

    body = api.poll(prompt_id).json()

    assert body == PENDING
    validate_against(body, "GetResponseOnPromptResponseDTO")
    raia_emulator.complete_prompt(prompt_id)
    assert api.poll(prompt_id).json() == _completed("Hi")


def test_pending_style_alternate_switches_on_every_poll(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.configure(prompt_delay=None, pending_style="alternate")
    prompt_id = api.create("Hi")

    bodies = [api.poll(prompt_id).json() for _ in range(4)]

    assert bodies == [None, PENDING, None, PENDING]


def test_control_can_complete_with_a_given_answer_or_fail(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.configure(prompt_delay=None)
    first, second = api.create("one"), api.create("two")

    raia_emulator.complete_prompt(first, response='{"answer": 4}', total_tokens=99)
    raia_emulator.fail_prompt(second, error="model overloaded")

    assert api.poll(first).json() == {
        "status": "completed",
        "totalTokens": 99,
        "response": '{"answer": 4}',
        "error": None,
    }
    assert api.poll(second).json() == {
        "status": "failed",
        "totalTokens": None,
        "response": None,
        "error": "model overloaded",
    }


def test_unknown_prompt_id_is_404(api: Api, validate_against: Validate) -> None:
    response = api.poll("00000000-0000-0000-0000-000000000000")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    validate_against(response.json(), "EntityNotFoundErrorDTO")


def test_other_agents_prompt_is_404(raia_emulator: RaiaEmulator, api: Api) -> None:
    other = raia_emulator.add_agent(key="agent-b-key-000001", name="B")
    raia_emulator.configure(prompt_delay=0)
    prompt_id = api.create("secret question")

    foreign = api.poll(prompt_id, key=other.key)
    own = api.poll(prompt_id)

    assert foreign.status_code == 404
    assert foreign.json() == NOT_FOUND
    assert own.status_code == 200
    assert own.json() == _completed("secret question")


# -- uploads ---------------------------------------------------------------------------------------------


def test_upload_url_put_and_prompt_with_files(
    raia_emulator: RaiaEmulator, api: Api, validate_against: Validate
) -> None:
    issued = api.call("POST", "/prompts/upload-url", json={"fileName": "chart.png", "contentType": "image/png"})
    assert issued.status_code == 200
    validate_against(issued.json(), "CreatePromptFileSignedUploadUrlResponseDTO")
    signed_url, storage_path = issued.json()["signedUrl"], issued.json()["storagePath"]
    assert signed_url.startswith(f"{raia_emulator.storage_url}/_emulator/uploads/")
    assert storage_path.startswith(f"prompt-files/{raia_emulator.default_agent.id}/")
    assert storage_path.endswith("/chart.png")

    data = b"\x89PNG fake bytes"
    put = requests.put(signed_url, data=data, headers={"Content-Type": "image/png"}, timeout=10)
    assert put.status_code == 200
    assert [upload.size for upload in raia_emulator.uploads()] == [15]

    files = [{"fileName": "chart.png", "storagePath": storage_path}]
    sync = api.call("POST", "/prompts", json={"prompt": "Describe", "files": files})
    assert sync.status_code == 200
    digest = hashlib.sha256(data).hexdigest()[:16]
    assert sync.json()["response"] == f"[Test Agent] answer to: Describe [files: chart.png (15 bytes, sha256 {digest})]"
    assert sync.json() == _completed("Describe", files=[ArrivedFile("chart.png", 15, hashlib.sha256(data).hexdigest())])

    raia_emulator.configure(prompt_delay=0)
    created = api.call("POST", "/prompts/async", json={"prompt": "Describe", "files": files})
    assert api.poll(created.json()["promptId"]).json() == sync.json()


def test_put_to_unknown_upload_url_is_404(raia_emulator: RaiaEmulator) -> None:
    response = requests.put(f"{raia_emulator.storage_url}/_emulator/uploads/nope", data=b"x", timeout=10)

    assert response.status_code == 404


@pytest.mark.parametrize("endpoint", ["/prompts", "/prompts/async"])
def test_prompt_citing_an_unissued_storage_path_is_400(raia_emulator: RaiaEmulator, api: Api, endpoint: str) -> None:
    other = raia_emulator.add_agent(key="agent-b-key-000002", name="B")
    foreign_path = api.call(
        "POST", "/prompts/upload-url", key=other.key, json={"fileName": "a.txt", "contentType": "text/plain"}
    ).json()["storagePath"]

    for storage_path in ["prompt-files/made/up.txt", foreign_path]:
        body = {"prompt": "Hi", "files": [{"fileName": "a.txt", "storagePath": storage_path}]}
        response = api.call("POST", endpoint, json=body)
        assert response.status_code == 400
        assert response.json()["name"] == "BAD_REQUEST"
        assert response.json()["details"][0]["property"] == "files.0.storagePath"
