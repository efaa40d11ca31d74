"""Both transports honour the proxy the environment names (HTTP_PROXY/HTTPS_PROXY, minus NO_PROXY), alike.

The async transport does not let aiohttp read the environment per request (``trust_env`` costs two thread
hops a request); it looks the proxy up once per transport. A small loopback proxy, not the emulator, answers
as a forwarding proxy would and records the request line it was sent: an absolute URL to the real host.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator

import pytest

from raia_provider._core.retry import RetryPolicy
from raia_provider.exceptions import RaiaConnectionError
from raia_provider.hooks.raia import RaiaHook
from tests.hostile.servers import HostileServer, Seen, _head, _send_body
from tests.unit.payloads import AGENT_PROFILE

pytestmark = pytest.mark.integration

ONE_ATTEMPT = RetryPolicy(max_attempts=1)
#: A host that does not resolve: reached only through the proxy (``.invalid`` is reserved, RFC 2606).
UPSTREAM = "http://raia.invalid/external"
AGENT = {**AGENT_PROFILE, "name": "Proxied agent"}


def forward(server: HostileServer, connection: socket.socket, seen: Seen) -> None:
    body = json.dumps(AGENT).encode()
    connection.sendall(_head("200 OK", {"Content-Type": "application/json", "Content-Length": str(len(body))}))
    _send_body(connection, seen, body)


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch, set_connection: object) -> Iterator[HostileServer]:
    server = HostileServer(forward)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server.origin)
    set_connection(host=UPSTREAM, allow_insecure_http=True)  # type: ignore[operator]
    yield server
    server.close()


def _ask_async() -> str:
    async def ask() -> str:
        hook = RaiaHook(retry_policy=ONE_ATTEMPT)
        try:
            return (await hook.aget_agent()).name
        finally:
            await hook.aclose()

    return asyncio.run(ask())


def _ask_sync() -> str:
    hook = RaiaHook(retry_policy=ONE_ATTEMPT)
    try:
        return hook.get_agent().name
    finally:
        hook.close()


@pytest.mark.parametrize("ask", [_ask_sync, _ask_async], ids=["sync", "async"])
def test_requests_go_through_the_environment_proxy(proxy: HostileServer, ask: object) -> None:
    assert ask() == "Proxied agent"  # type: ignore[operator]
    (seen,) = proxy.seen
    assert seen.request_line == "GET http://raia.invalid/external/agents/by-api-key HTTP/1.1"


@pytest.mark.parametrize("ask", [_ask_sync, _ask_async], ids=["sync", "async"])
def test_no_proxy_sends_the_request_direct(proxy: HostileServer, monkeypatch: pytest.MonkeyPatch, ask: object) -> None:
    monkeypatch.setenv("NO_PROXY", "raia.invalid")
    with pytest.raises(RaiaConnectionError):  # direct: the reserved name does not resolve
        ask()  # type: ignore[operator]
    assert proxy.seen == []
