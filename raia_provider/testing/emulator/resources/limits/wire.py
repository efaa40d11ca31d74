"""The limits bodies and DTO: four monthly amounts, in raia's field names (amounts must not be negative)."""

from __future__ import annotations

from raia_provider.testing.emulator.body_fields import Amount, OptionalAmount, RequestBody
from raia_provider.testing.emulator.rendering import JsonObject
from raia_provider.testing.emulator.resources.limits.store import Limits

AMOUNT_FIELDS = {
    "tokens": "tokensAmountPerMonth",
    "sms": "smsAmountPerMonth",
    "emails": "emailsAmountPerMonth",
    "seconds": "secondsAmountPerMonth",
}
"""Each amount of :class:`~.store.Limits` and its name in raia's bodies and DTOs."""


class _Amounts(RequestBody):
    def values(self) -> dict[str, float]:
        """The amounts given, keyed like :class:`~.store.Limits`."""
        given = {name: getattr(self, field) for name, field in AMOUNT_FIELDS.items()}
        return {name: value for name, value in given.items() if value is not None}


class LimitsBody(_Amounts):
    """``CreateConversationUserLimitsBodyDTO``, ``UpdateConversationUserLimitsBodyDTO`` and
    ``CreateAgentLimitsBodyDTO``: all four amounts required."""

    tokensAmountPerMonth: Amount
    smsAmountPerMonth: Amount
    emailsAmountPerMonth: Amount
    secondsAmountPerMonth: Amount


class PartialLimitsBody(_Amounts):
    """``UpdateAgentLimitsBodyDTO``: every amount optional."""

    tokensAmountPerMonth: OptionalAmount = None
    smsAmountPerMonth: OptionalAmount = None
    emailsAmountPerMonth: OptionalAmount = None
    secondsAmountPerMonth: OptionalAmount = None


def limits_dto(limits: Limits, *, owner_key: str) -> JsonObject:
    """``AgentLimitsResponseDTO`` (``owner_key="agentId"``) or ``ConversationUserLimitsResponseDTO``
    (``owner_key="conversationUserId"``).

    :param limits: the limits.
    :param owner_key: the name of the owner id field.
    """
    return {
        "id": limits.id,
        owner_key: limits.owner_id,
        "isOrganizationDefault": limits.is_organization_default,
        **{field: getattr(limits, name) for name, field in AMOUNT_FIELDS.items()},
    }
