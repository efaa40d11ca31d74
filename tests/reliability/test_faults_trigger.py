"""Fault matrix, column ``RaiaPromptOperator`` (deferrable) and ``RaiaPromptTrigger``.

The task submits ``POST /prompts/async`` and defers; the trigger reads ``GET /prompts/{id}/response-on``
until the answer is there. Faults hit the trigger's reads; the task resumes with the trigger's event.
(Faults on the submit are the blocking prompt's column: the same hook and policy.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from raia_provider.exceptions import RaiaPollError, RaiaPromptFailedError, RaiaWaitTimeoutError
from raia_provider.operators.prompt import RaiaPromptOperator
from raia_provider.testing import RaiaEmulator
from raia_provider.testing.emulator.answers import FAIL_MARKER
from raia_provider.triggers.raia import RaiaPromptTrigger
from tests.reliability.fault_matrix import (
    ATTEMPTS,
    BURST,
    PERMANENT,
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

COLUMN = Column("RaiaPromptOperator (deferrable) and RaiaPromptTrigger", not_applicable={})
SUBMIT = "/external/prompts/async"
READ = "/external/prompts/{id}/response-on"
#: Shorter than every backoff, so the waits after failed reads are the policy's.
POLL_INTERVAL = 0.5


class Task:
    """One deferrable prompt task: its context (task state store included) survives a task retry."""

    def __init__(self, prompt: str = "Summarise the ticket", timeout: float = 600.0) -> None:
        self.operator = RaiaPromptOperator(
            task_id="ask", prompt=prompt, deferrable=True, poll_interval=POLL_INTERVAL, timeout=timeout
        )
        self.context: Any = {"ti": FakeTI(), "task_state_store": FakeStateStore()}

    def defer(self) -> RaiaPromptTrigger:
        with pytest.raises(TaskDeferred) as deferred:
            self.operator.execute(self.context)
        trigger = deferred.value.trigger
        assert isinstance(trigger, RaiaPromptTrigger)
        return trigger

    @property
    def prompt_id(self) -> str:
        return str(self.context["ti"].xcom["prompt_id"])


async def events_of(trigger: RaiaPromptTrigger) -> list[dict[str, Any]]:
    # As the triggerer does: rebuilt from its serialized form (which must be JSON).
    classpath, kwargs = trigger.serialize()
    assert classpath == "raia_provider.triggers.raia.RaiaPromptTrigger"
    rebuilt = RaiaPromptTrigger(**json.loads(json.dumps(kwargs)))
    return [event.payload async for event in rebuilt.run()]


async def test_a_prompt_answered_at_once_needs_one_read(matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    task = Task()
    (event,) = await events_of(task.defer())

    assert task.operator.execute_complete(task.context, event)["status"] == "completed"
    assert len(hits(matrix_emulator, "GET", READ)) == 1
    assert waits.seconds == []


@pytest.mark.parametrize("row", params(TRANSIENT))
async def test_a_burst_of_failed_reads_is_tolerated(row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    task = Task()
    trigger = task.defer()
    row.inject(matrix_emulator, "GET", READ, count=BURST)

    (event,) = await events_of(trigger)

    settle(matrix_emulator)
    result = task.operator.execute_complete(task.context, event)
    assert result["status"] == "completed"
    assert result["prompt_id"] == task.prompt_id
    assert len(hits(matrix_emulator, "GET", READ)) == BURST + 1
    assert_backoff(waits.seconds, row, failures=BURST)
    assert len(hits(matrix_emulator, "POST", SUBMIT)) == 1  # asked once


@pytest.mark.parametrize("row", params(TRANSIENT))
async def test_failed_reads_in_a_row_end_the_wait_and_a_retry_reattaches(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits
) -> None:
    task = Task()
    trigger = task.defer()
    row.inject(matrix_emulator, "GET", READ, count=ATTEMPTS)

    (event,) = await events_of(trigger)

    settle(matrix_emulator)
    assert event["status"] == "error"
    with pytest.raises(RaiaPollError) as raised:
        task.operator.execute_complete(task.context, event)
    assert f"after {ATTEMPTS} failed reads" in str(raised.value)
    assert task.prompt_id in str(raised.value)
    assert len(hits(matrix_emulator, "GET", READ)) == ATTEMPTS
    assert_backoff(waits.seconds, row, failures=ATTEMPTS - 1)
    await _a_task_retry_reattaches(task, matrix_emulator)


async def _a_task_retry_reattaches(task: Task, emulator: RaiaEmulator) -> None:
    """Nothing is lost: a retry of the task waits for the same prompt (Airflow 3.3's task state store)."""
    (event,) = await events_of(task.defer())

    assert task.operator.execute_complete(task.context, event)["prompt_id"] == task.prompt_id
    assert len(hits(emulator, "POST", SUBMIT)) == 1  # not asked again


@covers("refused")
async def test_connection_refused_reads_end_the_wait(
    matrix_emulator: RaiaEmulator, waits: Waits, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = Task()
    trigger = task.defer()
    refuse_connections(monkeypatch, matrix_emulator.default_key)

    (event,) = await events_of(trigger)

    with pytest.raises(RaiaPollError) as raised:
        task.operator.execute_complete(task.context, event)
    assert f"after {ATTEMPTS} failed reads" in str(raised.value)
    assert "got no answer" in str(raised.value)
    assert_backoff(waits.seconds, REFUSED, failures=ATTEMPTS - 1)
    assert hits(matrix_emulator, "GET", READ) == []


@pytest.mark.parametrize("row", params(PERMANENT))
async def test_a_refused_read_ends_the_wait_at_once(row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    task = Task()
    trigger = task.defer()
    row.inject(matrix_emulator, "GET", READ, count=ATTEMPTS)

    (event,) = await events_of(trigger)

    with pytest.raises(RaiaPollError) as raised:
        task.operator.execute_complete(task.context, event)
    assert str(row.status) in str(raised.value)
    assert task.prompt_id in str(raised.value)
    assert len(hits(matrix_emulator, "GET", READ)) == 1
    assert waits.seconds == []


@covers("pending-forever")
async def test_a_prompt_pending_forever_times_out_and_a_retry_keeps_waiting(
    matrix_emulator: RaiaEmulator, waits: Waits
) -> None:
    matrix_emulator.configure(prompt_delay=None)
    waits.real = True
    timeout = 1.0
    task = Task(timeout=timeout)

    (event,) = await events_of(task.defer())

    assert event["status"] == "timeout"
    with pytest.raises(RaiaWaitTimeoutError) as raised:
        task.operator.execute_complete(task.context, event)
    assert task.prompt_id in str(raised.value)
    reads = len(hits(matrix_emulator, "GET", READ))
    assert 2 <= reads <= timeout / POLL_INTERVAL + 1
    assert all(wait <= POLL_INTERVAL for wait in waits.seconds)
    # The prompt is still raia's to answer: the task's retry waits for it instead of asking again.
    matrix_emulator.complete_prompt(task.prompt_id, response="Late but here.")
    (event,) = await events_of(task.defer())
    assert task.operator.execute_complete(task.context, event)["response"] == "Late but here."
    assert len(hits(matrix_emulator, "POST", SUBMIT)) == 1


@covers("prompt-failed")
async def test_a_failed_prompt_fails_the_task_and_a_retry_asks_again(
    matrix_emulator: RaiaEmulator, waits: Waits
) -> None:
    task = Task(prompt=f"Summarise {FAIL_MARKER}")

    (event,) = await events_of(task.defer())

    with pytest.raises(RaiaPromptFailedError) as raised:
        task.operator.execute_complete(task.context, event)
    assert "could not process the prompt" in str(raised.value)
    assert len(hits(matrix_emulator, "GET", READ)) == 1
    # A failed prompt is not re-attached to: the retry submits the question again.
    task.defer()
    assert len(hits(matrix_emulator, "POST", SUBMIT)) == 2


@covers("vanished-id")
async def test_a_prompt_id_raia_no_longer_knows_ends_the_wait(matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    trigger = RaiaPromptTrigger(prompt_id="4f1c-vanished", conn_id="raia_default", poll_interval=1, end_time=2e9)
    task = Task()

    (event,) = await events_of(trigger)

    with pytest.raises(RaiaPollError) as raised:
        task.operator.execute_complete(task.context, event)
    assert "404" in str(raised.value)
    assert "4f1c-vanished" in str(raised.value)
    assert len(hits(matrix_emulator, "GET", READ)) == 1
    assert waits.seconds == []
