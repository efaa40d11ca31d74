"""``/external/agents`` — the agent profile and the page of its conversation users.

Statistic, usage and limits under ``/external/agents`` are :mod:`..usage` and :mod:`..limits`; webhooks are
:mod:`..webhooks`. Contract choices where raia's spec is silent (see API_FACTS.md sections 4.3 and 6):

* ``GET /agents/users`` answers the paginated envelope of conversation users (the spec declares the profile
  DTO: a defect, fixed in :mod:`...contract` with the sibling ``GetOrganizationAgentUsersResponseDTO``);
  ``page``/``pageSize`` as for conversations (default 10, at most 100), ``orderBy`` only ``createdAt``,
  ``orderDirection`` default ``DESC``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from raia_provider.testing.emulator.deps import AgentDep, StateDep
from raia_provider.testing.emulator.net import EXTERNAL_PREFIX
from raia_provider.testing.emulator.paging import read_page
from raia_provider.testing.emulator.query import QueryCheck
from raia_provider.testing.emulator.resources.agents.wire import agent_profile
from raia_provider.testing.emulator.resources.users.wire import user_dto

router = APIRouter(prefix=f"{EXTERNAL_PREFIX}/agents", tags=["Agents"])


@router.get("/by-api-key", summary="Get agent by API key")
async def get_agent_by_api_key(agent: AgentDep, state: StateDep) -> JSONResponse:
    """Return the calling agent's profile.

    :param agent: the calling agent.
    :param state: the emulator state.
    """
    return JSONResponse(agent_profile(agent, state.workspace.webhooks(agent.id)))


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
    asked = read_page(
        check,
        page=page,
        page_size=pageSize,
        order_by=orderBy,
        order_direction=orderDirection,
        order_by_values=("createdAt",),
    )
    check.done()
    users = state.workspace.users(agent.id)
    return JSONResponse(asked.render(users, lambda user: (user.created_at, user.seq), user_dto))
