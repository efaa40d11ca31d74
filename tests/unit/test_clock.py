"""The provider's coroutine sleep: timer slack for long sleeps (waits wake in batches), none for short ones."""

from __future__ import annotations

import pytest

from raia_provider._core import clock


class StoppedLoop:
    """Stands in for the running loop: its clock reads ``now`` and never moves."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """What ``clock.asleep`` asked asyncio to sleep, with the loop's clock at 10.1 s."""
    asked: list[float] = []

    async def record(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(clock.asyncio, "get_running_loop", lambda: StoppedLoop(10.1))
    monkeypatch.setattr(clock.asyncio, "sleep", record)
    return asked


@pytest.mark.parametrize(("seconds", "wakes_at"), [(1.0, 11.25), (5.0, 15.25), (4.9, 15.0), (1.15, 11.25)])
async def test_a_long_sleep_ends_on_the_next_tick_never_earlier(
    slept: list[float], seconds: float, wakes_at: float
) -> None:
    await clock.asleep(seconds)
    (asked,) = slept
    assert 10.1 + asked == pytest.approx(wakes_at)
    assert seconds <= asked < seconds + clock.TIMER_SLACK


@pytest.mark.parametrize("seconds", [0.0, 0.02, 0.5, 0.999])
async def test_a_short_sleep_is_exact(slept: list[float], seconds: float) -> None:
    await clock.asleep(seconds)
    assert slept == [seconds]
