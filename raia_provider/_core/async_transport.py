"""The non-blocking transport for triggers: ``httpx.AsyncClient`` (already installed with Airflow).

Every hook on an event loop shares that loop's one client, so a triggerer running 1,000 raia triggers
holds one SSL context and one pool of keep-alive connections, not 1,000 of each (an httpx client with
its SSL context costs about 0.85 MiB and 10-30 ms of CPU to build; see ``docs/performance.md``, P2). Nothing
that differs between hooks lives on the shared client: the URL, the key and the timeouts travel with each
request, and cookies are never stored (they would otherwise cross from one connection's requests to
another's). Redirects are never followed (httpx's default, kept); the whole answer, streamed up to the
size limit, must arrive before its deadline (``asyncio.timeout``), however slowly its bytes come.

Who closes the shared client: the transports that use it count themselves in and out, and the last one to
close on a loop closes it (so a test's or a task's ``asyncio.run`` ends with no connection left open). A
client belongs to the loop it was created on and is never used on another one: the registry is keyed by
the loop, weakly, and a transport whose loop is no longer the running one is abandoned (counted out
without awaiting anything on the dead loop) by the hook, which then opens a transport on the current loop.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Final

import httpx

from raia_provider._core.operation import PreparedRequest
from raia_provider._core.responses import RawResponse
from raia_provider._core.settings import RaiaConnectionSettings
from raia_provider._core.wire import (
    CHUNK_BYTES,
    BodyCollector,
    WireLimits,
    common_headers,
    connection_error,
    request_headers,
    timeout_error,
    url_for,
)
from raia_provider.exceptions import RaiaError

#: Requests one event loop sends at once, and connections it keeps open: httpx's default connection limit,
#: which each hook had alone before hooks shared a client. 1,000 triggers polling every 5 s need a handful;
#: when they all poll at once (a triggerer restart) the rest wait their turn in an asyncio semaphore (first
#: come, first served; no timeout of its own, as every request ahead is bounded by its timeouts), never in
#: httpx's pool, whose bookkeeping costs queued requests times connections on every change: 1,000 polls
#: queued there saturate a core and time out (``benchmarks/p2_triggers.py --spread 0``).
MAX_IN_FLIGHT: Final = 100
#: Seconds an idle connection is kept for reuse: under the 5 s after which Node.js (raia's API is NestJS) and
#: uvicorn (the emulator) close idle connections by default, so that a request never races the server closing
#: the connection it picked ("Server disconnected without sending a response"). A shared pool holds
#: connections of every idle age; 1,000 triggers polling every 5 s keep a few of them busy all the time.
KEEPALIVE_EXPIRY: Final = 4.0


@dataclass
class _Shared:
    """One event loop's client, the gate in front of it, and how many open transports use it."""

    client: httpx.AsyncClient
    gate: asyncio.Semaphore
    users: int = 0


#: The shared client of each event loop that has one. Weak keys: a loop that is garbage collected takes
#: its entry with it; entries of closed loops are dropped when a client is created for a new loop.
_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Shared] = weakref.WeakKeyDictionary()
#: Loops may run in several threads; the registry is touched once per transport, never per request.
_LOCK = threading.Lock()


def _new_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        headers=common_headers(),
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),  # stores none
        # As many kept as opened: with fewer, httpx closes every connection a request leaves once the pool
        # is over the keep-alive count, and a busy loop opens one per request.
        limits=httpx.Limits(
            max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT, keepalive_expiry=KEEPALIVE_EXPIRY
        ),
    )


def _acquire(loop: asyncio.AbstractEventLoop) -> _Shared:
    """Count a user in on ``loop``'s shared client, creating the client first if the loop has none."""
    with _LOCK:
        shared = _SHARED.get(loop)
        if shared is None or shared.client.is_closed:
            # A closed loop's client (a hook never closed) can never be used again; letting go of it lets the
            # garbage collector release its sockets, which hold that loop and would keep the weak key alive.
            for stale in [other for other in list(_SHARED) if other.is_closed()]:
                _SHARED.pop(stale, None)
            shared = _SHARED[loop] = _Shared(_new_client(), asyncio.Semaphore(MAX_IN_FLIGHT))
        shared.users += 1
        return shared


def _count_out(loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient) -> httpx.AsyncClient | None:
    """Count a user out; return the client if it was the last one (the caller closes it)."""
    with _LOCK:
        shared = _SHARED.get(loop)
        if shared is None or shared.client is not client:
            return None  # already dropped (its loop closed) or replaced
        shared.users -= 1
        if shared.users > 0:
            return None
        del _SHARED[loop]
        return client


def shared_client_users(loop: asyncio.AbstractEventLoop | None = None) -> int:
    """How many open transports use the shared client of ``loop`` (default: the running loop); 0 if none.

    :param loop: the event loop.
    """
    shared = _SHARED.get(loop or asyncio.get_running_loop())
    return shared.users if shared is not None else 0


class AsyncTransport:
    """Send prepared requests with the event loop's shared httpx client; map failures to the provider's exceptions.

    Create it inside a coroutine: it joins the running loop's client.

    :param settings: the validated connection.
    :param limits: the timeouts and the answer size limit applied to every call.
    """

    def __init__(self, settings: RaiaConnectionSettings, limits: WireLimits) -> None:
        self._settings = settings
        self._limits = limits
        self._timeout = httpx.Timeout(limits.read, connect=limits.connect)
        self._loop = asyncio.get_running_loop()
        shared = _acquire(self._loop)
        self._client: httpx.AsyncClient | None = shared.client
        self._gate = shared.gate
        self._last_url: tuple[str, httpx.URL] | None = None

    @property
    def is_usable(self) -> bool:
        """Whether this transport is open and its loop is the running one (call from a coroutine)."""
        return self._client is not None and self._loop is asyncio.get_running_loop()

    async def send(self, request: PreparedRequest) -> RawResponse:
        """Send ``request`` once and return raia's answer, whatever its status.

        :param request: the prepared request.
        :raises RaiaTimeoutError: if connecting or reading took longer than the timeouts.
        :raises RaiaConnectionError: if no HTTP answer arrived.
        """
        client = self._client
        if client is None:
            raise RuntimeError("this AsyncTransport is closed")
        failure: RaiaError
        limits = self._limits
        try:
            upload = request.multipart
            async with self._gate:
                async with asyncio.timeout(limits.answer_within):  # the whole answer, not each read
                    response = await client.send(
                        client.build_request(
                            request.operation.method,
                            self._url(request),
                            params=request.params or None,
                            json=request.json,
                            content=upload.aiter() if upload else None,
                            headers=request_headers(self._settings, request),
                            timeout=self._timeout,
                        ),
                        stream=True,
                    )
                    try:
                        body = BodyCollector(request, response.status_code, response.headers, limits.max_response_bytes)
                        async for chunk in response.aiter_bytes(CHUNK_BYTES):
                            body.add(chunk)
                    finally:
                        await response.aclose()
        except httpx.TimeoutException as exc:
            failure = timeout_error(request, self._settings, limits, exc)
        except TimeoutError:
            failure = timeout_error(request, self._settings, limits, None)
        except httpx.HTTPError as exc:
            failure = connection_error(request, self._settings, exc)
        else:
            return RawResponse(status=response.status_code, headers=response.headers, content=body.content())
        raise failure  # out here: httpx's error, as __context__, would hold the request and the key's header

    def _url(self, request: PreparedRequest) -> httpx.URL:
        # A trigger reads one URL over and over: parsing it once saves httpx ~20 µs of CPU per poll.
        if self._last_url is None or self._last_url[0] != request.path:
            self._last_url = (request.path, httpx.URL(url_for(self._settings, request)))
        return self._last_url[1]

    async def aclose(self) -> None:
        """Stop using the loop's client; close its pooled connections if no other transport uses it.

        Called from another loop than its own (whose client cannot be awaited there), it only counts out.
        """
        client, self._client = self._client, None
        if client is None:
            return
        last = _count_out(self._loop, client)
        if last is not None and not self._loop.is_closed() and self._loop is _running_loop():
            await last.aclose()

    def abandon(self) -> None:
        """Stop using the loop's client without awaiting anything (its loop is gone or not running)."""
        client, self._client = self._client, None
        if client is not None:
            _count_out(self._loop, client)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
