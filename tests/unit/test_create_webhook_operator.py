"""``RaiaCreateWebhookOperator`` at the HTTP layer: find-or-create, validation, and headers kept secret."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import pytest
import responses
from responses import matchers

from raia_provider.exceptions import RaiaAuthError, RaiaBadRequestError, RaiaInputError
from raia_provider.operators.webhook import TRIGGER_CONDITIONS, RaiaCreateWebhookOperator
from tests.conftest import TEST_KEY, UNIT_BASE_URL
from tests.unit.payloads import AGENT_PROFILE, FORBIDDEN

if TYPE_CHECKING:
    from airflow.sdk import Context

pytestmark = pytest.mark.usefixtures("unit_connection")

PROFILE_URL = UNIT_BASE_URL + "/agents/by-api-key"
CREATE_URL = UNIT_BASE_URL + "/agents/webhooks"
#: A recognisable header value: tests search results, logs and errors for it.
SECRET = "Bearer whsec-SECRET-9d2e71"
HEADERS = {"Authorization": SECRET}
HOOK_URL = "https://crm.example.com/raia"
CONTEXT = cast("Context", {})


def profile(*webhooks: dict[str, Any], skill_status: str = "active", with_skill: bool = True) -> dict[str, Any]:
    """The spec's agent profile whose ``WEBHOOK`` skill lists ``webhooks`` (or which has no such skill)."""
    body = copy.deepcopy(AGENT_PROFILE)
    skills = [s for s in body["skills"] if s["systemName"] != "WEBHOOK"]
    if with_skill:
        skills.append({"systemName": "WEBHOOK", "status": skill_status, "name": "Webhooks", "webhooks": list(webhooks)})
    body["skills"] = skills
    return body


def listed(url: str = HOOK_URL, trigger: str = "end_dialog", status: str = "active", **extra: Any) -> dict[str, Any]:
    """A webhook as the profile lists it (``WebhookResponseDTO``: no id)."""
    return {"status": status, "title": "CRM", "description": "sync", "url": url, "triggerCondition": trigger, **extra}


def created(url: str = HOOK_URL, trigger: str = "end_dialog") -> dict[str, Any]:
    """raia's 201 body for a new webhook (``CreateAgentWebhookResponseDTO``)."""
    return {
        "id": "w-1",
        "agentId": AGENT_PROFILE["id"],
        "title": "CRM sync",
        "description": "push finished conversations",
        "url": url,
        "triggerCondition": trigger,
        "headers": HEADERS,
        "status": "active",
        "createdAt": "2026-11-01T10:00:00.000Z",
        "updatedAt": "2026-11-01T10:00:00.000Z",
    }


def operator(**overrides: Any) -> RaiaCreateWebhookOperator:
    arguments: dict[str, Any] = {
        "task_id": "register_webhook",
        "title": "CRM sync",
        "description": "push finished conversations",
        "url": HOOK_URL,
        "trigger_condition": "end_dialog",
        "headers": HEADERS,
        **overrides,
    }
    return RaiaCreateWebhookOperator(**arguments)


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def methods(mocked: responses.RequestsMock) -> list[tuple[str, str]]:
    return [(str(call.request.method), str(call.request.url)) for call in mocked.calls]


# -- find or create -----------------------------------------------------------------------------------


def test_creates_the_webhook_when_the_profile_lists_none(mocked: responses.RequestsMock) -> None:
    mocked.get(PROFILE_URL, json=profile())
    mocked.post(
        CREATE_URL,
        status=201,
        json=created(),
        match=[
            matchers.json_params_matcher(
                {
                    "title": "CRM sync",
                    "description": "push finished conversations",
                    "url": HOOK_URL,
                    "triggerCondition": "end_dialog",
                    "headers": {"Authorization": SECRET},
                },
                strict_match=True,
            ),
            matchers.header_matcher({"Agent-Secret-Key": TEST_KEY}),
        ],
    )
    result = operator().execute(CONTEXT)
    assert result == {
        "created": True,
        "id": "w-1",
        "url": HOOK_URL,
        "trigger_condition": "end_dialog",
        "title": "CRM sync",
        "status": "active",
    }
    assert methods(mocked) == [("GET", PROFILE_URL), ("POST", CREATE_URL)]
    json.dumps(result)  # plain JSON for XCom


def test_without_headers_the_body_has_no_headers_key(mocked: responses.RequestsMock) -> None:
    mocked.get(PROFILE_URL, json=profile())
    mocked.post(
        CREATE_URL,
        status=201,
        json={**created(), "headers": None},
        match=[
            matchers.json_params_matcher(
                {
                    "title": "CRM sync",
                    "description": "push finished conversations",
                    "url": HOOK_URL,
                    "triggerCondition": "manual",
                },
                strict_match=True,
            )
        ],
    )
    assert operator(headers=None, trigger_condition="manual").execute(CONTEXT)["created"] is True


def test_skips_when_the_same_url_and_trigger_exist(mocked: responses.RequestsMock, logs: Callable[[], str]) -> None:
    mocked.get(PROFILE_URL, json=profile(listed(url="https://other.example/x"), listed()))
    post = mocked.post(CREATE_URL, status=201, json=created())
    result = operator().execute(CONTEXT)
    assert result == {
        "created": False,
        "id": None,  # the profile lists webhooks without an id
        "url": HOOK_URL,
        "trigger_condition": "end_dialog",
        "title": "CRM",  # the stored title, not the argument
        "status": "active",
    }
    assert post.call_count == 0
    assert methods(mocked) == [("GET", PROFILE_URL)]
    assert "already has a webhook for https://crm.example.com/raia on end_dialog" in logs()


def test_creates_when_the_same_url_has_another_trigger(mocked: responses.RequestsMock) -> None:
    mocked.get(PROFILE_URL, json=profile(listed(trigger="each_message"), listed(trigger="manual")))
    post = mocked.post(CREATE_URL, status=201, json=created())
    result = operator().execute(CONTEXT)
    assert (result["created"], result["id"]) == (True, "w-1")
    assert post.call_count == 1


@pytest.mark.parametrize(
    "other_url",
    [
        "https://CRM.example.com/raia",  # host case: not normalised
        "https://crm.example.com/raia/",  # trailing slash: may be another route
        "https://crm.example.com:443/raia",  # explicit default port
        "https://crm.example.com/raia?x=1",
    ],
)
def test_urls_are_compared_exactly(mocked: responses.RequestsMock, other_url: str) -> None:
    mocked.get(PROFILE_URL, json=profile(listed(url=other_url)))
    post = mocked.post(CREATE_URL, status=201, json=created())
    assert operator().execute(CONTEXT)["created"] is True
    assert post.call_count == 1


def test_surrounding_whitespace_is_ignored_and_not_sent(mocked: responses.RequestsMock) -> None:
    mocked.get(PROFILE_URL, json=profile(listed(url=f" {HOOK_URL}\n", trigger="manual")))
    post = mocked.post(
        CREATE_URL,
        status=201,
        json=created(),
        match=[matchers.json_params_matcher({"url": HOOK_URL}, strict_match=False)],
    )
    assert operator(url=f"  {HOOK_URL} ", trigger_condition="manual").execute(CONTEXT)["created"] is False
    assert operator(url=f"\t{HOOK_URL} ").execute(CONTEXT)["created"] is True  # sent stripped (matcher)
    assert post.call_count == 1


def test_no_webhook_skill_means_none_exist(mocked: responses.RequestsMock) -> None:
    mocked.get(PROFILE_URL, json=profile(with_skill=False))
    post = mocked.post(CREATE_URL, status=201, json=created())
    assert operator().execute(CONTEXT)["created"] is True
    assert post.call_count == 1


def test_an_inactive_match_is_returned_not_duplicated(mocked: responses.RequestsMock, logs: Callable[[], str]) -> None:
    mocked.get(PROFILE_URL, json=profile(listed(status="inactive")))
    post = mocked.post(CREATE_URL, status=201, json=created())
    result = operator().execute(CONTEXT)
    assert (result["created"], result["status"]) == (False, "inactive")
    assert post.call_count == 0
    assert "is inactive" in logs()


def test_an_active_match_is_preferred(mocked: responses.RequestsMock) -> None:
    mocked.get(PROFILE_URL, json=profile(listed(status="inactive"), listed(status="active", title="CRM 2")))
    result = operator().execute(CONTEXT)
    assert (result["status"], result["title"]) == ("active", "CRM 2")


def test_an_inactive_skill_is_reported(mocked: responses.RequestsMock, logs: Callable[[], str]) -> None:
    mocked.get(PROFILE_URL, json=profile(listed(), skill_status="inactive"))
    operator().execute(CONTEXT)
    assert "WEBHOOK skill is inactive" in logs()


# -- transient failures: the create is never re-sent blindly -----------------------------------------

BAD_GATEWAY = {"status": 502, "message": "Bad Gateway"}


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr("raia_provider._core.clock.sleep", slept.append)
    return slept


def test_a_lost_create_answer_is_found_not_resent(mocked: responses.RequestsMock, waits: list[float]) -> None:
    mocked.get(PROFILE_URL, json=profile())
    mocked.get(PROFILE_URL, json=profile(listed(title="CRM sync")))  # raia did register it
    post = mocked.post(CREATE_URL, status=502, json=BAD_GATEWAY)
    result = operator().execute(CONTEXT)
    assert result == {
        "created": True,
        "id": None,
        "url": HOOK_URL,
        "trigger_condition": "end_dialog",
        "title": "CRM sync",
        "status": "active",
    }
    assert post.call_count == 1
    assert methods(mocked) == [("GET", PROFILE_URL), ("POST", CREATE_URL), ("GET", PROFILE_URL)]
    assert len(waits) == 1


def test_a_create_that_did_not_land_is_sent_again(mocked: responses.RequestsMock, waits: list[float]) -> None:
    mocked.get(PROFILE_URL, json=profile())
    mocked.post(CREATE_URL, status=503, json={"status": 503, "message": "Service Unavailable"})
    mocked.post(CREATE_URL, status=201, json=created())
    result = operator().execute(CONTEXT)
    assert (result["created"], result["id"]) == (True, "w-1")
    assert [m for m, _ in methods(mocked)] == ["GET", "POST", "GET", "POST"]


def test_a_profile_read_failure_is_retried(mocked: responses.RequestsMock, waits: list[float]) -> None:
    mocked.get(PROFILE_URL, status=500, json={"status": 500, "message": "Internal Server Error"})
    mocked.get(PROFILE_URL, json=profile(listed()))
    assert operator().execute(CONTEXT)["created"] is False
    assert len(waits) == 1


def test_a_refused_create_is_not_retried(mocked: responses.RequestsMock, waits: list[float]) -> None:
    mocked.get(PROFILE_URL, json=profile())
    post = mocked.post(CREATE_URL, status=403, json=FORBIDDEN)
    with pytest.raises(RaiaAuthError):
        operator().execute(CONTEXT)
    assert post.call_count == 1
    assert waits == []


# -- validation before any request --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "argument", "expected"),
    [
        ({"trigger_condition": "onMessageEnd"}, "trigger_condition", "'each_message', 'end_dialog'"),
        ({"trigger_condition": "EACH_MESSAGE"}, "trigger_condition", "or 'manual'"),
        ({"url": "http://crm.example.com/raia"}, "url", "must be an https:// URL"),
        ({"url": "https://10.0.0.5/hook"}, "url", "is a private"),
        ({"url": "https://localhost/hook"}, "url", "is a local name"),
        ({"url": "https://169.254.169.254/latest/meta-data"}, "url", "link-local"),
        ({"url": "   "}, "url", "must be an https:// URL"),
        ({"title": "  "}, "title", "must contain text"),
        ({"description": ""}, "description", "must contain text"),
        ({"title": None}, "title", "should be a valid string"),
    ],
)
def test_bad_templated_arguments_fail_before_any_request(
    mocked: responses.RequestsMock, overrides: dict[str, Any], argument: str, expected: str
) -> None:
    task = operator(**overrides)  # templated: not checked until rendered
    with pytest.raises(RaiaInputError, match=f"argument '{argument}'") as info:
        task.execute(CONTEXT)
    message = str(info.value)
    assert expected in message
    assert "RaiaCreateWebhookOperator (task 'register_webhook')" in message
    assert SECRET not in message
    assert len(mocked.calls) == 0  # not even the profile GET


def test_an_unknown_trigger_lists_every_allowed_value(mocked: responses.RequestsMock) -> None:
    with pytest.raises(RaiaInputError) as info:
        operator(trigger_condition="onThreadEnd").execute(CONTEXT)
    assert all(f"'{value}'" in str(info.value) for value in TRIGGER_CONDITIONS)
    assert len(TRIGGER_CONDITIONS) == 6


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([("Authorization", SECRET)], "must be a dict of header name to string value"),
        (SECRET, "got a str"),
        ({"Authorization": 42}, "the value of header 'Authorization' must be a string, got a value of type int"),
        ({"Authorization": None}, "got a value of type NoneType"),
        ({7: SECRET}, "has a key of type int"),
        ({"X Token": SECRET}, "has the key 'X Token', which is not an HTTP header name"),
        ({"": SECRET}, "has the key '', which is not an HTTP header name"),
        ({"Authorization": SECRET + "\r\nX-Evil: 1"}, "contains a line break"),
    ],
)
def test_bad_headers_fail_when_the_operator_is_built(
    mocked: responses.RequestsMock, headers: Any, expected: str
) -> None:
    with pytest.raises(RaiaInputError, match="argument 'headers'") as info:
        operator(headers=headers)
    assert expected in str(info.value)
    assert SECRET not in str(info.value)
    assert len(mocked.calls) == 0


def test_every_error_in_one_message(mocked: responses.RequestsMock) -> None:
    with pytest.raises(RaiaInputError) as info:
        operator(title=" ", url="http://x.example", trigger_condition="never").execute(CONTEXT)
    message = str(info.value)
    assert all(f"argument '{name}'" in message for name in ("title", "url", "trigger_condition"))


# -- templating and construction ----------------------------------------------------------------------


def test_templated_fields_and_headers_left_out() -> None:
    assert set(RaiaCreateWebhookOperator.template_fields) == {"title", "description", "url", "trigger_condition"}
    assert "headers" not in RaiaCreateWebhookOperator.template_fields
    doc = RaiaCreateWebhookOperator.__doc__ or ""
    for name in ("title", "description", "url", "trigger_condition", "headers", "raia_conn_id"):
        assert f":param {name}:" in doc
    assert doc.count("(templated)") == 4


def test_arguments_are_checked_after_rendering(mocked: responses.RequestsMock) -> None:
    mocked.get(PROFILE_URL, json=profile(listed(url="https://crm.example.com/prod/raia", trigger="manual")))
    task = operator(url="{{ params.base }}/{{ params.env }}/raia", trigger_condition="{{ params.trigger }}")
    task.render_template_fields(
        cast("Context", {"params": {"base": "https://crm.example.com", "env": "prod", "trigger": "manual"}})
    )
    assert task.execute(CONTEXT)["created"] is False

    bad = operator(url="{{ params.base }}/raia")
    bad.render_template_fields(cast("Context", {"params": {"base": "http://crm.example.com"}}))
    with pytest.raises(RaiaInputError, match="argument 'url' must be an https:// URL"):
        bad.execute(CONTEXT)
    assert len(mocked.calls) == 1  # only the first task's profile read


def test_construction_does_no_io(mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_RAIA_DEFAULT")  # a DAG file is parsed without the connection
    task = operator(raia_conn_id="raia_default", url="{{ var.value.webhook_url }}")
    assert len(mocked.calls) == 0
    assert "hook" not in task.__dict__


def test_headers_are_not_serialized_with_the_dag() -> None:
    from airflow.serialization import serialized_objects

    names = ("OperatorSerialization", "SerializedBaseOperator")  # Airflow 3.3+, then 3.1
    serializer: Any = next(getattr(serialized_objects, n) for n in names if hasattr(serialized_objects, n))
    serialized = json.dumps(serializer.serialize_operator(operator()), default=str)
    assert HOOK_URL in serialized  # a template field is stored (and shown rendered) ...
    assert SECRET not in serialized  # ... headers are not
    assert "Authorization" not in serialized


# -- headers never leave the task ---------------------------------------------------------------------


def test_headers_are_in_no_result_or_log_when_created(mocked: responses.RequestsMock, logs: Callable[[], str]) -> None:
    mocked.get(PROFILE_URL, json=profile())
    mocked.post(CREATE_URL, status=201, json=created())  # raia echoes the headers back
    result = operator().execute(CONTEXT)
    assert SECRET not in json.dumps(result)
    assert "headers" not in result
    text = logs()
    assert "Created raia webhook w-1" in text
    assert SECRET not in text
    assert TEST_KEY not in text


def test_headers_are_in_no_result_or_log_when_found(mocked: responses.RequestsMock, logs: Callable[[], str]) -> None:
    old = "Bearer whsec-OLD-TOKEN-0001"
    mocked.get(PROFILE_URL, json=profile(listed(headers={"Authorization": old})))
    result = operator().execute(CONTEXT)
    assert result["created"] is False
    assert SECRET not in json.dumps(result)
    assert old not in json.dumps(result)
    text = logs()
    assert "headers differ from the 'headers' argument" in text
    assert SECRET not in text
    assert old not in text


def test_headers_are_not_in_a_raia_error(mocked: responses.RequestsMock, logs: Callable[[], str]) -> None:
    mocked.get(PROFILE_URL, json=profile())
    mocked.post(
        CREATE_URL,
        status=400,
        json={
            "status": 400,
            "name": "BAD_REQUEST",
            "message": "Invalid webhook URL. The URL must use HTTPS and resolve only to public IP addresses.",
            "details": [],
        },
    )
    with pytest.raises(RaiaBadRequestError) as info:
        operator().execute(CONTEXT)
    assert SECRET not in str(info.value)
    assert SECRET not in logs()
