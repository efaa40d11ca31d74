"""``/external/agents`` — the agent profile, statistic, conversation users and limits.

The profile carries every field the spec's ``GetAgentByApiKeyResponseDTO`` requires. Its ``API`` skill
carries the agent's key in ``apiKey``, as real raia does: the provider must redact it, so the emulator must
send it. Its ``WEBHOOK`` skill lists the webhooks created with ``POST /external/agents/webhooks`` (without
``id``, as the spec's ``WebhookResponseDTO`` has none).

Contract choices where raia's spec is silent (see API_FACTS.md sections 4.3 and 6):

* ``GET /agents/statistic``: computed from the usage events (see :mod:`..workspace`): completed prompts and
  answers count their tokens, SMS/email starts and manual messages one SMS/email each, and
  ``POST /resource-usage`` its amount. ``startDate``/``endDate`` bound the event time (inclusive);
  ``conversationUserId`` and ``userId`` (read as the same thing: a conversation user) and ``fkId`` /
  ``fkUserId`` keep the events of matching conversation users (prompts, which have none, drop out). Each
  "per conversation" figure (``averageCallDuration`` for seconds) is the total of the events that belong to
  a conversation divided by how many distinct conversations they belong to (0 when none).
* ``GET /agents/users`` answers the paginated envelope of conversation users (the spec declares the profile
  DTO: a defect, fixed in :mod:`..contract` with the sibling ``GetOrganizationAgentUsersResponseDTO``);
  ``page``/``pageSize`` as for conversations (default 10, at most 100), ``orderBy`` only ``createdAt``,
  ``orderDirection`` default ``DESC``.
* ``GET /agents/limits`` answers this month's **usage** (``AgentUsageResponseDTO``: ``emailsAmount``,
  ``smsAmount``, ``tokensAmount``, ``secondsAmount``), as the spec says. ``POST`` sets the agent's own monthly
  limits (201 ``AgentLimitsResponseDTO``, ``isOrganizationDefault: false``; 400 "Limits already exist." when
  set), ``PUT`` changes the given amounts (404 when none are set), ``DELETE`` removes them (200, empty body;
  404 when none). Limits are stored, not enforced.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from raia_provider.testing.emulator.bodies import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    LimitsBody,
    PartialLimitsBody,
    QueryCheck,
)
from raia_provider.testing.emulator.dtos import limits_dto, profile_webhook_dto, user_dto
from raia_provider.testing.emulator.dtos import page as paginate
from raia_provider.testing.emulator.net import EXTERNAL_PREFIX
from raia_provider.testing.emulator.records import UsageEvent, UsageKind, Webhook
from raia_provider.testing.emulator.routes.deps import AgentDep, StateDep, raia_errors
from raia_provider.testing.emulator.state import Agent

router = APIRouter(prefix=f"{EXTERNAL_PREFIX}/agents", tags=["Agents"])
ORGANIZATION_NAME = "Emulated Organization"


def agent_profile(agent: Agent, webhooks: Sequence[Webhook] = ()) -> dict[str, Any]:
    """Build the ``GetAgentByApiKeyResponseDTO`` of ``agent``.

    :param agent: the agent.
    :param webhooks: its webhooks, listed in the ``WEBHOOK`` skill.
    """
    return {
        "organizationId": agent.organization_id,
        "organizationName": ORGANIZATION_NAME,
        "id": agent.id,
        "name": agent.name,
        "publicName": agent.name,
        "role": "Assistant",
        "description": f"{agent.name}, an emulated raia agent.",
        "vectorStoreId": agent.vector_store_id,
        "aiConfig": {
            "id": agent.assistant_id,
            "model": "gpt-5.1",
            "temperature": 1,
            "topP": 1,
            "instructions": "You are a helpful assistant. Answer briefly.",
            "isCodeInterpreterEnabled": False,
            "isFileSearchEnabled": True,
            "fileSearchMaxNumResults": 10,
            "reasoningEffort": "medium",
            "reasoningMode": "standard",
            "isOutputJsonSchemaEnabled": False,
            "outputJsonSchema": "",
        },
        "avatarUrl": f"https://example.com/avatars/{agent.id}.png",
        "status": "active",
        "tags": ["emulator"],
        "skills": [
            {"systemName": "API", "status": "active", "apiKey": agent.key},
            {
                "systemName": "WEBHOOK",
                "status": "active",
                "name": "Webhooks",
                "description": "Sends conversation events to external systems.",
                "webhooks": [profile_webhook_dto(webhook) for webhook in webhooks],
            },
        ],
        "restrictDocumentsToOwnerOnly": False,
    }


@router.get("/by-api-key", summary="Get agent by API key")
async def get_agent_by_api_key(agent: AgentDep, state: StateDep) -> JSONResponse:
    """Return the calling agent's profile.

    :param agent: the calling agent.
    :param state: the emulator state.
    """
    return JSONResponse(agent_profile(agent, state.workspace.webhooks(agent.id)))


def _per_conversation(events: Sequence[UsageEvent], kind: UsageKind) -> tuple[float, float]:
    """Total of ``kind``, and that total (of events in a conversation) per distinct conversation."""
    chosen = [event for event in events if event.kind == kind]
    total = sum(event.amount for event in chosen)
    in_conversations = [event for event in chosen if event.conversation_id is not None]
    conversations = {event.conversation_id for event in in_conversations}
    per = sum(event.amount for event in in_conversations) / len(conversations) if conversations else 0
    return total, per


@router.get("/statistic", summary="Get agent statistic")
async def get_statistic(
    agent: AgentDep,
    state: StateDep,
    startDate: str | None = None,
    endDate: str | None = None,
    fkId: str | None = None,
    fkUserId: str | None = None,
    userId: str | None = None,
    conversationUserId: str | None = None,
) -> JSONResponse:
    """Usage figures of the agent, computed from its usage events (see the module docstring).

    :param agent: the calling agent.
    :param state: the emulator state.
    :param startDate: earliest event time.
    :param endDate: latest event time.
    :param fkId: keep events of users with this fkId.
    :param fkUserId: keep events of users with this fkUserId.
    :param userId: keep events of this conversation user.
    :param conversationUserId: keep events of this conversation user.
    """
    check = QueryCheck()
    start, end = check.date("startDate", startDate), check.date("endDate", endDate)
    named = [check.uuid("userId", userId), check.uuid("conversationUserId", conversationUserId)]
    check.done()
    user_ids: set[str | None] | None = None
    for value in named:
        if value is not None:
            user_ids = {value.lower()} if user_ids is None else user_ids & {value.lower()}
    fk_id, fk_user_id = fkId or None, fkUserId or None  # an empty filter counts as absent
    if fk_id is not None or fk_user_id is not None:
        matching: set[str | None] = set(state.workspace.user_ids_matching(agent.id, fk_id=fk_id, fk_user_id=fk_user_id))
        user_ids = matching if user_ids is None else user_ids & matching
    events = state.workspace.usage_events(agent.id)
    if start is not None:
        events = [event for event in events if event.at >= start]
    if end is not None:
        events = [event for event in events if event.at <= end]
    if user_ids is not None:
        events = [event for event in events if event.user_id in user_ids]
    tokens, tokens_per = _per_conversation(events, "tokens")
    seconds, seconds_per = _per_conversation(events, "seconds")
    sms, sms_per = _per_conversation(events, "sms")
    emails, emails_per = _per_conversation(events, "emails")
    return JSONResponse(
        {
            "tokensUsed": tokens,
            "tokensPerConversation": tokens_per,
            "vapiSecondsUsed": seconds,
            "averageCallDuration": seconds_per,
            "smsUsed": sms,
            "smsPerConversation": sms_per,
            "emailsUsed": emails,
            "emailsPerConversation": emails_per,
        }
    )


@router.get("/users", summary="Get agent users")
async def get_users(
    agent: AgentDep,
    state: StateDep,
    page: str | None = None,
    pageSize: str | None = None,
    orderBy: str | None = None,
    orderDirection: str | None = None,
) -> JSONResponse:
    """One page of the agent's conversation users.

    :param agent: the calling agent.
    :param state: the emulator state.
    :param page: page number, from 1.
    :param pageSize: page size, 1 to 100.
    :param orderBy: only ``createdAt``.
    :param orderDirection: ``ASC`` or ``DESC`` (default).
    """
    check = QueryCheck()
    number = check.integer("page", page, default=1)
    size = check.integer("pageSize", pageSize, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    check.enum("orderBy", orderBy, ("createdAt",), "createdAt")
    direction = check.enum("orderDirection", orderDirection, ("ASC", "DESC"), "DESC")
    check.done()
    users = sorted(
        state.workspace.users(agent.id), key=lambda user: (user.created_at, user.seq), reverse=direction == "DESC"
    )
    return JSONResponse(paginate(users, number, size, user_dto))


@router.get("/limits", summary="Get agent usage")
async def get_usage(agent: AgentDep, state: StateDep) -> JSONResponse:
    """This month's usage of the agent.

    :param agent: the calling agent.
    :param state: the emulator state.
    """
    usage = state.workspace.month_usage(agent.id)
    return JSONResponse(
        {
            "emailsAmount": usage["emails"],
            "smsAmount": usage["sms"],
            "tokensAmount": usage["tokens"],
            "secondsAmount": usage["seconds"],
        }
    )


@router.post("/limits", summary="Create agent limits", status_code=201)
async def create_limits(body: LimitsBody, agent: AgentDep, state: StateDep) -> JSONResponse:
    """Set the agent's monthly limits → 201.

    :param body: the four monthly amounts.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        limits = state.workspace.set_limits(agent.id, None, body.values(), create=True)
    return JSONResponse(limits_dto(limits, owner_key="agentId"), status_code=201)


@router.put("/limits", summary="Update agent limits")
async def update_limits(body: PartialLimitsBody, agent: AgentDep, state: StateDep) -> JSONResponse:
    """Change some of the agent's monthly limits.

    :param body: the amounts to change.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        limits = state.workspace.set_limits(agent.id, None, body.values(), create=False)
    return JSONResponse(limits_dto(limits, owner_key="agentId"))


@router.delete("/limits", summary="Delete agent limits", response_class=Response)
async def delete_limits(agent: AgentDep, state: StateDep) -> Response:
    """Remove the agent's limits → 200, empty body.

    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        state.workspace.delete_limits(agent.id, None)
    return Response(status_code=200)
