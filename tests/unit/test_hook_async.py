"""RaiaHook's async half (for triggers), mocked at the HTTP layer (aiohttp, ``tests.aiohttp_mock``).

The async half shares models, URL building, error mapping and retry decisions with the sync half; these
tests check that it reaches the same results through aiohttp, and that it looks the connection up without
blocking the event loop.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from raia_provider._core.retry import RetryPolicy
from raia_provider.exceptions import (
    RaiaAuthError,
    RaiaConnectionError,
    RaiaInputError,
    RaiaNotFoundError,
    RaiaServerError,
    RaiaTimeoutError,
)
from raia_provider.hooks.raia import RaiaHook
from tests.aiohttp_mock import Reply, mock_raia
from tests.conftest import TEST_KEY, UNIT_BASE_URL
from tests.unit.payloads import AGENT_PROFILE, COMPLETED, FAILED, FORBIDDEN, NOT_FOUND, SERVER_ERROR

pytestmark = pytest.mark.usefixtures("unit_connection")


class AsyncSleepRecorder:
    """Stands in for ``asyncio.sleep``: records each wait instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> AsyncSleepRecorder:
    return AsyncSleepRecorder()


@pytest.fixture
async def hook(sleeps: AsyncSleepRecorder) -> Any:
    policy = RetryPolicy(max_attempts=3, initial_wait=2.0, max_wait=10.0, jitter=0.0)
    hook = RaiaHook(retry_policy=policy, async_sleep=sleeps)
    yield hook
    await hook.aclose()


@pytest.fixture
def mocked() -> Any:
    with mock_raia(UNIT_BASE_URL, assert_all_called=False) as router:
        yield router


async def test_poll_sends_key_and_reads_null_then_completed(hook: RaiaHook, mocked: Any) -> None:
    route = mocked.get("/prompts/abc/response-on").mock(side_effect=[Reply(200, json=None), Reply(200, json=COMPLETED)])
    assert await hook.aget_prompt_response(prompt_id="abc") is None
    result = await hook.aget_prompt_response(prompt_id="abc")
    assert result is not None
    assert (result.status, result.response, result.total_tokens) == ("completed", "42", 12)
    request = route.calls[0].request
    assert request.headers["Agent-Secret-Key"] == TEST_KEY
    assert request.headers["User-Agent"].startswith("airflow-provider-raia/")


async def test_failed_prompt_is_parsed(hook: RaiaHook, mocked: Any) -> None:
    mocked.get("/prompts/abc/response-on").respond(200, json=FAILED)
    result = await hook.aget_prompt_response(prompt_id="abc")
    assert result is not None
    assert (result.status, result.error) == ("failed", "model overloaded")


async def test_async_prompt_body(hook: RaiaHook, mocked: Any) -> None:
    route = mocked.post("/prompts/async").respond(200, json={"promptId": "p-9"})
    job = await hook.acreate_prompt(prompt="Why?", token_tracking_id="t1")
    assert job.prompt_id == "p-9"
    assert json.loads(route.calls[0].request.content) == {"prompt": "Why?", "tokenTrackingId": "t1"}


async def test_sync_prompt_and_agent(hook: RaiaHook, mocked: Any) -> None:
    mocked.post("/prompts").respond(200, json=COMPLETED)
    mocked.get("/agents/by-api-key").respond(200, json=AGENT_PROFILE)
    assert (await hook.aprocess_prompt(prompt="x")).response == "42"
    agent = await hook.aget_agent()
    assert TEST_KEY not in json.dumps(agent.to_json_dict())


async def test_client_is_reused_and_closed(hook: RaiaHook, mocked: Any) -> None:
    mocked.post("/prompts").respond(200, json=COMPLETED)
    await hook.aprocess_prompt(prompt="a")
    client = hook._async_transport._session  # type: ignore[union-attr]
    await hook.aprocess_prompt(prompt="b")
    assert hook._async_transport._session is client  # type: ignore[union-attr]
    await hook.aclose()
    assert client.closed


@pytest.mark.parametrize(
    ("status", "body", "error_type"),
    [(403, FORBIDDEN, RaiaAuthError), (404, NOT_FOUND, RaiaNotFoundError)],
)
async def test_permanent_errors_are_not_retried(
    hook: RaiaHook, mocked: Any, sleeps: AsyncSleepRecorder, status: int, body: Any, error_type: type
) -> None:
    route = mocked.get("/prompts/abc/response-on").respond(status, json=body)
    with pytest.raises(error_type):
        await hook.aget_prompt_response(prompt_id="abc")
    assert (route.call_count, sleeps.waits) == (1, [])


async def test_transient_errors_are_retried_with_the_shared_policy(
    hook: RaiaHook, mocked: Any, sleeps: AsyncSleepRecorder
) -> None:
    route = mocked.get("/prompts/abc/response-on").mock(
        side_effect=[
            aiohttp.ClientConnectionError("refused"),
            Reply(429, headers={"Retry-After": "3"}),
            Reply(200, json=COMPLETED),
        ]
    )
    assert (await hook.aget_prompt_response(prompt_id="abc")) is not None
    assert route.call_count == 3
    assert sleeps.waits == [2.0, 3.0]  # backoff for the connect error, Retry-After for the 429


async def test_persistent_5xx_raises_after_max_attempts(
    hook: RaiaHook, mocked: Any, sleeps: AsyncSleepRecorder
) -> None:
    route = mocked.get("/prompts/abc/response-on").respond(502, json=SERVER_ERROR)
    with pytest.raises(RaiaServerError, match="HTTP 502"):
        await hook.aget_prompt_response(prompt_id="abc")
    assert (route.call_count, sleeps.waits) == (3, [2.0, 4.0])


@pytest.mark.parametrize(
    ("side_effect", "error_type"),
    [
        (aiohttp.SocketTimeoutError("slow"), RaiaTimeoutError),
        (aiohttp.ServerDisconnectedError("reset"), RaiaConnectionError),
    ],
)
async def test_transport_failures_are_typed(
    hook: RaiaHook, mocked: Any, side_effect: Exception, error_type: type
) -> None:
    mocked.post("/prompts").mock(side_effect=side_effect)
    with pytest.raises(error_type) as info:
        await hook.aprocess_prompt(prompt="x")
    assert info.value.__cause__ is None  # the aiohttp error (which holds the request headers) is not chained
    assert TEST_KEY not in str(info.value)


async def test_bad_input_raises_before_any_request(hook: RaiaHook, mocked: Any) -> None:
    with pytest.raises(RaiaInputError, match="argument 'prompt_id'"):
        await hook.aget_prompt_response(prompt_id="")
    assert len(mocked.calls) == 0


async def test_connection_is_looked_up_with_the_async_api(hook: RaiaHook, mocked: Any, mocker: Any) -> None:
    # The blocking lookup must never run on the event loop (it stalls the triggerer).
    blocking = mocker.patch.object(RaiaHook, "get_connection", side_effect=AssertionError("blocking lookup"))
    spy = mocker.patch(
        "airflow.providers.common.compat.connection.get_async_connection",
        wraps=__import__(
            "airflow.providers.common.compat.connection", fromlist=["get_async_connection"]
        ).get_async_connection,
    )
    mocked.get("/prompts/abc/response-on").respond(200, json=None)
    await hook.aget_prompt_response(prompt_id="abc")
    spy.assert_awaited_once_with("raia_default")
    blocking.assert_not_called()
