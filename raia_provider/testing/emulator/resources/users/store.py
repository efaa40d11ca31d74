"""Conversation users: each agent's users, found by contact, deleted with everything that was theirs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from raia_provider.testing.emulator.storage import NotFound, Refused, Store, StoreContext, Table

USER_EXISTS = "User already exists."


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


class UserStore(Store):
    """Each agent's conversation users.

    Stores that keep records of a user (limits, conversations) extend :meth:`_user_deleted` to drop them.

    :param context: the shared store context.
    """

    def __init__(self, context: StoreContext) -> None:
        super().__init__(context)
        self._users = context.per_agent(lambda: Table[ConversationUser](attrgetter("id")))

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
            if self.users_matching(agent_id, email=email, phone_number=phone_number, fk_id=fk_id, any_of=True):
                raise Refused(USER_EXISTS)
            now, seq = self._context.stamp()
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
            return self._users.of(agent_id).save(user)

    def users_matching(
        self,
        agent_id: str,
        *,
        email: str | None = None,
        phone_number: str | None = None,
        fk_id: str | None = None,
        any_of: bool = False,
    ) -> list[ConversationUser]:
        """The agent's users whose contacts match every given one (``any_of``: at least one); none given, none.

        :param agent_id: owner.
        :param email: email to match.
        :param phone_number: phone number to match.
        :param fk_id: fkId to match.
        :param any_of: match users with any of the given contacts rather than all of them.
        """
        given = [(name, value) for name, value in (("email", email), ("phone_number", phone_number), ("fk_id", fk_id))]
        wanted = [(name, value) for name, value in given if value is not None]
        if not wanted:
            return []
        check = any if any_of else all
        with self._lock:
            return self._users.of(agent_id).where(lambda user: check(getattr(user, n) == v for n, v in wanted))

    def find_user(
        self, agent_id: str, *, email: str | None = None, phone_number: str | None = None, fk_id: str | None = None
    ) -> ConversationUser:
        """Find the user matching every given contact.

        :param agent_id: owner.
        :param email: email to match.
        :param phone_number: phone number to match.
        :param fk_id: fkId to match.
        :raises NotFound: if no user matches.
        """
        found = self.users_matching(agent_id, email=email, phone_number=phone_number, fk_id=fk_id)
        if not found:
            raise NotFound("user")
        return found[0]

    def user(self, agent_id: str, user_id: str) -> ConversationUser:
        """Return one of the agent's users.

        :param agent_id: owner.
        :param user_id: user id.
        :raises NotFound: if unknown to this agent.
        """
        with self._lock:
            return self._users.of(agent_id).get(user_id)

    def users(self, agent_id: str) -> list[ConversationUser]:
        """The agent's users, oldest first.

        :param agent_id: owner.
        """
        with self._lock:
            return self._users.of(agent_id).rows()

    def user_ids_matching(self, agent_id: str, *, fk_id: str | None, fk_user_id: str | None) -> set[str]:
        """Ids of the agent's users with the given foreign keys (both when both are given).

        :param agent_id: the agent.
        :param fk_id: fkId to match.
        :param fk_user_id: fkUserId to match.
        """
        with self._lock:
            return {
                user.id
                for user in self._users.of(agent_id).rows()
                if (fk_id is None or user.fk_id == fk_id) and (fk_user_id is None or user.fk_user_id == fk_user_id)
            }

    def delete_user(self, agent_id: str, user_id: str) -> None:
        """Delete a user and everything that was theirs (conversations with their messages and feedback, limits).

        :param agent_id: owner.
        :param user_id: user id.
        :raises NotFound: if unknown to this agent.
        """
        with self._lock:
            self._users.of(agent_id).pop(user_id)
            self._user_deleted(agent_id, user_id)

    def _user_deleted(self, agent_id: str, user_id: str) -> None:
        """Drop the records of a deleted user; each store that keeps some extends this (``super()`` first).

        :param agent_id: owner.
        :param user_id: the deleted user.
        """
