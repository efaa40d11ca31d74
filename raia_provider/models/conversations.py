"""Bodies of raia's conversation operations: conversations, their messages, states, files and feedback.

Spec schemas mirrored: ``MessageFileBodyDTO`` (:class:`MessageFile`), ``StartConversationResponseDTO``
(:class:`StartedConversation`), ``ConversationResponseDTO`` (:class:`Conversation`),
``ConversationWithFeedbacksResponseDTO`` (:class:`ConversationWithFeedbacks`), ``AssignedUserResponseDTO``,
``BaseFeedbackResponseDTO`` / ``FeedbackResponseDTO`` (:class:`MessageFeedback` / :class:`ConversationFeedback`),
``ExternalApiGetConversationStateResponseDTO`` (:class:`ConversationState`), the message DTOs
(:class:`ConversationMessage` and its parts), ``GetConversationMessagesResponseDTO``, ``GetResponseOnResponseDTO``
(:class:`MessageReply`), the message-file URL DTOs and the feedback result.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from raia_provider.models.base import Id, NonBlankStr, OneOrMany, RaiaBody, RaiaModel
from raia_provider.models.users import ConversationUser

ConversationMode = Literal["manual", "ai"]
ConversationStatus = Literal["active", "inactive", "archived"]
SenderRole = Literal["conversation_user", "assistant", "manual_assistant"]
VoteType = Literal["up", "down"]
ReplyStatus = Literal["pending", "completed", "failed"]

#: raia's release notes (2025-12-10) describe the message poll with ``running``/``error``; the spec says
#: ``pending``/``failed``. Both are read, and callers only ever see the spec's words.
_REPLY_STATUS_SYNONYMS = {"running": "pending", "error": "failed"}


class MessageFile(RaiaBody):
    """A file attached to a message, uploaded first through ``create_message_file_upload_url``.

    :param file_name: the file's name (``fileName``).
    :param storage_path: the ``storagePath`` the upload URL came with.
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("MessageFileBodyDTO",)

    file_name: NonBlankStr
    storage_path: Id


class StartedConversation(RaiaModel):
    """The conversation an outbound start opened (or continued).

    :param conversation_id: its id (``conversationId``).
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("StartConversationResponseDTO",)

    conversation_id: str


class AssignedUser(RaiaModel):
    """The platform user a conversation is assigned to.

    :param id: the platform user's id.
    :param first_name: first name.
    :param last_name: last name.
    :param avatar_url: avatar URL, if any.
    :param email: email address.
    :param phone_number: phone number, if any.
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("AssignedUserResponseDTO",)

    id: str
    first_name: str
    last_name: str
    avatar_url: str | None = None
    email: str
    phone_number: str | None = None


class MessageFeedback(RaiaModel):
    """A vote on an assistant message, as listed with the message.

    :param id: the feedback's id.
    :param vote_type: ``up`` or ``down`` (``voteType``).
    :param question: the question the vote is about.
    :param answer: the answer the vote is about.
    :param comment: the voter's comment.
    :param user_email: the voter's email, if known (``userEmail``).
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("BaseFeedbackResponseDTO",)

    id: str
    vote_type: VoteType
    question: str | None
    answer: str | None
    comment: str | None
    user_email: str | None = None


class ConversationFeedback(MessageFeedback):
    """A vote as listed with a conversation: :class:`MessageFeedback` with its dates (raia's format, as text).

    :param created_at: when it was given (``createdAt``).
    :param updated_at: when it last changed (``updatedAt``).
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("FeedbackResponseDTO",)

    created_at: str
    updated_at: str


class Conversation(RaiaModel):
    """A conversation between the agent and one conversation user. Dates are kept in raia's text format.

    :param id: the conversation's id.
    :param conversation_user_id: the user's id (``conversationUserId``).
    :param title: its title.
    :param score: raia's score of the conversation.
    :param summary: raia's summary.
    :param ai_conversation_id: the model provider's conversation id, e.g. ``conv_...`` (``aiConversationId``).
    :param metadata: raia's metadata, e.g. ``{"customData": {...}}``.
    :param ai_call_id: the voice call's id, e.g. ``call_...`` (``aiCallId``).
    :param mode: ``ai`` (the agent answers) or ``manual`` (a person does).
    :param conversation_state_id: the conversation's state (``conversationStateId``).
    :param user: the conversation user.
    :param created_at: when it was created (``createdAt``).
    :param updated_at: when it last changed (``updatedAt``).
    :param assigned_user: the platform user it is assigned to (``assignedUser``).
    :param is_anonymized: whether raia has anonymized it (``isAnonymized``).
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("ConversationResponseDTO",)

    id: str
    conversation_user_id: str
    title: str | None = None
    score: float | None = None
    summary: str | None = None
    ai_conversation_id: str
    metadata: dict[str, Any] | None = None
    ai_call_id: str | None = None
    mode: ConversationMode | None = None
    conversation_state_id: str | None = None
    user: ConversationUser
    created_at: str
    updated_at: str
    assigned_user: AssignedUser | None = None
    is_anonymized: bool


class ConversationWithFeedbacks(Conversation):
    """A :class:`Conversation` with the votes on its messages, as read and listed.

    :param feedbacks: the votes on its messages.
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("ConversationWithFeedbacksResponseDTO",)

    feedbacks: list[ConversationFeedback] | None = None


class ConversationState(RaiaModel):
    """A state the agent's conversations can be in (a label such as "Qualified"), for ``conversation_state_id``.

    :param id: the state's id.
    :param name: its name.
    :param description: its description.
    :param color: its colour as hex, e.g. ``#22c55e``.
    :param is_persistent: whether the state survives new messages (``isPersistent``).
    :param created_at: when it was created (``createdAt``).
    :param updated_at: when it last changed (``updatedAt``).
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("ExternalApiGetConversationStateResponseDTO",)

    id: str
    name: str
    description: str | None
    color: str | None
    is_persistent: bool
    created_at: str
    updated_at: str


#: The response of ``GET /conversations/states``: the spec declares one state object, raia answers with an
#: array; always a list here, also when a single object comes.
ConversationStates = Annotated[list[ConversationState], OneOrMany]


class UrlCitation(RaiaModel):
    """A web page the answer cites.

    :param url: its URL.
    :param title: its title.
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("UrlCitationDTO",)

    url: str
    title: str


class FileCitation(RaiaModel):
    """A knowledge-base file the answer cites.

    :param file_id: the file's id (``fileId``).
    :param filename: its name.
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("FileCitationDTO",)

    file_id: str
    filename: str


class FullAIResponse(RaiaModel):
    """What the model returned besides the answer text.

    :param reasoning: reasoning summaries.
    :param output_text: the raw output text (``outputText``).
    :param url_citations: web pages cited (``urlCitations``).
    :param file_citations: files cited (``fileCitations``).
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("FullAIResponseDTO",)

    reasoning: list[str] | None = None
    output_text: str | None = None
    url_citations: list[UrlCitation] | None = None
    file_citations: list[FileCitation] | None = None


class MessageFileInfo(RaiaModel):
    """A file attached to a stored message; ``get_message_file_url`` gives a link to download it.

    :param id: the file's id.
    :param file_name: its name (``fileName``).
    :param open_ai_file_id: the model provider's file id (``openAIFileId``).
    :param size: its size in bytes, if known.
    :param updated_at: when it last changed (``updatedAt``).
    :param created_at: when it was attached (``createdAt``).
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("ConversationMessageFileResponseDTO",)

    id: str
    file_name: str
    open_ai_file_id: str = Field(alias="openAIFileId")
    size: float | None = None
    updated_at: str
    created_at: str


class ConversationMessage(RaiaModel):
    """One message of a conversation: the user's question, the agent's answer or a person's manual reply.

    ``source`` is read as an open string: raia adds channels (``ms_teams`` came late), and a new one must not
    make a whole message list unreadable. The spec's values are ``email``, ``sms``, ``live_chat``, ``copilot``,
    ``api``, ``voice`` and ``ms_teams``.

    :param id: the message's id.
    :param message: its text.
    :param raw_message: its text before raia's post-processing (``rawMessage``).
    :param conversation_id: the conversation's id (``conversationId``).
    :param sender_role: ``conversation_user``, ``assistant`` or ``manual_assistant`` (``senderRole``).
    :param conversation_message_id: for an answer, the id of the question it answers (``conversationMessageId``).
    :param source: the channel it came through.
    :param created_at: when it was stored (``createdAt``).
    :param conversation_message_feedbacks: votes on it (``conversationMessageFeedbacks``).
    :param full_ai_response: reasoning and citations (``fullAIResponse``).
    :param subagent_id: the sub-agent that answered, under automatic orchestration (``subagentId``).
    :param expanded_message: the message as expanded by Enhanced Prompting (``expandedMessage``).
    :param files: files attached to it.
    :param is_anonymized: whether raia has anonymized it (``isAnonymized``).
    """

    spec_schemas: ClassVar[tuple[str, ...]] = (
        "ConversationMessageResponseDTO",
        "ProcessMessageResponseDTO",
        "SendMessageResponseDTO",
    )
    spec_open_enums: ClassVar[frozenset[str]] = frozenset({"source"})

    id: str
    message: str
    raw_message: str | None = None
    conversation_id: str
    sender_role: SenderRole
    conversation_message_id: str
    source: str
    created_at: str
    conversation_message_feedbacks: list[MessageFeedback] | None = None
    full_ai_response: FullAIResponse | None = Field(default=None, alias="fullAIResponse")
    subagent_id: str | None = None
    expanded_message: str | None = None
    files: list[MessageFileInfo] | None = None
    is_anonymized: bool


class ConversationMessages(RaiaModel):
    """All messages of a conversation.

    :param messages: the messages, oldest first unless ``order_direction="DESC"`` was asked for.
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("GetConversationMessagesResponseDTO",)

    messages: list[ConversationMessage]


class MessageReply(RaiaModel):
    """The state of the agent's answer to a message sent with ``submit_message``.

    ``status`` is always one of the spec's ``pending``, ``completed`` and ``failed``: raia's release notes
    describe the same poll with ``running`` and ``error``, which are read as ``pending`` and ``failed``. Those
    notes also make ``message`` and ``error`` optional, and the prompt poll answers ``null`` while it waits; a
    missing key reads as ``None`` and a ``null`` body as pending.

    :param status: ``pending``, ``completed`` or ``failed``.
    :param message: the agent's answer, once completed.
    :param error: raia's error text, when failed.
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("GetResponseOnResponseDTO",)

    status: ReplyStatus
    message: ConversationMessage | None
    error: str | None

    @model_validator(mode="before")
    @classmethod
    def _read_release_note_vocabulary(cls, data: Any) -> Any:
        if data is None:
            return {"status": "pending", "message": None, "error": None}
        if not isinstance(data, dict):
            return data
        data = {"message": None, "error": None, **data}
        if isinstance(data.get("status"), str):
            data["status"] = _REPLY_STATUS_SYNONYMS.get(data["status"], data["status"])
        return data


class MessageFileUploadUrl(RaiaModel):
    """Where to upload a file for a message, and the path to name it by in the message's ``files``.

    :param signed_url: a pre-signed URL to upload the bytes to (``signedUrl``).
    :param storage_path: the path to pass as :class:`MessageFile` ``storage_path`` (``storagePath``).
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("CreateConversationMessageFileSignedUploadUrlResponseDTO",)

    signed_url: str
    storage_path: str


class MessageFileUrl(RaiaModel):
    """A pre-signed link to download a message's file.

    :param signed_url: the link (``signedUrl``).
    :param file_id: the file's id (``fileId``).
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("GetConversationMessageFileSignedUrlResponseDTO",)

    signed_url: str
    file_id: str


class FeedbackResult(RaiaModel):
    """The vote as raia stored it (created, or updated if the user had voted on the message before).

    :param id: the feedback's id.
    :param conversation_message_id: the message voted on (``conversationMessageId``).
    :param vote_type: ``up`` or ``down`` (``voteType``).
    :param question: the question.
    :param answer: the answer.
    :param created_at: when it was first given (``createdAt``).
    :param updated_at: when it last changed (``updatedAt``).
    :param comment: the comment.
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("ExternalApiCrateOrUpdateConversationMessageFeedbackResponseDTO",)

    id: str
    conversation_message_id: str
    vote_type: VoteType
    question: str | None
    answer: str | None
    created_at: str
    updated_at: str
    comment: str | None
