"""Webhooks raia calls on conversation events (spec: ``CreateAgentWebhook*DTO``)."""

from __future__ import annotations

import ipaddress
from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import field_validator

from raia_provider.models.agents import SkillStatus, WebhookTriggerCondition
from raia_provider.models.base import NonBlankStr, RaiaBody, RaiaModel

#: Host names raia's rule ("must resolve only to public IP addresses") always refuses.
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")


class WebhookBody(RaiaBody):
    """A webhook to register (spec: ``CreateAgentWebhookBodyDTO``).

    :param title: a short name.
    :param description: what it is for.
    :param url: a public ``https://`` URL; raia refuses local, private, reserved and metadata addresses.
    :param trigger_condition: ``each_message``, ``end_dialog``, ``start_dialog``,
        ``chat_currently_unavailable``, ``auto_archive_conversation`` or ``manual``.
    :param headers: extra headers raia sends with each call, e.g. ``{"Authorization": "Bearer …"}``.
    """

    title: NonBlankStr
    description: NonBlankStr
    url: str
    trigger_condition: WebhookTriggerCondition
    headers: dict[str, str] | None = None

    @field_validator("url")
    @classmethod
    def _public_https(cls, url: str) -> str:
        problem = webhook_url_problem(url)
        if problem:
            raise ValueError(problem)
        return url


def webhook_url_problem(url: str) -> str | None:
    """Say why raia would refuse ``url`` as a webhook target, or ``None`` if it looks acceptable.

    raia requires HTTPS and a host that resolves only to public addresses. IP literals and names that can
    only be local are checked here; whether a public-looking name resolves to a private address only raia
    can tell (the provider does no DNS look-ups before a request).

    :param url: the webhook URL.
    """
    parts = urlsplit(url.strip())
    if parts.scheme != "https":
        return f"must be an https:// URL (raia refuses {parts.scheme or 'scheme-less'} webhook URLs), got {url!r}"
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return f"must name a host, got {url!r}"
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
        return f"must be publicly reachable; {host!r} is a local name"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not address.is_global:
        return f"must be publicly reachable; {host} is a private, loopback, link-local or reserved address"
    return None


class Webhook(RaiaModel):
    """A registered webhook (spec: ``CreateAgentWebhookResponseDTO``)."""

    spec_schemas: ClassVar[tuple[str, ...]] = ("CreateAgentWebhookResponseDTO",)

    id: str
    agent_id: str
    title: str
    description: str
    url: str
    trigger_condition: WebhookTriggerCondition
    headers: dict[str, Any] | None = None
    status: SkillStatus
    created_at: str
    updated_at: str
