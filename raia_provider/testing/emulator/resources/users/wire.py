"""The users' bodies and DTO, in raia's field names.

* a phone number must match E.164 (:data:`~...contract.PHONE_PATTERN`) unless ``skipPhoneNumberValidation``
  is true; an email must match :data:`~...contract.EMAIL_PATTERN` unless ``skipEmailValidation`` is true. Both
  patterns are applied as JSON Schema applies ``pattern`` (``re.search``), so the emulator and its contract
  agree;
* ``POST /external/users`` needs at least one of ``phoneNumber``, ``email``, ``fkId`` (the spec's three
  ``oneOf`` variants, read as "any of": a user may have all three); the route checks it.
"""

from __future__ import annotations

import re
from typing import Any

from raia_provider.testing.emulator.body_fields import Flag, OptionalObject, RequestBody, RequiredText, Text
from raia_provider.testing.emulator.contract import EMAIL_PATTERN, PHONE_PATTERN
from raia_provider.testing.emulator.rendering import JsonObject, present
from raia_provider.testing.emulator.resources.users.store import ConversationUser
from raia_provider.testing.emulator.validation import detail


class ContactFields(RequestBody):
    """Fields shared by user creation and the three start bodies."""

    firstName: RequiredText
    lastName: RequiredText
    context: Text = None
    source: Text = None
    fkUserId: Text = None
    customData: OptionalObject = None
    skipPhoneNumberValidation: Flag = None
    skipEmailValidation: Flag = None
    email: Text = None
    phoneNumber: Text = None
    fkId: Text = None


class CreateUserBody(ContactFields):
    """Body of ``POST /external/users`` (the spec's three ``CreateUserWith…BodyDTO`` variants in one)."""


def contact_details(body: ContactFields) -> list[dict[str, Any]]:
    """Class-validator details for a malformed phone number or email (unless their check is skipped).

    :param body: a user or start body.
    """
    details = []
    phone, email = body.phoneNumber, body.email
    if phone is not None and not body.skipPhoneNumberValidation and re.search(PHONE_PATTERN, phone) is None:
        details.append(detail("phoneNumber", "isPhoneNumber", "phoneNumber must be a valid phone number"))
    if email is not None and not body.skipEmailValidation and re.search(EMAIL_PATTERN, email) is None:
        details.append(detail("email", "isEmail", "email must be an email"))
    return details


def user_dto(user: ConversationUser) -> JsonObject:
    """``ExternalApiUserResponseDTO``.

    :param user: the conversation user.
    """
    return {
        "id": user.id,
        "firstName": user.first_name,
        "lastName": user.last_name,
        **present(
            context=user.context,
            source=user.source,
            fkId=user.fk_id,
            fkUserId=user.fk_user_id,
            email=user.email,
            phoneNumber=user.phone_number,
        ),
        "metadata": {"customData": user.custom_data} if user.custom_data is not None else {},
        "isAnonymized": False,
    }
