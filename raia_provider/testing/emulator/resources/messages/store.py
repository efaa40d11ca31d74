"""Messages of conversations, and the agent's answers to them, settled on read like async prompts.

An async message's answer settles on the first poll at or after ``due_at`` (``message_delay`` when sent;
``None`` holds it until :meth:`MessageStore.complete_message` / :meth:`MessageStore.fail_message`). A
question containing :data:`~...answers.FAIL_MARKER` fails. A completed answer counts its tokens; a manual
message on the SMS or email channel counts one SMS or email.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import Any, Literal

from raia_provider.testing.emulator.answers import (
    FAIL_MARKER,
    MESSAGE_FAILURE_MESSAGE,
    ArrivedFile,
    answer_for,
    count_tokens,
)
from raia_provider.testing.emulator.resources.conversations.store import Conversation, ConversationStore
from raia_provider.testing.emulator.resources.usage.store import UsageKind, UsageStore
from raia_provider.testing.emulator.storage import NotFound, Refused, StoreContext, Table, hex_id

SenderRole = Literal["conversation_user", "assistant", "manual_assistant"]
MessageJobStatus = Literal["pending", "completed", "failed"]
NOT_MANUAL = "Conversation must be in manual mode and not a voice conversation."


@dataclass(frozen=True)
class MessageFile:
    """A file attached to a message (uploaded through a conversation's signed URL).

    :param id: file id (UUID), the ``fileId`` of the signed download URL.
    :param file_name: file name.
    :param storage_path: the ``storagePath`` it was uploaded to.
    :param open_ai_file_id: OpenAI-style file id.
    :param size: bytes uploaded, ``None`` if nothing was PUT to the signed URL.
    :param created_at: wall-clock time.
    :param sha256: SHA-256 (hex) of the bytes uploaded, ``None`` if none (not in raia's DTO).
    """

    id: str
    file_name: str
    storage_path: str
    open_ai_file_id: str
    size: int | None
    created_at: float
    sha256: str | None = None

    def arrived(self) -> ArrivedFile:
        """What an answer says of this file."""
        return ArrivedFile(self.file_name, self.size, self.sha256 if self.size is not None else None)


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
    :param files: the question's files, with what their signed URLs had received.
    :param output_json_schema: the agent's output JSON Schema when the question was sent.
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
    files: tuple[ArrivedFile, ...] = ()
    output_json_schema: dict[str, Any] | None = field(default=None, repr=False)


class MessageStore(ConversationStore, UsageStore):
    """Each agent's messages and the answers to its questions (a message belongs to a conversation).

    :param context: the shared store context.
    """

    def __init__(self, context: StoreContext) -> None:
        super().__init__(context)
        self._messages = context.per_agent(lambda: Table[Message](attrgetter("id")))
        self._jobs = context.per_agent(lambda: Table[MessageJob](attrgetter("question_id")))

    def _add_message(
        self,
        conversation: Conversation,
        role: SenderRole,
        text: str,
        *,
        source: str,
        question_id: str | None = None,
        files: Sequence[MessageFile] = (),
    ) -> Message:
        now, seq = self._context.stamp()
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
        self._messages.of(conversation.agent_id).save(message)
        self._touch(conversation, now)
        return message

    def new_message_file(
        self, file_name: str, storage_path: str, size: int | None, sha256: str | None = None
    ) -> MessageFile:
        """Build a message file record (attached by :meth:`send_message` / :meth:`send_manual_message`).

        :param file_name: file name.
        :param storage_path: the issued ``storagePath``.
        :param size: bytes uploaded, ``None`` if none.
        :param sha256: their SHA-256 (hex), ``None`` if none.
        """
        return MessageFile(
            id=str(uuid.uuid4()),
            file_name=file_name,
            storage_path=storage_path,
            open_ai_file_id=hex_id("file-"),
            size=size,
            created_at=self._wall_now(),
            sha256=sha256,
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
        output_schema: Mapping[str, Any] | None = None,
    ) -> tuple[Message, MessageJob]:
        """Store a user's question and its pending answer, due after ``delay`` (``None``: held).

        :param agent_id: owner.
        :param agent_name: the answering agent's name.
        :param conversation_id: conversation id.
        :param text: the question.
        :param files: attached files.
        :param delay: seconds until the answer settles; 0 settles on the next read.
        :param output_schema: the agent's output JSON Schema; its answer is then JSON.
        :return: the question and its job.
        :raises NotFound: unknown conversation.
        """
        with self._lock:
            conversation = self.conversation(agent_id, conversation_id)
            question = self._add_message(conversation, "conversation_user", text, source="api", files=files)
            job = MessageJob(
                question_id=question.id,
                conversation_id=conversation_id,
                agent_name=agent_name,
                question=text,
                file_names=tuple(f.file_name for f in files),
                due_at=None if delay is None else self._now() + delay,
                files=tuple(f.arrived() for f in files),
                output_json_schema=dict(output_schema) if output_schema is not None else None,
            )
            return question, self._jobs.of(agent_id).save(job)

    def poll_message(self, agent_id: str, conversation_id: str, question_id: str) -> tuple[MessageJob, Message | None]:
        """Settle a question's answer if due; return the job and the reply (``None`` unless completed).

        :param agent_id: owner.
        :param conversation_id: the question's conversation.
        :param question_id: the question message id.
        :raises NotFound: unknown conversation, or no such question in it.
        """
        with self._lock:
            self.conversation(agent_id, conversation_id)
            job = self._jobs.of(agent_id).find(question_id)
            if job is None or job.conversation_id != conversation_id:
                raise NotFound(question_id)
            if job.status == "pending" and job.due_at is not None and self._now() >= job.due_at:
                if FAIL_MARKER in job.question:
                    job = self._fail_job(agent_id, job, MESSAGE_FAILURE_MESSAGE)
                else:
                    job = self._complete_job(agent_id, job, None)
            reply = self._messages.of(agent_id).find(job.reply_id) if job.reply_id else None
            return job, reply

    def _complete_job(self, agent_id: str, job: MessageJob, response: str | None) -> MessageJob:
        conversation = self.conversation(agent_id, job.conversation_id)
        if response is None:
            response, tokens = answer_for(
                job.question,
                job.agent_name,
                files=job.files,
                output_schema=job.output_json_schema,
                json_answers=self._context.config.json_answers,
            )
        else:
            tokens = count_tokens(job.question, response)
        reply = self._add_message(conversation, "assistant", response, source="api", question_id=job.question_id)
        self.record_usage(agent_id, "tokens", tokens, conversation_id=conversation.id, user_id=conversation.user_id)
        return self._jobs.of(agent_id).save(replace(job, status="completed", reply_id=reply.id))

    def _fail_job(self, agent_id: str, job: MessageJob, error: str) -> MessageJob:
        return self._jobs.of(agent_id).save(replace(job, status="failed", error=error))

    def _pending_job(self, question_id: str) -> tuple[str, MessageJob]:
        """Any agent's pending question, with its agent (for the control API)."""
        for agent_id, jobs in self._jobs.items():
            job = jobs.find(question_id)
            if job is not None:
                if job.status != "pending":
                    raise Refused(f"the answer to {question_id} is already {job.status}")
                return agent_id, job
        raise NotFound(question_id)

    def complete_message(self, question_id: str, response: str | None = None) -> MessageJob:
        """Answer a pending question now (any agent's), with ``response`` or the deterministic answer.

        :param question_id: the question message id.
        :param response: the reply text; the deterministic answer when omitted.
        :raises NotFound: unknown question.
        :raises Refused: if the answer is already settled.
        """
        with self._lock:
            agent_id, job = self._pending_job(question_id)
            return self._complete_job(agent_id, job, response)

    def fail_message(self, question_id: str, error: str = MESSAGE_FAILURE_MESSAGE) -> MessageJob:
        """Fail a pending question now (any agent's).

        :param question_id: the question message id.
        :param error: the error text.
        :raises NotFound: unknown question.
        :raises Refused: if the answer is already settled.
        """
        with self._lock:
            agent_id, job = self._pending_job(question_id)
            return self._fail_job(agent_id, job, error)

    def messages(self, agent_id: str, conversation_id: str) -> list[Message]:
        """A conversation's messages, oldest first.

        :param agent_id: owner.
        :param conversation_id: conversation id.
        :raises NotFound: unknown conversation.
        """
        with self._lock:
            self.conversation(agent_id, conversation_id)
            return self._messages.of(agent_id).where(lambda m: m.conversation_id == conversation_id)

    def all_messages(self, agent_id: str) -> list[Message]:
        """Every message of the agent, oldest first.

        :param agent_id: owner.
        """
        with self._lock:
            return self._messages.of(agent_id).rows()

    def message_of(self, agent_id: str, message_id: str) -> Message:
        """Return one of the agent's messages.

        :param agent_id: owner.
        :param message_id: message id.
        :raises NotFound: if unknown to this agent.
        """
        with self._lock:
            return self._messages.of(agent_id).get(message_id)

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
            conversation = self.conversation(agent_id, conversation_id)
            if question_id is not None:
                question = self._messages.of(agent_id).find(question_id)
                if question is None or question.conversation_id != conversation_id:
                    raise NotFound(question_id)
            if conversation.mode != "manual" or conversation.channel == "voice":
                raise Refused(NOT_MANUAL)
            source = conversation.channel
            message = self._add_message(
                conversation, "manual_assistant", text, source=source, question_id=question_id, files=files
            )
            if source in ("sms", "email"):
                kind: UsageKind = "sms" if source == "sms" else "emails"
                self.record_usage(agent_id, kind, 1, conversation_id=conversation.id, user_id=conversation.user_id)
            job = self._jobs.of(agent_id).find(question_id) if question_id else None
            if job is not None and job.status == "pending":
                self._jobs.of(agent_id).save(replace(job, status="completed", reply_id=message.id))
            return message

    def message_file(self, agent_id: str, conversation_id: str, file_id: str) -> MessageFile:
        """Return a file attached to a message of the conversation.

        :param agent_id: owner.
        :param conversation_id: conversation id.
        :param file_id: the message file id.
        :raises NotFound: unknown conversation or file.
        """
        with self._lock:
            for message in self.messages(agent_id, conversation_id):
                for item in message.files:
                    if item.id == file_id:
                        return item
            raise NotFound(file_id)

    def _conversations_dropped(self, agent_id: str, conversation_ids: Collection[str]) -> None:
        super()._conversations_dropped(agent_id, conversation_ids)
        self._messages.of(agent_id).drop_where(lambda m: m.conversation_id in conversation_ids)
        self._jobs.of(agent_id).drop_where(lambda j: j.conversation_id in conversation_ids)
