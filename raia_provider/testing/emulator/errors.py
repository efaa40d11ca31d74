"""raia's error bodies, and the exception that carries one out of a route.

Shapes and where they come from (see ``/work/shared/raia-api/API_FACTS.md`` section 2):

* 403, 404, 400 and 500 follow the spec's ``ForbiddenErrorDTO``, ``EntityNotFoundErrorDTO``,
  ``BadRequestErrorDTO`` and ``InternalServerErrorDTO`` with their default values. The spec types ``name``
  as ``object``; on the wire it is a string (spec defect, API_FACTS section 0). A 400 carries ``status: 400``
  although the spec's default says 500 (another copy-paste defect).
* A 400 raia raises itself rather than from validation ("User already exists.", "File is required.", "Invalid
  webhook URL. ...", "Conversation must be in manual mode ...": the texts of the spec's 400 responses) puts
  that text in ``message``, with empty ``details`` (:func:`bad_request_message`) — **inferred**, the usual
  NestJS ``throw new BadRequestException(text)``; validation failures keep ``message: "INVALID_REQUEST"``.
* 404 bodies are always ``EntityNotFoundErrorDTO`` with ``message: "ENTITY_NOT_FOUND"`` (the spec's 404
  descriptions — "User not found.", "Agent files not found." — describe the case, not the body).
* 400 ``details`` follow NestJS class-validator output: ``{"property": ..., "constraints": {rule: message}}``,
  nested properties flattened to a dotted path (``files.0.fileName``). **Inferred** — the spec leaves
  ``details`` untyped.
* 429 is undocumented by raia. We send NestJS's ``ThrottlerException`` default body
  ``{"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}`` — **inferred** from raia being a
  NestJS app.
* An unknown route answers like NestJS/Express: ``{"statusCode": 404, "message": "Cannot GET /x",
  "error": "Not Found"}``.
* Other status codes (only produced by injected faults) use the ``InternalServerErrorDTO`` shape
  ``{"status": code, "message": reason phrase}`` — **inferred**.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

JsonBody = dict[str, Any]


class RaiaError(Exception):
    """An HTTP error answered with one of raia's bodies.

    :param status: the HTTP status code.
    :param body: the JSON body.
    :param headers: extra response headers (e.g. ``Retry-After``).
    """

    def __init__(self, status: int, body: JsonBody, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"raia error {status}")
        self.status = status
        self.body = body
        self.headers: dict[str, str] = dict(headers or {})


def forbidden_body() -> JsonBody:
    """Body of a 403 for a missing or unknown ``Agent-Secret-Key``."""
    return {"status": 403, "name": "FORBIDDEN_ERROR", "message": "INVALID_CREDENTIALS", "details": []}


def entity_not_found_body() -> JsonBody:
    """Body of a 404 for an unknown entity (e.g. a prompt id this agent does not own)."""
    return {"status": 404, "name": "ENTITY_NOT_FOUND_ERROR", "message": "ENTITY_NOT_FOUND", "details": []}


def bad_request_body(details: Sequence[Mapping[str, Any]]) -> JsonBody:
    """Body of a 400 validation failure.

    :param details: class-validator style entries ``{"property": ..., "constraints": {...}}``.
    """
    return {"status": 400, "name": "BAD_REQUEST", "message": "INVALID_REQUEST", "details": list(details)}


def bad_request_message(message: str) -> JsonBody:
    """Body of a 400 raia raises itself (not a validation failure), e.g. "User already exists.".

    :param message: the error text.
    """
    return {"status": 400, "name": "BAD_REQUEST", "message": message, "details": []}


def internal_error_body() -> JsonBody:
    """Body of a 500 for an unexpected server error."""
    return {"status": 500, "message": "Internal Server Error"}


def too_many_requests_body() -> JsonBody:
    """Body of a 429 (NestJS throttler default; inferred, raia documents no 429)."""
    return {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}


def route_not_found_body(method: str, path: str) -> JsonBody:
    """Body of NestJS's 404 for a route that does not exist.

    :param method: the request method.
    :param path: the request path.
    """
    return {"statusCode": 404, "message": f"Cannot {method.upper()} {path}", "error": "Not Found"}


def body_for_status(status: int) -> JsonBody:
    """Return the body raia sends with ``status`` (used by injected ``status`` faults).

    :param status: an HTTP status code.
    """
    known = {
        400: lambda: bad_request_body([]),
        403: forbidden_body,
        404: entity_not_found_body,
        429: too_many_requests_body,
        500: internal_error_body,
    }
    if status in known:
        return known[status]()
    return {"status": status, "message": reason_phrase(status)}


def reason_phrase(status: int) -> str:
    """Return the standard reason phrase of ``status`` (``"Error"`` if it has none).

    :param status: an HTTP status code.
    """
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


_RAIA_ERROR_SCHEMA: JsonBody = {
    "title": "RaiaErrorDTO",
    "type": "object",
    "properties": {
        "status": {"type": "integer"},
        "name": {"type": "string"},
        "message": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["status", "message"],
}
_NEST_ERROR_SCHEMA: JsonBody = {
    "title": "NestErrorDTO",
    "type": "object",
    "properties": {"statusCode": {"type": "integer"}, "message": {"type": "string"}, "error": {"type": "string"}},
    "required": ["statusCode", "message"],
}
#: The error answers of every ``/external`` route, for the emulator's own OpenAPI document. Declaring
#: ``4XX`` also keeps FastAPI from documenting its 422, which these routes never send (raia answers 400).
#: 5XX come only from injected faults, as raia's JSON body or a proxy's HTML page.
EXTERNAL_ERROR_RESPONSES: dict[int | str, JsonBody] = {
    "4XX": {
        "description": "400 invalid body or query, 403 missing or unknown key, 404 unknown id or route, "
        "429 rate limited: raia's error body, or NestJS's for a throttled request or an unknown route.",
        "content": {"application/json": {"schema": {"anyOf": [_RAIA_ERROR_SCHEMA, _NEST_ERROR_SCHEMA]}}},
    },
    "5XX": {
        "description": "Only from injected faults: raia's error body, or a reverse proxy's HTML page.",
        "content": {"application/json": {"schema": _RAIA_ERROR_SCHEMA}, "text/html": {"schema": {"type": "string"}}},
    },
}


def html_error_page(status: int) -> str:
    """Return the HTML error page a reverse proxy (nginx style) shows for ``status``.

    :param status: the HTTP status code of the page.
    """
    title = f"{status} {reason_phrase(status)}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
