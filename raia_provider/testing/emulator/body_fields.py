"""Field types of raia's request bodies, checked the way raia's NestJS app (class-validator) checks them.

What every body of the emulated API shares:

* required strings are JSON strings that are not blank (empty or whitespace-only) — our reading of
  ``@IsNotEmpty`` (**inferred**; class-validator alone accepts whitespace, we are stricter on purpose so
  clients never send empty prompts);
* optional fields may be absent but not ``null`` (the spec marks none of them nullable);
* numbers are JSON numbers (not strings, not booleans, finite); amounts must not be negative (**inferred**:
  ``@Min(0)``); enums take exactly the spec's values; ids said to be UUIDs are canonical UUIDs;
* unknown properties are ignored (the spec does not forbid them).

A failed check raises a pydantic error whose ``type`` :mod:`.validation` renders as class-validator's rule.
"""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StrictBool, StrictStr
from pydantic_core import PydanticCustomError

BLANK = "blank"
"""The error type of a blank required string (rendered as ``isNotEmpty``)."""


class RequestBody(BaseModel):
    """Base of every request body: unknown properties are ignored, a parsed body is frozen."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError(BLANK, "should not be empty")
    return value


def refuse_null(kind: str, message: str) -> BeforeValidator:
    """A check that refuses an explicit ``null`` with the error a wrong type would get.

    :param kind: the pydantic error type (``string_type``, ``list_type``, ...).
    :param message: its message.
    """

    def check(value: Any) -> Any:
        if value is None:
            raise PydanticCustomError(kind, message)
        return value

    return BeforeValidator(check)


def _object(value: Any) -> Any:
    if not isinstance(value, dict):
        raise PydanticCustomError("object_type", "Input should be an object")
    return value


def _non_negative(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PydanticCustomError("number_type", "Input should be a number")
    if value < 0:
        raise PydanticCustomError("greater_than_equal", "Input should be >= 0", {"ge": 0})
    return value


def one_of(*values: str) -> BeforeValidator:
    """A check that accepts exactly ``values`` (class-validator's ``@IsEnum``).

    :param values: the accepted strings.
    """

    def check(value: Any) -> Any:
        if not isinstance(value, str) or value not in values:
            raise PydanticCustomError("enum", "Input should be one of {values}", {"values": ", ".join(values)})
        return value

    return BeforeValidator(check)


def is_uuid(value: str) -> bool:
    """Tell whether ``value`` is a UUID in its canonical 8-4-4-4-12 hex form (what class-validator accepts).

    :param value: the text.
    """
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _uuid(value: Any) -> Any:
    if not isinstance(value, str) or not is_uuid(value):
        raise PydanticCustomError("uuid_type", "Input should be a UUID")
    return value


NOT_NULL_TEXT = refuse_null("string_type", "Input should be a valid string")
NOT_NULL_LIST = refuse_null("list_type", "Input should be a valid list")

RequiredText = Annotated[StrictStr, AfterValidator(_not_blank)]
Text = Annotated[StrictStr | None, NOT_NULL_TEXT]
Flag = Annotated[StrictBool | None, refuse_null("bool_type", "Input should be a valid boolean")]
OptionalObject = Annotated[dict[str, Any] | None, BeforeValidator(_object)]
Amount = Annotated[float, BeforeValidator(_non_negative)]
OptionalAmount = Annotated[float | None, BeforeValidator(_non_negative)]
Uuid = Annotated[str, BeforeValidator(_uuid)]
