"""Conversations, messages and conversation users against the emulator over real sockets."""

from __future__ import annotations

from typing import Any

import pytest

from raia_provider.exceptions import RaiaBadRequestError, RaiaInputError, RaiaNotFoundError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.testing import RaiaEmulator, answer_for
from tests.integration.conftest import FAST_RETRIES

pytestmark = pytest.mark.integration


@pytest.fixture
def hook(emulator: RaiaEmulator) -> Any:
    hook = RaiaHook(retry_policy=FAST_RETRIES)
    yield hook
    hook.close()


def test_sms_conversation_round_trip(hook: RaiaHook, emulator: RaiaEmulator) -> None:
    started = hook.start_sms_conversation(
        first_name="Ada",
        last_name="Lovelace",
        phone_number="+15551234567",
        sms_introduction="Hi Ada, your order shipped.",
        custom_data={"order": "A-1"},
    )
    conversation = hook.get_conversation(conversation_id=started.conversation_id)
    assert conversation.user.phone_number == "+15551234567"
    found = hook.find_user(phone_number="+15551234567")
    assert started.conversation_id in found.conversation_ids

    reply = hook.process_message(conversation_id=started.conversation_id, message="Where is it now?")
    assert reply.sender_role == "assistant"
    assert reply.message == answer_for("Where is it now?", emulator.default_agent.name)[0]
    messages = hook.get_conversation_messages(conversation_id=started.conversation_id).messages
    assert [m.sender_role for m in messages] == ["assistant", "conversation_user", "assistant"]


def test_starting_again_continues_unless_reset(hook: RaiaHook) -> None:
    arguments: dict[str, Any] = {
        "first_name": "Bo",
        "last_name": "Li",
        "phone_number": "+15550001111",
        "sms_introduction": "Hello",
    }
    first = hook.start_sms_conversation(**arguments)
    assert hook.start_sms_conversation(**arguments).conversation_id == first.conversation_id
    fresh = hook.start_sms_conversation(**arguments, reset_conversation=True)
    assert fresh.conversation_id != first.conversation_id


@pytest.mark.parametrize("vocabulary", ["spec", "release_notes"])
def test_async_message_reply_in_both_vocabularies(hook: RaiaHook, emulator: RaiaEmulator, vocabulary: str) -> None:
    emulator.configure(message_delay=None, message_status_vocabulary=vocabulary)  # type: ignore[arg-type]
    started = hook.start_email_conversation(
        first_name="Cy",
        last_name="Ng",
        email="cy@example.com",
        email_subject="Welcome",
        email_introduction="Hello Cy",
    )
    question = hook.submit_message(conversation_id=started.conversation_id, message="Any discounts?")
    pending = hook.get_message_reply(conversation_id=started.conversation_id, question_message_id=question.id)
    assert pending.status == "pending"  # "running" in the release-notes vocabulary, read as pending
    emulator.complete_message(question.id)
    done = hook.get_message_reply(conversation_id=started.conversation_id, question_message_id=question.id)
    assert done.status == "completed"
    assert done.message is not None
    assert done.message.message == answer_for("Any discounts?", emulator.default_agent.name)[0]


def test_paginated_walk_yields_every_conversation_once(hook: RaiaHook, emulator: RaiaEmulator) -> None:
    ids = set()
    for i in range(25):
        user = hook.create_user_with_fk_id(first_name=f"U{i}", last_name="Test", fk_id=f"crm-{i}")
        ids.add(hook.create_conversation(conversation_user_id=user.id, title=f"T{i}").id)
    walked = [c.id for c in hook.iter_conversations(page_size=10, order_by="createdAt", order_direction="ASC")]
    assert len(walked) == 25
    assert set(walked) == ids
    pages = [r for r in emulator.requests(method="GET", path="/external/conversations")]
    assert len(pages) == 3


async def test_async_paginated_walk(emulator: RaiaEmulator) -> None:
    hook = RaiaHook(retry_policy=FAST_RETRIES)
    try:
        for i in range(12):
            await hook.acreate_user_with_email(first_name=f"A{i}", last_name="B", email=f"a{i}@example.com")
        emails = [u.email async for u in hook.aiter_agent_users(page_size=5)]
    finally:
        await hook.aclose()
    assert sorted(emails) == sorted(f"a{i}@example.com" for i in range(12))


def test_user_life_cycle_and_limits(hook: RaiaHook) -> None:
    user = hook.create_user_with_email(first_name="Di", last_name="Ro", email="di@example.com", source="crm")
    with pytest.raises(RaiaBadRequestError, match="User already exists"):
        hook.create_user_with_email(first_name="Di", last_name="Ro", email="di@example.com")
    limits = hook.create_user_limits(
        user_id=user.id,
        tokens_amount_per_month=1000,
        sms_amount_per_month=5,
        emails_amount_per_month=5,
        seconds_amount_per_month=60,
    )
    assert limits.sms_amount_per_month == 5
    # raia's update body requires all four amounts (unlike the agent's limits).
    updated = hook.update_user_limits(
        user_id=user.id,
        tokens_amount_per_month=1000,
        sms_amount_per_month=9,
        emails_amount_per_month=5,
        seconds_amount_per_month=60,
    )
    assert updated.sms_amount_per_month == 9
    assert hook.get_user_limits(user_id=user.id).sms_amount_per_month == 9
    hook.delete_user_limits(user_id=user.id)
    conversation = hook.create_conversation(conversation_user_id=user.id)
    hook.delete_user_conversations(conversation_user_id=user.id)
    with pytest.raises(RaiaNotFoundError):
        hook.get_conversation(conversation_id=conversation.id)
    hook.delete_user(user_id=user.id)
    with pytest.raises(RaiaNotFoundError):
        hook.get_user(user_id=user.id)


def test_manual_mode_states_feedback_and_files(hook: RaiaHook) -> None:
    user = hook.create_user_with_phone_number(first_name="Ed", last_name="Fu", phone_number="+15557654321")
    conversation = hook.create_conversation(conversation_user_id=user.id)
    with pytest.raises(RaiaBadRequestError):
        hook.send_manual_message(conversation_id=conversation.id, message="not in manual mode yet")
    assert hook.update_conversation_mode(conversation_id=conversation.id, mode="manual").mode == "manual"
    sent = hook.send_manual_message(conversation_id=conversation.id, message="A human here.")
    assert sent.sender_role == "manual_assistant"
    states = hook.get_conversation_states()
    assert states
    updated = hook.update_conversation(conversation_id=conversation.id, conversation_state_id=states[0].id)
    assert updated.conversation_state_id == states[0].id
    hook.save_message_feedback(conversation_message_id=sent.id, user_id=user.id, vote_type="up", question="q?")
    signed = hook.create_message_file_upload_url(
        conversation_id=conversation.id, file_name="a.png", content_type="image/png"
    )
    assert signed.storage_path


def test_bad_input_is_refused_before_any_request(hook: RaiaHook, emulator: RaiaEmulator) -> None:
    with pytest.raises(RaiaInputError, match="phone_number"):
        hook.start_sms_conversation(first_name="A", last_name="B", phone_number="5551234", sms_introduction="x")
    with pytest.raises(RaiaInputError, match="page_size"):
        list(hook.iter_conversations(page_size=0))
    assert emulator.requests() == []
