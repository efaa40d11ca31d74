"""``/external/agents/limits`` and ``/external/users/{id}/limits`` — monthly limits of an agent or a user.

Contract choices where raia's spec is silent (see API_FACTS.md sections 4.3 and 4.6):

* ``GET /agents/limits`` answers this month's **usage** (``AgentUsageResponseDTO``: ``emailsAmount``,
  ``smsAmount``, ``tokensAmount``, ``secondsAmount``), as the spec says. ``POST`` sets the agent's own monthly
  limits (201 ``AgentLimitsResponseDTO``, ``isOrganizationDefault: false``; 400 "Limits already exist." when
  set), ``PUT`` changes the given amounts (404 when none are set), ``DELETE`` removes them (200, empty body;
  404 when none). Limits are stored, not enforced.
* A user's limits: ``GET`` returns the user's own limits, or the organization's defaults with
  ``isOrganizationDefault: true`` (and the defaults' id) when the user has none. ``POST`` creates own limits
  (201; 400 "Limits already exist." when they do), ``PUT`` replaces them (all four amounts, as the spec's
  DTO requires; 404 when the user has none), ``DELETE`` removes them (200, empty body; 404 when none). An
  unknown user is a 404.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from raia_provider.testing.emulator.deps import AgentDep, StateDep, raia_errors
from raia_provider.testing.emulator.net import EXTERNAL_PREFIX
from raia_provider.testing.emulator.resources.limits.wire import LimitsBody, PartialLimitsBody, limits_dto
from raia_provider.testing.emulator.state import Agent, EmulatorState

router = APIRouter(prefix=EXTERNAL_PREFIX)
AGENT_LIMITS = "/agents/limits"
USER_LIMITS = "/users/{user_id}/limits"


def _set(
    state: EmulatorState, agent: Agent, owner: str | None, body: LimitsBody | PartialLimitsBody, *, create: bool
) -> JSONResponse:
    """Create or update the own limits of the agent (``owner=None``) or of a user, answered as raia does."""
    with raia_errors():
        limits = state.workspace.set_limits(agent.id, owner, body.values(), create=create)
    dto = limits_dto(limits, owner_key="agentId" if owner is None else "conversationUserId")
    return JSONResponse(dto, status_code=201 if create else 200)


def _delete(state: EmulatorState, agent: Agent, owner: str | None) -> Response:
    """Delete the own limits of the agent (``owner=None``) or of a user → 200, empty body."""
    with raia_errors():
        state.workspace.delete_limits(agent.id, owner)
    return Response(status_code=200)


@router.get(AGENT_LIMITS, summary="Get agent usage", tags=["Agents"])
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


@router.post(AGENT_LIMITS, summary="Create agent limits", status_code=201, tags=["Agents"])
async def create_agent_limits(body: LimitsBody, agent: AgentDep, state: StateDep) -> JSONResponse:
    """Set the agent's monthly limits → 201.

    :param body: the four monthly amounts.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    return _set(state, agent, None, body, create=True)


@router.put(AGENT_LIMITS, summary="Update agent limits", tags=["Agents"])
async def update_agent_limits(body: PartialLimitsBody, agent: AgentDep, state: StateDep) -> JSONResponse:
    """Change some of the agent's monthly limits.

    :param body: the amounts to change.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    return _set(state, agent, None, body, create=False)


@router.delete(AGENT_LIMITS, summary="Delete agent limits", response_class=Response, tags=["Agents"])
async def delete_agent_limits(agent: AgentDep, state: StateDep) -> Response:
    """Remove the agent's limits → 200, empty body.

    :param agent: the calling agent.
    :param state: the emulator state.
    """
    return _delete(state, agent, None)


@router.get(USER_LIMITS, summary="Get conversation user limits", tags=["Users"])
async def get_user_limits(user_id: str, agent: AgentDep, state: StateDep) -> JSONResponse:
    """The user's own limits, or the organization's defaults.

    :param user_id: the user id.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        limits = state.workspace.user_limits(agent.id, user_id)
    return JSONResponse(limits_dto(limits, owner_key="conversationUserId"))


@router.post(USER_LIMITS, summary="Create conversation user limits", status_code=201, tags=["Users"])
async def create_user_limits(user_id: str, body: LimitsBody, agent: AgentDep, state: StateDep) -> JSONResponse:
    """Set the user's own limits → 201.

    :param user_id: the user id.
    :param body: the four monthly amounts.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    return _set(state, agent, user_id, body, create=True)


@router.put(USER_LIMITS, summary="Update conversation user limits", tags=["Users"])
async def update_user_limits(user_id: str, body: LimitsBody, agent: AgentDep, state: StateDep) -> JSONResponse:
    """Replace the user's own limits.

    :param user_id: the user id.
    :param body: the four monthly amounts.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    return _set(state, agent, user_id, body, create=False)


@router.delete(USER_LIMITS, summary="Delete conversation user limits", response_class=Response, tags=["Users"])
async def delete_user_limits(user_id: str, agent: AgentDep, state: StateDep) -> Response:
    """Remove the user's own limits → 200, empty body.

    :param user_id: the user id.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    return _delete(state, agent, user_id)
