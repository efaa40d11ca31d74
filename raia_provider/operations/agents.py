"""raia's agent operations available to an agent key."""

from __future__ import annotations

from raia_provider._core.endpoint import AsyncEndpoint, Endpoint
from raia_provider._core.operation import Operation, RaiaRequest
from raia_provider.models.agents import AgentProfile


class GetAgent(RaiaRequest[AgentProfile]):
    """Read the profile of the agent that owns the connection's key (its API-skill key is redacted)."""

    operation = Operation("GET", "/agents/by-api-key", "ExternalApiAgentsController_getAgentByApiKey")


class AgentEndpoints:
    """``RaiaHook`` methods for the agent operations (blocking, and ``a``-prefixed async twins)."""

    get_agent = Endpoint(GetAgent)
    aget_agent = AsyncEndpoint(GetAgent)
