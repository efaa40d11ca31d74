"""The hostile answers, each with the typed error it must end in and what else must hold."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from raia_provider.exceptions import (
    RaiaConnectionError,
    RaiaError,
    RaiaMalformedResponseError,
    RaiaRedirectError,
    RaiaResponseTooLargeError,
    RaiaServerError,
    RaiaTimeoutError,
)
from tests.hostile import servers
from tests.hostile.servers import Behaviour, HostileServer

#: The hooks' body limit in these tests: 1 MiB, against answers of 256 MiB or without end.
LIMIT = 1024 * 1024
#: Bytes a server may get into the sockets' buffers before a client that stopped reading shows it.
SOCKET_BUFFERS = 16 * 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One hostile answer.

    :param id: the test id.
    :param behaviour: what the server at the connection's base URL does, given the "other host" server.
    :param error: the exception the request must end in.
    :param message: a part of its message.
    :param max_body_sent: how many body bytes the server may have sent before the client stopped it.
    """

    id: str
    behaviour: Callable[[HostileServer], Behaviour]
    error: type[RaiaError]
    message: str | Callable[[HostileServer, HostileServer], str] = ""
    max_body_sent: int | None = None
    other_host: bool = field(default=False)


def _to_other(status: int) -> Case:
    return Case(
        f"redirect-{status}-other-host",
        lambda other: servers.redirect(status, servers.same_path_on(lambda: other.origin)),
        RaiaRedirectError,
        lambda own, other: (
            f"HTTP {status}, a redirect to http://127.0.0.2:{other.port}, which the provider never follows"
        ),
        other_host=True,
    )


CASES = [
    *(_to_other(status) for status in (301, 302, 303, 307, 308)),
    Case(
        "redirect-307-same-host",
        lambda other: servers.redirect(307, lambda server, seen: "/external/elsewhere"),
        RaiaRedirectError,
        "HTTP 307, a redirect, which the provider never follows",
    ),
    Case(
        "redirect-301-to-https",
        lambda other: servers.redirect(
            301, lambda server, seen: f"https://127.0.0.1:{server.port}{seen.request_line.split(' ')[1]}"
        ),
        RaiaRedirectError,
        lambda own, other: f"put https://127.0.0.1:{own.port}/external in the connection's base URL instead",
    ),
    Case(
        "trickle",
        lambda other: servers.trickle,
        RaiaTimeoutError,
        "the whole answer did not arrive within",
        max_body_sent=servers.TRICKLE_LENGTH - 1,
    ),
    Case(
        "huge-with-content-length",
        lambda other: servers.huge_declared,
        RaiaResponseTooLargeError,
        f"its Content-Length is {servers.HUGE:,} bytes",
        max_body_sent=SOCKET_BUFFERS,
    ),
    Case(
        "huge-without-content-length",
        lambda other: servers.huge_undeclared,
        RaiaResponseTooLargeError,
        f"more than {LIMIT:,} bytes arrived",
        max_body_sent=LIMIT + SOCKET_BUFFERS,
    ),
    Case(
        "endless-chunked",
        lambda other: servers.endless_chunks,
        RaiaResponseTooLargeError,
        f"more than {LIMIT:,} bytes arrived",
        max_body_sent=LIMIT + SOCKET_BUFFERS,
    ),
    Case("deep-json-200", lambda other: servers.deep_json("200 OK"), RaiaMalformedResponseError, "not valid JSON"),
    Case(
        "deep-json-503",
        lambda other: servers.deep_json("503 Service Unavailable"),
        RaiaServerError,
        "with HTTP 503 (non-JSON body",
    ),
    Case("reset-after-headers", lambda other: servers.reset_after_headers, RaiaConnectionError, "got no answer"),
    Case("html-200", lambda other: servers.html_200, RaiaMalformedResponseError, "<html><body>Please log in"),
]
BY_ID = {case.id: case for case in CASES}
