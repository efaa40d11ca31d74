"""The fault matrix of ``docs/reliability.md``: its rows, and what every column's tests share.

One test module per column (``test_faults_<column>.py``) runs each row against the emulator over real
sockets and asserts what the doc says: the outcome (recovered, or which exception and message), how many
requests reached the faulted endpoint, the waits between them, and that nothing done before the fault is
lost. Each module declares :class:`Column`: its name in the doc and why a row does not apply to it, so
``test_reliability_doc.py`` can check that the doc and the tests cover the same cells.

Waits are recorded, not waited: every backoff and poll interval of the provider goes through
:mod:`raia_provider._core.clock`, which the ``waits`` fixture replaces. Real time passes only where the row
is about time (read timeout, pending forever).
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import pytest

from raia_provider._core.retry import RetryPolicy
from raia_provider.exceptions import (
    RaiaAuthError,
    RaiaConnectionError,
    RaiaError,
    RaiaMalformedResponseError,
    RaiaNotFoundError,
    RaiaRateLimitError,
    RaiaServerError,
    RaiaTimeoutError,
)
from raia_provider.testing import RaiaEmulator
from raia_provider.testing.emulator.faults import FaultKind
from raia_provider.testing.emulator.requestlog import RecordedRequest

#: The provider's default policy: what every operator's requests are retried with unless it says otherwise.
DEFAULT_POLICY = RetryPolicy()
ATTEMPTS = DEFAULT_POLICY.max_attempts
#: A burst of faults shorter than the retries: the task must recover.
BURST = 2
#: The ``Retry-After`` the 429 row sends (seconds).
RETRY_AFTER = 3
#: The hook's read timeout in the read-timeout row (the operators' own default is 120 s) and the emulator's
#: delay, long enough to trip it.
READ_TIMEOUT = 0.5
SLOW_DELAY = 1.5


@dataclass(frozen=True)
class FaultRow:
    """One row of the matrix.

    :param id: the test id, e.g. ``503``.
    :param title: the row's first cell in ``docs/reliability.md``.
    :param kind: the emulator's fault kind; ``None`` for rows that are not injected (refused, raia outcomes).
    :param status: the status of ``status``/``html`` faults.
    :param retry_after: ``Retry-After`` seconds of a 429.
    :param error: the typed exception one failed request raises.
    :param took_effect: whether raia ran the request although the client saw a failure.
    """

    id: str
    title: str
    kind: FaultKind | None = None
    status: int | None = None
    retry_after: int | None = None
    error: type[RaiaError] | None = None
    took_effect: bool = False

    def inject(self, emulator: RaiaEmulator, method: str, path: str, *, count: int, after: int = 0) -> None:
        """Make ``count`` requests to ``method path`` fail this row's way, after ``after`` good ones.

        :param emulator: the emulator.
        :param method: the faulted request's method.
        :param path: its path pattern (``{id}`` templates allowed).
        :param count: how many requests fail.
        :param after: how many matching requests pass first.
        """
        assert self.kind is not None, f"row {self.id} is not an injected fault"
        emulator.inject_fault(
            kind=self.kind,
            method=method,
            path=path,
            count=count,
            after=after,
            status=self.status,
            retry_after=self.retry_after,
            delay=SLOW_DELAY if self.kind == "slow" else 0.0,
        )


#: Faults that retrying can cure, injected by the emulator.
TRANSIENT: tuple[FaultRow, ...] = (
    FaultRow("429-retry-after", "429 with `Retry-After`", "status", 429, RETRY_AFTER, RaiaRateLimitError),
    FaultRow("429", "429 without `Retry-After`", "status", 429, None, RaiaRateLimitError),
    FaultRow("500", "500", "status", 500, error=RaiaServerError),
    FaultRow("502", "502", "status", 502, error=RaiaServerError),
    FaultRow("503", "503", "status", 503, error=RaiaServerError),
    FaultRow("504", "504", "status", 504, error=RaiaServerError),
    FaultRow("reset", "connection reset before the response", "reset", error=RaiaConnectionError),
    FaultRow(
        "reset-mid-response",
        "connection reset mid-response",
        "reset_mid_response",
        error=RaiaConnectionError,
        took_effect=True,
    ),
    FaultRow("read-timeout", "read timeout", "slow", error=RaiaTimeoutError, took_effect=True),
    FaultRow("malformed-json", "malformed JSON (200)", "malformed_json", error=RaiaMalformedResponseError),
    FaultRow("html", "HTML error page (502)", "html", 502, error=RaiaServerError),
)
#: Nothing listens: every attempt fails before reaching raia.
REFUSED = FaultRow("refused", "connection refused", error=RaiaConnectionError)
#: Statuses no retry cures.
PERMANENT: tuple[FaultRow, ...] = (
    FaultRow("401", "401", "status", 401, error=RaiaAuthError),
    FaultRow("403", "403", "status", 403, error=RaiaAuthError),
    FaultRow("404", "404", "status", 404, error=RaiaNotFoundError),
)
#: What raia itself answers: not faults of the wire.
PENDING_FOREVER = FaultRow("pending-forever", "prompt pending forever")
PROMPT_FAILED = FaultRow("prompt-failed", "prompt `failed`")
VANISHED = FaultRow("vanished-id", "conversation or file id that vanished")
RAIA_OUTCOMES: tuple[FaultRow, ...] = (PENDING_FOREVER, PROMPT_FAILED, VANISHED)

ROWS: tuple[FaultRow, ...] = (*TRANSIENT, REFUSED, *PERMANENT, *RAIA_OUTCOMES)
ROW_IDS = frozenset(row.id for row in ROWS)


def rows(*ids: str) -> list[FaultRow]:
    """The rows with these ids, in the matrix's order.

    :param ids: row ids.
    """
    unknown = set(ids) - ROW_IDS
    assert not unknown, f"unknown rows {unknown}"
    return [row for row in ROWS if row.id in ids]


def params(selected: Iterable[FaultRow]) -> list[object]:
    """``pytest.param`` per row, with the row id as the test id.

    :param selected: the rows.
    """
    return [pytest.param(row, id=row.id) for row in selected]


TestFunction = TypeVar("TestFunction", bound=Callable[..., object])


def covers(*ids: str) -> Callable[[TestFunction], TestFunction]:
    """Mark a test that is not parametrized over rows as the proof of these rows' cells.

    :param ids: row ids.
    """
    assert set(ids) <= ROW_IDS, f"unknown rows {set(ids) - ROW_IDS}"

    def mark(test: TestFunction) -> TestFunction:
        test.__covers__ = ids  # type: ignore[attr-defined]
        return test

    return mark


def covered_rows(module: object) -> set[str]:
    """The row ids a column module's tests prove: its ``row`` parameters and its :func:`covers` marks.

    :param module: a ``test_faults_*`` module.
    """
    covered: set[str] = set()
    for name, test in vars(module).items():
        if not name.startswith("test_") or not callable(test):
            continue
        covered.update(getattr(test, "__covers__", ()))
        for mark in getattr(test, "pytestmark", []):
            if mark.name == "parametrize" and mark.args[0] == "row":
                covered.update(param.values[0].id for param in mark.args[1])
    return covered


@dataclass(frozen=True)
class Column:
    """A column of the matrix: one task (or trigger) and the rows that do not apply to it.

    :param name: the heading of its section in ``docs/reliability.md``.
    :param not_applicable: row id → why the row cannot happen to this task.
    """

    name: str
    not_applicable: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert set(self.not_applicable) <= ROW_IDS

    @property
    def applicable(self) -> list[FaultRow]:
        """The rows this column is tested with."""
        return [row for row in ROWS if row.id not in self.not_applicable]


class Waits:
    """Every wait the provider asked for (backoffs and poll intervals), in seconds, in order.

    Set ``real`` to also wait for real (the rows about time); otherwise a wait is only recorded, and the
    monotonic clock that paces requests (:func:`monotonic`) moves on by it, as it would have: a connection's
    rate gate, paused by a 429, then sees the backoff already outlasted the pause, as it does for real.
    """

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.real = False
        self._real_sleep = time.sleep
        self._skipped = 0.0

    def monotonic(self) -> float:
        """The monotonic clock, moved on by every wait only recorded."""
        return time.monotonic() + self._skipped

    def _record(self, seconds: float) -> None:
        self.seconds.append(seconds)
        if not self.real:
            self._skipped += max(seconds, 0.0)

    def sleep(self, seconds: float) -> None:
        self._record(seconds)
        if self.real:
            self._real_sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        self._record(seconds)
        # Always yield to the loop, as a real sleep does, so other coroutines (and the trigger's) progress.
        await asyncio.sleep(seconds if self.real else 0)


def expected_backoff(row: FaultRow, failures: int, policy: RetryPolicy = DEFAULT_POLICY) -> list[tuple[float, float]]:
    """The ``(low, high)`` range of each wait after ``failures`` failed attempts of ``row``.

    :param row: the fault.
    :param failures: failed attempts followed by a wait.
    :param policy: the policy retrying them.
    """
    ranges = []
    for attempt in range(1, failures + 1):
        if row.retry_after is not None:
            ranges.append((float(row.retry_after), float(row.retry_after)))
        else:
            backoff = min(policy.initial_wait * 2 ** (attempt - 1), policy.max_wait)
            ranges.append((backoff, backoff + policy.jitter))
    return ranges


def assert_backoff(
    waits: Iterable[float],
    row: FaultRow,
    *,
    failures: int,
    slack: float = 0.0,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> None:
    """Assert ``waits`` are the backoffs ``policy`` documents after each failure of ``row``.

    :param waits: the recorded waits.
    :param row: the fault.
    :param failures: how many failures were followed by a wait (required: an empty list must not pass).
    :param slack: how much shorter than documented a wait may be (a wait that ends at a deadline set when
        the failure arrived is short by the moments since).
    :param policy: the policy.
    """
    waits = list(waits)
    assert len(waits) == failures, f"{len(waits)} waits, expected one after each of {failures} failures: {waits}"
    ranges = expected_backoff(row, len(waits), policy)
    for wait, (low, high) in zip(waits, ranges, strict=True):
        assert low - slack <= wait <= high, f"waits {waits} are not the documented backoff {ranges}"


def refuse_connections(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    """Point ``raia_default`` at a loopback port nothing listens on.

    :param monkeypatch: pytest's monkeypatch.
    :param key: the key the connection carries.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Closed at once: connecting now is refused (the kernel answers RST), as for a raia that is down.
    monkeypatch.setenv(
        "AIRFLOW_CONN_RAIA_DEFAULT",
        json.dumps({"conn_type": "raia", "password": key, "host": f"http://127.0.0.1:{port}/external"}),
    )


def settle(emulator: RaiaEmulator, timeout: float = 10.0) -> None:
    """Return once every request the emulator received has been answered (a slow fault runs the request after
    the client gave up; its effect lands later).

    :param emulator: the emulator.
    :param timeout: the longest wait, in seconds.
    """
    deadline = time.monotonic() + timeout
    while any(not request.finished for request in emulator.requests()):
        assert time.monotonic() < deadline, "the emulator is still answering requests"
        time.sleep(0.02)


def hits(emulator: RaiaEmulator, method: str, path: str) -> list[RecordedRequest]:
    """The requests that reached ``method path`` (faulted or not), in order.

    :param emulator: the emulator.
    :param method: the method.
    :param path: the exact path or a path pattern.
    """
    return emulator.requests(method=method, path=path)
