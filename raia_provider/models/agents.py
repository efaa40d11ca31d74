"""The agent profile returned by ``GET /agents/by-api-key`` (spec: ``GetAgentByApiKeyResponseDTO``).

The profile's ``API`` skill carries the agent's secret key in ``apiKey``. The provider never hands it on:
:class:`AgentSkill` replaces it with ``"***"`` while parsing, so neither XCom, logs nor ``repr`` can show it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from raia_provider.models.base import RaiaModel

REDACTED = "***"

AgentStatus = Literal["active", "inactive", "draft"]
SkillStatus = Literal["active", "inactive"]
WebhookTriggerCondition = Literal[
    "each_message",
    "end_dialog",
    "start_dialog",
    "chat_currently_unavailable",
    "auto_archive_conversation",
    "manual",
]


class AIConfig(RaiaModel):
    """The agent's model configuration (spec: ``AIConfigResponseDTO``).

    ``model`` is kept as a string: raia adds models often and a new one must not break parsing.
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("AIConfigResponseDTO",)
    spec_open_enums: ClassVar[frozenset[str]] = frozenset({"model", "reasoningEffort", "reasoningMode"})

    id: str
    model: str
    temperature: float
    top_p: float
    instructions: str
    is_code_interpreter_enabled: bool
    is_file_search_enabled: bool
    file_search_max_num_results: float
    reasoning_effort: str | None = None
    reasoning_mode: str | None = None
    is_output_json_schema_enabled: bool | None = None
    output_json_schema: str | None


class AgentWebhook(RaiaModel):
    """A webhook listed in the profile's ``WEBHOOK`` skill (spec: ``WebhookResponseDTO``; it has no id)."""

    spec_schemas: ClassVar[tuple[str, ...]] = ("WebhookResponseDTO",)

    status: SkillStatus
    title: str
    description: str
    url: str
    trigger_condition: WebhookTriggerCondition
    headers: dict[str, Any] | None = None


class AgentSkill(RaiaModel):
    """One of the agent's skills; skill-specific fields are kept as extra fields.

    ``webhooks`` belongs to the ``WEBHOOK`` skill (``WebhookSkillResponseDTO``); it is typed here so the
    webhook operator can find existing webhooks without a list endpoint (raia has none).

    :param system_name: the skill's kind (``systemName``), e.g. ``API``, ``WEBHOOK``, ``SMS``.
    :param status: ``active`` or ``inactive``.
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("BaseSkillResponseDTO",)
    spec_open_enums: ClassVar[frozenset[str]] = frozenset({"systemName"})
    spec_extra_fields: ClassVar[frozenset[str]] = frozenset({"webhooks"})

    system_name: str
    status: SkillStatus
    webhooks: list[AgentWebhook] | None = None

    def model_post_init(self, context: Any, /) -> None:
        """Redact the secret key the ``API`` skill carries before anything can read it."""
        extra = self.__pydantic_extra__
        if extra is not None and extra.get("apiKey"):
            extra["apiKey"] = REDACTED


class AgentProfile(RaiaModel):
    """The profile of the agent that owns the connection's key."""

    spec_schemas: ClassVar[tuple[str, ...]] = ("GetAgentByApiKeyResponseDTO",)

    organization_id: str
    organization_name: str
    id: str
    name: str
    public_name: str
    role: str
    description: str | None = None
    vector_store_id: str
    ai_config: AIConfig
    avatar_url: str | None = None
    status: AgentStatus
    tags: list[str] | None = None
    skills: list[AgentSkill]
    restrict_documents_to_owner_only: bool | None = None

    def skill(self, system_name: str) -> AgentSkill | None:
        """Return the skill named ``system_name`` (e.g. ``"WEBHOOK"``), or ``None`` if the agent lacks it.

        :param system_name: the skill's ``systemName``.
        """
        return next((s for s in self.skills if s.system_name == system_name), None)


class AgentStatistic(RaiaModel):
    """The agent's usage over a period (spec: ``ExternalApiGetAgentStatisticResponseDTO``)."""

    spec_schemas: ClassVar[tuple[str, ...]] = ("ExternalApiGetAgentStatisticResponseDTO",)

    tokens_used: float
    tokens_per_conversation: float
    vapi_seconds_used: float
    average_call_duration: float
    sms_used: float
    sms_per_conversation: float
    emails_used: float
    emails_per_conversation: float


class AgentUsage(RaiaModel):
    """What the agent used this month (spec: ``AgentUsageResponseDTO``, from ``GET /agents/limits``)."""

    spec_schemas: ClassVar[tuple[str, ...]] = ("AgentUsageResponseDTO",)

    emails_amount: float
    sms_amount: float
    tokens_amount: float
    seconds_amount: float


class AgentLimits(RaiaModel):
    """The agent's monthly limits (spec: ``AgentLimitsResponseDTO``)."""

    spec_schemas: ClassVar[tuple[str, ...]] = ("AgentLimitsResponseDTO",)

    id: str
    agent_id: str
    is_organization_default: bool
    tokens_amount_per_month: float
    sms_amount_per_month: float
    emails_amount_per_month: float
    seconds_amount_per_month: float
