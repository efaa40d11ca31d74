"""``/external/prompts`` — stateless prompts, sync and async, and prompt file uploads.

Contract choices where raia's spec is silent (see API_FACTS.md sections 4.1 and 6):

* Polling an unknown prompt id, or another agent's (refused since 2025-12-04), answers **404**
  ``ENTITY_NOT_FOUND`` — API_FACTS 6.7 allows 403 or 404; we chose 404.
* A not-ready poll answers the JSON literal ``null`` or the ``status: "pending"`` DTO, per the
  ``pending_style`` knob (both are documented).
* A prompt citing a ``storagePath`` never issued to this agent by ``upload-url`` is a 400 (**inferred**).
* The sync call answers at once (only the ``latency`` knob delays it); ``prompt_delay`` is for async prompts.
* The signed upload URL is on the storage service's own origin (not raia's), and refuses the agent key.
* An agent with an output JSON Schema answers with JSON text (see :mod:`~...answers`); the cited files are
  described by what their signed URLs received when the prompt was sent.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from raia_provider.testing.emulator.answers import PENDING_DTO, ArrivedFile, outcome_for
from raia_provider.testing.emulator.config import PendingStyle
from raia_provider.testing.emulator.deps import AgentDep, StateDep, StorageOriginDep, not_found
from raia_provider.testing.emulator.net import EXTERNAL_PREFIX
from raia_provider.testing.emulator.resources.prompts.wire import PromptBody
from raia_provider.testing.emulator.resources.uploads.wire import UploadUrlBody, refuse_unissued, signed_url
from raia_provider.testing.emulator.state import Agent, EmulatorState

router = APIRouter(prefix=f"{EXTERNAL_PREFIX}/prompts", tags=["Prompts"])


def _checked_files(body: PromptBody, agent: Agent, state: EmulatorState) -> list[ArrivedFile]:
    """The cited files with what their signed URLs received (400 if a path was not issued to the agent)."""
    files = body.files or []
    refuse_unissued(
        state.unissued_paths(agent.id, [item.storagePath for item in files]), "storagePath was not issued to this agent"
    )
    return [state.arrived_file(agent.id, item.fileName, item.storagePath) for item in files]


def pending_body(style: PendingStyle, poll_number: int) -> Any:
    """Return the body of a not-ready poll.

    :param style: the ``pending_style`` knob.
    :param poll_number: 1 for a prompt's first poll, 2 for the next, ...
    """
    if style == "null" or (style == "alternate" and poll_number % 2 == 1):
        return None
    return dict(PENDING_DTO)


@router.post("", summary="Process a prompt request (sync)")
async def process_prompt(body: PromptBody, agent: AgentDep, state: StateDep) -> JSONResponse:
    """Answer a prompt at once with raia's ``ProcessPromptResponseDTO``.

    :param body: the prompt.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    files = _checked_files(body, agent, state)
    outcome = outcome_for(
        body.prompt,
        agent.name,
        files=files,
        output_schema=agent.output_json_schema,
        json_answers=state.config.json_answers,
    )
    state.record_prompt_usage(agent.id, outcome)
    return JSONResponse(outcome.to_dto())


@router.post("/async", summary="Create a prompt request (async)")
async def create_prompt(body: PromptBody, agent: AgentDep, state: StateDep) -> JSONResponse:
    """Store a prompt and return its ``promptId``.

    :param body: the prompt.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    record = state.create_prompt(agent, body.prompt, body.tokenTrackingId, _checked_files(body, agent, state))
    return JSONResponse({"promptId": record.id})


@router.get("/{prompt_id}/response-on", summary="Get a response on a prompt request")
async def response_on(prompt_id: str, agent: AgentDep, state: StateDep) -> JSONResponse:
    """Poll a prompt: ``null``/pending while not ready, then the completed or failed DTO.

    :param prompt_id: the ``promptId``.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    record = state.poll_prompt(agent.id, prompt_id)
    if record is None:
        raise not_found()
    if record.outcome is None:
        return JSONResponse(pending_body(state.config.pending_style, record.polls))
    return JSONResponse(record.outcome.to_dto())


@router.post("/upload-url", summary="Create signed upload URL for prompt file")
async def upload_url(body: UploadUrlBody, agent: AgentDep, state: StateDep, origin: StorageOriginDep) -> JSONResponse:
    """Issue a signed URL on the storage service (``PUT`` the bytes there) and the ``storagePath``.

    :param body: file name and content type.
    :param agent: the calling agent.
    :param state: the emulator state.
    :param origin: the storage service's origin.
    """
    upload = state.issue_upload(agent, body.fileName, body.contentType)
    return JSONResponse({"signedUrl": signed_url(origin, upload.token), "storagePath": upload.storage_path})
