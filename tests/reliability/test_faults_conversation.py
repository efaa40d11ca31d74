"""Fault matrix, column ``RaiaStartConversationOperator``: ``POST /conversations/start`` under every fault."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import pytest

from raia_provider.exceptions import RaiaNotFoundError
from raia_provider.operators.conversation import RaiaStartConversationOperator
from raia_provider.testing import RaiaEmulator
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

if TYPE_CHECKING:
    from airflow.sdk import Context

pytestmark = pytest.mark.integration

COLUMN = Column(
    "RaiaStartConversationOperator",
    not_applicable={
        "pending-forever": "raia answers the start at once with the conversation's id; the task waits for nothing",
        "prompt-failed": "the start has no answer that raia could report `failed`: it succeeds or is refused",
    },
)
PATH = "/external/conversations/start"
PHONE = "+15551234567"
LOST = [row for row in TRANSIENT if row.took_effect]


def start(**overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "task_id": "start",
        "channel": "sms",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone_number": PHONE,
        "sms_introduction": "Hi Ada, your order shipped.",
        **overrides,
    }
    operator = RaiaStartConversationOperator(**arguments)
    try:
        conversation_id: str = operator.execute(cast("Context", {}))  # uses no context
        return conversation_id
    finally:
        operator.hook.close()


def introductions(emulator: RaiaEmulator) -> int:
    """How many first SMS raia sent (stored as assistant messages, one SMS of usage each)."""
    sent = [m for m in emulator.messages() if m.sender_role == "assistant" and m.source == "sms"]
    assert len(sent) == len([u for u in emulator.usage() if u.kind == "sms"])
    return len(sent)


@pytest.mark.parametrize("row", params(TRANSIENT))
def test_a_burst_is_retried_and_the_conversation_started(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits
) -> None:
    row.inject(matrix_emulator, "POST", PATH, count=BURST)

    conversation_id = start()

    settle(matrix_emulator)
    assert len(hits(matrix_emulator, "POST", PATH)) == BURST + 1
    assert_backoff(waits.seconds, row, failures=BURST)
    # Without reset_conversation a start whose answer was lost is continued, not duplicated: one person, one
    # conversation, but the introduction SMS went out once per start raia ran.
    (conversation,) = matrix_emulator.conversations()
    assert conversation.id == conversation_id
    assert len(matrix_emulator.users()) == 1
    assert introductions(matrix_emulator) == 1 + (BURST if row.took_effect else 0)


@pytest.mark.parametrize("row", params(LOST))
def test_a_lost_answer_with_reset_conversation_starts_a_conversation_per_attempt(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits
) -> None:
    row.inject(matrix_emulator, "POST", PATH, count=BURST)

    conversation_id = start(reset_conversation=True)

    settle(matrix_emulator)
    assert len(hits(matrix_emulator, "POST", PATH)) == BURST + 1
    assert_backoff(waits.seconds, row, failures=BURST)
    conversations = matrix_emulator.conversations()
    assert len(conversations) == BURST + 1
    # Every start raia ran archived the one before; which one stays active depends on when each ran (a slow
    # request lands after the retry that succeeded), so the task's id may name an archived conversation.
    assert sorted(c.status for c in conversations) == ["active"] + ["archived"] * BURST
    assert conversation_id in {c.id for c in conversations}
    assert introductions(matrix_emulator) == BURST + 1


@pytest.mark.parametrize("row", params(TRANSIENT))
def test_a_lasting_fault_fails_after_the_policys_attempts(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits
) -> None:
    row.inject(matrix_emulator, "POST", PATH, count=ATTEMPTS)

    with pytest.raises(row.error) as raised:  # type: ignore[arg-type]
        start()

    settle(matrix_emulator)
    assert "POST /conversations/start" in str(raised.value)
    assert len(hits(matrix_emulator, "POST", PATH)) == ATTEMPTS
    assert_backoff(waits.seconds, row, failures=ATTEMPTS - 1)
    # A lost answer still started (or continued) the conversation: the person got every introduction.
    assert len(matrix_emulator.conversations()) == (1 if row.took_effect else 0)
    assert introductions(matrix_emulator) == (ATTEMPTS if row.took_effect else 0)


@covers("refused")
def test_connection_refused_is_retried_then_fails(
    matrix_emulator: RaiaEmulator, waits: Waits, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_connections(monkeypatch, matrix_emulator.default_key)

    with pytest.raises(REFUSED.error) as raised:  # type: ignore[arg-type]
        start()

    assert "got no answer" in str(raised.value)
    assert_backoff(waits.seconds, REFUSED, failures=ATTEMPTS - 1)
    assert matrix_emulator.requests() == []
    assert matrix_emulator.conversations() == []


@pytest.mark.parametrize("row", params(PERMANENT))
def test_a_refusal_fails_at_once(row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    row.inject(matrix_emulator, "POST", PATH, count=ATTEMPTS)

    with pytest.raises(row.error) as raised:  # type: ignore[arg-type]
        start()

    assert str(row.status) in str(raised.value)
    assert len(hits(matrix_emulator, "POST", PATH)) == 1
    assert waits.seconds == []
    assert matrix_emulator.conversations() == []
    assert introductions(matrix_emulator) == 0


@covers("vanished-id")
def test_an_unknown_conversation_state_is_a_real_404(matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    # The only id the start names is conversation_state_id: one that raia no longer knows is refused.
    with pytest.raises(RaiaNotFoundError) as raised:
        start(conversation_state_id="3f1c2a9e-0000-4000-8000-00000000dead")

    assert "HTTP 404" in str(raised.value)
    assert "does not exist for this agent" in str(raised.value)
    (request,) = hits(matrix_emulator, "POST", PATH)
    assert request.status == 404
    assert waits.seconds == []
    assert matrix_emulator.conversations() == []
    assert introductions(matrix_emulator) == 0


def test_a_task_retry_continues_the_conversation(matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    # A try that failed after raia ran the start (its answer lost on every attempt), then the task's retry.
    (row,) = (row for row in TRANSIENT if row.id == "reset-mid-response")
    row.inject(matrix_emulator, "POST", PATH, count=ATTEMPTS)
    with pytest.raises(row.error):  # type: ignore[arg-type]
        start()

    conversation_id = start()

    (conversation,) = matrix_emulator.conversations()
    assert conversation.id == conversation_id
    assert introductions(matrix_emulator) == ATTEMPTS + 1
