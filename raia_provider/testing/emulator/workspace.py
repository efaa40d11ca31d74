"""The conversation side of the emulator's state: per-agent users, conversations, messages, files, ...

One :class:`AgentData` per agent, so an agent can never reach another's records: every lookup goes through
the calling agent's own data, and an id it does not own is simply unknown (:class:`NotFound`, a 404). All
methods take the emulator's lock (shared with :class:`~.state.EmulatorState`) and return frozen snapshots.

Life cycles computed on read, like async prompts (no background task):

* an async message's answer settles on the first poll at or after ``due_at`` (``message_delay`` when sent;
  ``None`` holds it until :meth:`Workspace.complete_message` / :meth:`Workspace.fail_message`). A question
  containing :data:`~.answers.FAIL_MARKER` fails;
* a file's vector-store upload is ``processing`` until ``vector_store_due_at`` (``vector_store_delay``;
  ``None`` holds it for :meth:`Workspace.settle_vector_store`), then ``done`` — or ``failed`` when the file
  name contains :data:`~.answers.FAIL_MARKER`.

Usage (tokens, SMS, emails, seconds) is recorded as events when it happens: completed prompts and answers
(their token counts), the introduction of an SMS or email start and manual messages on those channels (one
each), and ``POST /external/resource-usage``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from raia_provider.testing.emulator.answers import FAIL_MARKER, MESSAGE_FAILURE_MESSAGE, answer_for, count_tokens
from raia_provider.testing.emulator.records import (
    AgentData,
    AgentFile,
    Channel,
    Conversation,
    ConversationMode,
    ConversationState,
    ConversationStatus,
    ConversationUser,
    Feedback,
    Limits,
    Message,
    MessageFile,
    MessageJob,
    TriggerCondition,
    UsageEvent,
    UsageKind,
    VoteType,
    Webhook,
)

ORGANIZATION_DEFAULT_LIMITS = {"tokens": 1_000_000.0, "sms": 1_000.0, "emails": 1_000.0, "seconds": 36_000.0}
"""The organization's default monthly limits, served for a conversation user without own limits."""
USER_EXISTS = "User already exists."
LIMITS_EXIST = "Limits already exist."
NOT_MANUAL = "Conversation must be in manual mode and not a voice conversation."
LIMIT_FIELDS = ("tokens", "sms", "emails", "seconds")


class NotFound(KeyError):
    """An id the calling agent does not own (answered 404 ``ENTITY_NOT_FOUND``)."""


class Refused(ValueError):
    """A request raia refuses with a 400 carrying this message (e.g. "User already exists.")."""


def _hex_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}{uuid.uuid4().hex[:length]}"


def month_start(now: float) -> float:
    """Return the epoch seconds of the first instant of ``now``'s month (UTC).

    :param now: epoch seconds.
    """
    moment = datetime.fromtimestamp(now, UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


class Workspace:
    """Per-agent conversation-side data (see the module docstring).

    :param lock: the emulator's lock.
    :param clock: monotonic clock (delays).
    :param wall_clock: epoch-seconds clock (``createdAt`` and friends).
    """

    def __init__(
        self,
        lock: threading.RLock,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
    ) -> None:
        self._lock = lock
        self._clock = clock
        self._wall_clock = wall_clock
        self._data: dict[str, AgentData] = {}
        self._seq = 0
        self.organization_limits_id = str(uuid.uuid4())

    # -- plumbing ----------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every agent's data."""
        with self._lock:
            self._data = {}
            self._seq = 0

    def forget(self, agent_ids: Iterable[str]) -> None:
        """Drop the data of agents that no longer exist.

        :param agent_ids: the agents to forget.
        """
        with self._lock:
            for agent_id in agent_ids:
                self._data.pop(agent_id, None)

    def _agent(self, agent_id: str) -> AgentData:
        data = self._data.get(agent_id)
        if data is None:
            data = self._data[agent_id] = AgentData(states=self._seed_states())
        return data

    def _next(self) -> tuple[float, int]:
        self._seq += 1
        return self._wall_clock(), self._seq

    def _seed_states(self) -> tuple[ConversationState, ...]:
        now = self._wall_clock()
        return (
            ConversationState(
                str(uuid.uuid4()), "New", "A conversation nobody has handled yet.", "#3B82F6", False, now
            ),
            ConversationState(str(uuid.uuid4()), "Resolved", None, None, True, now),
        )

    def _owner_of_question(self, question_id: str) -> tuple[AgentData, MessageJob]:
        for data in self._data.values():
            job = data.jobs.get(question_id)
            if job is not None:
                return data, job
        raise NotFound(question_id)

    # -- users -------------------------------------------------------------------------------------------

    def create_user(
        self,
        agent_id: str,
        *,
        first_name: str,
        last_name: str,
        email: str | None = None,
        phone_number: str | None = None,
        fk_id: str | None = None,
        fk_user_id: str | None = None,
        context: str | None = None,
        source: str | None = None,
        custom_data: dict[str, Any] | None = None,
    ) -> ConversationUser:
        """Create a conversation user.

        :param agent_id: owner.
        :param first_name: first name.
        :param last_name: last name.
        :param email: email.
        :param phone_number: phone number.
        :param fk_id: foreign key.
        :param fk_user_id: second foreign key.
        :param context: user context.
        :param source: source tag.
        :param custom_data: custom data.
        :raises Refused: "User already exists." if the email, phone number or fkId is taken in this agent.
        """
        with self._lock:
            data = self._agent(agent_id)
            if self._match(data, email=email, phone_number=phone_number, fk_id=fk_id, any_of=True):
                raise Refused(USER_EXISTS)
            now, seq = self._next()
            user = ConversationUser(
                id=str(uuid.uuid4()),
                agent_id=agent_id,
                first_name=first_name,
                last_name=last_name,
                email=email,
                phone_number=phone_number,
                fk_id=fk_id,
                fk_user_id=fk_user_id,
                context=context,
                source=source,
                custom_data=custom_data,
                created_at=now,
                seq=seq,
            )
            data.users[user.id] = user
            return user

    @staticmethod
    def _match(
        data: AgentData,
        *,
        email: str | None = None,
        phone_number: str | None = None,
        fk_id: str | None = None,
        any_of: bool = False,
    ) -> list[ConversationUser]:
        wanted = [(name, value) for name, value in (("email", email), ("phone_number", phone_number), ("fk_id", fk_id))]
        wanted = [(name, value) for name, value in wanted if value is not None]
        if not wanted:
            return []
        check = any if any_of else all
        return [user for user in data.users.values() if check(getattr(user, name) == value for name, value in wanted)]

    def find_user(
        self, agent_id: str, *, email: str | None = None, phone_number: str | None = None, fk_id: str | None = None
    ) -> tuple[ConversationUser, list[str]]:
        """Find the user matching every given contact, with their conversation ids (oldest first).

        :param agent_id: owner.
        :param email: email to match.
        :param phone_number: phone number to match.
        :param fk_id: fkId to match.
        :raises NotFound: if no user matches.
        """
        with self._lock:
            data = self._agent(agent_id)
            found = self._match(data, email=email, phone_number=phone_number, fk_id=fk_id)
            if not found:
                raise NotFound("user")
            user = found[0]
            return user, [c.id for c in data.conversations.values() if c.user_id == user.id]

    def user(self, agent_id: str, user_id: str) -> ConversationUser:
        """Return one of the agent's users.

        :param agent_id: owner.
        :param user_id: user id.
        :raises NotFound: if unknown to this agent.
        """
        with self._lock:
            user = self._agent(agent_id).users.get(user_id)
            if user is None:
                raise NotFound(user_id)
            return user

    def users(self, agent_id: str) -> list[ConversationUser]:
        """The agent's users, oldest first.

        :param agent_id: owner.
        """
        with self._lock:
            return list(self._agent(agent_id).users.values())

    def delete_user(self, agent_id: str, user_id: str) -> None:
        """Delete a user, their conversations (with messages and feedback) and their limits.

        :param agent_id: owner.
        :param user_id: user id.
        :raises NotFound: if unknown to this agent.
        """
        with self._lock:
            data = self._agent(agent_id)
            if data.users.pop(user_id, None) is None:
                raise NotFound(user_id)
            data.user_limits.pop(user_id, None)
            self._drop_conversations(data, [c.id for c in data.conversations.values() if c.user_id == user_id])

    def delete_user_conversations(self, agent_id: str, user_id: str) -> int:
        """Delete every conversation of a user (``DELETE /external/conversations``).

        :param agent_id: owner.
        :param user_id: the conversation user.
        :return: how many were deleted.
        :raises NotFound: if the user is unknown to this agent.
        """
        with self._lock:
            data = self._agent(agent_id)
            if user_id not in data.users:
                raise NotFound(user_id)
            doomed = [c.id for c in data.conversations.values() if c.user_id == user_id]
            self._drop_conversations(data, doomed)
            return len(doomed)

    @staticmethod
    def _drop_conversations(data: AgentData, conversation_ids: Sequence[str]) -> None:
        gone = set(conversation_ids)
        for conversation_id in gone:
            data.conversations.pop(conversation_id, None)
        data.messages = {k: m for k, m in data.messages.items() if m.conversation_id not in gone}
        data.jobs = {k: j for k, j in data.jobs.items() if j.conversation_id not in gone}
        data.feedbacks = {k: f for k, f in data.feedbacks.items() if f.conversation_id not in gone}

    # -- limits ------------------------------------------------------------------------------------------

    def user_limits(self, agent_id: str, user_id: str) -> Limits:
        """A user's own limits, or the organization's defaults (``is_organization_default``).

        :param agent_id: owner.
        :param user_id: the conversation user.
        :raises NotFound: if the user is unknown to this agent.
        """
        with self._lock:
            data = self._agent(agent_id)
            if user_id not in data.users:
                raise NotFound(user_id)
            own = data.user_limits.get(user_id)
            if own is not None:
                return own
            defaults = ORGANIZATION_DEFAULT_LIMITS
            return Limits(
                id=self.organization_limits_id,
                owner_id=user_id,
                tokens=defaults["tokens"],
                sms=defaults["sms"],
                emails=defaults["emails"],
                seconds=defaults["seconds"],
                is_organization_default=True,
            )

    def set_limits(self, agent_id: str, owner: str | None, values: dict[str, float], *, create: bool) -> Limits:
        """Create (``create``) or update the own limits of the agent (``owner=None``) or of a user.

        :param agent_id: the agent.
        :param owner: a conversation user id, ``None`` for the agent itself.
        :param values: the limits to set (``tokens``, ``sms``, ``emails``, ``seconds``); all four to create.
        :param create: create new limits (refused if some exist) or update existing ones (404 if none).
        :raises NotFound: unknown user, or no own limits to update.
        :raises Refused: "Limits already exist." when creating twice.
        """
        with self._lock:
            data = self._agent(agent_id)
            if owner is not None and owner not in data.users:
                raise NotFound(owner)
            current = data.limits if owner is None else data.user_limits.get(owner)
            if create:
                if current is not None:
                    raise Refused(LIMITS_EXIST)
                current = Limits(id=str(uuid.uuid4()), owner_id=owner or agent_id, tokens=0, sms=0, emails=0, seconds=0)
            elif current is None:
                raise NotFound("limits")
            limits = replace(
                current,
                tokens=values.get("tokens", current.tokens),
                sms=values.get("sms", current.sms),
                emails=values.get("emails", current.emails),
                seconds=values.get("seconds", current.seconds),
            )
            if owner is None:
                data.limits = limits
            else:
                data.user_limits[owner] = limits
            return limits

    def delete_limits(self, agent_id: str, owner: str | None) -> None:
        """Delete the own limits of the agent (``owner=None``) or of a user.

        :param agent_id: the agent.
        :param owner: a conversation user id, ``None`` for the agent.
        :raises NotFound: unknown user, or no own limits.
        """
        with self._lock:
            data = self._agent(agent_id)
            if owner is None:
                if data.limits is None:
                    raise NotFound("limits")
                data.limits = None
                return
            if owner not in data.users or data.user_limits.pop(owner, None) is None:
                raise NotFound(owner)

    # -- usage -------------------------------------------------------------------------------------------

    def record_usage(
        self,
        agent_id: str,
        kind: UsageKind,
        amount: float,
        *,
        conversation_id: str | None = None,
        user_id: str | None = None,
    ) -> None:
        """Record one use of a metered resource.

        :param agent_id: the agent.
        :param kind: ``tokens``, ``sms``, ``emails`` or ``seconds``.
        :param amount: how much.
        :param conversation_id: its conversation, if any.
        :param user_id: its conversation user, if any.
        """
        with self._lock:
            self._record(self._agent(agent_id), kind, amount, conversation_id, user_id)

    def _record(
        self, data: AgentData, kind: UsageKind, amount: float, conversation_id: str | None, user_id: str | None
    ) -> None:
        data.usage.append(UsageEvent(kind, amount, self._wall_clock(), conversation_id, user_id))

    def usage_events(self, agent_id: str) -> list[UsageEvent]:
        """The agent's usage events, oldest first.

        :param agent_id: the agent.
        """
        with self._lock:
            return list(self._agent(agent_id).usage)

    def month_usage(self, agent_id: str) -> dict[UsageKind, float]:
        """The agent's usage in the current (UTC) month, by kind.

        :param agent_id: the agent.
        """
        with self._lock:
            since = month_start(self._wall_clock())
            totals: dict[UsageKind, float] = {"tokens": 0, "sms": 0, "emails": 0, "seconds": 0}
            for event in self._agent(agent_id).usage:
                if event.at >= since:
                    totals[event.kind] += event.amount
            return totals

    def user_ids_matching(self, agent_id: str, *, fk_id: str | None, fk_user_id: str | None) -> set[str]:
        """Ids of the agent's users with the given foreign keys (both when both are given).

        :param agent_id: the agent.
        :param fk_id: fkId to match.
        :param fk_user_id: fkUserId to match.
        """
        with self._lock:
            return {
                user.id
                for user in self._agent(agent_id).users.values()
                if (fk_id is None or user.fk_id == fk_id) and (fk_user_id is None or user.fk_user_id == fk_user_id)
            }

    # -- conversation states -----------------------------------------------------------------------------

    def states(self, agent_id: str) -> list[ConversationState]:
        """The agent's conversation states (two are seeded: "New" and "Resolved").

        :param agent_id: the agent.
        """
        with self._lock:
            return list(self._agent(agent_id).states)

    def _check_state(self, data: AgentData, state_id: str | None) -> None:
        if state_id is not None and all(state.id != state_id for state in data.states):
            raise NotFound(state_id)

    # -- conversations -----------------------------------------------------------------------------------

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
            data = self._agent(agent_id)
            if user_id not in data.users:
                raise NotFound(user_id)
            self._check_state(data, state_id)
            return self._new_conversation(data, agent_id, user_id, channel, title, context, custom_data, state_id)

    def _new_conversation(
        self,
        data: AgentData,
        agent_id: str,
        user_id: str,
        channel: Channel,
        title: str | None,
        context: str | None,
        custom_data: dict[str, Any] | None,
        state_id: str | None,
    ) -> Conversation:
        now, seq = self._next()
        conversation = Conversation(
            id=str(uuid.uuid4()),
            agent_id=agent_id,
            user_id=user_id,
            channel=channel,
            ai_conversation_id=_hex_id("conv_", 32),
            title=title,
            context=context,
            custom_data=custom_data,
            state_id=state_id,
            ai_call_id=_hex_id("call_") if channel == "voice" else None,
            created_at=now,
            updated_at=now,
            seq=seq,
        )
        data.conversations[conversation.id] = conversation
        return conversation

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
        unless ``reset``, which archives it and starts a new one.

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
            data = self._agent(agent_id)
            self._check_state(data, state_id)
            order = ("email", "phone_number") if channel == "email" else ("phone_number", "email")
            found: list[ConversationUser] = []
            for name in (*order, "fk_id"):
                if user.get(name) is not None:
                    found = self._match(data, **{name: user[name]})
                    if found:
                        break
            person = found[0] if found else None
            if person is None:
                person = self.create_user(agent_id, **user)
            active = [c for c in data.conversations.values() if c.user_id == person.id and c.status == "active"]
            conversation = active[-1] if active else None
            if conversation is not None and reset:
                data.conversations[conversation.id] = replace(conversation, status="archived")
                conversation = None
            if conversation is None:
                conversation = self._new_conversation(
                    data, agent_id, person.id, channel, None, context, custom_data, state_id
                )
            message = self._add_message(data, conversation, "assistant", introduction, source=channel)
            if channel in ("sms", "email"):
                kind: UsageKind = "sms" if channel == "sms" else "emails"
                self._record(data, kind, 1, conversation.id, person.id)
            return data.conversations[message.conversation_id]

    def conversation(self, agent_id: str, conversation_id: str) -> Conversation:
        """Return one of the agent's conversations.

        :param agent_id: owner.
        :param conversation_id: conversation id.
        :raises NotFound: if unknown to this agent.
        """
        with self._lock:
            return self._conversation(self._agent(agent_id), conversation_id)

    @staticmethod
    def _conversation(data: AgentData, conversation_id: str) -> Conversation:
        conversation = data.conversations.get(conversation_id)
        if conversation is None:
            raise NotFound(conversation_id)
        return conversation

    def conversations(self, agent_id: str) -> list[Conversation]:
        """The agent's conversations, oldest first.

        :param agent_id: owner.
        """
        with self._lock:
            return list(self._agent(agent_id).conversations.values())

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
            data = self._agent(agent_id)
            conversation = self._conversation(data, conversation_id)
            self._check_state(data, state_id)
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
            conversation = replace(conversation, **changes, updated_at=self._wall_clock())
            data.conversations[conversation_id] = conversation
            return conversation

    # -- messages ----------------------------------------------------------------------------------------

    def _add_message(
        self,
        data: AgentData,
        conversation: Conversation,
        role: Any,
        text: str,
        *,
        source: str,
        question_id: str | None = None,
        files: Sequence[MessageFile] = (),
    ) -> Message:
        now, seq = self._next()
        message_id = str(uuid.uuid4())
        message = Message(
            id=message_id,
            conversation_id=conversation.id,
            sender_role=role,
            text=text,
            question_id=question_id or message_id,
            source=source,
            files=tuple(files),
            created_at=now,
            seq=seq,
        )
        data.messages[message.id] = message
        data.conversations[conversation.id] = replace(conversation, updated_at=now)
        return message

    def new_message_file(self, file_name: str, storage_path: str, size: int | None) -> MessageFile:
        """Build a message file record (attached by :meth:`send_message` / :meth:`send_manual_message`).

        :param file_name: file name.
        :param storage_path: the issued ``storagePath``.
        :param size: bytes uploaded, ``None`` if none.
        """
        return MessageFile(
            id=str(uuid.uuid4()),
            file_name=file_name,
            storage_path=storage_path,
            open_ai_file_id=_hex_id("file-"),
            size=size,
            created_at=self._wall_clock(),
        )

    def send_message(
        self,
        agent_id: str,
        agent_name: str,
        conversation_id: str,
        text: str,
        *,
        files: Sequence[MessageFile] = (),
        delay: float | None = 0.0,
    ) -> tuple[Message, MessageJob]:
        """Store a user's question and its pending answer, due after ``delay`` (``None``: held).

        :param agent_id: owner.
        :param agent_name: the answering agent's name.
        :param conversation_id: conversation id.
        :param text: the question.
        :param files: attached files.
        :param delay: seconds until the answer settles; 0 settles on the next read.
        :return: the question and its job.
        :raises NotFound: unknown conversation.
        """
        with self._lock:
            data = self._agent(agent_id)
            conversation = self._conversation(data, conversation_id)
            question = self._add_message(data, conversation, "conversation_user", text, source="api", files=files)
            job = MessageJob(
                question_id=question.id,
                conversation_id=conversation_id,
                agent_name=agent_name,
                question=text,
                file_names=tuple(f.file_name for f in files),
                due_at=None if delay is None else self._clock() + delay,
            )
            data.jobs[question.id] = job
            return question, job

    def poll_message(self, agent_id: str, conversation_id: str, question_id: str) -> tuple[MessageJob, Message | None]:
        """Settle a question's answer if due; return the job and the reply (``None`` unless completed).

        :param agent_id: owner.
        :param conversation_id: the question's conversation.
        :param question_id: the question message id.
        :raises NotFound: unknown conversation, or no such question in it.
        """
        with self._lock:
            data = self._agent(agent_id)
            self._conversation(data, conversation_id)
            job = data.jobs.get(question_id)
            if job is None or job.conversation_id != conversation_id:
                raise NotFound(question_id)
            if job.status == "pending" and job.due_at is not None and self._clock() >= job.due_at:
                if FAIL_MARKER in job.question:
                    job = self._fail_job(data, job, MESSAGE_FAILURE_MESSAGE)
                else:
                    job = self._complete_job(data, job, None)
            reply = data.messages.get(job.reply_id) if job.reply_id else None
            return job, reply

    def _complete_job(self, data: AgentData, job: MessageJob, response: str | None) -> MessageJob:
        conversation = data.conversations[job.conversation_id]
        if response is None:
            response, tokens = answer_for(job.question, job.agent_name, file_names=job.file_names)
        else:
            tokens = count_tokens(job.question, response)
        reply = self._add_message(data, conversation, "assistant", response, source="api", question_id=job.question_id)
        self._record(data, "tokens", tokens, conversation.id, conversation.user_id)
        job = replace(job, status="completed", reply_id=reply.id)
        data.jobs[job.question_id] = job
        return job

    def _fail_job(self, data: AgentData, job: MessageJob, error: str) -> MessageJob:
        job = replace(job, status="failed", error=error)
        data.jobs[job.question_id] = job
        return job

    def complete_message(self, question_id: str, response: str | None = None) -> MessageJob:
        """Answer a pending question now (any agent's), with ``response`` or the deterministic answer.

        :param question_id: the question message id.
        :param response: the reply text; the deterministic answer when omitted.
        :raises NotFound: unknown question.
        :raises Refused: if the answer is already settled.
        """
        with self._lock:
            data, job = self._owner_of_question(question_id)
            if job.status != "pending":
                raise Refused(f"the answer to {question_id} is already {job.status}")
            return self._complete_job(data, job, response)

    def fail_message(self, question_id: str, error: str = MESSAGE_FAILURE_MESSAGE) -> MessageJob:
        """Fail a pending question now (any agent's).

        :param question_id: the question message id.
        :param error: the error text.
        :raises NotFound: unknown question.
        :raises Refused: if the answer is already settled.
        """
        with self._lock:
            data, job = self._owner_of_question(question_id)
            if job.status != "pending":
                raise Refused(f"the answer to {question_id} is already {job.status}")
            return self._fail_job(data, job, error)

    def messages(self, agent_id: str, conversation_id: str) -> list[Message]:
        """A conversation's messages, oldest first.

        :param agent_id: owner.
        :param conversation_id: conversation id.
        :raises NotFound: unknown conversation.
        """
        with self._lock:
            data = self._agent(agent_id)
            self._conversation(data, conversation_id)
            return [m for m in data.messages.values() if m.conversation_id == conversation_id]

    def all_messages(self, agent_id: str) -> list[Message]:
        """Every message of the agent, oldest first.

        :param agent_id: owner.
        """
        with self._lock:
            return list(self._agent(agent_id).messages.values())

    def jobs(self, agent_id: str) -> list[MessageJob]:
        """The agent's question jobs, oldest first.

        :param agent_id: owner.
        """
        with self._lock:
            return list(self._agent(agent_id).jobs.values())

    def send_manual_message(
        self,
        agent_id: str,
        conversation_id: str,
        text: str,
        *,
        question_id: str | None = None,
        files: Sequence[MessageFile] = (),
    ) -> Message:
        """Store a human operator's message (conversation in manual mode, not voice).

        A ``question_id`` naming a pending question settles it with this message.

        :param agent_id: owner.
        :param conversation_id: conversation id.
        :param text: the message.
        :param question_id: the user message it answers.
        :param files: attached files.
        :raises NotFound: unknown conversation or question.
        :raises Refused: if the conversation is not in manual mode, or is a voice conversation.
        """
        with self._lock:
            data = self._agent(agent_id)
            conversation = self._conversation(data, conversation_id)
            if question_id is not None:
                question = data.messages.get(question_id)
                if question is None or question.conversation_id != conversation_id:
                    raise NotFound(question_id)
            if conversation.mode != "manual" or conversation.channel == "voice":
                raise Refused(NOT_MANUAL)
            source = conversation.channel
            message = self._add_message(
                data, conversation, "manual_assistant", text, source=source, question_id=question_id, files=files
            )
            if source in ("sms", "email"):
                self._record(data, "sms" if source == "sms" else "emails", 1, conversation.id, conversation.user_id)
            job = data.jobs.get(question_id) if question_id else None
            if job is not None and job.status == "pending":
                data.jobs[job.question_id] = replace(job, status="completed", reply_id=message.id)
            return message

    def message_file(self, agent_id: str, conversation_id: str, file_id: str) -> MessageFile:
        """Return a file attached to a message of the conversation.

        :param agent_id: owner.
        :param conversation_id: conversation id.
        :param file_id: the message file id.
        :raises NotFound: unknown conversation or file.
        """
        with self._lock:
            data = self._agent(agent_id)
            self._conversation(data, conversation_id)
            for message in data.messages.values():
                if message.conversation_id == conversation_id:
                    for item in message.files:
                        if item.id == file_id:
                            return item
            raise NotFound(file_id)

    def message_of(self, agent_id: str, message_id: str) -> Message:
        """Return one of the agent's messages.

        :param agent_id: owner.
        :param message_id: message id.
        :raises NotFound: if unknown to this agent.
        """
        with self._lock:
            message = self._agent(agent_id).messages.get(message_id)
            if message is None:
                raise NotFound(message_id)
            return message

    # -- feedback ----------------------------------------------------------------------------------------

    def upsert_feedback(
        self,
        agent_id: str,
        *,
        message_id: str,
        user_id: str,
        vote_type: VoteType,
        question: str,
        answer: str | None,
        comment: str | None,
    ) -> Feedback:
        """Create or update the feedback of ``user_id`` on a message.

        :param agent_id: owner.
        :param message_id: the rated message.
        :param user_id: who gives it (a conversation user of the agent sets ``userEmail``).
        :param vote_type: ``up`` or ``down``.
        :param question: the question.
        :param answer: the answer.
        :param comment: a comment.
        :raises NotFound: unknown message.
        """
        with self._lock:
            data = self._agent(agent_id)
            message = data.messages.get(message_id)
            if message is None:
                raise NotFound(message_id)
            now = self._wall_clock()
            existing = data.feedbacks.get((message_id, user_id))
            giver = data.users.get(user_id)
            feedback = Feedback(
                id=existing.id if existing else str(uuid.uuid4()),
                message_id=message_id,
                conversation_id=message.conversation_id,
                user_id=user_id,
                vote_type=vote_type,
                question=question,
                answer=answer,
                comment=comment,
                user_email=giver.email if giver else None,
                created_at=existing.created_at if existing else now,
                updated_at=now,
            )
            data.feedbacks[(message_id, user_id)] = feedback
            return feedback

    def feedbacks(self, agent_id: str) -> list[Feedback]:
        """The agent's feedback, oldest first.

        :param agent_id: owner.
        """
        with self._lock:
            return list(self._agent(agent_id).feedbacks.values())

    # -- agent files -------------------------------------------------------------------------------------

    def add_file(
        self,
        agent_id: str,
        *,
        file_name: str,
        content_type: str,
        size: int,
        sha256: str,
        to_vector_store: bool,
        delay: float | None,
    ) -> AgentFile:
        """Store an uploaded file's metadata; optionally start its vector-store upload.

        :param agent_id: owner.
        :param file_name: file name.
        :param content_type: content type.
        :param size: bytes.
        :param sha256: hex SHA-256.
        :param to_vector_store: start the vector-store upload.
        :param delay: seconds of vector-store processing (``None``: held).
        """
        with self._lock:
            data = self._agent(agent_id)
            now, _ = self._next()
            agent_file = AgentFile(
                id=str(uuid.uuid4()),
                agent_id=agent_id,
                file_name=file_name,
                content_type=content_type,
                size=size,
                sha256=sha256,
                created_at=now,
            )
            if to_vector_store:
                agent_file = self._start_vector_store(agent_file, delay)
            data.files[agent_file.id] = agent_file
            return self._settled(data, agent_file)

    def _start_vector_store(self, agent_file: AgentFile, delay: float | None) -> AgentFile:
        return replace(
            agent_file,
            vector_store_status="processing",
            vector_store_file_id=agent_file.vector_store_file_id or _hex_id("file-"),
            vector_store_due_at=None if delay is None else self._clock() + delay,
            uploaded_to_vector_store_at=None,
        )

    def _settled(self, data: AgentData, agent_file: AgentFile) -> AgentFile:
        due = agent_file.vector_store_due_at
        if agent_file.vector_store_status == "processing" and due is not None and self._clock() >= due:
            agent_file = self._finish_vector_store(agent_file, failed=FAIL_MARKER in agent_file.file_name)
            data.files[agent_file.id] = agent_file
        return agent_file

    def _finish_vector_store(self, agent_file: AgentFile, *, failed: bool) -> AgentFile:
        if failed:
            return replace(agent_file, vector_store_status="failed", vector_store_due_at=None)
        return replace(
            agent_file,
            vector_store_status="done",
            vector_store_due_at=None,
            uploaded_to_vector_store_at=self._wall_clock(),
        )

    def files(self, agent_id: str) -> list[AgentFile]:
        """The agent's files (vector-store uploads settled if due), in upload order.

        :param agent_id: owner.
        """
        with self._lock:
            data = self._agent(agent_id)
            return [self._settled(data, agent_file) for agent_file in list(data.files.values())]

    def _file(self, data: AgentData, file_id: str) -> AgentFile:
        agent_file = data.files.get(file_id)
        if agent_file is None:
            raise NotFound(file_id)
        return self._settled(data, agent_file)

    def add_to_vector_store(self, agent_id: str, file_id: str, delay: float | None) -> AgentFile:
        """Start (``delay`` > 0 or ``None``) or do at once (``delay == 0``) a file's vector-store upload.

        A file already ``processing`` or ``done`` is left as it is; a ``failed`` one is retried.

        :param agent_id: owner.
        :param file_id: file id.
        :param delay: seconds of processing; 0 settles now; ``None`` holds for the control API.
        :raises NotFound: unknown file.
        """
        with self._lock:
            data = self._agent(agent_id)
            agent_file = self._file(data, file_id)
            if agent_file.vector_store_status in ("processing", "done"):
                return agent_file
            agent_file = self._start_vector_store(agent_file, delay)
            data.files[file_id] = agent_file
            return self._settled(data, agent_file)

    def remove_from_vector_store(self, agent_id: str, file_id: str) -> AgentFile:
        """Detach a file from the vector store (kept as a file).

        :param agent_id: owner.
        :param file_id: file id.
        :raises NotFound: unknown file.
        """
        with self._lock:
            data = self._agent(agent_id)
            agent_file = replace(
                self._file(data, file_id),
                vector_store_status=None,
                vector_store_file_id=None,
                vector_store_due_at=None,
                uploaded_to_vector_store_at=None,
            )
            data.files[file_id] = agent_file
            return agent_file

    def delete_file(self, agent_id: str, file_id: str) -> None:
        """Delete one file.

        :param agent_id: owner.
        :param file_id: file id.
        :raises NotFound: unknown file.
        """
        with self._lock:
            if self._agent(agent_id).files.pop(file_id, None) is None:
                raise NotFound(file_id)

    def delete_files(self, agent_id: str, file_ids: Iterable[str]) -> int:
        """Delete the given files of the agent; ids it does not own are ignored.

        :param agent_id: owner.
        :param file_ids: file ids.
        :return: how many were deleted.
        """
        with self._lock:
            data = self._agent(agent_id)
            return sum(data.files.pop(file_id, None) is not None for file_id in set(file_ids))

    def settle_vector_store(self, file_id: str, *, failed: bool = False) -> AgentFile:
        """End a file's ``processing`` vector-store upload now (any agent's): ``done`` or ``failed``.

        :param file_id: file id.
        :param failed: end ``failed`` instead of ``done``.
        :raises NotFound: unknown file.
        :raises Refused: if the file is not processing.
        """
        with self._lock:
            for data in self._data.values():
                agent_file = data.files.get(file_id)
                if agent_file is not None:
                    if agent_file.vector_store_status != "processing":
                        raise Refused(f"file {file_id} is not processing (status {agent_file.vector_store_status})")
                    agent_file = self._finish_vector_store(agent_file, failed=failed)
                    data.files[file_id] = agent_file
                    return agent_file
            raise NotFound(file_id)

    # -- webhooks ----------------------------------------------------------------------------------------

    def add_webhook(
        self,
        agent_id: str,
        *,
        title: str,
        description: str,
        url: str,
        trigger_condition: TriggerCondition,
        headers: dict[str, Any] | None,
    ) -> Webhook:
        """Register a webhook (the URL is checked by the route).

        :param agent_id: owner.
        :param title: title.
        :param description: description.
        :param url: the URL.
        :param trigger_condition: trigger condition.
        :param headers: extra headers.
        """
        with self._lock:
            now, _ = self._next()
            webhook = Webhook(
                id=str(uuid.uuid4()),
                agent_id=agent_id,
                title=title,
                description=description,
                url=url,
                trigger_condition=trigger_condition,
                headers=headers,
                created_at=now,
            )
            self._agent(agent_id).webhooks.append(webhook)
            return webhook

    def webhooks(self, agent_id: str) -> list[Webhook]:
        """The agent's webhooks, oldest first.

        :param agent_id: owner.
        """
        with self._lock:
            return list(self._agent(agent_id).webhooks)
