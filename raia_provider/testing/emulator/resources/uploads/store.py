"""Signed upload URLs: what ``upload-url`` issued (for a prompt or a conversation's message files), and the
bytes later ``PUT`` to them.

The signed URL is the emulator's own storage service (``/_emulator/uploads/{token}``, see :mod:`.routes`):
it takes a ``PUT`` of any content type and serves small uploads back with ``GET``. A prompt or message may
only cite a ``storagePath`` issued to its agent (and, for a message, for its conversation).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import TYPE_CHECKING

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
    """

    token: str
    agent_id: str
    file_name: str
    content_type: str
    storage_path: str
    size: int | None = None
    data: bytes | None = field(default=None, repr=False)


class UploadStore(Store):
    """Every issued upload, by token (an agent only ever sees those issued to it).

    :param context: the shared store context.
    """

    def __init__(self, context: StoreContext) -> None:
        super().__init__(context)
        self._uploads: Table[Upload] = context.table(attrgetter("token"))

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

    def store_upload(self, token: str, size: int, data: bytes | None = None) -> Upload:
        """Record what was PUT to a signed URL: its size, and its bytes when small.

        :param token: the token of the signed URL.
        :param size: how many bytes were received.
        :param data: the bytes, when at most :data:`KEPT_UPLOAD_BYTES` (else ``None``).
        :raises NotFound: if no such URL was issued (a ``KeyError``).
        """
        with self._lock:
            return self._uploads.save(replace(self._uploads.get(token), size=size, data=data))

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
