"""raia's conversation-user operations: create, find, read and delete users, and their monthly limits."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from raia_provider._core.endpoint import AsyncEndpoint, Endpoint
from raia_provider._core.operation import Operation, RaiaRequest
from raia_provider.models.base import Id, NoContent, NonBlankStr
from raia_provider.models.users import (
    ConversationUser,
    EmailAddress,
    PhoneNumber,
    UserLimits,
    UserSearchResult,
)

_CREATE_USER = "ExternalApiUsersController_createConversationUser"


class _NewUser(RaiaRequest[ConversationUser]):
    """The fields every way of creating a user shares; one subclass per ``oneOf`` variant of the body."""

    # First, so that the phone and email checks, which run later, can see them.
    skip_phone_number_validation: bool | None = None
    skip_email_validation: bool | None = None
    first_name: NonBlankStr
    last_name: NonBlankStr
    context: str | None = None
    source: str | None = None
    fk_user_id: str | None = None
    custom_data: dict[str, Any] | None = None


class CreateUserWithPhoneNumber(_NewUser):
    """Create a conversation user identified by phone number; raia answers 400 if one already exists.

    :param first_name: first name; must contain text.
    :param last_name: last name; must contain text.
    :param phone_number: an E.164 number like ``+15551234567``.
    :param email: an email address, optional.
    :param fk_id: your own id for the user, optional.
    :param context: free-form user context, e.g. ``Support``.
    :param source: where the user came from, e.g. ``crm``.
    :param fk_user_id: a second foreign key of yours.
    :param custom_data: your data, stored in the user's ``metadata.customData``.
    :param skip_phone_number_validation: send the phone number unchecked (here and at raia).
    :param skip_email_validation: send the email address unchecked (here and at raia).
    """

    operation = Operation(
        "POST", "/users", _CREATE_USER, success_status=201, body_schema="CreateUserWithPhoneNumberBodyDTO"
    )
    phone_number: PhoneNumber
    email: EmailAddress | None = None
    fk_id: Id | None = None


class CreateUserWithEmail(_NewUser):
    """Create a conversation user identified by email address; raia answers 400 if one already exists.

    :param first_name: first name; must contain text.
    :param last_name: last name; must contain text.
    :param email: an email address like ``jane@example.com``.
    :param phone_number: an E.164 number like ``+15551234567``, optional.
    :param fk_id: your own id for the user, optional.
    :param context: free-form user context, e.g. ``Support``.
    :param source: where the user came from, e.g. ``crm``.
    :param fk_user_id: a second foreign key of yours.
    :param custom_data: your data, stored in the user's ``metadata.customData``.
    :param skip_phone_number_validation: send the phone number unchecked (here and at raia).
    :param skip_email_validation: send the email address unchecked (here and at raia).
    """

    operation = Operation("POST", "/users", _CREATE_USER, success_status=201, body_schema="CreateUserWithEmailBodyDTO")
    email: EmailAddress
    phone_number: PhoneNumber | None = None
    fk_id: Id | None = None


class CreateUserWithFkId(_NewUser):
    """Create a conversation user identified by your own id (``fkId``); raia answers 400 if one already exists.

    :param first_name: first name; must contain text.
    :param last_name: last name; must contain text.
    :param fk_id: your own id for the user; must not be blank.
    :param email: an email address, optional.
    :param phone_number: an E.164 number like ``+15551234567``, optional.
    :param context: free-form user context, e.g. ``Support``.
    :param source: where the user came from, e.g. ``crm``.
    :param fk_user_id: a second foreign key of yours.
    :param custom_data: your data, stored in the user's ``metadata.customData``.
    :param skip_phone_number_validation: send the phone number unchecked (here and at raia).
    :param skip_email_validation: send the email address unchecked (here and at raia).
    """

    operation = Operation("POST", "/users", _CREATE_USER, success_status=201, body_schema="CreateUserWithFkIdBodyDTO")
    fk_id: Id
    email: EmailAddress | None = None
    phone_number: PhoneNumber | None = None


class FindUser(RaiaRequest[UserSearchResult]):
    """Find a conversation user by exactly one contact: email, phone number or ``fkId``; 404 if none matches.

    Exactly one is required: raia answers 400 without any, and does not say how it combines several.
    Values are sent as given (users created with the skip flags may hold unchecked contacts).

    :param email: the user's email address.
    :param phone_number: the user's phone number, as stored.
    :param fk_id: your own id for the user.
    """

    operation = Operation("GET", "/users/search", "ExternalApiUsersController_findUserByContactInfo")
    email: NonBlankStr | None = None
    phone_number: NonBlankStr | None = None
    fk_id: NonBlankStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _exactly_one_contact(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = [
                name
                for name, field in cls.model_fields.items()
                if data.get(name) is not None or data.get(field.alias or name) is not None
            ]
            if len(given) != 1:
                found = f"got {' and '.join(given)}" if given else "none was given"
                raise ValueError(f"give exactly one of 'email', 'phone_number' or 'fk_id' to search by ({found})")
        return data


class GetUser(RaiaRequest[ConversationUser]):
    """Read a conversation user.

    :param user_id: the user's id.
    """

    operation = Operation("GET", "/users/{id}", "ExternalApiUsersController_getConversationUser")
    user_id: Id = Field(alias="id")


class DeleteUser(RaiaRequest[NoContent]):
    """Delete a conversation user (raia answers 204); returns ``None``.

    :param user_id: the user's id.
    """

    operation = Operation(
        "DELETE", "/users/{id}", "ExternalApiUsersController_deleteConversationUserById", success_status=204
    )
    user_id: Id = Field(alias="id")


class GetUserLimits(RaiaRequest[UserLimits]):
    """Read a user's monthly limits (the organization's defaults if the user has none of their own).

    :param user_id: the user's id.
    """

    operation = Operation("GET", "/users/{id}/limits", "ExternalApiUsersController_getConversationUserLimits")
    user_id: Id = Field(alias="id")


class _LimitsBody(RaiaRequest[UserLimits]):
    """The four monthly amounts, all required by raia for both create and update."""

    user_id: Id = Field(alias="id")
    tokens_amount_per_month: int = Field(ge=0)
    sms_amount_per_month: int = Field(ge=0)
    emails_amount_per_month: int = Field(ge=0)
    seconds_amount_per_month: int = Field(ge=0)


class CreateUserLimits(_LimitsBody):
    """Give a user monthly limits of their own instead of the organization's defaults.

    :param user_id: the user's id.
    :param tokens_amount_per_month: model tokens per month, 0 or more.
    :param sms_amount_per_month: SMS messages per month, 0 or more.
    :param emails_amount_per_month: emails per month, 0 or more.
    :param seconds_amount_per_month: voice seconds per month, 0 or more.
    """

    operation = Operation(
        "POST", "/users/{id}/limits", "ExternalApiUsersController_createConversationUserLimits", success_status=201
    )


class UpdateUserLimits(_LimitsBody):
    """Change a user's own monthly limits (all four amounts are sent).

    :param user_id: the user's id.
    :param tokens_amount_per_month: model tokens per month, 0 or more.
    :param sms_amount_per_month: SMS messages per month, 0 or more.
    :param emails_amount_per_month: emails per month, 0 or more.
    :param seconds_amount_per_month: voice seconds per month, 0 or more.
    """

    operation = Operation("PUT", "/users/{id}/limits", "ExternalApiUsersController_updateConversationUserLimits")


class DeleteUserLimits(RaiaRequest[NoContent]):
    """Remove a user's own monthly limits, so the organization's defaults apply again; returns ``None``.

    :param user_id: the user's id.
    """

    operation = Operation("DELETE", "/users/{id}/limits", "ExternalApiUsersController_deleteConversationUserLimits")
    user_id: Id = Field(alias="id")


class UserEndpoints:
    """``RaiaHook`` methods for the conversation-user operations (blocking, and ``a``-prefixed async twins)."""

    create_user_with_phone_number = Endpoint(CreateUserWithPhoneNumber)
    acreate_user_with_phone_number = AsyncEndpoint(CreateUserWithPhoneNumber)
    create_user_with_email = Endpoint(CreateUserWithEmail)
    acreate_user_with_email = AsyncEndpoint(CreateUserWithEmail)
    create_user_with_fk_id = Endpoint(CreateUserWithFkId)
    acreate_user_with_fk_id = AsyncEndpoint(CreateUserWithFkId)
    find_user = Endpoint(FindUser)
    afind_user = AsyncEndpoint(FindUser)
    get_user = Endpoint(GetUser)
    aget_user = AsyncEndpoint(GetUser)
    delete_user = Endpoint(DeleteUser)
    adelete_user = AsyncEndpoint(DeleteUser)
    get_user_limits = Endpoint(GetUserLimits)
    aget_user_limits = AsyncEndpoint(GetUserLimits)
    create_user_limits = Endpoint(CreateUserLimits)
    acreate_user_limits = AsyncEndpoint(CreateUserLimits)
    update_user_limits = Endpoint(UpdateUserLimits)
    aupdate_user_limits = AsyncEndpoint(UpdateUserLimits)
    delete_user_limits = Endpoint(DeleteUserLimits)
    adelete_user_limits = AsyncEndpoint(DeleteUserLimits)
