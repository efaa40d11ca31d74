"""Stand-ins for the parts of Airflow's task context the operators use, shared by the operator tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any


def _plain(value: Any) -> Any:
    # XCom and the task state store keep JSON: what comes back is what a JSON round trip gives.
    return json.loads(json.dumps(value))


class FakeTI:
    """A task instance's ``xcom_push``: what was pushed, in order (``pushed``) and by key (``xcom``)."""

    def __init__(self) -> None:
        self.pushed: list[tuple[str, Any]] = []
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed.append((key, _plain(value)))
        self.xcom[key] = _plain(value)


class FakeStateStore:
    """Airflow 3.3's ``task_state_store`` over a dict: survives from one try of the task to the next."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any, **_: Any) -> None:
        assert value is not None  # the real store refuses None
        self.data[key] = _plain(value)


class FakeVariables:
    """``airflow.sdk.Variable`` over a dict: what a run stores survives to the next run (or try)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: str, description: str | None = None) -> None:
        self.values[key] = value


class FakeOutletEvents:
    """``context["outlet_events"]``: the ``extra`` of every event the run added, on any alias."""

    def __init__(self) -> None:
        self.added: list[dict[str, Any] | None] = []

    def __getitem__(self, alias: Any) -> Any:
        events = self

        class Accessor:
            def add(self, asset: Any, extra: dict[str, Any] | None = None) -> None:
                events.added.append(extra)

        return Accessor()


class SleepingClock:
    """A monotonic clock that only moves when a caller sleeps: to the end of its sleep, once it wakes.

    Sleepers wake in the order they went to sleep, which is the order of a rate gate's reserved slots.
    """

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake_at = self.now + seconds
        await asyncio.sleep(0)  # let the other callers run (and reserve their slots), as a real sleep would
        self.now = max(self.now, wake_at)


class FakeClock:
    """A clock the test moves by hand (``clock.now += seconds``); call it for the time."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
