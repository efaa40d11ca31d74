"""One way to declare a raia operation: a request model that knows its method, path and response type.

A declaration is a :class:`RaiaRequest` subclass::

    class GetPromptResponse(RaiaRequest[PromptResult | None]):
        operation = Operation("GET", "/prompts/{id}/response-on", "ExternalApiPromptsController_getResponseOnPrompt")
        prompt_id: str = Field(alias="id")

Its fields are the operation's parameters: ``{alias}`` placeholders in the path take the field with that
alias, GET and DELETE-without-body fields go to the query string, and the rest form the JSON body. The type
argument is what a successful answer is validated into. The hook turns each declaration into a sync and an
async method (see :mod:`raia_provider._core.endpoint`), so adding an operation never means writing a new
request/response/retry body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar
from urllib.parse import quote

from pydantic import TypeAdapter, ValidationError

from raia_provider._core.multipart import FilePart, MultipartBody
from raia_provider.exceptions import RaiaInputError
from raia_provider.models.base import RaiaBody

ResponseT = TypeVar("ResponseT")
HttpMethod = Literal["GET", "POST", "PUT", "DELETE"]

_PLACEHOLDER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


@dataclass(frozen=True)
class Operation:
    """Where and how a request is sent.

    :param method: the HTTP method.
    :param path: the path relative to the base URL (``/external`` included in the base), with ``{alias}``
        placeholders for path parameters.
    :param operation_id: raia's ``operationId`` in the published OpenAPI document; a test checks that the
        method and path agree with it.
    :param query: aliases of fields sent in the query string for a method that also has a body.
    :param success_status: the success status the spec documents (every 2xx is accepted; this one is
        what the emulator returns).
    :param content: how the body travels: ``json``, or ``multipart`` (streamed ``multipart/form-data``).
    :param not_found_is_empty: a 404 means "nothing here" and reads as an empty list (raia answers
        ``GET /agent-files/by-api-key`` for an agent without files with 404 "Agent files not found.").
    :param body_schema: the spec component schema the body mirrors, where the spec's body is a ``oneOf``
        of several (one declaration per variant).
    :param response_schema: the spec component schema the success body really has, where the spec
        declares a wrong one (the declaration's docstring says why).
    """

    method: HttpMethod
    path: str
    operation_id: str
    query: tuple[str, ...] = ()
    success_status: int = 200
    content: Literal["json", "multipart"] = "json"
    not_found_is_empty: bool = False
    body_schema: str | None = None
    response_schema: str | None = None
    path_params: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_params", tuple(_PLACEHOLDER.findall(self.path)))

    @property
    def label(self) -> str:
        """``METHOD /path`` as used in logs and error messages."""
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class PreparedRequest:
    """A request ready for a transport: everything but the base URL and the key.

    :param operation: the declaration it came from.
    :param path: the path with parameters filled in and percent-encoded.
    :param params: query-string parameters.
    :param json: the JSON body, or ``None`` for none.
    :param multipart: the streamed multipart body of an upload, or ``None``.
    :param auth_header: the header that carries the connection's key (raia: ``Agent-Secret-Key``).
    """

    operation: Operation
    path: str
    params: dict[str, str]
    json: Any | None
    multipart: MultipartBody | None = None
    auth_header: str = "Agent-Secret-Key"


class RaiaRequest(RaiaBody, Generic[ResponseT]):
    """Base class of every operation declaration; the type argument is the success response's type."""

    operation: ClassVar[Operation]
    response_adapter: ClassVar[TypeAdapter[Any]]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        response_type = _response_type_of(cls)
        if response_type is not None:
            cls.response_adapter = TypeAdapter(response_type)
        if "operation" in cls.__dict__:
            _check_declaration(cls)

    @classmethod
    def build(cls, **arguments: Any) -> RaiaRequest[ResponseT]:
        """Validate ``arguments`` into a request, raising one clear error for every bad argument.

        :param arguments: the operation's parameters, by Python name.
        :raises RaiaInputError: naming each invalid argument, what was wrong and what is allowed.
        """
        try:
            return cls(**arguments)
        except ValidationError as exc:
            names = {f.alias: name for name, f in cls.model_fields.items() if f.alias}
            raise RaiaInputError(describe_validation_error(exc, cls.operation.label, names)) from None

    def prepare(self) -> PreparedRequest:
        """Split the fields into path, query and body, as :class:`Operation` says."""
        op = self.operation
        # A streamed file is not JSON: it travels as the multipart body's file part, never in a dump.
        files = {name for name, value in self if isinstance(value, FilePart)}
        wire = self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude=files)
        path = op.path
        for alias in op.path_params:
            path = path.replace("{" + alias + "}", self._path_segment(alias, str(wire.pop(alias))))
        if op.method == "GET":
            query_keys: tuple[str, ...] = tuple(wire)
        else:
            query_keys = op.query
        params = {key: _query_value(wire.pop(key)) for key in query_keys if key in wire}
        if op.content == "multipart":
            return PreparedRequest(
                operation=op, path=path, params=params, json=None, multipart=self._multipart(wire, files)
            )
        body = wire if op.method != "GET" and (wire or self._sends_empty_body()) else None
        return PreparedRequest(operation=op, path=path, params=params, json=body)

    def _path_segment(self, alias: str, value: str) -> str:
        """Percent-encode ``value`` as one path segment; refuse the dot segments no encoding can carry.

        ``quote`` leaves ``.`` alone, and ``requests``/``aiohttp`` (and proxies) collapse ``.``/``..``
        segments, even percent-encoded: ``/prompts/../response-on`` would reach ``/response-on``.
        """
        if value in (".", ".."):
            name = next((n for n, f in type(self).model_fields.items() if (f.alias or n) == alias), alias)
            raise RaiaInputError(
                f"argument {name!r} of raia {self.operation.label} cannot be {value!r}: it is sent as a path "
                "segment, where '.' and '..' mean 'this' and 'parent' directory and would reach another URL."
            )
        return quote(value, safe="")

    def _multipart(self, wire: dict[str, Any], files: set[str]) -> MultipartBody:
        """Build the streamed form: the one :class:`FilePart` field, the rest as text fields."""
        if len(files) != 1:
            raise TypeError(f"{type(self).__name__}: a multipart operation needs exactly one FilePart field")
        (name,) = files
        return MultipartBody(
            {key: _query_value(value) for key, value in wire.items()},
            field_name=type(self).model_fields[name].alias or name,
            file=getattr(self, name),
        )

    @classmethod
    def _sends_empty_body(cls) -> bool:
        # POST/PUT without fields still send "{}" so that raia's JSON body parser is satisfied.
        return cls.operation.method in ("POST", "PUT")


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _response_type_of(cls: type) -> Any:
    for klass in cls.__mro__:
        meta = getattr(klass, "__pydantic_generic_metadata__", None)
        if meta and meta.get("origin") is RaiaRequest and meta.get("args"):
            return meta["args"][0]
    return None


def _check_declaration(cls: type[RaiaRequest[Any]]) -> None:
    """Fail at class creation if a path placeholder has no matching field, so mistakes show at import."""
    aliases = {f.alias or name for name, f in cls.model_fields.items()}
    missing = [p for p in (*cls.operation.path_params, *cls.operation.query) if p not in aliases]
    if missing:
        raise TypeError(f"{cls.__name__}: no field with alias {missing} for {cls.operation.label}")


def describe_validation_error(exc: ValidationError, context: str, python_names: dict[str, str] | None = None) -> str:
    """Render a pydantic error as one sentence per bad argument, naming it by its Python name.

    :param exc: the validation error.
    :param context: what was being validated, e.g. ``POST /prompts``.
    :param python_names: raia field name (alias) to Python argument name, for the top-level fields.
    """
    names = python_names or {}
    problems = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        if loc:
            loc[0] = names.get(loc[0], loc[0])
        location = ".".join(loc) or "arguments"
        problem = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            problem = "is not a parameter of this operation"
        elif error["type"] == "missing":
            problem = "is required"
        shown = "" if error["type"] in ("missing", "extra_forbidden") else f" (got {_short(error.get('input'))})"
        problems.append(f"argument {location!r} {problem}{shown}")
    return f"Invalid arguments for raia {context}: " + "; ".join(problems) + "."


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]+$")


def custom_request(
    method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None, auth_header: str
) -> PreparedRequest:
    """Prepare a request for an operation the provider does not declare (see ``RaiaHook.request``).

    :param method: ``GET``, ``POST``, ``PUT`` or ``DELETE``.
    :param path: the path below the base URL, starting with ``/``, e.g. ``/agent-roles/by-api-key``.
    :param json: the JSON body, if any.
    :param params: query-string parameters, if any.
    :param auth_header: the header that carries the connection's key.
    :raises RaiaInputError: naming the argument that is wrong.
    """
    verbs: dict[str, HttpMethod] = {"GET": "GET", "POST": "POST", "PUT": "PUT", "DELETE": "DELETE"}
    verb = verbs.get(method.upper()) if isinstance(method, str) else None
    if verb is None:
        raise RaiaInputError(f"argument 'method' must be GET, POST, PUT or DELETE, got {method!r}.")
    if not isinstance(path, str) or not path.startswith("/") or "://" in path or any(c.isspace() for c in path):
        raise RaiaInputError(
            f"argument 'path' must be a path below the base URL starting with '/', e.g. '/agents/by-api-key'; "
            f"got {path!r}."
        )
    if not isinstance(auth_header, str) or not _HEADER_NAME.match(auth_header):
        raise RaiaInputError(f"argument 'auth_header' must be a header name, got {auth_header!r}.")
    operation = Operation(verb, path, operation_id="(custom)")
    query = {key: _query_value(value) for key, value in (params or {}).items() if value is not None}
    return PreparedRequest(operation=operation, path=path, params=query, json=json, auth_header=auth_header)
