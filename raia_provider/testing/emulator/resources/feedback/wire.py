"""The feedback body and its three DTOs (as raia shows feedback on a conversation, on a message, and back
to the caller who gave it)."""

from __future__ import annotations

from typing import Annotated, Literal

from raia_provider.testing.emulator.body_fields import RequestBody, RequiredText, Text, Uuid, one_of
from raia_provider.testing.emulator.rendering import JsonObject, iso
from raia_provider.testing.emulator.resources.feedback.store import Feedback


class FeedbackBody(RequestBody):
    """``ExternalApiCrateOrUpdateConversationMessageFeedbackBodyDTO``."""

    conversationMessageId: Uuid
    userId: Uuid
    voteType: Annotated[Literal["up", "down"], one_of("up", "down")]
    question: RequiredText
    answer: Text = None
    comment: Text = None


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


def feedback_dto(feedback: Feedback) -> JsonObject:
    """``FeedbackResponseDTO`` (a conversation's ``feedbacks[]`` item).

    :param feedback: the feedback.
    """
    return {**base_feedback_dto(feedback), "createdAt": iso(feedback.created_at), "updatedAt": iso(feedback.updated_at)}


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
