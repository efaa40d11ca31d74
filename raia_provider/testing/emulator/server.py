"""``RaiaEmulator``: the emulator served by uvicorn on a loopback port, in a background thread.

Two listening sockets are bound before uvicorn starts (so port 0 gets a known free port): raia's API and the
control API on one, the storage service behind signed URLs on the other (its own origin, see
:mod:`.origins`). uvicorn serves both with its own event loop in a daemon thread, and
:meth:`RaiaEmulator.stop` shuts it down and joins the thread.
Its control methods (knobs, faults, the request log, held work, seeded records) are
:class:`~.control.operations.EmulatorControls`, the operations the ``/_emulator`` routes also carry out.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from types import TracebackType

import uvicorn

from raia_provider.testing.emulator.app import create_app
from raia_provider.testing.emulator.config import EmulatorConfig, JsonAnswers, MessageStatusVocabulary, PendingStyle
from raia_provider.testing.emulator.control.operations import EmulatorControls
from raia_provider.testing.emulator.net import LOCALHOST, http_origin, loopback_host
from raia_provider.testing.emulator.origins import StorageOrigin
from raia_provider.testing.emulator.state import DEFAULT_AGENT_NAME, EmulatorState
from raia_provider.testing.emulator.uvicorn_hooks import UvicornHooks

__all__ = ["RaiaEmulator", "UvicornHooks"]

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
# Emulated delays end at once on stop; this only bounds a request stuck elsewhere.
GRACEFUL_SHUTDOWN = 2


class RaiaEmulator(EmulatorControls):
    """A raia emulator on ``http://127.0.0.1:PORT/external``; use as a context manager or start()/stop().

    Creating one does no I/O; :meth:`start` binds the port and waits until the server accepts requests.

    :param key: the default agent's ``Agent-Secret-Key``; a random UUID when omitted.
    :param agent_name: the default agent's name.
    :param host: a loopback address to bind (anything else is refused).
    :param port: the port to bind; 0 picks a free one.
    :param prompt_delay: seconds until an async prompt settles; ``None`` holds new prompts pending.
    :param latency: seconds added to every ``/external`` response.
    :param pending_style: ``null``, ``status`` or ``alternate`` (see ``EmulatorConfig``).
    :param rate_limit: requests per second per agent, ``None`` for no limit.
    :param burst: token-bucket size (default one second's worth).
    :param message_delay: seconds until an async message's answer settles; ``None`` holds them.
    :param message_status_vocabulary: ``spec`` or ``release_notes`` (see ``EmulatorConfig``).
    :param vector_store_delay: seconds an agent file stays ``processing``; ``None`` holds them.
    :param storage_host: the loopback address of the storage service behind signed URLs (default: ``host``),
        e.g. ``127.0.0.2`` to give it another host as well as another port.
    :param storage_port: its port; 0 picks a free one.
    :param json_answers: ``valid``, ``invalid`` or ``mismatch`` (see ``EmulatorConfig``).
    :raises ValueError: on a non-loopback host or an invalid knob.
    """

    def __init__(
        self,
        key: str | None = None,
        *,
        agent_name: str = DEFAULT_AGENT_NAME,
        host: str = LOCALHOST,
        port: int = 0,
        prompt_delay: float | None = 0.2,
        latency: float = 0.0,
        pending_style: PendingStyle = "null",
        rate_limit: float | None = None,
        burst: int | None = None,
        message_delay: float | None = 0.2,
        message_status_vocabulary: MessageStatusVocabulary = "spec",
        vector_store_delay: float | None = 0.2,
        storage_host: str | None = None,
        storage_port: int = 0,
        json_answers: JsonAnswers = "valid",
    ) -> None:
        self._host = loopback_host(host)
        self._requested_port = port
        self._storage_host = loopback_host(storage_host) if storage_host is not None else self._host
        self._requested_storage_port = storage_port
        config = EmulatorConfig(
            prompt_delay=prompt_delay,
            latency=latency,
            pending_style=pending_style,
            rate_limit=rate_limit,
            burst=burst,
            message_delay=message_delay,
            message_status_vocabulary=message_status_vocabulary,
            vector_store_delay=vector_store_delay,
            json_answers=json_answers,
        )
        super().__init__(EmulatorState(key=key or str(uuid.uuid4()), agent_name=agent_name, config=config))
        self._hooks = UvicornHooks()
        self._storage = StorageOrigin()
        self.app = create_app(self.state, self._hooks, self._storage)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sockets: list[socket.socket] = []
        self._port: int | None = None

    # -- life cycle --------------------------------------------------------------------------------------

    def start(self) -> RaiaEmulator:
        """Bind the API's and the storage service's ports, start uvicorn in a background thread and wait until
        it serves.

        :raises RuntimeError: if already started or if the server fails to start.
        :raises OSError: if a port cannot be bound.
        """
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        sock = _listening_socket(self._host, self._requested_port)
        try:
            storage_sock = _listening_socket(self._storage_host, self._requested_storage_port)
        except OSError:
            sock.close()
            raise
        server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                log_level="warning",
                log_config=None,  # in-process: leave the host application's logging alone
                access_log=False,
                lifespan="off",
                proxy_headers=False,  # keep the real peer address: reset faults look connections up by it
                server_header=False,
                ws="none",  # no websocket routes; also spares importing the websockets package
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
            )
        )
        self._hooks.bind(server)
        self._port = int(sock.getsockname()[1])
        self._storage.address = (self._storage_host, int(storage_sock.getsockname()[1]))
        sockets = [sock, storage_sock]
        thread = threading.Thread(
            target=self._serve, args=(server, sockets), name=f"raia-emulator-{self._port}", daemon=True
        )
        self._server, self._thread, self._sockets = server, thread, sockets
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the raia emulator failed to start")
            time.sleep(0.002)
        return self

    def _serve(self, server: uvicorn.Server, sockets: list[socket.socket]) -> None:
        async def main() -> None:
            self._hooks.attach_loop()
            await server.serve(sockets=sockets)

        asyncio.run(main())

    def stop(self) -> None:
        """Shut the server down, join its thread and close the sockets (idempotent)."""
        server, thread, sockets = self._server, self._thread, self._sockets
        if server is None or thread is None:
            return
        self._hooks.begin_stop()
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(STOP_TIMEOUT)
        for sock in sockets:
            sock.close()
        self._server = self._thread = None
        self._sockets = []
        self._port = None
        self._storage.address = None

    def __enter__(self) -> RaiaEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is started."""
        return self._server is not None

    # -- addresses ---------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port.

        :raises RuntimeError: if not started.
        """
        if self._port is None:
            raise RuntimeError("the emulator is not running; call start() or use it as a context manager")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (the control API lives under ``/_emulator``)."""
        return http_origin(self._host, self.port)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/external`` — what a raia client uses as its base URL."""
        return f"{self.url}/external"

    @property
    def storage_url(self) -> str:
        """``http://STORAGE_HOST:STORAGE_PORT`` — the storage service the signed URLs point at.

        :raises RuntimeError: if not started.
        """
        origin = self._storage.origin()
        if origin is None:
            raise RuntimeError("the emulator is not running; call start() or use it as a context manager")
        return origin


def _listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``(host, port)`` and listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP (not 0) so accepted sockets get TCP_NODELAY from asyncio; without it, Nagle plus the
    # client's delayed ACK add ~40 ms to every request on a kept-alive connection.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock
