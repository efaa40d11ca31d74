"""The event loop's shared aiohttp session over real loopback sockets: across loops, and under many triggers.

Real connections are what a loop binds to (a keep-alive socket belongs to the loop that opened it), so
these run against the emulator rather than an HTTP-layer mock.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from raia_provider._core.async_transport import shared_client_users
from raia_provider.hooks.raia import RaiaHook
from raia_provider.testing import RaiaEmulator
from raia_provider.triggers.raia import RaiaPromptTrigger

pytestmark = pytest.mark.integration

BOUND = 15.0


def test_a_hook_reused_across_event_loops_keeps_working(emulator: RaiaEmulator) -> None:
    # As a task that calls asyncio.run more than once with one hook: each loop gets its own connections.
    hook = RaiaHook()
    names = [asyncio.run(hook.aget_agent()).name for _ in range(3)]
    assert names == [names[0]] * 3
    asyncio.run(hook.aclose())
    assert len(emulator.requests("GET", "/external/agents/by-api-key")) == 3


def test_fresh_hooks_on_fresh_loops_leave_nothing_behind(emulator: RaiaEmulator) -> None:
    async def one_run() -> int:
        hook = RaiaHook()
        try:
            await hook.aget_agent()
            return shared_client_users()
        finally:
            await hook.aclose()

    assert [asyncio.run(one_run()) for _ in range(3)] == [1, 1, 1]


async def test_many_triggers_on_one_loop_share_its_client_and_each_gets_its_event(emulator: RaiaEmulator) -> None:
    emulator.configure(prompt_delay=None)  # pending until completed below
    hook = RaiaHook()
    prompt_ids = [hook.create_prompt(prompt=f"question {i}").prompt_id for i in range(40)]
    hook.close()

    async def run(prompt_id: str) -> list[dict[str, Any]]:
        trigger = RaiaPromptTrigger(
            prompt_id=prompt_id, conn_id="raia_default", poll_interval=0.02, end_time=time.time() + BOUND
        )
        return [event.payload async for event in trigger.run()]

    tasks = [asyncio.ensure_future(run(prompt_id)) for prompt_id in prompt_ids]
    deadline = time.monotonic() + BOUND
    while len({r.path for r in emulator.requests("GET", "/external/prompts/{id}/response-on")}) < len(prompt_ids):
        assert time.monotonic() < deadline, "not every trigger polled"
        await asyncio.sleep(0.01)
    assert shared_client_users() == len(prompt_ids)

    for index, prompt_id in enumerate(prompt_ids):  # they finish one by one, the others still polling
        emulator.complete_prompt(prompt_id, response=f"answer {index}")
        await asyncio.sleep(0.005)
    results = await asyncio.wait_for(asyncio.gather(*tasks), BOUND)
    assert [[(e["status"], e["result"]["response"]) for e in events] for events in results] == [
        [("success", f"answer {index}")] for index in range(len(prompt_ids))
    ]
    assert shared_client_users() == 0
