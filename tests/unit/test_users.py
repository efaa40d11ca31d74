"""Conversation-user operations over HTTP: ``responses`` for the blocking half, ``tests.aiohttp_mock`` for async."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from raia_provider._core.retry import RetryPolicy
from raia_provider.exceptions import RaiaBadRequestError, RaiaInputError, RaiaNotFoundError
from raia_provider.hooks.raia import RaiaHook
from tests.aiohttp_mock import Reply, mock_raia
from tests.conftest import TEST_KEY, UNIT_BASE_URL
from tests.unit.payloads import CONVERSATION_USER, NOT_FOUND, USER_LIMITS

pytestmark = pytest.mark.usefixtures("unit_connection")

LIMITS_ARGS: dict[str, Any] = {
    "tokens_amount_per_month": 100000,
    "sms_amount_per_month": 20,
    "emails_amount_per_month": 10,
    "seconds_amount_per_month": 600,
}
LIMITS_BODY: dict[str, Any] = {
    "tokensAmountPerMonth": 100000,
    "smsAmountPerMonth": 20,
    "emailsAmountPerMonth": 10,
    "secondsAmountPerMonth": 600,
}


@pytest.fixture
def hook() -> RaiaHook:
    # One attempt: a request that matches no mock fails the test at once instead of being retried.
    return RaiaHook(retry_policy=RetryPolicy(max_attempts=1), sleep=lambda _: None)


@pytest.fixture
def mocked() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def url(path: str) -> str:
    return UNIT_BASE_URL + path


def sent(mocked: Any) -> tuple[str, str, dict[str, str], Any]:
    """The one request sent: method, URL without query, query parameters and JSON body (``None`` if none)."""
    (call,) = mocked.calls
    request = call.request
    assert request.headers["Agent-Secret-Key"] == TEST_KEY
    parts = urlsplit(request.url)
    body = json.loads(request.body) if request.body else None
    return request.method, f"{parts.scheme}://{parts.netloc}{parts.path}", dict(parse_qsl(parts.query)), body


# -- every operation: what is sent and what is read -----------------------------------------------------


@pytest.mark.parametrize(
    ("call", "body"),
    [
        (
            lambda h: h.create_user_with_phone_number(
                first_name="Jane", last_name="Doe", phone_number="+15551234567", source="crm"
            ),
            {"firstName": "Jane", "lastName": "Doe", "phoneNumber": "+15551234567", "source": "crm"},
        ),
        (
            lambda h: h.create_user_with_email(
                first_name="Jane",
                last_name="Doe",
                email="jane@example.com",
                fk_user_id="crm-user-7",
                custom_data={"tier": "gold"},
            ),
            {
                "firstName": "Jane",
                "lastName": "Doe",
                "email": "jane@example.com",
                "fkUserId": "crm-user-7",
                "customData": {"tier": "gold"},
            },
        ),
        (
            lambda h: h.create_user_with_fk_id(
                first_name="Jane", last_name="Doe", fk_id="crm-42", phone_number="+4930123456", context="Support"
            ),
            {
                "firstName": "Jane",
                "lastName": "Doe",
                "fkId": "crm-42",
                "phoneNumber": "+4930123456",
                "context": "Support",
            },
        ),
    ],
    ids=["phone", "email", "fk_id"],
)
def test_create_user_variants_send_their_body_and_read_the_201(
    hook: RaiaHook, mocked: Any, call: Any, body: dict[str, Any]
) -> None:
    mocked.post(url("/users"), status=201, json=CONVERSATION_USER)
    user = call(hook)
    assert sent(mocked) == ("POST", url("/users"), {}, body)
    assert (user.id, user.first_name, user.phone_number, user.fk_user_id) == ("u-1", "Jane", "+15551234567", None)
    assert user.metadata == {"customData": {"tier": "gold"}}
    assert user.is_anonymized is False


def test_skip_flags_let_unchecked_contacts_through_and_are_sent(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(url("/users"), status=201, json=CONVERSATION_USER)
    hook.create_user_with_phone_number(
        first_name="Jane",
        last_name="Doe",
        phone_number="0301234567",
        email="jane at example",
        skip_phone_number_validation=True,
        skip_email_validation=True,
    )
    assert sent(mocked)[3] == {
        "firstName": "Jane",
        "lastName": "Doe",
        "phoneNumber": "0301234567",
        "email": "jane at example",
        "skipPhoneNumberValidation": True,
        "skipEmailValidation": True,
    }


@pytest.mark.parametrize(
    ("arguments", "query"),
    [
        ({"email": "jane+1@example.com"}, {"email": "jane+1@example.com"}),
        ({"phone_number": "+15551234567"}, {"phoneNumber": "+15551234567"}),
        ({"fk_id": "crm 42"}, {"fkId": "crm 42"}),
    ],
)
def test_find_user_searches_by_the_one_contact_given(
    hook: RaiaHook, mocked: Any, arguments: dict[str, str], query: dict[str, str]
) -> None:
    mocked.get(url("/users/search"), json={"user": CONVERSATION_USER, "conversationIds": ["c-1", "c-2"]})
    found = hook.find_user(**arguments)
    assert sent(mocked) == ("GET", url("/users/search"), query, None)
    assert (found.user.id, found.conversation_ids) == ("u-1", ["c-1", "c-2"])


def test_get_user_percent_encodes_the_id(hook: RaiaHook, mocked: Any) -> None:
    mocked.get(url("/users/u%2F1%20x"), json=CONVERSATION_USER)
    assert hook.get_user(user_id="u/1 x").email == "jane@example.com"
    assert sent(mocked) == ("GET", url("/users/u%2F1%20x"), {}, None)


def test_delete_user_reads_204_as_none(hook: RaiaHook, mocked: Any) -> None:
    mocked.delete(url("/users/u-1"), status=204)
    assert hook.delete_user(user_id="u-1") is None
    assert sent(mocked) == ("DELETE", url("/users/u-1"), {}, None)


@pytest.mark.parametrize(
    ("call", "method", "status", "body"),
    [
        (lambda h: h.get_user_limits(user_id="u-1"), "GET", 200, None),
        (lambda h: h.create_user_limits(user_id="u-1", **LIMITS_ARGS), "POST", 201, LIMITS_BODY),
        (lambda h: h.update_user_limits(user_id="u-1", **LIMITS_ARGS), "PUT", 200, LIMITS_BODY),
    ],
    ids=["get", "create", "update"],
)
def test_user_limits(hook: RaiaHook, mocked: Any, call: Any, method: str, status: int, body: Any) -> None:
    mocked.add(method, url("/users/u-1/limits"), status=status, json=USER_LIMITS)
    limits = call(hook)
    assert sent(mocked) == (method, url("/users/u-1/limits"), {}, body)
    assert (limits.conversation_user_id, limits.is_organization_default) == ("u-1", False)
    assert (limits.tokens_amount_per_month, limits.seconds_amount_per_month) == (100000, 600)


@pytest.mark.parametrize("answer", [b"", b"{}"])
def test_delete_user_limits_reads_an_undocumented_body_as_none(hook: RaiaHook, mocked: Any, answer: bytes) -> None:
    mocked.delete(url("/users/u-1/limits"), body=answer, content_type="application/json")
    assert hook.delete_user_limits(user_id="u-1") is None
    assert sent(mocked) == ("DELETE", url("/users/u-1/limits"), {}, None)


# -- errors (the mapping is shared; these check that raia's words reach the caller) ---------------------


def test_existing_user_is_a_bad_request_with_raias_message(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(
        url("/users"),
        status=400,
        json={"status": 400, "name": "BAD_REQUEST", "message": "User already exists.", "details": []},
    )
    with pytest.raises(RaiaBadRequestError, match="User already exists") as info:
        hook.create_user_with_email(first_name="Jane", last_name="Doe", email="jane@example.com")
    assert info.value.status_code == 400


def test_unknown_contact_is_not_found(hook: RaiaHook, mocked: Any) -> None:
    mocked.get(url("/users/search"), status=404, json=NOT_FOUND)
    with pytest.raises(RaiaNotFoundError):
        hook.find_user(email="nobody@example.com")


# -- bad input fails before any request -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            lambda h: h.create_user_with_phone_number(first_name="J", last_name="D", phone_number="555 123 4567"),
            r"argument 'phone_number' must be an E\.164 phone number like \+15551234567",
        ),
        (
            lambda h: h.create_user_with_email(first_name="J", last_name="D", email="jane@"),
            "argument 'email' must be an email address",
        ),
        (
            lambda h: h.create_user_with_email(first_name="J", last_name="D", email="j@x.io", phone_number="+1"),
            "argument 'phone_number' must be an E.164",
        ),
        (
            lambda h: h.create_user_with_fk_id(first_name="J", last_name="D", fk_id="  "),
            "argument 'fk_id'",
        ),
        (
            lambda h: h.create_user_with_fk_id(first_name=" ", last_name="D", fk_id="1"),
            "argument 'first_name' must contain text",
        ),
        (lambda h: h.create_user_with_email(first_name="J", email="j@x.io"), "argument 'last_name' is required"),
        (
            lambda h: h.find_user(),
            r"exactly one of 'email', 'phone_number' or 'fk_id' to search by \(none was given\)",
        ),
        (lambda h: h.find_user(email="j@x.io", fk_id="1"), "'email', 'phone_number' or 'fk_id'.*got email and fk_id"),
        (lambda h: h.find_user(email=" "), "argument 'email' must contain text"),
        (lambda h: h.get_user(user_id=""), "argument 'user_id'"),
        (
            lambda h: h.create_user_limits(user_id="u", **{**LIMITS_ARGS, "sms_amount_per_month": -1}),
            "argument 'sms_amount_per_month' Input should be greater than or equal to 0",
        ),
        (
            lambda h: h.update_user_limits(user_id="u", tokens_amount_per_month=1),
            "argument 'sms_amount_per_month' is required",
        ),
        (lambda h: h.delete_user("u-1"), "keyword arguments only"),
    ],
)
def test_bad_arguments_raise_before_any_request(hook: RaiaHook, mocked: Any, call: Any, expected: str) -> None:
    with pytest.raises((RaiaInputError, TypeError), match=expected):
        call(hook)
    assert len(mocked.calls) == 0


# -- async twins ------------------------------------------------------------------------------------------


@pytest.fixture
async def ahook() -> Any:
    hook = RaiaHook(retry_policy=RetryPolicy(max_attempts=1), async_sleep=_no_sleep)
    yield hook
    await hook.aclose()


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
def router() -> Any:
    with mock_raia(UNIT_BASE_URL, assert_all_called=True) as mock:
        yield mock


async def test_async_create_find_and_delete(ahook: RaiaHook, router: Any) -> None:
    create = router.post("/users").respond(201, json=CONVERSATION_USER)
    search = router.get("/users/search", params={"phoneNumber": "+15551234567"}).respond(
        200, json={"user": CONVERSATION_USER, "conversationIds": []}
    )
    delete = router.delete("/users/u-1").respond(204)

    user = await ahook.acreate_user_with_phone_number(first_name="Jane", last_name="Doe", phone_number="+15551234567")
    found = await ahook.afind_user(phone_number="+15551234567")
    assert await ahook.adelete_user(user_id=user.id) is None

    assert found.user.id == "u-1"
    assert json.loads(create.calls[0].request.content) == {
        "firstName": "Jane",
        "lastName": "Doe",
        "phoneNumber": "+15551234567",
    }
    assert create.calls[0].request.headers["Agent-Secret-Key"] == TEST_KEY
    assert (search.call_count, delete.call_count) == (1, 1)


async def test_async_bad_input_raises_before_any_request(ahook: RaiaHook, router: Any) -> None:
    with pytest.raises(RaiaInputError, match="argument 'email'"):
        await ahook.acreate_user_with_email(first_name="J", last_name="D", email="not-an-address")
    assert len(router.calls) == 0


async def test_async_user_limits(ahook: RaiaHook, router: Any) -> None:
    route = router.put("/users/u-1/limits").mock(return_value=Reply(200, json=USER_LIMITS))
    limits = await ahook.aupdate_user_limits(user_id="u-1", **LIMITS_ARGS)
    assert limits.id == "ul-1"
    assert json.loads(route.calls[0].request.content) == LIMITS_BODY
