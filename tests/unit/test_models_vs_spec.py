"""Every model and operation declaration held against raia's published OpenAPI, so drift shows.

The spec is vendored in ``tests/contract/`` (byte-identical to the copy in raia's DevKit, SHA-256 checked).
Deliberate differences are declared on each model (``spec_open_enums``, ``spec_extra_fields``, with the reason in
its docstring); anything else must match: operation method and
path, field names, required-ness, nullability and enum values.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import pkgutil
import types
import typing
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

import raia_provider.models
import raia_provider.operations
from raia_provider._core.operation import RaiaRequest
from raia_provider.models.base import NoContent, RaiaBody, RaiaModel
from raia_provider.models.pagination import Page

SPEC_PATH = Path(__file__).parents[1] / "contract" / "raia-external-api.raw.openapi.json"
SPEC_SHA256 = "fabbd26bf357ed184896d80a6ffd36c6f4873b42e8ae457ea0d0ae7a2c377cda"
SPEC = json.loads(SPEC_PATH.read_text())
SCHEMAS = SPEC["components"]["schemas"]


def all_models() -> set[type[BaseModel]]:
    models: set[type[BaseModel]] = set()
    for module_info in pkgutil.iter_modules(raia_provider.models.__path__):
        module = importlib.import_module(f"raia_provider.models.{module_info.name}")
        models |= {
            obj
            for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, (RaiaModel, RaiaBody)) and obj.__module__ == module.__name__
        }
    return models


#: Model -> the spec schemas it mirrors, as each model declares in ``spec_schemas``.
RESPONSE_MODELS: dict[type[BaseModel], tuple[str, ...]] = {
    model: model.spec_schemas for model in all_models() if getattr(model, "spec_schemas", ())
}


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return resolve(SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return {**resolve(schema["allOf"][0]), **{k: v for k, v in schema.items() if k != "allOf"}}
    return schema


def field_shape(annotation: Any) -> tuple[bool, set[Any] | None]:
    """Return (accepts None, the Literal values if the field is an enum)."""
    nullable = False
    literal: set[Any] | None = None
    for arg in typing.get_args(annotation) if _is_union(annotation) else (annotation,):
        if arg is type(None):
            nullable = True
        elif typing.get_origin(arg) is Literal:
            literal = set(typing.get_args(arg))
    return nullable, literal


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def model_fields_by_alias(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return {(f.alias or name): f for name, f in model.model_fields.items()}


def test_vendored_spec_is_raias_published_document() -> None:
    assert hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest() == SPEC_SHA256


@pytest.mark.parametrize(
    ("model", "schema_names"), list(RESPONSE_MODELS.items()), ids=lambda v: getattr(v, "__name__", "")
)
def test_model_mirrors_spec_schema(model: type[BaseModel], schema_names: list[str]) -> None:
    for schema_name in schema_names:
        schema = SCHEMAS[schema_name]
        check_fields(model, schema)


def check_fields(model: type[BaseModel], schema: dict[str, Any], skip: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    properties = {
        k: resolve(v) | {"nullable": v.get("nullable", resolve(v).get("nullable", False))}
        for k, v in schema.get("properties", {}).items()
        if k not in skip
    }
    required = set(schema.get("required", [])) - skip
    fields = model_fields_by_alias(model)
    declared_extra = getattr(model, "spec_extra_fields", frozenset())
    extra = {alias for alias in fields if alias not in declared_extra and alias not in skip} - set(properties)
    assert not extra, f"{model.__name__} has fields the spec does not: {extra}"
    missing = set(properties) - set(fields)
    assert not missing, f"{model.__name__} lacks spec fields {missing}"
    for alias, prop in properties.items():
        field = fields[alias]
        nullable, literal = field_shape(field.annotation)
        if alias in required:
            assert field.is_required(), f"{model.__name__}.{alias} is required by the spec"
        if alias not in required:
            assert not field.is_required(), f"{model.__name__}.{alias} is optional in the spec"
            assert issubclass(model, RaiaBody) or nullable, f"{model.__name__}.{alias} may be absent: accept None"
        if prop.get("nullable"):
            assert nullable, f"{model.__name__}.{alias} is nullable in the spec"
        if "enum" in prop and alias not in getattr(model, "spec_open_enums", ()):
            assert literal == set(prop["enum"]), f"{model.__name__}.{alias} enum differs from the spec"


def all_declarations() -> list[type[RaiaRequest[Any]]]:
    found = []
    for module_info in pkgutil.iter_modules(raia_provider.operations.__path__):
        module = importlib.import_module(f"raia_provider.operations.{module_info.name}")
        found += [
            obj
            for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, RaiaRequest) and "operation" in obj.__dict__ and obj.__module__ == module.__name__
        ]
    return found


def spec_operation(operation_id: str) -> tuple[str, str, dict[str, Any]]:
    for path, methods in SPEC["paths"].items():
        for method, op in methods.items():
            if op.get("operationId") == operation_id:
                return method.upper(), path, op
    raise AssertionError(f"operationId {operation_id} is not in the spec")


def request_body_schema(declaration: type[RaiaRequest[Any]], spec_op: dict[str, Any]) -> dict[str, Any] | None:
    """The schema the declaration's body mirrors: JSON or multipart; one variant of a ``oneOf``."""
    if "requestBody" not in spec_op:
        return None
    (content,) = spec_op["requestBody"]["content"].values()
    schema = content["schema"]
    if "oneOf" in schema:
        variants = {ref["$ref"].rsplit("/", 1)[-1] for ref in schema["oneOf"]}
        assert declaration.operation.body_schema in variants, f"{declaration.__name__}: name its oneOf variant"
        return SCHEMAS[declaration.operation.body_schema]
    assert declaration.operation.body_schema is None
    return resolve(schema)


@pytest.mark.parametrize("declaration", all_declarations(), ids=lambda d: d.__name__)
def test_declaration_matches_spec_operation(declaration: type[RaiaRequest[Any]]) -> None:
    op = declaration.operation
    method, path, spec_op = spec_operation(op.operation_id)
    assert (op.method, "/external" + op.path) == (method, path)
    assert spec_op["security"] == [{"Agent-Secret-Key": []}], "only agent-key operations are declared"
    assert str(op.success_status) in spec_op["responses"]
    (content_type,) = spec_op.get("requestBody", {}).get("content", {"application/json": None})
    assert op.content == ("multipart" if content_type == "multipart/form-data" else "json")

    fields = model_fields_by_alias(declaration)
    spec_path_params = {p["name"] for p in spec_op.get("parameters", []) if p["in"] == "path"}
    spec_query = {p["name"]: p for p in spec_op.get("parameters", []) if p["in"] == "query"}
    assert set(op.path_params) == spec_path_params
    for name in spec_path_params:
        assert fields[name].is_required()
    body_fields = {a for a in fields if a not in spec_path_params and a not in spec_query}
    body = request_body_schema(declaration, spec_op)
    if body is not None:
        assert body_fields == set(body["properties"]), declaration.__name__
        check_fields(declaration, body, skip=spec_path_params | set(spec_query))
    else:
        assert body_fields == set(), f"{declaration.__name__} has body fields but the spec has no body"
    for name, param in spec_query.items():
        assert name in fields, f"{declaration.__name__} lacks query parameter {name}"
        assert fields[name].is_required() == param.get("required", False)
        _, literal = field_shape(fields[name].annotation)
        if "enum" in param["schema"]:
            assert literal == set(param["schema"]["enum"]), f"{declaration.__name__}.{name} enum"
    if op.method == "GET" or (op.method == "DELETE" and body is None):
        assert set(op.query) == set(), "query= is only for operations that also send a body"
    else:
        assert set(op.query) == set(spec_query)


def test_every_model_is_held_against_the_spec() -> None:
    # The base classes, the generic page envelope (held per list below), and bodies that are checked
    # through the declarations that inherit them.
    body_bases = {base for declaration in all_declarations() for base in declaration.__mro__}
    # Older pydantic registers each parametrised Page[...] in the pagination module: they are pages too.
    pages = {m for m in all_models() if issubclass(m, Page)}
    exempt = {RaiaModel, RaiaBody} | pages | (all_models() & body_bases)
    assert all_models() - exempt - set(RESPONSE_MODELS) == set()
    for model, names in RESPONSE_MODELS.items():
        assert all(name in SCHEMAS for name in names), f"{model.__name__}: unknown schema in {names}"


def mirrored_models(schema_name: str) -> set[type[BaseModel]]:
    return {model for model, names in RESPONSE_MODELS.items() if schema_name in names}


def response_models_of(annotation: Any) -> set[Any]:
    """Every class inside a response annotation (``X | None``, ``list[X]``, ``Page[X]``, ``Annotated``)."""
    found = {annotation} if inspect.isclass(annotation) else set()
    metadata = getattr(annotation, "__pydantic_generic_metadata__", None)
    if metadata and metadata.get("origin") is Page:
        found |= {Page} | {a for arg in metadata["args"] for a in response_models_of(arg)}
    for arg in typing.get_args(annotation):
        found |= response_models_of(arg)
    return found


@pytest.mark.parametrize("declaration", all_declarations(), ids=lambda d: d.__name__)
def test_success_response_type_mirrors_the_spec(declaration: type[RaiaRequest[Any]]) -> None:
    _, _, spec_op = spec_operation(declaration.operation.operation_id)
    response = spec_op["responses"][str(declaration.operation.success_status)]
    annotation = declaration.response_adapter._type  # type: ignore[attr-defined]
    if "content" not in response:
        assert annotation is NoContent, f"{declaration.__name__}: raia documents no body, expect NoContent"
        return
    declared = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    # Where the spec names the wrong schema, the declaration names the one raia really returns.
    schema_name = declaration.operation.response_schema or declared
    found = response_models_of(annotation)
    if mirrored_models(schema_name) & found:
        return
    # A page envelope: the item model mirrors the envelope's "data" items.
    schema = SCHEMAS[schema_name]
    items = schema.get("properties", {}).get("data", {}).get("items", {}).get("$ref", "")
    assert Page in found, f"{declaration.__name__}: response {annotation} does not mirror {schema_name}"
    assert mirrored_models(items.rsplit("/", 1)[-1]) & found, f"{declaration.__name__}: page items differ"
    check_fields(Page[Any], schema, skip={"data"})


def test_every_agent_key_operation_has_a_sync_and_an_async_hook_method() -> None:
    from raia_provider._core.endpoint import AsyncEndpoint, AsyncPagedEndpoint, Endpoint, PagedEndpoint
    from raia_provider.hooks.raia import RaiaHook

    agent_key_operations = {
        op["operationId"]
        for methods in SPEC["paths"].values()
        for op in methods.values()
        if op.get("security") == [{"Agent-Secret-Key": []}]
    }
    exposed: dict[str, set[str]] = {"sync": set(), "async": set()}
    for klass in RaiaHook.__mro__:
        for attribute in vars(klass).values():
            if isinstance(attribute, AsyncEndpoint | AsyncPagedEndpoint):
                exposed["async"].add(attribute.declaration.operation.operation_id)
            elif isinstance(attribute, Endpoint | PagedEndpoint):
                exposed["sync"].add(attribute.declaration.operation.operation_id)
    assert len(agent_key_operations) == 44
    assert agent_key_operations - exposed["sync"] == set()
    assert agent_key_operations - exposed["async"] == set()
