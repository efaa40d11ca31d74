"""raia bodies as the published spec documents them, for HTTP-layer mocks."""

from __future__ import annotations

import json
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

# -- conversation users and conversations (spec: ExternalApiUserResponseDTO, ConversationResponseDTO, ...) --

CONVERSATION_USER: dict[str, Any] = {
    "id": "u-1",
    "firstName": "Jane",
    "lastName": "Doe",
    "context": "Support",
    "source": "crm",
    "fkId": "crm-42",
    "fkUserId": None,
    "email": "jane@example.com",
    "phoneNumber": "+15551234567",
    "metadata": {"customData": {"tier": "gold"}},
    "isAnonymized": False,
}
USER_LIMITS: dict[str, Any] = {
    "id": "ul-1",
    "conversationUserId": "u-1",
    "isOrganizationDefault": False,
    "tokensAmountPerMonth": 100000,
    "smsAmountPerMonth": 20,
    "emailsAmountPerMonth": 10,
    "secondsAmountPerMonth": 600,
}
CONVERSATION: dict[str, Any] = {
    "id": "c-1",
    "conversationUserId": "u-1",
    "title": "Order question",
    "score": None,
    "summary": None,
    "aiConversationId": "conv_abc",
    "metadata": {"customData": {"ticket": "T-9"}},
    "aiCallId": None,
    "mode": "ai",
    "conversationStateId": None,
    "user": CONVERSATION_USER,
    "createdAt": "2026-11-01T10:00:00.000Z",
    "updatedAt": "2026-11-01T10:05:00.000Z",
    "assignedUser": None,
    "isAnonymized": False,
}
CONVERSATION_WITH_FEEDBACKS: dict[str, Any] = {
    **CONVERSATION,
    "feedbacks": [
        {
            "id": "fb-1",
            "voteType": "up",
            "question": "Where is my order?",
            "answer": "On its way.",
            "comment": None,
            "userEmail": "jane@example.com",
            "createdAt": "2026-11-01T10:06:00.000Z",
            "updatedAt": "2026-11-01T10:06:00.000Z",
        }
    ],
}
CONVERSATION_STATE: dict[str, Any] = {
    "id": "5f7b1b3b-3b3b-4b3b-3b3b-3b3b3b3b3b3b",
    "name": "Qualified",
    "description": None,
    "color": "#22c55e",
    "isPersistent": True,
    "createdAt": "2026-01-01T00:00:00.000Z",
    "updatedAt": "2026-01-01T00:00:00.000Z",
}
QUESTION_MESSAGE: dict[str, Any] = {
    "id": "m-1",
    "message": "Where is my order?",
    "conversationId": "c-1",
    "senderRole": "conversation_user",
    "conversationMessageId": "m-1",
    "source": "api",
    "createdAt": "2026-11-01T10:00:00.000Z",
    "isAnonymized": False,
}
ANSWER_MESSAGE: dict[str, Any] = {
    "id": "m-2",
    "message": "It ships tomorrow.",
    "rawMessage": "It ships tomorrow.",
    "conversationId": "c-1",
    "senderRole": "assistant",
    "conversationMessageId": "m-1",
    "source": "api",
    "createdAt": "2026-11-01T10:00:05.000Z",
    "conversationMessageFeedbacks": [],
    "fullAIResponse": {
        "reasoning": None,
        "outputText": "It ships tomorrow.",
        "urlCitations": [{"url": "https://shop.example/faq", "title": "FAQ"}],
        "fileCitations": None,
    },
    "subagentId": None,
    "expandedMessage": None,
    "files": [
        {
            "id": "mf-1",
            "fileName": "label.pdf",
            "openAIFileId": "file-xyz",
            "size": 2048,
            "updatedAt": "2026-11-01T10:00:05.000Z",
            "createdAt": "2026-11-01T10:00:05.000Z",
        }
    ],
    "isAnonymized": False,
}


# -- the agent's output JSON schema (issue 17): read once by a prompt or batch that does not say its format --
PROFILE_PATH = "/agents/by-api-key"


def profile_with_output_schema(schema: Any, *, enabled: bool = True) -> dict[str, Any]:
    """The agent profile with ``isOutputJsonSchemaEnabled`` and ``outputJsonSchema`` set (a JSON string)."""
    text = schema if isinstance(schema, str) else json.dumps(schema)
    config = {**AGENT_PROFILE["aiConfig"], "isOutputJsonSchemaEnabled": enabled, "outputJsonSchema": text}
    return {**AGENT_PROFILE, "aiConfig": config}
