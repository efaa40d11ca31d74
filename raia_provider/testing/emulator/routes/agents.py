"""``/external/agents`` — the agent profile.

The profile carries every field the spec's ``GetAgentByApiKeyResponseDTO`` requires. Its ``API`` skill
carries the agent's key in ``apiKey``, as real raia does: the provider must redact it, so the emulator must
send it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from raia_provider.testing.emulator.net import EXTERNAL_PREFIX
from raia_provider.testing.emulator.routes.deps import AgentDep
from raia_provider.testing.emulator.state import Agent

router = APIRouter(prefix=f"{EXTERNAL_PREFIX}/agents", tags=["Agents"])
ORGANIZATION_NAME = "Emulated Organization"


def agent_profile(agent: Agent) -> dict[str, Any]:
    """Build the ``GetAgentByApiKeyResponseDTO`` of ``agent``.

    :param agent: the agent.
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
                "webhooks": [],
            },
        ],
        "restrictDocumentsToOwnerOnly": False,
    }


@router.get("/by-api-key", summary="Get agent by API key")
async def get_agent_by_api_key(agent: AgentDep) -> JSONResponse:
    """Return the calling agent's profile.

    :param agent: the calling agent.
    """
    return JSONResponse(agent_profile(agent))
