"""``RaiaEmulator``: the emulator served by uvicorn on a loopback port, in a background thread.

The listening socket is bound before uvicorn starts (so port 0 gets a known free port), uvicorn runs with
its own event loop in a daemon thread, and :meth:`RaiaEmulator.stop` shuts it down and joins the thread.
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
from raia_provider.testing.emulator.config import EmulatorConfig, MessageStatusVocabulary, PendingStyle
from raia_provider.testing.emulator.control.operations import EmulatorControls
from raia_provider.testing.emulator.net import LOCALHOST, http_origin, loopback_host
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
    ) -> None:
        self._host = loopback_host(host)
        self._requested_port = port
        config = EmulatorConfig(
            prompt_delay=prompt_delay,
            latency=latency,
            pending_style=pending_style,
            rate_limit=rate_limit,
            burst=burst,
            message_delay=message_delay,
            message_status_vocabulary=message_status_vocabulary,
            vector_store_delay=vector_store_delay,
        )
        super().__init__(EmulatorState(key=key or str(uuid.uuid4()), agent_name=agent_name, config=config))
        self._hooks = UvicornHooks()
        self.app = create_app(self.state, self._hooks)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._port: int | None = None

    # -- life cycle --------------------------------------------------------------------------------------

    def start(self) -> RaiaEmulator:
        """Bind the port, start uvicorn in a background thread and wait until it serves.

        :raises RuntimeError: if already started or if the server fails to start.
        """
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        # IPPROTO_TCP (not 0) so accepted sockets get TCP_NODELAY from asyncio; without it, Nagle plus the
        # client's delayed ACK add ~40 ms to every request on a kept-alive connection.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._requested_port))
            sock.listen(128)
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
        thread = threading.Thread(
            target=self._serve, args=(server, sock), name=f"raia-emulator-{self._port}", daemon=True
        )
        self._server, self._thread, self._socket = server, thread, sock
        self._port = int(sock.getsockname()[1])
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the raia emulator failed to start")
            time.sleep(0.002)
        return self

    def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        async def main() -> None:
            self._hooks.attach_loop()
            await server.serve(sockets=[sock])

        asyncio.run(main())

    def stop(self) -> None:
        """Shut the server down, join its thread and close the socket (idempotent)."""
        server, thread, sock = self._server, self._thread, self._socket
        if server is None or thread is None or sock is None:
            return
        self._hooks.begin_stop()
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(STOP_TIMEOUT)
        sock.close()
        self._server = self._thread = self._socket = None
        self._port = None

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
