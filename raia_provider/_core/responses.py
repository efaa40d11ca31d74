"""Turn what raia answered into a typed result or a typed exception — shared by both transports."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import pendulum
from pydantic import TypeAdapter, ValidationError

from raia_provider._core.form import REGION_BASE_URLS
from raia_provider._core.operation import PreparedRequest
from raia_provider.exceptions import (
    RaiaAPIError,
    RaiaAuthError,
    RaiaBadRequestError,
    RaiaMalformedResponseError,
    RaiaNotFoundError,
    RaiaRateLimitError,
    RaiaRedirectError,
    RaiaResponseError,
    RaiaServerError,
)

_SNIPPET = 200
_NOT_JSON = object()


@dataclass(frozen=True)
class RawResponse:
    """An HTTP answer reduced to what decoding needs, whichever client received it.

    :param status: the HTTP status code.
    :param headers: response headers, looked up case-insensitively by the caller's mapping.
    :param content: the raw body.
    :param base_url: the connection's base URL the request went to (named in the errors that point at it).
    """

    status: int
    headers: Mapping[str, str]
    content: bytes
    base_url: str = ""


def decode_response(
    request: PreparedRequest, raw: RawResponse, adapter: TypeAdapter[Any], redact: Callable[[str], str]
) -> Any:
    """Return the validated success body of ``raw``, or raise the exception its status calls for.

    :param request: the request that was sent.
    :param raw: raia's answer.
    :param adapter: validates the success body into the operation's response type.
    :param redact: removes the secret key from any text that came back from the server.
    """
    try:
        return _decode(request, raw, adapter, redact)
    except RecursionError:
        pass  # nesting that parsed but is too deep to validate or describe; raised below, without this context
    raise RaiaMalformedResponseError(
        f"raia answered {request.operation.label} with HTTP {raw.status} and a body nested too deeply to read. "
        "This is not an answer raia sends (a proxy or a wrong host?) and is retried."
    )


def _decode(request: PreparedRequest, raw: RawResponse, adapter: TypeAdapter[Any], redact: Callable[[str], str]) -> Any:
    if raw.status == 404 and request.operation.not_found_is_empty:
        return adapter.validate_python([])
    if not 200 <= raw.status < 300:
        raise error_for_status(request, raw, redact)
    label = request.operation.label
    text = raw.content.decode("utf-8", errors="replace")
    # Raised after the ``except`` blocks, never in them: the parser's error, kept as ``__context__`` even
    # with ``from None``, holds the whole body, and with it any key the server echoed.
    try:
        data = json.loads(text) if text.strip() else None
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than the parser's stack
        data = _NOT_JSON
    if data is _NOT_JSON:
        raise RaiaMalformedResponseError(
            f"raia answered {label} with HTTP {raw.status} but the body is not valid JSON "
            f"(starts with {redact(text)[:_SNIPPET]!r}). This is usually a response cut short in transit "
            "and is retried."
        )
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors(include_url=False)
        )
    raise RaiaResponseError(
        f"raia answered {label} with a body that does not match its published contract ({problems}). "
        "raia may have changed its API; please report this with the provider version."
    )


def error_for_status(request: PreparedRequest, raw: RawResponse, redact: Callable[[str], str]) -> RaiaAPIError:
    """Build the typed exception for an error status, with raia's own name and message when it sent them.

    :param request: the request that was sent.
    :param raw: raia's answer (status outside 2xx).
    :param redact: removes the secret key from any text that came back from the server.
    """
    body = _json_object(raw.content)
    name = _text(body.get("name") or body.get("error"))
    message = _text(body.get("message"))
    details = body.get("details") if isinstance(body.get("details"), list) else []
    details = json.loads(redact(json.dumps(details)))  # kept on the exception: no key in it either
    # Redacted before it is cut short: a snippet ending inside the key would no longer match it.
    if body:
        said = " ".join(part for part in (name, message) if part) or "no message"
        if details:
            said += f"; details: {json.dumps(details)[:_SNIPPET]}"
    else:
        snippet = " ".join(redact(raw.content.decode("utf-8", errors="replace")).split())[:_SNIPPET]
        said = f"non-JSON body {snippet!r}" if snippet else "empty body"
    said = redact(said)
    label = request.operation.label
    kwargs: dict[str, Any] = {
        "status_code": raw.status,
        "method": request.operation.method,
        "path": request.path,
        "error_name": redact(name) if name else None,
        "error_message": redact(message) if message else None,
        "details": details,
    }
    status = raw.status
    if 300 <= status < 400:
        return _redirect_error(request, raw, redact, kwargs)
    prefix = f"raia answered {label} with HTTP {status} ({said})"
    if status in (401, 403):
        return RaiaAuthError(
            f"{prefix}. raia refused the Agent Secret Key: check that the connection's password holds the "
            "agent's current key (Launch Pad → agent → API Skill; rotated or expired keys stop working) "
            "and that its region matches the agent's. A key may also read only its own agent's prompts.",
            **kwargs,
        )
    if status == 404:
        return RaiaNotFoundError(_not_found(request, raw, prefix, raia_shaped=bool(name or message)), **kwargs)
    if status == 429:
        retry_after = parse_retry_after(raw.headers.get("Retry-After"))
        hint = f"asked to wait {retry_after:g} s" if retry_after is not None else "no Retry-After given"
        return RaiaRateLimitError(
            f"{prefix}: rate limited by raia ({hint}). Lower concurrency, or cap it with an Airflow pool.",
            retry_after=retry_after,
            **kwargs,
        )
    if status >= 500:
        return RaiaServerError(f"{prefix}: a server-side failure at raia or a proxy in front of it.", **kwargs)
    return RaiaBadRequestError(
        f"{prefix}. raia rejected the request; fix the arguments named above before retrying.", **kwargs
    )


def _not_found(request: PreparedRequest, raw: RawResponse, prefix: str, *, raia_shaped: bool) -> str:
    """A 404 in raia's error shape is a missing entity; any other 404 most likely a wrong base URL."""
    names_an_entity = "{" in request.operation.path
    if raia_shaped:
        what = f"The {request.path} entity" if names_an_entity else "An entity the request names"
        return f"{prefix}. {what} does not exist for this agent (wrong id, another agent's id, or already deleted)."
    called = raw.base_url + request.path  # a base URL never carries credentials: settings refuse them
    why = (
        "the answer is not raia's error shape (no 'name' or 'message') and the path names no entity, so the "
        "address itself was not found"
        if not names_an_entity
        else "the answer is not raia's error shape (no 'name' or 'message'), so it may not come from raia at all"
    )
    return (
        f"{prefix} at {called}: {why}. Check the connection's base URL: raia's is "
        f"{REGION_BASE_URLS['us']} (US) or {REGION_BASE_URLS['eu']} (EU), and an emulator's or proxy's must end "
        "in /external as well (e.g. http://127.0.0.1:8080/external)."
    )


def _redirect_error(
    request: PreparedRequest, raw: RawResponse, redact: Callable[[str], str], kwargs: dict[str, Any]
) -> RaiaRedirectError:
    """A 3xx, never followed: say where it points (scheme and host only) and what to put in the connection."""
    target = urlsplit(redact(raw.headers.get("Location") or "").strip())
    scheme, host = target.scheme or None, (target.hostname or None)
    if host is not None and target.port is not None:
        host = f"{host}:{target.port}"
    where = f"a redirect to {scheme}://{host}" if scheme and host else "a redirect"
    text = (
        f"raia answered {request.operation.label} with HTTP {raw.status}, {where}, which the provider never follows "
        "(the Agent-Secret-Key would go along to wherever it points)."
    )
    if scheme and host:
        base = target.path[: -len(request.path)] if target.path.endswith(request.path) else ""
        text += f" If {scheme}://{host} is raia, put {scheme}://{host}{base} in the connection's base URL instead."
    else:
        text += " Check the connection's base URL: it must be raia's API itself, not an address that redirects."
    return RaiaRedirectError(text, location_scheme=scheme, location_host=host, **kwargs)


def parse_retry_after(value: str | None, now: Callable[[], float] | None = None) -> float | None:
    """Parse a ``Retry-After`` header (delay in seconds, or an HTTP date) into seconds from now.

    :param value: the header's value, if any.
    :param now: the current POSIX time, injectable for tests.
    :return: seconds to wait (never negative), or ``None`` when absent or unreadable.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        current = now() if now is not None else pendulum.now("UTC").timestamp()
        seconds = when.timestamp() - current
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def _json_object(content: bytes) -> dict[str, Any]:
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser's stack
        return {}
    return data if isinstance(data, dict) else {}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)
