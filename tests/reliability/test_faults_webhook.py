"""Fault matrix, column ``RaiaCreateWebhookOperator``: ``POST /agents/webhooks`` under every fault.

Each attempt of the find-or-create reads the agent profile (``GET /agents/by-api-key``) and creates the webhook
only if the profile does not list it; the faults hit the create.
"""

from __future__ import annotations

from typing import Any

import pytest

from raia_provider.exceptions import RaiaTimeoutError
from raia_provider.operators.webhook import RaiaCreateWebhookOperator
from raia_provider.testing import RaiaEmulator
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
    "RaiaCreateWebhookOperator",
    not_applicable={
        "pending-forever": "raia answers the create at once with the webhook; the task waits for nothing",
        "prompt-failed": "the create has no answer that raia could report `failed`: it succeeds or is refused",
        "vanished-id": "the task names no raia id: it looks the webhook up by URL and trigger in the agent "
        "profile, and raia's API cannot delete a webhook",
    },
)
CREATE = "/external/agents/webhooks"
PROFILE = "/external/agents/by-api-key"
URL = "https://crm.example.com/prod/raia"
(READ_TIMEOUT_ROW,) = (row for row in TRANSIENT if row.id == "read-timeout")
RETRIED = [row for row in TRANSIENT if row is not READ_TIMEOUT_ROW]
NOT_TAKEN = [row for row in RETRIED if not row.took_effect]


def register() -> dict[str, Any]:
    operator = RaiaCreateWebhookOperator(
        task_id="register_webhook",
        title="CRM sync",
        description="push finished conversations",
        url=URL,
        trigger_condition="end_dialog",
        headers={"Authorization": "Bearer whsec-5c81"},
    )
    result: dict[str, Any] = operator.execute({})  # uses no context
    return result


def registered(emulator: RaiaEmulator) -> int:
    """How many webhooks raia holds for the URL (it would call each one)."""
    return len([w for w in emulator.webhooks() if (w.url, w.trigger_condition) == (URL, "end_dialog")])


@pytest.mark.parametrize("row", params(NOT_TAKEN))
def test_a_burst_is_retried_and_the_webhook_created_once(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits
) -> None:
    row.inject(matrix_emulator, "POST", CREATE, count=BURST)

    result = register()

    assert result["created"] is True
    assert result["id"]
    assert result["status"] == "active"
    # Each attempt of the whole find-or-create: a profile read, then the create.
    assert len(hits(matrix_emulator, "GET", PROFILE)) == BURST + 1
    assert len(hits(matrix_emulator, "POST", CREATE)) == BURST + 1
    assert_backoff(waits.seconds, row, failures=BURST)
    assert registered(matrix_emulator) == 1


@pytest.mark.parametrize("count", [pytest.param(BURST, id="burst"), pytest.param(ATTEMPTS, id="lasting")])
@covers("reset-mid-response")
def test_a_create_whose_answer_was_cut_off_is_found_not_sent_again(
    count: int, matrix_emulator: RaiaEmulator, waits: Waits
) -> None:
    (row,) = (row for row in TRANSIENT if row.id == "reset-mid-response")
    row.inject(matrix_emulator, "POST", CREATE, count=count)

    result = register()

    # raia registered the webhook before the connection broke: the retry's profile read lists it.
    assert result == {
        "created": True,
        "id": None,
        "url": URL,
        "trigger_condition": "end_dialog",
        "title": "CRM sync",
        "status": "active",
    }
    assert len(hits(matrix_emulator, "POST", CREATE)) == 1
    assert len(hits(matrix_emulator, "GET", PROFILE)) == 2
    assert_backoff(waits.seconds, row, failures=1)
    assert registered(matrix_emulator) == 1


@covers("read-timeout")
def test_a_timed_out_create_that_raia_finished_before_the_retry_is_found(
    matrix_emulator: RaiaEmulator, waits: Waits
) -> None:
    # raia finishes the create 0.3 s after the client gave up; the retry reads the profile after the real
    # backoff (at least 1 s), so it lists the webhook.
    waits.real = True
    matrix_emulator.inject_fault(kind="slow", method="POST", path=CREATE, count=ATTEMPTS, delay=READ_TIMEOUT + 0.3)

    result = register()

    settle(matrix_emulator)
    assert (result["created"], result["id"]) == (True, None)
    assert len(hits(matrix_emulator, "POST", CREATE)) == 1
    assert len(hits(matrix_emulator, "GET", PROFILE)) == 2
    assert_backoff(waits.seconds, READ_TIMEOUT_ROW, failures=1)
    assert registered(matrix_emulator) == 1


@covers("read-timeout")
def test_a_timed_out_create_still_running_at_the_retry_is_made_twice(
    matrix_emulator: RaiaEmulator, waits: Waits
) -> None:
    # raia is still creating (SLOW_DELAY) when the retry reads the profile: nothing is listed yet, so the
    # retry creates, and then the first create lands too. raia has no idempotency key to prevent this.
    READ_TIMEOUT_ROW.inject(matrix_emulator, "POST", CREATE, count=1)

    result = register()

    settle(matrix_emulator)
    assert result["created"] is True
    assert result["id"]
    assert len(hits(matrix_emulator, "POST", CREATE)) == 2
    assert_backoff(waits.seconds, READ_TIMEOUT_ROW, failures=1)
    assert registered(matrix_emulator) == 2


@covers("read-timeout")
def test_a_lasting_read_timeout_fails_and_every_create_lands_later(matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    # Every create takes longer than the whole task: each attempt finds nothing and creates again.
    slower_than_the_task = ATTEMPTS * READ_TIMEOUT + 0.5
    matrix_emulator.inject_fault(kind="slow", method="POST", path=CREATE, count=ATTEMPTS, delay=slower_than_the_task)

    with pytest.raises(RaiaTimeoutError) as raised:
        register()

    assert "timed out" in str(raised.value)
    assert len(hits(matrix_emulator, "POST", CREATE)) == ATTEMPTS
    assert len(hits(matrix_emulator, "GET", PROFILE)) == ATTEMPTS
    assert_backoff(waits.seconds, READ_TIMEOUT_ROW, failures=ATTEMPTS - 1)
    settle(matrix_emulator)
    assert registered(matrix_emulator) == ATTEMPTS
    # A task retry then finds them and creates no more.
    assert register()["created"] is False
    assert registered(matrix_emulator) == ATTEMPTS


@pytest.mark.parametrize("row", params(NOT_TAKEN))
def test_a_lasting_fault_fails_after_the_policys_attempts(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits
) -> None:
    row.inject(matrix_emulator, "POST", CREATE, count=ATTEMPTS)

    with pytest.raises(row.error) as raised:  # type: ignore[arg-type]
        register()

    assert "POST /agents/webhooks" in str(raised.value)
    assert len(hits(matrix_emulator, "GET", PROFILE)) == ATTEMPTS
    assert len(hits(matrix_emulator, "POST", CREATE)) == ATTEMPTS
    assert_backoff(waits.seconds, row, failures=ATTEMPTS - 1)
    assert registered(matrix_emulator) == 0
    # The task's retry creates the one webhook; a further run finds it.
    assert register()["created"] is True
    assert register()["created"] is False
    assert registered(matrix_emulator) == 1


@covers("refused")
def test_connection_refused_is_retried_then_fails(
    matrix_emulator: RaiaEmulator, waits: Waits, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_connections(monkeypatch, matrix_emulator.default_key)

    with pytest.raises(REFUSED.error) as raised:  # type: ignore[arg-type]
        register()

    assert "got no answer" in str(raised.value)
    assert_backoff(waits.seconds, REFUSED, failures=ATTEMPTS - 1)
    assert matrix_emulator.requests() == []
    assert registered(matrix_emulator) == 0


@pytest.mark.parametrize("row", params(PERMANENT))
def test_a_refusal_fails_at_once(row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    row.inject(matrix_emulator, "POST", CREATE, count=ATTEMPTS)

    with pytest.raises(row.error) as raised:  # type: ignore[arg-type]
        register()

    assert str(row.status) in str(raised.value)
    assert len(hits(matrix_emulator, "GET", PROFILE)) == 1
    assert len(hits(matrix_emulator, "POST", CREATE)) == 1
    assert waits.seconds == []
    assert registered(matrix_emulator) == 0
