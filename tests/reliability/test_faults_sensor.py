"""Fault matrix, column ``RaiaPromptSensor`` (poke or reschedule mode).

Each poke reads ``GET /prompts/{id}/response-on`` once through the hook's default retry policy. (With
``deferrable=True`` the sensor waits in ``RaiaPromptTrigger``: that column applies.)
"""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import PokeReturnValue

from raia_provider.exceptions import RaiaNotFoundError, RaiaPromptFailedError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.sensors.raia import RaiaPromptSensor
from raia_provider.testing import RaiaEmulator
from raia_provider.testing.emulator.answers import FAIL_MARKER
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
from tests.task_doubles import FakeTI

pytestmark = pytest.mark.integration

COLUMN = Column("RaiaPromptSensor (poke)", not_applicable={})
READ = "/external/prompts/{id}/response-on"


def submit(prompt: str = "Classify the review") -> str:
    hook = RaiaHook()
    try:
        return hook.create_prompt(prompt=prompt).prompt_id
    finally:
        hook.close()


def poke(prompt_id: str) -> Any:
    sensor = RaiaPromptSensor(task_id="wait", prompt_id=prompt_id, poke_interval=0.2)
    try:
        return sensor.poke({})  # type: ignore[arg-type]
    finally:
        sensor.hook.close()


@pytest.mark.parametrize("row", params(TRANSIENT))
def test_a_burst_within_a_poke_is_retried(row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    prompt_id = submit()
    row.inject(matrix_emulator, "GET", READ, count=BURST)

    done = poke(prompt_id)

    settle(matrix_emulator)
    assert isinstance(done, PokeReturnValue)
    assert done.xcom_value["prompt_id"] == prompt_id
    assert done.xcom_value["status"] == "completed"
    assert len(hits(matrix_emulator, "GET", READ)) == BURST + 1
    assert_backoff(waits.seconds, row, failures=BURST)


@pytest.mark.parametrize("row", params(TRANSIENT))
def test_a_lasting_fault_fails_the_poke_after_the_policys_attempts(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits
) -> None:
    prompt_id = submit()
    row.inject(matrix_emulator, "GET", READ, count=ATTEMPTS)

    with pytest.raises(row.error) as raised:  # type: ignore[arg-type]
        poke(prompt_id)

    settle(matrix_emulator)
    assert "GET /prompts/{id}/response-on" in str(raised.value)
    assert len(hits(matrix_emulator, "GET", READ)) == ATTEMPTS
    assert_backoff(waits.seconds, row, failures=ATTEMPTS - 1)
    # Nothing is lost: the prompt is still there, and the task's retry (same prompt id) finds the answer.
    assert poke(prompt_id).xcom_value["status"] == "completed"


@covers("refused")
def test_connection_refused_fails_the_poke(
    matrix_emulator: RaiaEmulator, waits: Waits, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompt_id = submit()
    refuse_connections(monkeypatch, matrix_emulator.default_key)

    with pytest.raises(REFUSED.error) as raised:  # type: ignore[arg-type]
        poke(prompt_id)

    assert "got no answer" in str(raised.value)
    assert_backoff(waits.seconds, REFUSED, failures=ATTEMPTS - 1)
    assert hits(matrix_emulator, "GET", READ) == []


@pytest.mark.parametrize("row", params(PERMANENT))
def test_a_refusal_fails_the_poke_at_once(row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    prompt_id = submit()
    row.inject(matrix_emulator, "GET", READ, count=ATTEMPTS)

    with pytest.raises(row.error) as raised:  # type: ignore[arg-type]
        poke(prompt_id)

    assert str(row.status) in str(raised.value)
    assert len(hits(matrix_emulator, "GET", READ)) == 1
    assert waits.seconds == []


@covers("pending-forever")
def test_a_prompt_pending_forever_times_the_sensor_out(matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    matrix_emulator.configure(prompt_delay=None)
    prompt_id = submit()
    sensor = RaiaPromptSensor(task_id="wait", prompt_id=prompt_id, poke_interval=0.2, timeout=1.0, mode="poke")

    with pytest.raises(Exception) as raised:  # noqa: PT011 - Airflow's class moved between 3.1 and 3.3
        sensor.execute({"ti": FakeTI()})  # type: ignore[arg-type]

    assert type(raised.value).__name__ == "AirflowSensorTimeout"
    reads = len(hits(matrix_emulator, "GET", READ))
    assert 2 <= reads <= 1.0 / 0.2 + 2
    assert waits.seconds == []  # the pokes' waits are Airflow's, not a retry
    sensor.hook.close()


@covers("prompt-failed")
def test_a_failed_prompt_fails_the_poke(matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    prompt_id = submit(f"Classify {FAIL_MARKER}")

    with pytest.raises(RaiaPromptFailedError) as raised:
        poke(prompt_id)

    assert prompt_id in str(raised.value)
    assert "could not process the prompt" in str(raised.value)
    assert len(hits(matrix_emulator, "GET", READ)) == 1


@covers("vanished-id")
def test_a_prompt_id_raia_no_longer_knows_fails_the_poke(matrix_emulator: RaiaEmulator, waits: Waits) -> None:
    with pytest.raises(RaiaNotFoundError) as raised:
        poke("4f1c-vanished")

    assert "404" in str(raised.value)
    assert len(hits(matrix_emulator, "GET", READ)) == 1
    assert waits.seconds == []
