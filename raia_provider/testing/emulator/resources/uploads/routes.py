"""``/_emulator/uploads/{token}`` — the emulated storage service behind the signed upload URLs.

``POST /external/prompts/upload-url`` (and a conversation's ``message-files/upload-url``) hands out a signed
URL on the emulator itself. It accepts a ``PUT`` of any content type (raia does not document the signed
URL's method or headers) and streams the body: the size is counted and the bytes are kept only up to
:data:`~.store.KEPT_UPLOAD_BYTES`. ``GET`` on the same URL serves small uploads back (the signed download
URL of a message file). Errors use FastAPI's ``{"detail": ...}`` bodies, as the rest of the control API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse, Response

from raia_provider.testing.emulator.deps import StateDep
from raia_provider.testing.emulator.resources.uploads.store import KEPT_UPLOAD_BYTES
from raia_provider.testing.emulator.resources.uploads.wire import UPLOAD_PATH
from raia_provider.testing.emulator.storage import NotFound

router = APIRouter(prefix=UPLOAD_PATH, tags=["Emulator control"])


@router.put("/{token}")
async def put_upload(token: str, request: Request, state: StateDep) -> Response:
    """Receive the bytes of a prompt or message file (the target of a signed upload URL), streamed: the size
    is counted and the bytes are kept only up to ``KEPT_UPLOAD_BYTES``.

    :param token: the signed URL's token.
    :param request: the request carrying the bytes.
    :param state: the emulator state.
    """
    try:
        state.upload(token)
    except NotFound:
        return _unknown_upload()
    size, kept = 0, bytearray()
    async for chunk in request.stream():
        size += len(chunk)
        if size <= KEPT_UPLOAD_BYTES:
            kept += chunk
    state.store_upload(token, size, bytes(kept) if size <= KEPT_UPLOAD_BYTES else None)
    return Response(status_code=status.HTTP_200_OK)


@router.get("/{token}")
async def get_upload(token: str, state: StateDep) -> Response:
    """Serve back the bytes PUT to a signed URL (the signed download URL of a message file).

    404 if the URL was never issued or nothing was PUT yet; 410 if the upload was too large to keep.

    :param token: the signed URL's token.
    :param state: the emulator state.
    """
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
