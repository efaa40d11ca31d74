"""``/external/agents/statistic`` and ``/external/resource-usage`` — what the agent used.

Contract choices where raia's spec is silent (see API_FACTS.md sections 4.3 and 4.6):

* ``GET /agents/statistic``: computed from the usage events (see :mod:`.store`): completed prompts and
  answers count their tokens, SMS/email starts and manual messages one SMS/email each, and
  ``POST /resource-usage`` its amount. ``startDate``/``endDate`` bound the event time (inclusive);
  ``conversationUserId`` and ``userId`` (read as the same thing: a conversation user) and ``fkId`` /
  ``fkUserId`` keep the events of matching conversation users (prompts, which have none, drop out). Each
  "per conversation" figure (``averageCallDuration`` for seconds) is the total of the events that belong to
  a conversation divided by how many distinct conversations they belong to (0 when none).
* ``POST /resource-usage`` → 201 with an empty body (the spec documents no content). ``OPENAI_TOKENS`` counts
  into the agent's tokens, ``VAPI_SECONDS`` into its seconds (``GET /external/agents/limits`` and
  ``/agents/statistic``); the record belongs to no conversation. ``amount`` must be a number >= 0
  (**inferred**). There is no way to read these records back through the API (API_FACTS 4.6); the control
  API can.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from raia_provider.testing.emulator.deps import AgentDep, StateDep
from raia_provider.testing.emulator.net import EXTERNAL_PREFIX
from raia_provider.testing.emulator.query import QueryCheck
from raia_provider.testing.emulator.resources.usage.wire import ResourceUsageBody, statistic_dto

router = APIRouter(prefix=EXTERNAL_PREFIX)


@router.get("/agents/statistic", summary="Get agent statistic", tags=["Agents"])
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
    events = [
        event
        for event in state.workspace.usage_events(agent.id)
        if (start is None or event.at >= start)
        and (end is None or event.at <= end)
        and (user_ids is None or event.user_id in user_ids)
    ]
    return JSONResponse(statistic_dto(events))


@router.post(
    "/resource-usage",
    summary="Add a resource usage log",
    status_code=201,
    response_class=Response,
    tags=["Resource usage"],
)
async def add_resource_usage(body: ResourceUsageBody, agent: AgentDep, state: StateDep) -> Response:
    """Record ``amount`` of ``type`` → 201.

    :param body: type and amount.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    state.workspace.record_usage(agent.id, "tokens" if body.type == "OPENAI_TOKENS" else "seconds", body.amount)
    return Response(status_code=201)
