"""What the emulator's ASGI pipeline needs from uvicorn: the live connections (to drop one for a ``reset``
fault) and a "stopping" signal that wakes emulated delays, so stopping never waits on them."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn


class UvicornHooks:
    """The pipeline's view of the uvicorn server: live connections and a "stopping" signal."""

    def __init__(self) -> None:
        self._server_state: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    def bind(self, server: uvicorn.Server) -> None:
        """Attach to ``server``'s connection set.

        :param server: the uvicorn server serving the app.
        """
        self._server_state = server.server_state

    def attach_loop(self) -> None:
        """Create the stopping signal in the server's event loop (call from inside that loop)."""
        self._stopping = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def begin_stop(self) -> None:
        """Wake every pending :meth:`pause` (thread-safe), so stopping never waits on emulated delays."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopping.set)

    def transport_for(self, client: tuple[str, int] | None) -> asyncio.Transport | None:
        """Return the transport of the connection from ``client``, if still open.

        :param client: the peer ``(host, port)`` from the ASGI scope.
        """
        if self._server_state is None or client is None:
            return None
        for protocol in list(self._server_state.connections):
            if getattr(protocol, "client", None) == client:
                transport: asyncio.Transport = protocol.transport
                return transport
        return None

    async def pause(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless the server starts stopping.

        :param seconds: how long to sleep.
        :return: ``True`` if the full time passed.
        """
        if self._stopping is None:
            await asyncio.sleep(seconds)
            return True
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return True
        return False
