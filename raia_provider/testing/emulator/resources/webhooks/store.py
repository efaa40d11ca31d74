"""Webhooks: each agent's registered webhooks, in creation order (the emulator never calls them)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Literal

from raia_provider.testing.emulator.storage import Store, StoreContext, Table

TriggerCondition = Literal[
    "each_message", "end_dialog", "start_dialog", "chat_currently_unavailable", "auto_archive_conversation", "manual"
]


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


class WebhookStore(Store):
    """Each agent's webhooks.

    :param context: the shared store context.
    """

    def __init__(self, context: StoreContext) -> None:
        super().__init__(context)
        self._webhooks = context.per_agent(lambda: Table[Webhook](attrgetter("id")))

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
            now, _ = self._context.stamp()
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
            return self._webhooks.of(agent_id).save(webhook)

    def webhooks(self, agent_id: str) -> list[Webhook]:
        """The agent's webhooks, oldest first.

        :param agent_id: owner.
        """
        with self._lock:
            return self._webhooks.of(agent_id).rows()
