"""The batch's request gate: pacing, one shared pause after a 429, and adapting to raia's limit."""

from __future__ import annotations

import asyncio

import pytest

from raia_provider._core.request_gate import MIN_RATE, RequestGate
from tests.task_doubles import SleepingClock


def gate(rate: float | None, clock: SleepingClock) -> RequestGate:
    return RequestGate(rate, clock=clock, sleep=clock.sleep)


def test_starts_are_spaced_one_interval_apart_without_a_burst() -> None:
    clock = SleepingClock()
    paced = gate(10, clock)

    async def start_times() -> list[float]:
        starts = []
        for _ in range(5):
            await paced.acquire()
            starts.append(round(clock.now - 100.0, 6))
        return starts

    assert asyncio.run(start_times()) == [0.0, 0.1, 0.2, 0.3, 0.4]


def test_concurrent_callers_line_up_instead_of_starting_together() -> None:
    clock = SleepingClock()
    paced = gate(4, clock)
    starts: list[float] = []

    async def caller() -> None:
        await paced.acquire()
        starts.append(round(clock.now - 100.0, 6))

    async def run() -> None:
        await asyncio.gather(*(caller() for _ in range(4)))

    asyncio.run(run())
    assert sorted(starts) == [0.0, 0.25, 0.5, 0.75]


def test_a_429_pauses_everyone_until_retry_after_then_they_resume_one_slot_at_a_time() -> None:
    clock = SleepingClock()
    paced = gate(10, clock)
    starts: list[float] = []

    async def run() -> None:
        await paced.acquire()  # t=0
        paced.throttled(2.0)  # raia: come back in 2 s
        await asyncio.gather(*(record() for _ in range(3)))

    async def record() -> None:
        await paced.acquire()
        starts.append(round(clock.now - 100.0, 6))

    asyncio.run(run())
    assert min(starts) >= 2.0  # nobody started during the pause
    gaps = [b - a for a, b in zip(sorted(starts), sorted(starts)[1:], strict=False)]
    assert all(gap >= 1 / 10 for gap in gaps)  # and not all at once afterwards
    assert paced.pauses == 1
    assert paced.paused_seconds == pytest.approx(2.0)


def test_a_caller_already_waiting_for_its_slot_honours_a_pause_that_begins_meanwhile() -> None:
    clock = SleepingClock()
    paced = gate(1, clock)

    async def run() -> float:
        await paced.acquire()  # t=0; the next slot is t=1
        waiting = asyncio.ensure_future(paced.acquire())
        await asyncio.sleep(0)  # the waiter has reserved t=1 and sleeps
        paced.throttled(5.0)  # at t=0 (the fake clock has not moved for the pause)
        await waiting
        return clock.now - 100.0

    assert asyncio.run(run()) >= 5.0


def test_the_429s_of_one_burst_lower_the_pace_once_and_success_raises_it_back_to_the_ceiling() -> None:
    clock = SleepingClock()
    paced = gate(50, clock)

    async def burst(n: int) -> None:
        for _ in range(n):
            await paced.acquire()

    asyncio.run(burst(20))  # 20 starts in 0.4 s: 20 were sent in the last second
    paced.throttled(1.0)
    paced.throttled(1.0)  # a second 429 of the same burst
    assert paced.rate == pytest.approx(10.0)  # half of what was just sent, once
    for _ in range(5000):
        paced.succeeded()
    assert paced.rate == 50  # never above requests_per_second


def test_without_a_configured_rate_the_first_429_teaches_one() -> None:
    clock = SleepingClock()
    paced = gate(None, clock)

    async def burst() -> None:
        for _ in range(16):
            await paced.acquire()

    asyncio.run(burst())
    assert paced.rate is None
    paced.throttled(1.0)
    assert paced.rate == pytest.approx(8.0)
    for _ in range(10):
        paced.throttled(1.0)
        clock.now += 1.01  # each a separate pause, with nothing sent in between
    assert paced.rate == MIN_RATE  # never slower than the floor
