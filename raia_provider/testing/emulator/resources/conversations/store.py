"""Conversations and their states: each agent's conversations with its users, and its state labels.

Deleting a user deletes their conversations; stores that keep records of a conversation (messages,
feedback) extend :meth:`ConversationStore._conversations_dropped` to drop them too.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from operator import attrgetter
from typing import Any, Literal

from raia_provider.testing.emulator.resources.users.store import UserStore
from raia_provider.testing.emulator.storage import NotFound, StoreContext, Table, hex_id

Channel = Literal["api", "email", "sms", "voice"]
ConversationMode = Literal["manual", "ai"]
ConversationStatus = Literal["active", "inactive", "archived"]


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


class ConversationStore(UserStore):
    """Each agent's conversations (a conversation belongs to one of its users) and conversation states.

    :param context: the shared store context.
    """

    def __init__(self, context: StoreContext) -> None:
        super().__init__(context)
        self._conversations = context.per_agent(lambda: Table[Conversation](attrgetter("id")))
        self._states = context.per_agent(self._seed_states)

    def _seed_states(self) -> tuple[ConversationState, ...]:
        now = self._wall_now()
        return (
            ConversationState(
                str(uuid.uuid4()), "New", "A conversation nobody has handled yet.", "#3B82F6", False, now
            ),
            ConversationState(str(uuid.uuid4()), "Resolved", None, None, True, now),
        )

    def states(self, agent_id: str) -> list[ConversationState]:
        """The agent's conversation states (two are seeded: "New" and "Resolved").

        :param agent_id: the agent.
        """
        with self._lock:
            return list(self._states.of(agent_id))

    def _check_state(self, agent_id: str, state_id: str | None) -> None:
        if state_id is not None and all(state.id != state_id for state in self._states.of(agent_id)):
            raise NotFound(state_id)

    def create_conversation(
        self,
        agent_id: str,
        user_id: str,
        *,
        title: str | None = None,
        context: str | None = None,
        custom_data: dict[str, Any] | None = None,
        state_id: str | None = None,
        channel: Channel = "api",
    ) -> Conversation:
        """Create a conversation for an existing user.

        :param agent_id: owner.
        :param user_id: the conversation user.
        :param title: title.
        :param context: conversation context.
        :param custom_data: custom data.
        :param state_id: conversation state id.
        :param channel: ``api`` unless started on a channel.
        :raises NotFound: unknown user or state.
        """
        with self._lock:
            self.user(agent_id, user_id)
            self._check_state(agent_id, state_id)
            now, seq = self._context.stamp()
            conversation = Conversation(
                id=str(uuid.uuid4()),
                agent_id=agent_id,
                user_id=user_id,
                channel=channel,
                ai_conversation_id=hex_id("conv_", 32),
                title=title,
                context=context,
                custom_data=custom_data,
                state_id=state_id,
                ai_call_id=hex_id("call_") if channel == "voice" else None,
                created_at=now,
                updated_at=now,
                seq=seq,
            )
            return self._conversations.of(agent_id).save(conversation)

    def conversation(self, agent_id: str, conversation_id: str) -> Conversation:
        """Return one of the agent's conversations.

        :param agent_id: owner.
        :param conversation_id: conversation id.
        :raises NotFound: if unknown to this agent.
        """
        with self._lock:
            return self._conversations.of(agent_id).get(conversation_id)

    def conversations(self, agent_id: str) -> list[Conversation]:
        """The agent's conversations, oldest first.

        :param agent_id: owner.
        """
        with self._lock:
            return self._conversations.of(agent_id).rows()

    def update_conversation(
        self,
        agent_id: str,
        conversation_id: str,
        *,
        title: str | None = None,
        context: str | None = None,
        status: ConversationStatus | None = None,
        state_id: str | None = None,
        mode: ConversationMode | None = None,
    ) -> Conversation:
        """Change a conversation; ``None`` leaves a field as it is.

        :param agent_id: owner.
        :param conversation_id: conversation id.
        :param title: new title.
        :param context: new context.
        :param status: new status.
        :param state_id: new state id.
        :param mode: new mode.
        :raises NotFound: unknown conversation or state.
        """
        with self._lock:
            conversation = self.conversation(agent_id, conversation_id)
            self._check_state(agent_id, state_id)
            changes: dict[str, Any] = {
                name: value
                for name, value in (
                    ("title", title),
                    ("context", context),
                    ("status", status),
                    ("state_id", state_id),
                    ("mode", mode),
                )
                if value is not None
            }
            return self._conversations.of(agent_id).save(replace(conversation, **changes, updated_at=self._wall_now()))

    def _touch(self, conversation: Conversation, moment: float) -> None:
        """Mark a conversation changed at ``moment`` (a message was added to it)."""
        self._conversations.of(conversation.agent_id).save(replace(conversation, updated_at=moment))

    def delete_user_conversations(self, agent_id: str, user_id: str) -> int:
        """Delete every conversation of a user (``DELETE /external/conversations``).

        :param agent_id: owner.
        :param user_id: the conversation user.
        :return: how many were deleted.
        :raises NotFound: if the user is unknown to this agent.
        """
        with self._lock:
            self.user(agent_id, user_id)
            return self._drop_conversations_of(agent_id, user_id)

    def _user_deleted(self, agent_id: str, user_id: str) -> None:
        super()._user_deleted(agent_id, user_id)
        self._drop_conversations_of(agent_id, user_id)

    def _drop_conversations_of(self, agent_id: str, user_id: str) -> int:
        doomed = {c.id for c in self._conversations.of(agent_id).where(lambda c: c.user_id == user_id)}
        self._conversations.of(agent_id).drop_where(lambda c: c.id in doomed)
        self._conversations_dropped(agent_id, doomed)
        return len(doomed)

    def _conversations_dropped(self, agent_id: str, conversation_ids: Collection[str]) -> None:
        """Drop the records of deleted conversations; each store that keeps some extends this (``super()`` first).

        :param agent_id: owner.
        :param conversation_ids: the deleted conversations.
        """
