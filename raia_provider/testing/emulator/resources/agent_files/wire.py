"""The agent files' bodies (a multipart upload, a JSON list of ids) and their DTO, in raia's field names."""

from __future__ import annotations

from typing import Annotated

from raia_provider.testing.emulator.body_fields import NOT_NULL_LIST, RequestBody, Uuid
from raia_provider.testing.emulator.net import CONTROL_PREFIX
from raia_provider.testing.emulator.rendering import JsonObject, iso, present
from raia_provider.testing.emulator.resources.agent_files.store import AgentFile
from raia_provider.testing.emulator.validation import detail, refuse


class DeleteFilesBody(RequestBody):
    """``DeleteAgentFilesBodyDTO``: ``fileIds`` is an array of UUIDs."""

    fileIds: Annotated[list[Uuid], NOT_NULL_LIST]


def flag_value(raw: str | None, name: str) -> bool | None:
    """A multipart boolean field: ``true``/``false`` (any case), ``None`` when absent.

    :param raw: the field's value.
    :param name: the field's name (for the 400).
    :raises RaiaError: 400 for any other value.
    """
    if raw is None:
        return None
    lowered = raw.strip().lower()
    if lowered not in ("true", "false"):
        refuse([detail(name, "isBoolean", f"{name} must be a boolean value")])
    return lowered == "true"


def agent_file_dto(agent_file: AgentFile, origin: str) -> JsonObject:
    """``UploadAgentFileResponseDTO`` (also the items of ``GET /external/agent-files/by-api-key``).

    Not in the vector store: ``isUploadedToVectorStore`` false, status ``null``; processing: false,
    ``processing``; done: true, ``done`` (with ``uploadedToVectorStoreAt``); failed: ``null`` ("a null value
    suggests a possible vector store error"), ``failed``.

    :param agent_file: the file.
    :param origin: the emulator's origin, for the file's ``url``.
    """
    status = agent_file.vector_store_status
    uploaded: bool | None = {None: False, "processing": False, "done": True, "failed": None}[status]
    uploaded_at = agent_file.uploaded_to_vector_store_at
    return {
        "id": agent_file.id,
        "fileName": agent_file.file_name,
        "url": f"{origin}{CONTROL_PREFIX}/agent-files/{agent_file.id}",
        "createdAt": iso(agent_file.created_at),
        **present(vectorStoreFileId=agent_file.vector_store_file_id),
        "isUploadedToVectorStore": uploaded,
        "vectorStoreUploadStatus": status,
        **present(uploadedToVectorStoreAt=iso(uploaded_at) if uploaded_at else None),
    }
