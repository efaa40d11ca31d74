"""Every hook on an event loop shares that loop's one aiohttp session (mocked, ``tests.aiohttp_mock``).

One client per loop is what lets a triggerer run a thousand raia triggers in a few MiB
(``benchmarks/p2_triggers.py``); these tests hold the rules that make sharing safe: the last user closes
it, a loop never uses another loop's client, and nothing of one hook (timeouts, key, cookies) leaks into
another's requests.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from raia_provider._core.async_transport import AsyncTransport, shared_client_users
from raia_provider._core.retry import SINGLE_ATTEMPT
from raia_provider.exceptions import RaiaTimeoutError
from raia_provider.hooks.raia import RaiaHook
from tests.aiohttp_mock import RecordedRequest, Reply, mock_raia
from tests.conftest import TEST_KEY, UNIT_BASE_URL
from tests.unit.payloads import COMPLETED

pytestmark = pytest.mark.usefixtures("unit_connection")

POLL = "/prompts/abc/response-on"


@pytest.fixture
def mocked() -> Any:
    with mock_raia(UNIT_BASE_URL, assert_all_called=False) as router:
        router.get(POLL).respond(200, json=COMPLETED)
        yield router


def client_of(hook: RaiaHook) -> aiohttp.ClientSession:
    transport = hook._async_transport
    assert transport is not None
    assert transport._session is not None
    return transport._session


async def test_hooks_on_one_loop_share_one_client(mocked: Any) -> None:
    first, second = RaiaHook(), RaiaHook()
    await first.aget_prompt_response(prompt_id="abc")
    await second.aget_prompt_response(prompt_id="abc")
    assert client_of(first) is client_of(second)
    assert shared_client_users() == 2
    await first.aclose()
    await second.aclose()


async def test_a_hooks_aclose_leaves_the_shared_client_to_the_others(mocked: Any) -> None:
    first, second = RaiaHook(), RaiaHook()
    await first.aget_prompt_response(prompt_id="abc")
    await second.aget_prompt_response(prompt_id="abc")
    client = client_of(first)

    await first.aclose()
    assert not client.closed
    assert shared_client_users() == 1
    assert await second.aget_prompt_response(prompt_id="abc") is not None  # still works
    assert first._async_transport is None

    await second.aclose()  # the last user closes it
    assert client.closed
    assert shared_client_users() == 0

    third = RaiaHook()  # a hook after that opens a new one on the same loop
    await third.aget_prompt_response(prompt_id="abc")
    assert client_of(third) is not client
    assert not client_of(third).closed
    await third.aclose()


async def test_aclose_twice_counts_out_once(mocked: Any) -> None:
    first, second = RaiaHook(), RaiaHook()
    await first.aget_prompt_response(prompt_id="abc")
    await second.aget_prompt_response(prompt_id="abc")
    await first.aclose()
    await first.aclose()
    assert shared_client_users() == 1
    assert not client_of(second).closed
    await second.aclose()


async def test_concurrent_first_calls_of_one_hook_open_one_transport(mocked: Any) -> None:
    hook = RaiaHook()
    await asyncio.gather(*(hook.aget_prompt_response(prompt_id="abc") for _ in range(5)))
    assert shared_client_users() == 1
    await hook.aclose()
    assert shared_client_users() == 0


def test_each_event_loop_gets_its_own_client(unit_connection: str) -> None:
    clients: list[aiohttp.ClientSession] = []

    async def one_run() -> None:
        hook = RaiaHook()
        try:
            assert await hook.aget_prompt_response(prompt_id="abc") is not None
            clients.append(client_of(hook))
        finally:
            await hook.aclose()

    with mock_raia(UNIT_BASE_URL) as router:
        router.get(POLL).respond(200, json=COMPLETED)
        for _ in range(3):
            asyncio.run(one_run())
    assert len({id(client) for client in clients}) == 3
    assert all(client.closed for client in clients)


def test_a_hook_reused_on_a_new_loop_opens_a_new_transport(unit_connection: str) -> None:
    hook = RaiaHook(retry_policy=SINGLE_ATTEMPT)
    seen: list[tuple[AsyncTransport, aiohttp.ClientSession]] = []

    async def poll() -> None:  # no aclose: the hook outlives the loop, as in a task that calls asyncio.run twice
        assert await hook.aget_prompt_response(prompt_id="abc") is not None
        assert hook._async_transport is not None
        seen.append((hook._async_transport, client_of(hook)))

    with mock_raia(UNIT_BASE_URL) as router:
        router.get(POLL).respond(200, json=COMPLETED)
        asyncio.run(poll())
        asyncio.run(poll())
    (first_transport, first_client), (second_transport, second_client) = seen
    assert second_transport is not first_transport
    assert second_client is not first_client
    assert first_transport._session is None  # let go of, never used on the second loop

    async def close() -> None:
        await hook.aclose()

    asyncio.run(close())  # closing from yet another loop counts out without touching the old loop
    assert hook._async_transport is None


async def test_each_hook_keeps_its_own_timeouts_and_key(mocked: Any, set_connection: Any) -> None:
    set_connection("raia_other", key="sk-other-key")
    release = asyncio.Event()

    async def answer(request: RecordedRequest) -> Reply:
        await release.wait()
        return Reply(200, json=COMPLETED)

    route = mocked.get("/prompts/xyz/response-on").mock(side_effect=answer)
    quick = RaiaHook(connect_timeout=1.5, read_timeout=0.2, retry_policy=SINGLE_ATTEMPT)
    patient = RaiaHook("raia_other", connect_timeout=20.0, read_timeout=300.0, retry_policy=SINGLE_ATTEMPT)
    patient_poll = asyncio.ensure_future(patient.aget_prompt_response(prompt_id="xyz"))
    # The same slow answer, on one shared session: the quick hook's own read timeout ends its wait ...
    with pytest.raises(RaiaTimeoutError, match=r"connect 1\.5 s, read 0\.2 s"):
        await quick.aget_prompt_response(prompt_id="xyz")
    assert client_of(quick) is client_of(patient)
    # ... while the patient hook's request, sent with its own, is still waiting and then answered.
    assert not patient_poll.done()
    release.set()
    assert await patient_poll is not None
    first, second = (call.request for call in route.calls)
    assert {first.headers["Agent-Secret-Key"], second.headers["Agent-Secret-Key"]} == {TEST_KEY, "sk-other-key"}
    await quick.aclose()
    await patient.aclose()


async def test_no_cookie_travels_from_one_hooks_requests_to_anothers(mocked: Any) -> None:
    route = mocked.get("/prompts/c/response-on").mock(
        side_effect=[
            Reply(200, json=COMPLETED, headers={"Set-Cookie": "session=agent-a; Path=/"}),
            Reply(200, json=COMPLETED),
        ]
    )
    first, second = RaiaHook(), RaiaHook()
    await first.aget_prompt_response(prompt_id="c")
    await second.aget_prompt_response(prompt_id="c")
    assert "cookie" not in route.calls[1].request.headers
    assert len(client_of(second).cookie_jar) == 0
    await first.aclose()
    await second.aclose()


async def test_a_closed_transport_refuses_to_send(mocked: Any) -> None:
    hook = RaiaHook()
    transport = await hook._aget_transport()
    await transport.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await transport.send(None)  # type: ignore[arg-type]


async def test_requests_beyond_the_loops_limit_wait_their_turn(mocked: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Past the limit, requests wait in the transport's gate, outside the answer's deadline, not in aiohttp's
    # pool. The mock answers in place of that pool, so the limit seen here is the gate's alone.
    monkeypatch.setattr("raia_provider._core.async_transport.MAX_IN_FLIGHT", 3)
    release = asyncio.Event()
    in_flight = peak = 0

    async def answer(request: RecordedRequest) -> Reply:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await release.wait()
        in_flight -= 1
        return Reply(200, json=COMPLETED)

    mocked.get("/prompts/slow/response-on").mock(side_effect=answer)
    hooks = [RaiaHook(retry_policy=SINGLE_ATTEMPT) for _ in range(10)]
    polls = [asyncio.ensure_future(hook.aget_prompt_response(prompt_id="slow")) for hook in hooks]
    gate = (await hooks[0]._aget_transport())._gate
    # Until three are answering and the other seven queue in the gate: loop passes, not a time window.
    while in_flight < 3 or len(gate._waiters or ()) < 7:  # type: ignore[attr-defined]
        await asyncio.sleep(0)
    assert (in_flight, peak) == (3, 3)
    assert gate.locked()
    release.set()
    assert all(result is not None for result in await asyncio.gather(*polls))
    assert peak == 3
    for hook in hooks:
        await hook.aclose()
