"""ASGI middleware that puts every ``/external`` request through the emulator's gate, in raia's order.

For each request under ``/external``:

1. the body is read (and replayed to the app) and the request is logged (on arrival, completed when
   answered). A ``multipart/form-data`` body is **not** read ahead: it streams through a
   :class:`~.multipart.MultipartTap` to whoever reads it (the upload route), is digested on the way (sizes
   and SHA-256, never the bytes) and its summary lands in the log when it ends; a multipart request answered
   without reading its body (403, fault, unknown route) has the body drained through the tap first, so its
   log entry is complete before the answer, as for any other request;
2. the first matching fault rule, if any, is consumed (in arrival order, see :mod:`.faults`);
3. the ``latency`` knob is applied (an ``asyncio.sleep``, never blocking the loop), then the fault — before
   everything else, like a failing proxy or network in front of raia;
4. a path with no route answers NestJS's 404 ``Cannot GET /path`` (Express routing: a method mismatch is
   also a 404, and one trailing slash is ignored), before authentication, as NestJS has no guard there;
5. a missing or unknown ``Agent-Secret-Key`` answers 403;
6. the agent's token bucket is charged; when empty, 429 with ``Retry-After`` (whole seconds, >= 1);
7. the route runs with the agent in the ASGI scope (see :func:`scope_agent`);
8. an unexpected exception answers raia's 500 body.

Authentication comes before body validation, so a bad key with a bad body gets 403 (**inferred**: NestJS
guards run before validation pipes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import struct
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Router

from raia_provider.testing.emulator.errors import (
    body_for_status,
    forbidden_body,
    html_error_page,
    internal_error_body,
    route_not_found_body,
    too_many_requests_body,
)
from raia_provider.testing.emulator.faults import Fault
from raia_provider.testing.emulator.multipart import MultipartSummary, MultipartTap
from raia_provider.testing.emulator.net import EXTERNAL_PREFIX
from raia_provider.testing.emulator.requestlog import RequestLog, loggable_headers, redact
from raia_provider.testing.emulator.state import Agent, EmulatorState

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KEY_HEADER = b"agent-secret-key"
_AGENT_SCOPE_KEY = "raia_emulator.agent"
_MULTIPART_SCOPE_KEY = "raia_emulator.multipart"
# What a proxy might cut a JSON answer down to: valid start, no end.
MALFORMED_JSON = b'{"status": "completed", "totalTokens": 12, "response": "The answer is'


class ServerHooks(Protocol):
    """What the pipeline needs from the server running it."""

    def transport_for(self, client: tuple[str, int] | None) -> asyncio.Transport | None:
        """Return the transport of the connection whose peer address is ``client`` (to drop it).

        :param client: the ASGI scope's ``client``.
        """

    async def pause(self, seconds: float) -> bool:
        """Sleep ``seconds``, waking early if the server starts stopping.

        :param seconds: how long to sleep.
        :return: ``True`` if the full time passed, ``False`` if the server is stopping.
        """


class _NoServerHooks:
    """Hooks for an app run by some other ASGI server: plain sleeps, no connection access."""

    def transport_for(self, client: tuple[str, int] | None) -> asyncio.Transport | None:
        return None

    async def pause(self, seconds: float) -> bool:
        await asyncio.sleep(seconds)
        return True


def is_external(path: str) -> bool:
    """Tell whether ``path`` belongs to raia's ``/external`` API.

    :param path: a request path.
    """
    return path == EXTERNAL_PREFIX or path.startswith(EXTERNAL_PREFIX + "/")


def scope_agent(scope: Scope) -> Agent | None:
    """Return the authenticated agent the pipeline put in ``scope``.

    :param scope: an ASGI scope.
    """
    agent = scope.get(_AGENT_SCOPE_KEY)
    return agent if isinstance(agent, Agent) else None


def _header(scope: Scope, name: bytes) -> str | None:
    for raw_name, raw_value in scope.get("headers", ()):
        if raw_name.lower() == name:
            return str(raw_value.decode("latin-1"))
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Serve the already-read body once, then defer to the real ``receive`` (for disconnects)."""
    sent = False

    async def replaying_receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replaying_receive


async def _until_disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def summarize_body(body: bytes) -> Any:
    """Return what the request log keeps of a (non-multipart) body: its JSON value, else its text.

    :param body: the raw body.
    """
    if not body:
        return None
    try:
        # parse_constant keeps NaN/Infinity as text so the log stays valid JSON.
        return json.loads(body, parse_constant=str)
    except ValueError:
        return body.decode("utf-8", errors="replace")


def is_multipart(scope: Scope) -> bool:
    """Tell whether the request carries a ``multipart/form-data`` body.

    :param scope: the request's ASGI scope.
    """
    return (_header(scope, b"content-type") or "").lower().startswith("multipart/form-data")


def scope_multipart(scope: Scope) -> MultipartTap | None:
    """Return the multipart tap the pipeline put in ``scope`` (``None`` for other bodies).

    :param scope: an ASGI scope.
    """
    tap = scope.get(_MULTIPART_SCOPE_KEY)
    return tap if isinstance(tap, MultipartTap) else None


@dataclass
class _Exchange:
    """One request's entry in the log, completed as soon as its fate is sealed.

    The log is updated *before* the client can see the outcome (before the status line is sent, before a
    connection is dropped), so a test reading the log right after its call returns sees the final status.
    """

    log: RequestLog
    seq: int
    status: int | None = None
    done: bool = False

    def finish(self, status: int | None) -> None:
        if not self.done:
            self.done = True
            self.status = status
            self.log.finish(self.seq, status)


class ExternalApiPipeline:
    """The ``/external`` gate (see the module docstring); other paths pass straight through.

    :param app: the wrapped ASGI app.
    :param state: the emulator state.
    :param router: the app's router, to tell existing routes from unknown paths.
    :param hooks: access to the server (connections, shutdown); without it connection faults fail.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        state: EmulatorState,
        router: Router,
        hooks: ServerHooks | None = None,
    ) -> None:
        self.app = app
        self.state = state
        self.router = router
        self.hooks: ServerHooks = hooks or _NoServerHooks()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run one ASGI request.

        :param scope: ASGI scope.
        :param receive: ASGI receive.
        :param send: ASGI send.
        """
        if scope["type"] != "http" or not is_external(scope["path"]):
            await self.app(scope, receive, send)
            return
        arrived = self.state.now()
        multipart = is_multipart(scope)
        body = b"" if multipart else await _read_body(receive)
        key = _header(scope, KEY_HEADER)
        agent = self.state.agent_for_key(key)
        fault = self.state.faults.take(scope["method"], scope["path"])
        # Never keep the key: secret headers are dropped, and a leaked copy is masked elsewhere.
        seq = self.state.log.start(
            method=scope["method"],
            path=redact(scope["path"], key),
            query=redact(scope.get("query_string", b"").decode("latin-1"), key),
            body=redact(summarize_body(body), key),
            agent_id=agent.id if agent else None,
            headers=redact(loggable_headers(scope.get("headers", ())), key),
            timestamp=arrived,
            fault=fault.kind if fault else None,
        )
        exchange = _Exchange(self.state.log, seq)
        tap: MultipartTap | None = None
        if multipart:
            log = self.state.log

            def log_summary(summary: MultipartSummary) -> None:
                log.update_body(seq, redact(summary.to_log(), key))

            tap = MultipartTap(_header(scope, b"content-type") or "", receive, log_summary)
            scope = {**scope, _MULTIPART_SCOPE_KEY: tap}
            inner_receive: Receive = tap.receive
        else:
            inner_receive = _replay(body, receive)

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                if tap is not None and not tap.done:
                    await tap.drain()  # log the whole body before the client sees the answer
                exchange.finish(int(message["status"]))
            await send(message)

        try:
            await self._process(scope, inner_receive, tracking_send, agent, fault, exchange)
        except Exception:
            if exchange.done:
                raise
            logger.exception("raia emulator: unexpected error on %s %s", scope["method"], scope["path"])
            await JSONResponse(internal_error_body(), status_code=500)(scope, receive, tracking_send)
        finally:
            exchange.finish(None)  # no-op unless no response was ever started

    async def _process(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        agent: Agent | None,
        fault: Fault | None,
        exchange: _Exchange,
    ) -> None:
        if not await self._pause(scope, receive, exchange, self.state.config.latency):
            return
        if fault is not None:
            if fault.kind == "slow":
                if not await self._pause(scope, receive, exchange, fault.delay):
                    return
            elif fault.kind == "reset_mid_response":
                send = self._cut_short(scope, receive, send)
            elif fault.kind == "reset":
                await self._reset(scope, receive, exchange)
                return
            else:
                await self._answer_fault(fault, scope, receive, send)
                return
        routed_path = self._routed_path(scope)
        if routed_path is None:
            await _json(scope, receive, send, 404, route_not_found_body(scope["method"], scope["path"]))
            return
        if agent is None:
            await _json(scope, receive, send, 403, forbidden_body())
            return
        retry_after = self.state.limiter.acquire(agent.id)
        if retry_after is not None:
            headers = {"Retry-After": str(retry_after)}
            await _json(scope, receive, send, 429, too_many_requests_body(), headers)
            return
        inner = dict(scope)
        inner["path"] = routed_path
        inner[_AGENT_SCOPE_KEY] = agent
        await self.app(inner, receive, send)

    async def _pause(self, scope: Scope, receive: Receive, exchange: _Exchange, seconds: float) -> bool:
        """Sleep; if the server starts stopping meanwhile, drop the connection and return ``False``."""
        if seconds <= 0 or await self.hooks.pause(seconds):
            return True
        await self._reset(scope, receive, exchange)
        return False

    def _routed_path(self, scope: Scope) -> str | None:
        """Return the path a route fully matches (Express ignores one trailing slash), or ``None``."""
        candidates = [scope["path"]]
        if scope["path"].endswith("/") and len(scope["path"]) > 1:
            candidates.append(scope["path"][:-1])
        for path in candidates:
            probe = {**scope, "path": path}
            if any(route.matches(probe)[0] is Match.FULL for route in self.router.routes):
                return str(path)
        return None

    async def _answer_fault(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        response: Response
        if fault.kind == "status":
            assert fault.status is not None  # enforced by Fault
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            response = JSONResponse(body_for_status(fault.status), status_code=fault.status, headers=headers)
        elif fault.kind == "malformed_json":
            response = Response(MALFORMED_JSON, status_code=200, media_type="application/json")
        else:  # html
            assert fault.status is not None  # defaulted by Fault
            response = Response(html_error_page(fault.status), status_code=fault.status, media_type="text/html")
        await response(scope, receive, send)

    def _transport(self, scope: Scope) -> asyncio.Transport:
        client = scope.get("client")
        transport = self.hooks.transport_for(tuple(client) if client else None)
        if transport is None:
            raise RuntimeError("connection faults need the emulator's own server (RaiaEmulator or the CLI)")
        return transport

    async def _reset(self, scope: Scope, receive: Receive, exchange: _Exchange) -> None:
        transport = self._transport(scope)
        exchange.finish(None)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0 turns the close into a TCP RST: the client sees "connection reset", not a clean EOF.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        # Wait until the server has seen the disconnect, so it does not try to answer with a 500.
        await _until_disconnected(receive)

    def _cut_short(self, scope: Scope, receive: Receive, send: Send) -> Send:
        transport = self._transport(scope)

        async def cutting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                await send(message)  # status line and headers, Content-Length of the full body
                return
            if message["type"] != "http.response.body" or transport.is_closing():
                return
            body = message.get("body", b"")
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            transport.close()  # close() (unlike abort()) flushes the half body first
            await _until_disconnected(receive)

        return cutting_send


async def _json(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> None:
    await JSONResponse(body, status_code=status, headers=headers)(scope, receive, send)
