"""Signed upload URLs: what ``upload-url`` issued (for a prompt or a conversation's message files), the
bytes later ``PUT`` to them, and the requests that wrongly carried raia's key to the storage service.

The signed URL is the emulator's storage service, on its own origin (``/_emulator/uploads/{token}``, see
:mod:`.routes`): it takes a ``PUT`` of any content type and serves small uploads back with ``GET``. A prompt
or message may only cite a ``storagePath`` issued to its agent (and, for a message, for its conversation).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import TYPE_CHECKING

from raia_provider.testing.emulator.answers import ArrivedFile
from raia_provider.testing.emulator.storage import Store, StoreContext, Table

if TYPE_CHECKING:
    from raia_provider.testing.emulator.state import Agent

KEPT_UPLOAD_BYTES = 1024 * 1024
"""Bytes PUT to a signed upload URL are kept (and served back) up to this size; larger uploads keep only their
size."""


@dataclass(frozen=True)
class Upload:
    """A signed upload URL issued by ``POST /external/prompts/upload-url``.

    :param token: the secret part of the signed URL.
    :param agent_id: the agent it was issued to.
    :param file_name: the requested file name.
    :param content_type: the requested content type.
    :param storage_path: the ``storagePath`` to cite in a prompt's (or message's) ``files``.
    :param size: bytes received by the PUT, ``None`` until uploaded.
    :param data: the bytes received, kept only up to :data:`KEPT_UPLOAD_BYTES` (``None`` otherwise).
    :param sha256: SHA-256 (hex) of the bytes received, computed while streaming (kept whatever the size).
    :param put_content_type: the ``Content-Type`` header the PUT sent, ``None`` if it sent none.
    """

    token: str
    agent_id: str
    file_name: str
    content_type: str
    storage_path: str
    size: int | None = None
    data: bytes | None = field(default=None, repr=False)
    sha256: str | None = None
    put_content_type: str | None = None


@dataclass(frozen=True)
class KeyLeak:
    """A request to the storage service that carried the ``Agent-Secret-Key`` header (refused with 403).

    The key itself is never kept: only which agent's key it was.

    :param seq: position among the refusals since the last reset, from 1.
    :param method: HTTP method (``PUT`` or ``GET``).
    :param path: the request path (``/_emulator/uploads/<token>``).
    :param agent_id: the agent whose key was sent, ``None`` if it was no agent's.
    :param timestamp: monotonic time of the request.
    """

    seq: int
    method: str
    path: str
    agent_id: str | None
    timestamp: float


class UploadStore(Store):
    """Every issued upload, by token (an agent only ever sees those issued to it).

    :param context: the shared store context.
    """

    def __init__(self, context: StoreContext) -> None:
        super().__init__(context)
        self._uploads: Table[Upload] = context.table(attrgetter("token"))
        self._key_leaks: Table[KeyLeak] = context.table(attrgetter("seq"))

    def issue_upload(self, agent: Agent, file_name: str, content_type: str, prefix: str | None = None) -> Upload:
        """Issue a signed upload for ``agent``.

        :param agent: the requesting agent.
        :param file_name: the requested file name.
        :param content_type: the requested content type.
        :param prefix: storage path prefix; ``prompt-files/<agent id>`` when omitted.
        """
        prefix = prefix if prefix is not None else f"prompt-files/{agent.id}"
        upload = Upload(
            token=uuid.uuid4().hex,
            agent_id=agent.id,
            file_name=file_name,
            content_type=content_type,
            storage_path=f"{prefix}/{uuid.uuid4()}/{file_name}",
        )
        with self._lock:
            return self._uploads.save(upload)

    def store_upload(
        self,
        token: str,
        size: int,
        data: bytes | None = None,
        *,
        sha256: str | None = None,
        content_type: str | None = None,
    ) -> Upload:
        """Record what was PUT to a signed URL: its size, hash and content type, and its bytes when small.

        :param token: the token of the signed URL.
        :param size: how many bytes were received.
        :param data: the bytes, when at most :data:`KEPT_UPLOAD_BYTES` (else ``None``).
        :param sha256: the SHA-256 (hex) of the bytes.
        :param content_type: the PUT's ``Content-Type`` header.
        :raises NotFound: if no such URL was issued (a ``KeyError``).
        """
        with self._lock:
            upload = replace(
                self._uploads.get(token), size=size, data=data, sha256=sha256, put_content_type=content_type
            )
            return self._uploads.save(upload)

    def record_key_leak(self, method: str, path: str, agent_id: str | None) -> KeyLeak:
        """Record a storage request refused for carrying the ``Agent-Secret-Key`` header.

        :param method: its HTTP method.
        :param path: its path.
        :param agent_id: the agent whose key it carried, ``None`` if no agent's.
        """
        with self._lock:
            leak = KeyLeak(len(self._key_leaks.rows()) + 1, method, path, agent_id, self._now())
            return self._key_leaks.save(leak)

    def key_leaks(self) -> list[KeyLeak]:
        """Every storage request refused for carrying the key, oldest first."""
        with self._lock:
            return self._key_leaks.rows()

    def upload(self, token: str) -> Upload:
        """Return an issued upload.

        :param token: the token of the signed URL.
        :raises NotFound: if no such URL was issued (a ``KeyError``).
        """
        with self._lock:
            return self._uploads.get(token)

    def upload_for_path(self, agent_id: str, storage_path: str) -> Upload | None:
        """Return the upload ``agent_id`` was issued for ``storage_path``, if any.

        :param agent_id: the agent citing the path.
        :param storage_path: a ``storagePath``.
        """
        with self._lock:
            issued = self._uploads.where(lambda u: u.agent_id == agent_id and u.storage_path == storage_path)
        return issued[0] if issued else None

    def arrived_file(self, agent_id: str, file_name: str, storage_path: str) -> ArrivedFile:
        """What the signed URL of ``storage_path`` has received so far, for an answer to describe.

        :param agent_id: the agent citing the path.
        :param file_name: the cited ``fileName``.
        :param storage_path: the cited ``storagePath``.
        """
        upload = self.upload_for_path(agent_id, storage_path)
        if upload is None or upload.size is None:
            return ArrivedFile(file_name)
        return ArrivedFile(file_name, upload.size, upload.sha256)

    def unissued_paths(self, agent_id: str, storage_paths: Sequence[str]) -> list[int]:
        """Return the indexes of ``storage_paths`` that were never issued to ``agent_id``.

        :param agent_id: the agent citing the paths.
        :param storage_paths: ``storagePath`` values from a prompt's ``files``.
        """
        with self._lock:
            issued = {u.storage_path for u in self._uploads.where(lambda u: u.agent_id == agent_id)}
        return [index for index, path in enumerate(storage_paths) if path not in issued]

    def uploads(self) -> list[Upload]:
        """Every issued upload, oldest first."""
        with self._lock:
            return self._uploads.rows()
