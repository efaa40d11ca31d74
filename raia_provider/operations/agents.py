"""raia's agent operations available to an agent key."""

from __future__ import annotations

from raia_provider._core.operation import Operation, RaiaRequest
from raia_provider.models.agents import AgentProfile


class GetAgent(RaiaRequest[AgentProfile]):
    """Read the profile of the agent that owns the connection's key (its API-skill key is redacted)."""

    operation = Operation("GET", "/agents/by-api-key", "ExternalApiAgentsController_getAgentByApiKey")
