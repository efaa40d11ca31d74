"""Agent files: each agent's knowledge-base files (metadata only, never the bytes) and their vector store.

A file's vector-store upload is ``processing`` until ``vector_store_due_at`` (``vector_store_delay``; ``None``
holds it for :meth:`AgentFileStore.settle_vector_store`), then ``done`` — or ``failed`` when the file name
contains :data:`~...answers.FAIL_MARKER`. It is computed on read, like async prompts (no background task).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from operator import attrgetter
from typing import Literal

from raia_provider.testing.emulator.answers import FAIL_MARKER
from raia_provider.testing.emulator.storage import NotFound, Refused, Store, StoreContext, Table, hex_id

VectorStoreStatus = Literal["processing", "done", "failed"]


@dataclass(frozen=True)
class AgentFile:
    """A knowledge-base file of an agent, without its bytes.

    :param id: file id (UUID).
    :param agent_id: owner.
    :param file_name: file name.
    :param content_type: the part's content type.
    :param size: bytes uploaded.
    :param sha256: hex SHA-256 of the bytes.
    :param created_at: wall-clock time.
    :param vector_store_status: ``None`` (not in the vector store), ``processing``, ``done`` or ``failed``.
    :param vector_store_file_id: OpenAI file id once sent to the vector store.
    :param vector_store_due_at: monotonic time from which a read settles ``processing``; ``None`` = held.
    :param uploaded_to_vector_store_at: wall-clock time processing ended ``done``.
    """

    id: str
    agent_id: str
    file_name: str
    content_type: str
    size: int
    sha256: str
    created_at: float
    vector_store_status: VectorStoreStatus | None = None
    vector_store_file_id: str | None = None
    vector_store_due_at: float | None = None
    uploaded_to_vector_store_at: float | None = None


class AgentFileStore(Store):
    """Each agent's files, in upload order.

    :param context: the shared store context.
    """

    def __init__(self, context: StoreContext) -> None:
        super().__init__(context)
        self._files = context.per_agent(lambda: Table[AgentFile](attrgetter("id")))

    def add_file(
        self,
        agent_id: str,
        *,
        file_name: str,
        content_type: str,
        size: int,
        sha256: str,
        to_vector_store: bool,
        delay: float | None,
    ) -> AgentFile:
        """Store an uploaded file's metadata; optionally start its vector-store upload.

        :param agent_id: owner.
        :param file_name: file name.
        :param content_type: content type.
        :param size: bytes.
        :param sha256: hex SHA-256.
        :param to_vector_store: start the vector-store upload.
        :param delay: seconds of vector-store processing (``None``: held).
        """
        with self._lock:
            now, _ = self._context.stamp()
            agent_file = AgentFile(
                id=str(uuid.uuid4()),
                agent_id=agent_id,
                file_name=file_name,
                content_type=content_type,
                size=size,
                sha256=sha256,
                created_at=now,
            )
            if to_vector_store:
                agent_file = self._start_vector_store(agent_file, delay)
            return self._settled(self._files.of(agent_id).save(agent_file))

    def _start_vector_store(self, agent_file: AgentFile, delay: float | None) -> AgentFile:
        return replace(
            agent_file,
            vector_store_status="processing",
            vector_store_file_id=agent_file.vector_store_file_id or hex_id("file-"),
            vector_store_due_at=None if delay is None else self._now() + delay,
            uploaded_to_vector_store_at=None,
        )

    def _settled(self, agent_file: AgentFile) -> AgentFile:
        """The file with a due vector-store upload ended (``failed`` for a file name with the fail marker)."""
        due = agent_file.vector_store_due_at
        if agent_file.vector_store_status == "processing" and due is not None and self._now() >= due:
            agent_file = self._finish_vector_store(agent_file, failed=FAIL_MARKER in agent_file.file_name)
            self._files.of(agent_file.agent_id).save(agent_file)
        return agent_file

    def _finish_vector_store(self, agent_file: AgentFile, *, failed: bool) -> AgentFile:
        if failed:
            return replace(agent_file, vector_store_status="failed", vector_store_due_at=None)
        return replace(
            agent_file,
            vector_store_status="done",
            vector_store_due_at=None,
            uploaded_to_vector_store_at=self._wall_now(),
        )

    def files(self, agent_id: str) -> list[AgentFile]:
        """The agent's files (vector-store uploads settled if due), in upload order.

        :param agent_id: owner.
        """
        with self._lock:
            return [self._settled(agent_file) for agent_file in self._files.of(agent_id).rows()]

    def _file(self, agent_id: str, file_id: str) -> AgentFile:
        return self._settled(self._files.of(agent_id).get(file_id))

    def add_to_vector_store(self, agent_id: str, file_id: str, delay: float | None) -> AgentFile:
        """Start (``delay`` > 0 or ``None``) or do at once (``delay == 0``) a file's vector-store upload.

        A file already ``processing`` or ``done`` is left as it is; a ``failed`` one is retried.

        :param agent_id: owner.
        :param file_id: file id.
        :param delay: seconds of processing; 0 settles now; ``None`` holds for the control API.
        :raises NotFound: unknown file.
        """
        with self._lock:
            agent_file = self._file(agent_id, file_id)
            if agent_file.vector_store_status in ("processing", "done"):
                return agent_file
            return self._settled(self._files.of(agent_id).save(self._start_vector_store(agent_file, delay)))

    def remove_from_vector_store(self, agent_id: str, file_id: str) -> AgentFile:
        """Detach a file from the vector store (kept as a file).

        :param agent_id: owner.
        :param file_id: file id.
        :raises NotFound: unknown file.
        """
        with self._lock:
            agent_file = replace(
                self._file(agent_id, file_id),
                vector_store_status=None,
                vector_store_file_id=None,
                vector_store_due_at=None,
                uploaded_to_vector_store_at=None,
            )
            return self._files.of(agent_id).save(agent_file)

    def delete_file(self, agent_id: str, file_id: str) -> None:
        """Delete one file.

        :param agent_id: owner.
        :param file_id: file id.
        :raises NotFound: unknown file.
        """
        with self._lock:
            self._files.of(agent_id).pop(file_id)

    def delete_files(self, agent_id: str, file_ids: Iterable[str]) -> int:
        """Delete the given files of the agent; ids it does not own are ignored.

        :param agent_id: owner.
        :param file_ids: file ids.
        :return: how many were deleted.
        """
        with self._lock:
            files = self._files.of(agent_id)
            return sum(files.discard(file_id) for file_id in set(file_ids))

    def settle_vector_store(self, file_id: str, *, failed: bool = False) -> AgentFile:
        """End a file's ``processing`` vector-store upload now (any agent's): ``done`` or ``failed``.

        :param file_id: file id.
        :param failed: end ``failed`` instead of ``done``.
        :raises NotFound: unknown file.
        :raises Refused: if the file is not processing.
        """
        with self._lock:
            for _, files in self._files.items():
                agent_file = files.find(file_id)
                if agent_file is not None:
                    if agent_file.vector_store_status != "processing":
                        raise Refused(f"file {file_id} is not processing (status {agent_file.vector_store_status})")
                    return files.save(self._finish_vector_store(agent_file, failed=failed))
            raise NotFound(file_id)
