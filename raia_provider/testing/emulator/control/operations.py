"""The emulator's control operations, in process: knobs, agents, faults, the request log, held work and seeded
records, all on an :class:`~..state.EmulatorState`.

:class:`~raia_provider.testing.emulator.server.RaiaEmulator` offers them as its own methods; the
``/_emulator`` routes (:mod:`.routes`) carry them out for an emulator in another process, which
:class:`~raia_provider.testing.emulator.client.EmulatorClient` drives with the same method names. Unknown ids
raise ``KeyError`` (the routes answer 404), refused actions ``ValueError`` (400).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

from raia_provider.testing.emulator.answers import FAILURE_MESSAGE, MESSAGE_FAILURE_MESSAGE
from raia_provider.testing.emulator.config import ConfigChanges, EmulatorConfig
from raia_provider.testing.emulator.control.arguments import FaultRule, UserContacts
from raia_provider.testing.emulator.faults import Fault, FaultKind
from raia_provider.testing.emulator.records import (
    AgentFile,
    Channel,
    Conversation,
    ConversationMode,
    ConversationUser,
    KeyLeak,
    Message,
    MessageJob,
    PromptRecord,
    Upload,
    UsageEvent,
    Webhook,
)
from raia_provider.testing.emulator.requestlog import RecordedRequest
from raia_provider.testing.emulator.state import Agent, EmulatorState


class EmulatorControls:
    """The control operations on one emulator's state.

    :param state: the state they act on.
    """

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    # -- agents ------------------------------------------------------------------------------------------

    @property
    def default_agent(self) -> Agent:
        """The agent every emulator starts with."""
        return self.state.default_agent

    @property
    def default_key(self) -> str:
        """The default agent's ``Agent-Secret-Key``."""
        return self.state.default_agent.key

    def add_agent(
        self, key: str | None = None, name: str = "Agent", *, output_json_schema: Mapping[str, Any] | None = None
    ) -> Agent:
        """Create another agent with its own key.

        :param key: its ``Agent-Secret-Key``; a random UUID when omitted.
        :param name: its name.
        :param output_json_schema: its output JSON Schema: it then answers prompts and messages with JSON
            generated from it (see :mod:`~..structured_answers`), and its profile reports it.
        :raises ValueError: if the key is empty or already used, or the schema is not a JSON Schema object.
        """
        return self.state.add_agent(key=key, name=name, output_json_schema=output_json_schema)

    def set_agent_output_schema(self, agent: str, schema: Mapping[str, Any] | None) -> Agent:
        """Give an agent an output JSON Schema, or take it away (``None``); answers from now on follow it.

        A ``reset()`` takes it away again (the default agent starts without one).

        :param agent: the agent's id or key.
        :param schema: the JSON Schema (a JSON object), or ``None``.
        :raises KeyError: if no agent has that id or key.
        :raises ValueError: if the schema is not a JSON Schema object.
        """
        return self.state.set_agent_output_schema(agent, schema)

    # -- knobs, faults, log --------------------------------------------------------------------------------

    @property
    def config(self) -> EmulatorConfig:
        """The current knobs."""
        return self.state.config

    def configure(self, **changes: Unpack[ConfigChanges]) -> EmulatorConfig:
        """Change knobs: ``latency``, ``prompt_delay``, ``pending_style``, ``rate_limit``, ``burst``,
        ``message_delay``, ``message_status_vocabulary``, ``vector_store_delay``, ``json_answers``.

        :param changes: the knobs to change; others keep their value.
        """
        return self.state.configure(**changes)

    def inject_fault(self, *, kind: FaultKind, **rule: Unpack[FaultRule]) -> Fault:
        """Make the next ``count`` requests matching ``method`` and ``path`` fail (see ``faults`` module).

        :param kind: ``status``, ``reset``, ``reset_mid_response``, ``slow``, ``malformed_json`` or ``html``.
        :param rule: ``method``, ``path``, ``count``, ``status``, ``retry_after``, ``delay``, ``after``
            (see :class:`~.arguments.FaultRule`).
        :raises ValueError: on a rule that cannot be (no ``status`` for a ``status`` fault, a bad pattern...).
        """
        return self.state.faults.add(Fault(kind=kind, **rule))

    def faults(self) -> list[Fault]:
        """Pending fault rules with their remaining counts."""
        return self.state.faults.list()

    def clear_faults(self) -> None:
        """Drop every fault rule."""
        self.state.faults.clear()

    def requests(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Recorded ``/external`` requests, in order, optionally filtered.

        :param method: HTTP method filter.
        :param path: path pattern filter (same syntax as faults).
        """
        return self.state.log.select(method, path)

    def clear_requests(self) -> None:
        """Empty the request log."""
        self.state.log.clear()

    # -- prompts -----------------------------------------------------------------------------------------

    def complete_prompt(
        self, prompt_id: str, response: str | None = None, total_tokens: int | None = None
    ) -> PromptRecord:
        """Complete an async prompt now.

        :param prompt_id: the ``promptId``.
        :param response: answer text (default: the deterministic answer).
        :param total_tokens: token count (default: computed).
        :raises KeyError: if the prompt does not exist.
        """
        return self.state.complete_prompt(prompt_id, response, total_tokens)

    def fail_prompt(self, prompt_id: str, error: str = FAILURE_MESSAGE) -> PromptRecord:
        """Fail an async prompt now.

        :param prompt_id: the ``promptId``.
        :param error: the error text.
        :raises KeyError: if the prompt does not exist.
        """
        return self.state.fail_prompt(prompt_id, error)

    def prompts(self) -> list[PromptRecord]:
        """Every async prompt created since the last reset."""
        return self.state.prompts()

    def uploads(self) -> list[Upload]:
        """Every signed upload issued since the last reset, with the size, SHA-256 and content type of what
        was PUT to it."""
        return self.state.uploads()

    def key_leaks(self) -> list[KeyLeak]:
        """Every request to the storage service refused (403) for carrying the ``Agent-Secret-Key`` header,
        since the last reset (which agent's key, never the key)."""
        return self.state.key_leaks()

    # -- conversation side -------------------------------------------------------------------------------

    def complete_message(self, question_id: str, response: str | None = None) -> MessageJob:
        """Answer a pending conversation question now (one sent with ``…/messages/async``).

        :param question_id: the question message id (``questionMessageId``).
        :param response: the reply text (default: the deterministic answer).
        :raises KeyError: if the question does not exist.
        :raises ValueError: if its answer is already settled.
        """
        return self.state.workspace.complete_message(question_id, response)

    def fail_message(self, question_id: str, error: str = MESSAGE_FAILURE_MESSAGE) -> MessageJob:
        """Fail a pending conversation question now.

        :param question_id: the question message id.
        :param error: the error text.
        :raises KeyError: if the question does not exist.
        :raises ValueError: if its answer is already settled.
        """
        return self.state.workspace.fail_message(question_id, error)

    def complete_vector_store(self, file_id: str) -> AgentFile:
        """End an agent file's ``processing`` vector-store upload ``done`` now.

        :param file_id: the agent file id.
        :raises KeyError: if the file does not exist.
        :raises ValueError: if it is not processing.
        """
        return self.state.workspace.settle_vector_store(file_id)

    def fail_vector_store(self, file_id: str) -> AgentFile:
        """End an agent file's ``processing`` vector-store upload ``failed`` now.

        :param file_id: the agent file id.
        :raises KeyError: if the file does not exist.
        :raises ValueError: if it is not processing.
        """
        return self.state.workspace.settle_vector_store(file_id, failed=True)

    def seed_user(
        self,
        first_name: str = "Test",
        last_name: str = "User",
        *,
        agent_id: str | None = None,
        **contacts: Unpack[UserContacts],
    ) -> ConversationUser:
        """Create a conversation user directly (no validation of the contacts' format).

        :param first_name: first name.
        :param last_name: last name.
        :param agent_id: the owning agent (default agent when omitted).
        :param contacts: ``email``, ``phone_number``, ``fk_id``, ``fk_user_id`` (see
            :class:`~.arguments.UserContacts`).
        :raises KeyError: unknown agent.
        :raises ValueError: if a contact is already taken in that agent ("User already exists.").
        """
        owner = self.state.agent_id(agent_id)
        return self.state.workspace.create_user(owner, first_name=first_name, last_name=last_name, **contacts)

    def seed_conversation(
        self,
        user_id: str,
        *,
        title: str | None = None,
        channel: Channel = "api",
        mode: ConversationMode = "ai",
        agent_id: str | None = None,
    ) -> Conversation:
        """Create a conversation directly for one of the agent's users.

        :param user_id: the conversation user.
        :param title: title.
        :param channel: ``api``, ``email``, ``sms`` or ``voice`` (what ``send-manual-message`` checks).
        :param mode: ``ai`` or ``manual``.
        :param agent_id: the owning agent (default agent when omitted).
        :raises KeyError: unknown agent or user.
        """
        owner = self.state.agent_id(agent_id)
        conversation = self.state.workspace.create_conversation(owner, user_id, title=title, channel=channel)
        if mode != conversation.mode:
            conversation = self.state.workspace.update_conversation(owner, conversation.id, mode=mode)
        return conversation

    def users(self, agent_id: str | None = None) -> list[ConversationUser]:
        """An agent's conversation users, oldest first.

        :param agent_id: the agent (default agent when omitted).
        """
        return self.state.workspace.users(self.state.agent_id(agent_id))

    def conversations(self, agent_id: str | None = None) -> list[Conversation]:
        """An agent's conversations, oldest first.

        :param agent_id: the agent (default agent when omitted).
        """
        return self.state.workspace.conversations(self.state.agent_id(agent_id))

    def messages(self, conversation_id: str | None = None, agent_id: str | None = None) -> list[Message]:
        """An agent's messages (or one conversation's), oldest first.

        :param conversation_id: only this conversation's.
        :param agent_id: the agent (default agent when omitted).
        :raises KeyError: unknown conversation.
        """
        owner = self.state.agent_id(agent_id)
        if conversation_id is None:
            return self.state.workspace.all_messages(owner)
        return self.state.workspace.messages(owner, conversation_id)

    def agent_files(self, agent_id: str | None = None) -> list[AgentFile]:
        """An agent's knowledge-base files (vector-store status settled if due).

        :param agent_id: the agent (default agent when omitted).
        """
        return self.state.workspace.files(self.state.agent_id(agent_id))

    def webhooks(self, agent_id: str | None = None) -> list[Webhook]:
        """An agent's webhooks, oldest first.

        :param agent_id: the agent (default agent when omitted).
        """
        return self.state.workspace.webhooks(self.state.agent_id(agent_id))

    def usage(self, agent_id: str | None = None) -> list[UsageEvent]:
        """An agent's usage events (tokens, SMS, emails, seconds), oldest first.

        :param agent_id: the agent (default agent when omitted).
        """
        return self.state.workspace.usage_events(self.state.agent_id(agent_id))

    def reset(self) -> None:
        """Back to the initial state: default agent only, initial knobs, no prompts, conversation-side
        records, faults or log."""
        self.state.reset()
