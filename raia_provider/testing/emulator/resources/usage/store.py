"""Usage events, recorded when a metered resource is used.

Completed prompts and answers record their token counts, the introduction of an SMS or email start and
manual messages on those channels one SMS or email each, and ``POST /external/resource-usage`` its amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from raia_provider.testing.emulator.storage import Store, StoreContext

UsageKind = Literal["tokens", "sms", "emails", "seconds"]


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


def month_start(now: float) -> float:
    """Return the epoch seconds of the first instant of ``now``'s month (UTC).

    :param now: epoch seconds.
    """
    moment = datetime.fromtimestamp(now, UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


class UsageStore(Store):
    """Each agent's usage events, oldest first.

    :param context: the shared store context.
    """

    def __init__(self, context: StoreContext) -> None:
        super().__init__(context)
        self._usage = context.per_agent(list[UsageEvent])

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
            self._usage.of(agent_id).append(UsageEvent(kind, amount, self._wall_now(), conversation_id, user_id))

    def usage_events(self, agent_id: str) -> list[UsageEvent]:
        """The agent's usage events, oldest first.

        :param agent_id: the agent.
        """
        with self._lock:
            return list(self._usage.of(agent_id))

    def month_usage(self, agent_id: str) -> dict[UsageKind, float]:
        """The agent's usage in the current (UTC) month, by kind.

        :param agent_id: the agent.
        """
        with self._lock:
            since = month_start(self._wall_now())
            totals: dict[UsageKind, float] = {"tokens": 0, "sms": 0, "emails": 0, "seconds": 0}
            for event in self._usage.of(agent_id):
                if event.at >= since:
                    totals[event.kind] += event.amount
            return totals
