"""``/external/agents/webhooks`` — register a webhook (there is no list, update or delete operation).

Contract choices where raia's spec is silent (see API_FACTS.md section 4.5):

* → 201 ``CreateAgentWebhookResponseDTO`` with ``status: "active"``. Created webhooks show in the profile's
  ``WEBHOOK`` skill (without ``id``). Duplicates are allowed (raia offers no way to find or delete one).
* The URL must be a public HTTPS URL, else 400 with the spec's text "Invalid webhook URL. The URL must use
  HTTPS and resolve only to public IP addresses." in ``message``; see
  :func:`~raia_provider.testing.emulator.net.is_public_https_url` for what is refused. raia also resolves
  the name and refuses private answers; the emulator **never resolves DNS** (no network), so any public-
  looking name passes.
* ``triggerCondition`` must be one of the spec's six values (400 ``isEnum``); ``headers`` must be an object.
* The emulator never calls a webhook.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from raia_provider.testing.emulator.deps import AgentDep, StateDep
from raia_provider.testing.emulator.errors import RaiaError, bad_request_message
from raia_provider.testing.emulator.net import EXTERNAL_PREFIX, is_public_https_url
from raia_provider.testing.emulator.resources.webhooks.wire import WebhookBody, webhook_dto

router = APIRouter(prefix=f"{EXTERNAL_PREFIX}/agents/webhooks", tags=["Webhooks"])
INVALID_URL = "Invalid webhook URL. The URL must use HTTPS and resolve only to public IP addresses."


@router.post("", summary="Create an agent webhook", status_code=201)
async def create_webhook(body: WebhookBody, agent: AgentDep, state: StateDep) -> JSONResponse:
    """Register a webhook for the calling agent → 201.

    :param body: the webhook.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    if not is_public_https_url(body.url):
        raise RaiaError(400, bad_request_message(INVALID_URL))
    webhook = state.workspace.add_webhook(
        agent.id,
        title=body.title,
        description=body.description,
        url=body.url,
        trigger_condition=body.triggerCondition,
        headers=body.headers,
    )
    return JSONResponse(webhook_dto(webhook), status_code=201)
