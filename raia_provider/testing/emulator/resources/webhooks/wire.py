"""The webhook operation's body (``CreateAgentWebhookBodyDTO``) and DTOs, in raia's field names."""

from __future__ import annotations

from typing import Annotated, get_args

from raia_provider.testing.emulator.body_fields import OptionalObject, RequestBody, RequiredText, one_of
from raia_provider.testing.emulator.rendering import JsonObject, iso, present
from raia_provider.testing.emulator.resources.webhooks.store import TriggerCondition, Webhook


class WebhookBody(RequestBody):
    """``CreateAgentWebhookBodyDTO``."""

    title: RequiredText
    description: RequiredText
    url: RequiredText
    triggerCondition: Annotated[TriggerCondition, one_of(*get_args(TriggerCondition))]
    headers: OptionalObject = None


def _described(webhook: Webhook) -> JsonObject:
    return {
        "title": webhook.title,
        "description": webhook.description,
        "url": webhook.url,
        "triggerCondition": webhook.trigger_condition,
        **present(headers=webhook.headers),
    }


def webhook_dto(webhook: Webhook) -> JsonObject:
    """``CreateAgentWebhookResponseDTO``.

    :param webhook: the webhook.
    """
    return {
        "id": webhook.id,
        "agentId": webhook.agent_id,
        **_described(webhook),
        "status": "active",
        "createdAt": iso(webhook.created_at),
        "updatedAt": iso(webhook.created_at),
    }


def profile_webhook_dto(webhook: Webhook) -> JsonObject:
    """``WebhookResponseDTO``: a webhook as listed in the profile's ``WEBHOOK`` skill (no ``id``).

    :param webhook: the webhook.
    """
    return {"status": "active", **_described(webhook)}
