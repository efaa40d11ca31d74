"""The non-blocking transport for triggers: ``aiohttp.ClientSession`` (what Airflow's ``HttpAsyncHook`` uses).

aiohttp parses answers in C: a poll costs a triggerer about 0.3-0.4 ms of CPU where httpx took 1.4-3.1 ms,
which is what lets 1,000 waits share a tenth of a core (``docs/performance.md``, P2). Every hook on an event
loop shares that loop's one session, so a triggerer running 1,000 raia triggers holds one SSL context and one
pool of keep-alive connections, not 1,000 of each. Nothing that differs between hooks lives on the shared
session: the URL, the key and the timeouts travel with each request, and cookies are never stored (they would
otherwise cross from one connection's requests to another's). Redirects are never followed
(``allow_redirects=False``); the whole answer, streamed up to the size limit, must arrive before its deadline
(``asyncio.timeout``), however slowly its bytes come.

Who closes the shared session: the transports that use it count themselves in and out, and the last one to
close on a loop closes it (so a test's or a task's ``asyncio.run`` ends with no connection left open). A
session belongs to the loop it was created on and is never used on another one: the registry is keyed by
the loop, weakly, and a transport whose loop is no longer the running one is abandoned (counted out
without awaiting anything on the dead loop) by the hook, which then opens a transport on the current loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
from yarl import URL

from raia_provider._core.operation import PreparedRequest
from raia_provider._core.request_gate import RequestGate
from raia_provider._core.responses import RawResponse, parse_retry_after
from raia_provider._core.retry import RETRY_AFTER_CAP
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

#: Requests one event loop sends at once, and connections it keeps open. 1,000 triggers polling every 5 s
#: need a handful; when they all poll at once (a triggerer restart) the rest wait their turn in an asyncio
#: semaphore (first come, first served), outside the answer's deadline, so that a request's deadline counts
#: from when it is sent, not from when it joined the queue.
MAX_IN_FLIGHT: Final = 100
#: How long a connection's waits all pause after a 429 that gives no Retry-After, in seconds.
PAUSE_WITHOUT_RETRY_AFTER: Final = 1.0
#: Seconds an idle connection is kept for reuse: under the 5 s after which Node.js (raia's API is NestJS) and
#: uvicorn (the emulator) close idle connections by default, so that a request never races the server closing
#: the connection it picked ("Server disconnected"). A shared pool holds connections of every idle age; 1,000
#: triggers polling every 5 s keep a few of them busy all the time.
KEEPALIVE_EXPIRY: Final = 4.0


@dataclass
class _Shared:
    """One event loop's session, the gate in front of it, its connections' rate gates, and its users."""

    session: aiohttp.ClientSession
    gate: asyncio.Semaphore
    users: int = 0
    rates: dict[tuple[str, str, float | None], RequestGate] = field(default_factory=dict)

    def rate_gate(self, settings: RaiaConnectionSettings) -> RequestGate:
        """The rate gate every transport on this loop shares for ``settings``' connection (created on first use)."""
        key = (settings.conn_id, settings.base_url, settings.requests_per_second)
        gate = self.rates.get(key)
        if gate is None:
            gate = self.rates[key] = RequestGate(settings.requests_per_second, spread_notice=_spread_notice(settings))
        return gate


def _spread_notice(settings: RaiaConnectionSettings) -> str:
    budget = settings.requests_per_second
    limit = f"its rate budget of {budget:g} requests/s" if budget else "the pace raia's 429 answers set"
    return (
        f"raia connection {settings.conn_id!r}: requests now wait for their turn within {limit} (this one "
        "{wait} s); the waits on this connection are spread out to stay within it, so each polls less often "
        "than its poll_interval. Said once per triggerer (or task) and connection."
    )


#: The shared session of each event loop that has one. Weak keys: a loop that is garbage collected takes
#: its entry with it; entries of closed loops are dropped when a session is created for a new loop.
_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Shared] = weakref.WeakKeyDictionary()
#: Loops may run in several threads; the registry is touched once per transport, never per request.
_LOCK = threading.Lock()


def _new_connector() -> aiohttp.BaseConnector:
    return aiohttp.TCPConnector(limit=MAX_IN_FLIGHT, limit_per_host=0, keepalive_timeout=KEEPALIVE_EXPIRY)


def _new_session() -> aiohttp.ClientSession:
    session = aiohttp.ClientSession(
        headers=common_headers(),
        cookie_jar=aiohttp.DummyCookieJar(),  # stores none
        connector=_new_connector(),
        # Not trust_env: it costs two thread-pool round trips per request (a netrc read and a proxy lookup); the
        # proxy from the environment is looked up once per transport instead (see _environment_proxy).
        trust_env=False,
        # No session-wide total: each request brings its own timeouts.
        timeout=aiohttp.ClientTimeout(total=None),
    )
    # aiohttp quietly resends a GET, PUT or DELETE once when its connection drops; the provider's retry policy
    # alone decides what is retried, when, and how often (and logs it). No public switch exists (3.12-3.14).
    session._retry_connection = False
    return session


def _discard(session: aiohttp.ClientSession) -> None:
    """Let go of a session whose loop is closed or not running, without awaiting anything on that loop."""
    connector = session.connector
    session.detach()  # a detached session is closed, and does not warn about itself when collected
    if connector is not None:
        # Closes the sockets now (the loop that would await their shutdown is gone); the public close() would
        # schedule that wait on the dead loop.
        connector._close()


def _acquire(loop: asyncio.AbstractEventLoop) -> _Shared:
    """Count a user in on ``loop``'s shared session, creating the session first if the loop has none."""
    with _LOCK:
        shared = _SHARED.get(loop)
        if shared is None or shared.session.closed:
            # A closed loop's session (a hook never closed) can never be used again; letting go of it lets the
            # garbage collector release its sockets, which hold that loop and would keep the weak key alive.
            for stale in [other for other in list(_SHARED) if other.is_closed()]:
                gone = _SHARED.pop(stale, None)
                if gone is not None:
                    _discard(gone.session)
            shared = _SHARED[loop] = _Shared(_new_session(), asyncio.Semaphore(MAX_IN_FLIGHT))
        shared.users += 1
        return shared


def _count_out(loop: asyncio.AbstractEventLoop, session: aiohttp.ClientSession) -> aiohttp.ClientSession | None:
    """Count a user out; return the session if it was the last one (the caller closes it)."""
    with _LOCK:
        shared = _SHARED.get(loop)
        if shared is None or shared.session is not session:
            return None  # already dropped (its loop closed) or replaced
        shared.users -= 1
        if shared.users > 0:
            return None
        del _SHARED[loop]
        return session


def shared_client_users(loop: asyncio.AbstractEventLoop | None = None) -> int:
    """How many open transports use the shared session of ``loop`` (default: the running loop); 0 if none.

    :param loop: the event loop.
    """
    shared = _SHARED.get(loop or asyncio.get_running_loop())
    return shared.users if shared is not None else 0


class AsyncTransport:
    """Send prepared requests with the event loop's shared aiohttp session; map failures to the provider's exceptions.

    Create it inside a coroutine: it joins the running loop's session.

    :param settings: the validated connection.
    :param limits: the timeouts and the answer size limit applied to every call.
    """

    def __init__(self, settings: RaiaConnectionSettings, limits: WireLimits) -> None:
        self._settings = settings
        self._limits = limits
        # sock_read bounds each wait for bytes; the whole answer is bounded by the deadline in send().
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=limits.connect, sock_read=limits.read)
        self._loop = asyncio.get_running_loop()
        shared = _acquire(self._loop)
        self._session: aiohttp.ClientSession | None = shared.session
        self._gate = shared.gate
        self._rate = shared.rate_gate(settings)
        self._last_url: tuple[str, URL] | None = None
        self._proxy = _environment_proxy(settings.base_url)

    @property
    def is_usable(self) -> bool:
        """Whether this transport is open and its loop is the running one (call from a coroutine)."""
        return self._session is not None and self._loop is asyncio.get_running_loop()

    async def send(self, request: PreparedRequest) -> RawResponse:
        """Send ``request`` once and return raia's answer, whatever its status.

        :param request: the prepared request.
        :raises RaiaTimeoutError: if connecting or reading took longer than the timeouts.
        :raises RaiaConnectionError: if no HTTP answer arrived.
        :raises RaiaResponseTooLargeError: if the body is larger than the limit.
        """
        session = self._session
        if session is None:
            raise RuntimeError("this AsyncTransport is closed")
        failure: RaiaError
        limits = self._limits
        headers = request_headers(self._settings, request)
        data: Any = None
        if request.multipart is not None:
            data = request.multipart.aiter()  # sent with its exact Content-Length (in headers), not chunked
        elif request.json is not None:
            data = _json_bytes(request.json)
            headers["Content-Type"] = "application/json"
        await self._rate.acquire()  # the connection's budget, shared by every wait on this loop
        try:
            async with self._gate:
                async with asyncio.timeout(limits.answer_within):  # the whole answer, not each read
                    async with session.request(
                        request.operation.method,
                        self._url(request),
                        params=request.params or None,
                        data=data,
                        headers=headers,
                        timeout=self._timeout,
                        allow_redirects=False,
                        proxy=self._proxy,
                    ) as response:
                        body = BodyCollector(request, response.status, response.headers, limits.max_response_bytes)
                        async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                            body.add(chunk)
        except aiohttp.ServerTimeoutError as exc:  # connecting, or a wait for bytes, took too long
            failure = timeout_error(request, self._settings, limits, exc)
        except TimeoutError:  # the whole answer's deadline
            failure = timeout_error(request, self._settings, limits, None)
        except aiohttp.ClientError as exc:
            failure = connection_error(request, self._settings, exc)
        else:
            if response.status == 429:  # every wait on this connection pauses, once
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                pause = PAUSE_WITHOUT_RETRY_AFTER if retry_after is None else min(retry_after, RETRY_AFTER_CAP)
                self._rate.throttled(pause)
            else:
                self._rate.succeeded()
            return RawResponse(response.status, response.headers, body.content(), self._settings.base_url)
        raise failure  # out here: aiohttp's error, as __context__, would hold the request and the key's header

    def _url(self, request: PreparedRequest) -> URL:
        # A trigger reads one URL over and over: parse it once. The path is already percent-encoded.
        if self._last_url is None or self._last_url[0] != request.path:
            self._last_url = (request.path, URL(url_for(self._settings, request), encoded=True))
        return self._last_url[1]

    async def aclose(self) -> None:
        """Stop using the loop's session; close its pooled connections if no other transport uses it.

        Called from another loop than its own (whose session cannot be awaited there), it only counts out.
        """
        session, self._session = self._session, None
        if session is None:
            return
        last = _count_out(self._loop, session)
        if last is None:
            return
        if not self._loop.is_closed() and self._loop is _running_loop():
            await last.close()
        else:
            _discard(last)

    def abandon(self) -> None:
        """Stop using the loop's session without awaiting anything (its loop is gone or not running)."""
        session, self._session = self._session, None
        if session is not None:
            last = _count_out(self._loop, session)
            if last is not None:
                _discard(last)


def _environment_proxy(base_url: str) -> str | None:
    """The proxy the environment names for ``base_url`` (``HTTPS_PROXY``/``HTTP_PROXY``, minus ``NO_PROXY``).

    The same variables the blocking transport (``requests``) honours, read from ``os.environ`` only.
    """
    parts = urlsplit(base_url)
    if parts.hostname is None or proxy_bypass(parts.hostname):
        return None
    return getproxies().get(parts.scheme)


def _json_bytes(value: Any) -> bytes:
    # Compact, and UTF-8 rather than \u escapes: the smallest body raia's JSON parser accepts.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
