"""Small misbehaving HTTP servers on loopback: not the emulator, and not tuned to pass.

Each :class:`HostileServer` answers every request the same bad way (a :data:`Behaviour`), written straight to
the socket so nothing in between tidies it up: redirects, a trickle, a body too large (with and without a
``Content-Length``), an endless chunked body, JSON nested 100,000 deep, a reset right after the headers, an
HTML page with status 200. It records what each connection asked (request line and headers) and how many
body bytes it managed to send before the client went away.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

#: How deep the nested-JSON answer goes (a body of that many ``[`` then as many ``]``).
DEPTH = 100_000
#: The trickle: one byte of a 1,000-byte body every this many seconds (a full answer would take 50 s).
TRICKLE_EVERY = 0.05
TRICKLE_LENGTH = 1_000
#: The oversized answers: 256 MiB, declared or not.
HUGE = 256 * 1024 * 1024
_BLOCK = b"0" * 65536


@dataclass
class Seen:
    """One request a hostile server received."""

    request_line: str
    headers: dict[str, str]
    body_bytes_sent: int = 0
    client_left: threading.Event = field(default_factory=threading.Event)


Behaviour = Callable[["HostileServer", socket.socket, Seen], None]


class HostileServer:
    """A loopback HTTP server that answers every request with ``behaviour``.

    :param behaviour: what to send back.
    :param host: the loopback address to listen on (``127.0.0.2`` plays "another host").
    """

    def __init__(self, behaviour: Behaviour, host: str = "127.0.0.1") -> None:
        self.behaviour = behaviour
        self.host = host
        self.seen: list[Seen] = []
        self._listener = socket.create_server((host, 0))
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name=f"hostile-{host}:{self.port}", daemon=True)
        self._thread.start()

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/external"

    def close(self) -> None:
        self._stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            while True:  # keep-alive: answer every request on the connection
                seen = _read_request(connection)
                if seen is None:
                    return
                self.seen.append(seen)
                try:
                    self.behaviour(self, connection, seen)
                except OSError:
                    seen.client_left.set()
                    return
                if seen.client_left.is_set():
                    return


def _read_request(connection: socket.socket) -> Seen | None:
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = connection.recv(65536)
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:  # drain the request body (an upload) before answering
        chunk = connection.recv(65536)
        if not chunk:
            break
        rest += chunk
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while not rest.endswith(b"0\r\n\r\n"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            rest += chunk
    return Seen(request_line=lines[0], headers=headers)


def _head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def _send_body(connection: socket.socket, seen: Seen, body: bytes) -> None:
    connection.sendall(body)
    seen.body_bytes_sent += len(body)


def redirect(status: int, location: Callable[[HostileServer, Seen], str]) -> Behaviour:
    """A redirect with ``status`` to ``location(server, seen)``."""

    def behave(server: HostileServer, connection: socket.socket, seen: Seen) -> None:
        connection.sendall(_head(f"{status} Redirect", {"Location": location(server, seen), "Content-Length": "0"}))

    return behave


def same_path_on(origin: Callable[[], str]) -> Callable[[HostileServer, Seen], str]:
    """The redirect target: the same path (and query) on another origin."""
    return lambda server, seen: origin() + seen.request_line.split(" ")[1]


def trickle(server: HostileServer, connection: socket.socket, seen: Seen) -> None:
    """Headers at once, then one byte of the body every :data:`TRICKLE_EVERY` seconds."""
    connection.sendall(_head("200 OK", {"Content-Type": "application/json", "Content-Length": str(TRICKLE_LENGTH)}))
    for _ in range(TRICKLE_LENGTH):
        if server._stop.wait(TRICKLE_EVERY):
            return
        _send_body(connection, seen, b" ")
    seen.client_left.set()


def _stream_zeros(connection: socket.socket, seen: Seen, total: int | None, chunked: bool = False) -> None:
    while total is None or seen.body_bytes_sent < total:
        block = _BLOCK if total is None else _BLOCK[: total - seen.body_bytes_sent]
        if chunked:
            connection.sendall(f"{len(block):x}\r\n".encode() + block + b"\r\n")
            seen.body_bytes_sent += len(block)
        else:
            _send_body(connection, seen, block)
    seen.client_left.set()


def huge_declared(server: HostileServer, connection: socket.socket, seen: Seen) -> None:
    """A 256 MiB body announced by its Content-Length."""
    connection.sendall(_head("200 OK", {"Content-Type": "application/json", "Content-Length": str(HUGE)}))
    _stream_zeros(connection, seen, HUGE)


def huge_undeclared(server: HostileServer, connection: socket.socket, seen: Seen) -> None:
    """A 256 MiB body with no length: it ends when the connection closes."""
    connection.sendall(_head("200 OK", {"Content-Type": "application/json", "Connection": "close"}))
    _stream_zeros(connection, seen, HUGE)


def endless_chunks(server: HostileServer, connection: socket.socket, seen: Seen) -> None:
    """A chunked body that never ends."""
    connection.sendall(_head("200 OK", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
    _stream_zeros(connection, seen, None, chunked=True)


def deep_json(status: str) -> Behaviour:
    """A JSON body nested :data:`DEPTH` deep, with ``status``."""
    body = b"[" * DEPTH + b"]" * DEPTH

    def behave(server: HostileServer, connection: socket.socket, seen: Seen) -> None:
        head = _head(status, {"Content-Type": "application/json", "Content-Length": str(len(body))})
        connection.sendall(head)
        _send_body(connection, seen, body)

    return behave


def reset_after_headers(server: HostileServer, connection: socket.socket, seen: Seen) -> None:
    """Headers promising 100 bytes and 10 of them, then a TCP reset (loopback delivers the bytes first)."""
    connection.sendall(_head("200 OK", {"Content-Type": "application/json", "Content-Length": "100"}) + b'{"status":')
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()
    seen.client_left.set()


def html_200(server: HostileServer, connection: socket.socket, seen: Seen) -> None:
    """A captive portal's page, with status 200."""
    body = b"<html><body>Please log in to the Wi-Fi</body></html>"
    connection.sendall(_head("200 OK", {"Content-Type": "text/html", "Content-Length": str(len(body))}))
    _send_body(connection, seen, body)


def html_404(server: HostileServer, connection: socket.socket, seen: Seen) -> None:
    """A web server's own 404 page (nginx-style HTML), as a base URL that is not raia's API gets."""
    body = b"<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center></body></html>"
    connection.sendall(_head("404 Not Found", {"Content-Type": "text/html", "Content-Length": str(len(body))}))
    _send_body(connection, seen, body)
