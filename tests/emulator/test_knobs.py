"""The emulator's knobs: latency, async prompt delay, pending style, rate limit."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest
import requests

from raia_provider.testing.emulator.server import RaiaEmulator
from raia_provider.testing.emulator.state import Agent, EmulatorConfig, EmulatorState
from tests.task_doubles import FakeClock

if TYPE_CHECKING:
    from conftest import Api


class PauseProbe:
    """Stands in for the server's pause (run in its event loop): records each emulated delay and the overlap.

    With ``together`` set, each pause holds until that many are in flight at once, so a server that handled
    requests one at a time would never reach it (each pause then ends at the hang guard, overlap 1). Released
    together, they enter the real pause in one pass of the loop: if it blocked the loop, they would go through
    it one at a time.

    :param real: the server's own pause, awaited after the probe's bookkeeping.
    :param together: how many pauses must be in flight before any ends (0: do not wait).
    """

    def __init__(self, real: Callable[[float], Awaitable[bool]], together: int = 0) -> None:
        self.real, self.together = real, together
        self.seconds: list[float] = []
        self.in_flight = self.most_in_flight = 0
        self.in_real = self.most_in_real = 0
        self._all_in: asyncio.Event | None = None

    async def __call__(self, seconds: float) -> bool:
        self._all_in = self._all_in or asyncio.Event()
        self.seconds.append(seconds)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if self.in_flight >= self.together:
            self._all_in.set()
        try:
            with contextlib.suppress(TimeoutError):  # a hang guard, not a threshold: the overlap is asserted
                await asyncio.wait_for(self._all_in.wait(), timeout=30)
            self.in_real += 1
            self.most_in_real = max(self.most_in_real, self.in_real)
            try:
                return await self.real(seconds)
            finally:
                self.in_real -= 1
        finally:
            self.in_flight -= 1


def probe_pauses(emulator: RaiaEmulator, monkeypatch: pytest.MonkeyPatch, together: int = 0) -> PauseProbe:
    """Put a :class:`PauseProbe` in front of the running emulator's pause (undone after the test)."""
    hooks = emulator._hooks
    probe = PauseProbe(hooks.pause, together)
    monkeypatch.setattr(hooks, "pause", probe)
    return probe


def test_latency_delays_every_external_response(
    raia_emulator: RaiaEmulator, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = probe_pauses(raia_emulator, monkeypatch)
    raia_emulator.configure(latency=0.3)

    api.prompt("Hi")
    api.call("GET", "/agents/by-api-key", key=None)

    assert probe.seconds == [0.3, 0.3]  # one emulated delay of the knob's length before each answer
    assert [entry.status for entry in raia_emulator.requests()] == [200, 403]


def test_latency_does_not_block_other_requests(
    raia_emulator: RaiaEmulator, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Latency is an async sleep: four concurrent calls are all in their delay at once, not one after another."""
    probe = probe_pauses(raia_emulator, monkeypatch, together=4)
    raia_emulator.configure(latency=0.5)
    url, headers = f"{api.base_url}/agents/by-api-key", {"Agent-Secret-Key": api.key}
    with concurrent.futures.ThreadPoolExecutor(4) as pool:  # one connection per call, no shared session
        statuses = list(pool.map(lambda _: requests.get(url, headers=headers, timeout=60).status_code, range(4)))

    assert statuses == [200] * 4
    assert probe.seconds == [0.5] * 4
    assert probe.most_in_flight == 4  # the server took all four in at once
    assert probe.most_in_real == 4  # and the delay itself did not hold the loop


def test_prompt_settles_on_first_poll_at_or_after_the_delay() -> None:
    clock = FakeClock()
    state = EmulatorState(key="k", config=EmulatorConfig(prompt_delay=2.0), clock=clock)
    agent = state.default_agent
    record = state.create_prompt(agent, "Hi", None, [])

    clock.now += 1.999
    assert state.poll_prompt(agent.id, record.id).status == "pending"  # type: ignore[union-attr]
    clock.now += 0.001
    polled = state.poll_prompt(agent.id, record.id)
    assert polled is not None
    assert polled.status == "completed"
    assert polled.polls == 2


def test_prompt_delay_is_fixed_when_the_prompt_is_created() -> None:
    clock = FakeClock()
    state = EmulatorState(key="k", config=EmulatorConfig(prompt_delay=1.0), clock=clock)
    agent: Agent = state.default_agent
    early = state.create_prompt(agent, "early", None, [])
    state.configure(prompt_delay=None)  # hold every *new* prompt
    held = state.create_prompt(agent, "held", None, [])

    clock.now += 3600
    assert state.poll_prompt(agent.id, early.id).status == "completed"  # type: ignore[union-attr]
    assert state.poll_prompt(agent.id, held.id).status == "pending"  # type: ignore[union-attr]


def test_held_prompts_wait_for_the_control_api(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.configure(prompt_delay=None)
    prompt_id = api.create("Hi")

    assert api.poll(prompt_id).json() is None
    assert [p.id for p in raia_emulator.prompts()] == [prompt_id]
    raia_emulator.complete_prompt(prompt_id)
    assert api.poll(prompt_id).json()["status"] == "completed"


def test_rate_limit_answers_429_with_retry_after_then_recovers(
    raia_emulator: RaiaEmulator, api: Api, wait_for: Callable[..., Any]
) -> None:
    raia_emulator.configure(rate_limit=5, burst=3)

    statuses = [api.call("GET", "/agents/by-api-key").status_code for _ in range(3)]
    limited = api.call("GET", "/agents/by-api-key")

    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert limited.json() == {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}
    assert int(limited.headers["Retry-After"]) >= 1
    # One token comes back every 0.2 s.
    wait_for(lambda: True if api.call("GET", "/agents/by-api-key").status_code == 200 else None, timeout=3)


def test_rate_limit_is_per_agent(raia_emulator: RaiaEmulator, api: Api) -> None:
    other = raia_emulator.add_agent(key="agent-b-key-000004", name="B")
    raia_emulator.configure(rate_limit=0.5, burst=1)

    assert api.prompt("Hi").status_code == 200
    assert api.prompt("Hi").status_code == 429
    assert api.prompt("Hi", key=other.key).status_code == 200


def test_retry_after_is_whole_seconds_until_a_token_is_free(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.configure(rate_limit=0.25, burst=1)  # one token every 4 s
    api.prompt("Hi")

    retry_after = api.prompt("Hi").headers["Retry-After"]

    assert retry_after.isdigit()
    assert 3 <= int(retry_after) <= 4


def test_unauthenticated_requests_do_not_spend_tokens(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.configure(rate_limit=0.5, burst=1)

    assert [api.prompt("Hi", key="wrong").status_code for _ in range(3)] == [403, 403, 403]
    assert api.prompt("Hi").status_code == 200


@pytest.mark.parametrize(
    "changes",
    [
        {"latency": -1},
        {"prompt_delay": -0.1},
        {"pending_style": "sometimes"},
        {"rate_limit": 0},
        {"burst": 0},
    ],
)
def test_invalid_knobs_are_refused(raia_emulator: RaiaEmulator, changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each knob has its own message
        raia_emulator.configure(**changes)
    assert raia_emulator.config == EmulatorConfig()


def test_constructor_knobs_are_what_reset_returns_to() -> None:
    emulator = RaiaEmulator(key="k", prompt_delay=None, latency=0.1, pending_style="status", rate_limit=2)
    emulator.configure(latency=0, pending_style="null")

    emulator.reset()

    assert emulator.config == EmulatorConfig(prompt_delay=None, latency=0.1, pending_style="status", rate_limit=2)


def test_message_answer_settles_on_first_poll_at_or_after_the_delay() -> None:
    clock = FakeClock()
    state = EmulatorState(key="k", config=EmulatorConfig(message_delay=2.0), clock=clock)
    agent = state.default_agent
    user = state.workspace.create_user(agent.id, first_name="A", last_name="B", fk_id="1")
    conversation = state.workspace.create_conversation(agent.id, user.id)
    question, _ = state.workspace.send_message(
        agent.id, agent.name, conversation.id, "Hi", delay=state.config.message_delay
    )

    clock.now += 1.999
    assert state.workspace.poll_message(agent.id, conversation.id, question.id)[0].status == "pending"
    clock.now += 0.001
    job, reply = state.workspace.poll_message(agent.id, conversation.id, question.id)
    assert job.status == "completed"
    assert reply is not None
    assert reply.question_id == question.id


def test_vector_store_processing_ends_after_the_delay() -> None:
    clock = FakeClock()
    state = EmulatorState(key="k", config=EmulatorConfig(vector_store_delay=5.0), clock=clock)
    agent_id = state.default_agent.id
    agent_file = state.workspace.add_file(
        agent_id, file_name="a.txt", content_type="text/plain", size=1, sha256="0", to_vector_store=True, delay=5.0
    )

    clock.now += 4.9
    assert [f.vector_store_status for f in state.workspace.files(agent_id)] == ["processing"]
    clock.now += 0.1
    assert [f.vector_store_status for f in state.workspace.files(agent_id)] == ["done"]
    assert agent_file.vector_store_status == "processing"  # records are snapshots


@pytest.mark.parametrize(
    "changes",
    [{"message_delay": -1}, {"vector_store_delay": -0.5}, {"message_status_vocabulary": "docs"}],
)
def test_invalid_conversation_knobs_are_refused(raia_emulator: RaiaEmulator, changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each knob has its own message
        raia_emulator.configure(**changes)
    assert raia_emulator.config == EmulatorConfig()
