"""raia's webhook operation. raia offers no webhook list or delete: the agent profile lists them."""

from __future__ import annotations

from raia_provider._core.endpoint import AsyncEndpoint, Endpoint
from raia_provider._core.operation import Operation, RaiaRequest
from raia_provider.models.webhooks import Webhook, WebhookBody


class CreateWebhook(WebhookBody, RaiaRequest[Webhook]):
    """Register a webhook for the key's agent. The URL is checked first: public ``https://`` only.

    :param title: a short name.
    :param description: what it is for.
    :param url: a public ``https://`` URL; local, private, reserved and metadata addresses are refused.
    :param trigger_condition: ``each_message``, ``end_dialog``, ``start_dialog``,
        ``chat_currently_unavailable``, ``auto_archive_conversation`` or ``manual``.
    :param headers: extra headers raia sends with each call, e.g. ``{"Authorization": "Bearer …"}``.
    """

    operation = Operation(
        "POST", "/agents/webhooks", "ExternalApiAgentsController_createAgentWebhook", success_status=201
    )


class WebhookEndpoints:
    """``RaiaHook`` methods for webhooks (blocking, and ``a``-prefixed async twin)."""

    create_webhook = Endpoint(CreateWebhook)
    acreate_webhook = AsyncEndpoint(CreateWebhook)
