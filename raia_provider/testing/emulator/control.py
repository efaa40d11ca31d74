"""The control API under ``/_emulator`` (no auth; the server listens on loopback only).

It drives an emulator running in another process (the CLI, or a server started by Airflow components):
:class:`~raia_provider.testing.emulator.client.EmulatorClient` wraps it. JSON field names are the Python
names (snake_case). Errors use FastAPI's ``{"detail": ...}`` bodies — this API is ours, not raia's.

``PUT /_emulator/uploads/{token}`` is the emulated storage service behind the signed URLs that
``POST /external/prompts/upload-url`` (and a conversation's ``message-files/upload-url``) hands out; it
accepts any content type (raia does not document the signed URL's method or headers) and streams the body.
``GET`` on the same URL serves small uploads back (the signed download URL of a message file).

Conversation side: seed users and conversations, read users, conversations, messages, agent files,
webhooks and usage (``?agent_id=``, default agent when omitted), settle held message answers
(``/messages/{question_id}/complete|fail``) and vector-store uploads (``/agent-files/{id}/complete|fail``).
Unknown ids answer 404; a refused action (e.g. completing a settled answer) 400.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict

from raia_provider.testing.emulator.answers import FAILURE_MESSAGE, MESSAGE_FAILURE_MESSAGE
from raia_provider.testing.emulator.faults import Fault, FaultKind
from raia_provider.testing.emulator.matching import ANY
from raia_provider.testing.emulator.net import CONTROL_PREFIX
from raia_provider.testing.emulator.records import Channel, ConversationMode
from raia_provider.testing.emulator.routes.deps import OriginDep, StateDep
from raia_provider.testing.emulator.state import (
    KEPT_UPLOAD_BYTES,
    EmulatorState,
    MessageStatusVocabulary,
    PendingStyle,
    PromptRecord,
)
from raia_provider.testing.emulator.workspace import NotFound, Refused

router = APIRouter(prefix=CONTROL_PREFIX, tags=["Emulator control"])


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FaultSpec(_Spec):
    """Body of ``POST /_emulator/faults`` (see :class:`~raia_provider.testing.emulator.faults.Fault`)."""

    kind: FaultKind
    method: str = ANY
    path: str = ANY
    count: int = 1
    status: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    after: int = 0


class ConfigSpec(_Spec):
    """Body of ``POST /_emulator/config``: only the knobs to change."""

    prompt_delay: float | None = None
    latency: float | None = None
    pending_style: PendingStyle | None = None
    rate_limit: float | None = None
    burst: int | None = None
    message_delay: float | None = None
    message_status_vocabulary: MessageStatusVocabulary | None = None
    vector_store_delay: float | None = None


class AgentSpec(_Spec):
    """Body of ``POST /_emulator/agents``."""

    key: str | None = None
    name: str = "Agent"


class CompleteSpec(_Spec):
    """Body of ``POST /_emulator/prompts/{id}/complete`` (both optional)."""

    response: str | None = None
    total_tokens: int | None = None


class FailSpec(_Spec):
    """Body of ``POST /_emulator/prompts/{id}/fail``."""

    error: str = FAILURE_MESSAGE


class MessageCompleteSpec(_Spec):
    """Body of ``POST /_emulator/messages/{question_id}/complete`` (optional)."""

    response: str | None = None


class MessageFailSpec(_Spec):
    """Body of ``POST /_emulator/messages/{question_id}/fail`` (optional)."""

    error: str = MESSAGE_FAILURE_MESSAGE


class UserSpec(_Spec):
    """Body of ``POST /_emulator/users``: a conversation user to seed."""

    first_name: str = "Test"
    last_name: str = "User"
    email: str | None = None
    phone_number: str | None = None
    fk_id: str | None = None
    fk_user_id: str | None = None
    agent_id: str | None = None


class ConversationSpec(_Spec):
    """Body of ``POST /_emulator/conversations``: a conversation to seed."""

    user_id: str
    title: str | None = None
    channel: Channel = "api"
    mode: ConversationMode = "ai"
    agent_id: str | None = None


def _data(obj: Any) -> Any:
    return dataclasses.asdict(obj)


def _bad(error: Exception) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, str(error))


@router.get("/health")
async def health(state: StateDep, origin: OriginDep) -> dict[str, Any]:
    """Liveness, the ``/external`` base URL and the default agent (without its key).

    :param state: the emulator state.
    :param origin: the emulator's own origin.
    """
    agent = state.default_agent
    return {
        "status": "ok",
        "base_url": f"{origin}/external",
        "default_agent": {"id": agent.id, "name": agent.name},
    }


@router.get("/requests")
async def list_requests(state: StateDep, method: str | None = None, path: str | None = None) -> list[Any]:
    """The request log, optionally filtered (``path`` is a pattern).

    :param state: the emulator state.
    :param method: HTTP method filter.
    :param path: path pattern filter.
    """
    return [_data(entry) for entry in state.log.select(method, path)]


@router.delete("/requests", status_code=status.HTTP_204_NO_CONTENT)
async def clear_requests(state: StateDep) -> None:
    """Empty the request log.

    :param state: the emulator state.
    """
    state.log.clear()


@router.post("/faults", status_code=status.HTTP_201_CREATED)
async def add_fault(spec: FaultSpec, state: StateDep) -> Any:
    """Add a fault rule.

    :param spec: the rule.
    :param state: the emulator state.
    """
    try:
        fault = Fault(**spec.model_dump())
    except ValueError as error:
        raise _bad(error) from error
    return _data(state.faults.add(fault))


@router.get("/faults")
async def list_faults(state: StateDep) -> list[Any]:
    """Pending fault rules, in order.

    :param state: the emulator state.
    """
    return [_data(fault) for fault in state.faults.list()]


@router.delete("/faults", status_code=status.HTTP_204_NO_CONTENT)
async def clear_faults(state: StateDep) -> None:
    """Drop every fault rule.

    :param state: the emulator state.
    """
    state.faults.clear()


@router.post("/config")
async def configure(spec: ConfigSpec, state: StateDep) -> Any:
    """Change knobs; fields left out keep their value (``null`` is a value, e.g. for ``prompt_delay``).

    :param spec: the knobs to change.
    :param state: the emulator state.
    """
    changes = spec.model_dump(exclude_unset=True)
    try:
        return _data(state.configure(**changes))
    except (TypeError, ValueError) as error:
        raise _bad(error) from error


@router.get("/config")
async def get_config(state: StateDep) -> Any:
    """The current knobs.

    :param state: the emulator state.
    """
    return _data(state.config)


@router.post("/agents", status_code=status.HTTP_201_CREATED)
async def add_agent(spec: AgentSpec, state: StateDep) -> Any:
    """Create an agent; the answer includes its key (needed when it was generated).

    :param spec: key and name.
    :param state: the emulator state.
    """
    try:
        return _data(state.add_agent(key=spec.key, name=spec.name))
    except ValueError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error


def _prompt_or_404(prompt_id: str, action: Any) -> Any:
    try:
        record: PromptRecord = action()
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown prompt {prompt_id}") from None
    return _data(record)


@router.post("/prompts/{prompt_id}/complete")
async def complete_prompt(prompt_id: str, state: StateDep, spec: CompleteSpec | None = None) -> Any:
    """Complete a prompt now.

    :param prompt_id: the ``promptId``.
    :param state: the emulator state.
    :param spec: optional response text and token count.
    """
    spec = spec or CompleteSpec()
    return _prompt_or_404(prompt_id, lambda: state.complete_prompt(prompt_id, spec.response, spec.total_tokens))


@router.post("/prompts/{prompt_id}/fail")
async def fail_prompt(prompt_id: str, state: StateDep, spec: FailSpec | None = None) -> Any:
    """Fail a prompt now.

    :param prompt_id: the ``promptId``.
    :param state: the emulator state.
    :param spec: optional error text.
    """
    spec = spec or FailSpec()
    return _prompt_or_404(prompt_id, lambda: state.fail_prompt(prompt_id, spec.error))


def _workspace_call(action: Any) -> Any:
    try:
        return action()
    except (KeyError, NotFound) as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error).strip("'\"")) from None
    except (Refused, ValueError) as error:
        raise _bad(error) from error


def _owner(state: EmulatorState, agent_id: str | None) -> str:
    return str(_workspace_call(lambda: state.agent_id(agent_id)))


@router.post("/messages/{question_id}/complete")
async def complete_message(question_id: str, state: StateDep, spec: MessageCompleteSpec | None = None) -> Any:
    """Answer a pending conversation question now.

    :param question_id: the question message id.
    :param state: the emulator state.
    :param spec: optional reply text.
    """
    spec = spec or MessageCompleteSpec()
    return _data(_workspace_call(lambda: state.workspace.complete_message(question_id, spec.response)))


@router.post("/messages/{question_id}/fail")
async def fail_message(question_id: str, state: StateDep, spec: MessageFailSpec | None = None) -> Any:
    """Fail a pending conversation question now.

    :param question_id: the question message id.
    :param state: the emulator state.
    :param spec: optional error text.
    """
    spec = spec or MessageFailSpec()
    return _data(_workspace_call(lambda: state.workspace.fail_message(question_id, spec.error)))


@router.post("/agent-files/{file_id}/complete")
async def complete_vector_store(file_id: str, state: StateDep) -> Any:
    """End a file's processing vector-store upload ``done``.

    :param file_id: the agent file id.
    :param state: the emulator state.
    """
    return _data(_workspace_call(lambda: state.workspace.settle_vector_store(file_id)))


@router.post("/agent-files/{file_id}/fail")
async def fail_vector_store(file_id: str, state: StateDep) -> Any:
    """End a file's processing vector-store upload ``failed``.

    :param file_id: the agent file id.
    :param state: the emulator state.
    """
    return _data(_workspace_call(lambda: state.workspace.settle_vector_store(file_id, failed=True)))


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def seed_user(spec: UserSpec, state: StateDep) -> Any:
    """Create a conversation user (400 if a contact is taken).

    :param spec: the user and its agent.
    :param state: the emulator state.
    """
    owner = _owner(state, spec.agent_id)
    fields = spec.model_dump(exclude={"agent_id"})
    return _data(_workspace_call(lambda: state.workspace.create_user(owner, **fields)))


@router.post("/conversations", status_code=status.HTTP_201_CREATED)
async def seed_conversation(spec: ConversationSpec, state: StateDep) -> Any:
    """Create a conversation for a user of the agent.

    :param spec: the conversation and its agent.
    :param state: the emulator state.
    """
    owner = _owner(state, spec.agent_id)

    def create() -> Any:
        conversation = state.workspace.create_conversation(owner, spec.user_id, title=spec.title, channel=spec.channel)
        if spec.mode != conversation.mode:
            conversation = state.workspace.update_conversation(owner, conversation.id, mode=spec.mode)
        return conversation

    return _data(_workspace_call(create))


@router.get("/users")
async def list_users(state: StateDep, agent_id: str | None = None) -> list[Any]:
    """An agent's conversation users.

    :param state: the emulator state.
    :param agent_id: the agent (default agent when omitted).
    """
    return [_data(item) for item in state.workspace.users(_owner(state, agent_id))]


@router.get("/conversations")
async def list_conversations(state: StateDep, agent_id: str | None = None) -> list[Any]:
    """An agent's conversations.

    :param state: the emulator state.
    :param agent_id: the agent (default agent when omitted).
    """
    return [_data(item) for item in state.workspace.conversations(_owner(state, agent_id))]


@router.get("/messages")
async def list_messages(state: StateDep, conversation_id: str | None = None, agent_id: str | None = None) -> list[Any]:
    """An agent's messages, or one conversation's.

    :param state: the emulator state.
    :param conversation_id: only this conversation's.
    :param agent_id: the agent (default agent when omitted).
    """
    owner = _owner(state, agent_id)
    if conversation_id is None:
        return [_data(item) for item in state.workspace.all_messages(owner)]
    return [_data(item) for item in _workspace_call(lambda: state.workspace.messages(owner, conversation_id))]


@router.get("/agent-files")
async def list_agent_files(state: StateDep, agent_id: str | None = None) -> list[Any]:
    """An agent's files (vector-store status settled if due).

    :param state: the emulator state.
    :param agent_id: the agent (default agent when omitted).
    """
    return [_data(item) for item in state.workspace.files(_owner(state, agent_id))]


@router.get("/webhooks")
async def list_webhooks(state: StateDep, agent_id: str | None = None) -> list[Any]:
    """An agent's webhooks.

    :param state: the emulator state.
    :param agent_id: the agent (default agent when omitted).
    """
    return [_data(item) for item in state.workspace.webhooks(_owner(state, agent_id))]


@router.get("/usage")
async def list_usage(state: StateDep, agent_id: str | None = None) -> list[Any]:
    """An agent's usage events.

    :param state: the emulator state.
    :param agent_id: the agent (default agent when omitted).
    """
    return [_data(item) for item in state.workspace.usage_events(_owner(state, agent_id))]


@router.post("/reset", status_code=status.HTTP_204_NO_CONTENT)
async def reset(state: StateDep) -> None:
    """Back to the initial state (default agent only, initial knobs, no faults, empty log).

    :param state: the emulator state.
    """
    state.reset()


@router.put("/uploads/{token}")
async def put_upload(token: str, request: Request, state: StateDep) -> Response:
    """Receive the bytes of a prompt or message file (the target of a signed upload URL), streamed: the size
    is counted and the bytes are kept only up to ``KEPT_UPLOAD_BYTES``.

    :param token: the signed URL's token.
    :param request: the request carrying the bytes.
    :param state: the emulator state.
    """
    try:
        state.upload(token)
    except KeyError:
        return _unknown_upload()
    size, kept = 0, bytearray()
    async for chunk in request.stream():
        size += len(chunk)
        if size <= KEPT_UPLOAD_BYTES:
            kept += chunk
    state.store_upload(token, size, bytes(kept) if size <= KEPT_UPLOAD_BYTES else None)
    return Response(status_code=status.HTTP_200_OK)


@router.get("/uploads/{token}")
async def get_upload(token: str, state: StateDep) -> Response:
    """Serve back the bytes PUT to a signed URL (the signed download URL of a message file).

    404 if the URL was never issued or nothing was PUT yet; 410 if the upload was too large to keep.

    :param token: the signed URL's token.
    :param state: the emulator state.
    """
    try:
        upload = state.upload(token)
    except KeyError:
        return _unknown_upload()
    if upload.size is None:
        return JSONResponse({"detail": "nothing uploaded yet"}, status_code=status.HTTP_404_NOT_FOUND)
    if upload.data is None:
        return JSONResponse({"detail": "upload too large to keep"}, status_code=status.HTTP_410_GONE)
    return Response(upload.data, media_type=upload.content_type)


def _unknown_upload() -> JSONResponse:
    return JSONResponse({"detail": "unknown upload URL"}, status_code=status.HTTP_404_NOT_FOUND)
