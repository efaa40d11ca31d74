"""Fault matrix, column ``RaiaBatchPromptOperator``: one prompt per row, the second row's request faulted.

Three rows, one at a time (``max_concurrency=1``), so the requests come in row order and ``after=1`` puts the
fault on the second row: the first row's answer is what must not be lost. The hook makes single attempts; the
batch retries each row itself with ``row_retry_policy`` (the default policy), and a 429 pauses the whole batch
through its request gate instead of counting as a failure.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from raia_provider._core.request_gate import MIN_RATE, RequestGate
from raia_provider.engines.batch_runner import MAX_THROTTLED_ATTEMPTS
from raia_provider.exceptions import RaiaPartialFailureError
from raia_provider.operators.batch import MANIFEST_XCOM_KEY, RaiaBatchPromptOperator
from raia_provider.testing import RaiaEmulator
from raia_provider.testing.emulator.answers import FAIL_MARKER
from tests.reliability.fault_matrix import (
    ATTEMPTS,
    BURST,
    DEFAULT_POLICY,
    PERMANENT,
    READ_TIMEOUT,
    REFUSED,
    RETRY_AFTER,
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

COLUMN = Column("RaiaBatchPromptOperator")
SYNC = "/external/prompts"
ASYNC = "/external/prompts/async"
POLL = "/external/prompts/{id}/response-on"
THROTTLED = [row for row in TRANSIENT if row.status == 429]
RETRIED = [row for row in TRANSIENT if row.status != 429]
ROWS_IN_BATCH = 3
RECORDS = [{"id": f"r{n}", "city": f"City {n}"} for n in range(ROWS_IN_BATCH)]
TEMPLATE = "Describe {{ city }}"
#: The async prompt's wait in the pending-forever row, and its poll interval (real seconds).
SHORT_WAIT = 1.0
SHORT_POLL = 0.2


@pytest.fixture(autouse=True)
def gate_clock(waits: Waits, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch's request gate reads a clock that the recorded (not waited) pauses move forward.

    Without it the gate would see no time pass during a recorded 429 pause, and stack the pauses up.
    """
    started = time.monotonic()

    def monotonic() -> float:
        return started + (time.monotonic() - started) + (0.0 if waits.real else sum(waits.seconds))

    defaults = dict(RequestGate.__init__.__kwdefaults__ or {})
    defaults["clock"] = monotonic
    monkeypatch.setattr(RequestGate.__init__, "__kwdefaults__", defaults)


def batch(tmp_path: Path, **overrides: Any) -> RaiaBatchPromptOperator:
    arguments: dict[str, Any] = {
        "task_id": "enrich",
        "records": RECORDS,
        "key_field": "id",
        "prompt_template": TEMPLATE,
        "output_path": str(tmp_path / "answers.jsonl"),
        "max_concurrency": 1,
        # The rows' requests are what these tests fault; "text" spares the one agent-profile read a batch
        # that follows the agent's output schema makes (tests/unit/test_batch_files.py covers that read).
        "output_format": "text",
        **overrides,
    }
    return RaiaBatchPromptOperator(**arguments)


def lines(tmp_path: Path) -> dict[str, dict[str, Any]]:
    """The output file's lines by row key."""
    text = (tmp_path / "answers.jsonl").read_text()
    return {line["id"]: line for line in map(json.loads, text.splitlines())}


def statuses(tmp_path: Path) -> list[str]:
    return [line["status"] for line in lines(tmp_path).values()]


def checkpointed(tmp_path: Path) -> dict[str, str]:
    """Row key to the status of its latest checkpoint line."""
    folder = tmp_path / "answers.jsonl.checkpoint"
    found: dict[str, str] = {}
    for part in sorted(folder.glob("part-*.jsonl")):
        for line in map(json.loads, part.read_text().splitlines()):
            if found.get(line["key"]) != "completed":
                found[line["key"]] = line["status"]
    return found


def asked(emulator: RaiaEmulator, path: str = SYNC) -> list[str]:
    """The rows whose prompt reached ``path``, in order (faulted requests included)."""
    return [r.body["prompt"].removeprefix("Describe City ") for r in hits(emulator, "POST", path)]


def answered(emulator: RaiaEmulator) -> int:
    """How many prompts raia processed (and billed tokens for)."""
    return len(emulator.usage())


def rerun_asks_only_the_rest(emulator: RaiaEmulator, tmp_path: Path, done: int, **overrides: Any) -> None:
    """A task retry with the same checkpoint reuses the ``done`` answers and asks only the other rows."""
    emulator.clear_faults()
    emulator.clear_requests()
    manifest = batch(tmp_path, **overrides).execute({"ti": FakeTI()})
    assert (manifest["completed"], manifest["reused"]) == (ROWS_IN_BATCH, done)
    assert asked(emulator) == [str(n) for n in range(done, ROWS_IN_BATCH)]
    assert statuses(tmp_path) == ["completed"] * ROWS_IN_BATCH
    assert not (tmp_path / "answers.jsonl.checkpoint").exists()


# -- transient faults ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", params(RETRIED))
def test_a_burst_is_retried_within_the_row(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits, tmp_path: Path
) -> None:
    row.inject(matrix_emulator, "POST", SYNC, count=BURST, after=1)
    timeout = READ_TIMEOUT if row.id == "read-timeout" else 120.0

    manifest = batch(tmp_path, timeout=timeout).execute({"ti": FakeTI()})

    settle(matrix_emulator)
    assert (manifest["completed"], manifest["failed"], manifest["throttled_pauses"]) == (ROWS_IN_BATCH, 0, 0)
    assert asked(matrix_emulator) == ["0", *["1"] * (BURST + 1), "2"]
    assert manifest["requests"] == ROWS_IN_BATCH + BURST
    assert_backoff(waits.seconds, row, failures=BURST)
    # A response lost after raia ran the prompt is asked again: raia answers (and bills) the row again.
    assert answered(matrix_emulator) == ROWS_IN_BATCH + (BURST if row.took_effect else 0)


@pytest.mark.parametrize("row", params(THROTTLED))
def test_a_429_burst_pauses_the_whole_batch(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits, tmp_path: Path
) -> None:
    row.inject(matrix_emulator, "POST", SYNC, count=BURST, after=1)

    manifest = batch(tmp_path).execute({"ti": FakeTI()})

    assert (manifest["completed"], manifest["failed"]) == (ROWS_IN_BATCH, 0)
    assert manifest["throttled_pauses"] == BURST
    assert asked(matrix_emulator) == ["0", *["1"] * (BURST + 1), "2"]
    # One pause of the whole batch per 429 (its Retry-After, or the policy's backoff), then the pace the gate
    # halved to after the 429 spaces the next start (at most 1 / MIN_RATE seconds).
    # The gate waits until the pause ends, so each wait is short of it by the moments since the 429 arrived.
    assert_backoff(waits.seconds[:BURST], row, failures=BURST, slack=0.1)
    assert all(wait <= 1 / MIN_RATE for wait in waits.seconds[BURST:]), waits.seconds
    assert answered(matrix_emulator) == ROWS_IN_BATCH


@pytest.mark.parametrize("row", params(RETRIED))
def test_a_lasting_fault_fails_the_row_keeps_the_answers_and_a_retry_asks_only_the_rest(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits, tmp_path: Path
) -> None:
    row.inject(matrix_emulator, "POST", SYNC, count=ATTEMPTS, after=1)
    timeout = READ_TIMEOUT if row.id == "read-timeout" else 120.0
    ti = FakeTI()

    with pytest.raises(RaiaPartialFailureError) as raised:
        batch(tmp_path, timeout=timeout).execute({"ti": ti})

    settle(matrix_emulator)
    message = str(raised.value)
    assert "1 of 3 row(s) failed and 1 were not attempted" in message
    assert (
        "row 1 (key 'r1'): raia POST /prompts" in message or "row 1 (key 'r1'): raia answered POST /prompts" in message
    )
    assert "a retry asks only the rest" in message
    assert asked(matrix_emulator) == ["0", *["1"] * ATTEMPTS]
    assert_backoff(waits.seconds, row, failures=ATTEMPTS - 1)
    assert answered(matrix_emulator) == 1 + (ATTEMPTS if row.took_effect else 0)
    # Nothing lost: the first answer is in the output, the exception and the checkpoint; the rest are reported.
    assert statuses(tmp_path) == ["completed", "failed", "not_attempted"]
    assert raised.value.succeeded == ["r0"]
    assert [item["key"] for item in raised.value.failed] == ["r1"]
    assert ti.xcom[MANIFEST_XCOM_KEY]["completed"] == 1
    assert checkpointed(tmp_path) == {"r0": "completed", "r1": "failed"}
    settle(matrix_emulator)
    rerun_asks_only_the_rest(matrix_emulator, tmp_path, done=1, timeout=timeout)


@pytest.mark.parametrize("row", params(THROTTLED))
def test_a_lasting_429_gives_the_row_up_after_the_throttled_attempts(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits, tmp_path: Path
) -> None:
    row.inject(matrix_emulator, "POST", SYNC, count=MAX_THROTTLED_ATTEMPTS, after=1)

    ti = FakeTI()

    with pytest.raises(RaiaPartialFailureError) as raised:
        batch(tmp_path).execute({"ti": ti})

    assert "row 1 (key 'r1'): raia answered POST /prompts with HTTP 429" in str(raised.value)
    assert asked(matrix_emulator) == ["0", *["1"] * MAX_THROTTLED_ATTEMPTS]
    # Every 429 paused the batch; the row waited out all but the last (then gave up).
    assert ti.xcom[MANIFEST_XCOM_KEY]["throttled_pauses"] == MAX_THROTTLED_ATTEMPTS
    if row.retry_after is not None:
        pauses = [wait for wait in waits.seconds if wait > 1 / MIN_RATE]
        assert pauses == [pytest.approx(RETRY_AFTER, abs=0.1)] * (MAX_THROTTLED_ATTEMPTS - 1)
    else:
        assert len(waits.seconds) >= MAX_THROTTLED_ATTEMPTS - 1
        assert max(waits.seconds) <= DEFAULT_POLICY.max_wait + DEFAULT_POLICY.jitter
    assert statuses(tmp_path) == ["completed", "failed", "not_attempted"]
    assert answered(matrix_emulator) == 1
    rerun_asks_only_the_rest(matrix_emulator, tmp_path, done=1)


@covers("refused")
def test_connection_refused_fails_the_first_row_and_stops(
    matrix_emulator: RaiaEmulator, waits: Waits, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_connections(monkeypatch, matrix_emulator.default_key)

    with pytest.raises(RaiaPartialFailureError) as raised:
        batch(tmp_path).execute({"ti": FakeTI()})

    assert "row 0 (key 'r0'): raia POST /prompts got no answer" in str(raised.value)
    assert "1 of 3 row(s) failed and 2 were not attempted" in str(raised.value)
    assert_backoff(waits.seconds, REFUSED, failures=ATTEMPTS - 1)
    assert matrix_emulator.requests() == []
    assert statuses(tmp_path) == ["failed", "not_attempted", "not_attempted"]


# -- refusals ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", params(PERMANENT))
def test_a_refusal_stops_the_batch_at_once_and_keeps_the_answers(
    row: FaultRow, matrix_emulator: RaiaEmulator, waits: Waits, tmp_path: Path
) -> None:
    row.inject(matrix_emulator, "POST", SYNC, count=ATTEMPTS, after=1)

    with pytest.raises(row.error) as raised:  # type: ignore[arg-type]
        batch(tmp_path).execute({"ti": FakeTI()})

    assert f"HTTP {row.status}" in str(raised.value)
    assert asked(matrix_emulator) == ["0", "1"]
    assert waits.seconds == []
    # Raised as is: no output file, but the first answer is checkpointed and a retry does not ask it again.
    assert not (tmp_path / "answers.jsonl").exists()
    assert checkpointed(tmp_path) == {"r0": "completed"}
    rerun_asks_only_the_rest(matrix_emulator, tmp_path, done=1)


# -- what raia answers ---------------------------------------------------------------------------------------


@covers("prompt-failed")
def test_a_failed_prompt_fails_its_row_and_the_others_are_kept(
    matrix_emulator: RaiaEmulator, waits: Waits, tmp_path: Path
) -> None:
    records = [
        {**record, "city": f"{record['city']} {FAIL_MARKER}" if n == 1 else record["city"]}
        for n, record in enumerate(RECORDS)
    ]

    with pytest.raises(RaiaPartialFailureError) as raised:
        batch(tmp_path, records=records).execute({"ti": FakeTI()})

    assert "row 1 (key 'r1'): The agent could not process the prompt" in str(raised.value)
    assert len(hits(matrix_emulator, "POST", SYNC)) == 2
    assert waits.seconds == []
    assert statuses(tmp_path) == ["completed", "failed", "not_attempted"]
    # With room for one failure in max_failed_ratio, the batch answers every other row and succeeds.
    matrix_emulator.clear_requests()
    manifest = batch(tmp_path, records=records, max_failed_ratio=0.5).execute({"ti": FakeTI()})
    assert (manifest["completed"], manifest["failed"], manifest["reused"]) == (2, 1, 1)
    assert len(hits(matrix_emulator, "POST", SYNC)) == 2  # the failed row again, and the last one


@covers("prompt-failed")
def test_a_failed_async_prompt_is_asked_again_by_a_retry(
    matrix_emulator: RaiaEmulator, waits: Waits, tmp_path: Path
) -> None:
    records = [
        {**record, "city": f"{record['city']} {FAIL_MARKER}" if n == 1 else record["city"]}
        for n, record in enumerate(RECORDS)
    ]

    with pytest.raises(RaiaPartialFailureError) as raised:
        batch(tmp_path, records=records, prompt_mode="async").execute({"ti": FakeTI()})

    assert "row 1 (key 'r1'): raia reports the prompt" in str(raised.value)
    assert len(hits(matrix_emulator, "POST", ASYNC)) == 2
    assert statuses(tmp_path) == ["completed", "failed", "not_attempted"]
    matrix_emulator.clear_requests()
    with pytest.raises(RaiaPartialFailureError):
        batch(tmp_path, records=records, prompt_mode="async").execute({"ti": FakeTI()})
    assert len(hits(matrix_emulator, "POST", ASYNC)) == 1  # the failed row is asked anew (and fails again)


@covers("pending-forever")
def test_a_prompt_pending_forever_times_out_and_a_retry_waits_for_the_same_prompt(
    matrix_emulator: RaiaEmulator, waits: Waits, tmp_path: Path
) -> None:
    matrix_emulator.configure(prompt_delay=None)
    waits.real = True
    options: dict[str, Any] = {"prompt_mode": "async", "timeout": SHORT_WAIT, "poll_interval": SHORT_POLL}

    with pytest.raises(RaiaPartialFailureError) as raised:
        batch(tmp_path, **options).execute({"ti": FakeTI()})

    assert "row 0 (key 'r0'): The prompt" in str(raised.value)
    assert "was still pending when the wait timed out" in str(raised.value)
    assert len(hits(matrix_emulator, "POST", ASYNC)) == 1
    reads = len(hits(matrix_emulator, "GET", POLL))
    assert 2 <= reads <= SHORT_WAIT / SHORT_POLL + 2
    assert statuses(tmp_path) == ["failed", "not_attempted", "not_attempted"]
    (prompt,) = matrix_emulator.prompts()
    # raia finishes later; the retry waits for that prompt instead of asking it again.
    matrix_emulator.configure(prompt_delay=0)
    matrix_emulator.complete_prompt(prompt.id)
    matrix_emulator.clear_requests()
    manifest = batch(tmp_path, **options).execute({"ti": FakeTI()})
    assert manifest["completed"] == ROWS_IN_BATCH
    assert asked(matrix_emulator, ASYNC) == ["1", "2"]
    assert hits(matrix_emulator, "GET", POLL)[0].path.split("/")[3] == prompt.id


@covers("vanished-id")
def test_a_vanished_prompt_id_fails_its_row_and_a_retry_asks_again(
    matrix_emulator: RaiaEmulator, waits: Waits, tmp_path: Path
) -> None:
    matrix_emulator.configure(prompt_delay=None)
    waits.real = True
    options: dict[str, Any] = {"prompt_mode": "async", "timeout": SHORT_WAIT, "poll_interval": SHORT_POLL}
    with pytest.raises(RaiaPartialFailureError):
        batch(tmp_path, **options).execute({"ti": FakeTI()})
    waits.real = False
    waits.seconds.clear()
    # raia forgets the prompt the first try waited for (its id now answers a real 404).
    matrix_emulator.reset()
    matrix_emulator.configure(prompt_delay=0, message_delay=0, vector_store_delay=0)

    with pytest.raises(RaiaPartialFailureError) as raised:
        batch(tmp_path, **options).execute({"ti": FakeTI()})

    assert "row 0 (key 'r0'): Gave up waiting for the prompt" in str(raised.value)
    assert "HTTP 404" in str(raised.value)
    polls = hits(matrix_emulator, "GET", POLL)
    assert [r.status for r in polls] == [404]
    assert hits(matrix_emulator, "POST", ASYNC) == []
    assert waits.seconds == []
    # The next retry asks the row anew rather than reading the lost id again.
    matrix_emulator.clear_requests()
    manifest = batch(tmp_path, **options).execute({"ti": FakeTI()})
    assert manifest["completed"] == ROWS_IN_BATCH
    assert asked(matrix_emulator, ASYNC) == ["0", "1", "2"]
