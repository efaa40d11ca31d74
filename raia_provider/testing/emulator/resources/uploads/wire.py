"""Bodies of the signed-upload-URL operations, and the URLs the emulator hands out."""

from __future__ import annotations

from collections.abc import Sequence

from raia_provider.testing.emulator.body_fields import RequestBody, RequiredText
from raia_provider.testing.emulator.net import CONTROL_PREFIX
from raia_provider.testing.emulator.validation import detail, refuse

UPLOAD_PATH = f"{CONTROL_PREFIX}/uploads"
"""Where the emulated storage service takes (``PUT``) and serves (``GET``) uploaded bytes, by token."""


class CitedFile(RequestBody):
    """A file a prompt or a message cites: its name and the ``storagePath`` an upload URL was issued for."""

    fileName: RequiredText
    storagePath: RequiredText


class UploadUrlBody(RequestBody):
    """Body of ``POST /external/prompts/upload-url`` (spec ``CreatePromptFileSignedUploadUrlBodyDTO``)."""

    fileName: RequiredText
    contentType: RequiredText


def signed_url(origin: str, token: str) -> str:
    """The signed URL of an upload: the emulator's storage service, by the upload's token.

    :param origin: the storage service's origin (its own socket, see :mod:`~...origins`).
    :param token: the upload's token.
    """
    return f"{origin}{UPLOAD_PATH}/{token}"


def refuse_unissued(indexes: Sequence[int], message: str) -> None:
    """Raise raia's 400 naming each cited ``files.N.storagePath`` no upload URL was issued for (``isIssued``).

    :param indexes: the positions in ``files`` of the unissued paths (nothing is raised when empty).
    :param message: why each is refused.
    :raises RaiaError: 400 with one detail per path.
    """
    refuse([detail(f"files.{index}.storagePath", "isIssued", message) for index in indexes])
