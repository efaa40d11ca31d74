"""Both transports against servers that misbehave the way proxies, portals and broken gateways do.

Each case's server answers every request its bad way; a second loopback address (``127.0.0.2``) plays the
other host a redirect points at, and records anything sent to it. Every request must end in the case's typed
error, with a message naming the problem and not the key; a redirect must reach no other host; a trickle,
an answer too large or one without end must be cut (the server records how much it got to send).
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from typing import Any

import pytest

from raia_provider._core.retry import RetryPolicy
from raia_provider.exceptions import RaiaError
from raia_provider.hooks.raia import RaiaHook
from tests.conftest import TEST_KEY
from tests.hostile.cases import BY_ID, CASES, LIMIT, Case
from tests.hostile.servers import HostileServer, html_200, html_404

pytestmark = pytest.mark.integration

ONE_ATTEMPT = RetryPolicy(max_attempts=1)
TWO_ATTEMPTS = RetryPolicy(max_attempts=2, initial_wait=0, jitter=0)
#: Bounds how long a test waits for a server to notice the client left (a hang guard, not a measurement).
HANG_GUARD = 30


def _hook(policy: RetryPolicy = ONE_ATTEMPT) -> RaiaHook:
    return RaiaHook(retry_policy=policy, max_response_bytes=LIMIT)


def _ask_sync(policy: RetryPolicy) -> None:
    hook = _hook(policy)
    try:
        hook.process_prompt(prompt="hello")
    finally:
        hook.close()


def _ask_async(policy: RetryPolicy) -> None:
    async def ask() -> None:
        hook = _hook(policy)
        try:
            await hook.aprocess_prompt(prompt="hello")
        finally:
            await hook.aclose()

    asyncio.run(ask())


TRANSPORTS: dict[str, Callable[[RetryPolicy], None]] = {"sync": _ask_sync, "async": _ask_async}


def _assert_keyless(error: BaseException) -> None:
    text = "".join(traceback.format_exception(error)) + repr(error.args) + repr(vars(error))
    assert TEST_KEY not in text
    assert error.__context__ is None  # no library error (holding the request and its key header) chained


def _run(case: Case, transport: str, serve: Callable[..., HostileServer], point_at: Callable[..., None]) -> Any:
    other = serve(html_200, "127.0.0.2")
    own = serve(case.behaviour(other))
    point_at(own)
    with pytest.raises(case.error) as raised:
        TRANSPORTS[transport](ONE_ATTEMPT)
    return own, other, raised.value


@pytest.mark.parametrize("transport", list(TRANSPORTS))
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_hostile_answer_ends_in_its_typed_error_without_the_key(
    case: Case, transport: str, serve: Callable[..., HostileServer], point_at: Callable[..., None]
) -> None:
    own, other, error = _run(case, transport, serve, point_at)

    expected = case.message(own, other) if callable(case.message) else case.message
    assert expected in str(error)
    _assert_keyless(error)
    assert len(own.seen) == 1  # one attempt, one request
    assert own.seen[0].headers.get("agent-secret-key") == TEST_KEY  # the connection's host got the key ...
    assert other.seen == []  # ... and no other host got anything
    if case.max_body_sent is not None:
        assert own.seen[0].client_left.wait(HANG_GUARD), "the client never let go of the answer"
        assert own.seen[0].body_bytes_sent <= case.max_body_sent


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_a_redirect_names_the_target_but_not_its_path_or_query(
    transport: str, serve: Callable[..., HostileServer], point_at: Callable[..., None]
) -> None:
    from tests.hostile import servers

    other = serve(html_200, "127.0.0.2")
    target = f"{other.origin}/steal/{TEST_KEY[:4]}?token=abc&key=xyz"
    own = serve(servers.redirect(302, lambda server, seen: target))
    point_at(own)

    with pytest.raises(BY_ID["redirect-302-other-host"].error) as raised:
        TRANSPORTS[transport](ONE_ATTEMPT)

    assert (raised.value.location_scheme, raised.value.location_host) == ("http", f"127.0.0.2:{other.port}")
    assert "/steal" not in str(raised.value)
    assert "token" not in str(raised.value)
    assert other.seen == []


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_a_redirect_is_not_retried(
    transport: str, serve: Callable[..., HostileServer], point_at: Callable[..., None]
) -> None:
    other = serve(html_200, "127.0.0.2")
    own = serve(BY_ID["redirect-307-other-host"].behaviour(other))
    point_at(own)

    with pytest.raises(RaiaError):
        TRANSPORTS[transport](TWO_ATTEMPTS)

    assert len(own.seen) == 1


@pytest.mark.parametrize("transport", list(TRANSPORTS))
@pytest.mark.parametrize("case_id", ["deep-json-503", "deep-json-200", "trickle", "reset-after-headers"])
def test_transient_hostile_answers_are_retried_and_the_too_large_are_not(
    case_id: str, transport: str, serve: Callable[..., HostileServer], point_at: Callable[..., None]
) -> None:
    case = BY_ID[case_id]
    own = serve(case.behaviour(serve(html_200, "127.0.0.2")))
    point_at(own)

    with pytest.raises(case.error):
        TRANSPORTS[transport](TWO_ATTEMPTS)

    assert len(own.seen) == 2


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_an_answer_too_large_is_not_retried(
    transport: str, serve: Callable[..., HostileServer], point_at: Callable[..., None]
) -> None:
    case = BY_ID["huge-with-content-length"]
    own = serve(case.behaviour(serve(html_200, "127.0.0.2")))
    point_at(own)

    with pytest.raises(case.error):
        TRANSPORTS[transport](TWO_ATTEMPTS)

    assert len(own.seen) == 1


@pytest.mark.parametrize("transport", ["sync", "async"])
def test_a_web_servers_own_404_points_at_the_base_url(
    serve: Callable[..., HostileServer], point_at: Callable[[HostileServer], None], transport: str
) -> None:
    from raia_provider.exceptions import RaiaNotFoundError

    server = serve(html_404)
    point_at(server)
    hook = RaiaHook()

    async def ask_async() -> Any:
        try:
            return await hook.aprocess_prompt(prompt="hello")
        finally:
            await hook.aclose()

    def ask() -> Any:
        return hook.process_prompt(prompt="hello") if transport == "sync" else asyncio.run(ask_async())

    with pytest.raises(RaiaNotFoundError) as raised:
        ask()
    hook.close()
    text = str(raised.value)
    assert f"at {server.base_url}/prompts:" in text
    assert "Check the connection's base URL" in text
    assert TEST_KEY not in text
