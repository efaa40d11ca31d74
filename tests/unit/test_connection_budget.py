"""One rate budget per connection, shared by every wait on an event loop: spreading, one pause per 429, one log line.

Time is virtual: the provider's monotonic clock and coroutine sleep are replaced by a clock that moves only
when a caller sleeps (to the end of its sleep), so spacing and pauses are exact and nothing really waits.
HTTP is mocked at the aiohttp layer (``tests.aiohttp_mock``).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from raia_provider._core import clock
from raia_provider._core.request_gate import RequestGate
from raia_provider._core.retry import SINGLE_ATTEMPT
from raia_provider.exceptions import RaiaConfigurationError, RaiaRateLimitError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.triggers.raia import RaiaPromptTrigger
from tests.aiohttp_mock import RecordedRequest, Reply, Router, mock_raia
from tests.conftest import UNIT_BASE_URL
from tests.task_doubles import SleepingClock
from tests.unit.payloads import COMPLETED

POLL = "/prompts/p-{}/response-on"


@pytest.fixture
def virtual(monkeypatch: pytest.MonkeyPatch) -> SleepingClock:
    time_ = SleepingClock()
    monkeypatch.setattr(clock, "monotonic", time_)
    monkeypatch.setattr(clock, "asleep", time_.sleep)
    return time_


@pytest.fixture
def starts(monkeypatch: pytest.MonkeyPatch, virtual: SleepingClock) -> list[float]:
    """The virtual time at which each request passed its connection's gate."""
    seen: list[float] = []
    original = RequestGate.acquire

    async def acquire(self: RequestGate) -> None:
        await original(self)
        seen.append(round(virtual.now - 100.0, 6))

    monkeypatch.setattr(RequestGate, "acquire", acquire)
    return seen


@pytest.fixture
def mocked() -> Iterator[Router]:
    with mock_raia(UNIT_BASE_URL, assert_all_called=False) as router:
        yield router


def budget(set_connection: Any, rate: float | str | None, conn_id: str = "raia_default") -> None:
    set_connection(conn_id, **({} if rate is None else {"requests_per_second": rate}))


# -- the connection setting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "parsed"), [(50, 50.0), ("50", 50.0), (" 0.5 ", 0.5), ("", None), (None, None)])
def test_the_budget_is_read_from_the_extra(set_connection: Any, raw: Any, parsed: float | None) -> None:
    budget(set_connection, raw)
    assert RaiaHook().settings.requests_per_second == parsed


@pytest.mark.parametrize("raw", [0, -1, "fast", True, "inf", [5]])
def test_a_bad_budget_is_refused_with_what_is_allowed(set_connection: Any, raw: Any) -> None:
    set_connection(requests_per_second=raw)
    with pytest.raises(RaiaConfigurationError, match=r"'requests_per_second' is .*greater than 0") as caught:
        RaiaHook().settings  # noqa: B018 - reading the settings validates them
    assert "raia_default" in str(caught.value)


# -- one gate per connection and loop -----------------------------------------------------------------------


async def test_hooks_on_one_connection_share_one_gate_and_other_connections_have_their_own(
    set_connection: Any,
) -> None:
    budget(set_connection, 5)
    budget(set_connection, 5, conn_id="raia_other")
    first, second, other = RaiaHook(), RaiaHook(), RaiaHook("raia_other")
    try:
        gates = [(await hook._aget_transport())._rate for hook in (first, second, other)]
    finally:
        for hook in (first, second, other):
            await hook.aclose()
    assert gates[0] is gates[1]
    assert gates[2] is not gates[0]
    assert (gates[0].rate, gates[2].rate) == (5.0, 5.0)


def test_each_event_loop_has_its_own_gate(set_connection: Any) -> None:
    budget(set_connection, 5)

    async def gate_of_a_new_hook() -> RequestGate:
        hook = RaiaHook()
        try:
            return (await hook._aget_transport())._rate
        finally:
            await hook.aclose()

    assert asyncio.run(gate_of_a_new_hook()) is not asyncio.run(gate_of_a_new_hook())


# -- spreading ----------------------------------------------------------------------------------------------


async def test_concurrent_waits_are_spread_within_the_budget_and_the_log_says_so_once(
    set_connection: Any, mocked: Router, starts: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    budget(set_connection, 5)
    for number in range(10):
        mocked.get(POLL.format(number)).respond(200, json=None)
    hooks = [RaiaHook(retry_policy=SINGLE_ATTEMPT) for _ in range(10)]
    with caplog.at_level(logging.INFO, logger="raia_provider._core.request_gate"):
        await asyncio.gather(*(hook.aget_prompt_response(prompt_id=f"p-{n}") for n, hook in enumerate(hooks)))
    for hook in hooks:
        await hook.aclose()
    # Ten requests at 5 a second: one every 0.2 s, none sooner (starts reserved in the order they asked).
    assert sorted(starts) == pytest.approx([0.2 * n for n in range(10)])
    notices = [r.getMessage() for r in caplog.records if "wait for their turn" in r.getMessage()]
    assert len(notices) == 1, notices  # the waits from 1.0 s on each qualified; said once
    assert "rate budget of 5 requests/s" in notices[0]
    assert "'raia_default'" in notices[0]


async def test_without_a_budget_requests_are_not_paced(
    set_connection: Any, mocked: Router, starts: list[float]
) -> None:
    budget(set_connection, None)
    mocked.get(POLL.format(1)).respond(200, json=None)
    hooks = [RaiaHook(retry_policy=SINGLE_ATTEMPT) for _ in range(5)]
    await asyncio.gather(*(hook.aget_prompt_response(prompt_id="p-1") for hook in hooks))
    for hook in hooks:
        await hook.aclose()
    assert starts == [0.0] * 5


# -- one pause for a 429 ------------------------------------------------------------------------------------


async def test_a_429_pauses_every_wait_on_the_connection_once_for_its_retry_after(
    set_connection: Any, mocked: Router, starts: list[float], virtual: SleepingClock
) -> None:
    budget(set_connection, 100)
    arrivals: list[tuple[str, float]] = []

    def answer_from(status: int, headers: dict[str, str] | None = None) -> Any:
        def answer(request: RecordedRequest) -> Reply:
            arrivals.append((request.url.path, round(virtual.now - 100.0, 6)))
            return Reply(status, json=None if status == 200 else {"message": "Too Many Requests"}, headers=headers)

        return answer

    mocked.get(POLL.format(1)).mock(side_effect=answer_from(429, {"Retry-After": "3"}))
    throttled = RaiaHook(retry_policy=SINGLE_ATTEMPT)
    with pytest.raises(RaiaRateLimitError):
        await throttled.aget_prompt_response(prompt_id="p-1")
    gate = (await throttled._aget_transport())._rate
    assert (gate.pauses, gate.paused_seconds) == (1, 3.0)
    # Other waits on the same connection (other hooks, other prompts) now start only after the pause.
    mocked.get(POLL.format(2)).mock(side_effect=answer_from(200))
    others = [RaiaHook(retry_policy=SINGLE_ATTEMPT) for _ in range(3)]
    await asyncio.gather(*(hook.aget_prompt_response(prompt_id="p-2") for hook in others))
    later = [at for path, at in arrivals if path.endswith("p-2/response-on")]
    assert len(later) == 3
    assert min(later) >= 3.0
    assert gate.pauses == 1  # one 429, one pause
    for hook in [throttled, *others]:
        await hook.aclose()


async def test_429s_of_one_burst_pause_once(set_connection: Any, mocked: Router, virtual: SleepingClock) -> None:
    budget(set_connection, None)
    release = asyncio.Event()

    async def throttle(request: RecordedRequest) -> Reply:
        await release.wait()  # all four are in flight before the first 429 comes back
        return Reply(429, json={"message": "Too Many Requests"}, headers={"Retry-After": "2"})

    mocked.get(POLL.format(1)).mock(side_effect=throttle)
    hooks = [RaiaHook(retry_policy=SINGLE_ATTEMPT) for _ in range(4)]
    polls = [asyncio.ensure_future(hook.aget_prompt_response(prompt_id="p-1")) for hook in hooks]
    while len(mocked.calls) < 4:
        await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*polls, return_exceptions=True)
    assert all(isinstance(result, RaiaRateLimitError) for result in results)
    gate = (await hooks[0]._aget_transport())._rate
    assert gate.pauses == 1
    assert gate.paused_seconds == 2.0
    for hook in hooks:
        await hook.aclose()


async def test_a_retry_after_beyond_the_cap_pauses_only_for_the_cap(
    set_connection: Any, mocked: Router, virtual: SleepingClock
) -> None:
    budget(set_connection, None)
    mocked.get(POLL.format(1)).respond(429, json={"message": "Too Many Requests"}, headers={"Retry-After": "999999"})
    hook = RaiaHook(retry_policy=SINGLE_ATTEMPT)
    with pytest.raises(RaiaRateLimitError):
        await hook.aget_prompt_response(prompt_id="p-1")
    assert (await hook._aget_transport())._rate.paused_seconds == 120.0
    await hook.aclose()


# -- triggers ------------------------------------------------------------------------------------------------


async def test_many_triggers_on_one_budget_each_yield_one_event(
    set_connection: Any, mocked: Router, starts: list[float], virtual: SleepingClock
) -> None:
    budget(set_connection, 10)
    count = 20
    for number in range(count):
        mocked.get(POLL.format(number)).mock(
            side_effect=[Reply(200, json=None), Reply(429, headers={"Retry-After": "1"}), Reply(200, json=COMPLETED)]
        )
    triggers = [
        RaiaPromptTrigger(prompt_id=f"p-{n}", conn_id="raia_default", poll_interval=0.5, end_time=time.time() + 600)
        for n in range(count)
    ]

    async def events(trigger: RaiaPromptTrigger) -> list[Any]:
        return [event.payload async for event in trigger.run()]

    results = await asyncio.gather(*(events(trigger) for trigger in triggers))
    assert [len(payloads) for payloads in results] == [1] * count
    assert {payloads[0]["status"] for payloads in results} == {"success"}
    assert len(starts) == 3 * count
    # Together they never started more than 10 requests in any second (the budget) ...
    ordered = sorted(starts)
    assert all(later - earlier >= 0.1 - 1e-9 for earlier, later in itertools.pairwise(ordered))
