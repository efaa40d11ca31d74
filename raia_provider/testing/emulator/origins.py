"""The emulator's two origins: raia's API (``/external``, and the ``/_emulator`` control API) on one socket,
the storage service behind signed URLs (``/_emulator/uploads/{token}``) on another.

Real signed URLs point at a storage service (a cloud bucket), not at raia, and that service must never be
sent raia's ``Agent-Secret-Key``. Serving storage on its own host and port lets a test see a client that
reuses its raia session (base URL, headers) for the upload: the signed URL's origin differs from the base
URL's, and a request reaching the wrong origin answers 404. :class:`StorageOrigin` knows the storage socket's
address once bound; :class:`OriginGate` (the app's outermost middleware) tells the two apart by the socket a
request arrived on (``scope["server"]``), never by the ``Host`` header. An app run without a storage socket
(another ASGI server, a test client) serves both on one origin, as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import JSONResponse

from raia_provider.testing.emulator.net import http_origin
from raia_provider.testing.emulator.resources.uploads.wire import UPLOAD_PATH

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def is_storage_path(path: str) -> bool:
    """Tell whether ``path`` is the storage service's (``/_emulator/uploads/<token>``).

    :param path: a request path.
    """
    return path.startswith(UPLOAD_PATH + "/")


class StorageOrigin:
    """Where the storage service listens: set by the server once its socket is bound, ``None`` before."""

    def __init__(self) -> None:
        self.address: tuple[str, int] | None = None

    def serves(self, scope: Scope) -> bool:
        """Tell whether a request arrived on the storage socket.

        :param scope: the request's ASGI scope.
        """
        server = scope.get("server")
        return self.address is not None and server is not None and (str(server[0]), int(server[1])) == self.address

    def origin(self) -> str | None:
        """``http://host:port`` of the storage service, ``None`` if it has no socket of its own."""
        return None if self.address is None else http_origin(*self.address)


class OriginGate:
    """Answers 404 to a storage path on the API's origin and to any other path on the storage origin.

    :param app: the wrapped ASGI app.
    :param storage: the storage service's address.
    """

    def __init__(self, app: ASGIApp, *, storage: StorageOrigin) -> None:
        self.app = app
        self.storage = storage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run one ASGI request.

        :param scope: ASGI scope.
        :param receive: ASGI receive.
        :param send: ASGI send.
        """
        wrong_origin = self.storage.serves(scope) != is_storage_path(scope.get("path", ""))
        if scope["type"] == "http" and self.storage.address is not None and wrong_origin:
            await JSONResponse({"detail": "Not Found"}, status_code=404)(scope, receive, send)
            return
        await self.app(scope, receive, send)
