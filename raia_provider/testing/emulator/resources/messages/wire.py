"""The messages' bodies and DTOs, in raia's field names, and the two vocabularies of a message poll."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from raia_provider.testing.emulator.body_fields import NOT_NULL_LIST, RequestBody, RequiredText, Text
from raia_provider.testing.emulator.config import MessageStatusVocabulary
from raia_provider.testing.emulator.rendering import JsonObject, iso
from raia_provider.testing.emulator.resources.feedback.store import Feedback
from raia_provider.testing.emulator.resources.feedback.wire import base_feedback_dto
from raia_provider.testing.emulator.resources.messages.store import Message, MessageFile, MessageJob
from raia_provider.testing.emulator.resources.uploads.wire import CitedFile

RELEASE_NOTES_STATUS = {"pending": "running", "completed": "completed", "failed": "error"}
"""A poll's status words in raia's 2025-12-10 release notes, by the spec's."""


class MessageFileBody(CitedFile):
    """An item of a message's ``files`` (spec ``MessageFileBodyDTO``, same fields)."""


Files = Annotated[list[MessageFileBody] | None, NOT_NULL_LIST]


class MessageBody(RequestBody):
    """``ProcessMessageBodyDTO`` / ``SendMessageBodyDTO``."""

    message: RequiredText
    context: Text = None
    files: Files = None


class ManualMessageBody(RequestBody):
    """``SendMessageToUserBodyDTO``."""

    message: RequiredText
    conversationMessageId: Text = None
    authorId: Text = None
    files: Files = None


def message_file_dto(item: MessageFile) -> JsonObject:
    """``ConversationMessageFileResponseDTO``.

    :param item: the message file.
    """
    return {
        "id": item.id,
        "fileName": item.file_name,
        "openAIFileId": item.open_ai_file_id,
        "size": item.size,
        "updatedAt": iso(item.created_at),
        "createdAt": iso(item.created_at),
    }


def message_dto(message: Message, feedbacks: Sequence[Feedback] | None = None) -> JsonObject:
    """``ConversationMessageResponseDTO`` (also ``ProcessMessageResponseDTO`` and ``SendMessageResponseDTO``).

    An assistant reply carries ``fullAIResponse`` with its text as ``outputText``.

    :param message: the message.
    :param feedbacks: its feedback, rendered as ``conversationMessageFeedbacks`` when given.
    """
    dto: JsonObject = {
        "id": message.id,
        "message": message.text,
        "conversationId": message.conversation_id,
        "senderRole": message.sender_role,
        "conversationMessageId": message.question_id,
        "source": message.source,
        "createdAt": iso(message.created_at),
    }
    if feedbacks is not None:
        dto["conversationMessageFeedbacks"] = [base_feedback_dto(f) for f in feedbacks]
    if message.sender_role == "assistant":
        dto["fullAIResponse"] = {
            "reasoning": None,
            "outputText": message.text,
            "urlCitations": None,
            "fileCitations": None,
        }
        dto["subagentId"] = None
        dto["expandedMessage"] = None
    dto["files"] = [message_file_dto(item) for item in message.files]
    dto["isAnonymized"] = False
    return dto


def poll_body(job: MessageJob, reply: Message | None, vocabulary: MessageStatusVocabulary) -> dict[str, Any]:
    """The ``response-on`` body of a question, in the given status vocabulary.

    :param job: the question's job.
    :param reply: the reply, once completed.
    :param vocabulary: ``spec`` or ``release_notes``.
    """
    message = message_dto(reply) if reply is not None else None
    if vocabulary == "spec":
        return {"status": job.status, "message": message, "error": job.error}
    body: dict[str, Any] = {"status": RELEASE_NOTES_STATUS[job.status]}
    if message is not None:
        body["message"] = message
    if job.error is not None:
        body["error"] = job.error
    return body
