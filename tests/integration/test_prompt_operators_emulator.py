"""The waiting tasks against the emulator over real sockets: triggers, the poking sensor, the deferred message."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import PokeReturnValue, TaskDeferred

from raia_provider.hooks.raia import RaiaHook
from raia_provider.operators.message import RaiaSendMessageOperator
from raia_provider.sensors.raia import RaiaPromptSensor
from raia_provider.testing import RaiaEmulator
from raia_provider.triggers.raia import RaiaMessageReplyTrigger, RaiaPromptTrigger
from tests.integration.conftest import FAST_RETRIES
from tests.task_doubles import FakeTI

pytestmark = pytest.mark.integration

#: Upper bound on any wait for the emulator or a trigger; a healthy run takes milliseconds.
BOUND = 15.0


@pytest.fixture
def hook(emulator: RaiaEmulator) -> Iterator[RaiaHook]:
    hook = RaiaHook(retry_policy=FAST_RETRIES)
    yield hook
    hook.close()


@pytest.fixture(autouse=True)
def fast_trigger_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RaiaPromptTrigger, "retry_policy", FAST_RETRIES)
    monkeypatch.setattr(RaiaMessageReplyTrigger, "retry_policy", FAST_RETRIES)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait (in the event loop, so a trigger task keeps running) until ``condition`` holds, within BOUND."""
    deadline = time.monotonic() + BOUND
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.005)


async def collect(trigger: Any) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]


def polls(emulator: RaiaEmulator, path: str) -> int:
    return len([r for r in emulator.requests("GET", path) if r.status == 200])


@pytest.mark.parametrize("pending_style", ["null", "status"])
async def test_prompt_trigger_waits_until_the_prompt_is_completed(
    emulator: RaiaEmulator, hook: RaiaHook, pending_style: str
) -> None:
    emulator.configure(prompt_delay=None, pending_style=pending_style)  # type: ignore[arg-type]
    prompt_id = hook.create_prompt(prompt="What is the answer?").prompt_id
    trigger = RaiaPromptTrigger(
        prompt_id=prompt_id, conn_id="raia_default", poll_interval=0.02, end_time=time.time() + BOUND
    )
    path = f"/external/prompts/{prompt_id}/response-on"
    task = asyncio.ensure_future(collect(trigger))
    await until(lambda: polls(emulator, path) >= 2, "two pending polls")
    assert not task.done()  # still pending: the trigger keeps polling
    emulator.complete_prompt(prompt_id, response="forty-two", total_tokens=5)
    events = await asyncio.wait_for(task, BOUND)
    assert len(events) == 1
    event = events[0]
    assert (event["status"], event["prompt_id"]) == ("success", prompt_id)
    assert event["result"] == {
        "response": "forty-two",
        "total_tokens": 5,
        "status": "completed",
        "prompt_id": prompt_id,
    }
    assert emulator.default_key not in str(event)
    assert trigger._hook is not None
    assert trigger._hook._async_transport is None  # the client was closed


async def test_prompt_trigger_reports_a_failed_prompt(emulator: RaiaEmulator, hook: RaiaHook) -> None:
    emulator.configure(prompt_delay=None)
    prompt_id = hook.create_prompt(prompt="Will this fail?").prompt_id
    trigger = RaiaPromptTrigger(
        prompt_id=prompt_id, conn_id="raia_default", poll_interval=0.02, end_time=time.time() + BOUND
    )
    task = asyncio.ensure_future(collect(trigger))
    await until(lambda: polls(emulator, f"/external/prompts/{prompt_id}/response-on") >= 1, "a poll")
    emulator.fail_prompt(prompt_id, error="the model is overloaded")
    (event,) = await asyncio.wait_for(task, BOUND)
    assert (event["status"], event["error"]) == ("failed", "the model is overloaded")


async def test_prompt_trigger_rides_out_a_transient_fault(emulator: RaiaEmulator, hook: RaiaHook) -> None:
    emulator.configure(prompt_delay=None)
    prompt_id = hook.create_prompt(prompt="Still there?").prompt_id
    path = f"/external/prompts/{prompt_id}/response-on"
    emulator.inject_fault(kind="status", status=503, method="GET", path=path, count=2)
    trigger = RaiaPromptTrigger(
        prompt_id=prompt_id, conn_id="raia_default", poll_interval=0.02, end_time=time.time() + BOUND
    )
    task = asyncio.ensure_future(collect(trigger))
    await until(lambda: polls(emulator, path) >= 1, "a successful poll after the faults")
    emulator.complete_prompt(prompt_id)
    (event,) = await asyncio.wait_for(task, BOUND)
    assert event["status"] == "success"
    assert [r.status for r in emulator.requests("GET", path)][:2] == [503, 503]


async def test_prompt_trigger_times_out_on_a_prompt_that_stays_pending(emulator: RaiaEmulator, hook: RaiaHook) -> None:
    emulator.configure(prompt_delay=None)
    prompt_id = hook.create_prompt(prompt="Never answered").prompt_id
    trigger = RaiaPromptTrigger(prompt_id=prompt_id, conn_id="raia_default", poll_interval=0.02, end_time=time.time())
    (event,) = await asyncio.wait_for(collect(trigger), BOUND)
    assert event["status"] == "timeout"
    assert polls(emulator, f"/external/prompts/{prompt_id}/response-on") == 1


def test_blocking_sensor_pokes_false_then_returns_the_answer(emulator: RaiaEmulator, hook: RaiaHook) -> None:
    emulator.configure(prompt_delay=None)
    prompt_id = hook.create_prompt(prompt="What is 6 x 7?").prompt_id
    sensor = RaiaPromptSensor(task_id="wait", prompt_id=prompt_id, poke_interval=1)
    assert sensor.poke({}) is False  # type: ignore[arg-type]
    assert sensor.poke({}) is False  # type: ignore[arg-type]
    emulator.complete_prompt(prompt_id, response="42", total_tokens=7)
    done = sensor.poke({})  # type: ignore[arg-type]
    assert isinstance(done, PokeReturnValue)
    assert done.is_done is True
    assert done.xcom_value == {"response": "42", "total_tokens": 7, "status": "completed", "prompt_id": prompt_id}
    assert len(emulator.requests("GET", f"/external/prompts/{prompt_id}/response-on")) == 3
    sensor.hook.close()


@pytest.mark.parametrize("vocabulary", ["spec", "release_notes"])
async def test_send_message_deferrable_defers_and_its_trigger_returns_the_reply(
    emulator: RaiaEmulator, vocabulary: str
) -> None:
    emulator.configure(message_delay=None, message_status_vocabulary=vocabulary)  # type: ignore[arg-type]
    user = emulator.seed_user("Ada", "Lovelace", email="ada@example.com")
    conversation = emulator.seed_conversation(user.id, title="Order")
    operator = RaiaSendMessageOperator(
        task_id="send",
        conversation_id=conversation.id,
        message="Where is my parcel?",
        deferrable=True,
        poll_interval=0.02,
        timeout=BOUND,
    )
    context: dict[str, Any] = {"ti": FakeTI()}
    with pytest.raises(TaskDeferred) as caught:
        await asyncio.to_thread(operator.execute, context)  # type: ignore[arg-type]
    operator.hook.close()
    trigger = caught.value.trigger
    assert isinstance(trigger, RaiaMessageReplyTrigger)
    question_id = trigger.question_message_id
    assert context["ti"].pushed == [("question_message_id", question_id)]
    assert len(emulator.requests("POST", f"/external/conversations/{conversation.id}/messages/async")) == 1

    path = f"/external/conversations/{conversation.id}/messages/{question_id}/response-on"
    task = asyncio.ensure_future(collect(trigger))
    await until(lambda: polls(emulator, path) >= 1, "a pending reply poll")
    assert not task.done()
    emulator.complete_message(question_id, response="It ships tomorrow.")
    (event,) = await asyncio.wait_for(task, BOUND)
    result = operator.execute_complete(context, event)  # type: ignore[arg-type]
    assert result["response"] == "It ships tomorrow."
    assert (result["conversation_id"], result["question_message_id"], result["status"]) == (
        conversation.id,
        question_id,
        "completed",
    )
    assert result["message_id"]
    assert result["message_id"] != question_id
    replies = [m for m in emulator.messages(conversation.id) if m.id == result["message_id"]]
    assert len(replies) == 1
