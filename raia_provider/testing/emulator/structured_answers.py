"""JSON answers of an agent with an output JSON Schema: an instance generated from the schema and the prompt.

raia lets an agent be given an output JSON Schema (``aiConfig.isOutputJsonSchemaEnabled`` and
``outputJsonSchema``, a JSON *string* in the spec's DTOs); the agent then answers with JSON text that follows
it (**inferred**: raia documents the fields, not what an answer looks like). The emulator answers with
:func:`instance_for` — a pure function of the schema and the prompt, so a test can recompute it:

* ``object`` → every property (required and optional), in the schema's order; names that ``required`` lists
  without a ``properties`` entry get a string;
* ``string`` → ``<property>-<8 hex digits of sha256(prompt, path)>``, padded or cut to ``minLength`` /
  ``maxLength``; ``format`` ``date`` → an ISO date in 2026, ``date-time`` → one at noon UTC, ``email``,
  ``uri``/``url`` and ``uuid`` → values of that form;
* ``enum`` → its first value, ``const`` → the constant;
* ``integer`` / ``number`` → a number from the same hash (0-999; a number gets ``.5``), moved into
  ``minimum``/``maximum`` (exclusive bounds too); ``boolean`` → ``true``; ``null`` → ``null``;
* ``array`` → one item (``minItems`` items if more are required, none if ``maxItems`` is 0; only the
  required ones below depth 8, so a recursive schema ends);
* ``$ref`` (a local ``#/...`` pointer, e.g. ``#/$defs/Item``) is followed; ``anyOf`` / ``oneOf`` take their
  first alternative; ``allOf`` merges its parts' properties and ``required``; a ``type`` list takes its first
  type other than ``null``; a schema without ``type`` is read from its keywords (``properties`` → object,
  ``items`` → array), else a string.

``pattern``, ``multipleOf``, ``uniqueItems`` and conditionals are not honoured. :func:`mismatched` and
:func:`invalid_json` make the two bad answers the ``json_answers`` knob and the markers ask for.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import uuid
from collections.abc import Mapping
from typing import Any

JsonSchema = Mapping[str, Any]
MAX_DEPTH = 16
"""Recursion stops here (a self-referencing ``$ref``): the value there is ``null``."""


def _digest(seed: str) -> int:
    return int(hashlib.sha256(seed.encode("utf-8")).hexdigest()[:8], 16)


def _resolve(schema: JsonSchema, root: JsonSchema) -> JsonSchema:
    for _ in range(MAX_DEPTH):
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#"):
            return schema
        target: Any = root
        for part in filter(None, ref[1:].split("/")):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        schema = {**{k: v for k, v in schema.items() if k != "$ref"}, **target}
    return schema


def _merged(schema: JsonSchema, root: JsonSchema) -> JsonSchema:
    """``schema`` with ``$ref`` followed, the first ``anyOf``/``oneOf`` alternative and ``allOf`` merged in."""
    schema = _resolve(schema, root)
    for keyword in ("anyOf", "oneOf"):
        alternatives = schema.get(keyword)
        if alternatives:
            rest = {k: v for k, v in schema.items() if k != keyword}
            schema = _merged({**rest, **_merged(alternatives[0], root)}, root)
    parts = schema.get("allOf")
    if parts:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in (_merged(item, root) for item in parts):
            properties = {**merged.get("properties", {}), **part.get("properties", {})}
            required = [*merged.get("required", []), *part.get("required", [])]
            merged = {**part, **merged, "properties": properties, "required": list(dict.fromkeys(required))}
        schema = merged
    return schema


def schema_type(schema: JsonSchema) -> str:
    """The one type the generator makes for ``schema`` (already merged).

    :param schema: a schema without ``$ref``/``anyOf``/``oneOf``/``allOf``.
    """
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((item for item in declared if item != "null"), declared[0] if declared else None)
    if isinstance(declared, str):
        return declared
    if "properties" in schema or "required" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _bound(schema: JsonSchema, inclusive: str, exclusive: str) -> tuple[float | None, bool]:
    """A bound and whether it is exclusive (``exclusiveMinimum``/``Maximum`` as numbers, draft 6 on)."""
    bound, open_bound = schema.get(inclusive), False
    other = schema.get(exclusive)
    if isinstance(other, int | float) and not isinstance(other, bool):
        bound, open_bound = other, True
    return (bound if isinstance(bound, int | float) else None), open_bound


def _number(schema: JsonSchema, digest: int, integer: bool) -> float | int:
    (low, low_open), (high, high_open) = (
        _bound(schema, "minimum", "exclusiveMinimum"),
        _bound(schema, "maximum", "exclusiveMaximum"),
    )
    offset = digest % 1000
    if integer:
        first = None if low is None else math.floor(low) + 1 if low_open else math.ceil(low)
        last = None if high is None else math.ceil(high) - 1 if high_open else math.floor(high)
        if first is not None and last is not None:
            return first + offset % (last - first + 1) if last >= first else first
        return first + offset if first is not None else last - offset if last is not None else offset
    if low is not None and high is not None:
        return low + (high - low) * (offset % 998 + 1) / 1000  # strictly inside: fits open bounds too
    if low is not None:
        return low + offset + 0.5
    return high - offset - 0.5 if high is not None else offset + 0.5


def _string(schema: JsonSchema, name: str, digest: int) -> str:
    fmt = schema.get("format")
    if fmt == "date":
        return (datetime.date(2026, 1, 1) + datetime.timedelta(days=digest % 365)).isoformat()
    if fmt == "date-time":
        day = datetime.date(2026, 1, 1) + datetime.timedelta(days=digest % 365)
        return f"{day.isoformat()}T12:00:00Z"
    if fmt == "email":
        return f"{name or 'user'}.{digest % 1000}@example.com"
    if fmt in ("uri", "url"):
        return f"https://example.com/{name or 'item'}/{digest % 1000}"
    if fmt == "uuid":
        return str(uuid.UUID(int=digest << 96 | 0x4000_8000_0000_0000 << 32))
    text = f"{name or 'value'}-{digest:08x}"
    min_length, max_length = schema.get("minLength"), schema.get("maxLength")
    if isinstance(min_length, int) and len(text) < min_length:
        text = text.ljust(min_length, "x")
    if isinstance(max_length, int) and len(text) > max_length:
        text = text[:max_length]
    return text


def _generate(schema: JsonSchema, root: JsonSchema, prompt: str, path: str, name: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        return None
    schema = _merged(schema, root)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    digest = _digest(f"{prompt}\x00{path}")
    kind = schema_type(schema)
    if kind == "object":
        properties: Mapping[str, Any] = schema.get("properties", {})
        names = [*properties, *(item for item in schema.get("required", []) if item not in properties)]
        return {
            item: _generate(properties.get(item, {"type": "string"}), root, prompt, f"{path}/{item}", item, depth + 1)
            for item in names
        }
    if kind == "array":
        items = schema.get("items", {})
        items = items[0] if isinstance(items, list) and items else items if isinstance(items, dict) else {}
        # One item, unless more are required; past half the depth limit only the required ones, so a
        # recursive schema (a tree of items) ends.
        count = max(0 if depth >= MAX_DEPTH // 2 else 1, int(schema.get("minItems", 0)))
        if isinstance(schema.get("maxItems"), int):
            count = min(count, schema["maxItems"])
        return [_generate(items, root, prompt, f"{path}/{index}", name, depth + 1) for index in range(count)]
    if kind in ("integer", "number"):
        return _number(schema, digest, integer=kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, name, digest)


def instance_for(schema: JsonSchema, prompt: str) -> Any:
    """Return the JSON value the emulated agent answers ``prompt`` with, following ``schema``.

    :param schema: the agent's output JSON Schema.
    :param prompt: the prompt (or conversation message) text.
    """
    return _generate(schema, schema, prompt, "", "", 0)


def _other_type(kind: str) -> Any:
    """A value that is not of JSON type ``kind``."""
    return 12345 if kind == "string" else f"not-a-{kind}"


def mismatched(schema: JsonSchema, prompt: str) -> Any:
    """Return valid JSON that breaks ``schema``: the root object without its first required property; else
    with its first typed property (``type``, ``enum`` or ``const``) of another type; else a value of another
    type than the root's. (A schema that constrains nothing cannot be broken.)

    :param schema: the agent's output JSON Schema.
    :param prompt: the prompt text.
    """
    value = instance_for(schema, prompt)
    merged = _merged(schema, schema)
    if isinstance(value, dict):
        required = merged.get("required") or []
        if required:
            return {key: item for key, item in value.items() if key != required[0]}
        for name, item in merged.get("properties", {}).items():
            typed = _merged(item, schema)
            if {"type", "enum", "const"} & set(typed):
                return {**value, name: _other_type(schema_type(typed))}
    return _other_type(schema_type(merged))


def invalid_json(value: Any) -> str:
    """Return text that is not JSON: ``value`` as JSON with its last closing brace (or bracket) cut off, or
    an opening brace put before a scalar.

    :param value: the JSON value.
    """
    text = json.dumps(value)
    return text[:-1] if text.endswith(("}", "]")) else "{" + text
