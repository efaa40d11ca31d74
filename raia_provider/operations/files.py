"""raia's agent-file operations: the agent's knowledge base and its vector store."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from raia_provider._core.endpoint import AsyncEndpoint, Endpoint
from raia_provider._core.file_source import file_part
from raia_provider._core.multipart import FilePart
from raia_provider._core.operation import Operation, RaiaRequest
from raia_provider.models.base import Id, NoContent
from raia_provider.models.files import AgentFile, AgentFileList

FileId = Annotated[Id, Field(alias="id")]


class UploadAgentFile(RaiaRequest[AgentFile]):
    """Upload a file into the agent's knowledge base, streamed from disk or object storage.

    The file is checked (exists, is a file, readable) before any request and read in chunks while it is
    sent, never whole into memory. A retried upload starts over from the first byte.

    :param file: a local path or an Airflow ``ObjectStoragePath``; raia stores it under its base name.
    :param auto_add_to_vector_store: also add it to the agent's vector store (``autoAddToVectorStore``),
        which makes it searchable once ``vectorStoreUploadStatus`` is ``done``.
    """

    operation = Operation(
        "POST", "/agent-files/upload", "ExternalApiAgentFilesController_uploadAgentFile", content="multipart"
    )
    file: Annotated[FilePart, BeforeValidator(file_part)]
    auto_add_to_vector_store: bool | None = None


class ListAgentFiles(RaiaRequest[AgentFileList]):
    """List the agent's files with their vector-store status; an agent without files gives ``[]``.

    raia answers 404 "Agent files not found." when there are none, and its spec declares one object where
    an array comes back; both are read as a list.
    """

    operation = Operation(
        "GET",
        "/agent-files/by-api-key",
        "ExternalApiAgentFilesController_getAgentFilesByApiKey",
        not_found_is_empty=True,
    )


class AddFileToVectorStore(RaiaRequest[NoContent]):
    """Add an uploaded file to the agent's vector store and wait until raia has taken it.

    :param file_id: the file's id.
    """

    operation = Operation(
        "PUT", "/agent-files/{id}/add-to-vector-store", "ExternalApiAgentFilesController_addFileToVectorStore"
    )
    file_id: FileId


class AddFileToVectorStoreAsync(RaiaRequest[NoContent]):
    """Start adding an uploaded file to the vector store; poll ``list_agent_files`` for its status.

    :param file_id: the file's id.
    """

    operation = Operation(
        "PUT",
        "/agent-files/{id}/add-to-vector-store/async",
        "ExternalApiAgentFilesController_addFileToVectorStoreAsync",
    )
    file_id: FileId


class RemoveFileFromVectorStore(RaiaRequest[NoContent]):
    """Take a file out of the vector store (no longer searchable) but keep it in the knowledge base.

    :param file_id: the file's id.
    """

    operation = Operation(
        "DELETE",
        "/agent-files/{id}/delete-from-vector-store",
        "ExternalApiAgentFilesController_deleteAgentFileFromVectorStore",
    )
    file_id: FileId


class DeleteAgentFile(RaiaRequest[NoContent]):
    """Delete one file from the knowledge base.

    :param file_id: the file's id.
    """

    operation = Operation("DELETE", "/agent-files/{id}/delete", "ExternalApiAgentFilesController_deleteAgentFile")
    file_id: FileId


class DeleteAgentFiles(RaiaRequest[NoContent]):
    """Delete several files in one call (a JSON body on a DELETE, as raia defines it).

    :param file_ids: the files' ids; at least one.
    """

    operation = Operation("DELETE", "/agent-files", "ExternalApiAgentFilesController_deleteAgentFiles")
    file_ids: list[Id] = Field(min_length=1)


class FileEndpoints:
    """``RaiaHook`` methods for the agent-file operations (blocking, and ``a``-prefixed async twins)."""

    upload_agent_file = Endpoint(UploadAgentFile)
    aupload_agent_file = AsyncEndpoint(UploadAgentFile)
    list_agent_files = Endpoint(ListAgentFiles)
    alist_agent_files = AsyncEndpoint(ListAgentFiles)
    add_file_to_vector_store = Endpoint(AddFileToVectorStore)
    aadd_file_to_vector_store = AsyncEndpoint(AddFileToVectorStore)
    add_file_to_vector_store_async = Endpoint(AddFileToVectorStoreAsync)
    aadd_file_to_vector_store_async = AsyncEndpoint(AddFileToVectorStoreAsync)
    remove_file_from_vector_store = Endpoint(RemoveFileFromVectorStore)
    aremove_file_from_vector_store = AsyncEndpoint(RemoveFileFromVectorStore)
    delete_agent_file = Endpoint(DeleteAgentFile)
    adelete_agent_file = AsyncEndpoint(DeleteAgentFile)
    delete_agent_files = Endpoint(DeleteAgentFiles)
    adelete_agent_files = AsyncEndpoint(DeleteAgentFiles)
