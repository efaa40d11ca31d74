"""Request bodies and query parameters of the conversation-side operations, checked like raia's NestJS app.

Same rules as :mod:`.validation` (whose error rendering they share): required strings are non-blank JSON
strings, optional fields may be absent but never ``null``, unknown properties are ignored, errors are 400s
with class-validator ``details``. In addition (each also stated in :mod:`.contract`):

* numbers are JSON numbers (not strings, not booleans, finite); monthly limits and resource-usage amounts
  must not be negative (**inferred**: ``@Min(0)``);
* a phone number must match E.164, :data:`PHONE_PATTERN`, unless ``skipPhoneNumberValidation`` is true; an
  email must match :data:`EMAIL_PATTERN` unless ``skipEmailValidation`` is true. Both patterns are applied as
  JSON Schema applies ``pattern`` (``re.search``), so the emulator and its contract agree;
* ``POST /external/users`` needs at least one of ``phoneNumber``, ``email``, ``fkId`` (the spec's three
  ``oneOf`` variants, read as "any of": a user may have all three);
* query parameters: ``page`` an integer >= 1, ``pageSize`` an integer from 1 to :data:`MAX_PAGE_SIZE`
  (**inferred**: raia documents neither), booleans ``true``/``false`` only, dates ISO 8601, ``userId`` and
  ``conversationUserId`` UUIDs (an empty one is not a UUID: the spec's ``example: ""`` for them is a defect,
  dropped in :mod:`.contract`), enums exactly as in the spec. An empty ``fkId``/``fkUserId`` counts as absent.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, StrictBool, StrictStr, StringConstraints, ValidationError
from pydantic_core import PydanticCustomError

from raia_provider.testing.emulator.contract import EMAIL_PATTERN, PHONE_PATTERN
from raia_provider.testing.emulator.errors import RaiaError, bad_request_body
from raia_provider.testing.emulator.validation import MessageFileBody, RequiredText, class_validator_details, detail

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
TITLE_MAX = 255
CONTEXT_MAX = 256_000


def _refuse_null(kind: str, message: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is None:
            raise PydanticCustomError(kind, message)
        return value

    return check


def _object(value: Any) -> Any:
    if not isinstance(value, dict):
        raise PydanticCustomError("object_type", "Input should be an object")
    return value


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PydanticCustomError("number_type", "Input should be a number")
    return value


def _non_negative(value: Any) -> Any:
    value = _number(value)
    if value < 0:
        raise PydanticCustomError("greater_than_equal", "Input should be >= 0", {"ge": 0})
    return value


def _enum(*values: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, str) or value not in values:
            raise PydanticCustomError("enum", "Input should be one of {values}", {"values": ", ".join(values)})
        return value

    return check


def _uuid(value: Any) -> Any:
    if not isinstance(value, str) or not is_uuid(value):
        raise PydanticCustomError("uuid_type", "Input should be a UUID")
    return value


def is_uuid(value: str) -> bool:
    """Tell whether ``value`` is a UUID in its canonical 8-4-4-4-12 hex form (what class-validator accepts).

    :param value: the text.
    """
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


Text = Annotated[StrictStr | None, BeforeValidator(_refuse_null("string_type", "Input should be a valid string"))]
Flag = Annotated[StrictBool | None, BeforeValidator(_refuse_null("bool_type", "Input should be a valid boolean"))]
JsonObject = Annotated[dict[str, Any] | None, BeforeValidator(_object)]
Number = Annotated[float, BeforeValidator(_non_negative)]
OptionalNumber = Annotated[float | None, BeforeValidator(_non_negative)]
Title = Annotated[
    StrictStr | None,
    StringConstraints(max_length=TITLE_MAX),
    BeforeValidator(_refuse_null("string_type", "Input should be a valid string")),
]
Context = Annotated[
    StrictStr | None,
    StringConstraints(max_length=CONTEXT_MAX),
    BeforeValidator(_refuse_null("string_type", "Input should be a valid string")),
]
Files = Annotated[
    list[MessageFileBody] | None, BeforeValidator(_refuse_null("list_type", "Input should be a valid list"))
]
Uuid = Annotated[str, BeforeValidator(_uuid)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Contacts(_Body):
    """Fields shared by user creation and the three start bodies."""

    firstName: RequiredText
    lastName: RequiredText
    context: Text = None
    source: Text = None
    fkUserId: Text = None
    customData: JsonObject = None
    skipPhoneNumberValidation: Flag = None
    skipEmailValidation: Flag = None
    email: Text = None
    phoneNumber: Text = None
    fkId: Text = None


class CreateUserBody(_Contacts):
    """Body of ``POST /external/users`` (the spec's three ``CreateUserWith…BodyDTO`` variants in one)."""


class _StartBody(_Contacts):
    conversationContext: Text = None
    conversationStateId: Text = None
    authorId: Text = None


class StartEmailBody(_StartBody):
    """``StartEmailConversationBodyDTO``."""

    channel: Annotated[Literal["email"], BeforeValidator(_enum("email", "sms", "voice"))]
    email: RequiredText
    emailSubject: RequiredText
    emailIntroduction: RequiredText
    includeSignatureInEmail: Flag = None
    resetConversation: Flag = None


class StartSmsBody(_StartBody):
    """``StartSmsConversationBodyDTO``."""

    channel: Annotated[Literal["sms"], BeforeValidator(_enum("email", "sms", "voice"))]
    phoneNumber: RequiredText
    smsIntroduction: RequiredText
    includeSignatureInSms: Flag = None
    resetConversation: Flag = None


class StartVoiceBody(_StartBody):
    """``StartVoiceConversationBodyDTO``."""

    channel: Annotated[Literal["voice"], BeforeValidator(_enum("email", "sms", "voice"))]
    phoneNumber: RequiredText
    firstMessage: RequiredText


START_BODIES: dict[str, type[StartEmailBody] | type[StartSmsBody] | type[StartVoiceBody]] = {
    "email": StartEmailBody,
    "sms": StartSmsBody,
    "voice": StartVoiceBody,
}


class CreateConversationBody(_Body):
    """``CreateConversationBodyDTO``."""

    conversationUserId: RequiredText
    title: Title = None
    context: Context = None
    customData: JsonObject = None
    conversationStateId: Text = None


class UpdateConversationBody(_Body):
    """``UpdateConversationBodyDTO`` (all optional)."""

    title: Title = None
    context: Context = None
    status: Annotated[
        Literal["active", "inactive", "archived"] | None, BeforeValidator(_enum("active", "inactive", "archived"))
    ] = None
    conversationStateId: Text = None


class UpdateModeBody(_Body):
    """``UpdateConversationModeBodyDTO`` (``mode`` is required by the emulator, see the route)."""

    mode: Annotated[Literal["manual", "ai"], BeforeValidator(_enum("manual", "ai"))]


class DeleteConversationsBody(_Body):
    """``DeleteUserConversationsBodyDTO``."""

    conversationUserId: RequiredText


class MessageBody(_Body):
    """``ProcessMessageBodyDTO`` / ``SendMessageBodyDTO``."""

    message: RequiredText
    context: Text = None
    files: Files = None


class ManualMessageBody(_Body):
    """``SendMessageToUserBodyDTO``."""

    message: RequiredText
    conversationMessageId: Text = None
    authorId: Text = None
    files: Files = None


class LimitsBody(_Body):
    """``CreateConversationUserLimitsBodyDTO``, ``UpdateConversationUserLimitsBodyDTO`` and
    ``CreateAgentLimitsBodyDTO``: all four amounts required."""

    tokensAmountPerMonth: Number
    smsAmountPerMonth: Number
    emailsAmountPerMonth: Number
    secondsAmountPerMonth: Number

    def values(self) -> dict[str, float]:
        """The amounts, keyed like :class:`~.records.Limits`."""
        return {
            "tokens": self.tokensAmountPerMonth,
            "sms": self.smsAmountPerMonth,
            "emails": self.emailsAmountPerMonth,
            "seconds": self.secondsAmountPerMonth,
        }


class PartialLimitsBody(_Body):
    """``UpdateAgentLimitsBodyDTO``: every amount optional."""

    tokensAmountPerMonth: OptionalNumber = None
    smsAmountPerMonth: OptionalNumber = None
    emailsAmountPerMonth: OptionalNumber = None
    secondsAmountPerMonth: OptionalNumber = None

    def values(self) -> dict[str, float]:
        """The amounts given, keyed like :class:`~.records.Limits`."""
        given = {
            "tokens": self.tokensAmountPerMonth,
            "sms": self.smsAmountPerMonth,
            "emails": self.emailsAmountPerMonth,
            "seconds": self.secondsAmountPerMonth,
        }
        return {name: value for name, value in given.items() if value is not None}


class WebhookBody(_Body):
    """``CreateAgentWebhookBodyDTO``."""

    title: RequiredText
    description: RequiredText
    url: RequiredText
    triggerCondition: Annotated[
        Literal[
            "each_message",
            "end_dialog",
            "start_dialog",
            "chat_currently_unavailable",
            "auto_archive_conversation",
            "manual",
        ],
        BeforeValidator(
            _enum(
                "each_message",
                "end_dialog",
                "start_dialog",
                "chat_currently_unavailable",
                "auto_archive_conversation",
                "manual",
            )
        ),
    ]
    headers: JsonObject = None


class FeedbackBody(_Body):
    """``ExternalApiCrateOrUpdateConversationMessageFeedbackBodyDTO``."""

    conversationMessageId: Uuid
    userId: Uuid
    voteType: Annotated[Literal["up", "down"], BeforeValidator(_enum("up", "down"))]
    question: RequiredText
    answer: Text = None
    comment: Text = None


class ResourceUsageBody(_Body):
    """``CreateResourceUsageLogsBodyDto``."""

    type: Annotated[Literal["OPENAI_TOKENS", "VAPI_SECONDS"], BeforeValidator(_enum("OPENAI_TOKENS", "VAPI_SECONDS"))]
    amount: Number


class DeleteFilesBody(_Body):
    """``DeleteAgentFilesBodyDTO``: ``fileIds`` is an array of UUIDs."""

    fileIds: Annotated[list[Uuid], BeforeValidator(_refuse_null("list_type", "Input should be a valid list"))]


# -- checks beyond one field -------------------------------------------------------------------------------


def contact_details(body: _Contacts) -> list[dict[str, Any]]:
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


def refuse(details: list[dict[str, Any]]) -> None:
    """Raise raia's 400 if there are ``details``.

    :param details: class-validator details.
    :raises RaiaError: 400 ``BAD_REQUEST`` with the details.
    """
    if details:
        raise RaiaError(400, bad_request_body(details))


def parse_start_body(payload: Any) -> StartEmailBody | StartSmsBody | StartVoiceBody:
    """Validate a ``POST /external/conversations/start`` body: pick the DTO by ``channel``, then check it.

    :param payload: the parsed JSON body.
    :raises RaiaError: 400 with class-validator details.
    """
    if not isinstance(payload, dict):
        refuse([detail("body", "isObject", "body must be a JSON object")])
    channel = payload.get("channel")
    model = START_BODIES.get(channel) if isinstance(channel, str) else None
    if model is None:
        refuse([detail("channel", "isEnum", "channel must be one of the following values: email, sms, voice")])
        raise AssertionError("unreachable")
    try:
        body = model.model_validate(payload)
    except ValidationError as error:
        refuse(class_validator_details(error.errors()))
        raise
    refuse(contact_details(body))
    return body


class QueryCheck:
    """Parse query parameters, collecting class-validator details; :meth:`done` raises the 400."""

    def __init__(self) -> None:
        self.details: list[dict[str, Any]] = []

    def integer(self, name: str, raw: str | None, *, default: int, maximum: int | None = None) -> int:
        """An integer >= 1 (and <= ``maximum``).

        :param name: parameter name.
        :param raw: its value, ``None`` when absent.
        :param default: the value when absent.
        :param maximum: the largest accepted value.
        """
        if raw is None:
            return default
        if re.fullmatch(r"[+]?[0-9]+", raw.strip()) is None:
            self.details.append(detail(name, "isInt", f"{name} must be an integer number"))
            return default
        value = int(raw)
        if value < 1:
            self.details.append(detail(name, "min", f"{name} must not be less than 1"))
        elif maximum is not None and value > maximum:
            self.details.append(detail(name, "max", f"{name} must not be greater than {maximum}"))
        return value

    def boolean(self, name: str, raw: str | None) -> bool:
        """``true`` or ``false`` (absent: false).

        :param name: parameter name.
        :param raw: its value, ``None`` when absent.
        """
        if raw is None:
            return False
        if raw not in ("true", "false"):
            self.details.append(detail(name, "isBoolean", f"{name} must be a boolean value"))
        return raw == "true"

    def enum(self, name: str, raw: str | None, values: tuple[str, ...], default: str) -> str:
        """One of ``values``.

        :param name: parameter name.
        :param raw: its value, ``None`` when absent.
        :param values: accepted values.
        :param default: the value when absent.
        """
        if raw is None:
            return default
        if raw not in values:
            self.details.append(
                detail(name, "isEnum", f"{name} must be one of the following values: {', '.join(values)}")
            )
            return default
        return raw

    def date(self, name: str, raw: str | None) -> float | None:
        """An ISO 8601 date-time (naive ones are UTC), as epoch seconds.

        :param name: parameter name.
        :param raw: its value, ``None`` when absent.
        """
        if raw is None:
            return None
        try:
            moment = datetime.fromisoformat(raw.replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            self.details.append(detail(name, "isDateString", f"{name} must be a valid ISO 8601 date string"))
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()

    def uuid(self, name: str, raw: str | None) -> str | None:
        """A UUID.

        :param name: parameter name.
        :param raw: its value, ``None`` when absent.
        """
        if raw is None:
            return None
        if not is_uuid(raw):
            self.details.append(detail(name, "isUuid", f"{name} must be a UUID"))
        return raw

    def done(self) -> None:
        """Raise the 400 if any parameter was bad.

        :raises RaiaError: 400 with the collected details.
        """
        refuse(self.details)


def flag_value(raw: str | None, name: str) -> bool | None:
    """A multipart boolean field: ``true``/``false`` (any case), ``None`` when absent.

    :param raw: the field's value.
    :param name: the field's name (for the 400).
    :raises RaiaError: 400 for any other value.
    """
    if raw is None:
        return None
    lowered = raw.strip().lower()
    if lowered not in ("true", "false"):
        refuse([detail(name, "isBoolean", f"{name} must be a boolean value")])
    return lowered == "true"


def drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without ``None`` entries.

    :param values: a mapping.
    """
    return {key: value for key, value in values.items() if value is not None}
