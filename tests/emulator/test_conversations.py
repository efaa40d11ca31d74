"""Conversations: start on a channel, create, list (pagination, filters), read, update, mode, delete, states."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from raia_provider.testing.emulator.server import RaiaEmulator

if TYPE_CHECKING:
    from conftest import Api

Validate = Callable[[Any, str], None]
NOT_FOUND = {"status": 404, "name": "ENTITY_NOT_FOUND_ERROR", "message": "ENTITY_NOT_FOUND", "details": []}
SMS = {
    "channel": "sms",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "phoneNumber": "+14155550100",
    "smsIntroduction": "Hi Ada, this is the clinic.",
}
EMAIL = {
    "channel": "email",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "ada@example.com",
    "emailSubject": "Hello",
    "emailIntroduction": "Dear Ada, welcome.",
}
VOICE = {
    "channel": "voice",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "phoneNumber": "+14155550100",
    "firstMessage": "Hello, this is your assistant calling.",
}


def _start(api: Api, body: dict[str, Any]) -> str:
    response = api.call("POST", "/conversations/start", json=body)
    assert response.status_code == 201, response.text
    conversation_id: str = response.json()["conversationId"]
    return conversation_id


@pytest.mark.parametrize(
    ("body", "intro", "source"),
    [(SMS, "smsIntroduction", "sms"), (EMAIL, "emailIntroduction", "email"), (VOICE, "firstMessage", "voice")],
    ids=["sms", "email", "voice"],
)
def test_start_creates_user_conversation_and_introduction(
    api: Api, body: dict[str, Any], intro: str, source: str, validate_against: Validate
) -> None:
    response = api.call("POST", "/conversations/start", json={**body, "customData": {"crm": 1}})

    assert response.status_code == 201
    validate_against(response.json(), "StartConversationResponseDTO")
    conversation_id = response.json()["conversationId"]
    conversation = api.call("GET", f"/conversations/{conversation_id}").json()
    validate_against(conversation, "ConversationWithFeedbacksResponseDTO")
    assert conversation["user"]["firstName"] == "Ada"
    assert conversation["metadata"] == {"customData": {"crm": 1}}
    assert ("aiCallId" in conversation) is (source == "voice")
    (message,) = api.call("GET", f"/conversations/{conversation_id}/messages").json()["messages"]
    assert (message["senderRole"], message["message"], message["source"]) == ("assistant", body[intro], source)


def test_start_continues_the_active_conversation_unless_reset(raia_emulator: RaiaEmulator, api: Api) -> None:
    first = _start(api, SMS)
    again = _start(api, {**SMS, "smsIntroduction": "Second text"})
    fresh = _start(api, {**SMS, "resetConversation": True, "smsIntroduction": "New start"})

    assert again == first
    assert fresh != first
    assert len(raia_emulator.users()) == 1
    statuses = {c.id: c.status for c in raia_emulator.conversations()}
    assert statuses == {first: "archived", fresh: "active"}
    texts = [m["message"] for m in api.call("GET", f"/conversations/{first}/messages").json()["messages"]]
    assert texts == ["Hi Ada, this is the clinic.", "Second text"]


def test_start_finds_an_existing_user_by_contact(api: Api) -> None:
    user = api.user(email="ada@example.com")

    conversation_id = _start(api, EMAIL)

    assert api.call("GET", f"/conversations/{conversation_id}").json()["conversationUserId"] == user["id"]


@pytest.mark.parametrize(
    ("body", "prop"),
    [
        ({**SMS, "channel": "fax"}, "channel"),
        ({k: v for k, v in SMS.items() if k != "channel"}, "channel"),
        ({k: v for k, v in SMS.items() if k != "smsIntroduction"}, "smsIntroduction"),
        ({k: v for k, v in SMS.items() if k != "phoneNumber"}, "phoneNumber"),
        ({k: v for k, v in EMAIL.items() if k != "emailSubject"}, "emailSubject"),
        ({k: v for k, v in EMAIL.items() if k != "email"}, "email"),
        ({k: v for k, v in VOICE.items() if k != "firstMessage"}, "firstMessage"),
        ({**VOICE, "phoneNumber": "+1 415 555"}, "phoneNumber"),
        ({**EMAIL, "email": "ada@"}, "email"),
        ({**SMS, "lastName": ""}, "lastName"),
        ({**SMS, "resetConversation": "yes"}, "resetConversation"),
    ],
)
def test_bad_start_body_is_400(api: Api, body: dict[str, Any], prop: str, validate_against: Validate) -> None:
    response = api.call("POST", "/conversations/start", json=body)

    assert response.status_code == 400, response.text
    assert prop in [item["property"] for item in response.json()["details"]]
    validate_against(response.json(), "BadRequestErrorDTO")


def test_start_skip_flags(api: Api) -> None:
    assert _start(api, {**VOICE, "phoneNumber": "ext-42", "skipPhoneNumberValidation": True})
    assert _start(api, {**EMAIL, "email": "local-only", "skipEmailValidation": True})


def test_create_conversation(api: Api, validate_against: Validate) -> None:
    user = api.user()
    state_id = api.call("GET", "/conversations/states").json()[0]["id"]
    body = {
        "conversationUserId": user["id"],
        "title": "Refund",
        "customData": {"k": "v"},
        "conversationStateId": state_id,
    }

    response = api.call("POST", "/conversations", json=body)

    assert response.status_code == 201
    conversation = response.json()
    validate_against(conversation, "ConversationResponseDTO")
    assert "conversationId" not in conversation
    assert conversation["conversationUserId"] == user["id"]
    assert conversation["user"] == user
    assert conversation["aiConversationId"].startswith("conv_")
    assert (conversation["title"], conversation["mode"], conversation["conversationStateId"]) == (
        "Refund",
        "ai",
        state_id,
    )
    assert conversation["assignedUser"] is None


def test_create_conversation_for_unknown_or_foreign_user_is_404(raia_emulator: RaiaEmulator, api: Api) -> None:
    other = raia_emulator.add_agent(key="conv-agent-b-00001", name="B")
    foreign = api.user(key=other.key)

    for user_id in (foreign["id"], "nobody"):
        response = api.call("POST", "/conversations", json={"conversationUserId": user_id})
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
    unknown_state = {"conversationUserId": api.user()["id"], "conversationStateId": "nope"}
    assert api.call("POST", "/conversations", json=unknown_state).status_code == 404


@pytest.mark.parametrize(
    "body",
    [{}, {"conversationUserId": ""}, {"conversationUserId": "u", "title": "x" * 256}, {"conversationUserId": 3}],
)
def test_bad_create_body_is_400(api: Api, body: dict[str, Any]) -> None:
    assert api.call("POST", "/conversations", json=body).status_code == 400


def test_pagination_walk(api: Api, validate_against: Validate) -> None:
    user_id = api.user()["id"]
    created = [api.conversation(user_id, title=f"c{i:02d}")["id"] for i in range(25)]

    pages = []
    for number in (1, 2, 3):
        response = api.call("GET", "/conversations", params={"page": number, "pageSize": 10, "orderDirection": "ASC"})
        assert response.status_code == 200
        validate_against(response.json(), "GetConversationWithFeedbacksResponseDTO")
        pages.append(response.json())

    envelopes = [{k: v for k, v in p.items() if k != "data"} for p in pages]
    assert envelopes == [
        {
            "currentPage": 1,
            "pageSize": 10,
            "totalItems": 25,
            "totalPages": 3,
            "hasNextPage": True,
            "hasPreviousPage": False,
        },
        {
            "currentPage": 2,
            "pageSize": 10,
            "totalItems": 25,
            "totalPages": 3,
            "hasNextPage": True,
            "hasPreviousPage": True,
        },
        {
            "currentPage": 3,
            "pageSize": 10,
            "totalItems": 25,
            "totalPages": 3,
            "hasNextPage": False,
            "hasPreviousPage": True,
        },
    ]
    walked = [c["id"] for p in pages for c in p["data"]]
    assert [len(p["data"]) for p in pages] == [10, 10, 5]
    assert len(set(walked)) == 25
    assert walked == created  # ASC by createdAt
    newest_first = api.call("GET", "/conversations", params={"pageSize": 25}).json()["data"]
    assert [c["id"] for c in newest_first] == created[::-1]  # default: DESC
    beyond = api.call("GET", "/conversations", params={"page": 4, "pageSize": 10}).json()
    assert (beyond["data"], beyond["hasNextPage"]) == ([], False)
    assert api.call("GET", "/conversations").json()["pageSize"] == 10


def test_order_by_updated_at(api: Api) -> None:
    user_id = api.user()["id"]
    first, second = api.conversation(user_id)["id"], api.conversation(user_id)["id"]
    api.call("PUT", f"/conversations/{first}", json={"title": "touched"})

    params = {"orderBy": "updatedAt", "orderDirection": "DESC"}
    ids = [c["id"] for c in api.call("GET", "/conversations", params=params).json()["data"]]

    assert ids == [first, second]


def test_filters(api: Api) -> None:
    ada = api.user(firstName="Ada", email="ada@example.com")
    bob = api.user(firstName="Bob", email="bob@example.com")
    ada_conversation = api.conversation(ada["id"], title="Billing question")["id"]
    bob_conversation = api.conversation(bob["id"], title="Shipping")["id"]
    reply = api.call("POST", f"/conversations/{bob_conversation}/messages", json={"message": "Where?"}).json()
    feedback = {"conversationMessageId": reply["id"], "userId": bob["id"], "voteType": "up", "question": "Where?"}
    assert api.call("POST", "/conversation-message-feedbacks", json=feedback).status_code == 201

    def ids(**params: Any) -> list[str]:
        response = api.call("GET", "/conversations", params=params)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["data"]]

    assert ids(userId=ada["id"]) == [ada_conversation]
    assert ids(searchKeyword="BILLING") == [ada_conversation]
    assert ids(searchKeyword="bob@example") == [bob_conversation]
    assert ids(withFeedbacksOnly="true") == [bob_conversation]
    assert set(ids(withFeedbacksOnly="false")) == {ada_conversation, bob_conversation}
    assert ids(startDate="2999-01-01T00:00:00Z") == []
    assert set(ids(startDate="2000-01-01T00:00:00Z", endDate="2999-01-01T00:00:00.000Z")) == {
        ada_conversation,
        bob_conversation,
    }
    with_feedback = api.call("GET", f"/conversations/{bob_conversation}").json()
    assert [f["voteType"] for f in with_feedback["feedbacks"]] == ["up"]


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "abc"},
        {"page": "1.5"},
        {"pageSize": "101"},
        {"pageSize": "0"},
        {"orderBy": "title"},
        {"orderDirection": "up"},
        {"userId": "not-a-uuid"},
        {"startDate": "yesterday"},
        {"withFeedbacksOnly": "yes"},
    ],
)
def test_bad_list_query_is_400(api: Api, params: dict[str, str], validate_against: Validate) -> None:
    response = api.call("GET", "/conversations", params=params)

    assert response.status_code == 400
    assert [d["property"] for d in response.json()["details"]] == list(params)
    validate_against(response.json(), "BadRequestErrorDTO")


def test_get_and_update_conversation(raia_emulator: RaiaEmulator, api: Api, validate_against: Validate) -> None:
    conversation = api.conversation(title="Old")
    states = api.call("GET", "/conversations/states").json()

    body = {"title": "New", "context": "VIP", "status": "archived", "conversationStateId": states[1]["id"]}
    response = api.call("PUT", f"/conversations/{conversation['id']}", json=body)

    assert response.status_code == 200
    updated = response.json()
    validate_against(updated, "ConversationResponseDTO")
    assert (updated["title"], updated["conversationStateId"]) == ("New", states[1]["id"])
    assert updated["updatedAt"] >= conversation["updatedAt"]
    (stored,) = raia_emulator.conversations()
    assert (stored.status, stored.context) == ("archived", "VIP")
    fetched = api.call("GET", f"/conversations/{conversation['id']}").json()
    validate_against(fetched, "ConversationWithFeedbacksResponseDTO")
    assert fetched["feedbacks"] == []


@pytest.mark.parametrize(
    "body", [{"title": "x" * 256}, {"status": "closed"}, {"context": 5}, {"title": None}, {"context": "y" * 256_001}]
)
def test_bad_update_body_is_400(api: Api, body: dict[str, Any]) -> None:
    conversation_id = api.conversation()["id"]

    assert api.call("PUT", f"/conversations/{conversation_id}", json=body).status_code == 400


def test_mode(api: Api, validate_against: Validate) -> None:
    conversation_id = api.conversation()["id"]

    response = api.call("PUT", f"/conversations/{conversation_id}/mode", json={"mode": "manual"})

    assert response.status_code == 200
    validate_against(response.json(), "ConversationResponseDTO")
    assert response.json()["mode"] == "manual"
    assert api.call("PUT", f"/conversations/{conversation_id}/mode", json={"mode": "robot"}).status_code == 400
    assert api.call("PUT", f"/conversations/{conversation_id}/mode", json={}).status_code == 400


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("GET", "", None), ("PUT", "", {"title": "x"}), ("PUT", "/mode", {"mode": "ai"})],
)
def test_unknown_or_foreign_conversation_is_404(
    raia_emulator: RaiaEmulator, api: Api, method: str, suffix: str, body: Any
) -> None:
    other = raia_emulator.add_agent(key="conv-agent-b-00002", name="B")
    foreign = api.user(key=other.key)
    foreign_conversation = api.call(
        "POST", "/conversations", key=other.key, json={"conversationUserId": foreign["id"]}
    ).json()["id"]

    for conversation_id in (foreign_conversation, "00000000-0000-0000-0000-000000000000"):
        response = api.call(method, f"/conversations/{conversation_id}{suffix}", json=body)
        assert response.status_code == 404
        assert response.json() == NOT_FOUND


def test_delete_all_conversations_of_a_user(raia_emulator: RaiaEmulator, api: Api) -> None:
    ada, bob = api.user()["id"], api.user()["id"]
    for _ in range(2):
        api.conversation(ada)
    kept = api.conversation(bob)["id"]

    response = api.call("DELETE", "/conversations", json={"conversationUserId": ada})

    assert (response.status_code, response.content) == (204, b"")
    assert [c.id for c in raia_emulator.conversations()] == [kept]
    assert api.call("DELETE", "/conversations", json={"conversationUserId": "nobody"}).status_code == 404
    assert api.call("DELETE", "/conversations", json={}).status_code == 400


def test_states_are_an_array(api: Api, validate_against: Validate, raw_contract: dict[str, Any]) -> None:
    response = api.call("GET", "/conversations/states")

    assert response.status_code == 200
    states = response.json()
    assert [s["name"] for s in states] == ["New", "Resolved"]
    for state in states:
        validate_against(state, "ExternalApiGetConversationStateResponseDTO")
    schema = raw_contract["paths"]["/external/conversations/states"]["get"]["responses"]["200"]["content"]
    assert schema["application/json"]["schema"]["type"] == "array"
