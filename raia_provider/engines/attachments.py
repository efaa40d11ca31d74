"""Files attached to a prompt or a message: checked before any request, uploaded once per task instance.

``files`` names them as ``RaiaUploadFilesOperator``'s ``paths`` does (a path, a glob, a folder, an
``ObjectStoragePath``, or a list of those). Every file is found and checked first, so a missing one fails the
task before anything is sent. Each upload (a signed URL from raia, then the bytes to the storage host) is
remembered in the task's memory as soon as it is done (Airflow 3.3+): a retry re-uses the ``storagePath`` of
a file already uploaded, unchanged, by an earlier try instead of uploading it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from raia_provider._core.file_source import check_content_type
from raia_provider._core.multipart import FilePart
from raia_provider.engines.source_files import SourceFile, has_entries, resolve_sources
from raia_provider.engines.task_memory import TaskMemory
from raia_provider.exceptions import RaiaInputError

log = logging.getLogger(__name__)

Upload = Callable[[FilePart], Any]
"""Uploads one file and returns its ``PromptFile`` / ``MessageFile`` (anything with ``file_name`` and
``storage_path``)."""


@dataclass(frozen=True)
class Attachments:
    """The files a task attaches, checked.

    :param files: each file, in the order ``files`` names them.
    """

    files: list[SourceFile]

    @classmethod
    def from_argument(cls, files: Any, *, content_type: str | None = None) -> Attachments | None:
        """Find and check the files ``files`` names; ``None`` when it names none. No request.

        :param files: the operator's rendered ``files`` (``None``, ``""`` or ``[]`` for none).
        :param content_type: one MIME type for every file; guessed from each name when ``None``.
        :raises RaiaInputError: naming ``files`` and the entry that names nothing readable.
        """
        if files is None or (isinstance(files, str | list | tuple) and not has_entries(files)):
            return None
        if content_type is not None:
            try:
                check_content_type(content_type)
            except ValueError as exc:
                raise RaiaInputError(f"argument 'file_content_type': {exc}.") from None
        selection = resolve_sources(files, argument="files", content_type=content_type)
        for skipped in selection.skipped_links:
            log.warning("Not attaching %s: a link leading outside the folder or pattern that found it.", skipped)
        return cls(selection.files)

    def upload(self, context: Mapping[str, Any], upload: Upload, *, memory_key: str) -> list[dict[str, str]]:
        """Upload every file not uploaded by an earlier try; return the ``files`` entries, in order.

        :param context: the task's context (its memory survives retries on Airflow 3.3+).
        :param upload: uploads one file, e.g. ``hook.upload_prompt_file``.
        :param memory_key: where the task remembers its uploads.
        :return: ``[{"file_name": ..., "storage_path": ...}, ...]``.
        """
        memory = TaskMemory(context)
        remembered = memory.get(memory_key)
        done: dict[str, dict[str, str]] = dict(remembered) if isinstance(remembered, dict) else {}
        entries = []
        for source in self.files:
            entry = done.get(source.identity)
            if entry is not None:
                log.info("Re-using %s, uploaded by an earlier try (%s).", source.source, entry["storage_path"])
            else:
                uploaded = upload(source.part)
                entry = {"file_name": uploaded.file_name, "storage_path": uploaded.storage_path}
                done[source.identity] = entry
                memory.set(memory_key, done)  # at once: a later file's failure must not lose this upload
                log.info("Uploaded %s (%d bytes) as %s.", source.source, source.part.size, entry["storage_path"])
            entries.append(entry)
        return entries
