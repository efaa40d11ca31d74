"""Conversation operations at the HTTP layer: ``responses`` for the blocking half, ``tests.aiohttp_mock`` for async."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses
from responses import matchers

from raia_provider._core.retry import RetryPolicy
from raia_provider.exceptions import RaiaBadRequestError, RaiaInputError, RaiaNotFoundError, RaiaResponseError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.models.conversations import MessageFile
from tests.aiohttp_mock import Reply, mock_raia
from tests.conftest import TEST_KEY, UNIT_BASE_URL
from tests.unit.payloads import (
    ANSWER_MESSAGE,
    CONVERSATION,
    CONVERSATION_STATE,
    CONVERSATION_WITH_FEEDBACKS,
    NOT_FOUND,
    QUESTION_MESSAGE,
)

pytestmark = pytest.mark.usefixtures("unit_connection")

PERSON: dict[str, Any] = {"first_name": "Jane", "last_name": "Doe"}
PERSON_WIRE: dict[str, Any] = {"firstName": "Jane", "lastName": "Doe"}


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


def sent(mocked: Any, index: int = 0) -> tuple[str, str, dict[str, str], Any]:
    """A request sent: method, URL without query, query parameters and JSON body (``None`` if none)."""
    request = mocked.calls[index].request
    assert request.headers["Agent-Secret-Key"] == TEST_KEY
    parts = urlsplit(request.url)
    body = json.loads(request.body) if request.body else None
    return request.method, f"{parts.scheme}://{parts.netloc}{parts.path}", dict(parse_qsl(parts.query)), body


def page(number: int, ids: list[str], *, has_next: bool, total_pages: int = 3) -> dict[str, Any]:
    return {
        "currentPage": number,
        "pageSize": 2,
        "totalItems": 5,
        "totalPages": total_pages,
        "hasNextPage": has_next,
        "hasPreviousPage": number > 1,
        "data": [{**CONVERSATION_WITH_FEEDBACKS, "id": i} for i in ids],
    }


# -- starting conversations (one declaration per channel; the channel is filled in) ---------------------


@pytest.mark.parametrize(
    ("call", "body"),
    [
        (
            lambda h: h.start_email_conversation(
                **PERSON,
                email="jane@example.com",
                email_subject="Your order",
                email_introduction="Hi Jane, about your order...",
                include_signature_in_email=True,
                custom_data={"order": "A-1"},
            ),
            {
                **PERSON_WIRE,
                "channel": "email",
                "email": "jane@example.com",
                "emailSubject": "Your order",
                "emailIntroduction": "Hi Jane, about your order...",
                "includeSignatureInEmail": True,
                "customData": {"order": "A-1"},
            },
        ),
        (
            lambda h: h.start_sms_conversation(
                **PERSON,
                phone_number="+15551234567",
                sms_introduction="Hi Jane!",
                reset_conversation=True,
                conversation_context="Order A-1",
                fk_id="crm-42",
            ),
            {
                **PERSON_WIRE,
                "channel": "sms",
                "phoneNumber": "+15551234567",
                "smsIntroduction": "Hi Jane!",
                "resetConversation": True,
                "conversationContext": "Order A-1",
                "fkId": "crm-42",
            },
        ),
        (
            lambda h: h.start_voice_conversation(
                **PERSON, phone_number="+4930123456", first_message="Hello Jane", conversation_state_id="s-1"
            ),
            {
                **PERSON_WIRE,
                "channel": "voice",
                "phoneNumber": "+4930123456",
                "firstMessage": "Hello Jane",
                "conversationStateId": "s-1",
            },
        ),
    ],
    ids=["email", "sms", "voice"],
)
def test_start_conversation_per_channel(hook: RaiaHook, mocked: Any, call: Any, body: dict[str, Any]) -> None:
    mocked.post(url("/conversations/start"), status=201, json={"conversationId": "c-9"})
    assert call(hook).conversation_id == "c-9"
    assert sent(mocked) == ("POST", url("/conversations/start"), {}, body)


def test_start_sms_with_skip_flag_sends_the_number_unchecked(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(url("/conversations/start"), status=201, json={"conversationId": "c-9"})
    hook.start_sms_conversation(
        **PERSON, phone_number="555-0100", sms_introduction="Hi", skip_phone_number_validation=True
    )
    assert sent(mocked)[3] == {
        **PERSON_WIRE,
        "channel": "sms",
        "phoneNumber": "555-0100",
        "smsIntroduction": "Hi",
        "skipPhoneNumberValidation": True,
    }


# -- conversations ----------------------------------------------------------------------------------------


def test_create_conversation(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(url("/conversations"), status=201, json=CONVERSATION)
    conversation = hook.create_conversation(conversation_user_id="u-1", title="Order question", context="VIP")
    assert sent(mocked) == (
        "POST",
        url("/conversations"),
        {},
        {"conversationUserId": "u-1", "title": "Order question", "context": "VIP"},
    )
    assert (conversation.id, conversation.ai_conversation_id, conversation.user.first_name) == (
        "c-1",
        "conv_abc",
        "Jane",
    )
    assert (conversation.mode, conversation.assigned_user, conversation.created_at) == (
        "ai",
        None,
        "2026-11-01T10:00:00.000Z",
    )


def test_get_conversations_page_sends_every_filter(hook: RaiaHook, mocked: Any) -> None:
    mocked.get(url("/conversations"), json=page(2, ["c-3", "c-4"], has_next=True))
    since = datetime(2026, 11, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    result = hook.get_conversations_page(
        page=2,
        page_size=2,
        order_by="updatedAt",
        order_direction="DESC",
        search_keyword="order",
        user_id="u-1",
        start_date=since,
        end_date="2026-11-02T00:00:00Z",
        with_feedbacks_only=False,
    )
    assert sent(mocked) == (
        "GET",
        url("/conversations"),
        {
            "page": "2",
            "pageSize": "2",
            "orderBy": "updatedAt",
            "orderDirection": "DESC",
            "searchKeyword": "order",
            "userId": "u-1",
            "startDate": "2026-11-01T12:00:00+02:00",
            "endDate": "2026-11-02T00:00:00Z",
            "withFeedbacksOnly": "false",
        },
        None,
    )
    assert (result.current_page, result.total_items, result.has_next_page) == (2, 5, True)
    assert [c.id for c in result.data] == ["c-3", "c-4"]
    assert result.data[0].feedbacks is not None
    assert result.data[0].feedbacks[0].vote_type == "up"


def test_iter_conversations_walks_every_page_once(hook: RaiaHook, mocked: Any) -> None:
    for number, ids, more in [(1, ["c-1", "c-2"], True), (2, ["c-3", "c-4"], True), (3, ["c-5"], False)]:
        mocked.get(
            url("/conversations"),
            json=page(number, ids, has_next=more),
            match=[matchers.query_param_matcher({"page": str(number), "pageSize": "2", "orderBy": "createdAt"})],
        )
    walk = hook.iter_conversations(page_size=2, order_by="createdAt")
    assert len(mocked.calls) == 0  # lazy: nothing is sent before iteration
    assert [c.id for c in walk] == ["c-1", "c-2", "c-3", "c-4", "c-5"]
    assert len(mocked.calls) == 3


def test_iter_conversations_stops_on_has_next_page_false(hook: RaiaHook, mocked: Any) -> None:
    mocked.get(url("/conversations"), json=page(1, ["c-1"], has_next=False, total_pages=9))
    assert [c.id for c in hook.iter_conversations()] == ["c-1"]
    assert len(mocked.calls) == 1


def test_iter_conversations_stops_on_an_empty_page_despite_has_next_page(hook: RaiaHook, mocked: Any) -> None:
    mocked.get(url("/conversations"), json=page(1, ["c-1"], has_next=True, total_pages=9))
    mocked.get(url("/conversations"), json=page(2, [], has_next=True, total_pages=9))
    assert [c.id for c in hook.iter_conversations()] == ["c-1"]
    assert [sent(mocked, i)[2] for i in range(2)] == [{"page": "1"}, {"page": "2"}]


def test_iter_conversations_can_start_at_a_later_page(hook: RaiaHook, mocked: Any) -> None:
    mocked.get(url("/conversations"), json=page(3, ["c-5"], has_next=False))
    assert [c.id for c in hook.iter_conversations(page=3)] == ["c-5"]
    assert sent(mocked)[2] == {"page": "3"}


@pytest.mark.parametrize("page_size", [0, -5, "ten"])
def test_iter_conversations_refuses_a_bad_page_size_before_any_request(
    hook: RaiaHook, mocked: Any, page_size: Any
) -> None:
    with pytest.raises(RaiaInputError, match="argument 'page_size'"):
        hook.iter_conversations(page_size=page_size)
    assert len(mocked.calls) == 0


def test_delete_user_conversations_sends_a_json_body_on_delete(hook: RaiaHook, mocked: Any) -> None:
    mocked.delete(url("/conversations"), status=204)
    assert hook.delete_user_conversations(conversation_user_id="u-1") is None
    assert sent(mocked) == ("DELETE", url("/conversations"), {}, {"conversationUserId": "u-1"})
    assert mocked.calls[0].request.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "answer", [[CONVERSATION_STATE, {**CONVERSATION_STATE, "id": "s-2"}], CONVERSATION_STATE], ids=["array", "object"]
)
def test_conversation_states_are_always_a_list(hook: RaiaHook, mocked: Any, answer: Any) -> None:
    mocked.get(url("/conversations/states"), json=answer)
    states = hook.get_conversation_states()
    assert sent(mocked) == ("GET", url("/conversations/states"), {}, None)
    assert isinstance(states, list)
    assert [s.id for s in states] == [s["id"] for s in (answer if isinstance(answer, list) else [answer])]
    assert (states[0].name, states[0].color, states[0].description) == ("Qualified", "#22c55e", None)


def test_get_conversation_percent_encodes_the_id(hook: RaiaHook, mocked: Any) -> None:
    mocked.get(url("/conversations/c%2F1%3Fx"), json=CONVERSATION_WITH_FEEDBACKS)
    conversation = hook.get_conversation(conversation_id="c/1?x")
    assert sent(mocked) == ("GET", url("/conversations/c%2F1%3Fx"), {}, None)
    assert conversation.feedbacks is not None
    assert conversation.feedbacks[0].user_email == "jane@example.com"


def test_update_conversation_sends_only_what_is_given(hook: RaiaHook, mocked: Any) -> None:
    mocked.put(url("/conversations/c-1"), json={**CONVERSATION, "title": "Closed"})
    result = hook.update_conversation(conversation_id="c-1", title="Closed", status="archived")
    assert sent(mocked) == ("PUT", url("/conversations/c-1"), {}, {"title": "Closed", "status": "archived"})
    assert result.title == "Closed"


def test_update_conversation_mode(hook: RaiaHook, mocked: Any) -> None:
    mocked.put(url("/conversations/c-1/mode"), json={**CONVERSATION, "mode": "manual"})
    assert hook.update_conversation_mode(conversation_id="c-1", mode="manual").mode == "manual"
    assert sent(mocked) == ("PUT", url("/conversations/c-1/mode"), {}, {"mode": "manual"})


# -- messages ---------------------------------------------------------------------------------------------


def test_get_conversation_messages_with_query(hook: RaiaHook, mocked: Any) -> None:
    mocked.get(url("/conversations/c-1/messages"), json={"messages": [QUESTION_MESSAGE, ANSWER_MESSAGE]})
    result = hook.get_conversation_messages(conversation_id="c-1", should_include_feedbacks=True, order_direction="ASC")
    assert sent(mocked) == (
        "GET",
        url("/conversations/c-1/messages"),
        {"shouldIncludeFeedbacks": "true", "orderDirection": "ASC"},
        None,
    )
    question, answer = result.messages
    assert (question.sender_role, question.raw_message, question.files) == ("conversation_user", None, None)
    assert answer.full_ai_response is not None
    assert answer.full_ai_response.url_citations is not None
    assert answer.full_ai_response.url_citations[0].title == "FAQ"
    assert answer.files is not None
    assert (answer.files[0].open_ai_file_id, answer.files[0].size) == ("file-xyz", 2048)


def test_process_message_returns_the_agents_reply(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(url("/conversations/c-1/messages"), status=201, json=ANSWER_MESSAGE)
    reply = hook.process_message(
        conversation_id="c-1",
        message="Where is my order?",
        context="order A-1",
        files=[MessageFile(file_name="photo.png", storage_path="conversations/c-1/photo.png")],
    )
    assert sent(mocked) == (
        "POST",
        url("/conversations/c-1/messages"),
        {},
        {
            "message": "Where is my order?",
            "context": "order A-1",
            "files": [{"fileName": "photo.png", "storagePath": "conversations/c-1/photo.png"}],
        },
    )
    assert (reply.message, reply.sender_role, reply.conversation_message_id) == (
        "It ships tomorrow.",
        "assistant",
        "m-1",
    )


def test_unknown_message_source_is_kept_as_text(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(url("/conversations/c-1/messages"), status=201, json={**ANSWER_MESSAGE, "source": "whatsapp"})
    assert hook.process_message(conversation_id="c-1", message="hi").source == "whatsapp"


def test_submit_message_returns_the_question_to_poll_with(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(url("/conversations/c-1/messages/async"), status=201, json=QUESTION_MESSAGE)
    question = hook.submit_message(conversation_id="c-1", message="Where is my order?")
    assert sent(mocked) == ("POST", url("/conversations/c-1/messages/async"), {}, {"message": "Where is my order?"})
    assert question.id == "m-1"


@pytest.mark.parametrize(
    ("answer", "status", "text", "error"),
    [
        ({"status": "pending", "message": None, "error": None}, "pending", None, None),
        ({"status": "running"}, "pending", None, None),
        (None, "pending", None, None),
        ({"status": "completed", "message": ANSWER_MESSAGE, "error": None}, "completed", "It ships tomorrow.", None),
        ({"status": "completed", "message": ANSWER_MESSAGE}, "completed", "It ships tomorrow.", None),
        ({"status": "failed", "message": None, "error": "model overloaded"}, "failed", None, "model overloaded"),
        ({"status": "error", "error": "model overloaded"}, "failed", None, "model overloaded"),
    ],
    ids=["pending", "running", "null", "completed", "completed-no-error-key", "failed", "error"],
)
def test_message_reply_reads_both_vocabularies(
    hook: RaiaHook, mocked: Any, answer: Any, status: str, text: str | None, error: str | None
) -> None:
    mocked.get(
        url("/conversations/c-1/messages/m%2F1/response-on"), body=json.dumps(answer), content_type="application/json"
    )
    reply = hook.get_message_reply(conversation_id="c-1", question_message_id="m/1")
    assert sent(mocked) == ("GET", url("/conversations/c-1/messages/m%2F1/response-on"), {}, None)
    assert (reply.status, reply.message.message if reply.message else None, reply.error) == (status, text, error)


def test_unknown_reply_status_is_a_contract_error(hook: RaiaHook, mocked: Any) -> None:
    mocked.get(url("/conversations/c-1/messages/m-1/response-on"), json={"status": "queued"})
    with pytest.raises(RaiaResponseError, match="status"):
        hook.get_message_reply(conversation_id="c-1", question_message_id="m-1")


def test_send_manual_message(hook: RaiaHook, mocked: Any) -> None:
    manual = {**ANSWER_MESSAGE, "id": "m-3", "senderRole": "manual_assistant", "message": "A person here."}
    mocked.post(url("/conversations/c-1/send-manual-message"), json=manual)
    result = hook.send_manual_message(
        conversation_id="c-1", message="A person here.", conversation_message_id="m-1", author_id="p-7"
    )
    assert sent(mocked) == (
        "POST",
        url("/conversations/c-1/send-manual-message"),
        {},
        {"message": "A person here.", "conversationMessageId": "m-1", "authorId": "p-7"},
    )
    assert result.sender_role == "manual_assistant"


def test_message_file_upload_and_download_urls(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(
        url("/conversations/c-1/message-files/upload-url"),
        json={"signedUrl": "https://storage.test/put?sig=1", "storagePath": "conversations/c-1/a.pdf"},
    )
    mocked.get(
        url("/conversations/c-1/message-files/mf-1/signed-url"),
        json={"signedUrl": "https://storage.test/get?sig=2", "fileId": "mf-1"},
    )
    upload = hook.create_message_file_upload_url(
        conversation_id="c-1", file_name="a.pdf", content_type="application/pdf"
    )
    download = hook.get_message_file_url(conversation_id="c-1", file_id="mf-1")
    assert sent(mocked, 0) == (
        "POST",
        url("/conversations/c-1/message-files/upload-url"),
        {},
        {"fileName": "a.pdf", "contentType": "application/pdf"},
    )
    assert sent(mocked, 1) == ("GET", url("/conversations/c-1/message-files/mf-1/signed-url"), {}, None)
    assert (upload.signed_url, upload.storage_path) == ("https://storage.test/put?sig=1", "conversations/c-1/a.pdf")
    assert (download.signed_url, download.file_id) == ("https://storage.test/get?sig=2", "mf-1")


def test_save_message_feedback(hook: RaiaHook, mocked: Any) -> None:
    stored = {
        "id": "fb-1",
        "conversationMessageId": "m-2",
        "voteType": "down",
        "question": "Where is my order?",
        "answer": None,
        "createdAt": "2026-11-01T10:06:00.000Z",
        "updatedAt": "2026-11-01T10:07:00.000Z",
        "comment": "Wrong date",
    }
    mocked.post(url("/conversation-message-feedbacks"), status=201, json=stored)
    result = hook.save_message_feedback(
        conversation_message_id="m-2",
        user_id="u-1",
        vote_type="down",
        question="Where is my order?",
        comment="Wrong date",
    )
    assert sent(mocked) == (
        "POST",
        url("/conversation-message-feedbacks"),
        {},
        {
            "conversationMessageId": "m-2",
            "userId": "u-1",
            "voteType": "down",
            "question": "Where is my order?",
            "comment": "Wrong date",
        },
    )
    assert (result.vote_type, result.comment, result.answer) == ("down", "Wrong date", None)


# -- errors (the mapping is shared; these check that raia's words reach the caller) ---------------------


def test_unknown_conversation_is_not_found(hook: RaiaHook, mocked: Any) -> None:
    mocked.get(url("/conversations/nope"), status=404, json=NOT_FOUND)
    with pytest.raises(RaiaNotFoundError, match="ENTITY_NOT_FOUND") as info:
        hook.get_conversation(conversation_id="nope")
    assert info.value.path == "/conversations/nope"


def test_manual_message_outside_manual_mode_is_a_bad_request(hook: RaiaHook, mocked: Any) -> None:
    mocked.post(
        url("/conversations/c-1/send-manual-message"),
        status=400,
        json={"status": 400, "name": "BAD_REQUEST", "message": "Conversation must be in manual mode", "details": []},
    )
    with pytest.raises(RaiaBadRequestError, match="Conversation must be in manual mode"):
        hook.send_manual_message(conversation_id="c-1", message="hello")


# -- bad input fails before any request -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            lambda h: h.start_sms_conversation(**PERSON, phone_number="555-123-4567", sms_introduction="Hi"),
            r"argument 'phone_number' must be an E\.164 phone number like \+15551234567",
        ),
        (
            lambda h: h.start_voice_conversation(**PERSON, phone_number="+0301234567", first_message="Hi"),
            "argument 'phone_number' must be an E.164",
        ),
        (
            lambda h: h.start_email_conversation(
                **PERSON, email="jane.example.com", email_subject="S", email_introduction="I"
            ),
            "argument 'email' must be an email address like jane@example.com",
        ),
        (
            lambda h: h.start_email_conversation(
                **PERSON, email="jane@example.com", email_subject="  ", email_introduction="I"
            ),
            "argument 'email_subject' must contain text",
        ),
        (
            lambda h: h.start_sms_conversation(**PERSON, phone_number="+15551234567"),
            "argument 'sms_introduction' is required",
        ),
        (
            lambda h: h.start_sms_conversation(
                **PERSON, phone_number="+15551234567", sms_introduction="Hi", channel="voice"
            ),
            "argument 'channel' Input should be 'sms'",
        ),
        (
            lambda h: h.start_voice_conversation(first_name="Jane", phone_number="+15551234567", first_message="Hi"),
            "argument 'last_name' is required",
        ),
        (
            lambda h: h.start_voice_conversation(
                **PERSON, phone_number="+15551234567", first_message="Hi", voice_introduction="Hi"
            ),
            "argument 'voice_introduction' is not a parameter",
        ),
        (lambda h: h.process_message(conversation_id="c-1", message="   "), "argument 'message' must contain text"),
        (lambda h: h.submit_message(conversation_id="", message="hi"), "argument 'conversation_id'"),
        (
            lambda h: h.get_message_reply(conversation_id="c-1", question_message_id=" "),
            "argument 'question_message_id'",
        ),
        (
            lambda h: h.update_conversation(conversation_id="c-1", title="x" * 256),
            "argument 'title' String should have at most 255 characters",
        ),
        (
            lambda h: h.update_conversation(conversation_id="c-1", context="x" * 256_001),
            "argument 'context' String should have at most 256000 characters",
        ),
        (
            lambda h: h.update_conversation(conversation_id="c-1", status="closed"),
            "argument 'status' Input should be 'active', 'inactive' or 'archived'",
        ),
        (
            lambda h: h.create_conversation(conversation_user_id="u-1", title="x" * 300),
            "argument 'title' String should have at most 255",
        ),
        (lambda h: h.create_conversation(title="t"), "argument 'conversation_user_id' is required"),
        (
            lambda h: h.update_conversation_mode(conversation_id="c-1"),
            "argument 'mode' is required: 'manual' .* or 'ai'",
        ),
        (lambda h: h.update_conversation_mode(conversation_id="c-1", mode="human"), "argument 'mode'"),
        (lambda h: h.get_conversations_page(page=0), "argument 'page' Input should be greater than or equal to 1"),
        (
            lambda h: h.get_conversations_page(start_date=datetime(2026, 1, 1)),
            "argument 'start_date' Input should have timezone info",
        ),
        (lambda h: h.get_conversations_page(order_by="title"), "argument 'order_by'"),
        (lambda h: h.delete_user_conversations(conversation_user_id=" "), "argument 'conversation_user_id'"),
        (
            lambda h: h.save_message_feedback(
                conversation_message_id="m-2", user_id="u-1", vote_type="meh", question="q"
            ),
            "argument 'vote_type' Input should be 'up' or 'down'",
        ),
        (
            lambda h: h.create_message_file_upload_url(conversation_id="c-1", file_name="a.pdf", content_type="pdf"),
            "argument 'content_type'",
        ),
        (lambda h: h.get_message_file_url(conversation_id="c-1", file_id=""), "argument 'file_id'"),
        (lambda h: h.get_conversation("c-1"), "keyword arguments only"),
    ],
)
def test_bad_arguments_raise_before_any_request(hook: RaiaHook, mocked: Any, call: Any, expected: str) -> None:
    with pytest.raises((RaiaInputError, TypeError), match=expected):
        call(hook)
    assert len(mocked.calls) == 0


# -- async twins ------------------------------------------------------------------------------------------


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
async def ahook() -> Any:
    hook = RaiaHook(retry_policy=RetryPolicy(max_attempts=1), async_sleep=_no_sleep)
    yield hook
    await hook.aclose()


@pytest.fixture
def router() -> Any:
    with mock_raia(UNIT_BASE_URL, assert_all_called=True) as mock:
        yield mock


async def test_async_start_submit_and_poll(ahook: RaiaHook, router: Any) -> None:
    start = router.post("/conversations/start").respond(201, json={"conversationId": "c-1"})
    submit = router.post("/conversations/c-1/messages/async").respond(201, json=QUESTION_MESSAGE)
    poll = router.get("/conversations/c-1/messages/m-1/response-on").mock(
        side_effect=[
            Reply(200, json={"status": "running"}),
            Reply(200, json={"status": "completed", "message": ANSWER_MESSAGE, "error": None}),
        ]
    )

    started = await ahook.astart_sms_conversation(**PERSON, phone_number="+15551234567", sms_introduction="Hi")
    question = await ahook.asubmit_message(conversation_id=started.conversation_id, message="Where is my order?")
    first = await ahook.aget_message_reply(conversation_id="c-1", question_message_id=question.id)
    second = await ahook.aget_message_reply(conversation_id="c-1", question_message_id=question.id)

    assert json.loads(start.calls[0].request.content) == {
        **PERSON_WIRE,
        "channel": "sms",
        "phoneNumber": "+15551234567",
        "smsIntroduction": "Hi",
    }
    assert start.calls[0].request.headers["Agent-Secret-Key"] == TEST_KEY
    assert json.loads(submit.calls[0].request.content) == {"message": "Where is my order?"}
    assert (first.status, second.status, poll.call_count) == ("pending", "completed", 2)
    assert second.message is not None
    assert second.message.message == "It ships tomorrow."


async def test_async_walk_yields_every_item_once(ahook: RaiaHook, router: Any) -> None:
    for number, ids, more in [(1, ["c-1", "c-2"], True), (2, ["c-3", "c-4"], True), (3, ["c-5"], False)]:
        router.get("/conversations", params={"page": str(number), "pageSize": "2"}).respond(
            200, json=page(number, ids, has_next=more)
        )
    assert [c.id async for c in ahook.aiter_conversations(page_size=2)] == ["c-1", "c-2", "c-3", "c-4", "c-5"]
    assert len(router.calls) == 3


async def test_async_walk_refuses_a_bad_page_size_before_any_request(ahook: RaiaHook, router: Any) -> None:
    with pytest.raises(RaiaInputError, match="argument 'page_size'"):
        ahook.aiter_conversations(page_size=0)
    assert len(router.calls) == 0


async def test_async_states_and_delete(ahook: RaiaHook, router: Any) -> None:
    router.get("/conversations/states").respond(200, json=CONVERSATION_STATE)
    delete = router.delete("/conversations").respond(204)
    states = await ahook.aget_conversation_states()
    assert await ahook.adelete_user_conversations(conversation_user_id="u-1") is None
    assert [s.name for s in states] == ["Qualified"]
    assert json.loads(delete.calls[0].request.content) == {"conversationUserId": "u-1"}
