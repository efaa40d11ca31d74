"""Monthly limits: an agent's own, and each conversation user's (or the organization's defaults)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from operator import attrgetter

from raia_provider.testing.emulator.resources.users.store import UserStore
from raia_provider.testing.emulator.storage import NotFound, Refused, StoreContext, Table

ORGANIZATION_DEFAULT_LIMITS = {"tokens": 1_000_000.0, "sms": 1_000.0, "emails": 1_000.0, "seconds": 36_000.0}
"""The organization's default monthly limits, served for a conversation user without own limits."""
LIMITS_EXIST = "Limits already exist."


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


class LimitStore(UserStore):
    """Own limits of each agent and of its users, in one table per agent keyed by the owner's id.

    :param context: the shared store context.
    """

    def __init__(self, context: StoreContext) -> None:
        super().__init__(context)
        self._limits = context.per_agent(lambda: Table[Limits](attrgetter("owner_id")))
        self.organization_limits_id = str(uuid.uuid4())

    def user_limits(self, agent_id: str, user_id: str) -> Limits:
        """A user's own limits, or the organization's defaults (``is_organization_default``).

        :param agent_id: owner.
        :param user_id: the conversation user.
        :raises NotFound: if the user is unknown to this agent.
        """
        with self._lock:
            self.user(agent_id, user_id)
            own = self._limits.of(agent_id).find(user_id)
            if own is not None:
                return own
            return Limits(
                id=self.organization_limits_id,
                owner_id=user_id,
                **ORGANIZATION_DEFAULT_LIMITS,
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
            if owner is not None:
                self.user(agent_id, owner)
            table = self._limits.of(agent_id)
            current = table.find(owner or agent_id)
            if create:
                if current is not None:
                    raise Refused(LIMITS_EXIST)
                current = Limits(id=str(uuid.uuid4()), owner_id=owner or agent_id, tokens=0, sms=0, emails=0, seconds=0)
            elif current is None:
                raise NotFound("limits")
            return table.save(
                replace(
                    current,
                    tokens=values.get("tokens", current.tokens),
                    sms=values.get("sms", current.sms),
                    emails=values.get("emails", current.emails),
                    seconds=values.get("seconds", current.seconds),
                )
            )

    def delete_limits(self, agent_id: str, owner: str | None) -> None:
        """Delete the own limits of the agent (``owner=None``) or of a user.

        :param agent_id: the agent.
        :param owner: a conversation user id, ``None`` for the agent.
        :raises NotFound: unknown user, or no own limits.
        """
        with self._lock:
            if owner is not None:
                self.user(agent_id, owner)
            self._limits.of(agent_id).pop(owner or agent_id)

    def _user_deleted(self, agent_id: str, user_id: str) -> None:
        super()._user_deleted(agent_id, user_id)
        self._limits.of(agent_id).discard(user_id)
