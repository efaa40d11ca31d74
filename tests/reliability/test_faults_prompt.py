"""Fault matrix, column ``RaiaPromptOperator`` (blocking): ``POST /prompts`` under every fault."""

from __future__ import annotations

from typing import Any

import pytest

from raia_provider.exceptions import RaiaPromptFailedError, RaiaTimeoutError
from raia_provider.operators.prompt import RaiaPromptOperator
from raia_provider.testing import RaiaEmulator
from raia_provider.testing.emulator.answers import FAIL_MARKER
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

pytestmark = pytest.mark.integration

COLUMN = Column(
    "RaiaPromptOperator (blocking)",
    not_applicable={
        "pending-forever": "the synchronous call has no pending state: a slow answer is the read-timeout row",
        "vanished-id": "a synchronous prompt has no id to lose",
    },
)
PATH = "/external/prompts"
RETRIED = [row for row in TRANSIENT if row.id != "read-timeout"]


def ask(**kwargs: Any) -> dict[str, Any]:
    operator = RaiaPromptOperator(task_id="ask", prompt="What is our refund window?", **kwargs)
    try:
        return operator.execute({"ti": None})  # type: ignore[arg-type]  # the blocking path uses no context
    finally:
        operator.hook.close()


def answered(emulator: RaiaEmulator) -> int:
    """How many prompts raia processed (and billed tokens for)."""
    return len(emulator.usage())


@pytest.mark.parametrize("row", params(RETRIED))
def test_a_burst_is_retried_and_answered(row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    row.inject(matrix_emulator, "POST", PATH, count=BURST)

    answer = ask()

    settle(matrix_emulator)
    assert answer["status"] == "completed"
    assert answer["response"]
    assert len(hits(matrix_emulator, "POST", PATH)) == BURST + 1
    assert_backoff(waits.seconds, row, failures=BURST)
    # A response lost after raia ran the prompt is asked again: raia answers (and bills) it twice.
    assert answered(matrix_emulator) == 1 + (BURST if row.took_effect else 0)


@pytest.mark.parametrize("row", params(RETRIED))
def test_a_lasting_fault_fails_after_the_policys_attempts(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits
) -> None:
    row.inject(matrix_emulator, "POST", PATH, count=ATTEMPTS)

    with pytest.raises(row.error) as raised:  # type: ignore[arg-type]
        ask()

    settle(matrix_emulator)
    assert "POST /prompts" in str(raised.value)
    assert len(hits(matrix_emulator, "POST", PATH)) == ATTEMPTS
    assert_backoff(waits.seconds, row, failures=ATTEMPTS - 1)
    assert answered(matrix_emulator) == (ATTEMPTS if row.took_effect else 0)


@covers("read-timeout")
def test_a_read_timeout_is_the_tasks_timeout_and_is_not_retried(matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    (row,) = (row for row in TRANSIENT if row.id == "read-timeout")
    row.inject(matrix_emulator, "POST", PATH, count=ATTEMPTS)

    with pytest.raises(RaiaTimeoutError) as raised:
        ask(timeout=READ_TIMEOUT)

    settle(matrix_emulator)
    assert "timed out" in str(raised.value)
    assert len(hits(matrix_emulator, "POST", PATH)) == 1
    assert waits.seconds == []
    # raia went on and answered the prompt nobody waited for.
    assert answered(matrix_emulator) == 1


@covers("refused")
def test_connection_refused_is_retried_then_fails(
    matrix_emulator: RaiaEmulator, waits: Waits, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_connections(monkeypatch, matrix_emulator.default_key)

    with pytest.raises(REFUSED.error) as raised:  # type: ignore[arg-type]
        ask()

    assert "got no answer" in str(raised.value)
    assert "Check the connection's region or base URL" in str(raised.value)
    assert_backoff(waits.seconds, REFUSED, failures=ATTEMPTS - 1)
    assert matrix_emulator.requests() == []


@pytest.mark.parametrize("row", params(PERMANENT))
def test_a_refusal_fails_at_once(row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    row.inject(matrix_emulator, "POST", PATH, count=ATTEMPTS)

    with pytest.raises(row.error) as raised:  # type: ignore[arg-type]
        ask()

    assert str(row.status) in str(raised.value)
    assert len(hits(matrix_emulator, "POST", PATH)) == 1
    assert waits.seconds == []
    assert answered(matrix_emulator) == 0


@covers("prompt-failed")
def test_a_failed_prompt_fails_the_task_with_raias_error(matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    operator = RaiaPromptOperator(task_id="ask", prompt=f"Summarise {FAIL_MARKER}")

    with pytest.raises(RaiaPromptFailedError) as raised:
        operator.execute({"ti": None})  # type: ignore[arg-type]

    assert "could not process the prompt" in str(raised.value)
    assert len(hits(matrix_emulator, "POST", PATH)) == 1
    assert waits.seconds == []
