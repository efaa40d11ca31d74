"""``RaiaCreateWebhookOperator``: make sure the agent has a webhook, without registering it twice."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, get_args

from pydantic import ValidationError

from raia_provider._core import clock
from raia_provider._core.operation import describe_validation_error
from raia_provider._core.retry import SINGLE_ATTEMPT, RetryPolicy
from raia_provider.exceptions import RaiaInputError
from raia_provider.hooks.raia import RaiaHook
from raia_provider.models.agents import AgentProfile, AgentWebhook, WebhookTriggerCondition
from raia_provider.models.webhooks import WebhookBody
from raia_provider.operators.base import RaiaBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

#: The trigger conditions of raia's published OpenAPI document (``CreateAgentWebhookBodyDTO``), in its order.
TRIGGER_CONDITIONS: tuple[str, ...] = get_args(WebhookTriggerCondition)

#: How find-or-create is retried as a whole on transient failures (the provider's default policy).
RETRY_POLICY = RetryPolicy()

#: An HTTP header name (RFC 9110 ``token``).
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class RaiaCreateWebhookOperator(RaiaBaseOperator):
    """Register a webhook for the connection's agent, unless it already has one for the same URL and trigger.

    raia offers no webhook list, update or delete operation. The only way to see existing webhooks is the
    agent profile (``GET /agents/by-api-key``), whose ``WEBHOOK`` skill lists them without an id. So the
    task reads the profile first and creates the webhook (``POST /agents/webhooks``) only if none is listed
    with the same ``url`` and ``trigger_condition``; re-running the task, or the whole DAG, does not
    register a duplicate that nobody could delete through the API.

    Matching rule: two webhooks are the same if their URLs are equal as strings once surrounding whitespace
    is removed, and their trigger conditions are equal. Nothing else is normalised (host case, default
    port, trailing slash, query order): raia calls the URL exactly as stored, and ``/hook`` and ``/hook/``
    may well be different routes on the receiving side. Write the URL the same way on every run (it lives
    in the DAG, so it does) and the rule is exact. The URL is sent to raia stripped as well. Title,
    description and headers are not part of the match: raia cannot update them, so a difference is only
    logged (for headers, without names or values) and has to be fixed in raia's UI.

    An existing webhook that is **inactive** still counts as existing: the task creates nothing, returns it
    with ``"status": "inactive"`` and logs a warning. Someone switched it off in raia's UI, the API cannot
    switch it back on, and registering a second, active copy would override that decision and fire twice
    once the first is re-enabled. Downstream tasks can check ``status``. If several webhooks match (made
    before this operator was used), an active one is preferred.

    raia's create is not idempotent, so it is never re-sent blindly: on a transient failure (timeout,
    connection error, 5xx, 429) the whole find-or-create is retried, profile read first. A create that raia
    registered but whose answer was lost is then found instead of sent again, and reported as
    ``"created": True`` with ``"id": None``. raia has no idempotency key, so two cases can still create
    twice: a create that timed out and that raia had not finished by the next attempt's profile read
    (each slow create that lands later adds a webhook), and two task runs at the same moment.

    The return value (pushed to XCom) is plain JSON::

        {"created": bool, "id": str | None, "url": str, "trigger_condition": str, "title": str,
         "status": "active" | "inactive"}

    ``id`` is ``None`` for a webhook read from the profile (it lists none) and ``title`` is the stored one.

    ``headers`` usually carry a secret (a bearer token for the receiving endpoint). They are therefore not
    templated (so never shown in the UI's rendered templates, nor stored with the serialized DAG), never
    returned, logged or put in an exception message, and their values are registered with Airflow's secrets
    masker when the task runs.

    Every argument is checked before the first request (the profile read included): ``headers`` when the
    operator is built, the templated ones after rendering. A bad one raises
    :class:`~raia_provider.exceptions.RaiaInputError` naming the argument, the problem and what is allowed.

    :param title: a short name for the webhook (templated).
    :param description: what the webhook is for (templated).
    :param url: where raia sends the events: a public ``https://`` URL; local names, private, loopback,
        link-local and reserved addresses are refused (templated).
    :param trigger_condition: when raia calls it: ``each_message``, ``end_dialog``, ``start_dialog``,
        ``chat_currently_unavailable``, ``auto_archive_conversation`` or ``manual`` (templated).
    :param headers: extra headers raia sends with each call, e.g. ``{"Authorization": "Bearer …"}``; a
        ``dict`` of header name to string value. Not templated, never logged or returned.
    :param raia_conn_id: the ``raia`` connection.
    """

    template_fields: Sequence[str] = ("title", "description", "url", "trigger_condition")
    ui_color = "#e8f1ff"

    def __init__(
        self,
        *,
        title: str,
        description: str,
        url: str,
        trigger_condition: str,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.description = description
        self.url = url
        self.trigger_condition = trigger_condition
        self.headers: dict[str, str] | None = _checked_headers(headers, self._owner())
        self._create_sent = False  # whether this run sent a create whose outcome may be unknown

    @cached_property
    def hook(self) -> RaiaHook:
        """The hook, without retries of its own: :meth:`execute` retries find-or-create as a whole."""
        return RaiaHook(self.raia_conn_id, retry_policy=SINGLE_ATTEMPT)

    def execute(self, context: Context) -> dict[str, Any]:
        """Find the webhook in the agent profile or create it; return what was found or made."""
        wanted = self._rendered_body()  # raises RaiaInputError before any request
        self._mask_headers()
        self._create_sent = False
        try:
            for attempt in RETRY_POLICY.retrying(clock.sleep, "find or create webhook"):
                with attempt:
                    return self._find_or_create(wanted)
        finally:
            self.hook.close()
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def _find_or_create(self, wanted: WebhookBody) -> dict[str, Any]:
        """One attempt: read the profile, then create the webhook if it is not listed."""
        profile = self.hook.get_agent()
        self._warn_if_skill_inactive(profile)
        existing = _matching(profile, wanted.url, wanted.trigger_condition)
        if existing is not None:
            return self._report_existing(existing, wanted)
        self._create_sent = True
        created = self.hook.create_webhook(
            title=wanted.title,
            description=wanted.description,
            url=wanted.url,
            trigger_condition=wanted.trigger_condition,
            headers=self.headers,
        )
        self.log.info(
            "Created raia webhook %s: %s on %s (status %s).",
            created.id,
            created.url,
            created.trigger_condition,
            created.status,
        )
        return {
            "created": True,
            "id": created.id,
            "url": created.url,
            "trigger_condition": created.trigger_condition,
            "title": created.title,
            "status": created.status,
        }

    def _rendered_body(self) -> WebhookBody:
        """Validate the rendered templated arguments with the same model the hook sends."""
        url = self.url.strip() if isinstance(self.url, str) else self.url
        try:
            # headers are checked in __init__ and left out here: a validation message quotes the input.
            return WebhookBody.model_validate(
                {
                    "title": self.title,
                    "description": self.description,
                    "url": url,
                    "trigger_condition": self.trigger_condition,
                }
            )
        except ValidationError as exc:
            context = self._owner()
            names = {field.alias: name for name, field in WebhookBody.model_fields.items() if field.alias}
            raise RaiaInputError(describe_validation_error(exc, context, names)) from None

    def _owner(self) -> str:
        """The operator and task, for error messages."""
        return f"{type(self).__name__} (task {self.task_id!r})"

    def _mask_headers(self) -> None:
        """Register the header values with Airflow's secrets masker, in case anything echoes one."""
        if not self.headers:
            return
        from airflow.sdk.log import mask_secret

        for value in self.headers.values():
            mask_secret(value)

    def _warn_if_skill_inactive(self, profile: AgentProfile) -> None:
        skill = profile.skill("WEBHOOK")
        if skill is not None and skill.status != "active":
            self.log.warning(
                "The agent's WEBHOOK skill is inactive: raia calls none of its webhooks until it is switched "
                "on in raia's UI."
            )

    def _report_existing(self, existing: AgentWebhook, wanted: WebhookBody) -> dict[str, Any]:
        if self._create_sent:
            # Absent before the create whose answer was lost, present now: raia did register it.
            self.log.info(
                "raia registered the webhook for %s on %s although its answer was lost; not sending it again.",
                existing.url,
                existing.trigger_condition,
            )
        else:
            self.log.info(
                "raia agent already has a webhook for %s on %s (status %s); not creating another.",
                existing.url,
                existing.trigger_condition,
                existing.status,
            )
        if existing.status != "active":
            self.log.warning(
                "The existing raia webhook for %s on %s is inactive: raia will not call it, and its API "
                "cannot re-activate it. Switch it on in raia's UI (the task does not register a second copy).",
                existing.url,
                existing.trigger_condition,
            )
        if (existing.title, existing.description) != (wanted.title, wanted.description):
            self.log.info(
                "The existing webhook keeps its title %r and description; raia's API cannot change them.",
                existing.title,
            )
        if existing.headers is not None and dict(existing.headers) != (self.headers or {}):
            self.log.warning(
                "The existing raia webhook's headers differ from the 'headers' argument (not shown); raia's "
                "API cannot change them: update them in raia's UI."
            )
        return {
            "created": self._create_sent,
            "id": None,
            "url": existing.url,
            "trigger_condition": existing.trigger_condition,
            "title": existing.title,
            "status": existing.status,
        }


def _matching(profile: AgentProfile, url: str, trigger_condition: str) -> AgentWebhook | None:
    """The profile's webhook with this URL (compared stripped) and trigger, an active one first.

    :param profile: the agent profile.
    :param url: the wanted URL, already stripped.
    :param trigger_condition: the wanted trigger condition.
    """
    skill = profile.skill("WEBHOOK")
    candidates = [
        webhook
        for webhook in (skill.webhooks if skill is not None else None) or []
        if webhook.url.strip() == url and webhook.trigger_condition == trigger_condition
    ]
    candidates.sort(key=lambda webhook: webhook.status != "active")  # stable: active ones first
    return candidates[0] if candidates else None


def _checked_headers(headers: Any, owner: str) -> dict[str, str] | None:
    """Check ``headers`` is a mapping of header name to string value; never quote a value.

    :param headers: the argument.
    :param owner: the operator and task, for the error message.
    """
    if headers is None:
        return None
    prefix = f"Invalid arguments for raia {owner}: argument 'headers'"
    if not isinstance(headers, Mapping):
        raise RaiaInputError(
            f"{prefix} must be a dict of header name to string value, e.g. {{'Authorization': 'Bearer …'}}; "
            f"got a {type(headers).__name__}."
        )
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            shown = f"the key {name!r}" if isinstance(name, str) else f"a key of type {type(name).__name__}"
            raise RaiaInputError(
                f"{prefix} has {shown}, which is not an HTTP header name: a non-empty string of letters, "
                "digits and !#$%&'*+-.^_`|~ only."
            )
        if not isinstance(value, str):
            raise RaiaInputError(
                f"{prefix}: the value of header {name!r} must be a string, got a value of type "
                f"{type(value).__name__} (header values are never shown)."
            )
        if "\r" in value or "\n" in value:
            raise RaiaInputError(
                f"{prefix}: the value of header {name!r} contains a line break, which HTTP does not allow "
                "(header values are never shown)."
            )
        checked[name] = value
    return checked
