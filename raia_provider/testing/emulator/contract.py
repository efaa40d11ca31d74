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
)
"""The operations the emulator serves now (method, spec path)."""

_NON_BLANK: JsonObject = {"minLength": 1, "pattern": r"\S"}
_NON_BLANK_PROPERTIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ProcessPromptBodyDTO", ("prompt",)),
    ("CreatePromptBodyDTO", ("prompt",)),
    ("PromptFileBodyDTO", ("fileName", "storagePath")),
    ("CreatePromptFileSignedUploadUrlBodyDTO", ("fileName", "contentType")),
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
        if "requestBody" in operation:
            responses.setdefault("400", _json_response(_ref("BadRequestErrorDTO"), "Invalid body."))
        if "{id}" in path:
            responses.setdefault("404", _json_response(not_found, "Unknown prompt."))
        responses.setdefault("429", _json_response(_ref("ThrottlerErrorDTO"), "Rate limited."))
    return fixed


def _nullable_to_json_schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _nullable_to_json_schema(value) for key, value in node.items()}
    if converted.pop("nullable", False):
        if isinstance(converted.get("type"), str):
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
