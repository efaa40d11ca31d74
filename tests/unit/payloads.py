"""raia bodies as the published spec documents them, for HTTP-layer mocks."""

from __future__ import annotations

from typing import Any

from tests.conftest import TEST_KEY

COMPLETED: dict[str, Any] = {"status": "completed", "totalTokens": 12, "response": "42", "error": None}
PENDING: dict[str, Any] = {"status": "pending", "totalTokens": None, "response": None, "error": None}
FAILED: dict[str, Any] = {"status": "failed", "totalTokens": None, "response": None, "error": "model overloaded"}
FORBIDDEN: dict[str, Any] = {"status": 403, "name": "FORBIDDEN_ERROR", "message": "INVALID_CREDENTIALS", "details": []}
NOT_FOUND: dict[str, Any] = {
    "status": 404,
    "name": "ENTITY_NOT_FOUND_ERROR",
    "message": "ENTITY_NOT_FOUND",
    "details": [],
}
SERVER_ERROR: dict[str, Any] = {"status": 500, "message": "Internal Server Error"}

AGENT_PROFILE: dict[str, Any] = {
    "organizationId": "123e4567-e89b-12d3-a456-426614174000",
    "organizationName": "Acme",
    "id": "223e4567-e89b-12d3-a456-426614174000",
    "name": "Support Agent",
    "publicName": "Ava",
    "role": "Support",
    "vectorStoreId": "vs_123",
    "aiConfig": {
        "id": "asst_1",
        "model": "gpt-5",
        "temperature": 0.2,
        "topP": 1,
        "instructions": "Be helpful.",
        "isCodeInterpreterEnabled": False,
        "isFileSearchEnabled": True,
        "fileSearchMaxNumResults": 20,
        "reasoningEffort": None,
        "reasoningMode": None,
        "outputJsonSchema": "",
    },
    "status": "active",
    "tags": ["support"],
    "skills": [
        {"systemName": "API", "status": "active", "apiKey": TEST_KEY},
        {
            "systemName": "WEBHOOK",
            "status": "active",
            "name": "Webhooks",
            "description": "",
            "webhooks": [
                {
                    "status": "active",
                    "title": "CRM",
                    "description": "sync",
                    "url": "https://crm.example/hook",
                    "triggerCondition": "end_dialog",
                }
            ],
        },
        {"systemName": "SMS", "status": "inactive", "phoneNumber": "+15550100"},
    ],
}
