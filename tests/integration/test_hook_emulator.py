"""RaiaHook against the raia emulator over real loopback sockets, blocking and async."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
import requests

from raia_provider._core.retry import RetryPolicy
from raia_provider.exceptions import (
    RaiaConnectionError,
    RaiaInputError,
    RaiaNotFoundError,
    RaiaServerError,
    RaiaTimeoutError,
)
from raia_provider.hooks.raia import RaiaHook
from raia_provider.models.prompts import PromptFile
from raia_provider.testing import RaiaEmulator, answer_for
from raia_provider.testing.emulator.answers import FAIL_MARKER, FAILURE_MESSAGE
from tests.integration.conftest import FAST_RETRIES

pytestmark = pytest.mark.integration


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def hook(emulator: RaiaEmulator) -> Any:
    hook = RaiaHook(retry_policy=FAST_RETRIES)
    yield hook
    hook.close()


def calls(emulator: RaiaEmulator, method: str, path: str) -> int:
    return len(emulator.requests(method=method, path=path))


# -- blocking half ------------------------------------------------------------------------------------


def test_sync_prompt_returns_the_agents_answer(hook: RaiaHook, emulator: RaiaEmulator) -> None:
    result = hook.process_prompt(prompt="What is our refund window?", token_tracking_id="it-1")
    expected, tokens = answer_for("What is our refund window?", emulator.default_agent.name)
    assert (result.status, result.response, result.total_tokens, result.error) == ("completed", expected, tokens, None)
    (seen,) = emulator.requests(method="POST", path="/external/prompts")
    assert seen.body == {"prompt": "What is our refund window?", "tokenTrackingId": "it-1"}
    assert seen.headers["user-agent"].startswith("airflow-provider-raia/")


def test_sync_prompt_failure_is_reported_not_raised(hook: RaiaHook) -> None:
    result = hook.process_prompt(prompt=f"please {FAIL_MARKER}")
    assert (result.status, result.response, result.error) == ("failed", None, FAILURE_MESSAGE)


@pytest.mark.parametrize("style", ["null", "status"])
def test_async_prompt_pending_then_completed(hook: RaiaHook, emulator: RaiaEmulator, style: str) -> None:
    emulator.configure(prompt_delay=None, pending_style=style)
    job = hook.create_prompt(prompt="Classify: refund request")
    pending = hook.get_prompt_response(prompt_id=job.prompt_id)
    assert pending is None if style == "null" else (pending is not None and pending.status == "pending")
    emulator.complete_prompt(job.prompt_id)
    done = hook.get_prompt_response(prompt_id=job.prompt_id)
    assert done is not None
    assert (done.status, done.response) == (
        "completed",
        answer_for("Classify: refund request", emulator.default_agent.name)[0],
    )


def test_async_prompt_failed(hook: RaiaHook, emulator: RaiaEmulator) -> None:
    emulator.configure(prompt_delay=None)
    job = hook.create_prompt(prompt="x")
    emulator.fail_prompt(job.prompt_id, error="model overloaded")
    result = hook.get_prompt_response(prompt_id=job.prompt_id)
    assert result is not None
    assert (result.status, result.error) == ("failed", "model overloaded")


def test_upload_url_flow_attaches_a_file(hook: RaiaHook, emulator: RaiaEmulator) -> None:
    signed = hook.create_prompt_upload_url(file_name="chart.png", content_type="image/png")
    put = requests.put(signed.signed_url, data=b"\x89PNG...", headers={"Content-Type": "image/png"}, timeout=5)
    assert put.status_code == 200
    result = hook.process_prompt(
        prompt="What does the chart show?",
        files=[PromptFile(file_name="chart.png", storage_path=signed.storage_path)],
    )
    assert result.status == "completed"
    (seen,) = emulator.requests(method="POST", path="/external/prompts")
    assert seen.body["files"] == [{"fileName": "chart.png", "storagePath": signed.storage_path}]


def test_agent_profile_redacts_the_key_raia_sends(hook: RaiaHook, emulator: RaiaEmulator) -> None:
    raw = requests.get(
        f"{emulator.base_url}/agents/by-api-key", headers={"Agent-Secret-Key": emulator.default_key}, timeout=5
    ).json()
    assert emulator.default_key in json.dumps(raw)  # raia really sends it: the redaction below matters
    agent = hook.get_agent()
    assert agent.name == emulator.default_agent.name
    assert emulator.default_key not in json.dumps(agent.to_json_dict())
    assert emulator.default_key not in repr(agent)


def test_test_connection_names_the_agent(hook: RaiaHook, emulator: RaiaEmulator) -> None:
    ok, message = hook.test_connection()
    assert ok, message
    assert emulator.default_agent.name in message


def test_wrong_key_fails_fast_and_clearly(emulator: RaiaEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "sk-wrong-key-123"
    monkeypatch.setenv(
        "AIRFLOW_CONN_RAIA_DEFAULT", json.dumps({"conn_type": "raia", "password": wrong, "host": emulator.base_url})
    )
    ok, message = RaiaHook(retry_policy=FAST_RETRIES).test_connection()
    assert not ok
    assert "HTTP 403 (FORBIDDEN_ERROR INVALID_CREDENTIALS)" in message
    assert wrong not in message
    assert calls(emulator, "GET", "/external/agents/by-api-key") == 1


def test_another_agents_prompt_is_not_found(emulator: RaiaEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator.configure(prompt_delay=None)
    job = RaiaHook(retry_policy=FAST_RETRIES).create_prompt(prompt="secret question")
    other = emulator.add_agent(key="other-agent-key", name="Other")
    monkeypatch.setenv(
        "AIRFLOW_CONN_RAIA_OTHER",
        json.dumps({"conn_type": "raia", "password": other.key, "host": emulator.base_url}),
    )
    with pytest.raises(RaiaNotFoundError, match="ENTITY_NOT_FOUND"):
        RaiaHook("raia_other", retry_policy=FAST_RETRIES).get_prompt_response(prompt_id=job.prompt_id)


@pytest.mark.parametrize(
    ("fault", "extra"),
    [
        ("status", {"status": 503}),
        ("status", {"status": 500}),
        ("html", {}),
        ("reset", {}),
        ("reset_mid_response", {}),
        ("malformed_json", {}),
    ],
)
def test_transient_faults_are_retried_and_nothing_is_lost(
    hook: RaiaHook, emulator: RaiaEmulator, fault: str, extra: dict[str, Any]
) -> None:
    emulator.inject_fault(kind=fault, method="POST", path="/external/prompts", count=2, **extra)  # type: ignore[arg-type]
    result = hook.process_prompt(prompt="still answered?")
    assert result.response == answer_for("still answered?", emulator.default_agent.name)[0]
    assert calls(emulator, "POST", "/external/prompts") == 3


def test_429_waits_retry_after_then_succeeds(emulator: RaiaEmulator) -> None:
    sleeps = Sleeps()
    emulator.inject_fault(kind="status", status=429, retry_after=2, method="POST", path="/external/prompts")
    result = RaiaHook(retry_policy=FAST_RETRIES, sleep=sleeps).process_prompt(prompt="x")
    assert result.status == "completed"
    assert sleeps.waits == [2.0]


def test_rate_limiter_429s_are_survived(emulator: RaiaEmulator) -> None:
    # The emulator's token bucket answers 429 + Retry-After once the burst is spent; the hook really waits.
    emulator.configure(rate_limit=2.0, burst=1)
    hook = RaiaHook(retry_policy=RetryPolicy(max_attempts=5, initial_wait=0.01, jitter=0.0))
    results = [hook.process_prompt(prompt=f"row {i}") for i in range(3)]
    assert [r.status for r in results] == ["completed"] * 3
    statuses = [r.status for r in emulator.requests(method="POST", path="/external/prompts")]
    assert statuses.count(200) == 3
    assert statuses.count(429) >= 1


def test_persistent_5xx_gives_up_after_the_policy(hook: RaiaHook, emulator: RaiaEmulator) -> None:
    emulator.inject_fault(kind="status", status=502, method="POST", path="/external/prompts", count=10)
    with pytest.raises(RaiaServerError, match="HTTP 502"):
        hook.process_prompt(prompt="x")
    assert calls(emulator, "POST", "/external/prompts") == FAST_RETRIES.max_attempts


def test_read_timeout_is_typed(emulator: RaiaEmulator) -> None:
    emulator.inject_fault(kind="slow", delay=2.0, method="POST", path="/external/prompts", count=2)
    hook = RaiaHook(retry_policy=RetryPolicy(max_attempts=2, initial_wait=0.01, jitter=0.0), read_timeout=0.3)
    with pytest.raises(RaiaTimeoutError, match=r"read 0\.3 s"):
        hook.process_prompt(prompt="x")


def test_connection_refused_is_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as probe:  # a port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(
        "AIRFLOW_CONN_RAIA_DEFAULT",
        json.dumps({"conn_type": "raia", "password": "k", "host": f"http://127.0.0.1:{port}/external"}),
    )
    with pytest.raises(RaiaConnectionError, match=r"got no answer from http://127\.0\.0\.1"):
        RaiaHook(retry_policy=RetryPolicy(max_attempts=2, initial_wait=0.01, jitter=0.0)).process_prompt(prompt="x")


def test_bad_input_sends_nothing(hook: RaiaHook, emulator: RaiaEmulator) -> None:
    with pytest.raises(RaiaInputError):
        hook.process_prompt(prompt=" \n ")
    assert emulator.requests() == []


def test_key_appears_in_no_log_or_error(emulator: RaiaEmulator, caplog: pytest.LogCaptureFixture) -> None:
    key = emulator.default_key
    errors: list[str] = []
    with caplog.at_level(logging.DEBUG):
        hook = RaiaHook(retry_policy=FAST_RETRIES)
        emulator.inject_fault(kind="status", status=503, method="*", path="*", count=2)
        hook.process_prompt(prompt="x")
        emulator.inject_fault(kind="reset", method="*", path="*", count=10)
        for call in (lambda: hook.process_prompt(prompt="y"), lambda: hook.get_prompt_response(prompt_id="nope")):
            try:
                call()
            except Exception as exc:  # every failure path, whatever its type
                errors.append(f"{exc!r} {exc}")
        emulator.clear_faults()
        try:
            hook.get_prompt_response(prompt_id="nope")
        except RaiaNotFoundError as exc:
            errors.append(str(exc))
    assert len(errors) == 3
    assert key not in caplog.text
    assert all(key not in text for text in errors)
    assert key not in json.dumps([r.__dict__ for r in emulator.requests()], default=str)


# -- async half ---------------------------------------------------------------------------------------


async def test_async_half_polls_to_completion(emulator: RaiaEmulator) -> None:
    emulator.configure(prompt_delay=None)
    hook = RaiaHook(retry_policy=FAST_RETRIES)
    try:
        job = await hook.acreate_prompt(prompt="async question")
        assert await hook.aget_prompt_response(prompt_id=job.prompt_id) is None
        emulator.complete_prompt(job.prompt_id)
        done = await hook.aget_prompt_response(prompt_id=job.prompt_id)
        assert done is not None
        assert done.response == answer_for("async question", emulator.default_agent.name)[0]
    finally:
        await hook.aclose()


async def test_async_half_retries_faults(emulator: RaiaEmulator) -> None:
    sleeps = Sleeps()
    emulator.inject_fault(kind="reset", method="GET", path="/external/agents/by-api-key")
    emulator.inject_fault(kind="status", status=429, retry_after=1, method="GET", path="/external/agents/by-api-key")
    hook = RaiaHook(retry_policy=FAST_RETRIES, async_sleep=sleeps.asleep)
    try:
        agent = await hook.aget_agent()
    finally:
        await hook.aclose()
    assert agent.name == emulator.default_agent.name
    assert sleeps.waits == [0.01, 1.0]
    assert calls(emulator, "GET", "/external/agents/by-api-key") == 3


async def test_async_half_many_concurrent_polls_share_one_client(emulator: RaiaEmulator) -> None:
    emulator.configure(prompt_delay=0.0)
    hook = RaiaHook(retry_policy=FAST_RETRIES)
    try:
        jobs = [await hook.acreate_prompt(prompt=f"q{i}") for i in range(20)]
        results = await asyncio.gather(*(hook.aget_prompt_response(prompt_id=j.prompt_id) for j in jobs))
    finally:
        await hook.aclose()
    assert [r.response if r else None for r in results] == [
        answer_for(f"q{i}", emulator.default_agent.name)[0] for i in range(20)
    ]
