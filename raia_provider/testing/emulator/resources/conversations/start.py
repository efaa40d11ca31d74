"""``POST /external/conversations/start``: an outbound conversation on a channel, which touches a user, a
conversation, its first message and the agent's usage at once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from raia_provider.testing.emulator.resources.conversations.store import Channel, Conversation
from raia_provider.testing.emulator.resources.messages.store import MessageStore
from raia_provider.testing.emulator.resources.usage.store import UsageKind
from raia_provider.testing.emulator.resources.users.store import ConversationUser


class ChannelStarts(MessageStore):
    """Starts (or continues) conversations on the email, SMS and voice channels.

    :param context: the shared store context.
    """

    def start_conversation(
        self,
        agent_id: str,
        *,
        channel: Channel,
        introduction: str,
        user: dict[str, Any],
        reset: bool = False,
        context: str | None = None,
        custom_data: dict[str, Any] | None = None,
        state_id: str | None = None,
    ) -> Conversation:
        """Start (or continue) an outbound conversation on a channel; store the introduction.

        The user is found by phone number (SMS, voice) or email (email), then by the other contact, then by
        fkId; a new user is created when none matches. The user's latest active conversation is continued
        unless ``reset``, which archives it and starts a new one. An SMS or email start counts one SMS or
        email of usage.

        :param agent_id: owner.
        :param channel: ``email``, ``sms`` or ``voice``.
        :param introduction: the first assistant message (email introduction, SMS text or first spoken line).
        :param user: keyword arguments of :meth:`create_user` for a new user.
        :param reset: archive the user's active conversation and start a new one.
        :param context: conversation context (``conversationContext``).
        :param custom_data: custom data of the conversation.
        :param state_id: conversation state id.
        :raises NotFound: unknown state.
        """
        with self._lock:
            self._check_state(agent_id, state_id)
            person = self._contacted_user(agent_id, channel, user)
            active = [c for c in self.conversations(agent_id) if c.user_id == person.id and c.status == "active"]
            conversation = active[-1] if active else None
            if conversation is not None and reset:
                self._conversations.of(agent_id).save(replace(conversation, status="archived"))
                conversation = None
            if conversation is None:
                conversation = self.create_conversation(
                    agent_id, person.id, context=context, custom_data=custom_data, state_id=state_id, channel=channel
                )
            self._add_message(conversation, "assistant", introduction, source=channel)
            if channel in ("sms", "email"):
                kind: UsageKind = "sms" if channel == "sms" else "emails"
                self.record_usage(agent_id, kind, 1, conversation_id=conversation.id, user_id=person.id)
            return self.conversation(agent_id, conversation.id)

    def _contacted_user(self, agent_id: str, channel: Channel, user: dict[str, Any]) -> ConversationUser:
        """The user the channel reaches (by its own contact first), created from ``user`` when none matches."""
        order = ("email", "phone_number") if channel == "email" else ("phone_number", "email")
        for name in (*order, "fk_id"):
            if user.get(name) is not None:
                found = self.users_matching(agent_id, **{name: user[name]})
                if found:
                    return found[0]
        return self.create_user(agent_id, **user)
