"""``/external/conversations/{id}/…`` — messages: sync and async, polls, manual messages, message files.

Contract choices where raia's spec is silent (see API_FACTS.md sections 4.2 and 6.6):

* Every id in the path must belong to the calling agent (and a question or file to that conversation), else
  404 ``ENTITY_NOT_FOUND``.
* ``POST …/messages`` stores the question (``senderRole: conversation_user``, ``source: api``) and answers
  at once → 201 with the assistant reply (``source: api``, ``conversationMessageId`` = the question's id,
  ``fullAIResponse.outputText`` = the reply). A question's own ``conversationMessageId`` is its own id
  (**inferred**: the field is required on every message). A question carrying ``FAIL_MARKER`` answers raia's
  500 body (the question stays stored, its answer failed): the spec documents only 201 and 500 here.
* ``POST …/messages/async`` → 201 with the stored question; its ``id`` is the ``questionMessageId`` to poll.
  The answer settles ``message_delay`` seconds later, on the next poll (``None`` holds it for the control
  API's ``complete_message``/``fail_message``). Questions sent synchronously can be polled too (already
  settled).
* ``GET …/messages/{questionMessageId}/response-on`` → ``{status, message, error}``: with the
  ``message_status_vocabulary`` knob ``spec`` (default) ``pending|completed|failed`` and all three keys
  always present (``null`` when unset); with ``release_notes`` ``running|completed|error`` and ``message`` /
  ``error`` only when set, as raia's 2025-12-10 release notes describe. A failed answer's ``error`` is
  ``MESSAGE_FAILURE_MESSAGE``.
* The conversation's mode does not stop the emulated AI from answering (raia documents no such effect).
* ``GET …/messages``: oldest first unless ``orderDirection=DESC``; ``shouldIncludeFeedbacks=true`` adds
  ``conversationMessageFeedbacks`` to every message.
* ``POST …/send-manual-message`` → 200 with the stored ``manual_assistant`` message (``source`` = the
  conversation's channel: ``api``, ``email`` or ``sms``; one SMS/email of usage on those channels); 400
  "Conversation must be in manual mode and not a voice conversation." otherwise. A ``conversationMessageId``
  must name a message of the conversation (404); if it names a pending question, this message answers it.
* ``files`` of a message must cite a ``storagePath`` issued by this conversation's
  ``message-files/upload-url`` (400 ``isIssued`` otherwise). The signed upload URL is on the storage service's
  own origin, as for prompts (``PUT`` the bytes, without the agent key); ``GET
  …/message-files/{fileId}/signed-url`` answers ``{signedUrl, fileId}`` where ``signedUrl`` serves the bytes
  back (``GET``) when they were at most 1 MiB. The answer describes each file by what its signed URL had
  received when the question was sent; an agent with an output JSON Schema answers in JSON.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from raia_provider.testing.emulator.deps import AgentDep, StateDep, StorageOriginDep, not_found, raia_errors
from raia_provider.testing.emulator.errors import RaiaError, internal_error_body
from raia_provider.testing.emulator.net import EXTERNAL_PREFIX
from raia_provider.testing.emulator.query import QueryCheck
from raia_provider.testing.emulator.resources.messages.store import Message, MessageFile
from raia_provider.testing.emulator.resources.messages.wire import (
    ManualMessageBody,
    MessageBody,
    MessageFileBody,
    message_dto,
    poll_body,
)
from raia_provider.testing.emulator.resources.uploads.wire import UploadUrlBody, refuse_unissued, signed_url
from raia_provider.testing.emulator.state import Agent, EmulatorState

router = APIRouter(prefix=f"{EXTERNAL_PREFIX}/conversations/{{conversation_id}}", tags=["Conversation messages"])


def storage_prefix(conversation_id: str) -> str:
    """The ``storagePath`` prefix of a conversation's message files.

    :param conversation_id: the conversation.
    """
    return f"conversations/{conversation_id}"


def _files(
    state: EmulatorState, agent: Agent, conversation_id: str, items: Sequence[MessageFileBody] | None
) -> list[MessageFile]:
    files, bad = [], []
    prefix = storage_prefix(conversation_id) + "/"
    for index, item in enumerate(items or []):
        upload = state.upload_for_path(agent.id, item.storagePath)
        if upload is None or not item.storagePath.startswith(prefix):
            bad.append(index)
            continue
        files.append(state.workspace.new_message_file(item.fileName, item.storagePath, upload.size, upload.sha256))
    refuse_unissued(bad, "storagePath was not issued for this conversation")
    return files


def _ask(
    state: EmulatorState, agent: Agent, conversation_id: str, body: MessageBody, *, delay: float | None
) -> Message:
    """Store the question of ``body`` (its files checked), its answer due after ``delay``; return the question."""
    state.workspace.conversation(agent.id, conversation_id)
    files = _files(state, agent, conversation_id, body.files)
    question, _ = state.workspace.send_message(
        agent.id,
        agent.name,
        conversation_id,
        body.message,
        files=files,
        delay=delay,
        output_schema=agent.output_json_schema,
    )
    return question


@router.post("/messages", summary="Process a message (sync)", status_code=201)
async def process_message(conversation_id: str, body: MessageBody, agent: AgentDep, state: StateDep) -> JSONResponse:
    """Store a question and answer it → 201 with the assistant's reply.

    :param conversation_id: the conversation id.
    :param body: the message.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        question = _ask(state, agent, conversation_id, body, delay=0.0)
        _, reply = state.workspace.poll_message(agent.id, conversation_id, question.id)
    if reply is None:
        raise RaiaError(500, internal_error_body())
    return JSONResponse(message_dto(reply), status_code=201)


@router.post("/messages/async", summary="Send a message (async)", status_code=201)
async def send_message(conversation_id: str, body: MessageBody, agent: AgentDep, state: StateDep) -> JSONResponse:
    """Store a question whose answer settles later → 201 with the question.

    :param conversation_id: the conversation id.
    :param body: the message.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        question = _ask(state, agent, conversation_id, body, delay=state.config.message_delay)
    return JSONResponse(message_dto(question), status_code=201)


@router.get("/messages", summary="Get conversation messages")
async def get_messages(
    conversation_id: str,
    agent: AgentDep,
    state: StateDep,
    shouldIncludeFeedbacks: str | None = None,
    orderDirection: str | None = None,
) -> JSONResponse:
    """Every message of the conversation → ``{"messages": [...]}``.

    :param conversation_id: the conversation id.
    :param agent: the calling agent.
    :param state: the emulator state.
    :param shouldIncludeFeedbacks: add each message's feedback.
    :param orderDirection: ``ASC`` (default) or ``DESC``.
    """
    check = QueryCheck()
    with_feedbacks = check.boolean("shouldIncludeFeedbacks", shouldIncludeFeedbacks)
    direction = check.enum("orderDirection", orderDirection, ("ASC", "DESC"), "ASC")
    check.done()
    with raia_errors():
        messages = state.workspace.messages(agent.id, conversation_id)
    if direction == "DESC":
        messages.reverse()
    feedbacks = state.workspace.feedbacks_by(agent.id, "message_id") if with_feedbacks else {}
    rendered = [message_dto(m, feedbacks.get(m.id, []) if with_feedbacks else None) for m in messages]
    return JSONResponse({"messages": rendered})


@router.get("/messages/{question_id}/response-on", summary="Get the response on a message")
async def response_on(conversation_id: str, question_id: str, agent: AgentDep, state: StateDep) -> JSONResponse:
    """Poll the answer to a question.

    :param conversation_id: the conversation id.
    :param question_id: the question message id.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        job, reply = state.workspace.poll_message(agent.id, conversation_id, question_id)
    return JSONResponse(poll_body(job, reply, state.config.message_status_vocabulary))


@router.post("/send-manual-message", summary="Send a manual message to the user")
async def send_manual_message(
    conversation_id: str, body: ManualMessageBody, agent: AgentDep, state: StateDep
) -> JSONResponse:
    """Store an operator's message (manual mode only) → 200 with the message.

    :param conversation_id: the conversation id.
    :param body: the message.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        state.workspace.conversation(agent.id, conversation_id)
        files = _files(state, agent, conversation_id, body.files)
        message = state.workspace.send_manual_message(
            agent.id, conversation_id, body.message, question_id=body.conversationMessageId, files=files
        )
    return JSONResponse(message_dto(message))


@router.post("/message-files/upload-url", summary="Create a signed upload URL for a message file")
async def message_file_upload_url(
    conversation_id: str, body: UploadUrlBody, agent: AgentDep, state: StateDep, origin: StorageOriginDep
) -> JSONResponse:
    """Issue a signed URL (``PUT`` the bytes there) and the ``storagePath`` to cite in a message's ``files``.

    :param conversation_id: the conversation id.
    :param body: file name and content type.
    :param agent: the calling agent.
    :param state: the emulator state.
    :param origin: the storage service's origin.
    """
    with raia_errors():
        state.workspace.conversation(agent.id, conversation_id)
    upload = state.issue_upload(agent, body.fileName, body.contentType, prefix=storage_prefix(conversation_id))
    return JSONResponse({"signedUrl": signed_url(origin, upload.token), "storagePath": upload.storage_path})


@router.get("/message-files/{file_id}/signed-url", summary="Get a signed download URL for a message file")
async def message_file_signed_url(
    conversation_id: str, file_id: str, agent: AgentDep, state: StateDep, origin: StorageOriginDep
) -> JSONResponse:
    """``{signedUrl, fileId}`` of a file attached to a message of the conversation.

    :param conversation_id: the conversation id.
    :param file_id: the message file id.
    :param agent: the calling agent.
    :param state: the emulator state.
    :param origin: the storage service's origin.
    """
    with raia_errors():
        item = state.workspace.message_file(agent.id, conversation_id, file_id)
    upload = state.upload_for_path(agent.id, item.storage_path)
    if upload is None:  # cannot happen: a message only cites issued paths
        raise not_found()
    return JSONResponse({"signedUrl": signed_url(origin, upload.token), "fileId": item.id})
