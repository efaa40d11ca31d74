"""Property-based tests (hypothesis): response models, URL building, connection settings and retry waits.

Each property is stated on the function that checks it. Payload strategies are derived from the models'
own field types (not from a JSON Schema library, so the same code runs on both Airflow venvs), and the URL
properties are checked on the URL the HTTP clients really send (``requests`` for the blocking transport,
``aiohttp``/``yarl`` for the async one), which normalise dot segments and so can move a request elsewhere.
"""

from __future__ import annotations

import importlib
import json
import math
import pkgutil
import types
import typing
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any, Literal, Union
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from airflow.sdk import Connection
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError
from yarl import URL

import raia_provider.models
import raia_provider.operations
from raia_provider._core.form import REGION_BASE_URLS
from raia_provider._core.operation import Operation, PreparedRequest, RaiaRequest
from raia_provider._core.responses import RawResponse, decode_response, parse_retry_after
from raia_provider._core.retry import RetryPolicy
from raia_provider._core.settings import RaiaConnectionSettings
from raia_provider._core.wire import request_headers, url_for
from raia_provider.exceptions import RaiaConfigurationError, RaiaInputError, RaiaRateLimitError, RaiaResponseError
from raia_provider.models.base import RaiaBody, RaiaModel
from raia_provider.models.conversations import MessageReply
from raia_provider.models.pagination import Page
from raia_provider.models.users import ConversationUser

# Sized for two CI cores: the whole module runs in a few seconds.
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
THOROUGH = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _import_all(package: types.ModuleType) -> None:
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


_import_all(raia_provider.models)
_import_all(raia_provider.operations)

#: Every concrete response model of the provider, plus one concrete page.
RESPONSE_MODELS: list[type[RaiaModel]] = [
    *sorted(
        (
            cls
            for cls in set(_subclasses(RaiaModel))
            if cls.__module__.startswith("raia_provider.models.")
            and not cls.__pydantic_generic_metadata__["parameters"]
            and not cls.__pydantic_generic_metadata__["origin"]
        ),
        key=lambda cls: cls.__qualname__,
    ),
    Page[ConversationUser],
]

#: Every operation declaration with a path parameter.
PATH_DECLARATIONS: list[type[RaiaRequest[Any]]] = sorted(
    (cls for cls in set(_subclasses(RaiaRequest)) if "operation" in cls.__dict__ and cls.operation.path_params),
    key=lambda cls: cls.__qualname__,
)
#: Valid values for the required arguments that are not path parameters.
OTHER_ARGUMENTS: dict[str, Any] = {
    "message": "hello",
    "file_name": "notes.txt",
    "content_type": "text/plain",
    "tokens_amount_per_month": 1,
    "sms_amount_per_month": 1,
    "emails_amount_per_month": 1,
    "seconds_amount_per_month": 1,
    "mode": "ai",  # optional in the signature, required by UpdateConversationMode
}

# ---------------------------------------------------------------------------------------------- payloads

JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
JSON_VALUES = st.recursive(
    JSON_SCALARS | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
NON_BLANK_TEXT = st.text(max_size=16).filter(lambda text: text.strip() != "")


def _value(annotation: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """A strategy for the wire (JSON) form of a value of type ``annotation``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any:
        return JSON_VALUES
    if origin in (Union, types.UnionType):
        return st.one_of([st.none() if arg is type(None) else _value(arg, depth) for arg in args])
    if origin is Literal:
        return st.sampled_from(args)
    if origin is list:
        return st.lists(_value(args[0], depth + 1), max_size=0 if depth > 2 else 3)
    if origin is dict:
        return st.dictionaries(st.text(max_size=6), _value(args[1], depth + 1), max_size=3)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return payloads(annotation, depth + 1)
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(-(2**53), 2**53)
    if annotation is float:
        return st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53)
    if annotation is str:
        return NON_BLANK_TEXT  # some string fields require text; valid everywhere
    raise NotImplementedError(f"no strategy for {annotation!r}: extend _value")


def _alias(model: type[BaseModel], name: str) -> str:
    return model.model_fields[name].alias or name


def payloads(model: type[BaseModel], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """Valid wire payloads of ``model``: every required field, any subset of the optional ones."""
    required = {_alias(model, n): _value(f.annotation, depth) for n, f in model.model_fields.items() if f.is_required()}
    optional = {
        _alias(model, n): _value(f.annotation, depth) for n, f in model.model_fields.items() if not f.is_required()
    }
    return st.fixed_dictionaries(required, optional=optional)


def _known_keys(model: type[BaseModel]) -> set[str]:
    return {key for name, field in model.model_fields.items() for key in (name, field.alias or name)}


def _contains(dumped: Any, sent: Any) -> bool:
    """Whether ``dumped`` holds everything ``sent`` held (dumps add defaults of omitted optional fields)."""
    if isinstance(sent, dict):
        return isinstance(dumped, dict) and all(k in dumped and _contains(dumped[k], v) for k, v in sent.items())
    if isinstance(sent, list):
        return isinstance(dumped, list) and len(dumped) == len(sent) and all(map(_contains, dumped, sent))
    return bool(dumped == sent)


models = st.sampled_from(RESPONSE_MODELS)


@st.composite
def model_and_payload(draw: st.DrawFn) -> tuple[type[RaiaModel], dict[str, Any]]:
    model = draw(models)
    return model, draw(payloads(model))


def test_every_response_model_is_covered() -> None:
    # A new model must not silently escape the properties below.
    assert len(RESPONSE_MODELS) >= 30
    for model in RESPONSE_MODELS:
        payloads(model)  # builds every field's strategy now: an unknown field type fails here


# ------------------------------------------------------------------------------------------------ models


@THOROUGH
@given(model_and_payload())
def test_valid_payloads_parse_and_round_trip(case: tuple[type[RaiaModel], dict[str, Any]]) -> None:
    """Any valid payload parses; parse → dump → parse is stable; the dump keeps every field that was sent."""
    model, payload = case
    parsed = model.model_validate(payload)
    dumped = parsed.to_json_dict()
    assert json.loads(json.dumps(dumped)) == dumped  # plain JSON, fit for XCom
    again = model.model_validate(dumped)
    assert again == parsed
    assert again.to_json_dict() == dumped
    if "apiKey" not in json.dumps(payload):  # the one field the models deliberately rewrite (redaction)
        assert _contains(dumped, payload)


@FAST
@given(model_and_payload(), st.data())
def test_unknown_fields_are_kept(case: tuple[type[RaiaModel], dict[str, Any]], data: st.DataObject) -> None:
    """raia adds fields over time: unknown fields never fail parsing and travel on in the dump."""
    model, payload = case
    known = _known_keys(model)
    extra = data.draw(
        st.dictionaries(
            st.text(min_size=1, max_size=10).filter(lambda key: key not in known and key != "apiKey"),
            JSON_VALUES,
            min_size=1,
            max_size=3,
        )
    )
    dumped = model.model_validate({**payload, **extra}).to_json_dict()
    for key, value in extra.items():
        assert dumped[key] == value


@FAST
@given(model_and_payload(), st.data())
def test_nullable_fields_accept_null(case: tuple[type[RaiaModel], dict[str, Any]], data: st.DataObject) -> None:
    """Every field typed ``X | None`` accepts JSON ``null`` and reads it as ``None``."""
    model, payload = case
    nullable = [n for n, f in model.model_fields.items() if type(None) in typing.get_args(f.annotation)]
    assume(nullable)
    name = data.draw(st.sampled_from(nullable))
    parsed = model.model_validate({**payload, _alias(model, name): None})
    assert getattr(parsed, name) is None


def _wrong_value(annotation: Any) -> Any:
    """A JSON value no field of type ``annotation`` accepts, or ``...`` when any value is fine."""
    if annotation is Any:
        return ...
    arms = [arm for arm in typing.get_args(annotation) if arm is not type(None)] or [annotation]
    origins = {typing.get_origin(arm) or arm for arm in arms}
    if any(isinstance(arm, type) and issubclass(arm, BaseModel) for arm in origins) or dict in origins:
        return [1, 2]
    return {"unexpected": [1]}


@THOROUGH
@given(model_and_payload(), st.data())
def test_wrong_types_raise_a_typed_error_naming_the_field(
    case: tuple[type[RaiaModel], dict[str, Any]], data: st.DataObject
) -> None:
    """A body whose field has the wrong type raises ``RaiaResponseError`` naming that field (raia's name)."""
    model, payload = case
    candidates = [n for n, f in model.model_fields.items() if _wrong_value(f.annotation) is not ...]
    name = data.draw(st.sampled_from(candidates))
    alias = _alias(model, name)
    body = {**payload, alias: _wrong_value(model.model_fields[name].annotation)}
    request = PreparedRequest(operation=Operation("GET", "/thing", "(test)"), path="/thing", params={}, json=None)
    raw = RawResponse(status=200, headers={}, content=json.dumps(body).encode())
    with pytest.raises(RaiaResponseError) as caught:
        decode_response(request, raw, TypeAdapter(model), lambda text: text)
    assert f"{alias}:" in str(caught.value) or f"{alias}." in str(caught.value)


@FAST
@given(
    st.sampled_from(["pending", "completed", "failed", "running", "error"]),
    st.none() | st.text(max_size=10),
)
def test_message_reply_status_is_always_the_specs_word(status: str, error: str | None) -> None:
    """raia's release-note words (running/error) are read as the spec's (pending/failed); others unchanged."""
    reply = MessageReply.model_validate({"status": status, "error": error})
    assert reply.status == {"running": "pending", "error": "failed"}.get(status, status)
    assert reply.message is None


#: The bodies sent to raia (declarations excluded: their unknown arguments are refused by ``build``).
REQUEST_BODIES = sorted(
    (cls for cls in set(_subclasses(RaiaBody)) if cls.__module__.startswith("raia_provider.models.")),
    key=lambda cls: cls.__qualname__,
)


@FAST
@given(st.sampled_from(REQUEST_BODIES), st.data())
def test_request_bodies_refuse_unknown_fields(body: type[RaiaBody], data: st.DataObject) -> None:
    """Bodies sent to raia refuse unknown fields, so a typo fails before any request is made."""
    key = data.draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in _known_keys(body)))
    with pytest.raises(ValidationError) as caught:
        body.model_validate({key: 1})
    assert any(error["type"] == "extra_forbidden" and error["loc"] == (key,) for error in caught.value.errors())


# --------------------------------------------------------------------------------------------- URL building

#: Ids as a caller might pass them: any text, biased towards characters that mean something in a URL.
IDS = (
    st.sampled_from([".", ".."])
    | st.text(min_size=1, max_size=24).filter(lambda text: text.strip() != "")
    | st.lists(
        st.sampled_from(["/", "?", "#", "%", "..", ".", " ", "%2F", "%2e", "&", "=", ";", "\\", "é", "🙂", "a", "+"]),
        min_size=1,
        max_size=6,
    )
    .map("".join)
    .filter(lambda text: text.strip() != "")
)
HOSTNAMES = st.from_regex(r"\A[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5}){0,2}\Z")
BASE_PATHS = st.lists(st.from_regex(r"\A[a-zA-Z0-9_-]{1,8}\Z"), max_size=3).map(
    lambda parts: "".join(f"/{p}" for p in parts)
)
KEYS = st.from_regex(r"\Ask-[A-Za-z0-9]{24}\Z")


@st.composite
def base_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https"]))
    port = draw(st.none() | st.integers(1, 65535))
    return f"{scheme}://{draw(HOSTNAMES)}{'' if port is None else f':{port}'}{draw(BASE_PATHS)}"


def _settings(host: str | None = None, key: str = "sk-" + "a" * 24, extra: Any = None) -> RaiaConnectionSettings:
    conn = Connection(conn_id="prop", conn_type="raia", host=host, password=key)
    # URL building is the property here: plain http:// to any generated host is opted in (the refusal of
    # clear text to a non-loopback host is tested in tests/unit/test_hostile_inputs.py).
    return RaiaConnectionSettings.from_connection(conn, {"allow_insecure_http": True} if extra is None else extra)


def _sent_urls(url: str, params: dict[str, str]) -> list[str]:
    """The URL each transport puts on the wire (``requests`` for sync; for async, the already-encoded ``yarl.URL``
    the transport hands aiohttp, which adds the query string to it)."""
    return [
        str(requests.Request("GET", url, params=params or None).prepare().url),
        str(URL(url, encoded=True).extend_query(params) if params else URL(url, encoded=True)),
    ]


@THOROUGH
@given(st.sampled_from(PATH_DECLARATIONS), IDS, IDS, base_urls(), KEYS)
def test_ids_stay_one_path_segment_under_the_base_url(
    declaration: type[RaiaRequest[Any]], first_id: str, second_id: str, base_url: str, key: str
) -> None:
    """Whatever the ids, the request goes under the base URL path, to the declared route, each id one segment.

    Each id becomes exactly one percent-encoded path segment that decodes back to the id; nothing it holds
    (``/ ? # %`` or a dot segment) adds a segment, a query or a fragment; the key is never in the URL.
    ``.`` and ``..`` cannot be sent as a segment (every client and proxy collapses them), so they are refused
    before any request.
    """
    ids = dict(zip(declaration.operation.path_params, (first_id, second_id), strict=False))
    by_alias = {field.alias or name: name for name, field in declaration.model_fields.items()}
    arguments = {by_alias[alias]: value for alias, value in ids.items()}
    for name, field in declaration.model_fields.items():
        if name not in arguments and (field.is_required() or name in OTHER_ARGUMENTS):
            arguments[name] = OTHER_ARGUMENTS[name]
    settings_ = _settings(host=base_url, key=key)
    if set(ids.values()) & {".", ".."}:
        with pytest.raises(RaiaInputError, match="path segment"):  # refused, before any request
            declaration.build(**arguments).prepare()
        return
    prepared = declaration.build(**arguments).prepare()
    template = declaration.operation.path.split("/")
    base_path = urlsplit(settings_.base_url).path
    for sent in _sent_urls(url_for(settings_, prepared), prepared.params):
        parts = urlsplit(sent)
        assert parts.fragment == ""
        assert "#" not in sent
        assert set(parse_qs(parts.query, keep_blank_values=True)) <= set(prepared.params)
        assert parts.path.startswith(base_path + "/")
        segments = parts.path[len(base_path) :].split("/")
        assert len(segments) == len(template), (sent, template)
        for segment, expected in zip(segments, template, strict=True):
            if expected.startswith("{"):
                assert unquote(segment, errors="strict") == ids[expected[1:-1]]
            else:
                assert segment == expected
    assume(key not in first_id + second_id)
    assert all(key not in sent for sent in _sent_urls(url_for(settings_, prepared), prepared.params))
    assert request_headers(settings_, prepared) == {"Agent-Secret-Key": key}


# -------------------------------------------------------------------------------------------- settings


@FAST
@given(base_urls(), st.integers(0, 4), st.sampled_from(["", " ", "\t"]))
def test_base_url_normalisation_is_idempotent(base_url: str, slashes: int, padding: str) -> None:
    """Trailing slashes and surrounding blanks are dropped; normalising a normalised URL changes nothing."""
    once = _settings(host=padding + base_url + "/" * slashes + padding).base_url
    assert once == base_url
    assert _settings(host=once).base_url == once
    assert _settings(host=once + "/").base_url == once


@FAST
@given(
    st.sampled_from(sorted(REGION_BASE_URLS)),
    st.sampled_from([str.lower, str.upper, str.title]),
    st.text(" \t", max_size=2),
)
def test_every_allowed_region_maps_to_its_base_url(region: str, case: Any, padding: str) -> None:
    """The region → base URL mapping is total over the allowed regions, in any case, padded or not."""
    settings_ = _settings(extra={"region": padding + case(region) + padding})
    assert (settings_.region, settings_.base_url) == (region, REGION_BASE_URLS[region])


@FAST
@given(
    JSON_VALUES.filter(
        lambda v: v not in (None, "") and not (isinstance(v, str) and v.strip().lower() in REGION_BASE_URLS)
    )
)
def test_any_other_region_is_refused(region: Any) -> None:
    """Anything else (text, numbers, lists...) is refused with ``RaiaConfigurationError`` naming the field."""
    with pytest.raises(RaiaConfigurationError, match="'region'"):
        _settings(extra={"region": region})


# ----------------------------------------------------------------------------------------------- retries


@FAST
@given(st.floats(min_value=0, max_value=1e9, allow_nan=False) | st.integers(0, 10**9))
def test_retry_after_seconds_parse_exactly(seconds: float) -> None:
    assert parse_retry_after(f" {seconds} ") == float(seconds)


@FAST
@given(st.integers(0, 2**32), st.integers(-(10**6), 10**6))
def test_retry_after_http_date_is_seconds_from_now_never_negative(now: int, offset: int) -> None:
    """An HTTP date reads as the seconds from now to it; a date in the past reads as 0."""
    header = formatdate(now + offset, usegmt=True)
    assert parse_retry_after(header, now=lambda: float(now)) == max(0.0, float(offset))


@FAST
@given(st.text(max_size=30))
def test_retry_after_never_negative_nor_nan(header: str) -> None:
    """Whatever the header holds, the result is ``None`` or a non-negative number, and the wait is capped."""
    seconds = parse_retry_after(header, now=lambda: 0.0)
    assert seconds is None or seconds >= 0
    error = RaiaRateLimitError("429", retry_after=seconds, status_code=429, method="GET", path="/x")
    policy = RetryPolicy(retry_after_cap=120.0, random=lambda: 0.5)
    wait = policy.wait_seconds(1, error)
    assert 0 <= wait <= max(120.0, policy.max_wait + policy.jitter)
    if seconds is not None:
        assert wait <= 120.0


@st.composite
def policies(draw: st.DrawFn) -> RetryPolicy:
    fractions = st.floats(0, 1, exclude_max=True)
    return RetryPolicy(
        max_attempts=draw(st.integers(1, 10_000)),
        initial_wait=draw(st.floats(0, 100)),
        max_wait=draw(st.floats(0, 3600)),
        jitter=draw(st.floats(0, 10)),
        retry_after_cap=draw(st.floats(0, 600)),
        random=(lambda value: lambda: value)(draw(fractions)),
    )


@FAST
@given(policies(), st.integers(1, 10_000), st.integers(1, 10_000))
def test_backoff_is_bounded_and_monotone(policy: RetryPolicy, first: int, second: int) -> None:
    """Backoff never exceeds ``max_wait + jitter``, is never negative and never shrinks with attempts."""
    early, late = sorted((first, second))
    early_wait, late_wait = policy.wait_seconds(early, None), policy.wait_seconds(late, None)
    for wait in (early_wait, late_wait):
        assert 0 <= wait <= policy.max_wait + policy.jitter
        assert not math.isnan(wait)
    assert early_wait <= late_wait


@FAST
@given(policies(), st.floats(0, 1e12) | st.just(math.inf))
def test_retry_after_is_capped(policy: RetryPolicy, retry_after: float) -> None:
    error = RaiaRateLimitError("429", retry_after=retry_after, status_code=429, method="GET", path="/x")
    assert 0 <= policy.wait_seconds(1, error) <= policy.retry_after_cap
