"""``/external/conversations`` — conversations: start, create, list, read, update, mode, delete, states.

Contract choices where raia's spec is silent (see API_FACTS.md sections 4.2 and 6):

* ``POST /conversations/start`` picks the DTO by ``channel`` (400 ``isEnum`` on ``channel`` if missing or
  unknown), then enforces that channel's required fields. The user is found by phone number (SMS, voice) or
  email (email channel), then by the other contact, then by fkId, else created from the body (``context``
  is the *user's* context, ``conversationContext`` the conversation's). The user's latest active
  conversation is continued unless ``resetConversation`` (then it is archived and a new one starts). The
  introduction (``emailIntroduction`` / ``smsIntroduction`` / ``firstMessage``) is stored as an assistant
  message with the channel as ``source``; an SMS or email start counts one SMS or email of usage. A voice
  conversation gets an ``aiCallId``. → 201 ``{conversationId}``.
* ``POST /conversations`` → 201 ``ConversationResponseDTO``; unknown ``conversationUserId`` → 404.
* An unknown ``conversationStateId`` anywhere → 404 (like an unknown id in the path).
* ``GET /conversations``: ``page`` (1-based, default 1) and ``pageSize`` (default 10, at most 100) — both
  **inferred** (API_FACTS 6.9, see :mod:`...paging`); ``orderBy`` ``createdAt`` (default) or ``updatedAt``;
  ``orderDirection`` default ``DESC`` (newest first, **inferred**); ``searchKeyword`` matches,
  case-insensitively, the title, the agent's name and the user's first name, last name, email and phone
  number; ``userId`` is a conversation user id; ``startDate``/``endDate`` bound ``updatedAt`` (inclusive);
  ``withFeedbacksOnly=true`` keeps conversations with feedback on some message. Bad values → 400. A page
  past the end has empty ``data``.
* ``PUT /conversations/{id}``: ``title`` ≤ 255, ``context`` ≤ 256000 characters, ``status``
  ``active|inactive|archived`` (stored; the DTO has no status field, so it is not echoed);
  ``PUT …/mode`` needs ``mode`` (400 without it: the spec marks nothing required, but the call means
  nothing without it).
* ``DELETE /conversations`` with JSON ``{conversationUserId}`` deletes all that user's conversations → 204,
  empty body; unknown user → 404.
* ``GET /conversations/states`` → an **array** (the spec says one object, a defect fixed in
  :mod:`...contract`) of the agent's states; two are seeded, "New" and "Resolved".
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse, Response

from raia_provider.testing.emulator.deps import AgentDep, StateDep, raia_errors
from raia_provider.testing.emulator.net import EXTERNAL_PREFIX
from raia_provider.testing.emulator.paging import read_page
from raia_provider.testing.emulator.query import QueryCheck
from raia_provider.testing.emulator.resources.conversations.store import Conversation
from raia_provider.testing.emulator.resources.conversations.wire import (
    CreateConversationBody,
    DeleteConversationsBody,
    UpdateConversationBody,
    UpdateModeBody,
    conversation_dto,
    conversation_with_feedbacks_dto,
    introduction_of,
    parse_start_body,
    state_dto,
)
from raia_provider.testing.emulator.state import Agent, EmulatorState

router = APIRouter(prefix=f"{EXTERNAL_PREFIX}/conversations", tags=["Conversations"])
ORDER_BY = ("createdAt", "updatedAt")


def render(state: EmulatorState, agent: Agent, conversation: Conversation) -> dict[str, Any]:
    """``ConversationResponseDTO`` of one of ``agent``'s conversations.

    :param state: the emulator state.
    :param agent: the owner.
    :param conversation: the conversation.
    """
    return conversation_dto(conversation, state.workspace.user(agent.id, conversation.user_id))


@router.post("/start", summary="Start a conversation on a channel", status_code=201)
async def start_conversation(payload: Annotated[Any, Body()], agent: AgentDep, state: StateDep) -> JSONResponse:
    """Start (or continue) an email, SMS or voice conversation → 201 ``{conversationId}``.

    :param payload: the JSON body (one of the three start DTOs, by ``channel``).
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    body = parse_start_body(payload)
    user = {
        "first_name": body.firstName,
        "last_name": body.lastName,
        "email": body.email,
        "phone_number": body.phoneNumber,
        "fk_id": body.fkId,
        "fk_user_id": body.fkUserId,
        "context": body.context,
        "source": body.source,
    }
    with raia_errors():
        conversation = state.workspace.start_conversation(
            agent.id,
            channel=body.channel,
            introduction=introduction_of(body),
            user=user,
            reset=bool(getattr(body, "resetConversation", False)),
            context=body.conversationContext,
            custom_data=body.customData,
            state_id=body.conversationStateId,
        )
    return JSONResponse({"conversationId": conversation.id}, status_code=201)


@router.get("", summary="Get conversations")
async def list_conversations(
    agent: AgentDep,
    state: StateDep,
    page: str | None = None,
    pageSize: str | None = None,
    orderBy: str | None = None,
    orderDirection: str | None = None,
    searchKeyword: str | None = None,
    userId: str | None = None,
    startDate: str | None = None,
    endDate: str | None = None,
    withFeedbacksOnly: str | None = None,
) -> JSONResponse:
    """One page of the agent's conversations, filtered and ordered (see the module docstring).

    :param agent: the calling agent.
    :param state: the emulator state.
    :param page: page number, from 1.
    :param pageSize: page size, 1 to 100.
    :param orderBy: ``createdAt`` or ``updatedAt``.
    :param orderDirection: ``ASC`` or ``DESC``.
    :param searchKeyword: text to look for.
    :param userId: a conversation user id.
    :param startDate: lowest ``updatedAt``.
    :param endDate: highest ``updatedAt``.
    :param withFeedbacksOnly: keep only conversations with feedback.
    """
    check = QueryCheck()
    asked = read_page(
        check, page=page, page_size=pageSize, order_by=orderBy, order_direction=orderDirection, order_by_values=ORDER_BY
    )
    user_id = check.uuid("userId", userId)
    start, end = check.date("startDate", startDate), check.date("endDate", endDate)
    feedbacks_only = check.boolean("withFeedbacksOnly", withFeedbacksOnly)
    check.done()

    users = {user.id: user for user in state.workspace.users(agent.id)}
    feedbacks = state.workspace.feedbacks_by(agent.id, "conversation_id")
    keyword = (searchKeyword or "").strip().lower()

    def keep(conversation: Conversation) -> bool:
        user = users[conversation.user_id]
        if user_id is not None and conversation.user_id != user_id.lower():
            return False
        if start is not None and conversation.updated_at < start:
            return False
        if end is not None and conversation.updated_at > end:
            return False
        if feedbacks_only and not feedbacks.get(conversation.id):
            return False
        if keyword:
            haystack = [conversation.title, agent.name, user.first_name, user.last_name, user.email, user.phone_number]
            return any(keyword in text.lower() for text in haystack if text)
        return True

    def sort_key(conversation: Conversation) -> tuple[float, int]:
        moment = conversation.created_at if asked.order_by == "createdAt" else conversation.updated_at
        return moment, conversation.seq

    selected = [c for c in state.workspace.conversations(agent.id) if keep(c)]
    return JSONResponse(
        asked.render(
            selected, sort_key, lambda c: conversation_with_feedbacks_dto(c, users[c.user_id], feedbacks.get(c.id, []))
        )
    )


@router.post("", summary="Create a conversation", status_code=201)
async def create_conversation(body: CreateConversationBody, agent: AgentDep, state: StateDep) -> JSONResponse:
    """Create a conversation for an existing user → 201 ``ConversationResponseDTO``.

    :param body: the conversation.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        conversation = state.workspace.create_conversation(
            agent.id,
            body.conversationUserId,
            title=body.title,
            context=body.context,
            custom_data=body.customData,
            state_id=body.conversationStateId,
        )
        return JSONResponse(render(state, agent, conversation), status_code=201)


@router.delete("", summary="Delete all conversations of a user", status_code=204, response_class=Response)
async def delete_conversations(body: DeleteConversationsBody, agent: AgentDep, state: StateDep) -> Response:
    """Delete every conversation of a user in this agent → 204.

    :param body: ``{conversationUserId}``.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        state.workspace.delete_user_conversations(agent.id, body.conversationUserId)
    return Response(status_code=204)


@router.get("/states", summary="Get conversation states")
async def get_states(agent: AgentDep, state: StateDep) -> JSONResponse:
    """The agent's conversation states, as an array.

    :param agent: the calling agent.
    :param state: the emulator state.
    """
    return JSONResponse([state_dto(item) for item in state.workspace.states(agent.id)])


@router.get("/{conversation_id}", summary="Get a conversation")
async def get_conversation(conversation_id: str, agent: AgentDep, state: StateDep) -> JSONResponse:
    """One conversation with its feedback.

    :param conversation_id: the conversation id.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        conversation = state.workspace.conversation(agent.id, conversation_id)
        user = state.workspace.user(agent.id, conversation.user_id)
    feedbacks = state.workspace.feedbacks_by(agent.id, "conversation_id").get(conversation_id, [])
    return JSONResponse(conversation_with_feedbacks_dto(conversation, user, feedbacks))


@router.put("/{conversation_id}", summary="Update a conversation")
async def update_conversation(
    conversation_id: str, body: UpdateConversationBody, agent: AgentDep, state: StateDep
) -> JSONResponse:
    """Change title, context, status or state.

    :param conversation_id: the conversation id.
    :param body: the changes.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        conversation = state.workspace.update_conversation(
            agent.id,
            conversation_id,
            title=body.title,
            context=body.context,
            status=body.status,
            state_id=body.conversationStateId,
        )
        return JSONResponse(render(state, agent, conversation))


@router.put("/{conversation_id}/mode", summary="Update the conversation mode")
async def update_mode(conversation_id: str, body: UpdateModeBody, agent: AgentDep, state: StateDep) -> JSONResponse:
    """Switch between ``ai`` and ``manual`` mode.

    :param conversation_id: the conversation id.
    :param body: ``{mode}``.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        conversation = state.workspace.update_conversation(agent.id, conversation_id, mode=body.mode)
        return JSONResponse(render(state, agent, conversation))
