"""The emulator's contract as OpenAPI: raia's published spec with its defects fixed and our choices stated.

raia's spec (``tests/contract/raia-external-api.raw.openapi.json``, and the older ``openapi-prompts.json``)
cannot be used as-is to check a faithful server: some schemas are broken, some documented behaviour sits
outside the schemas, and some statuses the server must send are not documented at all. :func:`contract_spec`
returns a copy with each of those fixed; every fix is explained next to its code, so a test that checks the
emulator against this document checks it against raia's contract, minus the spec's mistakes.

:func:`json_schema` turns one component schema into plain JSON Schema for ``jsonschema`` (OpenAPI 3.0's
``nullable`` is not JSON Schema).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

JsonObject = dict[str, Any]

SERVED_OPERATIONS: tuple[tuple[str, str], ...] = (
    ("POST", "/external/prompts"),
    ("POST", "/external/prompts/async"),
    ("GET", "/external/prompts/{id}/response-on"),
    ("POST", "/external/prompts/upload-url"),
    ("GET", "/external/agents/by-api-key"),
    ("GET", "/external/agents/statistic"),
    ("GET", "/external/agents/users"),
    ("GET", "/external/agents/limits"),
    ("POST", "/external/agents/limits"),
    ("PUT", "/external/agents/limits"),
    ("DELETE", "/external/agents/limits"),
    ("POST", "/external/agents/webhooks"),
    ("POST", "/external/users"),
    ("GET", "/external/users/search"),
    ("GET", "/external/users/{id}"),
    ("DELETE", "/external/users/{id}"),
    ("GET", "/external/users/{id}/limits"),
    ("POST", "/external/users/{id}/limits"),
    ("PUT", "/external/users/{id}/limits"),
    ("DELETE", "/external/users/{id}/limits"),
    ("GET", "/external/conversations"),
    ("POST", "/external/conversations"),
    ("DELETE", "/external/conversations"),
    ("GET", "/external/conversations/states"),
    ("GET", "/external/conversations/{id}"),
    ("PUT", "/external/conversations/{id}"),
    ("POST", "/external/conversations/start"),
    ("GET", "/external/conversations/{id}/messages"),
    ("POST", "/external/conversations/{id}/messages"),
    ("POST", "/external/conversations/{id}/messages/async"),
    ("GET", "/external/conversations/{id}/messages/{questionMessageId}/response-on"),
    ("PUT", "/external/conversations/{id}/mode"),
    ("POST", "/external/conversations/{id}/send-manual-message"),
    ("POST", "/external/conversations/{id}/message-files/upload-url"),
    ("GET", "/external/conversations/{id}/message-files/{fileId}/signed-url"),
    ("POST", "/external/agent-files/upload"),
    ("GET", "/external/agent-files/by-api-key"),
    ("DELETE", "/external/agent-files"),
    ("DELETE", "/external/agent-files/{id}/delete"),
    ("DELETE", "/external/agent-files/{id}/delete-from-vector-store"),
    ("PUT", "/external/agent-files/{id}/add-to-vector-store"),
    ("PUT", "/external/agent-files/{id}/add-to-vector-store/async"),
    ("POST", "/external/resource-usage"),
    ("POST", "/external/conversation-message-feedbacks"),
)
"""The operations the emulator serves (method, spec path): every ``Agent-Secret-Key`` operation of the spec."""

#: Whitespace exactly as Python's ``str.isspace`` sees it, spelled out: the fuzzer reads patterns with
#: ECMAScript semantics, where ``\s`` differs (it excludes ``\x1c``-``\x1f`` and ``\x85``), so a pattern
#: using ``\s``/``\S`` would call valid what the emulator's Python checks refuse.
WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"
"""E.164, as the emulator checks it (the users' and conversations' bodies import it from here)."""
EMAIL_PATTERN = rf"^[^@{WHITESPACE}]+@[^@{WHITESPACE}]+\.[^@{WHITESPACE}]+$"
"""An email, as the emulator checks it: something, an at sign, a domain with a dot; no whitespace."""
MAX_PAGE_SIZE = 100

_NON_BLANK: JsonObject = {"minLength": 1, "pattern": f"[^{WHITESPACE}]"}
_CONTACT_DTOS = (
    "CreateUserWithPhoneNumberBodyDTO",
    "CreateUserWithEmailBodyDTO",
    "CreateUserWithFkIdBodyDTO",
    "StartEmailConversationBodyDTO",
    "StartSmsConversationBodyDTO",
    "StartVoiceConversationBodyDTO",
)
_NON_BLANK_PROPERTIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ProcessPromptBodyDTO", ("prompt",)),
    ("CreatePromptBodyDTO", ("prompt",)),
    ("PromptFileBodyDTO", ("fileName", "storagePath")),
    ("CreatePromptFileSignedUploadUrlBodyDTO", ("fileName", "contentType")),
    ("CreateUserWithPhoneNumberBodyDTO", ("firstName", "lastName", "phoneNumber")),
    ("CreateUserWithEmailBodyDTO", ("firstName", "lastName", "email")),
    ("CreateUserWithFkIdBodyDTO", ("firstName", "lastName", "fkId")),
    ("StartEmailConversationBodyDTO", ("firstName", "lastName", "email", "emailSubject", "emailIntroduction")),
    ("StartSmsConversationBodyDTO", ("firstName", "lastName", "phoneNumber", "smsIntroduction")),
    ("StartVoiceConversationBodyDTO", ("firstName", "lastName", "phoneNumber", "firstMessage")),
    ("CreateConversationBodyDTO", ("conversationUserId",)),
    ("DeleteUserConversationsBodyDTO", ("conversationUserId",)),
    ("ProcessMessageBodyDTO", ("message",)),
    ("SendMessageBodyDTO", ("message",)),
    ("SendMessageToUserBodyDTO", ("message",)),
    ("MessageFileBodyDTO", ("fileName", "storagePath")),
    ("CreateConversationMessageFileSignedUploadUrlBodyDTO", ("fileName", "contentType")),
    ("CreateAgentWebhookBodyDTO", ("title", "description", "url")),
    ("ExternalApiCrateOrUpdateConversationMessageFeedbackBodyDTO", ("question",)),
)
_NON_NEGATIVE_PROPERTIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    *(
        (dto, ("tokensAmountPerMonth", "smsAmountPerMonth", "emailsAmountPerMonth", "secondsAmountPerMonth"))
        for dto in (
            "CreateConversationUserLimitsBodyDTO",
            "UpdateConversationUserLimitsBodyDTO",
            "CreateAgentLimitsBodyDTO",
            "UpdateAgentLimitsBodyDTO",
        )
    ),
    ("CreateResourceUsageLogsBodyDto", ("amount",)),
)
# Responses the spec declares as one object where the operation returns an array of it.
_ARRAY_RESPONSES = (
    ("get", "/external/agent-files/by-api-key"),
    ("get", "/external/conversations/states"),
)
# Operations answering 404 for an unknown id that is not in the path but in the body.
_BODY_REFERENCES = (
    ("post", "/external/conversations"),
    ("delete", "/external/conversations"),
    ("post", "/external/conversations/start"),
    ("post", "/external/conversation-message-feedbacks"),
)
_MISSING_SKILLS = ("DataRetentionSkillResponseDTO", "MsTeamsSkillResponseDTO")


def _error_dto(status: int, name: str, message: str) -> JsonObject:
    return {
        "type": "object",
        "properties": {
            "status": {"type": "number", "default": status},
            "name": {"type": "string", "default": name},
            "message": {"type": "string", "default": message},
            "details": {"type": "array", "items": {"type": "object"}},
        },
        "required": ["status", "name", "message", "details"],
    }


def _nest_error(*, with_error: bool) -> JsonObject:
    properties: JsonObject = {"statusCode": {"type": "number"}, "message": {"type": "string"}}
    if with_error:
        properties["error"] = {"type": "string"}
    return {"type": "object", "properties": properties, "required": list(properties)}


def _json_response(schema: JsonObject, description: str) -> JsonObject:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> JsonObject:
    return {"$ref": f"#/components/schemas/{name}"}


def contract_spec(spec: Mapping[str, Any]) -> JsonObject:
    """Return a copy of raia's OpenAPI document with its known defects fixed and the emulator's choices added.

    Works on the current spec and on the older prompts-only revision (fixes whose target is absent are
    skipped).

    :param spec: a parsed raia OpenAPI document (not modified).
    """
    fixed: JsonObject = copy.deepcopy(dict(spec))
    schemas: JsonObject = fixed.setdefault("components", {}).setdefault("schemas", {})

    # Defect (API_FACTS 0): error DTOs type `name` as `object` but default it to a string such as
    # "FORBIDDEN_ERROR"; on the wire it is a string.
    for dto in schemas.values():
        name = dto.get("properties", {}).get("name")
        if name is not None and name.get("type") == "object" and isinstance(name.get("default"), str):
            name["type"] = "string"

    # Defect (API_FACTS 0): `DataRetentionSkillResponseDTO` and `MsTeamsSkillResponseDTO` are referenced
    # but never defined. Define them as the base skill (systemName + status), which every skill carries.
    if "BaseSkillResponseDTO" in schemas:
        for missing in _MISSING_SKILLS:
            schemas.setdefault(missing, copy.deepcopy(schemas["BaseSkillResponseDTO"]))

    # Defect: the profile's `skills` items are a `oneOf` of open schemas (extra properties allowed), so
    # every real skill matches several branches (an API skill is also a valid base, function and
    # notification skill) and `oneOf` can never pass. NestJS swagger means "one of these kinds": `anyOf`.
    agent = schemas.get("GetAgentByApiKeyResponseDTO")
    if agent is not None:
        items = agent["properties"]["skills"]["items"]
        if "oneOf" in items:
            items["anyOf"] = items.pop("oneOf")

    # Defect (SPEC_NOTES): response-on "returns null if the prompt is not ready"; the spec puts the null
    # in a response-level `schema` outside `content`, where no tool reads it. Allow null in the content.
    poll = fixed.get("paths", {}).get("/external/prompts/{id}/response-on", {}).get("get")
    if poll is not None:
        content = poll["responses"]["200"]["content"]["application/json"]
        content["schema"] = {"allOf": [content["schema"]], "nullable": True}

    # Choice (API_FACTS 6.8): required strings must not be blank (class-validator `@IsNotEmpty`; the
    # emulator also refuses whitespace-only). The spec states no length; state it so valid examples are valid.
    for dto_name, properties in _NON_BLANK_PROPERTIES:
        for prop in properties:
            if dto_name in schemas:
                schemas[dto_name]["properties"][prop].update(_NON_BLANK)

    _fix_conversation_side(fixed, schemas)

    # Gap (API_FACTS 2, 3, 6.1, 6.7, 6.8): these operations document no 400, 404 or 429. The emulator
    # answers 400 (BadRequestErrorDTO, class-validator details) on a bad body, 404 on an unknown or foreign
    # prompt id (EntityNotFoundErrorDTO; or NestJS's route 404 when the id does not fit one path segment)
    # and 429 with NestJS's throttler body when rate-limited. Document them so their bodies get checked.
    schemas.setdefault("BadRequestErrorDTO", _error_dto(400, "BAD_REQUEST", "INVALID_REQUEST"))
    schemas.setdefault("EntityNotFoundErrorDTO", _error_dto(404, "ENTITY_NOT_FOUND_ERROR", "ENTITY_NOT_FOUND"))
    schemas["RouteNotFoundErrorDTO"] = _nest_error(with_error=True)
    schemas["ThrottlerErrorDTO"] = _nest_error(with_error=False)
    not_found = {"anyOf": [_ref("EntityNotFoundErrorDTO"), _ref("RouteNotFoundErrorDTO")]}
    for method, path in SERVED_OPERATIONS:
        operation = fixed.get("paths", {}).get(path, {}).get(method.lower())
        if operation is None:
            continue
        responses = operation["responses"]
        if "requestBody" in operation or any(p.get("in") == "query" for p in operation.get("parameters", [])):
            responses.setdefault("400", _json_response(_ref("BadRequestErrorDTO"), "Invalid body or query."))
        if "{" in path or (method.lower(), path) in _BODY_REFERENCES:
            responses.setdefault("404", _json_response(not_found, "Unknown id."))
        responses.setdefault("429", _json_response(_ref("ThrottlerErrorDTO"), "Rate limited."))
    return fixed


def _contact_rules(dto: JsonObject) -> None:
    """State the phone/email checks of a DTO: E.164 unless ``skipPhoneNumberValidation`` is true, an email
    unless ``skipEmailValidation`` is true."""
    rules = []
    for field, skip, pattern in (
        ("phoneNumber", "skipPhoneNumberValidation", PHONE_PATTERN),
        ("email", "skipEmailValidation", EMAIL_PATTERN),
    ):
        rules.append(
            {
                "type": "object",
                "anyOf": [
                    {"type": "object", "properties": {skip: {"type": "boolean", "enum": [True]}}, "required": [skip]},
                    {"type": "object", "properties": {field: {"type": "string", "pattern": pattern}}},
                ],
            }
        )
    dto.setdefault("allOf", []).extend(rules)


def _fix_conversation_side(fixed: JsonObject, schemas: JsonObject) -> None:
    """Fixes and choices of the users, conversations, messages, agents, files and webhooks operations."""
    paths: JsonObject = fixed.get("paths", {})

    def operation(method: str, path: str) -> JsonObject | None:
        found: JsonObject | None = paths.get(path, {}).get(method)
        return found

    # Defect (API_FACTS 0): list endpoints declaring one object where they return an array of it.
    for method, path in _ARRAY_RESPONSES:
        op = operation(method, path)
        if op is not None:
            content = op["responses"]["200"]["content"]["application/json"]
            content["schema"] = {"type": "array", "items": content["schema"]}

    # Defect (API_FACTS 0): `GET /external/agents/users` declares the agent profile; it returns the page of
    # conversation users its sibling `GET /external/agents/{id}/users` declares.
    op = operation("get", "/external/agents/users")
    if op is not None and "GetOrganizationAgentUsersResponseDTO" in schemas:
        op["responses"]["200"]["content"]["application/json"]["schema"] = _ref("GetOrganizationAgentUsersResponseDTO")

    # Defect: `POST /external/users` takes a `oneOf` of three open variants (phone, email, fkId); a user
    # with a phone *and* an email matches two, so `oneOf` refuses the most ordinary body. raia means "any of".
    op = operation("post", "/external/users")
    if op is not None:
        body = op["requestBody"]["content"]["application/json"]["schema"]
        if "oneOf" in body:
            body["anyOf"] = body.pop("oneOf")

    # Defect: the 400 of `send-manual-message` ("Conversation must be in manual mode and not a voice
    # conversation.") has no content; it carries raia's BadRequestErrorDTO like every 400.
    op = operation("post", "/external/conversations/{id}/send-manual-message")
    if op is not None:
        op["responses"]["400"] = _json_response(_ref("BadRequestErrorDTO"), op["responses"]["400"]["description"])

    # Choice: phone numbers are E.164 and emails well-formed unless their skip flag is true (the flags exist
    # for this; the spec states no format).
    for dto_name in _CONTACT_DTOS:
        if dto_name in schemas:
            _contact_rules(schemas[dto_name])

    # Choice (inferred `@Min(0)`): monthly limits and resource-usage amounts are not negative.
    for dto_name, properties in _NON_NEGATIVE_PROPERTIES:
        for prop in properties:
            if dto_name in schemas:
                schemas[dto_name]["properties"][prop]["minimum"] = 0

    # Choice: `PUT …/mode` needs `mode` (the spec marks nothing required; the call means nothing without it).
    if "UpdateConversationModeBodyDTO" in schemas:
        schemas["UpdateConversationModeBodyDTO"]["required"] = ["mode"]

    # Defect: the statistic's `userId` and `conversationUserId` (format uuid) give `example: ""`, which is
    # not a UUID; tools that send examples as valid data would send an invalid one.
    op = operation("get", "/external/agents/statistic")
    for parameter in op.get("parameters", []) if op else []:
        if parameter["schema"].get("format") == "uuid" and parameter["schema"].get("example") == "":
            del parameter["schema"]["example"]

    # Choice (API_FACTS 6.9): pages are 1-based integers; a page holds 1 to 100 items (default 10).
    for path in ("/external/conversations", "/external/agents/users"):
        op = operation("get", path)
        for parameter in op.get("parameters", []) if op else []:
            if parameter["name"] == "page":
                parameter["schema"] = {"type": "integer", "minimum": 1}
            elif parameter["name"] == "pageSize":
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}


def _nullable_to_json_schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _nullable_to_json_schema(value) for key, value in node.items()}
    if converted.pop("nullable", False):
        composed = any(key in converted for key in ("allOf", "anyOf", "oneOf", "$ref", "enum"))
        if isinstance(converted.get("type"), str) and not composed:
            converted["type"] = [converted["type"], "null"]
        else:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


def json_schema(spec: Mapping[str, Any], schema_name: str) -> JsonObject:
    """Return a self-contained JSON Schema (draft 7) for one component schema of an OpenAPI document.

    :param spec: an OpenAPI 3.0 document, usually from :func:`contract_spec`.
    :param schema_name: the name under ``components.schemas``.
    """
    return {
        "$ref": f"#/components/schemas/{schema_name}",
        "components": _nullable_to_json_schema(spec.get("components", {})),
    }
