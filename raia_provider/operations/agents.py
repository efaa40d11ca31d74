"""raia's agent operations available to an agent key."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from raia_provider._core.endpoint import AsyncEndpoint, AsyncPagedEndpoint, Endpoint, PagedEndpoint
from raia_provider._core.operation import Operation, RaiaRequest
from raia_provider.models.agents import AgentLimits, AgentProfile, AgentStatistic, AgentUsage
from raia_provider.models.base import NoContent
from raia_provider.models.pagination import Page
from raia_provider.models.users import ConversationUser


class GetAgent(RaiaRequest[AgentProfile]):
    """Read the profile of the agent that owns the connection's key (its API-skill key is redacted)."""

    operation = Operation("GET", "/agents/by-api-key", "ExternalApiAgentsController_getAgentByApiKey")


class GetAgentStatistic(RaiaRequest[AgentStatistic]):
    """Read the agent's usage statistics (tokens, voice seconds, SMS, emails), optionally filtered.

    :param start_date: only activity from this moment on (ISO 8601 string or ``datetime``).
    :param end_date: only activity up to this moment.
    :param fk_id: only the conversation user with this foreign id (``fkId``).
    :param fk_user_id: only the conversation user with this foreign user id (``fkUserId``).
    :param user_id: only this conversation user (``userId``).
    :param conversation_user_id: only this conversation user (``conversationUserId``).
    """

    operation = Operation("GET", "/agents/statistic", "ExternalApiAgentsController_getAgentStatistic")
    start_date: datetime | None = None
    end_date: datetime | None = None
    fk_id: str | None = None
    fk_user_id: str | None = None
    user_id: str | None = None
    conversation_user_id: str | None = None


class GetAgentUsage(RaiaRequest[AgentUsage]):
    """Read what the agent used this month (emails, SMS, tokens, voice seconds)."""

    operation = Operation("GET", "/agents/limits", "ExternalApiAgentsController_getAgentUsageByApiKey")


_Amount = Field(ge=0)


class CreateAgentLimits(RaiaRequest[AgentLimits]):
    """Set the agent's monthly limits.

    :param tokens_amount_per_month: tokens per month.
    :param sms_amount_per_month: SMS per month.
    :param emails_amount_per_month: emails per month.
    :param seconds_amount_per_month: voice seconds per month.
    """

    operation = Operation(
        "POST", "/agents/limits", "ExternalApiAgentsController_createAgentLimitsByApiKey", success_status=201
    )
    tokens_amount_per_month: float = _Amount
    sms_amount_per_month: float = _Amount
    emails_amount_per_month: float = _Amount
    seconds_amount_per_month: float = _Amount


class UpdateAgentLimits(RaiaRequest[AgentLimits]):
    """Change some of the agent's monthly limits; the others keep their value.

    :param tokens_amount_per_month: tokens per month.
    :param sms_amount_per_month: SMS per month.
    :param emails_amount_per_month: emails per month.
    :param seconds_amount_per_month: voice seconds per month.
    """

    operation = Operation("PUT", "/agents/limits", "ExternalApiAgentsController_updateAgentLimitsByApiKey")
    tokens_amount_per_month: float | None = Field(default=None, ge=0)
    sms_amount_per_month: float | None = Field(default=None, ge=0)
    emails_amount_per_month: float | None = Field(default=None, ge=0)
    seconds_amount_per_month: float | None = Field(default=None, ge=0)


class DeleteAgentLimits(RaiaRequest[NoContent]):
    """Remove the agent's own limits (the organization's defaults apply again)."""

    operation = Operation("DELETE", "/agents/limits", "ExternalApiAgentsController_deleteAgentLimitsByApiKey")


class RecordResourceUsage(RaiaRequest[NoContent]):
    """Record usage the agent consumed outside raia, so that it counts against its limits.

    :param type: ``OPENAI_TOKENS`` or ``VAPI_SECONDS``.
    :param amount: how much, at least 0.
    """

    operation = Operation(
        "POST",
        "/resource-usage",
        "ExternalApiResourceConsumptionLogsController_createResourceConsumptionLog",
        success_status=201,
    )
    type: Literal["OPENAI_TOKENS", "VAPI_SECONDS"]
    amount: float = Field(ge=0)


class ListAgentUsers(RaiaRequest[Page[ConversationUser]]):
    """One page of the agent's conversation users (``iter_agent_users`` walks them all).

    raia's spec declares the agent profile as this operation's response; the sibling
    ``GET /agents/{id}/users`` (organization key) documents the page of users it really returns.

    :param page: the page number, from 1.
    :param page_size: users per page.
    :param order_by: ``createdAt`` (the only documented order).
    :param order_direction: ``ASC`` or ``DESC``.
    """

    operation = Operation(
        "GET",
        "/agents/users",
        "ExternalApiAgentsController_getAgentUsersByApiKey",
        response_schema="GetOrganizationAgentUsersResponseDTO",
    )
    page: int | None = Field(default=None, ge=1)
    page_size: int | None = Field(default=None, ge=1)
    order_by: Literal["createdAt"] | None = None
    order_direction: Literal["ASC", "DESC"] | None = None


class AgentEndpoints:
    """``RaiaHook`` methods for the agent operations (blocking, and ``a``-prefixed async twins)."""

    get_agent = Endpoint(GetAgent)
    aget_agent = AsyncEndpoint(GetAgent)
    get_agent_statistic = Endpoint(GetAgentStatistic)
    aget_agent_statistic = AsyncEndpoint(GetAgentStatistic)
    get_agent_usage = Endpoint(GetAgentUsage)
    aget_agent_usage = AsyncEndpoint(GetAgentUsage)
    create_agent_limits = Endpoint(CreateAgentLimits)
    acreate_agent_limits = AsyncEndpoint(CreateAgentLimits)
    update_agent_limits = Endpoint(UpdateAgentLimits)
    aupdate_agent_limits = AsyncEndpoint(UpdateAgentLimits)
    delete_agent_limits = Endpoint(DeleteAgentLimits)
    adelete_agent_limits = AsyncEndpoint(DeleteAgentLimits)
    record_resource_usage = Endpoint(RecordResourceUsage)
    arecord_resource_usage = AsyncEndpoint(RecordResourceUsage)
    iter_agent_users = PagedEndpoint(ListAgentUsers)
    aiter_agent_users = AsyncPagedEndpoint(ListAgentUsers)
    get_agent_users_page = Endpoint(ListAgentUsers)
    aget_agent_users_page = AsyncEndpoint(ListAgentUsers)
