"""The conversations' bodies and DTOs, in raia's field names.

``POST /external/conversations/start`` takes one of three bodies, picked by ``channel``
(:func:`parse_start_body`); the others are plain FastAPI bodies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import StrictStr, StringConstraints, ValidationError

from raia_provider.testing.emulator.body_fields import (
    NOT_NULL_TEXT,
    Flag,
    OptionalObject,
    RequestBody,
    RequiredText,
    Text,
    one_of,
)
from raia_provider.testing.emulator.rendering import JsonObject, iso, present
from raia_provider.testing.emulator.resources.conversations.store import Conversation, ConversationState
from raia_provider.testing.emulator.resources.feedback.store import Feedback
from raia_provider.testing.emulator.resources.feedback.wire import feedback_dto
from raia_provider.testing.emulator.resources.users.store import ConversationUser
from raia_provider.testing.emulator.resources.users.wire import ContactFields, contact_details, user_dto
from raia_provider.testing.emulator.validation import class_validator_details, detail, refuse

TITLE_MAX = 255
CONTEXT_MAX = 256_000
CHANNELS = ("email", "sms", "voice")

Title = Annotated[StrictStr | None, StringConstraints(max_length=TITLE_MAX), NOT_NULL_TEXT]
Context = Annotated[StrictStr | None, StringConstraints(max_length=CONTEXT_MAX), NOT_NULL_TEXT]


class _StartBody(ContactFields):
    conversationContext: Text = None
    conversationStateId: Text = None
    authorId: Text = None


class StartEmailBody(_StartBody):
    """``StartEmailConversationBodyDTO``."""

    channel: Annotated[Literal["email"], one_of(*CHANNELS)]
    email: RequiredText
    emailSubject: RequiredText
    emailIntroduction: RequiredText
    includeSignatureInEmail: Flag = None
    resetConversation: Flag = None


class StartSmsBody(_StartBody):
    """``StartSmsConversationBodyDTO``."""

    channel: Annotated[Literal["sms"], one_of(*CHANNELS)]
    phoneNumber: RequiredText
    smsIntroduction: RequiredText
    includeSignatureInSms: Flag = None
    resetConversation: Flag = None


class StartVoiceBody(_StartBody):
    """``StartVoiceConversationBodyDTO``."""

    channel: Annotated[Literal["voice"], one_of(*CHANNELS)]
    phoneNumber: RequiredText
    firstMessage: RequiredText


StartBody = StartEmailBody | StartSmsBody | StartVoiceBody
START_BODIES: dict[str, type[StartEmailBody] | type[StartSmsBody] | type[StartVoiceBody]] = {
    "email": StartEmailBody,
    "sms": StartSmsBody,
    "voice": StartVoiceBody,
}


class CreateConversationBody(RequestBody):
    """``CreateConversationBodyDTO``."""

    conversationUserId: RequiredText
    title: Title = None
    context: Context = None
    customData: OptionalObject = None
    conversationStateId: Text = None


class UpdateConversationBody(RequestBody):
    """``UpdateConversationBodyDTO`` (all optional)."""

    title: Title = None
    context: Context = None
    status: Annotated[Literal["active", "inactive", "archived"] | None, one_of("active", "inactive", "archived")] = None
    conversationStateId: Text = None


class UpdateModeBody(RequestBody):
    """``UpdateConversationModeBodyDTO`` (``mode`` is required by the emulator, see the route)."""

    mode: Annotated[Literal["manual", "ai"], one_of("manual", "ai")]


class DeleteConversationsBody(RequestBody):
    """``DeleteUserConversationsBodyDTO``."""

    conversationUserId: RequiredText


def parse_start_body(payload: Any) -> StartBody:
    """Validate a ``POST /external/conversations/start`` body: pick the DTO by ``channel``, then check it.

    :param payload: the parsed JSON body.
    :raises RaiaError: 400 with class-validator details.
    """
    if not isinstance(payload, dict):
        refuse([detail("body", "isObject", "body must be a JSON object")])
    channel = payload.get("channel")
    model = START_BODIES.get(channel) if isinstance(channel, str) else None
    if model is None:
        refuse([detail("channel", "isEnum", f"channel must be one of the following values: {', '.join(CHANNELS)}")])
        raise AssertionError("unreachable")
    try:
        body = model.model_validate(payload)
    except ValidationError as error:
        refuse(class_validator_details(error.errors()))
        raise
    refuse(contact_details(body))
    return body


def introduction_of(body: StartBody) -> str:
    """The first assistant message of a start: the email introduction, the SMS text or the first spoken line.

    :param body: a parsed start body.
    """
    if isinstance(body, StartEmailBody):
        return body.emailIntroduction
    if isinstance(body, StartSmsBody):
        return body.smsIntroduction
    return body.firstMessage


def conversation_dto(conversation: Conversation, user: ConversationUser) -> JsonObject:
    """``ConversationResponseDTO``.

    :param conversation: the conversation.
    :param user: its conversation user.
    """
    return {
        "id": conversation.id,
        "conversationUserId": conversation.user_id,
        **present(title=conversation.title),
        "aiConversationId": conversation.ai_conversation_id,
        "metadata": {"customData": conversation.custom_data} if conversation.custom_data is not None else {},
        **present(aiCallId=conversation.ai_call_id),
        "mode": conversation.mode,
        **present(conversationStateId=conversation.state_id),
        "user": user_dto(user),
        "createdAt": iso(conversation.created_at),
        "updatedAt": iso(conversation.updated_at),
        "assignedUser": None,
        "isAnonymized": False,
    }


def conversation_with_feedbacks_dto(
    conversation: Conversation, user: ConversationUser, feedbacks: Sequence[Feedback]
) -> JsonObject:
    """``ConversationWithFeedbacksResponseDTO``.

    :param conversation: the conversation.
    :param user: its conversation user.
    :param feedbacks: the feedback given on its messages.
    """
    return {**conversation_dto(conversation, user), "feedbacks": [feedback_dto(f) for f in feedbacks]}


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
