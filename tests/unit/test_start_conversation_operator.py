"""``RaiaStartConversationOperator`` at the HTTP layer: bodies per channel, validation before any request."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import pytest
import responses
from airflow.sdk import DAG
from responses import matchers

from raia_provider.exceptions import RaiaBadRequestError, RaiaInputError
from raia_provider.operations.conversations import (
    StartEmailConversation,
    StartSmsConversation,
    StartVoiceConversation,
)
from raia_provider.operators.conversation import RaiaStartConversationOperator
from tests.conftest import TEST_KEY, UNIT_BASE_URL

if TYPE_CHECKING:
    from airflow.sdk import Context

pytestmark = pytest.mark.usefixtures("unit_connection")

START_URL = UNIT_BASE_URL + "/conversations/start"
STARTED = {"conversationId": "c-123"}
CONTEXT = cast("Context", {})

#: The arguments every channel takes, and what they become on the wire.
COMMON: dict[str, Any] = {
    "first_name": "Jane",
    "last_name": "Doe",
    "user_context": "Support",
    "conversation_context": "Order A-1 is late",
    "source": "crm",
    "fk_id": "crm-42",
    "fk_user_id": "crm-user-7",
    "custom_data": {"order": "A-1", "items": [1, 2], "vip": True},
    "conversation_state_id": "state-1",
    "author_id": "platform-user-3",
    "skip_phone_number_validation": False,
    "skip_email_validation": False,
}
COMMON_WIRE: dict[str, Any] = {
    "firstName": "Jane",
    "lastName": "Doe",
    "context": "Support",
    "conversationContext": "Order A-1 is late",
    "source": "crm",
    "fkId": "crm-42",
    "fkUserId": "crm-user-7",
    "customData": {"order": "A-1", "items": [1, 2], "vip": True},
    "conversationStateId": "state-1",
    "authorId": "platform-user-3",
    "skipPhoneNumberValidation": False,
    "skipEmailValidation": False,
}

#: Per channel: every argument it takes, and the exact body raia must receive.
EVERY_FIELD: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "email": (
        {
            **COMMON,
            "user_email": "jane@example.com",
            "email_subject": "Your order",
            "email_introduction": "Hi Jane, about your order...",
            "include_signature_in_email": True,
            "phone_number": "+15551234567",
            "reset_conversation": False,
        },
        {
            **COMMON_WIRE,
            "channel": "email",
            "email": "jane@example.com",
            "emailSubject": "Your order",
            "emailIntroduction": "Hi Jane, about your order...",
            "includeSignatureInEmail": True,
            "phoneNumber": "+15551234567",
            "resetConversation": False,
        },
    ),
    "sms": (
        {
            **COMMON,
            "phone_number": "+15551234567",
            "sms_introduction": "Hi Jane!",
            "include_signature_in_sms": False,
            "user_email": "jane@example.com",
            "reset_conversation": True,
        },
        {
            **COMMON_WIRE,
            "channel": "sms",
            "phoneNumber": "+15551234567",
            "smsIntroduction": "Hi Jane!",
            "includeSignatureInSms": False,
            "email": "jane@example.com",
            "resetConversation": True,
        },
    ),
    "voice": (
        {**COMMON, "phone_number": "+4930123456", "first_message": "Hello Jane", "user_email": "jane@example.com"},
        {
            **COMMON_WIRE,
            "channel": "voice",
            "phoneNumber": "+4930123456",
            "firstMessage": "Hello Jane",
            "email": "jane@example.com",
        },
    ),
}

#: The least each channel needs.
MINIMAL: dict[str, dict[str, Any]] = {
    "email": {
        "user_email": "jane@example.com",
        "email_subject": "Your order",
        "email_introduction": "Hi Jane",
    },
    "sms": {"phone_number": "+15551234567", "sms_introduction": "Hi Jane!"},
    "voice": {"phone_number": "+15551234567", "first_message": "Hello Jane"},
}


def operator(channel: str = "sms", **overrides: Any) -> RaiaStartConversationOperator:
    arguments: dict[str, Any] = {
        "task_id": "start_conversation",
        "channel": channel,
        "first_name": "Jane",
        "last_name": "Doe",
        **MINIMAL[channel],
        **overrides,
    }
    return RaiaStartConversationOperator(**arguments)


def run(op: RaiaStartConversationOperator, context: dict[str, Any] | None = None) -> str:
    """What the task runner does: render the templated fields, then execute."""
    ctx = cast("Context", context or {})
    op.render_template_fields(ctx)
    return op.execute(ctx)


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    """Only what a test registers answers; anything else fails (and is counted in ``calls``)."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def sent_body(mocked: responses.RequestsMock, index: int = 0) -> Any:
    request = mocked.calls[index].request
    assert request.headers["Agent-Secret-Key"] == TEST_KEY
    assert request.headers["Content-Type"] == "application/json"
    assert request.body is not None
    return json.loads(request.body)


# -- what is sent ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["email", "sms", "voice"])
def test_every_field_of_the_channel_is_sent_camel_cased(mocked: responses.RequestsMock, channel: str) -> None:
    arguments, wire = EVERY_FIELD[channel]
    mocked.post(START_URL, status=201, json=STARTED, match=[matchers.json_params_matcher(wire, strict_match=True)])
    op = RaiaStartConversationOperator(task_id="start", channel=channel, **arguments)  # type: ignore[arg-type]
    conversation_id = run(op)
    assert conversation_id == "c-123"
    assert type(conversation_id) is str  # plain string for XCom
    assert len(mocked.calls) == 1
    assert sent_body(mocked) == wire


@pytest.mark.parametrize(
    ("channel", "wire"),
    [
        (
            "email",
            {
                "channel": "email",
                "firstName": "Jane",
                "lastName": "Doe",
                "email": "jane@example.com",
                "emailSubject": "Your order",
                "emailIntroduction": "Hi Jane",
            },
        ),
        (
            "sms",
            {
                "channel": "sms",
                "firstName": "Jane",
                "lastName": "Doe",
                "phoneNumber": "+15551234567",
                "smsIntroduction": "Hi Jane!",
            },
        ),
        (
            "voice",
            {
                "channel": "voice",
                "firstName": "Jane",
                "lastName": "Doe",
                "phoneNumber": "+15551234567",
                "firstMessage": "Hello Jane",
            },
        ),
    ],
)
def test_arguments_left_out_are_not_sent(mocked: responses.RequestsMock, channel: str, wire: dict[str, Any]) -> None:
    mocked.post(START_URL, status=201, json=STARTED)
    assert operator(channel).execute(CONTEXT) == "c-123"
    assert sent_body(mocked) == wire


def test_templated_fields_are_rendered_custom_data_included(mocked: responses.RequestsMock) -> None:
    mocked.post(START_URL, status=201, json=STARTED)
    op = operator(
        "email",
        first_name="{{ params.first }}",
        user_email="{{ params.email }}",
        email_subject="Order {{ params.order }}",
        email_introduction="Hi {{ params.first }}",
        phone_number="{{ params.phone }}",
        fk_id="crm-{{ params.order }}",
        user_context="{{ params.ctx }}",
        conversation_context="{{ params.ctx }} case",
        source="{{ params.ctx | lower }}",
        fk_user_id="u-{{ params.order }}",
        conversation_state_id="s-{{ params.order }}",
        author_id="a-{{ params.order }}",
        custom_data={"order": "{{ params.order }}", "nested": {"who": "{{ params.first }}"}, "n": 3},
    )
    params = {"first": "Ada", "email": "ada@example.com", "order": "A-7", "phone": "+15550001111", "ctx": "Sales"}
    assert run(op, {"params": params}) == "c-123"
    assert sent_body(mocked) == {
        "channel": "email",
        "firstName": "Ada",
        "lastName": "Doe",
        "email": "ada@example.com",
        "emailSubject": "Order A-7",
        "emailIntroduction": "Hi Ada",
        "phoneNumber": "+15550001111",
        "fkId": "crm-A-7",
        "context": "Sales",
        "conversationContext": "Sales case",
        "source": "sales",
        "fkUserId": "u-A-7",
        "conversationStateId": "s-A-7",
        "authorId": "a-A-7",
        "customData": {"order": "A-7", "nested": {"who": "Ada"}, "n": 3},
    }


def test_skip_phone_number_validation_sends_the_number_unchecked(mocked: responses.RequestsMock) -> None:
    mocked.post(START_URL, status=201, json=STARTED)
    operator("voice", phone_number="555-0100 ext. 2", skip_phone_number_validation=True).execute(CONTEXT)
    body = sent_body(mocked)
    assert (body["phoneNumber"], body["skipPhoneNumberValidation"]) == ("555-0100 ext. 2", True)


def test_skip_email_validation_sends_the_address_unchecked(mocked: responses.RequestsMock) -> None:
    mocked.post(START_URL, status=201, json=STARTED)
    operator("email", user_email="jane at example", skip_email_validation=True).execute(CONTEXT)
    body = sent_body(mocked)
    assert (body["email"], body["skipEmailValidation"]) == ("jane at example", True)


def test_logs_the_conversation_id_never_the_key(mocked: responses.RequestsMock, logs: Callable[[], str]) -> None:
    mocked.post(START_URL, status=201, json=STARTED)
    operator("sms").execute(CONTEXT)
    text = logs()
    assert "raia started sms conversation c-123" in text
    assert TEST_KEY not in text


def test_raia_refusing_the_body_raises_its_error(mocked: responses.RequestsMock) -> None:
    mocked.post(
        START_URL,
        status=400,
        json={"status": 400, "name": "BAD_REQUEST", "message": "INVALID_REQUEST", "details": []},
    )
    with pytest.raises(RaiaBadRequestError) as caught:
        operator("sms").execute(CONTEXT)
    assert TEST_KEY not in str(caught.value)


def test_uses_the_named_connection(mocked: responses.RequestsMock, set_connection: Callable[..., None]) -> None:
    set_connection("raia_eu", host="https://eu.raia.test/external")
    mocked.post("https://eu.raia.test/external/conversations/start", status=201, json=STARTED)
    assert operator("sms", raia_conn_id="raia_eu").execute(CONTEXT) == "c-123"


# -- bad input: refused before any request ---------------------------------------------------------------

#: (channel, overrides, argument named, a phrase of the explanation) refused when the operator is built.
REFUSED_WHEN_BUILT = [
    ("fax", {}, "channel", "must be one of 'email', 'sms' or 'voice'; got 'fax'"),
    ("SMS", {}, "channel", "must be one of 'email', 'sms' or 'voice'"),
    ("sms", {"email_subject": "Hello"}, "email_subject", "does not apply to channel 'sms', only to 'email'"),
    ("email", {"first_message": "Hello"}, "first_message", "does not apply to channel 'email', only to 'voice'"),
    ("voice", {"sms_introduction": "Hi"}, "sms_introduction", "does not apply to channel 'voice', only to 'sms'"),
    (
        "voice",
        {"reset_conversation": True},
        "reset_conversation",
        "does not apply to channel 'voice', only to 'email' or 'sms'",
    ),
    ("sms", {"include_signature_in_email": False}, "include_signature_in_email", "only to 'email'"),
    ("email", {"include_signature_in_sms": True}, "include_signature_in_sms", "only to 'sms'"),
    ("sms", {"include_signature_in_sms": "true"}, "include_signature_in_sms", "must be True, False or None"),
    ("email", {"skip_email_validation": 1}, "skip_email_validation", "must be True, False or None"),
    ("sms", {"reset_conversation": "{{ params.reset }}"}, "reset_conversation", "it is not templated"),
    ("sms", {"sms_introduction": None}, "sms_introduction", "is required with channel 'sms'"),
    ("sms", {"phone_number": None}, "phone_number", "is required with channel 'sms'"),
    ("voice", {"first_message": None}, "first_message", "is required with channel 'voice'"),
    ("voice", {"phone_number": None}, "phone_number", "is required with channel 'voice'"),
    ("email", {"email_subject": None}, "email_subject", "is required with channel 'email'"),
    ("email", {"email_introduction": None}, "email_introduction", "is required with channel 'email'"),
    ("email", {"user_email": None}, "user_email", "Airflow's own 'email' argument is where task-failure alerts go"),
    ("sms", {"first_name": None}, "first_name", "is required with channel 'sms'"),
]


@pytest.mark.parametrize(
    ("channel", "overrides", "argument", "phrase"),
    REFUSED_WHEN_BUILT,
    ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(REFUSED_WHEN_BUILT)],
)
def test_refused_when_the_dag_is_parsed(
    mocked: responses.RequestsMock, channel: str, overrides: dict[str, Any], argument: str, phrase: str
) -> None:
    base = MINIMAL.get(channel, MINIMAL["sms"])
    arguments: dict[str, Any] = {"first_name": "Jane", "last_name": "Doe", **base, **overrides}
    with pytest.raises(RaiaInputError) as caught:
        RaiaStartConversationOperator(task_id="start", channel=channel, **arguments)  # type: ignore[arg-type]
    message = str(caught.value)
    assert f"'{argument}'" in message
    assert phrase in message
    assert "RaiaStartConversationOperator (task 'start')" in message
    assert len(mocked.calls) == 0


#: (channel, overrides, params for rendering, argument named, a phrase) refused in execute, after rendering.
REFUSED_WHEN_RUN = [
    ("sms", {"phone_number": "555-0100"}, {}, "phone_number", "must be an E.164 phone number"),
    ("sms", {"phone_number": "15551234567"}, {}, "phone_number", "(got '15551234567')"),  # no '+'
    ("voice", {"phone_number": "+12345"}, {}, "phone_number", "must be an E.164 phone number"),  # too short
    ("sms", {"phone_number": "+1234567890123456"}, {}, "phone_number", "E.164"),  # 16 digits: too long
    ("voice", {"phone_number": "{{ params.phone }}"}, {"phone": "+1 555 123"}, "phone_number", "E.164"),
    ("email", {"user_email": "jane.example.com"}, {}, "user_email", "must be an email address"),
    ("sms", {"user_email": "{{ params.mail }}"}, {"mail": "Jane Doe"}, "user_email", "must be an email address"),
    ("sms", {"sms_introduction": "{{ params.text }}"}, {"text": "  "}, "sms_introduction", "must contain text"),
    ("email", {"email_subject": " \t"}, {}, "email_subject", "must contain text"),
    ("email", {"email_introduction": ""}, {}, "email_introduction", "must contain text"),
    ("voice", {"first_message": "{{ params.none }}"}, {"none": ""}, "first_message", "must contain text"),
    ("sms", {"first_name": "{{ params.blank }}"}, {"blank": " "}, "first_name", "must contain text"),
    ("voice", {"fk_id": ""}, {}, "fk_id", "at least 1 character"),
    ("sms", {"custom_data": "order=A-1"}, {}, "custom_data", "valid dictionary"),
]


@pytest.mark.parametrize(
    ("channel", "overrides", "params", "argument", "phrase"),
    REFUSED_WHEN_RUN,
    ids=[f"{c[0]}-{c[3]}-{i}" for i, c in enumerate(REFUSED_WHEN_RUN)],
)
def test_refused_after_rendering_before_any_request(
    mocked: responses.RequestsMock,
    channel: str,
    overrides: dict[str, Any],
    params: dict[str, Any],
    argument: str,
    phrase: str,
) -> None:
    op = operator(channel, **overrides)  # templated values are only checked once rendered
    with pytest.raises(RaiaInputError) as caught:
        run(op, {"params": params})
    message = str(caught.value)
    assert f"argument '{argument}'" in message
    assert phrase in message
    assert "RaiaStartConversationOperator (task 'start_conversation')" in message
    assert len(mocked.calls) == 0
    assert "hook" not in op.__dict__  # the connection was not even read


def test_every_bad_argument_is_named_at_once(mocked: responses.RequestsMock) -> None:
    op = operator("sms", phone_number="555", sms_introduction=" ", user_email="nope")
    with pytest.raises(RaiaInputError) as caught:
        op.execute(CONTEXT)
    named = re.findall(r"argument '(\w+)'", str(caught.value))
    assert named == ["phone_number", "sms_introduction", "user_email"]  # never raia's name 'email'
    assert len(mocked.calls) == 0


def test_an_argument_of_another_channel_set_after_parsing_is_still_refused(mocked: responses.RequestsMock) -> None:
    op = operator("sms")
    op.first_message = "Hello"
    with pytest.raises(RaiaInputError, match="argument 'first_message' does not apply to channel 'sms'"):
        op.execute(CONTEXT)
    assert len(mocked.calls) == 0


# -- Airflow integration: templating, parsing, mapping -------------------------------------------------------


def _init_arguments() -> set[str]:
    parameters = inspect.signature(RaiaStartConversationOperator.__init__).parameters
    return {name for name, p in parameters.items() if p.kind is p.KEYWORD_ONLY}


def test_every_field_of_every_channel_is_an_argument() -> None:
    fields = {
        name
        for declaration in (StartEmailConversation, StartSmsConversation, StartVoiceConversation)
        for name in declaration.model_fields
    }
    # 'channel' included; 'email' is Airflow's alert address, so the person's address is 'user_email'.
    # raia's user "context" is user_context: a "context" argument would read like Airflow's task context.
    assert _init_arguments() == (fields - {"email", "context"}) | {"user_email", "user_context"}


def test_text_fields_and_custom_data_are_templated_flags_and_channel_are_not() -> None:
    flags = {
        "channel",
        "include_signature_in_email",
        "include_signature_in_sms",
        "reset_conversation",
        "skip_phone_number_validation",
        "skip_email_validation",
    }
    templated = set(RaiaStartConversationOperator.template_fields)
    assert templated == _init_arguments() - flags
    assert "custom_data" in templated
    assert len(RaiaStartConversationOperator.template_fields) == len(templated)


def test_the_docstring_documents_each_argument_and_marks_the_templated_ones() -> None:
    doc = inspect.getdoc(RaiaStartConversationOperator) or ""
    entries = dict(re.findall(r"^:param (\w+): (.*?)(?=^:param |\Z)", doc, flags=re.MULTILINE | re.DOTALL))
    assert set(entries) == _init_arguments() | {"raia_conn_id"}
    for name, text in entries.items():
        assert ("(templated)" in text) == (name in RaiaStartConversationOperator.template_fields), name


def test_building_the_operator_reads_no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_RAIA_DEFAULT")
    op = operator("voice", raia_conn_id="does_not_exist")
    assert "hook" not in op.__dict__


@pytest.mark.filterwarnings("ignore:Setting email:DeprecationWarning")
def test_default_args_email_stays_the_alert_address_and_is_not_sent(mocked: responses.RequestsMock) -> None:
    mocked.post(START_URL, status=201, json=STARTED)
    with DAG("start_conversation_default_args", schedule=None, default_args={"email": "ops@example.com"}):
        op = operator("sms")
    assert (op.email, op.user_email) == ("ops@example.com", None)
    op.execute(CONTEXT)
    assert "email" not in sent_body(mocked)


@pytest.mark.filterwarnings("ignore:Setting email:DeprecationWarning")
def test_mapped_over_people_with_partial_and_expand(mocked: responses.RequestsMock) -> None:
    mocked.post(START_URL, status=201, json={"conversationId": "c-1"})
    mocked.post(START_URL, status=201, json={"conversationId": "c-2"})
    people = [
        {"first_name": "Ada", "phone_number": "+15550000001"},
        {"first_name": "Bo", "phone_number": "+15550000002"},
    ]
    with DAG("start_conversation_mapped", schedule=None, default_args={"email": "ops@example.com"}):
        mapped = RaiaStartConversationOperator.partial(
            task_id="start",
            channel="sms",
            last_name="Doe",
            sms_introduction="Hi {{ params.who }}",
            custom_data={"batch": "{{ params.who }}"},
        ).expand_kwargs(people)
    assert type(mapped).__name__ == "MappedOperator"
    # What each mapped task instance runs: the operator built from its kwargs, rendered, executed.
    tasks = [cast("RaiaStartConversationOperator", mapped.unmap(person)) for person in people]
    ids = [run(task, {"params": {"who": "you"}}) for task in tasks]
    assert ids == ["c-1", "c-2"]
    assert [sent_body(mocked, i) for i in range(2)] == [
        {
            "channel": "sms",
            "firstName": first,
            "lastName": "Doe",
            "phoneNumber": phone,
            "smsIntroduction": "Hi you",
            "customData": {"batch": "you"},
        }
        for first, phone in (("Ada", "+15550000001"), ("Bo", "+15550000002"))
    ]


def test_mapped_over_channels(mocked: responses.RequestsMock) -> None:
    mocked.post(START_URL, status=201, json=STARTED)
    with DAG("start_conversation_mapped_channels", schedule=None):
        mapped = RaiaStartConversationOperator.partial(
            task_id="start", first_name="Jane", last_name="Doe"
        ).expand_kwargs([{"channel": channel, **MINIMAL[channel]} for channel in ("email", "sms", "voice")])
    for channel in ("email", "sms", "voice"):
        assert mapped.unmap({"channel": channel, **MINIMAL[channel]}).execute(CONTEXT) == "c-123"
    assert [sent_body(mocked, i)["channel"] for i in range(3)] == ["email", "sms", "voice"]
