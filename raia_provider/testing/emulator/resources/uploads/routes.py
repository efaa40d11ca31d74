"""``/_emulator/uploads/{token}`` — the emulated storage service behind the signed upload URLs.

``POST /external/prompts/upload-url`` (and a conversation's ``message-files/upload-url``) hands out a signed
URL on the storage service's own origin (see :mod:`~raia_provider.testing.emulator.origins`). It accepts a
``PUT`` of any content type (raia does not document the signed URL's method or headers) and streams the body:
the size and SHA-256 are computed on the way, and the bytes are kept only up to
:data:`~.store.KEPT_UPLOAD_BYTES`. ``GET`` on the same URL serves small uploads back (the signed download URL
of a message file). Errors use FastAPI's ``{"detail": ...}`` bodies, as the rest of the control API.

A signed URL carries its own authorization: a request carrying raia's ``Agent-Secret-Key`` header (any
case) is refused with 403 :data:`KEY_REFUSED` and recorded (``key_leaks()``), because a client that sends it
leaks the agent's key to a third party (**inferred**: real storage would ignore or reject the header; the
emulator refuses it so that tests catch the leak).
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse, Response

from raia_provider.testing.emulator.deps import StateDep
from raia_provider.testing.emulator.resources.uploads.store import KEPT_UPLOAD_BYTES
from raia_provider.testing.emulator.resources.uploads.wire import UPLOAD_PATH
from raia_provider.testing.emulator.state import EmulatorState
from raia_provider.testing.emulator.storage import NotFound

router = APIRouter(prefix=UPLOAD_PATH, tags=["Emulator control"])

KEY_REFUSED = (
    "the storage service does not take the raia Agent-Secret-Key header; a signed URL must be called without it"
)
"""The ``detail`` of the 403 answered to a storage request carrying the agent key."""


async def _refused_key(request: Request, state: EmulatorState) -> JSONResponse | None:
    """Record and refuse a request carrying ``Agent-Secret-Key`` (its body drained first); ``None`` if clean."""
    key = request.headers.get("agent-secret-key")  # Starlette's headers are case-insensitive
    if key is None:
        return None
    agent = state.agent_for_key(key)
    state.record_key_leak(request.method, request.url.path, agent.id if agent else None)
    async for _ in request.stream():  # let the client finish sending before it reads the 403
        pass
    return JSONResponse({"detail": KEY_REFUSED}, status_code=status.HTTP_403_FORBIDDEN)


@router.put("/{token}")
async def put_upload(token: str, request: Request, state: StateDep) -> Response:
    """Receive the bytes of a prompt or message file (the target of a signed upload URL), streamed: the size
    and SHA-256 are computed and the bytes are kept only up to ``KEPT_UPLOAD_BYTES``.

    :param token: the signed URL's token.
    :param request: the request carrying the bytes.
    :param state: the emulator state.
    """
    refused = await _refused_key(request, state)
    if refused is not None:
        return refused
    try:
        state.upload(token)
    except NotFound:
        return _unknown_upload()
    size, kept, digest = 0, bytearray(), hashlib.sha256()
    async for chunk in request.stream():
        size += len(chunk)
        digest.update(chunk)
        if size <= KEPT_UPLOAD_BYTES:
            kept += chunk
    state.store_upload(
        token,
        size,
        bytes(kept) if size <= KEPT_UPLOAD_BYTES else None,
        sha256=digest.hexdigest(),
        content_type=request.headers.get("content-type"),
    )
    return Response(status_code=status.HTTP_200_OK)


@router.get("/{token}")
async def get_upload(token: str, request: Request, state: StateDep) -> Response:
    """Serve back the bytes PUT to a signed URL (the signed download URL of a message file).

    404 if the URL was never issued or nothing was PUT yet; 410 if the upload was too large to keep.

    :param token: the signed URL's token.
    :param request: the request.
    :param state: the emulator state.
    """
    refused = await _refused_key(request, state)
    if refused is not None:
        return refused
    try:
        upload = state.upload(token)
    except NotFound:
        return _unknown_upload()
    if upload.size is None:
        return JSONResponse({"detail": "nothing uploaded yet"}, status_code=status.HTTP_404_NOT_FOUND)
    if upload.data is None:
        return JSONResponse({"detail": "upload too large to keep"}, status_code=status.HTTP_410_GONE)
    return Response(upload.data, media_type=upload.content_type)


def _unknown_upload() -> JSONResponse:
    return JSONResponse({"detail": "unknown upload URL"}, status_code=status.HTTP_404_NOT_FOUND)
