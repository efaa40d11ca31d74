"""The ``/_emulator`` control API and ``EmulatorClient``, against an in-process server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import requests

from raia_provider.testing import EmulatorClient
from raia_provider.testing.emulator.server import RaiaEmulator
from raia_provider.testing.emulator.state import EmulatorConfig

if TYPE_CHECKING:
    from conftest import Api


@pytest.fixture
def control(raia_emulator: RaiaEmulator) -> Iterator[EmulatorClient]:
    """An ``EmulatorClient`` on the (reset) session emulator."""
    with EmulatorClient(raia_emulator.url) as client:
        yield client


def test_health(control: EmulatorClient, raia_emulator: RaiaEmulator) -> None:
    health = control.health()

    assert health == {
        "status": "ok",
        "base_url": raia_emulator.base_url,
        "storage_url": raia_emulator.storage_url,
        "default_agent": {"id": raia_emulator.default_agent.id, "name": "Test Agent"},
    }
    assert control.storage_url == raia_emulator.storage_url != raia_emulator.url
    assert raia_emulator.default_key not in str(health)


def test_client_accepts_the_external_base_url(raia_emulator: RaiaEmulator) -> None:
    with EmulatorClient(raia_emulator.base_url + "/") as client:
        assert client.url == raia_emulator.url
        assert client.health()["status"] == "ok"


def test_add_agent_with_and_without_key(control: EmulatorClient, api: Api) -> None:
    named = control.add_agent(key="control-added-key-01", name="Added")
    generated = control.add_agent(name="Generated")

    assert api.call("GET", "/agents/by-api-key", key=named.key).json()["name"] == "Added"
    assert api.call("GET", "/agents/by-api-key", key=generated.key).json()["id"] == generated.id
    with pytest.raises(ValueError, match="already"):
        control.add_agent(key="control-added-key-01")


def test_configure_and_read_config(control: EmulatorClient, raia_emulator: RaiaEmulator) -> None:
    config = control.configure(latency=0.01, pending_style="alternate", prompt_delay=None)

    assert config == EmulatorConfig(latency=0.01, pending_style="alternate", prompt_delay=None)
    assert control.config == raia_emulator.config == config
    with pytest.raises(ValueError):  # noqa: PT011
        control.configure(pending_style="sometimes")  # type: ignore[typeddict-item]
    with pytest.raises(ValueError):  # noqa: PT011
        control.configure(latency=-1)


def test_faults_round_trip(control: EmulatorClient, api: Api) -> None:
    fault = control.inject_fault(kind="html", path="/external/agents/by-api-key", count=2)

    assert control.faults() == [fault]
    assert fault.status == 502
    assert api.call("GET", "/agents/by-api-key").status_code == 502
    assert [f.count for f in control.faults()] == [1]
    control.clear_faults()
    assert control.faults() == []
    with pytest.raises(ValueError):  # noqa: PT011
        control.inject_fault(kind="status")


def test_requests_round_trip(control: EmulatorClient, api: Api, raia_emulator: RaiaEmulator) -> None:
    api.prompt("Hi")
    api.call("GET", "/agents/by-api-key")

    assert control.requests() == raia_emulator.requests()
    assert [r.path for r in control.requests(method="GET")] == ["/external/agents/by-api-key"]
    assert len(control.requests(path="/external/prompts")) == 1
    control.clear_requests()
    assert control.requests() == []


def test_complete_and_fail_prompts(control: EmulatorClient, raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.configure(prompt_delay=None)
    first, second = api.create("one"), api.create("two")

    completed = control.complete_prompt(first, response="four", total_tokens=4)
    failed = control.fail_prompt(second, error="nope")

    assert completed.status == "completed"
    assert api.poll(first).json() == {"status": "completed", "totalTokens": 4, "response": "four", "error": None}
    assert failed.status == "failed"
    assert api.poll(second).json()["error"] == "nope"
    with pytest.raises(KeyError):
        control.complete_prompt("unknown")


def test_reset(control: EmulatorClient, raia_emulator: RaiaEmulator, api: Api) -> None:
    extra = control.add_agent(name="Temp")
    control.configure(latency=0.01)
    control.inject_fault(kind="reset", path="/nothing")
    api.prompt("Hi")

    control.reset()

    assert raia_emulator.requests() == []
    assert raia_emulator.faults() == []
    assert raia_emulator.config == EmulatorConfig()
    assert api.call("GET", "/agents/by-api-key", key=extra.key).status_code == 403
    assert api.call("GET", "/agents/by-api-key").status_code == 200


def test_emulator_openapi_is_served_and_docs_are_off(raia_emulator: RaiaEmulator) -> None:
    spec = requests.get(f"{raia_emulator.url}/_emulator/openapi.json", timeout=5)

    assert spec.status_code == 200
    assert "/_emulator/faults" in spec.json()["paths"]
    assert "/external/prompts" in spec.json()["paths"]
    for path in ("/docs", "/redoc", "/_emulator/docs"):
        assert requests.get(f"{raia_emulator.url}{path}", timeout=5).status_code == 404


def test_control_api_validation_errors_are_fastapi_style(raia_emulator: RaiaEmulator) -> None:
    response = requests.post(f"{raia_emulator.url}/_emulator/faults", json={"kind": "status", "bogus": 1}, timeout=5)

    assert response.status_code == 422
    assert "detail" in response.json()


def test_conversation_side_through_the_client(control: EmulatorClient, raia_emulator: RaiaEmulator, api: Api) -> None:
    control.configure(message_delay=None, vector_store_delay=None, message_status_vocabulary="release_notes")
    user = control.seed_user(email="seeded@example.com", fk_id="crm-9")
    conversation = control.seed_conversation(user.id, title="Seeded", channel="sms", mode="manual")
    question = api.call("POST", f"/conversations/{conversation.id}/messages/async", json={"message": "Hi"}).json()
    poll = f"/conversations/{conversation.id}/messages/{question['id']}/response-on"

    assert api.call("GET", poll).json() == {"status": "running"}
    job = control.complete_message(question["id"], response="Hello!")
    assert (job.status, job.question_id) == ("completed", question["id"])
    assert api.call("GET", poll).json()["message"]["message"] == "Hello!"
    second = api.call("POST", f"/conversations/{conversation.id}/messages/async", json={"message": "?"}).json()
    assert control.fail_message(second["id"], error="nope").error == "nope"
    with pytest.raises(ValueError, match="already"):
        control.fail_message(second["id"])
    with pytest.raises(KeyError):
        control.complete_message("unknown")

    upload = api.call(
        "POST", "/agent-files/upload", files={"file": ("a.txt", b"abc")}, data={"autoAddToVectorStore": "true"}
    ).json()
    assert control.complete_vector_store(upload["id"]).vector_store_status == "done"
    other = api.call(
        "POST", "/agent-files/upload", files={"file": ("b.txt", b"b")}, data={"autoAddToVectorStore": "true"}
    )
    assert control.fail_vector_store(other.json()["id"]).vector_store_status == "failed"
    api.call(
        "POST",
        "/agents/webhooks",
        json={"title": "t", "description": "d", "url": "https://x.example.com", "triggerCondition": "manual"},
    )

    assert control.users() == raia_emulator.users()
    assert [u.email for u in control.users()] == ["seeded@example.com"]
    assert control.conversations() == raia_emulator.conversations()
    assert control.messages(conversation.id) == raia_emulator.messages(conversation.id)
    assert [m.sender_role for m in control.messages()] == ["conversation_user", "assistant", "conversation_user"]
    assert control.agent_files() == raia_emulator.agent_files()
    assert control.webhooks() == raia_emulator.webhooks()
    assert control.usage() == raia_emulator.usage()
    assert [(e.kind, e.amount) for e in control.usage()] == [("tokens", 2)]  # words: "Hi" + "Hello!"
    with pytest.raises(ValueError, match="already exists"):
        control.seed_user(email="seeded@example.com")
    with pytest.raises(KeyError):
        control.seed_conversation("nobody")
    with pytest.raises(KeyError):
        control.users(agent_id="no-such-agent")
    agent = control.add_agent(name="Second")
    assert control.users(agent_id=agent.id) == []
    assert control.seed_user(agent_id=agent.id, fk_id="x").agent_id == agent.id

    control.reset()
    assert raia_emulator.users() == raia_emulator.conversations() == raia_emulator.agent_files() == []
