"""The resource-usage body and the statistic DTO computed from usage events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from raia_provider.testing.emulator.body_fields import Amount, RequestBody, one_of
from raia_provider.testing.emulator.rendering import JsonObject
from raia_provider.testing.emulator.resources.usage.store import UsageEvent, UsageKind


class ResourceUsageBody(RequestBody):
    """``CreateResourceUsageLogsBodyDto``."""

    type: Annotated[Literal["OPENAI_TOKENS", "VAPI_SECONDS"], one_of("OPENAI_TOKENS", "VAPI_SECONDS")]
    amount: Amount


def _per_conversation(events: Sequence[UsageEvent], kind: UsageKind) -> tuple[float, float]:
    """Total of ``kind``, and that total (of events in a conversation) per distinct conversation."""
    chosen = [event for event in events if event.kind == kind]
    total = sum(event.amount for event in chosen)
    in_conversations = [event for event in chosen if event.conversation_id is not None]
    conversations = {event.conversation_id for event in in_conversations}
    per = sum(event.amount for event in in_conversations) / len(conversations) if conversations else 0
    return total, per


def statistic_dto(events: Sequence[UsageEvent]) -> JsonObject:
    """``ExternalApiGetAgentStatisticResponseDTO`` of the given (already filtered) events.

    :param events: the usage events to count.
    """
    tokens, tokens_per = _per_conversation(events, "tokens")
    seconds, seconds_per = _per_conversation(events, "seconds")
    sms, sms_per = _per_conversation(events, "sms")
    emails, emails_per = _per_conversation(events, "emails")
    return {
        "tokensUsed": tokens,
        "tokensPerConversation": tokens_per,
        "vapiSecondsUsed": seconds,
        "averageCallDuration": seconds_per,
        "smsUsed": sms,
        "smsPerConversation": sms_per,
        "emailsUsed": emails,
        "emailsPerConversation": emails_per,
    }
