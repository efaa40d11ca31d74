"""Mock raia at aiohttp's HTTP layer: routes by method and path, answered in order, every call recorded.

While :func:`mock_raia` is active, the provider's shared aiohttp session is built on a connector that sends
every request, whatever its host, over a real loopback socket to a small ``aiohttp.web`` server running on the
same event loop, which answers from the :class:`Router`. So the transport sends and parses real HTTP (the
session's headers, a streamed upload with its Content-Length, a Set-Cookie the session must not keep), and a
route's answer may be an async function that waits on the test's events. A route whose next answer is an
exception (``aiohttp.ClientConnectionError``, ``aiohttp.SocketTimeoutError``, ...) raises it as the connection
is made, as a failed connect or read would surface.

Usage::

    with mock_raia(UNIT_BASE_URL) as router:
        route = router.get("/prompts/p-1/response-on").respond(200, json=None)
        ...
        assert route.call_count == 1
"""

from __future__ import annotations

import asyncio
import inspect
import json as jsonlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from raia_provider._core import async_transport

_NO_BODY: Any = object()


@dataclass(frozen=True)
class Reply:
    """One answer: a status, headers and a JSON body (``json=None`` sends ``null``) or raw ``content``."""

    status: int = 200
    json: Any = _NO_BODY
    headers: Mapping[str, str] | None = None
    content: bytes = b""

    def body(self) -> bytes:
        return self.content if self.json is _NO_BODY else jsonlib.dumps(self.json).encode()


@dataclass(frozen=True)
class RecordedRequest:
    """What the transport sent: method, full URL (query included), headers and body bytes."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    content: bytes


@dataclass(frozen=True)
class Call:
    request: RecordedRequest


Answer = Reply | BaseException | Callable[[RecordedRequest], "Reply | Awaitable[Reply]"]


@dataclass
class Route:
    """A method and path (and query parameters, if given) with what it answers."""

    method: str
    path: str
    params: Mapping[str, str] | None
    calls: list[Call] = field(default_factory=list)
    _answers: Iterator[Answer] | None = None
    _answer: Answer = field(default_factory=Reply)

    def respond(
        self, status: int = 200, *, json: Any = _NO_BODY, headers: Mapping[str, str] | None = None, content: bytes = b""
    ) -> Route:
        """Answer every call with this reply."""
        return self.mock(return_value=Reply(status, json, headers, content))

    def mock(self, *, return_value: Answer | None = None, side_effect: Answer | list[Answer] | None = None) -> Route:
        """Answer with ``return_value`` each time, or with the items of ``side_effect`` one call after another."""
        if isinstance(side_effect, list):
            self._answers = iter(side_effect)
        elif side_effect is not None:
            self._answer, self._answers = side_effect, None
        elif return_value is not None:
            self._answer, self._answers = return_value, None
        return self

    @property
    def call_count(self) -> int:
        return len(self.calls)

    @property
    def called(self) -> bool:
        return bool(self.calls)

    def matches(self, method: str, path: str, query: Mapping[str, str]) -> bool:
        if method != self.method or path != self.path:
            return False
        return self.params is None or all(query.get(key) == value for key, value in self.params.items())

    def next_is_failure(self) -> bool:
        """Whether the next answer is an exception (without consuming it)."""
        if self._answers is None:
            answer = self._answer
        else:
            pending = list(self._answers)
            self._answers = iter(pending)
            if not pending:
                return False
            answer = pending[0]
        return isinstance(answer, BaseException) or (isinstance(answer, type) and issubclass(answer, BaseException))

    def next_answer(self) -> Answer:
        if self._answers is None:
            return self._answer
        answer = next(self._answers, None)
        if answer is None:
            raise AssertionError(f"{self.method} {self.path} was called more often than its side_effect list allows")
        return answer


class Router:
    """The routes of one mock, under one base URL; ``calls`` holds every call, in order."""

    def __init__(self, base_url: str) -> None:
        self._prefix = URL(base_url).path.rstrip("/")
        self.routes: list[Route] = []
        self.calls: list[Call] = []
        self.unmatched: list[str] = []

    def route(self, method: str, path: str, params: Mapping[str, str] | None = None) -> Route:
        """The route for ``method path`` (and ``params``): the existing one if declared before, as respx does."""
        for route in self.routes:
            if (route.method, route.path, route.params) == (method, path, params):
                return route
        route = Route(method, path, params)
        self.routes.append(route)
        return route

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Route:
        return self.route("GET", path, params)

    def post(self, path: str, params: Mapping[str, str] | None = None) -> Route:
        return self.route("POST", path, params)

    def put(self, path: str, params: Mapping[str, str] | None = None) -> Route:
        return self.route("PUT", path, params)

    def delete(self, path: str, params: Mapping[str, str] | None = None) -> Route:
        return self.route("DELETE", path, params)

    def take_failure(self, method: str, url: URL, headers: Mapping[str, str]) -> BaseException | None:
        """If the route's next answer is an exception, record the call and return it (raised at connect)."""
        route = self._match(method, url)
        if route is None or not route.next_is_failure():
            return None
        failure = route.next_answer()
        self._record(route, RecordedRequest(method, url, CIMultiDict(headers), b""))
        return failure() if isinstance(failure, type) else failure  # type: ignore[return-value]

    async def handle(self, incoming: web.BaseRequest) -> web.StreamResponse:
        """Answer one request that reached the loopback server."""
        url = URL(str(incoming.headers.get("X-Mock-Url", incoming.url)), encoded=True)
        headers = CIMultiDict(incoming.headers)
        headers.popall("X-Mock-Url", None)
        request = RecordedRequest(incoming.method, url, headers, await incoming.content.read())
        route = self._match(incoming.method, url)
        if route is None:
            self.unmatched.append(f"{incoming.method} {url}")
            return web.Response(status=599, text=f"no mocked route for {incoming.method} {url}")
        self._record(route, request)
        answer = route.next_answer()
        if callable(answer) and not isinstance(answer, type):
            produced = answer(request)
            answer = await produced if inspect.isawaitable(produced) else produced
        if not isinstance(answer, Reply):
            raise AssertionError(f"{route.method} {route.path} answered {answer!r}, not a Reply")
        return web.Response(status=answer.status, body=answer.body(), headers=_reply_headers(answer))

    def _match(self, method: str, url: URL) -> Route | None:
        path = url.raw_path[len(self._prefix) :] if url.raw_path.startswith(self._prefix) else url.raw_path
        return next((r for r in self.routes if r.matches(method, path, url.query)), None)

    def _record(self, route: Route, request: RecordedRequest) -> None:
        call = Call(request)
        route.calls.append(call)
        self.calls.append(call)


def _reply_headers(answer: Reply) -> dict[str, str]:
    headers = dict(answer.headers or {})
    if answer.json is not _NO_BODY:
        headers.setdefault("Content-Type", "application/json")
    return headers


class _LoopbackConnector(aiohttp.TCPConnector):
    """Connects every request to the router's loopback server on the running loop (started on first use)."""

    def __init__(self, router: Router, **kwargs: Any) -> None:
        # A new connection per request, so that each request passes _create_connection, where a route's
        # failure is raised.
        super().__init__(force_close=True, **kwargs)
        self._router = router
        self._server: asyncio.Server | None = None

    async def _create_connection(self, req: Any, traces: Any, timeout: Any) -> Any:
        failure = self._router.take_failure(req.method, req.url, req.headers)
        if failure is not None:
            raise failure
        # The loopback server sees "/external/..." on 127.0.0.1; the URL the transport asked for travels along.
        req.headers["X-Mock-Url"] = str(req.url)
        if self._server is None:
            self._server = await asyncio.get_running_loop().create_server(
                web.Server(self._router.handle), "127.0.0.1", 0
            )
        port = self._server.sockets[0].getsockname()[1]
        _, protocol = await asyncio.get_running_loop().create_connection(self._factory, "127.0.0.1", port)
        return protocol

    def _close(self, *args: Any, **kwargs: Any) -> Any:
        if self._server is not None:
            self._server.close()
        return super()._close(*args, **kwargs)


@contextmanager
def mock_raia(base_url: str, *, assert_all_called: bool = True) -> Iterator[Router]:
    """Answer every request of the provider's async transport from a :class:`Router` for ``base_url``.

    :param base_url: the connection's base URL; route paths are relative to its path.
    :param assert_all_called: fail at the end of the block if a route was never called.
    """
    router = Router(base_url)

    def connector() -> aiohttp.BaseConnector:
        return _LoopbackConnector(router, limit=async_transport.MAX_IN_FLIGHT)

    with mock.patch.object(async_transport, "_new_connector", connector):
        yield router
    assert not router.unmatched, f"requests no route matched: {router.unmatched}"
    if assert_all_called:
        idle = [f"{r.method} {r.path}" for r in router.routes if not r.called]
        assert not idle, f"routes never called: {idle}"
