"""The agent's knowledge files (spec: ``UploadAgentFileResponseDTO``, ``GetAgentFilesByApiKeyResponseDTO``)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from raia_provider.models.base import OneOrMany, RaiaModel

VectorStoreStatus = Literal["processing", "done", "failed"]


class AgentFile(RaiaModel):
    """A file in the agent's knowledge base, and where it stands in the agent's vector store.

    :param id: the file's id (uuid).
    :param file_name: its name (``fileName``).
    :param url: where raia stores it.
    :param created_at: when it was uploaded (ISO 8601).
    :param vector_store_file_id: the OpenAI vector-store file id (``file-…``), once added.
    :param is_uploaded_to_vector_store: ``True`` once added; ``None`` may mean a vector-store error.
    :param vector_store_upload_status: ``processing``, ``done``, ``failed``, or ``None`` (not added).
    :param uploaded_to_vector_store_at: when it was added (ISO 8601).
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("UploadAgentFileResponseDTO", "GetAgentFilesByApiKeyResponseDTO")

    id: str
    file_name: str
    url: str
    created_at: str
    vector_store_file_id: str | None = None
    is_uploaded_to_vector_store: bool | None = None
    vector_store_upload_status: VectorStoreStatus | None = None
    uploaded_to_vector_store_at: str | None = None


#: ``GET /agent-files/by-api-key``: an array in practice, one object in the spec; 404 means none.
AgentFileList = Annotated[list[AgentFile], OneOrMany]
