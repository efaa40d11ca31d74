"""Conversation messages: sync and async answers (both status vocabularies), lists, manual messages, files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
import requests

from raia_provider.testing import FAIL_MARKER, answer_for
from raia_provider.testing.emulator.answers import MESSAGE_FAILURE_MESSAGE
from raia_provider.testing.emulator.server import RaiaEmulator

if TYPE_CHECKING:
    from conftest import Api

Validate = Callable[[Any, str], None]
NOT_FOUND = {"status": 404, "name": "ENTITY_NOT_FOUND_ERROR", "message": "ENTITY_NOT_FOUND", "details": []}
NOT_MANUAL = "Conversation must be in manual mode and not a voice conversation."


def _messages(api: Api, conversation_id: str, **params: Any) -> list[dict[str, Any]]:
    response = api.call("GET", f"/conversations/{conversation_id}/messages", params=params)
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


def _poll(api: Api, conversation_id: str, question_id: str) -> requests.Response:
    return api.call("GET", f"/conversations/{conversation_id}/messages/{question_id}/response-on")


def test_sync_message_answers_with_the_reply(api: Api, validate_against: Validate) -> None:
    conversation_id = api.conversation()["id"]

    response = api.call("POST", f"/conversations/{conversation_id}/messages", json={"message": "Opening hours?"})

    assert response.status_code == 201
    reply = response.json()
    validate_against(reply, "ProcessMessageResponseDTO")
    text, tokens = answer_for("Opening hours?", "Test Agent")
    assert (reply["senderRole"], reply["source"], reply["message"]) == ("assistant", "api", text)
    assert reply["fullAIResponse"]["outputText"] == text
    question, stored_reply = _messages(api, conversation_id)
    assert (question["senderRole"], question["message"]) == ("conversation_user", "Opening hours?")
    assert reply["conversationMessageId"] == question["id"] == question["conversationMessageId"]
    assert stored_reply == reply
    for message in (question, stored_reply):
        validate_against(message, "ConversationMessageResponseDTO")
    # The answer is pollable too, already completed.
    assert _poll(api, conversation_id, question["id"]).json() == {
        "status": "completed",
        "message": reply,
        "error": None,
    }
    assert tokens > 0


def test_sync_failing_message_is_500(api: Api) -> None:
    conversation_id = api.conversation()["id"]

    response = api.call("POST", f"/conversations/{conversation_id}/messages", json={"message": f"{FAIL_MARKER} x"})

    assert response.status_code == 500
    assert response.json() == {"status": 500, "message": "Internal Server Error"}


@pytest.mark.parametrize(
    ("vocabulary", "pending", "completed", "failed"),
    [("spec", "pending", "completed", "failed"), ("release_notes", "running", "completed", "error")],
)
def test_async_life_cycle_in_both_vocabularies(
    raia_emulator: RaiaEmulator,
    api: Api,
    vocabulary: Any,
    pending: str,
    completed: str,
    failed: str,
    validate_against: Validate,
) -> None:
    raia_emulator.configure(message_delay=None, message_status_vocabulary=vocabulary)
    conversation_id = api.conversation()["id"]
    sent = api.call("POST", f"/conversations/{conversation_id}/messages/async", json={"message": "Hi"})
    assert sent.status_code == 201
    question = sent.json()
    validate_against(question, "SendMessageResponseDTO")
    assert (question["senderRole"], question["message"]) == ("conversation_user", "Hi")
    other = api.call("POST", f"/conversations/{conversation_id}/messages/async", json={"message": "Bye"}).json()

    waiting = _poll(api, conversation_id, question["id"]).json()
    raia_emulator.complete_message(question["id"])
    done = _poll(api, conversation_id, question["id"]).json()
    raia_emulator.fail_message(other["id"], error="model overloaded")
    broken = _poll(api, conversation_id, other["id"]).json()

    if vocabulary == "spec":
        assert waiting == {"status": "pending", "message": None, "error": None}
        assert broken == {"status": "failed", "message": None, "error": "model overloaded"}
        validate_against(done, "GetResponseOnResponseDTO")
        validate_against(waiting, "GetResponseOnResponseDTO")
    else:  # release notes: status words differ, unset keys are left out
        assert waiting == {"status": "running"}
        assert broken == {"status": "error", "error": "model overloaded"}
    assert waiting["status"] == pending
    assert broken["status"] == failed
    assert done["status"] == completed
    assert done["message"]["conversationMessageId"] == question["id"]
    assert done["message"]["message"] == answer_for("Hi", "Test Agent")[0]
    with pytest.raises(ValueError, match="already completed"):
        raia_emulator.complete_message(question["id"])


def test_async_answer_settles_after_the_delay_and_fail_marker_fails(raia_emulator: RaiaEmulator, api: Api) -> None:
    raia_emulator.configure(message_delay=0)
    conversation_id = api.conversation()["id"]
    ok = api.call("POST", f"/conversations/{conversation_id}/messages/async", json={"message": "Hi"}).json()
    bad = api.call("POST", f"/conversations/{conversation_id}/messages/async", json={"message": FAIL_MARKER}).json()

    assert _poll(api, conversation_id, ok["id"]).json()["status"] == "completed"
    assert _poll(api, conversation_id, bad["id"]).json() == {
        "status": "failed",
        "message": None,
        "error": MESSAGE_FAILURE_MESSAGE,
    }
    roles = [m["senderRole"] for m in _messages(api, conversation_id)]
    assert roles == ["conversation_user", "conversation_user", "assistant"]


def test_poll_unknown_or_foreign_question_is_404(raia_emulator: RaiaEmulator, api: Api) -> None:
    other = raia_emulator.add_agent(key="msg-agent-b-000001", name="B")
    mine, second = api.conversation()["id"], api.conversation()["id"]
    question = api.call("POST", f"/conversations/{mine}/messages/async", json={"message": "Hi"}).json()

    for conversation_id, question_id, key in [
        (mine, "nope", "default"),
        (second, question["id"], "default"),  # the question belongs to another conversation
        (mine, question["id"], other.key),  # another agent
    ]:
        response = api.call("GET", f"/conversations/{conversation_id}/messages/{question_id}/response-on", key=key)
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
    with pytest.raises(KeyError):
        raia_emulator.complete_message("nope")


def test_messages_order_and_feedbacks(api: Api, validate_against: Validate) -> None:
    user = api.user(email="rater@example.com")
    conversation_id = api.conversation(user["id"])["id"]
    reply = api.call("POST", f"/conversations/{conversation_id}/messages", json={"message": "Q1"}).json()
    feedback = {
        "conversationMessageId": reply["id"],
        "userId": user["id"],
        "voteType": "down",
        "question": "Q1",
        "comment": "Too short",
    }
    assert api.call("POST", "/conversation-message-feedbacks", json=feedback).status_code == 201

    ascending = _messages(api, conversation_id)
    descending = _messages(api, conversation_id, orderDirection="DESC")
    with_feedbacks = _messages(api, conversation_id, shouldIncludeFeedbacks="true")

    assert descending == ascending[::-1]
    assert all("conversationMessageFeedbacks" not in m for m in ascending)
    validate_against({"messages": with_feedbacks}, "GetConversationMessagesResponseDTO")
    rated = with_feedbacks[1]["conversationMessageFeedbacks"]
    assert [(f["voteType"], f["comment"], f["userEmail"]) for f in rated] == [
        ("down", "Too short", "rater@example.com")
    ]
    assert with_feedbacks[0]["conversationMessageFeedbacks"] == []
    assert (
        api.call("GET", f"/conversations/{conversation_id}/messages", params={"orderDirection": "x"}).status_code == 400
    )


@pytest.mark.parametrize("body", [{}, {"message": ""}, {"message": 1}, {"message": "Hi", "files": "a"}])
@pytest.mark.parametrize("suffix", ["/messages", "/messages/async", "/send-manual-message"])
def test_bad_message_body_is_400(api: Api, body: dict[str, Any], suffix: str, validate_against: Validate) -> None:
    conversation_id = api.conversation()["id"]

    response = api.call("POST", f"/conversations/{conversation_id}{suffix}", json=body)

    assert response.status_code == 400
    validate_against(response.json(), "BadRequestErrorDTO")


@pytest.mark.parametrize("suffix", ["/messages", "/messages/async", "/send-manual-message"])
def test_message_to_unknown_conversation_is_404(api: Api, suffix: str) -> None:
    response = api.call("POST", f"/conversations/nope{suffix}", json={"message": "Hi"})

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_manual_messages(raia_emulator: RaiaEmulator, api: Api, validate_against: Validate) -> None:
    conversation_id = api.conversation()["id"]
    url = f"/conversations/{conversation_id}/send-manual-message"

    refused = api.call("POST", url, json={"message": "Hello from a human"})
    assert refused.status_code == 400
    assert refused.json() == {"status": 400, "name": "BAD_REQUEST", "message": NOT_MANUAL, "details": []}

    api.call("PUT", f"/conversations/{conversation_id}/mode", json={"mode": "manual"})
    raia_emulator.configure(message_delay=None)
    question = api.call("POST", f"/conversations/{conversation_id}/messages/async", json={"message": "Human?"}).json()
    sent = api.call("POST", url, json={"message": "Yes, a human.", "conversationMessageId": question["id"]})

    assert sent.status_code == 200
    validate_against(sent.json(), "SendMessageResponseDTO")
    assert (sent.json()["senderRole"], sent.json()["source"]) == ("manual_assistant", "api")
    assert sent.json()["conversationMessageId"] == question["id"]
    answered = _poll(api, conversation_id, question["id"]).json()
    assert (answered["status"], answered["message"]["message"]) == ("completed", "Yes, a human.")
    unknown = api.call("POST", url, json={"message": "x", "conversationMessageId": "nope"})
    assert unknown.status_code == 404


def test_manual_message_is_refused_on_voice_and_counts_sms(raia_emulator: RaiaEmulator, api: Api) -> None:
    user_id = raia_emulator.seed_user(phone_number="+14155550100").id
    voice = raia_emulator.seed_conversation(user_id, channel="voice", mode="manual")
    sms = raia_emulator.seed_conversation(user_id, channel="sms", mode="manual")

    assert api.call("POST", f"/conversations/{voice.id}/send-manual-message", json={"message": "x"}).status_code == 400
    sent = api.call("POST", f"/conversations/{sms.id}/send-manual-message", json={"message": "x"})
    assert sent.json()["source"] == "sms"
    assert [(e.kind, e.amount) for e in raia_emulator.usage()] == [("sms", 1)]


def test_message_files_upload_attach_and_download(api: Api, validate_against: Validate) -> None:
    conversation_id = api.conversation()["id"]
    issued = api.call(
        "POST",
        f"/conversations/{conversation_id}/message-files/upload-url",
        json={"fileName": "photo.png", "contentType": "image/png"},
    )
    assert issued.status_code == 200
    validate_against(issued.json(), "CreateConversationMessageFileSignedUploadUrlResponseDTO")
    storage_path = issued.json()["storagePath"]
    assert storage_path.startswith(f"conversations/{conversation_id}/")
    assert requests.put(issued.json()["signedUrl"], data=b"PNGDATA", timeout=10).status_code == 200

    files = [{"fileName": "photo.png", "storagePath": storage_path}]
    reply = api.call("POST", f"/conversations/{conversation_id}/messages", json={"message": "See", "files": files})
    assert reply.status_code == 201
    digest = hashlib.sha256(b"PNGDATA").hexdigest()[:16]
    assert reply.json()["message"] == f"[Test Agent] answer to: See [files: photo.png (7 bytes, sha256 {digest})]"
    question = _messages(api, conversation_id)[0]
    (attached,) = question["files"]
    assert (attached["fileName"], attached["size"]) == ("photo.png", 7)

    signed = api.call("GET", f"/conversations/{conversation_id}/message-files/{attached['id']}/signed-url")
    assert signed.status_code == 200
    validate_against(signed.json(), "GetConversationMessageFileSignedUrlResponseDTO")
    assert signed.json()["fileId"] == attached["id"]
    download = requests.get(signed.json()["signedUrl"], timeout=10)
    assert (download.status_code, download.content) == (200, b"PNGDATA")

    other_conversation = api.conversation()["id"]
    assert (
        api.call("GET", f"/conversations/{other_conversation}/message-files/{attached['id']}/signed-url").status_code
        == 404
    )
    cited_elsewhere = api.call(
        "POST", f"/conversations/{other_conversation}/messages", json={"message": "x", "files": files}
    )
    assert cited_elsewhere.status_code == 400
    assert cited_elsewhere.json()["details"][0]["property"] == "files.0.storagePath"
    assert (
        api.call(
            "POST", "/conversations/nope/message-files/upload-url", json=files[0] | {"contentType": "a"}
        ).status_code
        == 404
    )
