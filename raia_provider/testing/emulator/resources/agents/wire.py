"""The agent profile (``GetAgentByApiKeyResponseDTO``), built from the agent and its webhooks.

The profile carries every field the spec's DTO requires. Its ``API`` skill carries the agent's key in
``apiKey``, as real raia does: the provider must redact it, so the emulator must send it. Its ``WEBHOOK`` skill
lists the webhooks created with ``POST /external/agents/webhooks`` (without ``id``, as the spec's
``WebhookResponseDTO`` has none).

``aiConfig.outputJsonSchema`` is a *string* in the spec (``AIConfigResponseDTO``, whose example is a JSON
Schema serialized as JSON), so an agent given an output JSON Schema reports it as ``json.dumps(schema)`` with
``isOutputJsonSchemaEnabled: true``; without one, ``false`` and ``""`` (**inferred**: the spec does not say
what a disabled schema reads as).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from raia_provider.testing.emulator.rendering import JsonObject
from raia_provider.testing.emulator.resources.webhooks.store import Webhook
from raia_provider.testing.emulator.resources.webhooks.wire import profile_webhook_dto
from raia_provider.testing.emulator.state import Agent

ORGANIZATION_NAME = "Emulated Organization"


def agent_profile(agent: Agent, webhooks: Sequence[Webhook] = ()) -> JsonObject:
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
            "isOutputJsonSchemaEnabled": agent.output_json_schema is not None,
            "outputJsonSchema": "" if agent.output_json_schema is None else json.dumps(agent.output_json_schema),
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
