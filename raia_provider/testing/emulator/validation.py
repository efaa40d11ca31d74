"""raia's 400 for a bad body or query: pydantic's errors rendered as NestJS class-validator ``details``.

A 400's ``details`` entries look like class-validator's:
``{"property": "files.0.fileName", "constraints": {"isNotEmpty": "fileName should not be empty"}}`` — the
shape is **inferred** (the spec leaves ``details`` untyped). The checks themselves are the field types of
:mod:`.body_fields`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from raia_provider.testing.emulator.body_fields import BLANK
from raia_provider.testing.emulator.errors import RaiaError, bad_request_body

BODY_PROPERTY = "body"

_NUMBER = {"isNumber": "must be a number conforming to the specified constraints"}
MISSING_RULES: dict[str, dict[str, str]] = {
    **{
        name: _NUMBER
        for name in ("tokensAmountPerMonth", "smsAmountPerMonth", "emailsAmountPerMonth", "secondsAmountPerMonth")
    },
    "amount": _NUMBER,
    "type": {"isEnum": "must be one of the following values: OPENAI_TOKENS, VAPI_SECONDS"},
    "voteType": {"isEnum": "must be one of the following values: up, down"},
    "channel": {"isEnum": "must be one of the following values: email, sms, voice"},
    "triggerCondition": {"isNotEmpty": "should not be empty", "isEnum": "must be a valid trigger condition"},
    "fileIds": {"isArray": "must be an array"},
    "conversationMessageId": {"isNotEmpty": "should not be empty", "isUuid": "must be a UUID"},
    "userId": {"isNotEmpty": "should not be empty", "isUuid": "must be a UUID"},
}
"""class-validator rules reported for a missing property that is not a plain string (default: isNotEmpty +
isString)."""


def _constraints(error: Mapping[str, Any], name: str, parent: str) -> dict[str, str]:
    error_type = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if error_type == "missing" and name in MISSING_RULES:
        return {rule: f"{name} {text}" for rule, text in MISSING_RULES[name].items()}
    if error_type == "missing":
        # Every required property of these DTOs is a string; class-validator reports both rules.
        return {"isNotEmpty": f"{name} should not be empty", "isString": f"{name} must be a string"}
    if error_type == BLANK:
        return {"isNotEmpty": f"{name} should not be empty"}
    if error_type == "string_type":
        return {"isString": f"{name} must be a string"}
    if error_type == "list_type":
        return {"isArray": f"{name} must be an array"}
    if error_type in {"model_type", "model_attributes_type", "dict_type"}:
        return {"nestedValidation": f"each value in nested property {parent} must be either object or array"}
    if error_type == "object_type":
        return {"isObject": f"{name} must be an object"}
    if error_type in {"bool_type", "bool_parsing"}:
        return {"isBoolean": f"{name} must be a boolean value"}
    if error_type in {"number_type", "int_parsing", "int_type", "float_parsing", "float_type", "int_from_float"}:
        return {"isNumber": f"{name} must be a number conforming to the specified constraints"}
    if error_type == "integer_type":
        return {"isInt": f"{name} must be an integer number"}
    if error_type in {"greater_than_equal", "too_small"}:
        return {"min": f"{name} must not be less than {ctx.get('ge', ctx.get('min', 0))}"}
    if error_type in {"less_than_equal", "too_large"}:
        return {"max": f"{name} must not be greater than {ctx.get('le', ctx.get('max', 0))}"}
    if error_type == "string_too_long":
        return {"maxLength": f"{name} must be shorter than or equal to {ctx.get('max_length')} characters"}
    if error_type in {"enum", "literal_error"}:
        values = ctx.get("values", ctx.get("expected", ""))
        return {"isEnum": f"{name} must be one of the following values: {values}"}
    if error_type == "uuid_type":
        return {"isUuid": f"{name} must be a UUID"}
    if error_type == "date_type":
        return {"isDateString": f"{name} must be a valid ISO 8601 date string"}
    if error_type == "phone_number":
        return {"isPhoneNumber": f"{name} must be a valid phone number"}
    if error_type == "email":
        return {"isEmail": f"{name} must be an email"}
    if error_type == "one_of":
        return {"isNotEmpty": f"{name} should not be empty (one of {ctx.get('names', name)} is required)"}
    return {"isValid": f"{name} is not valid"}


def _body_detail(error_type: str) -> dict[str, str]:
    if error_type == "json_invalid":
        return {"isJson": "body must be valid JSON"}
    return {"isObject": "body must be a JSON object"}


def class_validator_details(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Render FastAPI/pydantic validation errors as class-validator ``details`` entries.

    Errors on the same property are merged into one entry, in first-seen order.

    :param errors: ``RequestValidationError.errors()`` items (``loc`` starts with ``"body"`` or ``"query"``;
        pydantic's own errors, without that prefix, are accepted too).
    """
    merged: dict[str, dict[str, str]] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] in {BODY_PROPERTY, "query", "path"}:
            loc = loc[1:]
        error_type = str(error.get("type", ""))
        if error_type == "json_invalid" or not loc:
            prop, constraints = BODY_PROPERTY, _body_detail(error_type)
        else:
            parent = loc[-2] if len(loc) > 1 else loc[-1]
            prop, constraints = ".".join(loc), _constraints(error, loc[-1], parent)
        merged.setdefault(prop, {}).update(constraints)
    return [{"property": prop, "constraints": constraints} for prop, constraints in merged.items()]


def detail(prop: str, rule: str, message: str) -> dict[str, Any]:
    """Build one class-validator ``details`` entry.

    :param prop: the (dotted) property path.
    :param rule: the constraint name.
    :param message: the constraint message.
    """
    return {"property": prop, "constraints": {rule: message}}


def refuse(details: list[dict[str, Any]]) -> None:
    """Raise raia's 400 if there are ``details``.

    :param details: class-validator details.
    :raises RaiaError: 400 ``BAD_REQUEST`` with the details.
    """
    if details:
        raise RaiaError(400, bad_request_body(details))
