"""Base classes for raia's request and response bodies.

Python attributes are snake_case; on the wire every field uses raia's own camelCase name (the alias), so
``model_dump(by_alias=True)`` gives exactly what raia expects and ``model_validate`` reads what it sends.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel


class SpecMirror:
    """Which schemas of raia's OpenAPI document a model mirrors; a test holds each model against them."""

    #: The component schemas this model mirrors (empty for request declarations: their operation says).
    spec_schemas: ClassVar[tuple[str, ...]] = ()
    #: Fields (raia names) whose spec enum is deliberately read as an open string: raia adds values often.
    spec_open_enums: ClassVar[frozenset[str]] = frozenset()
    #: Fields (raia names) the model adds to the mirrored schema; the model's docstring says why.
    spec_extra_fields: ClassVar[frozenset[str]] = frozenset()


class _WireModel(SpecMirror, BaseModel):
    """raia's camelCase names on the wire, Python names in code, immutable."""

    # Written out here (not unpacked from a shared dict) so that mypy's pydantic plugin sees
    # validate_by_name and types the constructors with the Python names; subclasses inherit it.
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        frozen=True,
    )


class RaiaModel(_WireModel):
    """A body raia sends back: unknown fields are kept (raia adds fields over time), aliases are camelCase."""

    model_config = ConfigDict(extra="allow")

    def to_json_dict(self) -> dict[str, Any]:
        """Return the body as plain JSON types with raia's field names (what operators push to XCom)."""
        return self.model_dump(mode="json", by_alias=True)


class RaiaBody(_WireModel):
    """A body sent to raia: unknown fields are refused, so a typo fails before any request is made."""

    model_config = ConfigDict(extra="forbid")


def _discard(_: Any) -> None:
    return None


#: The response type of operations whose success body raia does not document ("200, no content"):
#: whatever comes back (nothing, ``{}``, ``true``) is accepted and read as ``None``.
NoContent = Annotated[None, BeforeValidator(_discard)]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


#: A list that raia's spec declares as a single object (NestJS swagger without ``isArray``): the list is
#: what raia returns, and a lone object is read as a list of one.
OneOrMany = BeforeValidator(_one_or_many)


def _require_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain text, not only whitespace")
    return value


#: An id raia gave out (path parameters, ``conversationUserId``, ...): must not be empty or blank.
Id = Annotated[str, Field(min_length=1, pattern=r"\S")]
#: Text raia needs to act on (prompts, names, messages, titles): must contain more than whitespace.
NonBlankStr = Annotated[str, AfterValidator(_require_text)]
