"""Conversation users: create, search, read, delete, limits — and one agent never sees another's."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from raia_provider.testing.emulator.server import RaiaEmulator

if TYPE_CHECKING:
    from conftest import Api

Validate = Callable[[Any, str], None]
NOT_FOUND = {"status": 404, "name": "ENTITY_NOT_FOUND_ERROR", "message": "ENTITY_NOT_FOUND", "details": []}
USER_EXISTS = {"status": 400, "name": "BAD_REQUEST", "message": "User already exists.", "details": []}


@pytest.mark.parametrize(
    "identity",
    [{"phoneNumber": "+14155550100"}, {"email": "ada@example.com"}, {"fkId": "crm-42"}],
    ids=["phone", "email", "fkId"],
)
def test_create_user_with_each_variant(api: Api, identity: dict[str, str], validate_against: Validate) -> None:
    body = {"firstName": "Ada", "lastName": "Lovelace", "context": "Support", "customData": {"tier": "gold"}}

    response = api.call("POST", "/users", json={**body, **identity})

    assert response.status_code == 201
    user = response.json()
    validate_against(user, "ExternalApiUserResponseDTO")
    assert user["firstName"] == "Ada"
    assert user["context"] == "Support"
    assert user["metadata"] == {"customData": {"tier": "gold"}}
    assert user["isAnonymized"] is False
    assert {key: user[key] for key in identity} == identity
    assert "source" not in user  # absent optional fields are omitted, never null


def test_user_with_every_contact_is_one_user(api: Api) -> None:
    user = api.user(phoneNumber="+14155550100", email="ada@example.com", fkId="crm-1", fkUserId="u-1")

    assert (user["phoneNumber"], user["email"], user["fkId"], user["fkUserId"]) == (
        "+14155550100",
        "ada@example.com",
        "crm-1",
        "u-1",
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"phoneNumber": "+14155550100"}, {"phoneNumber": "+14155550100", "email": "other@example.com"}),
        ({"email": "ada@example.com"}, {"email": "ada@example.com"}),
        ({"fkId": "crm-42"}, {"fkId": "crm-42", "phoneNumber": "+14155550111"}),
    ],
)
def test_taken_contact_is_user_already_exists(
    api: Api, first: dict[str, str], second: dict[str, str], validate_against: Validate
) -> None:
    api.user(**first)

    response = api.call("POST", "/users", json={"firstName": "B", "lastName": "C", **second})

    assert response.status_code == 400
    assert response.json() == USER_EXISTS
    validate_against(response.json(), "BadRequestErrorDTO")


def test_contacts_are_per_agent(raia_emulator: RaiaEmulator, api: Api) -> None:
    other = raia_emulator.add_agent(key="users-agent-b-0001", name="B")
    api.user(email="shared@example.com")

    theirs = api.user(email="shared@example.com", key=other.key)

    assert theirs["email"] == "shared@example.com"
    assert len(raia_emulator.users()) == len(raia_emulator.users(other.id)) == 1


@pytest.mark.parametrize(
    ("body", "prop"),
    [
        ({"firstName": "A", "lastName": "B"}, "phoneNumber"),  # no identifier at all
        ({"firstName": "A", "lastName": "B", "fkId": "  "}, "phoneNumber"),  # blank identifier
        ({"lastName": "B", "fkId": "x"}, "firstName"),
        ({"firstName": "A", "lastName": "B", "phoneNumber": "4155550100"}, "phoneNumber"),
        ({"firstName": "A", "lastName": "B", "phoneNumber": "+0123456789"}, "phoneNumber"),
        ({"firstName": "A", "lastName": "B", "email": "not-an-email"}, "email"),
        ({"firstName": "A", "lastName": "B", "fkId": "x", "email": "a@b"}, "email"),
        ({"firstName": "A", "lastName": "B", "fkId": "x", "customData": "text"}, "customData"),
        ({"firstName": "A", "lastName": "B", "fkId": "x", "context": None}, "context"),
        ({"firstName": "A", "lastName": "B", "fkId": 5}, "fkId"),
    ],
)
def test_bad_user_body_is_400(api: Api, body: dict[str, Any], prop: str, validate_against: Validate) -> None:
    response = api.call("POST", "/users", json=body)

    assert response.status_code == 400, response.text
    assert response.json()["message"] == "INVALID_REQUEST"
    assert prop in [item["property"] for item in response.json()["details"]]
    validate_against(response.json(), "BadRequestErrorDTO")


def test_skip_flags_allow_any_phone_or_email(api: Api) -> None:
    user = api.user(
        phoneNumber="555-CALL-NOW", email="nobody", skipPhoneNumberValidation=True, skipEmailValidation=True
    )

    assert (user["phoneNumber"], user["email"]) == ("555-CALL-NOW", "nobody")


def test_search_by_each_contact(api: Api, validate_against: Validate) -> None:
    user = api.user(phoneNumber="+14155550100", email="ada@example.com", fkId="crm-7")
    conversation = api.conversation(user["id"])

    for query in ({"email": "ada@example.com"}, {"phoneNumber": "+14155550100"}, {"fkId": "crm-7"}):
        response = api.call("GET", "/users/search", params=query)
        assert response.status_code == 200, query
        body = response.json()
        validate_against(body, "SearchConversationUserByContactsResponseDTO")
        assert body == {"user": user, "conversationIds": [conversation["id"]]}


def test_search_matches_every_given_contact(api: Api) -> None:
    api.user(email="ada@example.com", fkId="crm-7")

    response = api.call("GET", "/users/search", params={"email": "ada@example.com", "fkId": "crm-8"})

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_search_needs_a_contact_and_finds_only_own_users(raia_emulator: RaiaEmulator, api: Api) -> None:
    other = raia_emulator.add_agent(key="users-agent-b-0002", name="B")
    api.user(email="mine@example.com")

    assert api.call("GET", "/users/search").status_code == 400
    assert api.call("GET", "/users/search", params={"email": ""}).status_code == 400
    foreign = api.call("GET", "/users/search", params={"email": "mine@example.com"}, key=other.key)
    assert foreign.status_code == 404
    assert foreign.json() == NOT_FOUND


def test_get_and_delete_user(raia_emulator: RaiaEmulator, api: Api, validate_against: Validate) -> None:
    user = api.user()
    conversation = api.conversation(user["id"])

    fetched = api.call("GET", f"/users/{user['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == user
    validate_against(fetched.json(), "ExternalApiUserResponseDTO")

    deleted = api.call("DELETE", f"/users/{user['id']}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert api.call("GET", f"/users/{user['id']}").status_code == 404
    assert api.call("GET", f"/conversations/{conversation['id']}").status_code == 404
    assert raia_emulator.conversations() == []
    assert api.call("DELETE", f"/users/{user['id']}").status_code == 404


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("DELETE", ""), ("GET", "/limits"), ("POST", "/limits"), ("PUT", "/limits"), ("DELETE", "/limits")],
)
def test_unknown_or_foreign_user_is_404(raia_emulator: RaiaEmulator, api: Api, method: str, suffix: str) -> None:
    other = raia_emulator.add_agent(key="users-agent-b-0003", name="B")
    foreign = api.user(key=other.key)
    limits = {"tokensAmountPerMonth": 1, "smsAmountPerMonth": 1, "emailsAmountPerMonth": 1, "secondsAmountPerMonth": 1}
    body = limits if method in {"POST", "PUT"} else None

    for user_id in (foreign["id"], "00000000-0000-0000-0000-000000000000"):
        response = api.call(method, f"/users/{user_id}{suffix}", json=body)
        assert response.status_code == 404
        assert response.json() == NOT_FOUND


def test_user_limits_life_cycle(api: Api, validate_against: Validate) -> None:
    user_id = api.user()["id"]
    limits = {
        "tokensAmountPerMonth": 5000,
        "smsAmountPerMonth": 10,
        "emailsAmountPerMonth": 20,
        "secondsAmountPerMonth": 600,
    }

    default = api.call("GET", f"/users/{user_id}/limits").json()
    validate_against(default, "ConversationUserLimitsResponseDTO")
    assert default["isOrganizationDefault"] is True
    assert default["conversationUserId"] == user_id
    assert api.call("PUT", f"/users/{user_id}/limits", json=limits).status_code == 404  # none of its own yet

    created = api.call("POST", f"/users/{user_id}/limits", json=limits)
    assert created.status_code == 201
    validate_against(created.json(), "ConversationUserLimitsResponseDTO")
    assert created.json() == {
        "id": created.json()["id"],
        "conversationUserId": user_id,
        "isOrganizationDefault": False,
        **limits,
    }
    again = api.call("POST", f"/users/{user_id}/limits", json=limits)
    assert again.status_code == 400
    assert again.json()["message"] == "Limits already exist."

    updated = api.call("PUT", f"/users/{user_id}/limits", json={**limits, "smsAmountPerMonth": 0})
    assert updated.status_code == 200
    assert updated.json()["smsAmountPerMonth"] == 0
    assert api.call("GET", f"/users/{user_id}/limits").json() == updated.json()

    deleted = api.call("DELETE", f"/users/{user_id}/limits")
    assert (deleted.status_code, deleted.content) == (200, b"")
    assert api.call("GET", f"/users/{user_id}/limits").json() == default
    assert api.call("DELETE", f"/users/{user_id}/limits").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"tokensAmountPerMonth": 1, "smsAmountPerMonth": 1, "emailsAmountPerMonth": 1},
        {"tokensAmountPerMonth": "1", "smsAmountPerMonth": 1, "emailsAmountPerMonth": 1, "secondsAmountPerMonth": 1},
        {"tokensAmountPerMonth": -1, "smsAmountPerMonth": 1, "emailsAmountPerMonth": 1, "secondsAmountPerMonth": 1},
        {"tokensAmountPerMonth": True, "smsAmountPerMonth": 1, "emailsAmountPerMonth": 1, "secondsAmountPerMonth": 1},
    ],
)
def test_bad_limits_body_is_400(api: Api, body: dict[str, Any], validate_against: Validate) -> None:
    user_id = api.user()["id"]

    response = api.call("POST", f"/users/{user_id}/limits", json=body)

    assert response.status_code == 400
    validate_against(response.json(), "BadRequestErrorDTO")
