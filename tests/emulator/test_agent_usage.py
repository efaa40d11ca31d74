"""Agent statistic, conversation users, limits and usage; resource usage and message feedback."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from raia_provider.testing import answer_for
from raia_provider.testing.emulator.server import RaiaEmulator

if TYPE_CHECKING:
    from conftest import Api

Validate = Callable[[Any, str], None]
LIMITS = {
    "tokensAmountPerMonth": 10_000,
    "smsAmountPerMonth": 50,
    "emailsAmountPerMonth": 60,
    "secondsAmountPerMonth": 70,
}
ZERO = {
    "tokensUsed": 0,
    "tokensPerConversation": 0,
    "vapiSecondsUsed": 0,
    "averageCallDuration": 0,
    "smsUsed": 0,
    "smsPerConversation": 0,
    "emailsUsed": 0,
    "emailsPerConversation": 0,
}


def _statistic(api: Api, **params: Any) -> dict[str, Any]:
    response = api.call("GET", "/agents/statistic", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_statistic_is_computed_from_usage(api: Api, validate_against: Validate) -> None:
    assert _statistic(api) == ZERO
    prompt_tokens = api.prompt("one two").json()["totalTokens"]
    sms_start = {
        "channel": "sms",
        "firstName": "A",
        "lastName": "B",
        "phoneNumber": "+14155550100",
        "smsIntroduction": "Hi",
        "fkId": "crm-1",
    }
    sms_conversation = api.call("POST", "/conversations/start", json=sms_start).json()["conversationId"]
    email_start = {
        "channel": "email",
        "firstName": "C",
        "lastName": "D",
        "email": "c@example.com",
        "emailSubject": "S",
        "emailIntroduction": "Hello",
    }
    api.call("POST", "/conversations/start", json=email_start)
    api.call("POST", f"/conversations/{sms_conversation}/messages", json={"message": "Hi there"})
    message_tokens = answer_for("Hi there", "Test Agent")[1]
    assert api.call("POST", "/resource-usage", json={"type": "VAPI_SECONDS", "amount": 90}).status_code == 201

    everything = _statistic(api)
    validate_against(everything, "ExternalApiGetAgentStatisticResponseDTO")
    assert everything == {
        "tokensUsed": prompt_tokens + message_tokens,
        "tokensPerConversation": message_tokens,  # prompts belong to no conversation
        "vapiSecondsUsed": 90,
        "averageCallDuration": 0,  # resource-usage records belong to no conversation
        "smsUsed": 1,
        "smsPerConversation": 1,
        "emailsUsed": 1,
        "emailsPerConversation": 1,
    }
    by_fk = _statistic(api, fkId="crm-1")
    assert (by_fk["tokensUsed"], by_fk["smsUsed"], by_fk["emailsUsed"]) == (message_tokens, 1, 0)
    sms_user = api.call("GET", f"/conversations/{sms_conversation}").json()["conversationUserId"]
    assert _statistic(api, conversationUserId=sms_user) == by_fk
    assert _statistic(api, userId=sms_user) == by_fk
    assert _statistic(api, fkId="nobody") == ZERO
    assert _statistic(api, startDate="2999-01-01T00:00:00Z") == ZERO
    assert _statistic(api, endDate="2000-01-01T00:00:00Z") == ZERO


@pytest.mark.parametrize("params", [{"startDate": "soon"}, {"conversationUserId": "x"}, {"userId": "1"}])
def test_bad_statistic_query_is_400(api: Api, params: dict[str, str]) -> None:
    assert api.call("GET", "/agents/statistic", params=params).status_code == 400


def test_agent_users_page(raia_emulator: RaiaEmulator, api: Api, validate_against: Validate) -> None:
    other = raia_emulator.add_agent(key="usage-agent-b-00001", name="B")
    ids = [api.user()["id"] for _ in range(3)]
    api.user(key=other.key)

    response = api.call("GET", "/agents/users", params={"pageSize": 2, "orderDirection": "ASC"})

    assert response.status_code == 200
    page = response.json()
    validate_against(page, "GetOrganizationAgentUsersResponseDTO")
    assert [u["id"] for u in page["data"]] == ids[:2]
    assert (page["totalItems"], page["totalPages"], page["hasNextPage"]) == (3, 2, True)
    newest = api.call("GET", "/agents/users").json()["data"]
    assert [u["id"] for u in newest] == ids[::-1]
    assert api.call("GET", "/agents/users", params={"orderBy": "updatedAt"}).status_code == 400
    assert api.call("GET", "/agents/users", params={"pageSize": "1000"}).status_code == 400


def test_agent_limits_and_usage(api: Api, validate_against: Validate) -> None:
    usage = api.call("GET", "/agents/limits")
    assert usage.status_code == 200
    validate_against(usage.json(), "AgentUsageResponseDTO")
    assert usage.json() == {"emailsAmount": 0, "smsAmount": 0, "tokensAmount": 0, "secondsAmount": 0}
    api.call("POST", "/resource-usage", json={"type": "OPENAI_TOKENS", "amount": 12.5})
    assert api.call("GET", "/agents/limits").json()["tokensAmount"] == 12.5

    assert api.call("PUT", "/agents/limits", json={"smsAmountPerMonth": 1}).status_code == 404
    created = api.call("POST", "/agents/limits", json=LIMITS)
    assert created.status_code == 201
    validate_against(created.json(), "AgentLimitsResponseDTO")
    assert created.json() == {
        "id": created.json()["id"],
        "agentId": created.json()["agentId"],
        "isOrganizationDefault": False,
        **LIMITS,
    }
    assert api.call("POST", "/agents/limits", json=LIMITS).status_code == 400
    updated = api.call("PUT", "/agents/limits", json={"smsAmountPerMonth": 5})
    assert updated.status_code == 200
    assert updated.json() == {**created.json(), "smsAmountPerMonth": 5}
    deleted = api.call("DELETE", "/agents/limits")
    assert (deleted.status_code, deleted.content) == (200, b"")
    assert api.call("DELETE", "/agents/limits").status_code == 404
    assert api.call("POST", "/agents/limits", json={"tokensAmountPerMonth": 1}).status_code == 400


@pytest.mark.parametrize(
    "body", [{}, {"type": "SMS", "amount": 1}, {"type": "OPENAI_TOKENS"}, {"type": "OPENAI_TOKENS", "amount": "3"}]
)
def test_bad_resource_usage_is_400(api: Api, body: dict[str, Any], validate_against: Validate) -> None:
    response = api.call("POST", "/resource-usage", json=body)

    assert response.status_code == 400
    validate_against(response.json(), "BadRequestErrorDTO")


def test_feedback_create_then_update(raia_emulator: RaiaEmulator, api: Api, validate_against: Validate) -> None:
    user = api.user()
    conversation_id = api.conversation(user["id"])["id"]
    reply = api.call("POST", f"/conversations/{conversation_id}/messages", json={"message": "Q"}).json()
    body = {"conversationMessageId": reply["id"], "userId": user["id"], "voteType": "up", "question": "Q"}

    first = api.call("POST", "/conversation-message-feedbacks", json=body)
    second = api.call("POST", "/conversation-message-feedbacks", json={**body, "voteType": "down", "comment": "meh"})

    assert (first.status_code, second.status_code) == (201, 201)
    validate_against(first.json(), "ExternalApiCrateOrUpdateConversationMessageFeedbackResponseDTO")
    validate_against(second.json(), "ExternalApiCrateOrUpdateConversationMessageFeedbackResponseDTO")
    assert second.json()["id"] == first.json()["id"]
    assert (second.json()["voteType"], second.json()["comment"], second.json()["answer"]) == ("down", "meh", None)
    assert second.json()["createdAt"] == first.json()["createdAt"]
    other_rater = api.call("POST", "/conversation-message-feedbacks", json={**body, "userId": api.user()["id"]})
    assert other_rater.json()["id"] != first.json()["id"]
    feedbacks = api.call("GET", f"/conversations/{conversation_id}").json()["feedbacks"]
    assert len(feedbacks) == 2


def test_feedback_on_unknown_or_foreign_message_is_404(raia_emulator: RaiaEmulator, api: Api) -> None:
    other = raia_emulator.add_agent(key="usage-agent-b-00002", name="B")
    conversation_id = api.conversation()["id"]
    reply = api.call("POST", f"/conversations/{conversation_id}/messages", json={"message": "Q"}).json()
    body = {"conversationMessageId": reply["id"], "userId": reply["id"], "voteType": "up", "question": "Q"}

    assert api.call("POST", "/conversation-message-feedbacks", json=body, key=other.key).status_code == 404
    unknown = {**body, "conversationMessageId": "00000000-0000-0000-0000-000000000000"}
    assert api.call("POST", "/conversation-message-feedbacks", json=unknown).status_code == 404


@pytest.mark.parametrize(
    "change", [{"voteType": "meh"}, {"userId": "x"}, {"conversationMessageId": 1}, {"question": ""}, {"comment": None}]
)
def test_bad_feedback_is_400(api: Api, change: dict[str, Any]) -> None:
    base = {
        "conversationMessageId": "00000000-0000-0000-0000-000000000000",
        "userId": "00000000-0000-0000-0000-000000000001",
    }
    body = {**base, "voteType": "up", "question": "Q", **change}

    assert api.call("POST", "/conversation-message-feedbacks", json=body).status_code == 400
