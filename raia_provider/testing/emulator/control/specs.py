"""Bodies of the ``/_emulator`` control API: pydantic models with the Python names (snake_case), unknown
fields refused (this API is ours, so a typo should fail loudly)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from raia_provider.testing.emulator.answers import FAILURE_MESSAGE, MESSAGE_FAILURE_MESSAGE
from raia_provider.testing.emulator.config import JsonAnswers, MessageStatusVocabulary, PendingStyle
from raia_provider.testing.emulator.faults import FaultKind
from raia_provider.testing.emulator.matching import ANY
from raia_provider.testing.emulator.records import Channel, ConversationMode


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FaultSpec(_Spec):
    """Body of ``POST /_emulator/faults`` (see :class:`~raia_provider.testing.emulator.faults.Fault`)."""

    kind: FaultKind
    method: str = ANY
    path: str = ANY
    count: int = 1
    status: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    after: int = 0


class ConfigSpec(_Spec):
    """Body of ``POST /_emulator/config``: only the knobs to change."""

    prompt_delay: float | None = None
    latency: float | None = None
    pending_style: PendingStyle | None = None
    rate_limit: float | None = None
    burst: int | None = None
    message_delay: float | None = None
    message_status_vocabulary: MessageStatusVocabulary | None = None
    vector_store_delay: float | None = None
    json_answers: JsonAnswers | None = None


class AgentSpec(_Spec):
    """Body of ``POST /_emulator/agents``."""

    key: str | None = None
    name: str = "Agent"
    output_json_schema: dict[str, Any] | None = None


class OutputSchemaSpec(_Spec):
    """Body of ``PUT /_emulator/agents/{agent}/output-schema``: the schema, ``null`` to take it away."""

    output_json_schema: dict[str, Any] | None


class CompleteSpec(_Spec):
    """Body of ``POST /_emulator/prompts/{id}/complete`` (both optional)."""

    response: str | None = None
    total_tokens: int | None = None


class FailSpec(_Spec):
    """Body of ``POST /_emulator/prompts/{id}/fail``."""

    error: str = FAILURE_MESSAGE


class MessageCompleteSpec(_Spec):
    """Body of ``POST /_emulator/messages/{question_id}/complete`` (optional)."""

    response: str | None = None


class MessageFailSpec(_Spec):
    """Body of ``POST /_emulator/messages/{question_id}/fail`` (optional)."""

    error: str = MESSAGE_FAILURE_MESSAGE


class UserSpec(_Spec):
    """Body of ``POST /_emulator/users``: a conversation user to seed."""

    first_name: str = "Test"
    last_name: str = "User"
    email: str | None = None
    phone_number: str | None = None
    fk_id: str | None = None
    fk_user_id: str | None = None
    agent_id: str | None = None


class ConversationSpec(_Spec):
    """Body of ``POST /_emulator/conversations``: a conversation to seed."""

    user_id: str
    title: str | None = None
    channel: Channel = "api"
    mode: ConversationMode = "ai"
    agent_id: str | None = None
