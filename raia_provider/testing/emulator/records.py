"""Records of the conversation side of the emulated API: users, conversations, messages, files, webhooks...

Plain frozen dataclasses, one per stored entity, owned by one agent each (see :mod:`.workspace`, which stores
and changes them). Times are wall-clock seconds since the epoch (``created_at``, ``updated_at``), rendered as
ISO 8601 by :mod:`.dtos`; ``seq`` is a creation counter that breaks ties between equal times. Delays (an async
message, a vector-store upload) are on the monotonic clock (``due_at``), like async prompts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

Channel = Literal["api", "email", "sms", "voice"]
SenderRole = Literal["conversation_user", "assistant", "manual_assistant"]
ConversationMode = Literal["manual", "ai"]
ConversationStatus = Literal["active", "inactive", "archived"]
MessageJobStatus = Literal["pending", "completed", "failed"]
VectorStoreStatus = Literal["processing", "done", "failed"]
TriggerCondition = Literal[
    "each_message", "end_dialog", "start_dialog", "chat_currently_unavailable", "auto_archive_conversation", "manual"
]
TRIGGER_CONDITIONS: tuple[str, ...] = get_args(TriggerCondition)
UsageKind = Literal["tokens", "sms", "emails", "seconds"]
VoteType = Literal["up", "down"]
LimitsOwner = Literal["agent", "user"]


@dataclass(frozen=True)
class ConversationUser:
    """A conversation user (an end user the agent talks to).

    :param id: user id (UUID).
    :param agent_id: owner.
    :param first_name: first name.
    :param last_name: last name.
    :param email: email, if known.
    :param phone_number: phone number, if known.
    :param fk_id: the caller's foreign key for the user.
    :param fk_user_id: the caller's second foreign key.
    :param context: user context (e.g. "Support").
    :param source: source tag (e.g. "crm").
    :param custom_data: custom data, kept as ``metadata.customData``.
    :param created_at: wall-clock creation time.
    :param seq: creation counter.
    """

    id: str
    agent_id: str
    first_name: str
    last_name: str
    email: str | None = None
    phone_number: str | None = None
    fk_id: str | None = None
    fk_user_id: str | None = None
    context: str | None = None
    source: str | None = None
    custom_data: dict[str, Any] | None = None
    created_at: float = 0.0
    seq: int = 0


@dataclass(frozen=True)
class Conversation:
    """A conversation between the agent and one conversation user.

    :param id: conversation id (UUID).
    :param agent_id: owner.
    :param user_id: the conversation user.
    :param channel: how it started: ``api`` (``POST /conversations``) or the start channel.
    :param ai_conversation_id: OpenAI-side id (``conv_…``).
    :param title: title, if set.
    :param context: conversation context, if set.
    :param custom_data: custom data, kept as ``metadata.customData``.
    :param state_id: conversation state id, if set.
    :param mode: ``ai`` or ``manual``.
    :param status: ``active``, ``inactive`` or ``archived``.
    :param ai_call_id: OpenAI/VAPI call id of a voice conversation (``call_…``).
    :param created_at: wall-clock creation time.
    :param updated_at: wall-clock time of the last change or message.
    :param seq: creation counter.
    """

    id: str
    agent_id: str
    user_id: str
    channel: Channel
    ai_conversation_id: str
    title: str | None = None
    context: str | None = None
    custom_data: dict[str, Any] | None = None
    state_id: str | None = None
    mode: ConversationMode = "ai"
    status: ConversationStatus = "active"
    ai_call_id: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    seq: int = 0


@dataclass(frozen=True)
class MessageFile:
    """A file attached to a message (uploaded through a conversation's signed URL).

    :param id: file id (UUID), the ``fileId`` of the signed download URL.
    :param file_name: file name.
    :param storage_path: the ``storagePath`` it was uploaded to.
    :param open_ai_file_id: OpenAI-style file id.
    :param size: bytes uploaded, ``None`` if nothing was PUT to the signed URL.
    :param created_at: wall-clock time.
    """

    id: str
    file_name: str
    storage_path: str
    open_ai_file_id: str
    size: int | None
    created_at: float


@dataclass(frozen=True)
class Message:
    """A message of a conversation.

    :param id: message id (UUID).
    :param conversation_id: its conversation.
    :param sender_role: ``conversation_user``, ``assistant`` or ``manual_assistant``.
    :param text: the message text.
    :param question_id: ``conversationMessageId``: the question a reply answers (a question's own id).
    :param source: ``api``, ``email``, ``sms``, ``voice``, ...
    :param files: attached files.
    :param created_at: wall-clock time.
    :param seq: creation counter.
    """

    id: str
    conversation_id: str
    sender_role: SenderRole
    text: str
    question_id: str
    source: str
    files: tuple[MessageFile, ...] = ()
    created_at: float = 0.0
    seq: int = 0


@dataclass(frozen=True)
class MessageJob:
    """The agent's pending or settled answer to a question sent with ``…/messages/async`` (or sync).

    :param question_id: the question message (the ``questionMessageId`` polled).
    :param conversation_id: its conversation.
    :param agent_name: the answering agent's name.
    :param question: the question text.
    :param file_names: names of the question's files.
    :param due_at: monotonic time from which a poll settles it; ``None`` = held for the control API.
    :param status: ``pending``, ``completed`` or ``failed``.
    :param reply_id: the reply message once completed.
    :param error: the error once failed.
    """

    question_id: str
    conversation_id: str
    agent_name: str
    question: str
    file_names: tuple[str, ...]
    due_at: float | None
    status: MessageJobStatus = "pending"
    reply_id: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class ConversationState:
    """A conversation state (a label such as "New" or "Resolved").

    :param id: state id (UUID).
    :param name: name.
    :param description: description, may be ``None``.
    :param color: hex colour, may be ``None``.
    :param is_persistent: whether it survives a new conversation.
    :param created_at: wall-clock time.
    """

    id: str
    name: str
    description: str | None
    color: str | None
    is_persistent: bool
    created_at: float


@dataclass(frozen=True)
class AgentFile:
    """A knowledge-base file of an agent, without its bytes.

    :param id: file id (UUID).
    :param agent_id: owner.
    :param file_name: file name.
    :param content_type: the part's content type.
    :param size: bytes uploaded.
    :param sha256: hex SHA-256 of the bytes.
    :param created_at: wall-clock time.
    :param vector_store_status: ``None`` (not in the vector store), ``processing``, ``done`` or ``failed``.
    :param vector_store_file_id: OpenAI file id once sent to the vector store.
    :param vector_store_due_at: monotonic time from which a read settles ``processing``; ``None`` = held.
    :param uploaded_to_vector_store_at: wall-clock time processing ended ``done``.
    """

    id: str
    agent_id: str
    file_name: str
    content_type: str
    size: int
    sha256: str
    created_at: float
    vector_store_status: VectorStoreStatus | None = None
    vector_store_file_id: str | None = None
    vector_store_due_at: float | None = None
    uploaded_to_vector_store_at: float | None = None


@dataclass(frozen=True)
class Webhook:
    """A webhook registered with ``POST /external/agents/webhooks`` (never called by the emulator).

    :param id: webhook id (UUID).
    :param agent_id: owner.
    :param title: title.
    :param description: description.
    :param url: the public HTTPS URL.
    :param trigger_condition: when raia would call it.
    :param headers: extra headers raia would send.
    :param created_at: wall-clock time.
    """

    id: str
    agent_id: str
    title: str
    description: str
    url: str
    trigger_condition: TriggerCondition
    headers: dict[str, Any] | None
    created_at: float


@dataclass(frozen=True)
class Limits:
    """Monthly limits of an agent or of a conversation user.

    :param id: limits id (UUID).
    :param owner_id: the agent or conversation user.
    :param tokens: ``tokensAmountPerMonth``.
    :param sms: ``smsAmountPerMonth``.
    :param emails: ``emailsAmountPerMonth``.
    :param seconds: ``secondsAmountPerMonth``.
    :param is_organization_default: whether these are the organization's defaults (not the owner's own).
    """

    id: str
    owner_id: str
    tokens: float
    sms: float
    emails: float
    seconds: float
    is_organization_default: bool = False


@dataclass(frozen=True)
class UsageEvent:
    """One use of a metered resource, for ``/agents/limits`` (usage) and ``/agents/statistic``.

    :param kind: ``tokens``, ``sms``, ``emails`` or ``seconds``.
    :param amount: how much.
    :param at: wall-clock time.
    :param conversation_id: the conversation it belongs to, if any.
    :param user_id: the conversation user it belongs to, if any.
    """

    kind: UsageKind
    amount: float
    at: float
    conversation_id: str | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class Feedback:
    """Feedback on a message, one per (message, user).

    :param id: feedback id (UUID).
    :param message_id: the rated message.
    :param conversation_id: the message's conversation.
    :param user_id: who gave it.
    :param vote_type: ``up`` or ``down``.
    :param question: the question.
    :param answer: the answer, may be ``None``.
    :param comment: a comment, may be ``None``.
    :param user_email: the giver's email when they are a known conversation user.
    :param created_at: wall-clock creation time.
    :param updated_at: wall-clock time of the last update.
    """

    id: str
    message_id: str
    conversation_id: str
    user_id: str
    vote_type: VoteType
    question: str
    answer: str | None
    comment: str | None
    user_email: str | None
    created_at: float
    updated_at: float


@dataclass
class AgentData:
    """Everything one agent owns on the conversation side (mutable; guarded by the state's lock).

    :param users: conversation users by id.
    :param user_limits: own limits of conversation users, by user id.
    :param conversations: conversations by id.
    :param messages: messages by id, in creation order.
    :param jobs: answers to questions, by question id.
    :param states: the agent's conversation states.
    :param files: agent files by id, in upload order.
    :param webhooks: registered webhooks, in creation order.
    :param limits: the agent's own limits, if set.
    :param usage: usage events, oldest first.
    :param feedbacks: feedback by (message id, user id).
    """

    users: dict[str, ConversationUser] = field(default_factory=dict)
    user_limits: dict[str, Limits] = field(default_factory=dict)
    conversations: dict[str, Conversation] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    jobs: dict[str, MessageJob] = field(default_factory=dict)
    states: tuple[ConversationState, ...] = ()
    files: dict[str, AgentFile] = field(default_factory=dict)
    webhooks: list[Webhook] = field(default_factory=list)
    limits: Limits | None = None
    usage: list[UsageEvent] = field(default_factory=list)
    feedbacks: dict[tuple[str, str], Feedback] = field(default_factory=dict)
