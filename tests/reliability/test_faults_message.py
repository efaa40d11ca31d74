"""Fault matrix, column ``RaiaSendMessageOperator``: the blocking ``POST /conversations/{id}/messages`` under
every fault, and the deferrable path's reply poll (``GET …/messages/{questionMessageId}/response-on``) read by
``RaiaMessageReplyTrigger``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from raia_provider.exceptions import (
    RaiaMessageFailedError,
    RaiaNotFoundError,
    RaiaPollError,
    RaiaServerError,
    RaiaTimeoutError,
    RaiaWaitTimeoutError,
)
from raia_provider.hooks.raia import RaiaHook
from raia_provider.operators.message import RaiaSendMessageOperator
from raia_provider.testing import RaiaEmulator
from raia_provider.testing.emulator.answers import FAIL_MARKER
from raia_provider.testing.emulator.records import Conversation
from raia_provider.triggers.raia import RaiaMessageReplyTrigger
from tests.reliability.fault_matrix import (
    ATTEMPTS,
    BURST,
    PERMANENT,
    READ_TIMEOUT,
    REFUSED,
    TRANSIENT,
    Column,
    FaultRow,
    Waits,
    assert_backoff,
    covers,
    hits,
    params,
    refuse_connections,
    settle,
)
from tests.task_doubles import FakeStateStore, FakeTI

pytestmark = pytest.mark.integration

COLUMN = Column("RaiaSendMessageOperator")
POST = "/external/conversations/{id}/messages"
POST_ASYNC = "/external/conversations/{id}/messages/async"
POLL = "/external/conversations/{id}/messages/{id}/response-on"
RETRIED = [row for row in TRANSIENT if row.id != "read-timeout"]
QUESTION = "Where is my parcel?"
#: Upper bound on a trigger's run; a healthy one takes milliseconds (a read-timeout row a few seconds).
BOUND = 15.0


@pytest.fixture
def conversation(matrix_emulator: RaiaEmulator) -> Conversation:
    user = matrix_emulator.seed_user("Ada", "Lovelace", email="ada@example.com")
    return matrix_emulator.seed_conversation(user.id, title="Order")


def send(conversation_id: str, message: str = QUESTION, **kwargs: Any) -> dict[str, Any]:
    """The blocking path."""
    operator = RaiaSendMessageOperator(task_id="send", conversation_id=conversation_id, message=message, **kwargs)
    try:
        context: dict[str, Any] = {"ti": FakeTI()}
        result: dict[str, Any] = operator.execute(context)  # type: ignore[arg-type]
        return result
    finally:
        operator.hook.close()


def questions(emulator: RaiaEmulator, conversation_id: str) -> int:
    """How many user messages the conversation holds (each one raia processed and answered)."""
    return len([m for m in emulator.messages(conversation_id) if m.sender_role == "conversation_user"])


def deferrable(conversation_id: str, message: str = QUESTION, **kwargs: Any) -> RaiaSendMessageOperator:
    arguments: dict[str, Any] = {"poll_interval": 0.01, **kwargs}
    return RaiaSendMessageOperator(
        task_id="send", conversation_id=conversation_id, message=message, deferrable=True, **arguments
    )


async def defer(operator: RaiaSendMessageOperator, context: dict[str, Any]) -> RaiaMessageReplyTrigger:
    """Run the deferrable path's ``execute`` (in a thread, as a worker would) up to its deferral."""
    with pytest.raises(TaskDeferred) as caught:
        await asyncio.to_thread(operator.execute, context)  # type: ignore[arg-type]
    operator.hook.close()
    trigger = caught.value.trigger
    assert isinstance(trigger, RaiaMessageReplyTrigger)
    return trigger


async def run(trigger: RaiaMessageReplyTrigger) -> dict[str, Any]:
    """Run the trigger to its one event."""
    events = await asyncio.wait_for(_collect(trigger), BOUND)
    (event,) = events
    return event


async def _collect(trigger: RaiaMessageReplyTrigger) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]


def task_context(store: FakeStateStore | None = None) -> dict[str, Any]:
    return {"ti": FakeTI(), "task_state_store": store if store is not None else FakeStateStore()}


# -- blocking path: POST /conversations/{id}/messages ----------------------------------------------------


@pytest.mark.parametrize("row", params(RETRIED))
def test_a_burst_is_retried_and_answered(
    row: FaultRow, matrix_emulator: RaiaEmulator, conversation: Conversation, waits: Waits
) -> None:
    row.inject(matrix_emulator, "POST", POST, count=BURST)

    result = send(conversation.id)

    settle(matrix_emulator)
    assert result["status"] == "completed"
    assert result["response"]
    assert len(hits(matrix_emulator, "POST", POST)) == BURST + 1
    assert_backoff(waits.seconds, row, failures=BURST)
    # A reply lost after raia processed the message is asked again: the conversation holds the message twice.
    assert questions(matrix_emulator, conversation.id) == 1 + (BURST if row.took_effect else 0)


@pytest.mark.parametrize("row", params(RETRIED))
def test_a_lasting_fault_fails_after_the_policys_attempts(
    row: FaultRow, matrix_emulator: RaiaEmulator, conversation: Conversation, waits: Waits
) -> None:
    row.inject(matrix_emulator, "POST", POST, count=ATTEMPTS)

    with pytest.raises(row.error) as raised:  # type: ignore[arg-type]
        send(conversation.id)

    settle(matrix_emulator)
    assert "POST /conversations/" in str(raised.value)
    assert len(hits(matrix_emulator, "POST", POST)) == ATTEMPTS
    assert_backoff(waits.seconds, row, failures=ATTEMPTS - 1)
    assert questions(matrix_emulator, conversation.id) == (ATTEMPTS if row.took_effect else 0)


@covers("read-timeout")
def test_a_read_timeout_is_the_tasks_timeout_and_is_not_retried(
    matrix_emulator: RaiaEmulator, conversation: Conversation, waits: Waits
) -> None:
    (row,) = (row for row in TRANSIENT if row.id == "read-timeout")
    row.inject(matrix_emulator, "POST", POST, count=ATTEMPTS)

    with pytest.raises(RaiaTimeoutError) as raised:
        send(conversation.id, timeout=READ_TIMEOUT)

    settle(matrix_emulator)
    assert "timed out" in str(raised.value)
    assert len(hits(matrix_emulator, "POST", POST)) == 1
    assert waits.seconds == []
    # raia went on and answered the message nobody waited for.
    assert questions(matrix_emulator, conversation.id) == 1


@covers("refused")
def test_connection_refused_is_retried_then_fails(
    matrix_emulator: RaiaEmulator, conversation: Conversation, waits: Waits, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_connections(monkeypatch, matrix_emulator.default_key)

    with pytest.raises(REFUSED.error) as raised:  # type: ignore[arg-type]
        send(conversation.id)

    assert "got no answer" in str(raised.value)
    assert_backoff(waits.seconds, REFUSED, failures=ATTEMPTS - 1)
    assert matrix_emulator.requests() == []


@pytest.mark.parametrize("row", params(PERMANENT))
def test_a_refusal_fails_at_once(
    row: FaultRow, matrix_emulator: RaiaEmulator, conversation: Conversation, waits: Waits
) -> None:
    row.inject(matrix_emulator, "POST", POST, count=ATTEMPTS)

    with pytest.raises(row.error) as raised:  # type: ignore[arg-type]
        send(conversation.id)

    assert str(row.status) in str(raised.value)
    assert len(hits(matrix_emulator, "POST", POST)) == 1
    assert waits.seconds == []
    assert questions(matrix_emulator, conversation.id) == 0


@covers("prompt-failed")
def test_a_failed_reply_is_raias_500_and_is_retried_like_one(
    matrix_emulator: RaiaEmulator, conversation: Conversation, waits: Waits
) -> None:
    # raia documents only 201 and 500 for the synchronous message: a reply it fails is a 500 body, which the
    # blocking path cannot tell from a server fault, so it is retried and every attempt stores the question.
    with pytest.raises(RaiaServerError) as raised:
        send(conversation.id, message=f"Where is my parcel? {FAIL_MARKER}")

    assert "HTTP 500" in str(raised.value)
    assert len(hits(matrix_emulator, "POST", POST)) == ATTEMPTS
    assert len(waits.seconds) == ATTEMPTS - 1
    assert questions(matrix_emulator, conversation.id) == ATTEMPTS


@covers("vanished-id")
def test_an_unknown_conversation_is_a_real_404(matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    with pytest.raises(RaiaNotFoundError) as raised:
        send("3f1c2a9e-0000-4000-8000-00000000dead")

    assert "HTTP 404" in str(raised.value)
    assert "does not exist for this agent" in str(raised.value)
    (request,) = hits(matrix_emulator, "POST", POST)
    assert request.status == 404
    assert waits.seconds == []


# -- deferrable path: the trigger's reply poll -------------------------------------------------------------


@pytest.mark.parametrize("row", params(TRANSIENT))
async def test_the_trigger_rides_out_a_burst_of_failed_reads(
    row: FaultRow, matrix_emulator: RaiaEmulator, conversation: Conversation, waits: Waits
) -> None:
    operator = deferrable(conversation.id)
    context = task_context()
    trigger = await defer(operator, context)
    row.inject(matrix_emulator, "GET", POLL, count=BURST)

    event = await run(trigger)
    result = operator.execute_complete(context, event)  # type: ignore[arg-type]

    await asyncio.to_thread(settle, matrix_emulator)
    assert result["status"] == "completed"
    assert result["response"]
    assert result["question_message_id"] == trigger.question_message_id
    assert len(hits(matrix_emulator, "GET", POLL)) == BURST + 1
    assert_backoff(waits.seconds, row, failures=BURST)
    # Reads change nothing: the message was sent once.
    assert len(hits(matrix_emulator, "POST", POST_ASYNC)) == 1
    assert questions(matrix_emulator, conversation.id) == 1


@pytest.mark.parametrize("row", params(TRANSIENT))
async def test_five_failed_reads_in_a_row_end_the_wait(
    row: FaultRow, matrix_emulator: RaiaEmulator, conversation: Conversation, waits: Waits
) -> None:
    operator = deferrable(conversation.id)
    store = FakeStateStore()
    trigger = await defer(operator, task_context(store))
    row.inject(matrix_emulator, "GET", POLL, count=ATTEMPTS)

    event = await run(trigger)
    with pytest.raises(RaiaPollError) as raised:
        operator.execute_complete(task_context(store), event)  # type: ignore[arg-type]

    await asyncio.to_thread(settle, matrix_emulator)
    assert f"after {ATTEMPTS} failed reads" in str(raised.value)
    assert len(hits(matrix_emulator, "GET", POLL)) == ATTEMPTS
    assert_backoff(waits.seconds, row, failures=ATTEMPTS - 1)
    # The task's retry (Airflow 3.3 task state store) re-attaches to the message sent by the failed try.
    again = await defer(deferrable(conversation.id), task_context(store))
    assert again.question_message_id == trigger.question_message_id
    assert len(hits(matrix_emulator, "POST", POST_ASYNC)) == 1
    assert questions(matrix_emulator, conversation.id) == 1


async def test_a_good_read_resets_the_count_of_failed_reads(
    matrix_emulator: RaiaEmulator, conversation: Conversation, waits: Waits
) -> None:
    (row,) = (row for row in TRANSIENT if row.id == "503")
    matrix_emulator.configure(message_delay=None)
    operator = deferrable(conversation.id)
    context = task_context()
    trigger = await defer(operator, context)
    # Four failed reads, one good (pending) read, four failed reads again: eight failures, never five in a row.
    row.inject(matrix_emulator, "GET", POLL, count=ATTEMPTS - 1)
    row.inject(matrix_emulator, "GET", POLL, count=ATTEMPTS - 1, after=1)

    task = asyncio.ensure_future(run(trigger))
    while matrix_emulator.faults():
        assert not task.done(), "the wait ended while faults were pending"
        await asyncio.sleep(0.005)
    matrix_emulator.complete_message(trigger.question_message_id, response="It ships tomorrow.")
    event = await task

    result = operator.execute_complete(context, event)  # type: ignore[arg-type]
    assert result["response"] == "It ships tomorrow."
    failed = [r for r in hits(matrix_emulator, "GET", POLL) if r.status == 503]
    assert len(failed) == 2 * (ATTEMPTS - 1)


@covers("refused")
async def test_connection_refused_ends_the_wait_after_five_reads(
    matrix_emulator: RaiaEmulator, conversation: Conversation, waits: Waits, monkeypatch: pytest.MonkeyPatch
) -> None:
    operator = deferrable(conversation.id)
    context = task_context()
    trigger = await defer(operator, context)
    refuse_connections(monkeypatch, matrix_emulator.default_key)  # raia goes down after the message was sent

    event = await run(trigger)
    with pytest.raises(RaiaPollError) as raised:
        operator.execute_complete(context, event)  # type: ignore[arg-type]

    assert f"after {ATTEMPTS} failed reads" in str(raised.value)
    assert "got no answer" in str(raised.value)
    assert_backoff(waits.seconds, REFUSED, failures=ATTEMPTS - 1)
    assert hits(matrix_emulator, "GET", POLL) == []


@pytest.mark.parametrize("row", params(PERMANENT))
async def test_a_refused_read_ends_the_wait_at_once(
    row: FaultRow, matrix_emulator: RaiaEmulator, conversation: Conversation, waits: Waits
) -> None:
    operator = deferrable(conversation.id)
    context = task_context()
    trigger = await defer(operator, context)
    row.inject(matrix_emulator, "GET", POLL, count=ATTEMPTS)

    event = await run(trigger)
    with pytest.raises(RaiaPollError) as raised:
        operator.execute_complete(context, event)  # type: ignore[arg-type]

    assert "Gave up waiting for the reply" in str(raised.value)
    assert str(row.status) in str(raised.value)
    assert len(hits(matrix_emulator, "GET", POLL)) == 1
    assert waits.seconds == []


@covers("pending-forever")
async def test_a_reply_pending_forever_times_out_and_a_retry_reattaches(
    matrix_emulator: RaiaEmulator, conversation: Conversation, waits: Waits
) -> None:
    matrix_emulator.configure(message_delay=None)
    waits.real = True
    store = FakeStateStore()
    operator = deferrable(conversation.id, poll_interval=0.1, timeout=1.0)
    trigger = await defer(operator, task_context(store))

    event = await run(trigger)
    with pytest.raises(RaiaWaitTimeoutError) as raised:
        operator.execute_complete(task_context(store), event)  # type: ignore[arg-type]

    assert "still pending when the wait timed out" in str(raised.value)
    reads = len(hits(matrix_emulator, "GET", POLL))
    assert 2 <= reads <= 1.0 / 0.1 + 2
    # The retry reads the remembered message once (still pending) and waits for it again: nothing re-sent.
    again = await defer(deferrable(conversation.id, poll_interval=0.1, timeout=1.0), task_context(store))
    assert again.question_message_id == trigger.question_message_id
    assert len(hits(matrix_emulator, "GET", POLL)) == reads + 1
    assert len(hits(matrix_emulator, "POST", POST_ASYNC)) == 1
    assert questions(matrix_emulator, conversation.id) == 1


@covers("prompt-failed")
async def test_a_failed_reply_fails_the_task_with_raias_error(
    matrix_emulator: RaiaEmulator, conversation: Conversation, waits: Waits
) -> None:
    operator = deferrable(conversation.id, message=f"Where is my parcel? {FAIL_MARKER}")
    store = FakeStateStore()
    trigger = await defer(operator, task_context(store))

    event = await run(trigger)
    with pytest.raises(RaiaMessageFailedError) as raised:
        operator.execute_complete(task_context(store), event)  # type: ignore[arg-type]

    assert "could not process the message" in str(raised.value)
    assert raised.value.question_message_id == trigger.question_message_id
    assert len(hits(matrix_emulator, "POST", POST_ASYNC)) == 1
    assert len(hits(matrix_emulator, "GET", POLL)) == 1
    assert waits.seconds == []
    # A task retry sends the failed message again (a new question), rather than re-attaching to the failure.
    again = await defer(deferrable(conversation.id, message=f"Where is my parcel? {FAIL_MARKER}"), task_context(store))
    assert again.question_message_id != trigger.question_message_id
    assert len(hits(matrix_emulator, "POST", POST_ASYNC)) == 2


@covers("vanished-id")
async def test_a_conversation_deleted_mid_wait_ends_it_with_raias_404(
    matrix_emulator: RaiaEmulator, conversation: Conversation, waits: Waits
) -> None:
    matrix_emulator.configure(message_delay=None)
    operator = deferrable(conversation.id)
    store = FakeStateStore()
    trigger = await defer(operator, task_context(store))
    hook = RaiaHook()
    try:
        await asyncio.to_thread(hook.delete_user_conversations, conversation_user_id=conversation.user_id)
    finally:
        hook.close()

    event = await run(trigger)
    with pytest.raises(RaiaPollError) as raised:
        operator.execute_complete(task_context(store), event)  # type: ignore[arg-type]

    assert "Gave up waiting for the reply" in str(raised.value)
    assert "HTTP 404" in str(raised.value)
    (read,) = hits(matrix_emulator, "GET", POLL)
    assert read.status == 404
    assert waits.seconds == []
    # A task retry cannot read the remembered message either, so it sends it again, and raia refuses (404).
    with pytest.raises(RaiaNotFoundError):
        await asyncio.to_thread(deferrable(conversation.id).execute, task_context(store))  # type: ignore[arg-type]
    assert [r.status for r in hits(matrix_emulator, "POST", POST_ASYNC)] == [201, 404]
