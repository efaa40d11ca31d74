"""``RaiaStartConversationOperator`` against the emulator over real sockets: one conversation per channel."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import pytest

from raia_provider.exceptions import RaiaInputError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.operators.conversation import RaiaStartConversationOperator
from raia_provider.testing import RaiaEmulator
from tests.integration.conftest import FAST_RETRIES

if TYPE_CHECKING:
    from airflow.sdk import Context

pytestmark = pytest.mark.integration

START_PATH = "/external/conversations/start"
CONTEXT = cast("Context", {})

#: Per channel: the operator's arguments and the body the emulator must have received.
CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "email": (
        {
            "first_name": "Cy",
            "last_name": "Ng",
            "user_email": "cy@example.com",
            "email_subject": "Welcome",
            "email_introduction": "Hello Cy, welcome aboard.",
            "include_signature_in_email": True,
            "reset_conversation": False,
            "source": "crm",
            "fk_id": "crm-1",
            "custom_data": {"plan": "pro"},
        },
        {
            "channel": "email",
            "firstName": "Cy",
            "lastName": "Ng",
            "email": "cy@example.com",
            "emailSubject": "Welcome",
            "emailIntroduction": "Hello Cy, welcome aboard.",
            "includeSignatureInEmail": True,
            "resetConversation": False,
            "source": "crm",
            "fkId": "crm-1",
            "customData": {"plan": "pro"},
        },
    ),
    "sms": (
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "phone_number": "+15551234567",
            "sms_introduction": "Hi Ada, your order shipped.",
            "include_signature_in_sms": False,
            "user_context": "Support",
            "conversation_context": "Order A-1",
            "custom_data": {"order": "A-1"},
        },
        {
            "channel": "sms",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "phoneNumber": "+15551234567",
            "smsIntroduction": "Hi Ada, your order shipped.",
            "includeSignatureInSms": False,
            "context": "Support",
            "conversationContext": "Order A-1",
            "customData": {"order": "A-1"},
        },
    ),
    "voice": (
        {
            "first_name": "Bo",
            "last_name": "Li",
            "phone_number": "+4930123456",
            "first_message": "Hello Bo, this is your assistant.",
            "user_email": "bo@example.com",
            "fk_user_id": "crm-user-9",
            "skip_email_validation": False,
        },
        {
            "channel": "voice",
            "firstName": "Bo",
            "lastName": "Li",
            "phoneNumber": "+4930123456",
            "firstMessage": "Hello Bo, this is your assistant.",
            "email": "bo@example.com",
            "fkUserId": "crm-user-9",
            "skipEmailValidation": False,
        },
    ),
}


@pytest.fixture
def hook(emulator: RaiaEmulator) -> Iterator[RaiaHook]:
    """A hook on the same connection, to read back what the operator created."""
    hook = RaiaHook(retry_policy=FAST_RETRIES)
    yield hook
    hook.close()


def start(channel: str, **arguments: Any) -> RaiaStartConversationOperator:
    return RaiaStartConversationOperator(task_id=f"start_{channel}", channel=channel, **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("channel", ["email", "sms", "voice"])
def test_starts_a_conversation_per_channel(emulator: RaiaEmulator, hook: RaiaHook, channel: str) -> None:
    arguments, wire = CASES[channel]
    conversation_id = start(channel, **arguments).execute(CONTEXT)
    assert isinstance(conversation_id, str)
    assert conversation_id

    (logged,) = emulator.requests("POST", START_PATH)
    assert (logged.status, logged.body) == (201, wire)
    assert "agent-secret-key" not in logged.headers

    conversation = hook.get_conversation(conversation_id=conversation_id)
    assert conversation.id == conversation_id
    assert (conversation.user.first_name, conversation.user.last_name) == (wire["firstName"], wire["lastName"])
    if "customData" in wire:
        assert conversation.metadata is not None
        assert conversation.metadata["customData"] == wire["customData"]


def test_templated_fields_are_rendered_before_sending(emulator: RaiaEmulator) -> None:
    op = start(
        "sms",
        first_name="{{ params.first }}",
        last_name="Doe",
        phone_number="{{ params.phone }}",
        sms_introduction="Hi {{ params.first }}, order {{ params.order }} shipped.",
        custom_data={"order": "{{ params.order }}"},
    )
    context = cast("Context", {"params": {"first": "Ada", "phone": "+15550001111", "order": "A-9"}})
    op.render_template_fields(context)
    conversation_id = op.execute(context)
    (logged,) = emulator.requests("POST", START_PATH)
    assert logged.status == 201
    assert logged.body == {
        "channel": "sms",
        "firstName": "Ada",
        "lastName": "Doe",
        "phoneNumber": "+15550001111",
        "smsIntroduction": "Hi Ada, order A-9 shipped.",
        "customData": {"order": "A-9"},
    }
    assert conversation_id


def test_starting_again_continues_unless_reset(emulator: RaiaEmulator) -> None:
    arguments: dict[str, Any] = {
        "first_name": "Bo",
        "last_name": "Li",
        "phone_number": "+15550002222",
        "sms_introduction": "Hello",
    }
    first = start("sms", **arguments).execute(CONTEXT)
    assert start("sms", **arguments).execute(CONTEXT) == first
    fresh = start("sms", **arguments, reset_conversation=True).execute(CONTEXT)
    assert fresh != first
    bodies = [r.body for r in emulator.requests("POST", START_PATH)]
    assert [b.get("resetConversation") for b in bodies] == [None, None, True]


def test_bad_input_never_reaches_the_emulator(emulator: RaiaEmulator) -> None:
    op = start("voice", first_name="Bo", last_name="Li", phone_number="030 123456", first_message="Hello")
    with pytest.raises(RaiaInputError, match=r"argument 'phone_number' must be an E\.164 phone number"):
        op.execute(CONTEXT)
    with pytest.raises(RaiaInputError, match="argument 'email_subject' does not apply to channel 'sms'"):
        start(
            "sms", first_name="A", last_name="B", phone_number="+15550003333", sms_introduction="Hi", email_subject="x"
        )
    assert emulator.requests() == []
