"""Conversation users (the people an agent talks to): the user, a contact search's result, monthly limits.

Spec schemas mirrored: ``ExternalApiUserResponseDTO`` (:class:`ConversationUser`),
``SearchConversationUserByContactsResponseDTO`` (:class:`UserSearchResult`),
``ConversationUserLimitsResponseDTO`` (:class:`UserLimits`).

The validated argument types below (:data:`PhoneNumber`, :data:`EmailAddress`), with ``Id`` and ``NonBlankStr``
from :mod:`raia_provider.models.base`, are shared by the user and conversation operations, so that both refuse
the same bad input the same way.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, ValidationInfo

from raia_provider.models.base import RaiaModel

#: E.164: a ``+``, a country code not starting with 0, at most 15 digits in all.
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Deliberately loose: catches a missing "@" or domain, a name pasted by mistake, stray spaces. raia's own check
# (which skip_email_validation turns off) stays the authority on what it delivers to.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _e164(value: str, info: ValidationInfo) -> str:
    # The skip flag is declared before the number on every model, so it is already in info.data.
    if info.data.get("skip_phone_number_validation"):
        return value
    if not E164.fullmatch(value):
        raise ValueError(
            "must be an E.164 phone number like +15551234567 (a '+', the country code, then the number, "
            "no spaces or punctuation); pass skip_phone_number_validation=True to send it unchecked"
        )
    return value


def _email(value: str, info: ValidationInfo) -> str:
    if info.data.get("skip_email_validation"):
        return value
    if not _EMAIL.fullmatch(value):
        raise ValueError(
            "must be an email address like jane@example.com; pass skip_email_validation=True to send it unchecked"
        )
    return value


#: An E.164 phone number, unless the model's ``skip_phone_number_validation`` is true.
PhoneNumber = Annotated[str, AfterValidator(_e164)]
#: A plausible email address, unless the model's ``skip_email_validation`` is true.
EmailAddress = Annotated[str, AfterValidator(_email)]


class ConversationUser(RaiaModel):
    """A person the agent talks to, identified by any of phone number, email or the caller's ``fkId``.

    :param id: raia's id of the user.
    :param first_name: first name (``firstName``).
    :param last_name: last name (``lastName``).
    :param context: free-form user context, e.g. ``Support``.
    :param source: where the user came from, e.g. ``crm``.
    :param fk_id: the caller's own id for the user (``fkId``).
    :param fk_user_id: a second foreign key of the caller's (``fkUserId``).
    :param email: email address.
    :param phone_number: phone number (``phoneNumber``).
    :param metadata: raia's metadata, e.g. ``{"customData": {...}}``.
    :param is_anonymized: whether raia has anonymized the user's data (``isAnonymized``).
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("ExternalApiUserResponseDTO",)

    id: str
    first_name: str
    last_name: str
    context: str | None = None
    source: str | None = None
    fk_id: str | None = None
    fk_user_id: str | None = None
    email: str | None = None
    phone_number: str | None = None
    metadata: dict[str, Any] | None = None
    is_anonymized: bool


class UserSearchResult(RaiaModel):
    """The user found by a contact search, with the ids of their conversations with this agent.

    :param user: the user.
    :param conversation_ids: ids of the user's conversations (``conversationIds``).
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("SearchConversationUserByContactsResponseDTO",)

    user: ConversationUser
    conversation_ids: list[str]


class UserLimits(RaiaModel):
    """A user's monthly usage limits; ``is_organization_default`` says they are the organization's defaults.

    :param id: raia's id of the limits record.
    :param conversation_user_id: the user they apply to (``conversationUserId``).
    :param is_organization_default: whether these are the organization's defaults, not the user's own.
    :param tokens_amount_per_month: model tokens per month (``tokensAmountPerMonth``).
    :param sms_amount_per_month: SMS messages per month (``smsAmountPerMonth``).
    :param emails_amount_per_month: emails per month (``emailsAmountPerMonth``).
    :param seconds_amount_per_month: voice seconds per month (``secondsAmountPerMonth``).
    """

    spec_schemas: ClassVar[tuple[str, ...]] = ("ConversationUserLimitsResponseDTO",)

    id: str
    conversation_user_id: str
    is_organization_default: bool
    tokens_amount_per_month: float
    sms_amount_per_month: float
    emails_amount_per_month: float
    seconds_amount_per_month: float
