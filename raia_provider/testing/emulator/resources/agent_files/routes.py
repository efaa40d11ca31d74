"""``/external/agent-files`` — the agent's knowledge-base files and their vector-store uploads.

Contract choices where raia's spec is silent (see API_FACTS.md sections 4.4 and 6.4, 6.10):

* ``POST /agent-files/upload`` takes ``multipart/form-data`` and **streams** it: the file is hashed (SHA-256)
  and counted as it arrives and never held in memory or on disk (see :mod:`...multipart`); only its name,
  content type, size and hash are kept, and the request log records the same. No size limit.
  → 200 ``UploadAgentFileResponseDTO``.
* Field ``file`` (one file part) is required: no multipart body, no ``file`` part, a ``file`` sent as plain
  text or with an empty file name → 400 "File is required."; a second ``file`` → 400 "Unexpected field"
  (what NestJS's ``FileInterceptor`` answers); a body that is not valid multipart → 400 "Failed to upload
  agent file.". These texts are in ``message``. Parts under other names (files or fields) are ignored, like
  unknown JSON properties (multer would refuse an unknown *file* part; the spec does not forbid them).
* ``autoAddToVectorStore`` (or the older ``autoAddToAssistant``; the new name wins) is ``true``/``false`` in
  any case (400 ``isBoolean`` otherwise); absent means ``false`` (**inferred**). With it, the file starts
  ``processing`` and is ``done`` ``vector_store_delay`` seconds later (computed on read; ``None`` holds it
  for the control API). A file whose name contains ``FAIL_MARKER`` ends ``failed``.
* Vector-store fields: not added → ``isUploadedToVectorStore: false``, status ``null``; ``processing`` →
  false; ``done`` → true with ``uploadedToVectorStoreAt``; ``failed`` → ``null`` ("a possible vector store
  error", as the spec says). ``vectorStoreFileId`` is present from ``processing`` on.
* ``GET /agent-files/by-api-key`` → an **array** of the file DTOs (the spec says one object: a defect fixed
  in :mod:`...contract`), oldest first; **404** ``ENTITY_NOT_FOUND`` when the agent has no file (the spec's
  "Agent files not found.").
* ``PUT …/{id}/add-to-vector-store`` finishes at once (``done``, or ``failed`` for a ``FAIL_MARKER`` name)
  → 200, empty body; ``…/async`` starts ``processing`` (``vector_store_delay``) → 200, empty body. A file
  already processing or done is left alone; a failed one is retried.
* ``DELETE …/{id}/delete-from-vector-store`` detaches the file (status back to ``null``; idempotent) → 200,
  empty body. ``DELETE …/{id}/delete`` → 200, empty body. ``DELETE /agent-files`` with JSON
  ``{fileIds: [uuid, ...]}`` deletes those of the agent's files and ignores other ids → 200, empty body.
* The file's ``url`` points at the emulator (``/_emulator/agent-files/{id}``), which does not serve it: the
  bytes were never kept.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from raia_provider.testing.emulator.deps import AgentDep, OriginDep, StateDep, raia_errors
from raia_provider.testing.emulator.errors import RaiaError, bad_request_message, entity_not_found_body
from raia_provider.testing.emulator.net import EXTERNAL_PREFIX
from raia_provider.testing.emulator.pipeline import scope_multipart
from raia_provider.testing.emulator.resources.agent_files.wire import DeleteFilesBody, agent_file_dto, flag_value

router = APIRouter(prefix=f"{EXTERNAL_PREFIX}/agent-files", tags=["Agent files"])
FILE_REQUIRED = "File is required."
UPLOAD_FAILED = "Failed to upload agent file."
UNEXPECTED_FIELD = "Unexpected field"
FILE_FIELD = "file"
AUTO_ADD_FIELDS = ("autoAddToVectorStore", "autoAddToAssistant")


def _refuse(message: str) -> RaiaError:
    return RaiaError(400, bad_request_message(message))


@router.post("/upload", summary="Upload an agent file")
async def upload_agent_file(request: Request, agent: AgentDep, state: StateDep, origin: OriginDep) -> JSONResponse:
    """Stream a multipart upload: keep name, type, size and SHA-256 → 200 ``UploadAgentFileResponseDTO``.

    :param request: the request (its body streams through the pipeline's multipart tap).
    :param agent: the calling agent.
    :param state: the emulator state.
    :param origin: the emulator's own origin.
    """
    tap = scope_multipart(request.scope)
    if tap is None:
        raise _refuse(FILE_REQUIRED)
    summary = await tap.drain()
    if summary.error is not None:
        raise _refuse(UPLOAD_FAILED)
    files = [part for part in summary.files if part.field == FILE_FIELD]
    if len(files) > 1:
        raise _refuse(UNEXPECTED_FIELD)
    if not files or not files[0].file_name:
        raise _refuse(FILE_REQUIRED)
    part = files[0]
    flags = [flag_value(summary.fields.get(name), name) for name in AUTO_ADD_FIELDS]
    auto_add = next((flag for flag in flags if flag is not None), False)
    agent_file = state.workspace.add_file(
        agent.id,
        file_name=part.file_name,
        content_type=part.content_type,
        size=part.size,
        sha256=part.sha256,
        to_vector_store=auto_add,
        delay=state.config.vector_store_delay,
    )
    return JSONResponse(agent_file_dto(agent_file, origin))


@router.get("/by-api-key", summary="Get agent files")
async def get_agent_files(agent: AgentDep, state: StateDep, origin: OriginDep) -> JSONResponse:
    """The agent's files as an array; 404 when it has none.

    :param agent: the calling agent.
    :param state: the emulator state.
    :param origin: the emulator's own origin.
    """
    files = state.workspace.files(agent.id)
    if not files:
        raise RaiaError(404, entity_not_found_body())
    return JSONResponse([agent_file_dto(agent_file, origin) for agent_file in files])


@router.delete("", summary="Delete agent files", response_class=Response)
async def delete_agent_files(body: DeleteFilesBody, agent: AgentDep, state: StateDep) -> Response:
    """Delete the listed files of the agent → 200, empty body.

    :param body: ``{fileIds}``.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    state.workspace.delete_files(agent.id, [file_id.lower() for file_id in body.fileIds])
    return Response(status_code=200)


@router.delete("/{file_id}/delete", summary="Delete an agent file", response_class=Response)
async def delete_agent_file(file_id: str, agent: AgentDep, state: StateDep) -> Response:
    """Delete one file → 200, empty body.

    :param file_id: the file id.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        state.workspace.delete_file(agent.id, file_id)
    return Response(status_code=200)


@router.delete(
    "/{file_id}/delete-from-vector-store", summary="Delete an agent file from the vector store", response_class=Response
)
async def delete_from_vector_store(file_id: str, agent: AgentDep, state: StateDep) -> Response:
    """Detach a file from the vector store → 200, empty body.

    :param file_id: the file id.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        state.workspace.remove_from_vector_store(agent.id, file_id)
    return Response(status_code=200)


@router.put("/{file_id}/add-to-vector-store", summary="Add an agent file to the vector store", response_class=Response)
async def add_to_vector_store(file_id: str, agent: AgentDep, state: StateDep) -> Response:
    """Add a file to the vector store, finishing before the answer → 200, empty body.

    :param file_id: the file id.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        state.workspace.add_to_vector_store(agent.id, file_id, 0.0)
    return Response(status_code=200)


@router.put(
    "/{file_id}/add-to-vector-store/async",
    summary="Start adding an agent file to the vector store",
    response_class=Response,
)
async def add_to_vector_store_async(file_id: str, agent: AgentDep, state: StateDep) -> Response:
    """Start adding a file to the vector store (``processing`` for ``vector_store_delay``) → 200, empty body.

    :param file_id: the file id.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        state.workspace.add_to_vector_store(agent.id, file_id, state.config.vector_store_delay)
    return Response(status_code=200)
