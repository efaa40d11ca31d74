"""raia's conversation operations: start or create conversations, list and update them, exchange messages."""

from __future__ import annotations

import typing
from typing import Any, Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from raia_provider._core.endpoint import AsyncEndpoint, AsyncPagedEndpoint, Endpoint, PagedEndpoint
from raia_provider._core.operation import Operation, RaiaRequest
from raia_provider.models.base import Id, NoContent, NonBlankStr
from raia_provider.models.conversations import (
    Conversation,
    ConversationMessage,
    ConversationMessages,
    ConversationMode,
    ConversationStates,
    ConversationStatus,
    ConversationWithFeedbacks,
    FeedbackResult,
    MessageFile,
    MessageFileUploadUrl,
    MessageFileUrl,
    MessageReply,
    StartedConversation,
    VoteType,
)
from raia_provider.models.pagination import Page
from raia_provider.models.users import EmailAddress, PhoneNumber

OrderDirection = Literal["ASC", "DESC"]

_START = "ExternalApiConversationsController_startConversation"


def _implied_channel() -> Any:
    """The ``channel`` of a start declaration: required on the model, yet never passed by callers.

    raia requires ``channel`` (the spec test holds the model to that) and each declaration allows one value
    only, so :meth:`_StartConversation._channel_is_implied` fills it in. Because the right-hand side is not a
    literal ``Field(...)`` call, type checkers (the pydantic mypy plugin) read it as a default, so typed callers
    may leave it out as well.
    """
    return Field(description="always this declaration's one channel; filled in when left out")


class _StartConversation(RaiaRequest[StartedConversation]):
    """The fields every channel's start shares; one subclass per ``oneOf`` variant of the body."""

    # First, so that the phone and email checks, which run later, can see them.
    skip_phone_number_validation: bool | None = None
    skip_email_validation: bool | None = None
    first_name: NonBlankStr
    last_name: NonBlankStr
    context: str | None = None
    conversation_context: str | None = None
    source: str | None = None
    fk_id: Id | None = None
    fk_user_id: Id | None = None
    custom_data: dict[str, Any] | None = None
    conversation_state_id: Id | None = None
    author_id: Id | None = None

    @model_validator(mode="before")
    @classmethod
    def _channel_is_implied(cls, data: Any) -> Any:
        if isinstance(data, dict) and "channel" not in data:
            (channel,) = typing.get_args(cls.model_fields["channel"].annotation)
            return {**data, "channel": channel}
        return data


class StartEmailConversation(_StartConversation):
    """Start (or continue) a conversation with a person by email: raia sends the first email.

    :param first_name: the person's first name; must contain text.
    :param last_name: the person's last name; must contain text.
    :param email: their email address, like ``jane@example.com``.
    :param email_subject: the first email's subject; must contain text.
    :param email_introduction: the first email's body; must contain text.
    :param include_signature_in_email: append the agent's signature.
    :param phone_number: their E.164 phone number, optional.
    :param reset_conversation: archive the person's current conversation and start a new one.
    :param context: free-form user context, e.g. ``Support``.
    :param conversation_context: context for this conversation.
    :param source: where the person came from, e.g. ``crm``.
    :param fk_id: your own id for the person.
    :param fk_user_id: a second foreign key of yours.
    :param custom_data: your data, stored in the conversation's ``metadata.customData``.
    :param conversation_state_id: the conversation's initial state (see ``get_conversation_states``).
    :param author_id: the platform user starting it.
    :param skip_phone_number_validation: send the phone number unchecked (here and at raia).
    :param skip_email_validation: send the email address unchecked (here and at raia).
    :param channel: always ``email``; leave it out.
    """

    operation = Operation(
        "POST", "/conversations/start", _START, success_status=201, body_schema="StartEmailConversationBodyDTO"
    )
    channel: Literal["email"] = _implied_channel()
    email: EmailAddress
    email_subject: NonBlankStr
    email_introduction: NonBlankStr
    include_signature_in_email: bool | None = None
    phone_number: PhoneNumber | None = None
    reset_conversation: bool | None = None


class StartSmsConversation(_StartConversation):
    """Start (or continue) a conversation with a person by SMS: raia sends the first text message.

    :param first_name: the person's first name; must contain text.
    :param last_name: the person's last name; must contain text.
    :param phone_number: their E.164 phone number, like ``+15551234567``.
    :param sms_introduction: the first message's text; must contain text.
    :param include_signature_in_sms: append the agent's signature.
    :param email: their email address, optional.
    :param reset_conversation: archive the person's current conversation and start a new one.
    :param context: free-form user context, e.g. ``Support``.
    :param conversation_context: context for this conversation.
    :param source: where the person came from, e.g. ``crm``.
    :param fk_id: your own id for the person.
    :param fk_user_id: a second foreign key of yours.
    :param custom_data: your data, stored in the conversation's ``metadata.customData``.
    :param conversation_state_id: the conversation's initial state (see ``get_conversation_states``).
    :param author_id: the platform user starting it.
    :param skip_phone_number_validation: send the phone number unchecked (here and at raia).
    :param skip_email_validation: send the email address unchecked (here and at raia).
    :param channel: always ``sms``; leave it out.
    """

    operation = Operation(
        "POST", "/conversations/start", _START, success_status=201, body_schema="StartSmsConversationBodyDTO"
    )
    channel: Literal["sms"] = _implied_channel()
    phone_number: PhoneNumber
    sms_introduction: NonBlankStr
    include_signature_in_sms: bool | None = None
    email: EmailAddress | None = None
    reset_conversation: bool | None = None


class StartVoiceConversation(_StartConversation):
    """Start a conversation with a person by phone call: raia calls and the agent speaks first.

    :param first_name: the person's first name; must contain text.
    :param last_name: the person's last name; must contain text.
    :param phone_number: their E.164 phone number, like ``+15551234567``.
    :param first_message: the agent's first spoken line; must contain text.
    :param email: their email address, optional.
    :param context: free-form user context, e.g. ``Support``.
    :param conversation_context: context for this conversation.
    :param source: where the person came from, e.g. ``crm``.
    :param fk_id: your own id for the person.
    :param fk_user_id: a second foreign key of yours.
    :param custom_data: your data, stored in the conversation's ``metadata.customData``.
    :param conversation_state_id: the conversation's initial state (see ``get_conversation_states``).
    :param author_id: the platform user starting it.
    :param skip_phone_number_validation: send the phone number unchecked (here and at raia).
    :param skip_email_validation: send the email address unchecked (here and at raia).
    :param channel: always ``voice``; leave it out.
    """

    operation = Operation(
        "POST", "/conversations/start", _START, success_status=201, body_schema="StartVoiceConversationBodyDTO"
    )
    channel: Literal["voice"] = _implied_channel()
    phone_number: PhoneNumber
    first_message: NonBlankStr
    email: EmailAddress | None = None


class CreateConversation(RaiaRequest[Conversation]):
    """Create a conversation for an existing conversation user, without sending anything to them.

    :param conversation_user_id: the user's id (see ``create_user_with_*`` and ``find_user``).
    :param title: the conversation's title, at most 255 characters.
    :param context: context for the conversation, at most 256,000 characters.
    :param custom_data: your data, stored in the conversation's ``metadata.customData``.
    :param conversation_state_id: the conversation's initial state (see ``get_conversation_states``).
    """

    operation = Operation(
        "POST", "/conversations", "ExternalApiConversationsController_createConversation", success_status=201
    )
    conversation_user_id: Id
    title: str | None = Field(default=None, max_length=255)
    context: str | None = Field(default=None, max_length=256_000)
    custom_data: dict[str, Any] | None = None
    conversation_state_id: Id | None = None


class GetConversations(RaiaRequest[Page[ConversationWithFeedbacks]]):
    """List the agent's conversations, one page per call, with filters.

    :param page: the page to read (or, when walking, to start at), from 1.
    :param page_size: conversations per page, 1 or more.
    :param order_by: ``createdAt`` or ``updatedAt``.
    :param order_direction: ``ASC`` or ``DESC``.
    :param search_keyword: text to find in titles, summaries and the users' names, emails and phone numbers.
    :param user_id: only this conversation user's conversations.
    :param start_date: only conversations updated at or after this time (timezone-aware).
    :param end_date: only conversations updated at or before this time (timezone-aware).
    :param with_feedbacks_only: only conversations with at least one vote.
    """

    operation = Operation("GET", "/conversations", "ExternalApiConversationsController_getConversations")
    page: int | None = Field(default=None, ge=1)
    page_size: int | None = Field(default=None, ge=1)
    order_by: Literal["createdAt", "updatedAt"] | None = None
    order_direction: OrderDirection | None = None
    search_keyword: str | None = None
    user_id: Id | None = None
    start_date: AwareDatetime | None = None
    end_date: AwareDatetime | None = None
    with_feedbacks_only: bool | None = None


class DeleteUserConversations(RaiaRequest[NoContent]):
    """Delete all of one conversation user's conversations with this agent; returns ``None``.

    raia has no way to delete a single conversation; ``update_conversation(status="archived")`` archives one.

    :param conversation_user_id: the user whose conversations go.
    """

    operation = Operation(
        "DELETE", "/conversations", "ExternalApiConversationsController_deleteAllUsersConversations", success_status=204
    )
    conversation_user_id: Id


class GetConversationStates(RaiaRequest[ConversationStates]):
    """List the states the agent's conversations can be put in (always a list)."""

    operation = Operation("GET", "/conversations/states", "ExternalApiConversationsController_getConversationStates")


class GetConversation(RaiaRequest[ConversationWithFeedbacks]):
    """Read a conversation, with the votes on its messages.

    :param conversation_id: the conversation's id.
    """

    operation = Operation("GET", "/conversations/{id}", "ExternalApiConversationsController_getConversationById")
    conversation_id: Id = Field(alias="id")


class UpdateConversation(RaiaRequest[Conversation]):
    """Change a conversation's title, context, status or state; arguments left out stay as they are.

    :param conversation_id: the conversation's id.
    :param title: the new title, at most 255 characters.
    :param context: the new context, at most 256,000 characters.
    :param status: ``active``, ``inactive`` or ``archived``.
    :param conversation_state_id: the new state (see ``get_conversation_states``).
    """

    operation = Operation("PUT", "/conversations/{id}", "ExternalApiConversationsController_updateConversation")
    conversation_id: Id = Field(alias="id")
    title: str | None = Field(default=None, max_length=255)
    context: str | None = Field(default=None, max_length=256_000)
    status: ConversationStatus | None = None
    conversation_state_id: Id | None = None


class GetConversationMessages(RaiaRequest[ConversationMessages]):
    """Read all messages of a conversation (not paginated).

    :param conversation_id: the conversation's id.
    :param should_include_feedbacks: include the votes on each message.
    :param order_direction: ``ASC`` (oldest first, raia's default) or ``DESC``.
    """

    operation = Operation(
        "GET", "/conversations/{id}/messages", "ExternalApiConversationsController_getConversationMessages"
    )
    conversation_id: Id = Field(alias="id")
    should_include_feedbacks: bool | None = None
    order_direction: OrderDirection | None = None


class _MessageBody(RaiaRequest[ConversationMessage]):
    """A conversation user's message to the agent, answered in the call or in the background."""

    conversation_id: Id = Field(alias="id")
    message: NonBlankStr
    context: str | None = None
    files: list[MessageFile] | None = None


class ProcessMessage(_MessageBody):
    """Send a message as the conversation user and wait for the agent's answer, which is returned.

    :param conversation_id: the conversation's id.
    :param message: the user's message; must contain text.
    :param context: context for this message.
    :param files: files attached to it (see ``create_message_file_upload_url``).
    """

    operation = Operation(
        "POST", "/conversations/{id}/messages", "ExternalApiConversationsController_processMessage", success_status=201
    )


class SubmitMessage(_MessageBody):
    """Send a message as the conversation user without waiting; returns the stored message to poll with.

    Poll with ``get_message_reply(conversation_id=..., question_message_id=<the returned message's id>)``.

    :param conversation_id: the conversation's id.
    :param message: the user's message; must contain text.
    :param context: context for this message.
    :param files: files attached to it (see ``create_message_file_upload_url``).
    """

    operation = Operation(
        "POST",
        "/conversations/{id}/messages/async",
        "ExternalApiConversationsController_sendMessage",
        success_status=201,
    )


class GetMessageReply(RaiaRequest[MessageReply]):
    """Poll for the agent's answer to a submitted message: ``status`` is ``pending``, ``completed`` or ``failed``.

    :param conversation_id: the conversation's id.
    :param question_message_id: the id of the message ``submit_message`` returned.
    """

    operation = Operation(
        "GET",
        "/conversations/{id}/messages/{questionMessageId}/response-on",
        "ExternalApiConversationsController_getResponseOn",
    )
    conversation_id: Id = Field(alias="id")
    question_message_id: Id


class UpdateConversationMode(RaiaRequest[Conversation]):
    """Hand a conversation to a person (``manual``) or back to the agent (``ai``).

    raia's spec marks ``mode`` optional; it is the whole point of the call, so it is required here.

    :param conversation_id: the conversation's id.
    :param mode: ``manual`` or ``ai``.
    """

    operation = Operation(
        "PUT", "/conversations/{id}/mode", "ExternalApiConversationsController_updateConversationMode"
    )
    conversation_id: Id = Field(alias="id")
    mode: ConversationMode | None = Field(default=None, validate_default=True)

    @field_validator("mode")
    @classmethod
    def _mode_is_given(cls, value: ConversationMode | None) -> ConversationMode | None:
        if value is None:
            raise ValueError("is required: 'manual' (a person answers) or 'ai' (the agent answers)")
        return value


class SendManualMessage(RaiaRequest[ConversationMessage]):
    """Send a person's reply to the conversation user; the conversation must be in ``manual`` mode, not voice.

    :param conversation_id: the conversation's id.
    :param message: the text to send; must contain text.
    :param conversation_message_id: the user's message this answers.
    :param author_id: the platform user sending it.
    :param files: files attached to it (see ``create_message_file_upload_url``).
    """

    operation = Operation(
        "POST", "/conversations/{id}/send-manual-message", "ExternalApiConversationsController_sendManualMessage"
    )
    conversation_id: Id = Field(alias="id")
    message: NonBlankStr
    conversation_message_id: Id | None = None
    author_id: Id | None = None
    files: list[MessageFile] | None = None


class CreateMessageFileUploadUrl(RaiaRequest[MessageFileUploadUrl]):
    """Get a signed URL to upload a file that a message can then reference by its ``storagePath``.

    :param conversation_id: the conversation's id.
    :param file_name: the file's name, e.g. ``invoice.pdf``.
    :param content_type: its MIME type, e.g. ``application/pdf``.
    """

    operation = Operation(
        "POST",
        "/conversations/{id}/message-files/upload-url",
        "ExternalApiConversationsController_createConversationMessageFileSignedUploadUrl",
    )
    conversation_id: Id = Field(alias="id")
    file_name: NonBlankStr
    content_type: str = Field(pattern=r"^[\w.+-]+/[\w.+-]+")


class GetMessageFileUrl(RaiaRequest[MessageFileUrl]):
    """Get a signed URL to download a file attached to a message.

    :param conversation_id: the conversation's id.
    :param file_id: the file's id (a message's ``files[].id``).
    """

    operation = Operation(
        "GET",
        "/conversations/{id}/message-files/{fileId}/signed-url",
        "ExternalApiConversationsController_getConversationMessageFileSignedUrl",
    )
    conversation_id: Id = Field(alias="id")
    file_id: Id


class SaveMessageFeedback(RaiaRequest[FeedbackResult]):
    """Vote on an agent's answer, or change the user's earlier vote on it.

    :param conversation_message_id: the answer's message id.
    :param user_id: the conversation user voting.
    :param vote_type: ``up`` or ``down``.
    :param question: the question that was answered; must contain text.
    :param answer: the answer voted on.
    :param comment: a comment.
    """

    operation = Operation(
        "POST",
        "/conversation-message-feedbacks",
        "ExternalApiConversationMessageFeedbacksController_createOrUpdateFeedback",
        success_status=201,
    )
    conversation_message_id: Id
    user_id: Id
    vote_type: VoteType
    question: NonBlankStr
    answer: str | None = None
    comment: str | None = None


class ConversationEndpoints:
    """``RaiaHook`` methods for the conversation operations (blocking, and ``a``-prefixed async twins)."""

    start_email_conversation = Endpoint(StartEmailConversation)
    astart_email_conversation = AsyncEndpoint(StartEmailConversation)
    start_sms_conversation = Endpoint(StartSmsConversation)
    astart_sms_conversation = AsyncEndpoint(StartSmsConversation)
    start_voice_conversation = Endpoint(StartVoiceConversation)
    astart_voice_conversation = AsyncEndpoint(StartVoiceConversation)
    create_conversation = Endpoint(CreateConversation)
    acreate_conversation = AsyncEndpoint(CreateConversation)
    iter_conversations = PagedEndpoint(GetConversations)
    aiter_conversations = AsyncPagedEndpoint(GetConversations)
    get_conversations_page = Endpoint(GetConversations)
    aget_conversations_page = AsyncEndpoint(GetConversations)
    delete_user_conversations = Endpoint(DeleteUserConversations)
    adelete_user_conversations = AsyncEndpoint(DeleteUserConversations)
    get_conversation_states = Endpoint(GetConversationStates)
    aget_conversation_states = AsyncEndpoint(GetConversationStates)
    get_conversation = Endpoint(GetConversation)
    aget_conversation = AsyncEndpoint(GetConversation)
    update_conversation = Endpoint(UpdateConversation)
    aupdate_conversation = AsyncEndpoint(UpdateConversation)
    get_conversation_messages = Endpoint(GetConversationMessages)
    aget_conversation_messages = AsyncEndpoint(GetConversationMessages)
    process_message = Endpoint(ProcessMessage)
    aprocess_message = AsyncEndpoint(ProcessMessage)
    submit_message = Endpoint(SubmitMessage)
    asubmit_message = AsyncEndpoint(SubmitMessage)
    get_message_reply = Endpoint(GetMessageReply)
    aget_message_reply = AsyncEndpoint(GetMessageReply)
    update_conversation_mode = Endpoint(UpdateConversationMode)
    aupdate_conversation_mode = AsyncEndpoint(UpdateConversationMode)
    send_manual_message = Endpoint(SendManualMessage)
    asend_manual_message = AsyncEndpoint(SendManualMessage)
    create_message_file_upload_url = Endpoint(CreateMessageFileUploadUrl)
    acreate_message_file_upload_url = AsyncEndpoint(CreateMessageFileUploadUrl)
    get_message_file_url = Endpoint(GetMessageFileUrl)
    aget_message_file_url = AsyncEndpoint(GetMessageFileUrl)
    save_message_feedback = Endpoint(SaveMessageFeedback)
    asave_message_feedback = AsyncEndpoint(SaveMessageFeedback)
