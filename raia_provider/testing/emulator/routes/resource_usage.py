"""``/external/resource-usage`` — record resources the caller consumed on the agent's behalf.

→ 201 with an empty body (the spec documents no content). ``OPENAI_TOKENS`` counts into the agent's tokens,
``VAPI_SECONDS`` into its seconds (``GET /external/agents/limits`` and ``/agents/statistic``); the record
belongs to no conversation. ``amount`` must be a number >= 0 (**inferred**). There is no way to read these
records back through the API (API_FACTS 4.6); the control API can.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from raia_provider.testing.emulator.bodies import ResourceUsageBody
from raia_provider.testing.emulator.net import EXTERNAL_PREFIX
from raia_provider.testing.emulator.routes.deps import AgentDep, StateDep

router = APIRouter(prefix=f"{EXTERNAL_PREFIX}/resource-usage", tags=["Resource usage"])


@router.post("", summary="Add a resource usage log", status_code=201, response_class=Response)
async def add_resource_usage(body: ResourceUsageBody, agent: AgentDep, state: StateDep) -> Response:
    """Record ``amount`` of ``type`` → 201.

    :param body: type and amount.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    state.workspace.record_usage(agent.id, "tokens" if body.type == "OPENAI_TOKENS" else "seconds", body.amount)
    return Response(status_code=201)
