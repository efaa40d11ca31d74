"""Feedback on messages: one per (message, user), updated in place by a second vote."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from raia_provider.testing.emulator.resources.messages.store import MessageStore
from raia_provider.testing.emulator.storage import StoreContext, Table

VoteType = Literal["up", "down"]


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


class FeedbackStore(MessageStore):
    """Each agent's feedback on its messages (a feedback belongs to a message, so to a conversation).

    :param context: the shared store context.
    """

    def __init__(self, context: StoreContext) -> None:
        super().__init__(context)
        self._feedbacks = context.per_agent(lambda: Table[Feedback](lambda f: (f.message_id, f.user_id)))

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
            message = self.message_of(agent_id, message_id)
            now = self._wall_now()
            existing = self._feedbacks.of(agent_id).find((message_id, user_id))
            giver = self._users.of(agent_id).find(user_id)
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
            return self._feedbacks.of(agent_id).save(feedback)

    def feedbacks(self, agent_id: str) -> list[Feedback]:
        """The agent's feedback, oldest first.

        :param agent_id: owner.
        """
        with self._lock:
            return self._feedbacks.of(agent_id).rows()

    def feedbacks_by(self, agent_id: str, key: Literal["conversation_id", "message_id"]) -> dict[str, list[Feedback]]:
        """The agent's feedback grouped by conversation or by message, oldest first in each group.

        :param agent_id: owner.
        :param key: the :class:`Feedback` field to group by.
        """
        grouped: dict[str, list[Feedback]] = {}
        for feedback in self.feedbacks(agent_id):
            grouped.setdefault(getattr(feedback, key), []).append(feedback)
        return grouped

    def _conversations_dropped(self, agent_id: str, conversation_ids: Collection[str]) -> None:
        super()._conversations_dropped(agent_id, conversation_ids)
        self._feedbacks.of(agent_id).drop_where(lambda f: f.conversation_id in conversation_ids)
