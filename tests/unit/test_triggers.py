"""``RaiaPromptTrigger`` and ``RaiaMessageReplyTrigger`` in the event loop, mocked (``tests.aiohttp_mock``)."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from typing import Any

import aiohttp
import pytest

from raia_provider._core.async_transport import AsyncTransport, shared_client_users
from raia_provider._core.retry import RetryPolicy
from raia_provider.triggers.raia import RaiaMessageReplyTrigger, RaiaPromptTrigger
from tests.aiohttp_mock import Reply, mock_raia
from tests.conftest import TEST_KEY, UNIT_BASE_URL
from tests.unit.payloads import ANSWER_MESSAGE, COMPLETED, FAILED, FORBIDDEN, PENDING, SERVER_ERROR

pytestmark = pytest.mark.usefixtures("unit_connection")

PROMPT_POLL = "/prompts/p-1/response-on"
REPLY_POLL = "/conversations/c-1/messages/m-1/response-on"
NO_WAITS = RetryPolicy(max_attempts=3, initial_wait=0, max_wait=0, jitter=0)


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Failed reads are retried at once (three in a row end the wait)."""
    monkeypatch.setattr(RaiaPromptTrigger, "retry_policy", NO_WAITS)
    monkeypatch.setattr(RaiaMessageReplyTrigger, "retry_policy", NO_WAITS)


class FakeWallClock:
    """The provider's wall clock and coroutine sleep, moved by the waits themselves: no real time passes."""

    def __init__(self) -> None:
        self.time = 1_000_000.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.time

    async def asleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.time += seconds
        await asyncio.sleep(0)  # still a suspension point, like the real sleep


@pytest.fixture
def wall_clock(monkeypatch: pytest.MonkeyPatch) -> FakeWallClock:
    fake = FakeWallClock()
    monkeypatch.setattr("raia_provider._core.clock.now", fake.now)
    monkeypatch.setattr("raia_provider._core.clock.asleep", fake.asleep)
    return fake


@pytest.fixture
def mocked() -> Any:
    with mock_raia(UNIT_BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
def closes(monkeypatch: pytest.MonkeyPatch) -> list[aiohttp.ClientSession]:
    """The aiohttp session of every ``AsyncTransport.aclose``, in order (closed once its last user let go)."""
    closed: list[aiohttp.ClientSession] = []
    original = AsyncTransport.aclose

    async def spy(self: AsyncTransport) -> None:
        client = self._session
        await original(self)
        if client is not None:
            closed.append(client)

    monkeypatch.setattr(AsyncTransport, "aclose", spy)
    return closed


def prompt_trigger(end_time: float | None = None, poll_interval: float = 0.0) -> RaiaPromptTrigger:
    return RaiaPromptTrigger(
        prompt_id="p-1",
        conn_id="raia_default",
        poll_interval=poll_interval,
        end_time=time.time() + 600 if end_time is None else end_time,
    )


def reply_trigger(end_time: float | None = None) -> RaiaMessageReplyTrigger:
    return RaiaMessageReplyTrigger(
        conversation_id="c-1",
        question_message_id="m-1",
        conn_id="raia_default",
        poll_interval=0.0,
        end_time=time.time() + 600 if end_time is None else end_time,
    )


async def only_event(trigger: Any) -> dict[str, Any]:
    """Run the trigger to its end; it must yield exactly one event, whose payload is returned."""
    events = [event async for event in trigger.run()]
    assert len(events) == 1, events
    payload: dict[str, Any] = events[0].payload
    assert TEST_KEY not in json.dumps(payload)
    return payload


def responses_of(*bodies: tuple[int, Any]) -> list[Reply]:
    return [Reply(status, json=body) for status, body in bodies]


# -- serialization ------------------------------------------------------------------------------------------


def rebuild(trigger: Any) -> Any:
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)(**kwargs)


def test_prompt_trigger_serializes_ids_conn_interval_deadline_only() -> None:
    trigger = RaiaPromptTrigger(prompt_id="p-1", conn_id="raia_x", poll_interval=7, end_time=1234.5)
    classpath, kwargs = trigger.serialize()
    assert classpath == "raia_provider.triggers.raia.RaiaPromptTrigger"
    assert kwargs == {"prompt_id": "p-1", "conn_id": "raia_x", "poll_interval": 7.0, "end_time": 1234.5}
    rebuilt = rebuild(trigger)
    assert type(rebuilt) is RaiaPromptTrigger
    assert rebuilt.serialize() == (classpath, kwargs)


def test_message_trigger_serializes_ids_conn_interval_deadline_only() -> None:
    trigger = RaiaMessageReplyTrigger(
        conversation_id="c-1", question_message_id="m-1", conn_id="raia_x", poll_interval=2.5, end_time=99
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "raia_provider.triggers.raia.RaiaMessageReplyTrigger"
    assert kwargs == {
        "conversation_id": "c-1",
        "question_message_id": "m-1",
        "conn_id": "raia_x",
        "poll_interval": 2.5,
        "end_time": 99.0,
    }
    rebuilt = rebuild(trigger)
    assert type(rebuilt) is RaiaMessageReplyTrigger
    assert rebuilt.serialize() == (classpath, kwargs)


async def test_serialized_kwargs_never_hold_the_key_even_after_a_run(mocked: Any) -> None:
    mocked.get(PROMPT_POLL).respond(200, json=COMPLETED)
    trigger = prompt_trigger()
    await only_event(trigger)  # the hook has read the connection (and its key) by now
    classpath, kwargs = trigger.serialize()
    assert set(kwargs) == {"prompt_id", "conn_id", "poll_interval", "end_time"}
    assert TEST_KEY not in json.dumps([classpath, kwargs])


# -- the prompt trigger ----------------------------------------------------------------------------------------


async def test_success(mocked: Any) -> None:
    route = mocked.get(PROMPT_POLL).respond(200, json=COMPLETED)
    event = await only_event(prompt_trigger())
    assert event == {
        "status": "success",
        "kind": "prompt",
        "prompt_id": "p-1",
        "message": "The prompt p-1 is completed.",
        "result": {"response": "42", "total_tokens": 12, "status": "completed", "prompt_id": "p-1"},
    }
    assert route.call_count == 1
    assert route.calls[0].request.headers["Agent-Secret-Key"] == TEST_KEY


async def test_failed_carries_raias_error_text(mocked: Any) -> None:
    mocked.get(PROMPT_POLL).respond(200, json=FAILED)
    event = await only_event(prompt_trigger())
    assert event["status"] == "failed"
    assert event["error"] == "model overloaded"
    assert "model overloaded" in event["message"]
    assert "result" not in event


@pytest.mark.parametrize("not_ready", [None, PENDING], ids=["null", "pending"])
async def test_not_ready_then_completed(mocked: Any, not_ready: Any) -> None:
    route = mocked.get(PROMPT_POLL).mock(side_effect=responses_of((200, not_ready), (200, not_ready), (200, COMPLETED)))
    event = await only_event(prompt_trigger())
    assert (event["status"], event["result"]["response"]) == ("success", "42")
    assert route.call_count == 3


async def test_pending_body_missing_the_specs_required_fields_is_a_contract_error(mocked: Any) -> None:
    # The spec marks status, totalTokens, response and error all required (three nullable): a bare
    # {"status": "pending"} is not raia's contract, and is reported once instead of being polled forever.
    route = mocked.get(PROMPT_POLL).mock(side_effect=responses_of((200, {"status": "pending"}), (200, COMPLETED)))
    event = await only_event(prompt_trigger())
    assert event["status"] == "error"
    assert "does not match its published contract" in event["message"]
    assert route.call_count == 1


@pytest.mark.parametrize("end_time", [0.0, -1.0, 0.25], ids=["now", "past", "near"])
async def test_timeout(mocked: Any, wall_clock: FakeWallClock, end_time: float) -> None:
    route = mocked.get(PROMPT_POLL).mock(return_value=Reply(200, json=None))
    event = await only_event(prompt_trigger(end_time=wall_clock.now() + end_time, poll_interval=1.0))
    assert event["status"] == "timeout"
    assert event["message"] == "The prompt p-1 was still pending when the wait timed out."
    # One read, then (for a deadline still ahead) a sleep cut to the deadline and one last read.
    assert wall_clock.slept == ([end_time] if end_time > 0 else [])
    assert route.call_count == (2 if end_time > 0 else 1)


async def test_timeout_after_a_few_pending_reads(mocked: Any, wall_clock: FakeWallClock) -> None:
    route = mocked.get(PROMPT_POLL).mock(return_value=Reply(200, json=None))
    event = await only_event(prompt_trigger(end_time=wall_clock.now() + 1.0, poll_interval=0.25))
    assert event["status"] == "timeout"
    assert wall_clock.slept == [0.25] * 4  # read at 0, 0.25, 0.5, 0.75 and 1.0 s: then the deadline has come
    assert route.call_count == 5


async def test_transient_503_then_success(mocked: Any) -> None:
    route = mocked.get(PROMPT_POLL).mock(side_effect=responses_of((503, SERVER_ERROR), (200, COMPLETED)))
    event = await only_event(prompt_trigger())
    assert event["status"] == "success"
    assert route.call_count == 2


async def test_persistent_503_gives_an_error_event(mocked: Any) -> None:
    route = mocked.get(PROMPT_POLL).respond(503, json=SERVER_ERROR)
    event = await only_event(prompt_trigger())
    assert event["status"] == "error"
    assert "after 3 failed reads" in event["message"]
    assert route.call_count == 3


async def test_403_gives_an_error_event_at_once(mocked: Any) -> None:
    route = mocked.get(PROMPT_POLL).respond(403, json=FORBIDDEN)
    event = await only_event(prompt_trigger())
    assert event["status"] == "error"
    assert "INVALID_CREDENTIALS" in event["message"]
    assert route.call_count == 1


@pytest.mark.parametrize("status", ["weird", "succeeded"])
async def test_unknown_status_gives_an_error_event(mocked: Any, status: str) -> None:
    route = mocked.get(PROMPT_POLL).respond(200, json={**COMPLETED, "status": status})
    event = await only_event(prompt_trigger())
    assert event["status"] == "error"
    assert "result" not in event
    assert route.call_count >= 1


async def test_key_echoed_in_an_error_body_never_reaches_the_event(mocked: Any) -> None:
    echo = {**FORBIDDEN, "message": f"INVALID_CREDENTIALS for key {TEST_KEY}", "details": [TEST_KEY]}
    mocked.get(PROMPT_POLL).respond(403, json=echo)
    event = await only_event(prompt_trigger())
    assert event["status"] == "error"
    assert "INVALID_CREDENTIALS" in event["message"]
    assert TEST_KEY not in event["message"]
    assert "***" in event["message"]


async def test_key_echoed_in_a_failed_prompts_error_never_reaches_the_message(mocked: Any) -> None:
    mocked.get(PROMPT_POLL).respond(200, json={**FAILED, "error": f"upstream refused {TEST_KEY}"})
    events = [event async for event in prompt_trigger().run()]
    assert len(events) == 1
    assert events[0].payload["status"] == "failed"
    assert TEST_KEY not in events[0].payload["message"]


async def test_key_echoed_in_a_failed_prompts_error_never_reaches_any_event_field(mocked: Any) -> None:
    mocked.get(PROMPT_POLL).respond(200, json={**FAILED, "error": f"upstream refused {TEST_KEY}"})
    events = [event async for event in prompt_trigger().run()]
    assert len(events) == 1
    assert TEST_KEY not in json.dumps(events[0].payload)


async def test_hook_client_is_closed_after_the_run(mocked: Any, closes: list[aiohttp.ClientSession]) -> None:
    mocked.get(PROMPT_POLL).respond(200, json=COMPLETED)
    trigger = prompt_trigger()
    await only_event(trigger)
    assert trigger._hook is not None
    assert trigger._hook._async_transport is None
    assert len(closes) == 1
    assert closes[0].closed


async def test_hook_client_is_closed_after_an_error_too(mocked: Any, closes: list[aiohttp.ClientSession]) -> None:
    mocked.get(PROMPT_POLL).respond(403, json=FORBIDDEN)
    trigger = prompt_trigger()
    assert (await only_event(trigger))["status"] == "error"
    assert len(closes) == 1
    assert closes[0].closed


async def test_hook_client_is_closed_when_the_triggerer_cancels(
    mocked: Any, closes: list[aiohttp.ClientSession]
) -> None:
    route = mocked.get(PROMPT_POLL).mock(return_value=Reply(200, json=None))
    trigger = prompt_trigger(poll_interval=3600.0)
    task = asyncio.ensure_future(only_event(trigger))
    deadline = time.monotonic() + 10
    while route.call_count == 0:  # the first read is sent, then the trigger sleeps an hour
        assert time.monotonic() < deadline, "the trigger never polled"
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(closes) == 1
    assert closes[0].closed


async def test_one_triggers_cleanup_leaves_the_shared_client_to_a_trigger_still_polling(mocked: Any) -> None:
    # Both wait on one loop, as in the triggerer, and so share its aiohttp session.
    mocked.get(PROMPT_POLL).respond(200, json=COMPLETED)
    slow = mocked.get("/prompts/p-2/response-on").mock(
        side_effect=responses_of((200, None), (200, None), (200, None), (200, COMPLETED))
    )
    quick = prompt_trigger(poll_interval=0.0)
    patient = RaiaPromptTrigger(prompt_id="p-2", conn_id="raia_default", poll_interval=0.05, end_time=time.time() + 60)
    waiting = asyncio.ensure_future(only_event(patient))
    assert (await only_event(quick))["status"] == "success"  # ... and cleaned up, while the other waits
    assert not waiting.done()
    event = await asyncio.wait_for(waiting, 10)
    assert (event["status"], event["prompt_id"], slow.call_count) == ("success", "p-2", 4)
    assert shared_client_users() == 0  # the last cleanup closed the loop's client


async def test_a_cancelled_trigger_leaves_the_shared_client_to_the_others(
    mocked: Any, closes: list[aiohttp.ClientSession]
) -> None:
    first = mocked.get(PROMPT_POLL).mock(return_value=Reply(200, json=None))
    second = mocked.get("/prompts/p-2/response-on").mock(return_value=Reply(200, json=None))
    cancelled = asyncio.ensure_future(only_event(prompt_trigger(poll_interval=0.01)))
    other = RaiaPromptTrigger(prompt_id="p-2", conn_id="raia_default", poll_interval=0.01, end_time=time.time() + 60)
    kept = asyncio.ensure_future(only_event(other))
    deadline = time.monotonic() + 10
    while first.call_count < 2 or second.call_count < 2:
        assert time.monotonic() < deadline, "the triggers never polled"
        await asyncio.sleep(0.005)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert len(closes) == 1
    assert not closes[0].closed  # released, not closed: the other trigger still uses it
    polls = second.call_count
    while second.call_count < polls + 2:  # the other keeps polling through the same client
        assert time.monotonic() < deadline, "the remaining trigger stopped polling"
        await asyncio.sleep(0.005)
    mocked.get("/prompts/p-2/response-on").respond(200, json=COMPLETED)
    assert (await asyncio.wait_for(kept, 10))["status"] == "success"
    assert closes[-1] is closes[0]
    assert closes[0].closed


# -- the message reply trigger --------------------------------------------------------------------------------


async def test_message_reply_running_then_completed(mocked: Any) -> None:
    running = {"status": "running"}  # raia's release-notes vocabulary, read as pending
    done = {"status": "completed", "message": ANSWER_MESSAGE, "error": None}
    route = mocked.get(REPLY_POLL).mock(side_effect=responses_of((200, running), (200, done)))
    event = await only_event(reply_trigger())
    assert event == {
        "status": "success",
        "kind": "message",
        "conversation_id": "c-1",
        "question_message_id": "m-1",
        "message": "The reply to message m-1 in conversation c-1 is completed.",
        "result": {
            "conversation_id": "c-1",
            "question_message_id": "m-1",
            "status": "completed",
            "response": "It ships tomorrow.",
            "message_id": "m-2",
        },
    }
    assert route.call_count == 2


async def test_message_reply_error_vocabulary_is_failed(mocked: Any) -> None:
    mocked.get(REPLY_POLL).respond(200, json={"status": "error", "error": "agent unavailable"})
    event = await only_event(reply_trigger())
    assert (event["status"], event["error"]) == ("failed", "agent unavailable")
    assert event["kind"] == "message"


async def test_key_echoed_in_a_failed_replys_error_never_reaches_the_event(mocked: Any) -> None:
    mocked.get(REPLY_POLL).respond(200, json={"status": "failed", "message": None, "error": f"bad {TEST_KEY}"})
    event = await only_event(reply_trigger())  # only_event checks the whole payload for the key
    assert (event["status"], event["error"]) == ("failed", "bad ***")


async def test_message_reply_timeout(mocked: Any) -> None:
    mocked.get(REPLY_POLL).respond(200, json={"status": "pending", "message": None, "error": None})
    event = await only_event(reply_trigger(end_time=time.time() - 1))
    assert event["status"] == "timeout"
    assert (event["conversation_id"], event["question_message_id"]) == ("c-1", "m-1")


async def test_message_reply_unknown_status_gives_an_error_event(mocked: Any) -> None:
    mocked.get(REPLY_POLL).respond(200, json={"status": "weird", "message": None, "error": None})
    event = await only_event(reply_trigger())
    assert event["status"] == "error"
