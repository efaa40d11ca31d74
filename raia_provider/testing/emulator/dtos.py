"""raia's response DTOs, built from the emulator's records (field names and enum values from the spec).

Rules, where the spec leaves room:

* optional fields a record does not have are **omitted**, never ``null``, unless the spec marks them nullable
  (it marks almost none): NestJS would send ``null`` from an empty column, but the spec says the type is a
  plain string, and a client should cope with absence either way (**inferred**);
* times are ISO 8601 UTC with milliseconds and ``Z`` (``2026-01-01T00:00:00.000Z``), what NestJS renders for
  a ``Date``;
* pages are 1-based; ``totalPages`` is 0 for an empty result (**inferred**, API_FACTS 6.9).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from raia_provider.testing.emulator.records import (
    AgentFile,
    Conversation,
    ConversationState,
    ConversationUser,
    Feedback,
    Limits,
    Message,
    MessageFile,
    Webhook,
)

T = TypeVar("T")
JsonObject = dict[str, Any]


def iso(moment: float) -> str:
    """Render epoch seconds like a NestJS ``Date``: ``2026-01-01T00:00:00.000Z``.

    :param moment: epoch seconds.
    """
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(moment * 1000) % 1000:03d}Z"


def _present(**fields: Any) -> JsonObject:
    return {name: value for name, value in fields.items() if value is not None}


def user_dto(user: ConversationUser) -> JsonObject:
    """``ExternalApiUserResponseDTO``.

    :param user: the conversation user.
    """
    return {
        "id": user.id,
        "firstName": user.first_name,
        "lastName": user.last_name,
        **_present(
            context=user.context,
            source=user.source,
            fkId=user.fk_id,
            fkUserId=user.fk_user_id,
            email=user.email,
            phoneNumber=user.phone_number,
        ),
        "metadata": {"customData": user.custom_data} if user.custom_data is not None else {},
        "isAnonymized": False,
    }


def conversation_dto(conversation: Conversation, user: ConversationUser) -> JsonObject:
    """``ConversationResponseDTO``.

    :param conversation: the conversation.
    :param user: its conversation user.
    """
    return {
        "id": conversation.id,
        "conversationUserId": conversation.user_id,
        **_present(title=conversation.title),
        "aiConversationId": conversation.ai_conversation_id,
        "metadata": {"customData": conversation.custom_data} if conversation.custom_data is not None else {},
        **_present(aiCallId=conversation.ai_call_id),
        "mode": conversation.mode,
        **_present(conversationStateId=conversation.state_id),
        "user": user_dto(user),
        "createdAt": iso(conversation.created_at),
        "updatedAt": iso(conversation.updated_at),
        "assignedUser": None,
        "isAnonymized": False,
    }


def feedback_dto(feedback: Feedback) -> JsonObject:
    """``FeedbackResponseDTO`` (a conversation's ``feedbacks[]`` item).

    :param feedback: the feedback.
    """
    return {**base_feedback_dto(feedback), "createdAt": iso(feedback.created_at), "updatedAt": iso(feedback.updated_at)}


def conversation_with_feedbacks_dto(
    conversation: Conversation, user: ConversationUser, feedbacks: Sequence[Feedback]
) -> JsonObject:
    """``ConversationWithFeedbacksResponseDTO``.

    :param conversation: the conversation.
    :param user: its conversation user.
    :param feedbacks: the feedback given on its messages.
    """
    return {**conversation_dto(conversation, user), "feedbacks": [feedback_dto(f) for f in feedbacks]}


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


def base_feedback_dto(feedback: Feedback) -> JsonObject:
    """``BaseFeedbackResponseDTO`` (a message's ``conversationMessageFeedbacks[]`` item).

    :param feedback: the feedback.
    """
    return {
        "id": feedback.id,
        "voteType": feedback.vote_type,
        "question": feedback.question,
        "answer": feedback.answer,
        "comment": feedback.comment,
        "userEmail": feedback.user_email,
    }


def message_feedback_dto(feedback: Feedback) -> JsonObject:
    """``ExternalApiCrateOrUpdateConversationMessageFeedbackResponseDTO`` (sic).

    :param feedback: the feedback.
    """
    return {
        "id": feedback.id,
        "conversationMessageId": feedback.message_id,
        "voteType": feedback.vote_type,
        "question": feedback.question,
        "answer": feedback.answer,
        "createdAt": iso(feedback.created_at),
        "updatedAt": iso(feedback.updated_at),
        "comment": feedback.comment,
    }


def state_dto(state: ConversationState) -> JsonObject:
    """``ExternalApiGetConversationStateResponseDTO``.

    :param state: the conversation state.
    """
    return {
        "id": state.id,
        "name": state.name,
        "description": state.description,
        "color": state.color,
        "isPersistent": state.is_persistent,
        "createdAt": iso(state.created_at),
        "updatedAt": iso(state.created_at),
    }


def limits_dto(limits: Limits, *, owner_key: str) -> JsonObject:
    """``AgentLimitsResponseDTO`` (``owner_key="agentId"``) or ``ConversationUserLimitsResponseDTO``
    (``owner_key="conversationUserId"``).

    :param limits: the limits.
    :param owner_key: the name of the owner id field.
    """
    return {
        "id": limits.id,
        owner_key: limits.owner_id,
        "isOrganizationDefault": limits.is_organization_default,
        "tokensAmountPerMonth": limits.tokens,
        "smsAmountPerMonth": limits.sms,
        "emailsAmountPerMonth": limits.emails,
        "secondsAmountPerMonth": limits.seconds,
    }


def agent_file_dto(agent_file: AgentFile, origin: str) -> JsonObject:
    """``UploadAgentFileResponseDTO`` (also the items of ``GET /external/agent-files/by-api-key``).

    Not in the vector store: ``isUploadedToVectorStore`` false, status ``null``; processing: false,
    ``processing``; done: true, ``done`` (with ``uploadedToVectorStoreAt``); failed: ``null`` ("a null value
    suggests a possible vector store error"), ``failed``.

    :param agent_file: the file.
    :param origin: the emulator's origin, for the file's ``url``.
    """
    status = agent_file.vector_store_status
    uploaded: bool | None = {None: False, "processing": False, "done": True, "failed": None}[status]
    return {
        "id": agent_file.id,
        "fileName": agent_file.file_name,
        "url": f"{origin}/_emulator/agent-files/{agent_file.id}",
        "createdAt": iso(agent_file.created_at),
        **_present(vectorStoreFileId=agent_file.vector_store_file_id),
        "isUploadedToVectorStore": uploaded,
        "vectorStoreUploadStatus": status,
        **_present(
            uploadedToVectorStoreAt=(
                iso(agent_file.uploaded_to_vector_store_at) if agent_file.uploaded_to_vector_store_at else None
            )
        ),
    }


def webhook_dto(webhook: Webhook) -> JsonObject:
    """``CreateAgentWebhookResponseDTO``.

    :param webhook: the webhook.
    """
    return {
        "id": webhook.id,
        "agentId": webhook.agent_id,
        "title": webhook.title,
        "description": webhook.description,
        "url": webhook.url,
        "triggerCondition": webhook.trigger_condition,
        **_present(headers=webhook.headers),
        "status": "active",
        "createdAt": iso(webhook.created_at),
        "updatedAt": iso(webhook.created_at),
    }


def profile_webhook_dto(webhook: Webhook) -> JsonObject:
    """``WebhookResponseDTO``: a webhook as listed in the profile's ``WEBHOOK`` skill (no ``id``).

    :param webhook: the webhook.
    """
    return {
        "status": "active",
        "title": webhook.title,
        "description": webhook.description,
        "url": webhook.url,
        "triggerCondition": webhook.trigger_condition,
        **_present(headers=webhook.headers),
    }


def page(items: Sequence[T], number: int, size: int, render: Callable[[T], JsonObject]) -> JsonObject:
    """The pagination envelope of one 1-based page of ``items``.

    :param items: every item, already filtered and ordered.
    :param number: the page number (from 1).
    :param size: the page size.
    :param render: renders one item.
    """
    total = len(items)
    pages = math.ceil(total / size)
    chunk = items[(number - 1) * size : number * size]
    return {
        "currentPage": number,
        "pageSize": size,
        "totalItems": total,
        "totalPages": pages,
        "hasNextPage": number < pages,
        "hasPreviousPage": number > 1,
        "data": [render(item) for item in chunk],
    }
